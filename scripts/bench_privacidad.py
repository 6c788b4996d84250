"""Benchmark of the privacy stage: rules, redaction (Presidio), k-anonymity and the final scan.

Uso: ``python -m scripts.bench_privacidad [--filas 50000]``. Generates the synthetic PQRSD (CSV,
free text with embedded identifiers) and vacunación (microdata) sources, extracts them and times
each step of ``privacy.stage.anonimizar``. Prints Spanish results; no personal data.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT)]

KEY = b"clave-de-benchmark-suficientemente-larga-32b"


def main() -> int:
    parser = argparse.ArgumentParser(description="Mide la etapa de privacidad.")
    parser.add_argument("--filas", type=int, default=50_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-privacidad-"))
    os.environ["CASANARE_SOURCE_BASE"] = str(tmp / "fuentes")

    from casanare.catalog import load_catalog
    from casanare.extract import extraer
    from casanare.privacy.kanon import k_anonymize
    from casanare.privacy.rules import apply_rules
    from casanare.privacy.scan import scan_frame
    from casanare.privacy.stage import reference_names
    from casanare.staging import RunArea
    from scripts.generar_fuentes import generar

    slugs = ["pqrsd_atencion_ciudadano", "vacunacion_pai"]
    print(f"Generando {args.filas:,} filas por conjunto…".replace(",", "."), flush=True)
    generar(tmp / "fuentes", filas=args.filas, semilla=2026, solo=set(slugs))
    names = reference_names()
    catalog = load_catalog()
    print(f"{'Conjunto':28} {'Filas':>8} {'Reglas s':>9} {'k-anon. s':>10} {'Revisión s':>11} {'Filas/s':>9}")
    for slug in slugs:
        ds = catalog.get(slug)
        area = RunArea((tmp / "staging").as_uri(), slug, "bench")
        extraer(ds, area, hasta=datetime(2026, 10, 1))
        frame = area.read_parquet("extraido.parquet")
        t0 = time.perf_counter()
        out, _ = apply_rules(frame, ds, key=KEY, reference=date(2026, 10, 1), names=names)
        t1 = time.perf_counter()
        if ds.microdatos:
            m = ds.microdatos
            out, _ = k_anonymize(out, list(m.cuasi_identificadores), m.k, m.max_supresion, slug=slug)
        t2 = time.perf_counter()
        scan_frame(out, ds, names)
        t3 = time.perf_counter()
        total = t3 - t0
        print(f"{slug:28} {len(frame):>8} {t1 - t0:>9.2f} {t2 - t1:>10.2f} {t3 - t2:>11.2f} {len(frame) / total:>9.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
