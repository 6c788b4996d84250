"""Baseline expectations generated from the catalog, merged with the hand-written suite."""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from casanare import settings
from casanare.catalog import Dataset

MUNICIPIO_COLUMNS = {"codigo_municipio", "cod_municipio", "municipio_codigo", "divipola"}


@lru_cache(maxsize=1)
def divipola_codes() -> tuple[str, ...]:
    path = settings.include_dir() / "reference" / "divipola_casanare.csv"
    with path.open(encoding="utf-8") as fh:
        return tuple(row["codigo_municipio"] for row in csv.DictReader(fh))


def _exp(kind: str, severity: str, origen: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "meta": {"origen": origen}, "severity": severity}


def baseline_expectations(dataset: Dataset) -> list[dict[str, Any]]:
    """Rules every dataset must meet, derived from its declared schema."""
    published = dataset.columnas_publicadas
    names = [c.nombre_salida for c in published]
    exps = [_exp("expect_table_columns_to_match_set", "critical", "catalogo", column_set=names, exact_match=True)]
    for col in published:
        if col.requerido:
            exps.append(_exp("expect_column_values_to_not_be_null", "critical", "catalogo", column=col.nombre_salida))
        if col.nombre_salida in MUNICIPIO_COLUMNS or (col.dato_personal == "municipio" and col.tipo == "texto"):
            exps.append(
                _exp("expect_column_values_to_be_in_set", "critical", "divipola",
                     column=col.nombre_salida, value_set=list(divipola_codes()))
            )
    row_id = dataset.datos_gov_co.identificador_fila if dataset.datos_gov_co else None
    if row_id:
        exps.append(_exp("expect_column_values_to_not_be_null", "critical", "identificador", column=row_id))
        exps.append(_exp("expect_column_values_to_be_unique", "critical", "identificador", column=row_id))
    if dataset.calidad.minimo_filas:
        exps.append(
            _exp("expect_table_row_count_to_be_between", "critical", "catalogo",
                 min_value=dataset.calidad.minimo_filas, max_value=None)
        )
    return exps


def load_suite(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if "expectations" not in data:
        raise ValueError(f"{path.name}: la suite no tiene 'expectations' (formato GX 1.x)")
    return data


def merged_suite(dataset: Dataset) -> dict[str, Any]:
    """Baseline first, then the dataset's own expectations; an identical rule is kept once."""
    own = load_suite(dataset.ruta_suite())
    seen: set[str] = set()
    merged = []
    for exp in [*baseline_expectations(dataset), *own["expectations"]]:
        exp = {**exp, "severity": exp.get("severity", "critical")}
        key = json.dumps([exp["type"], exp["kwargs"]], sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            merged.append(exp)
    return {"name": dataset.slug, "expectations": merged, "meta": own.get("meta", {})}
