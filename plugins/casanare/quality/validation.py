"""Run a merged suite with GX Core 1.x on the anonymized frame and build Data Docs."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd

from casanare.catalog import Dataset
from casanare.errors import CalidadDeDatos, Ubicacion
from casanare.quality.baseline import merged_suite

log = logging.getLogger(__name__)

# No unexpected values ever leave GX: counts only, so results and Data Docs carry no data.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0, "include_unexpected_rows": False}


def _context(docs_dir: Path):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    docs_dir.mkdir(parents=True, exist_ok=True)
    context.add_data_docs_site(
        site_name="casanare",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return context


def run_suite(
    df: pd.DataFrame, dataset: Dataset, *, run_name: str, docs_dir: Path, suite: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate ``df`` and return a JSON-safe report (no data values).

    Raises:
        CalidadDeDatos: when any critical expectation fails; warnings only get reported.
    """
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.core.run_identifier import RunIdentifier

    suite_dict = suite or merged_suite(dataset)
    context = _context(docs_dir)
    source = context.data_sources.add_pandas(f"{dataset.slug}_fuente")
    batch = source.add_dataframe_asset("anonimizado").add_batch_definition_whole_dataframe("completo")
    gx_suite = context.suites.add(ExpectationSuite(**suite_dict))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=dataset.slug, data=batch, suite=gx_suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{dataset.slug}_checkpoint",
            validation_definitions=[definition],
            result_format=RESULT_FORMAT,
            actions=[UpdateDataDocsAction(name="data_docs", site_names=["casanare"])],
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": df}, run_id=RunIdentifier(run_name=run_name))
    report = summarize(result, docs_dir)
    critical = [r for r in report["resultados"] if not r["exito"] and r["severidad"] == "critical"]
    if critical:
        first = critical[0]
        raise CalidadDeDatos(
            f"{len(critical)} regla(s) críticas de calidad no se cumplen; la primera: {first['descripcion']}.",
            ubicacion=Ubicacion(columna=first.get("columna")),
            como_corregir=_advice(first),
            detalles={"fallas_criticas": critical[:10], "data_docs": report.get("data_docs")},
        )
    return report


def summarize(result: Any, docs_dir: Path) -> dict[str, Any]:
    rows = []
    docs_url = None
    for identifier, run in result.run_results.items():
        for item in run.results:
            config = item.expectation_config
            details = item.result or {}
            rows.append(
                {
                    "tipo": config.type,
                    "columna": config.kwargs.get("column"),
                    "severidad": getattr(config.severity, "value", str(config.severity)),
                    "exito": bool(item.success),
                    "inesperados": details.get("unexpected_count"),
                    "porcentaje_inesperado": details.get("unexpected_percent"),
                    "observado": _safe_observed(config.type, details.get("observed_value")),
                    "descripcion": describe(config.type, config.kwargs),
                }
            )
        docs_url = docs_url or _docs_page(docs_dir, identifier)
    failed = [r for r in rows if not r["exito"]]
    return {
        "exito": not any(r["severidad"] == "critical" for r in failed),
        "evaluadas": len(rows),
        "fallidas": len(failed),
        "advertencias": [r for r in failed if r["severidad"] != "critical"],
        "resultados": rows,
        "data_docs": docs_url,
    }


def _safe_observed(kind: str, observed: Any) -> Any:
    # Only table-level observations (row counts, column lists) are kept; column statistics
    # such as min/max could be a person's value.
    if kind in {"expect_table_row_count_to_be_between", "expect_table_columns_to_match_set"}:
        return observed if isinstance(observed, int | list) else None
    return None


def _docs_page(docs_dir: Path, identifier: Any) -> str | None:
    try:
        suite_name = identifier.expectation_suite_identifier.name
        run_id = identifier.run_id
        run_name = run_id.run_name
        run_time = run_id.run_time.strftime("%Y%m%dT%H%M%S.%fZ")
        batch = identifier.batch_identifier
        path = docs_dir / "validations" / suite_name / run_name / run_time / f"{batch}.html"
        return path.as_uri() if path.exists() else (docs_dir / "index.html").as_uri()
    except Exception:  # the index is a good enough fallback link
        return (docs_dir / "index.html").as_uri()


DESCRIPTIONS = {
    "expect_table_columns_to_match_set": "las columnas deben ser exactamente las del catálogo",
    "expect_column_values_to_not_be_null": "la columna {column} no puede tener celdas vacías",
    "expect_column_values_to_be_unique": "los valores de la columna {column} no pueden repetirse",
    "expect_column_values_to_be_in_set": "la columna {column} solo admite los valores permitidos",
    "expect_column_values_to_be_between": "los valores de la columna {column} deben estar en el rango permitido",
    "expect_table_row_count_to_be_between": "el conjunto debe tener al menos {min_value} filas",
    "expect_column_values_to_match_regex": "la columna {column} debe tener el formato esperado",
}


def describe(kind: str, kwargs: dict[str, Any]) -> str:
    template = DESCRIPTIONS.get(kind, kind.replace("expect_", "regla ").replace("_", " "))
    try:
        return template.format(**kwargs)
    except (KeyError, IndexError):
        return template


def _advice(failure: dict[str, Any]) -> str:
    column = failure.get("columna")
    count = failure.get("inesperados")
    base = f"Revise la columna {column} en la fuente" if column else "Revise la fuente"
    extra = f": {count} fila(s) no cumplen la regla" if count else ""
    return f"{base}{extra} ({failure['descripcion']}). Corrija los datos y vuelva a cargar el archivo."
