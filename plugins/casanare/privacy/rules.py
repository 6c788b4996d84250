"""Apply each column's declared privacy rule; only declared public columns survive (default deny).

Rules (``Regla.accion`` in the catalog):

* ``eliminar`` — the column is dropped;
* ``publicar`` — published as it is (the catalog refuses it for direct identifiers);
* ``seudonimizar`` — keyed HMAC-SHA256 pseudonym (``pseudonym.py``) with the dataset's own key
  (HKDF from the master key and the slug or ``grupo_seudonimos``);
* ``generalizar`` — coarser form (``generalize.py``): age bands, month/year/epi week, address →
  municipio, rounded coordinates, top/bottom coding;
* ``enmascarar`` — only the last ``conservar`` characters stay visible;
* ``redactar_texto`` — identifiers inside free text are replaced (``redact.py``, Presidio).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from casanare.catalog import Columna, Dataset
from casanare.privacy import generalize
from casanare.privacy.pseudonym import check_key, derive_key, pseudonym

MASK_CHAR = "*"


def pseudonymize(values: pd.Series, key: bytes | str | None) -> pd.Series:
    """Pseudonym per value (same value → same pseudonym); blanks stay null. Needs a valid key."""
    checked = check_key(key)
    cache: dict[Any, str] = {}

    def to_pseudonym(v: Any) -> str | None:
        if v is None or pd.isna(v) or str(v).strip() == "":
            return None
        if v not in cache:
            cache[v] = pseudonym(v, checked)
        return cache[v]

    return values.map(to_pseudonym).astype("string")


def mask(values: pd.Series, keep: int) -> pd.Series:
    """Keep the last ``keep`` characters; values not longer than ``keep`` are masked entirely."""

    def one(v: Any) -> str | None:
        if v is None or pd.isna(v):
            return None
        text = str(v).strip()
        if isinstance(v, float) and v.is_integer():
            text = str(int(v))
        if len(text) <= keep:
            return MASK_CHAR * len(text)
        return MASK_CHAR * (len(text) - keep) + text[-keep:]

    return values.map(one).astype("string")


def apply_column_rule(
    col: Columna,
    df: pd.DataFrame,
    *,
    key: bytes | str | None,
    reference: date,
    names: frozenset[str] = frozenset(),
) -> tuple[pd.Series, dict[str, Any]]:
    """Transform one column according to its rule. Returns the output series and a report (no values)."""
    rule = col.regla
    values = df[col.nombre]
    report: dict[str, Any] = {"accion": rule.accion}
    match rule.accion:
        case "publicar":
            return values, report
        case "seudonimizar":
            return pseudonymize(values, key), report
        case "enmascarar":
            report["conservar"] = rule.conservar
            return mask(values, rule.conservar or 4), report
        case "redactar_texto":
            from casanare.privacy.redact import redact_free_text

            redacted, count = redact_free_text(values, names)
            report["reemplazos"] = count
            return redacted, report
        case "generalizar":
            report["metodo"] = rule.metodo
            return _generalize(col, df, reference), report
    raise ValueError(f"regla desconocida: {rule.accion}")


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
            # The exact address is replaced by the municipio it belongs to (another column of the row).
            return df[rule.columna_municipio].astype("string")
        case "coordenadas":
            return generalize.round_coordinates(values, rule.precision if rule.precision is not None else 2)
        case "tope":
            return generalize.top_bottom_code(values, rule.limite_inferior, rule.limite_superior)
    raise ValueError(f"método de generalización desconocido: {rule.metodo}")


def apply_rules(
    df: pd.DataFrame,
    dataset: Dataset,
    *,
    key: bytes | str | None,
    reference: date,
    names: frozenset[str] = frozenset(),
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
    if any(c.publicada and c.regla.accion == "seudonimizar" for c in dataset.columnas):
        # Never the master key itself: each dataset (or declared group) gets its own derived key.
        key = derive_key(key, dataset.dominio_seudonimos)
    undeclared = [str(name) for name in df.columns if name not in declared]
    for col in dataset.columnas:
        if not col.publicada:
            dropped.append(col.nombre)
            motivo = "regla eliminar" if not col.regla.publica_algo else f"clasificación {col.clasificacion}"
            reglas[col.nombre] = {"accion": "eliminar", "motivo": motivo}
            continue
        if col.nombre not in df.columns:
            # Optional column absent from this extraction: published empty, so the schema is stable.
            out[col.nombre_salida] = pd.Series([None] * len(df), dtype="object")
            reglas[col.nombre] = {"accion": col.regla.accion, "publicada_como": col.nombre_salida, "ausente": True}
            continue
        series, report = apply_column_rule(col, df, key=key, reference=reference, names=names)
        out[col.nombre_salida] = series.reset_index(drop=True)
        reglas[col.nombre] = {**report, "publicada_como": col.nombre_salida}
    result = pd.DataFrame(out, index=pd.RangeIndex(len(df)))
    return result, {
        "reglas": reglas,
        "columnas_eliminadas": dropped,
        # Undeclared columns are counted, not named: a source header can itself be personal data.
        "columnas_no_declaradas_eliminadas": len(undeclared),
        "columnas_publicadas": list(result.columns),
        "grupo_seudonimos": dataset.grupo_seudonimos,
    }
