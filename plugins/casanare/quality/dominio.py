"""Domain rules on the EXTRACTED data, before any privacy transform.

Privacy may blank rare values (k-anonymity suppression) or generalize them; a municipality code
``85999`` that does not exist would then vanish silently into an empty cell. So DIVIPOLA codes,
allowed values, ranges and formats are checked here on the source values, with the source row
numbers (up to 20) and the sheet's own header. Messages carry counts and rows, never a value; the
allowed values are listed only for columns without personal data. The anonymized-data suite
(validation.py) still checks what is published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from casanare.catalog import Columna, Dataset
from casanare.errors import CalidadDeDatos, Ubicacion
from casanare.quality.baseline import MUNICIPIO_COLUMNS, divipola_codes, load_suite

MAX_FILAS = 20
MAX_VALORES_LISTADOS = 25
# Hand-written rules that mean the same on source and published values when the column is
# published as it is (rule ``publicar``).
REGLAS_DE_SUITE = {"expect_column_values_to_be_in_set", "expect_column_values_to_match_regex",
                   "expect_column_values_to_be_between"}


@dataclass
class Regla:
    """One domain rule over one column of the extracted table."""

    id: str
    columna: Columna
    esperado: str  # plain-Spanish description of valid values (no data value of a personal column)
    severidad: str = "critical"
    mostly: float = 1.0
    invalid: Any = None  # callable(series) -> bool mask of invalid non-null cells
    extra: dict[str, Any] = field(default_factory=dict)


def _in_set(values: list[Any]):
    allowed = {str(v) for v in values}

    def check(s: pd.Series) -> pd.Series:
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            return ~s.isin([v for v in values if isinstance(v, int | float)])
        return ~s.astype("string").isin(allowed)
    return check


def _regex(pattern: str):
    compiled = re.compile(pattern)
    return lambda s: ~s.astype("string").str.contains(compiled, regex=True, na=True).astype(bool)


def _between(low: Any, high: Any):
    def check(s: pd.Series) -> pd.Series:
        bad = pd.Series(False, index=s.index)
        if low is not None:
            bad |= (s < _like(s, low)).fillna(False).astype(bool)
        if high is not None:
            bad |= (s > _like(s, high)).fillna(False).astype(bool)
        return bad
    return check


def _like(series: pd.Series, bound: Any) -> Any:
    if pd.api.types.is_datetime64_any_dtype(series):
        return pd.Timestamp(bound)
    return float(bound)


def _listed(values: list[Any], col: Columna) -> str:
    if col.dato_personal:
        return "uno de los valores permitidos para la columna (la lista no se incluye porque es un dato personal)"
    shown = ", ".join(f'"{v}"' for v in values[:MAX_VALORES_LISTADOS])
    more = f" y {len(values) - MAX_VALORES_LISTADOS} más" if len(values) > MAX_VALORES_LISTADOS else ""
    return f"uno de estos valores: {shown}{more}"


def domain_rules(dataset: Dataset) -> list[Regla]:
    """DIVIPOLA, catalog ranges, and the suite's value rules on columns published as they are."""
    by_output = {c.nombre_salida: c for c in dataset.columnas}
    rules: list[Regla] = []
    for col in dataset.columnas:
        is_code = col.nombre in MUNICIPIO_COLUMNS or col.nombre_salida in MUNICIPIO_COLUMNS or (
            col.dato_personal == "municipio" and col.tipo == "texto" and col.regla.metodo != "municipio")
        if is_code and col.tipo == "texto":
            codes = list(divipola_codes())
            esperado = ("un código DIVIPOLA (DANE) de 5 dígitos de un municipio de Casanare, por ejemplo 85001 "
                        "(Yopal)")
            if not col.dato_personal:
                esperado += f"; códigos válidos: {', '.join(codes)}"
            rules.append(Regla(f"divipola:{col.nombre}", col, esperado, invalid=_in_set(codes)))
        if col.tipo in {"entero", "decimal"}:
            low = col.minimo if isinstance(col.minimo, int | float) else None
            high = col.maximo if isinstance(col.maximo, int | float) else None
            if low is not None or high is not None:
                rules.append(Regla(f"rango:{col.nombre}", col, _range_text(low, high), invalid=_between(low, high)))
    suite = load_suite(dataset.ruta_suite()) if dataset.ruta_suite().is_file() else {"expectations": []}
    for exp in suite["expectations"]:
        kwargs = exp.get("kwargs") or {}
        col = by_output.get(kwargs.get("column"))
        if exp.get("type") not in REGLAS_DE_SUITE or col is None or col.regla.accion != "publicar":
            continue
        kind = exp["type"]
        if kind == "expect_column_values_to_be_in_set":
            check, esperado = _in_set(kwargs["value_set"]), _listed(list(kwargs["value_set"]), col)
        elif kind == "expect_column_values_to_match_regex":
            check, esperado = _regex(kwargs["regex"]), "un valor con el formato acordado" + (
                "" if col.dato_personal else f" (expresión {kwargs['regex']})")
        else:
            check, esperado = (_between(kwargs.get("min_value"), kwargs.get("max_value")),
                               _range_text(kwargs.get("min_value"), kwargs.get("max_value")))
        rules.append(Regla(f"suite:{kind.removeprefix('expect_column_values_to_')}:{col.nombre}", col, esperado,
                           severidad=exp.get("severity", "critical"), mostly=float(kwargs.get("mostly", 1.0)),
                           invalid=check))
    return rules


