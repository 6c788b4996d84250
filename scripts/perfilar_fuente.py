"""Suite authoring aid: profile a sample of a source and write a starter GX 1.x suite.

Usage::

    python -m scripts.perfilar_fuente <slug> [--muestra 2000] [--salida include/expectations/<slug>.json]
        [--fuentes CARPETA] [--sql-url URL] [--sobrescribir]

The sample goes through the real extract and privacy stages, so the proposed rules target the
published columns. No personal value is ever written: columns with ``dato_personal`` get no
rule here (the catalog baseline already checks their format), value sets are proposed only for
non-personal columns published as they are (their values are public anyway) with at most
``MAX_VALORES`` distinct values, and text patterns are shapes (``[A-Z]{2}-\\d{4}``), never values.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "plugins") not in sys.path:
    sys.path.insert(0, str(ROOT / "plugins"))

MAX_VALORES = 20  # largest value set proposed
MIN_FRECUENCIA = 5  # rarer values get a note: often a typing error in the source
MAX_FORMAS = 3  # more distinct shapes than this: free text, no regex
MARGEN = 0.10  # ranges widen by 10 % of the observed span


def shape(value: str) -> str:
    """Regex shape of one text value: runs of digits, upper, lower letters; other chars escaped."""
    parts: list[str] = []
    for run in re.finditer(r"\d+|[A-ZÁÉÍÓÚÑ]+|[a-záéíóúñ]+|\s+|.", value):
        text = run.group()
        if text[0].isdigit():
            parts.append(rf"\d{{{len(text)}}}")
        elif text[0].isalpha() and text[0].isupper():
            parts.append(f"[A-ZÁÉÍÓÚÑ]{{{len(text)}}}")
        elif text[0].isalpha():
            parts.append(f"[a-záéíóúñ]{{{len(text)}}}")
        elif text[0].isspace():
            parts.append(r"\s+")
        else:
            parts.append(re.escape(text))
    return "".join(parts)


def _relax(pattern: str) -> str:
    # Lengths of digit runs vary (consecutivos 9 → 10): accept one more or one less digit.
    return re.sub(r"\\d\{(\d+)\}", lambda m: rf"\d{{{max(1, int(m.group(1)) - 1)},{int(m.group(1)) + 1}}}", pattern)


def _exp(kind: str, severity: str, nota: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "meta": {"notas": nota, "generada_por": "perfilar_fuente"},
            "severity": severity}


def propose(df, dataset) -> tuple[list[dict[str, Any]], list[str]]:
    """Starter expectations for the published frame ``df`` and Spanish notes for the engineer."""
    import pandas as pd

    exps: list[dict[str, Any]] = []
    notas: list[str] = []
    for col in dataset.columnas_publicadas:
        name = col.nombre_salida
        if name not in df.columns:
            continue
        if col.dato_personal or col.regla.accion != "publicar":
            notas.append(f"{name}: dato personal o transformado; sin reglas propuestas (la base del catálogo "
                         "ya valida su formato).")
            continue
        serie = df[name].dropna()
        if serie.empty:
            notas.append(f"{name}: sin valores en la muestra; no se propone nada.")
            continue
        tipo = col.tipo_salida
        if tipo == "texto":
            exps.extend(_text_rules(name, serie.astype(str), notas))
        elif tipo in {"entero", "decimal"}:
            low, high = float(serie.min()), float(serie.max())
            span = (high - low) or abs(high) or 1.0
            lo = low - MARGEN * span
            lo = max(lo, 0.0) if low >= 0 else lo
            hi = high + MARGEN * span
            if tipo == "entero":
                lo, hi = int(lo), int(hi + 0.999)
            exps.append(_exp("expect_column_values_to_be_between", "warning",
                             "Rango observado en la muestra con 10 % de margen; ajústelo al rango real.",
                             column=name, min_value=round(lo, 4), max_value=round(hi, 4)))
        elif tipo in {"fecha", "fecha_hora"} and pd.api.types.is_datetime64_any_dtype(serie):
            notas.append(f"{name}: fechas entre {serie.min():%Y-%m-%d} y {serie.max():%Y-%m-%d} en la muestra; "
                         "declare 'minimo'/'maximo' de la columna en el catálogo (la suite base las valida).")
    return exps, notas


def _text_rules(name: str, serie, notas: list[str]) -> list[dict[str, Any]]:
    counts = serie.value_counts()
    if len(counts) <= MAX_VALORES and len(counts) < len(serie):
        raros = int((counts < MIN_FRECUENCIA).sum())
        if raros:
            notas.append(f"{name}: {raros} valor(es) aparecen menos de {MIN_FRECUENCIA} veces en la muestra; "
                         "confirme que no sean errores de digitación antes de aceptar la lista.")
        return [_exp("expect_column_values_to_be_in_set", "critical",
                     "Valores vistos en la muestra; confirme la lista completa con la dependencia.",
                     column=name, value_set=sorted(counts.index.tolist()))]
    shapes = serie.map(shape).value_counts()
    if len(shapes) <= MAX_FORMAS:
        pattern = "^(" + "|".join(_relax(s) for s in shapes.index) + ")$" if len(shapes) > 1 else f"^{_relax(shapes.index[0])}$"
        return [_exp("expect_column_values_to_match_regex", "critical",
                     "Formato observado en la muestra; revise que cubra todos los casos válidos.",
                     column=name, regex=pattern)]
    notas.append(f"{name}: texto libre o muy variado ({len(shapes)} formas); sin regla propuesta.")
    return []


def profile(slug: str, muestra: int, sql_url: str | None = None) -> dict[str, Any]:
    """Extract and anonymize ``slug``'s source in a throw-away staging folder and propose a suite."""
    from casanare.catalog import FuenteSQL, load_catalog
    from casanare.extract import extraer
    from casanare.privacy.stage import anonimizar
    from casanare.staging import RunArea

    dataset = load_catalog().get(slug)
    if isinstance(dataset.fuente, FuenteSQL) and sql_url is None:
        from casanare.connections import sql_url as connection_url

        sql_url = connection_url(dataset.fuente.conexion)
    key = os.environ.get("CASANARE_CLAVE_SEUDONIMIZACION") or os.urandom(32).hex()
    with tempfile.TemporaryDirectory(prefix="perfil-") as tmp:
        area = RunArea(Path(tmp).as_uri(), slug, "perfil")
        extraer(dataset, area, sql_url=sql_url, hasta=datetime.now(UTC))
        frame = area.read_parquet("extraido.parquet")
    if len(frame) > muestra:
        frame = frame.sample(n=muestra, random_state=2026).sort_index()
    published, _ = anonimizar(frame.reset_index(drop=True), dataset, key=key.encode(), reference=datetime.now(UTC).date())
    exps, notas = propose(published, dataset)
    return {
        "name": slug,
        "expectations": exps,
        "meta": {
            "notas": f"Suite inicial propuesta por scripts.perfilar_fuente sobre {len(published)} filas; "
            "revísela antes de usarla. Las reglas genéricas (columnas, nulos, tipos, DIVIPOLA, fila única, "
            "fechas, coordenadas) se derivan del catálogo.",
            "observaciones": notas,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.perfilar_fuente",
        description="Perfila una muestra de la fuente (extracción y anonimización reales) y propone una suite "
        "de Great Expectations para revisar.",
    )
    parser.add_argument("slug", help="conjunto del catálogo")
    parser.add_argument("--muestra", type=int, default=2000, help="filas de la muestra (por defecto 2000)")
    parser.add_argument("--salida", type=Path, help="archivo JSON de salida (por defecto se imprime)")
    parser.add_argument("--fuentes", type=Path, help="carpeta base de las fuentes (CASANARE_SOURCE_BASE)")
    parser.add_argument("--sql-url", help="URL SQLAlchemy de la base de datos de origen (fuentes SQL)")
    parser.add_argument("--sobrescribir", action="store_true", help="reemplazar la salida si ya existe")
    args = parser.parse_args(argv)
    if args.muestra < 1:
        parser.error("--muestra debe ser mayor que cero")
    if args.fuentes:
        os.environ["CASANARE_SOURCE_BASE"] = str(args.fuentes)
    if args.salida and args.salida.exists() and not args.sobrescribir:
        print(f"Error: {args.salida} ya existe; use --sobrescribir para reemplazarlo.", file=sys.stderr)
        return 2
    from casanare.errors import DatosAbiertosError

    try:
        suite = profile(args.slug, args.muestra, args.sql_url)
    except KeyError:
        print(f"Error: el conjunto '{args.slug}' no está en el catálogo.", file=sys.stderr)
        return 2
    except DatosAbiertosError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(suite, ensure_ascii=False, indent=2) + "\n"
    for nota in suite["meta"]["observaciones"]:
        print(f"  - {nota}", file=sys.stderr)
    if args.salida:
        args.salida.parent.mkdir(parents=True, exist_ok=True)
        args.salida.write_text(text, encoding="utf-8")
        print(f"Suite propuesta con {len(suite['expectations'])} regla(s) escrita en {args.salida}. "
              "Revísela antes de publicarla.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
