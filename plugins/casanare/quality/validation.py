"""Run a merged suite with GX Core 1.x on the anonymized frame and build Data Docs."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from casanare import settings
from casanare.catalog import Dataset
from casanare.errors import CalidadDeDatos, Ubicacion
from casanare.quality.baseline import dimension_of, merged_suite

log = logging.getLogger(__name__)
# GX logs each metric registration and closure it skips at INFO: 200+ lines of noise per task
# log. Warnings and errors still show; progress bars are off in the context config below.
logging.getLogger("great_expectations").setLevel(logging.WARNING)
# GX's regex metric warns about match groups on every rule that uses one: one line per rule.
warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")

# No unexpected values ever leave GX: counts only, so results and Data Docs carry no data.
# BASIC, not SUMMARY: SUMMARY also computes the unexpected-row index list and query, each by
# filtering the whole table per column rule, for lists cut to 0 entries here.
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0, "include_unexpected_rows": False}


RESULTS_FOLDER = ".resultados"


def _context(docs_dir: Path):
    """Ephemeral GX context whose validation results persist next to the Data Docs site.

    Suites, definitions and checkpoints live in memory (they are rebuilt from the catalog on each
    run), but the validation-results store is a folder, so the site index GX rebuilds on every
    run keeps listing earlier runs' pages. Results hold counts only (see ``RESULT_FORMAT``).
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    docs_dir.mkdir(parents=True, exist_ok=True)
    defaults = InMemoryStoreBackendDefaults()
    config = DataContextConfig(
        store_backend_defaults=defaults,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    config.stores[defaults.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir / RESULTS_FOLDER)},
    }
    config.data_docs_sites = {
        "casanare": {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    }
    return gx.get_context(mode="ephemeral", project_config=config)


def run_suite(
    df: pd.DataFrame,
    dataset: Dataset,
    *,
    run_name: str,
    docs_dir: Path,
    suite: dict[str, Any] | None = None,
    raise_on_critical: bool = True,
) -> dict[str, Any]:
    """Validate ``df`` and return a JSON-safe report (counts only, no data values).

    Args:
        df: the anonymized frame (what would be published).
        dataset: catalog entry.
        run_name: name of the run in the Data Docs (the staging run folder name).
        docs_dir: the dataset's Data Docs site folder.
        suite: suite dict to run instead of the merged catalog + hand-written suite.
        raise_on_critical: raise at once when a critical rule fails; with False the caller
            records the report first and then calls :func:`check_critical`.

    Raises:
        CalidadDeDatos: when any critical expectation fails (only with ``raise_on_critical``).
    """
    suite_dict = suite or merged_suite(dataset)
    df = comparable_dtypes(df)
    with _ephemeral_context(docs_dir) as context:
        result = _run_checkpoint(context, dataset, suite_dict, df, run_name)
    from casanare.quality.data_docs_offline import make_site_offline

    make_site_offline(docs_dir)
    report = summarize(result, docs_dir)
    if raise_on_critical:
        check_critical(report)
    return report


@contextmanager
def _ephemeral_context(docs_dir: Path) -> Iterator[Any]:
    """A GX context that is forgotten afterwards.

    ``gx.get_context`` registers the context as GX's process-wide project, and through its
    data source the project keeps the last validated frame alive: 0.27 GB at 1M rows, carried
    into every later task of the process (the portal and website tasks of ``airflow dags
    test``, or whatever a Celery worker runs next).
    """
    from great_expectations.data_context.data_context.context_factory import project_manager

    try:
        yield _context(docs_dir)
    finally:
        project_manager.set_project(None)


def _run_checkpoint(context: Any, dataset: Dataset, suite_dict: dict[str, Any], df: pd.DataFrame,
                    run_name: str) -> Any:
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.core.run_identifier import RunIdentifier

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
    return checkpoint.run(batch_parameters={"dataframe": df}, run_id=RunIdentifier(run_name=run_name))


def comparable_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    """Shallow copy with the dtypes GX checks and computes best, same values.

    * Text: ``StringDtype()`` (pd.NA) instead of pandas 3's ``str``; GX's type check can only
      name the former. The cast keeps the Arrow buffers (no data copy).
    * Nullable numbers with no gap (``Int64``, ``Float64``…): their numpy dtype. GX's range rule
      compares only numpy ``int``/``float`` columns vectorized and calls a Python function per
      value on the others (1M rows: ~0.4 s per column; 5M: 4.6 GB at validar's peak). The
      catalog's type lists accept both names; a column with gaps keeps its nullable dtype.
    """
    casts: dict[str, Any] = {}
    for name, dtype in df.dtypes.items():
        if isinstance(dtype, pd.StringDtype) and dtype.na_value is not pd.NA:
            casts[name] = pd.StringDtype(dtype.storage)
        elif _NUMPY_OF_MASKED.get(str(dtype)) and not df[name].hasnans:
            casts[name] = _NUMPY_OF_MASKED[str(dtype)]
    return df.astype(casts, copy=False) if casts else df


#: Nullable numeric dtype → its numpy dtype (both are in ``baseline.TIPOS_GX``'s lists).
_NUMPY_OF_MASKED = {"Int64": "int64", "Int32": "int32", "Int16": "int16", "Int8": "int8",
                    "Float64": "float64", "Float32": "float32"}


def check_critical(report: dict[str, Any]) -> None:
    """Raise :class:`CalidadDeDatos` when the report has a failed critical rule."""
    critical = [r for r in report["resultados"] if not r["exito"] and r["severidad"] == "critical"]
    if not critical:
        return
    first = critical[0]
    raise CalidadDeDatos(
        f"{len(critical)} regla(s) críticas de calidad no se cumplen; la primera: {first['descripcion']}.",
        ubicacion=Ubicacion(columna=first.get("columna")),
        como_corregir=_advice(first),
        detalles={
            "fallas_criticas": critical[:10],
            "advertencias": report.get("advertencias", [])[:10],
            "data_docs": report.get("data_docs"),
            "data_docs_ruta": report.get("data_docs_ruta"),
            "data_docs_indice": report.get("data_docs_indice"),
        },
    )


def summarize(result: Any, docs_dir: Path) -> dict[str, Any]:
    rows = []
    docs_page = None
    for identifier, run in result.run_results.items():
        for item in run.results:
            config = item.expectation_config
            details = item.result or {}
            meta = dict(config.meta or {})
            element_count = details.get("element_count")
            missing = details.get("missing_count") or 0
            rows.append(
                {
                    "tipo": config.type,
                    "regla": meta.get("regla"),
                    "dimension": dimension_of(config.type, meta),
                    "columna": config.kwargs.get("column"),
                    "severidad": getattr(config.severity, "value", str(config.severity)),
                    "exito": bool(item.success),
                    "evaluados": element_count - missing if isinstance(element_count, int) else None,
                    "inesperados": details.get("unexpected_count"),
                    "porcentaje_inesperado": details.get("unexpected_percent"),
                    "observado": _safe_observed(config.type, details.get("observed_value")),
                    "error_interno": bool((item.exception_info or {}).get("raised_exception")),
                    "descripcion": describe(config.type, config.kwargs),
                }
            )
        docs_page = docs_page or _docs_page(docs_dir, identifier)
    failed = [r for r in rows if not r["exito"]]
    return {
        "exito": not any(r["severidad"] == "critical" for r in failed),
        "evaluadas": len(rows),
        "fallidas": len(failed),
        "advertencias": [r for r in failed if r["severidad"] != "critical"],
        "resultados": rows,
        # The link people open (may be http://) and where the page sits under the docs root.
        "data_docs": operator_url(docs_page or docs_dir / "index.html"),
        "data_docs_ruta": docs_relative_path(docs_page or docs_dir / "index.html"),
        "data_docs_indice": operator_url(docs_dir / "index.html"),
    }


def _safe_observed(kind: str, observed: Any) -> Any:
    # Only table-level observations (row counts, column lists) and dtypes are kept; column
    # statistics such as min/max could be a person's value.
    if kind in {"expect_table_row_count_to_be_between", "expect_table_columns_to_match_set"}:
        return observed if isinstance(observed, int | list) else None
    if kind == "expect_column_values_to_be_in_type_list" and isinstance(observed, str):
        return observed
    return None


def _docs_page(docs_dir: Path, identifier: Any) -> Path | None:
    try:
        suite_name = identifier.expectation_suite_identifier.name
        run_id = identifier.run_id
        run_time = run_id.run_time.strftime("%Y%m%dT%H%M%S.%fZ")
        path = docs_dir / "validations" / suite_name / run_id.run_name / run_time / f"{identifier.batch_identifier}.html"
        return path if path.exists() else None
    except Exception:
        return None


def docs_relative_path(path: Path) -> str | None:
    """Page's path under ``CASANARE_DATA_DOCS_DIR`` (POSIX), so any consumer finds it on disk.

    Relative on purpose: workers, the web server and tests mount the docs volume at different places.
    """
    try:
        return path.resolve().relative_to(settings.data_docs_dir().resolve()).as_posix()
    except ValueError:
        return None


def operator_url(path: Path) -> str:
    """URL operators open: ``CASANARE_DATA_DOCS_URL`` + the page's path under the docs root."""
    root = settings.data_docs_dir().resolve()
    try:
        relative = path.resolve().relative_to(root)
    except ValueError:
        return path.resolve().as_uri()
    return f"{settings.data_docs_base_url()}/{relative.as_posix()}"


DESCRIPTIONS = {
    "expect_table_columns_to_match_set": "las columnas deben ser exactamente las del catálogo",
    "expect_column_values_to_not_be_null": "la columna {column} no puede tener celdas vacías",
    "expect_column_values_to_be_unique": "los valores de la columna {column} no pueden repetirse",
    "expect_column_values_to_be_in_set": "la columna {column} solo admite los valores permitidos",
    "expect_column_values_to_be_between": "los valores de la columna {column} deben estar en el rango permitido",
    "expect_table_row_count_to_be_between": "el conjunto debe tener al menos {min_value} filas",
    "expect_column_values_to_match_regex": "la columna {column} debe tener el formato esperado",
    "expect_column_values_to_be_in_type_list": "la columna {column} debe tener el tipo declarado en el catálogo",
    "expect_column_unique_value_count_to_be_between": "la columna {column} debe tener la cantidad esperada de valores distintos",
    "expect_column_pair_values_a_to_be_greater_than_b": "la columna {column_A} debe ser mayor que {column_B}",
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