def _range_text(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"un valor entre {low} y {high}"
    return f"un valor mayor o igual a {low}" if low is not None else f"un valor menor o igual a {high}"


def check_domain(
    frame: pd.DataFrame, dataset: Dataset, *, filas: pd.Series | None = None,
    encabezados: dict[str, str] | None = None, archivo: str | None = None, hoja: str | None = None,
) -> dict[str, Any]:
    """Run every domain rule; fail on the first critical one broken, report the rest.

    Args:
        frame: ``extraido.parquet`` (catalog column names, source values).
        filas: source row number of each frame row (same length), else positions from 1.
        encabezados: catalog column → the header as written in the source.

    Returns:
        JSON-safe report: per rule, the count of invalid values and their first rows.

    Raises:
        CalidadDeDatos: a critical rule is broken (rows, column, header and what is valid).
    """
    rows = np.asarray(filas) if filas is not None and len(filas) == len(frame) else np.arange(1, len(frame) + 1)
    encabezados = encabezados or {}
    results: list[dict[str, Any]] = []
    failed: list[tuple[Regla, dict[str, Any]]] = []
    for rule in domain_rules(dataset):
        if rule.columna.nombre not in frame.columns:
            continue
        series = frame[rule.columna.nombre]
        present = series.notna().to_numpy()
        if not present.any():
            continue
        mask = np.asarray(rule.invalid(series[present]), dtype=bool)
        count = int(mask.sum())
        item = {"regla": rule.id, "columna": rule.columna.nombre, "severidad": rule.severidad,
                "invalidos": count, "evaluados": int(present.sum()),
                "filas": [int(r) for r in rows[present][mask][:MAX_FILAS]]}
        results.append(item)
        if count and count / present.sum() > 1 - rule.mostly and rule.severidad == "critical":
            failed.append((rule, item))
    report = {"reglas": len(results), "fallidas": [r for r in results if r["invalidos"]]}
    if failed:
        rule, item = failed[0]
        col = rule.columna
        header = encabezados.get(col.nombre)
        shown = f'{col.nombre} (encabezado "{header}")' if header and header != col.nombre else col.nombre
        others = [f"{r.columna.nombre} ({i['invalidos']})" for r, i in failed[1:]]
        raise CalidadDeDatos(
            f"Hay {item['invalidos']} valor(es) no válidos en la columna {shown}"
            + (f", y otras reglas incumplidas en: {', '.join(others)}" if others else "")
            + f". Primeras filas con problema: {', '.join(map(str, item['filas']))}.",
            ubicacion=Ubicacion(archivo=archivo, hoja=hoja, filas=item["filas"], columna=col.nombre),
            como_corregir=f"Corrija esas celdas para que cada una tenga {rule.esperado}, o déjelas vacías si el "
            "dato no se conoce. Los valores no válidos nunca se publican ni se borran en silencio.",
            detalles={"dominio": report, "encabezado": header or col.nombre},
        )
    return report


def blank_counts(extracted: pd.DataFrame, published: pd.DataFrame, dataset: Dataset) -> dict[str, dict[str, int]]:
    """Per published column: blanks already in the source, blanks added by privacy (suppression).

    Invalid values never reach this point blank: the domain rules above fail the run first, so a
    blank in the published data is either missing at the source or a protection, counted apart.
    """
    counts: dict[str, dict[str, int]] = {}
    for col in dataset.columnas_publicadas:
        if col.nombre not in extracted.columns or col.nombre_salida not in published.columns:
            continue
        source = int(extracted[col.nombre].isna().sum())
        after = int(published[col.nombre_salida].isna().sum())
        if source or after:
            counts[col.nombre_salida] = {"vacios_en_la_fuente": source,
                                         "vacios_por_proteccion": max(after - source, 0)}
    return counts


def failing_mask(frame: pd.DataFrame, kind: str, kwargs: dict[str, Any]) -> np.ndarray | None:
    """Rows of ``frame`` that break one column expectation, computed the way GX counts them."""
    column = kwargs.get("column")
    if column not in frame.columns:
        return None
    series = frame[column]
    present = series.notna()
    if kind == "expect_column_values_to_not_be_null":
        mask = ~present
    elif kind == "expect_column_values_to_be_unique":
        mask = series.duplicated(keep=False) & present
    elif kind == "expect_column_values_to_be_in_set":
        mask = _in_set(list(kwargs.get("value_set") or []))(series) & present
    elif kind == "expect_column_values_to_match_regex":
        mask = _regex(kwargs["regex"])(series) & present
    elif kind == "expect_column_values_to_be_between":
        mask = _between(kwargs.get("min_value"), kwargs.get("max_value"))(series) & present
    else:
        return None
    return np.asarray(mask, dtype=bool)


def locate_quality_failure(
    error: CalidadDeDatos, frame: pd.DataFrame, dataset: Dataset, suite: dict[str, Any], *,
    filas: pd.Series | None = None, encabezados: dict[str, str] | None = None,
    archivo: str | None = None, hoja: str | None = None,
) -> None:
    """Give a failed published-data rule the source rows (up to 20), the sheet's header and what is valid.

    ``frame`` is the published table; its rows are the extracted rows in the same order, so
    ``filas`` (the source row of each extracted row) names them as the clerk sees them.
    """
    first = ((error.detalles or {}).get("fallas_criticas") or [{}])[0]
    exp = next((e for e in suite.get("expectations", []) if (e.get("meta") or {}).get("regla") == first.get("regla")),
               None)
    if exp is None:
        return
    mask = failing_mask(frame, exp["type"], exp.get("kwargs") or {})
    by_output = {c.nombre_salida: c for c in dataset.columnas}
    col = by_output.get(first.get("columna") or "")
    rows = np.asarray(filas) if filas is not None and len(filas) == len(frame) else np.arange(1, len(frame) + 1)
    error.ubicacion.archivo = error.ubicacion.archivo or archivo
    error.ubicacion.hoja = error.ubicacion.hoja or hoja
    if mask is not None and mask.any():
        error.ubicacion.filas = [int(r) for r in rows[mask][:MAX_FILAS]]
    if col is not None:
        header = (encabezados or {}).get(col.nombre)
        if header and header != col.nombre_salida:
            error.como_corregir = f'En el archivo es la columna "{header}". ' + error.como_corregir
        if exp["type"] == "expect_column_values_to_be_in_set":
            error.como_corregir += f" Valores válidos: {_listed(list(exp['kwargs'].get('value_set') or []), col)}."
        elif exp["type"] == "expect_column_values_to_match_regex" and not col.dato_personal:
            error.como_corregir += f" Formato esperado (expresión regular): {exp['kwargs']['regex']}."
