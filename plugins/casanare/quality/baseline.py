"""Baseline expectations generated from the catalog, merged with the hand-written suite.

Every generated rule carries ``meta.regla`` (a stable id such as ``formato:mes_aplicacion``) and
``meta.dimension`` (the MinTIC criterion it feeds: conformidad, exactitud, consistencia,
completitud, unicidad). The catalog may change a rule's severity through
``calidad.severidades`` keyed by the full id or by its kind (``rango``, ``formato``...).
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from casanare import settings
from casanare.catalog import Columna, Dataset
from casanare.referencia import subregiones

MUNICIPIO_COLUMNS = {"codigo_municipio", "cod_municipio", "municipio_codigo", "divipola"}
LATITUD_COLUMNS = ("latitud", "latitude", "lat")
LONGITUD_COLUMNS = ("longitud", "longitude", "lon", "lng")
# Casanare lies between about 4°17' and 6°20' N and 69°50' and 73°04' W; a small margin keeps
# points rounded to two decimals on the border inside.
BBOX_CASANARE = {"lat_min": 4.2, "lat_max": 6.45, "lon_min": -73.2, "lon_max": -69.7}
BOGOTA = ZoneInfo("America/Bogota")

# Published formats that the privacy rules produce (see privacy/generalize.py, pseudonym.py).
REGEX_SEUDONIMO = r"^P[0-9a-f]{24}$"
# k-anonymity may climb a month to its quarter (2025-T2) or year (privacy/generalize.py hierarchies).
REGEX_MES = r"^\d{4}(-(0[1-9]|1[0-2])|-T[1-4])?$"
REGEX_SEMANA_EPI = r"^\d{4}-S(0[1-9]|[1-4]\d|5[0-3])$"
REGEX_RANGO_EDAD = r"^(\d{1,3}-\d{1,3}|\d{1,3}\+)$"

# dtype names GX's in_type_list resolves (numpy names, or pandas ``*Dtype`` class names for the
# nullable types). String columns are compared as ``StringDtype()``: validation.py turns pandas
# 3's default ``str`` dtype (NaN as missing) into it, zero-copy, before validating.
TIPOS_GX: dict[str, list[str]] = {
    "texto": ["StringDtype", "object"],
    # float64 too: staging's read_parquet turns a nullable Arrow int64 column into float64 (NaN
    # for gaps), which is how an integer column with empty cells reaches this stage today.
    "entero": ["int64", "int32", "int16", "int8", "Int64Dtype", "Int32Dtype", "Int16Dtype", "Int8Dtype", "float64"],
    "decimal": ["float64", "float32", "Float64Dtype", "Float32Dtype", "int64", "Int64Dtype"],
    "fecha": ["datetime64[us]", "datetime64[ns]", "datetime64[ms]", "datetime64[s]"],
    "fecha_hora": ["datetime64[us]", "datetime64[ns]", "datetime64[ms]", "datetime64[s]"],
    "booleano": ["bool", "BooleanDtype"],
}

# MinTIC criterion fed by each expectation type when the suite does not say (meta.dimension).
DIMENSION_POR_TIPO: dict[str, str] = {
    "expect_table_columns_to_match_set": "consistencia",
    "expect_table_columns_to_match_ordered_list": "consistencia",
    "expect_column_to_exist": "consistencia",
    "expect_column_values_to_be_in_type_list": "consistencia",
    "expect_column_values_to_be_of_type": "consistencia",
    "expect_column_pair_values_to_be_equal": "consistencia",
    "expect_column_pair_values_a_to_be_greater_than_b": "consistencia",
    "expect_column_pair_values_to_be_in_set": "consistencia",
    "expect_multicolumn_sum_to_equal": "consistencia",
    "expect_column_values_to_not_be_null": "completitud",
    "expect_column_values_to_be_unique": "unicidad",
    "expect_compound_columns_to_be_unique": "unicidad",
    "expect_select_column_values_to_be_unique_within_record": "unicidad",
    "expect_column_values_to_match_regex": "conformidad",
    "expect_column_values_to_match_regex_list": "conformidad",
    "expect_column_values_to_not_match_regex": "conformidad",
    "expect_column_values_to_be_in_set": "conformidad",
    "expect_column_values_to_match_strftime_format": "conformidad",
    "expect_column_value_lengths_to_be_between": "conformidad",
    "expect_column_values_to_be_between": "exactitud",
    "expect_column_min_to_be_between": "exactitud",
    "expect_column_max_to_be_between": "exactitud",
    "expect_column_mean_to_be_between": "exactitud",
    "expect_column_sum_to_be_between": "exactitud",
}


@lru_cache(maxsize=1)
def divipola_codes() -> tuple[str, ...]:
    path = settings.include_dir() / "reference" / "divipola_casanare.csv"
    with path.open(encoding="utf-8") as fh:
        return tuple(row["codigo_municipio"] for row in csv.DictReader(fh))


def _exp(kind: str, severity: str, regla: str, dimension: str, **kwargs: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "kwargs": kwargs,
        "meta": {"origen": "catalogo", "regla": regla, "dimension": dimension},
        "severity": severity,
    }


def _fin_de_hoy(hoy: date) -> datetime:
    return datetime.combine(hoy, time.max).replace(microsecond=0)


def _como_fecha(valor: Any) -> datetime | None:
    if valor is None:
        return None
    try:
        return datetime.fromisoformat(str(valor))
    except ValueError:
        return None


def _formato(col: Columna) -> str | None:
    regla = col.regla
    if regla.accion == "seudonimizar":
        return REGEX_SEUDONIMO
    if regla.accion == "generalizar":
        return {"mes": REGEX_MES, "semana_epidemiologica": REGEX_SEMANA_EPI, "rango_edad": REGEX_RANGO_EDAD}.get(
            regla.metodo or ""
        )
    if regla.accion == "enmascarar":
        return rf"^\**[^*]{{0,{regla.conservar or 4}}}$"
    return None


def _coordenadas(dataset: Dataset, names: set[str]) -> tuple[str | None, str | None]:
    lat = dataset.calidad.columna_latitud or next((n for n in LATITUD_COLUMNS if n in names), None)
    lon = dataset.calidad.columna_longitud or next((n for n in LONGITUD_COLUMNS if n in names), None)
    return (lat if lat in names else None), (lon if lon in names else None)


def suppressible_columns(dataset: Dataset) -> set[str]:
    """Published columns that k-anonymity may generalize or blank (local suppression)."""
    return set(dataset.columnas_k)


def allow_privacy_suppression(suite: dict[str, Any], privacidad: dict[str, Any] | None, rows: int) -> dict[str, Any]:
    """Copy of ``suite`` whose not-null rules accept exactly the cells k-anonymity blanked on purpose.

    Local suppression empties some quasi-identifier cells (counted per column in the privacy
    report); those gaps are the platform's doing, not the source's, and warning about them on every
    run would be noise. ``mostly`` is set so that one more empty cell (a gap of the source) still fails.
    """
    suppressed = ((privacidad or {}).get("k_anonimato") or {}).get("celdas_suprimidas_por_columna") or {}
    if not rows or not any(suppressed.values()):
        return suite
    expectations = []
    for exp in suite["expectations"]:
        column = (exp.get("kwargs") or {}).get("column")
        blanked = int(suppressed.get(column) or 0)
        if exp["type"] == "expect_column_values_to_not_be_null" and blanked and "mostly" not in exp["kwargs"]:
            # The next possible ratio is 1/rows lower: the epsilon only absorbs float rounding.
            mostly = max((rows - blanked) / rows - 1e-9, 0.0)
            exp = {**exp, "kwargs": {**exp["kwargs"], "mostly": mostly},
                   "meta": {**(exp.get("meta") or {}), "celdas_suprimidas_por_privacidad": blanked}}
        expectations.append(exp)
    return {**suite, "expectations": expectations}


def _rules_of_column(col: Columna, dataset: Dataset, hoy: date) -> list[dict[str, Any]]:
    name = col.nombre_salida
    tipo = col.tipo_salida
    exps: list[dict[str, Any]] = []
    if col.requerido:
        # k-anonymity blanks quasi-identifier cells on purpose (local suppression): a gap there is
        # reported, not fatal; the privacy stage already bounds how many rows it may touch.
        suprimible = name in suppressible_columns(dataset)
        exps.append(_exp("expect_column_values_to_not_be_null", "warning" if suprimible else "critical",
                         f"no_nulo:{name}", "completitud", column=name))
    exps.append(_exp("expect_column_values_to_be_in_type_list", "critical", f"tipo:{name}", "consistencia",
                     column=name, type_list=TIPOS_GX[tipo]))
    regex = _formato(col)
    if regex:
        exps.append(_exp("expect_column_values_to_match_regex", "critical", f"formato:{name}", "conformidad",
                         column=name, regex=regex))
    if name in MUNICIPIO_COLUMNS or (col.dato_personal == "municipio" and tipo == "texto"):
        codes = list(divipola_codes())
        if name in suppressible_columns(dataset):
            # k-anonymity may publish a municipio as its subregion (privacy/generalize.py).
            codes += sorted(set(subregiones().values()))
        exps.append(_exp("expect_column_values_to_be_in_set", "critical", f"divipola:{name}", "conformidad",
                         column=name, value_set=codes))
    if col.regla.metodo == "anio":
        exps.append(_exp("expect_column_values_to_be_between", "critical", f"rango:{name}", "exactitud",
                         column=name, min_value=1900, max_value=hoy.year))
    if tipo in {"fecha", "fecha_hora"}:
        minimo, maximo = _como_fecha(col.minimo), _como_fecha(col.maximo)
        if name not in dataset.calidad.fechas_futuras:
            tope = _fin_de_hoy(hoy)
            exps.append(_exp("expect_column_values_to_be_between", "critical", f"fecha_futura:{name}", "exactitud",
                             column=name, min_value=None, max_value=min(tope, maximo) if maximo else tope))
        if minimo or maximo:
            exps.append(_exp("expect_column_values_to_be_between", "critical", f"rango:{name}", "exactitud",
                             column=name, min_value=minimo, max_value=maximo))
    elif tipo in {"entero", "decimal"} and (col.minimo is not None or col.maximo is not None):
        low = col.minimo if isinstance(col.minimo, int | float) else None
        high = col.maximo if isinstance(col.maximo, int | float) else None
        if low is not None or high is not None:
            exps.append(_exp("expect_column_values_to_be_between", "critical", f"rango:{name}", "exactitud",
                             column=name, min_value=low, max_value=high))
    return exps


def baseline_expectations(dataset: Dataset, *, hoy: date | None = None) -> list[dict[str, Any]]:
    """Rules every dataset must meet, derived from its declared schema and privacy rules.

    Args:
        dataset: catalog entry.
        hoy: the run's date in Bogotá (dates after its end are "in the future"); default today.
    """
    hoy = hoy or datetime.now(BOGOTA).date()
    published = dataset.columnas_publicadas
    names = [c.nombre_salida for c in published]
    exps = [_exp("expect_table_columns_to_match_set", "critical", "columnas", "consistencia",
                 column_set=names, exact_match=True)]
    for col in published:
        exps.extend(_rules_of_column(col, dataset, hoy))
    lat, lon = _coordenadas(dataset, set(names))
    if lat:
        exps.append(_exp("expect_column_values_to_be_between", "critical", f"coordenadas:{lat}", "exactitud",
                         column=lat, min_value=BBOX_CASANARE["lat_min"], max_value=BBOX_CASANARE["lat_max"]))
    if lon:
        exps.append(_exp("expect_column_values_to_be_between", "critical", f"coordenadas:{lon}", "exactitud",
                         column=lon, min_value=BBOX_CASANARE["lon_min"], max_value=BBOX_CASANARE["lon_max"]))
    row_id = dataset.datos_gov_co.identificador_fila if dataset.datos_gov_co else None
    if row_id:
        exps.append(_exp("expect_column_values_to_not_be_null", "critical", f"identificador:{row_id}",
                         "completitud", column=row_id))
        exps.append(_exp("expect_column_values_to_be_unique", "critical", f"unico:{row_id}", "unicidad",
                         column=row_id))
    if dataset.calidad.minimo_filas:
        exps.append(_exp("expect_table_row_count_to_be_between", "critical", "minimo_filas", "relevancia",
                         min_value=dataset.calidad.minimo_filas, max_value=None))
    return [_apply_override(e, dataset.calidad.severidades) for e in exps]


def _apply_override(exp: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    regla = exp["meta"]["regla"]
    severity = overrides.get(regla) or overrides.get(regla.split(":", 1)[0])
    return {**exp, "severity": severity} if severity else exp


def dimension_of(exp_type: str, meta: dict[str, Any] | None) -> str:
    """MinTIC criterion an expectation feeds: its ``meta.dimension`` or the type's default."""
    declared = (meta or {}).get("dimension")
    return str(declared) if declared else DIMENSION_POR_TIPO.get(exp_type, "consistencia")


