"""Benchmark of the website publication: download files and a full publish to a local folder.

Run with ``python -m scripts.bench_sitio [--filas N]``; prints Spanish results.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT)]


def _frame(ds, rows: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    data = {}
    for c in ds.columnas_publicadas:
        if c.tipo_salida == "entero":
            data[c.nombre_salida] = rng.integers(-1000, 100000, rows)
        elif c.tipo_salida == "decimal":
            data[c.nombre_salida] = rng.normal(0, 1000, rows)
        elif c.tipo_salida in {"fecha", "fecha_hora"}:
            data[c.nombre_salida] = pd.Timestamp(2026, 1, 1) + pd.to_timedelta(rng.integers(0, 300, rows), unit="D")
        else:
            data[c.nombre_salida] = [f"Valor de texto {i % 997} Peñas Blancas" for i in range(rows)]
    return pd.DataFrame(data)


def _es(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


def _miles(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def main() -> None:
    parser = argparse.ArgumentParser(description="Mide la publicación en casanare.gov.co")
    parser.add_argument("--filas", type=int, default=100_000)
    parser.add_argument("--conjunto", default="vacunacion_pai")
    args = parser.parse_args()

    from casanare.catalog import load_catalog
    from casanare.publish.site.downloads import csv_bytes, json_bytes, xlsx_bytes
    from casanare.publish.website import LocalFolder, publish_site

    ds = load_catalog().get(args.conjunto)
    df = _frame(ds, args.filas)
    print(f"Conjunto {ds.slug}: {_miles(len(df))} filas × {len(df.columns)} columnas")
    for name, fn in (("CSV", csv_bytes), ("XLSX", xlsx_bytes), ("JSON", json_bytes)):
        start = time.perf_counter()
        data = fn(df)
        elapsed = time.perf_counter() - start
        size = len(data) / 1e6 if data else 0
        print(f"  {name:5s}: {_es(elapsed, 2)} s, {_es(size, 1)} MB, {_miles(len(df) / elapsed)} filas/s")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        publish_site(df, ds, LocalFolder(Path(tmp)), version="bench", published_at=datetime.now(UTC))
        print(f"  Publicación completa (carpeta local, con índice y feeds): {_es(time.perf_counter() - start, 2)} s")


if __name__ == "__main__":
    main()
