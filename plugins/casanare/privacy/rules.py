"""Apply each column's declared privacy rule; only declared public columns survive (default deny)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pandas as pd

from casanare.catalog import Columna, Dataset
from casanare.privacy import generalize
from casanare.privacy.pseudonym import check_key, pseudonym

REDACTED = "[DATO PROTEGIDO]"
# Fallback patterns used when Presidio is not available; the PII scan double-checks afterwards.
_TEXT_PATTERNS = [
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),
    re.compile(r"(?<!\d)(?:\+?57[\s-]?)?(?:3\d{2}|60\d)[\s-]?\d{3}[\s-]?\d{4}(?!\d)"),
    re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{3}){1,3}(?![\d.])"),
    re.compile(r"(?<!\d)\d{6,11}(?!\d)"),
]


def redact_text(values: pd.Series) -> tuple[pd.Series, int]:
    """Replace identifiers found in free text; returns the new series and the replacement count."""
    count = 0

    def clean(text: Any) -> Any:
        nonlocal count
        if text is None or pd.isna(text):
            return text
        out = str(text)
        for pattern in _TEXT_PATTERNS:
            out, n = pattern.subn(REDACTED, out)
            count += n
        return out

    return values.map(clean).astype("string"), count


def apply_column_rule(
    col: Columna, df: pd.DataFrame, *, key: bytes | None, reference: date
) -> tuple[pd.Series, dict[str, Any]]:
    """Transform one column according to its rule. Returns the output series and a report."""
    rule = col.regla
    values = df[col.nombre]
    report: dict[str, Any] = {"accion": rule.accion}
    if rule.accion == "publicar":
        return values, report
    if rule.accion == "seudonimizar":
        checked = check_key(key)
        cache: dict[Any, str] = {}

        def to_pseudonym(v: Any) -> str | None:
            if v is None or pd.isna(v) or str(v).strip() == "":
                return None
            if v not in cache:
                cache[v] = pseudonym(v, checked)
            return cache[v]

        return values.map(to_pseudonym).astype("string"), report
    if rule.accion == "enmascarar":
        k = rule.conservar or 4

        def mask(v: Any) -> str | None:
            if v is None or pd.isna(v):
                return None
            text = str(v)
            return "*" * max(len(text) - k, 0) + text[-k:]

        return values.map(mask).astype("string"), report
    if rule.accion == "redactar_texto":
        from casanare.privacy.redact import redact_free_text

        redacted, count = redact_free_text(values)
        report["reemplazos"] = count
        return redacted, report
    report["metodo"] = rule.metodo
    return _generalize(col, df, reference), report


def _generalize(col: Columna, df: pd.DataFrame, reference: date) -> pd.Series:
    rule = col.regla
    values = df[col.nombre]
    match rule.metodo:
        case "rango_edad":
            ages = generalize.age_at(values, reference) if col.tipo in {"fecha", "fecha_hora"} else values
            return generalize.age_band(ages)
        case "mes":
            return generalize.month(values)
        case "anio":
            return generalize.year(values)
        case "semana_epidemiologica":
            return generalize.epi_week(values)
        case "municipio":
            return df[rule.columna_municipio].astype("string")
        case "coordenadas":
            return generalize.round_coordinates(values, rule.precision or 2)
        case "tope":
            return generalize.top_bottom_code(values, rule.limite_inferior, rule.limite_superior)
    raise ValueError(f"método de generalización desconocido: {rule.metodo}")


def apply_rules(
    df: pd.DataFrame, dataset: Dataset, *, key: bytes | None, reference: date
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Build the publishable frame.

    Only columns that are declared, classified ``publica`` and whose rule publishes something
    are kept, renamed to their published name. Everything else, including any column the
    catalog does not declare, is dropped here, before anything is written to staging.
    """
    out: dict[str, pd.Series] = {}
    reglas: dict[str, Any] = {}
    dropped: list[str] = []
    declared = {c.nombre for c in dataset.columnas}
    undeclared = [name for name in df.columns if name not in declared]
    for col in dataset.columnas:
        if not col.publicada:
            dropped.append(col.nombre)
            reglas[col.nombre] = {"accion": "eliminar", "motivo": col.clasificacion if col.regla.publica_algo else "regla"}
            continue
        series, report = apply_column_rule(col, df, key=key, reference=reference)
        out[col.nombre_salida] = series.reset_index(drop=True)
        reglas[col.nombre] = {**report, "publicada_como": col.nombre_salida}
    result = pd.DataFrame(out)
    return result, {
        "reglas": reglas,
        "columnas_eliminadas": dropped,
        "columnas_no_declaradas_eliminadas": len(undeclared),
        "columnas_publicadas": list(result.columns),
    }