def load_suite(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if "expectations" not in data:
        raise ValueError(f"{path.name}: la suite no tiene 'expectations' (formato GX 1.x)")
    return data


# Column aggregates whose observed value is a data value (a maximum, the distinct values...):
# GX prints it in the Data Docs whatever the result format, so they can't target personal columns.
AGREGADOS_CON_VALORES = frozenset({
    "expect_column_max_to_be_between",
    "expect_column_min_to_be_between",
    "expect_column_median_to_be_between",
    "expect_column_quantile_values_to_be_between",
    "expect_column_most_common_value_to_be_in_set",
    "expect_column_distinct_values_to_be_in_set",
    "expect_column_distinct_values_to_contain_set",
    "expect_column_distinct_values_to_equal_set",
})


def check_no_personal_aggregates(dataset: Dataset, expectations: list[dict[str, Any]], suite_name: str) -> None:
    """Refuse a hand-written rule that would print a personal column's values in the Data Docs.

    Raises:
        ErrorDeConfiguracion: naming the suite file and the column.
    """
    from casanare.errors import ErrorDeConfiguracion, Ubicacion

    personales = {c.nombre_salida for c in dataset.columnas_publicadas if c.dato_personal}
    for exp in expectations:
        column = exp.get("kwargs", {}).get("column")
        if exp.get("type") in AGREGADOS_CON_VALORES and column in personales:
            raise ErrorDeConfiguracion(
                f"La suite {suite_name} usa {exp['type']} sobre la columna con datos personales {column}: "
                "su valor observado quedaría en el informe de calidad.",
                ubicacion=Ubicacion(archivo=suite_name, columna=column),
                como_corregir="Use una regla por valor (expect_column_values_to_be_between, _in_set o _match_regex), "
                "que solo informa conteos.",
            )


def merged_suite(dataset: Dataset, *, hoy: date | None = None) -> dict[str, Any]:
    """Baseline first, then the dataset's own expectations; an identical rule is kept once."""
    own = load_suite(dataset.ruta_suite())
    check_no_personal_aggregates(dataset, own["expectations"], dataset.ruta_suite().name)
    seen: set[str] = set()
    merged = []
    for exp in [*baseline_expectations(dataset, hoy=hoy), *own["expectations"]]:
        meta = dict(exp.get("meta") or {})
        meta.setdefault("origen", "suite")
        meta.setdefault("regla", f"suite:{exp['type'].removeprefix('expect_')}:{exp['kwargs'].get('column', 'tabla')}")
        meta["dimension"] = dimension_of(exp["type"], meta)
        exp = {**exp, "meta": meta, "severity": exp.get("severity", "critical")}
        key = json.dumps([exp["type"], exp["kwargs"]], sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            merged.append(exp)
    return {"name": dataset.slug, "expectations": merged, "meta": own.get("meta", {})}
