"""Run a merged suite with GX Core 1.x on the anonymized frame and build Data Docs."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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


def _context(docs_dir: Path | None):
    """Ephemeral GX context; with ``docs_dir``, its validation results persist next to the Data Docs site.

    Suites, definitions and checkpoints live in memory (they are rebuilt from the catalog on each
    run), but the validation-results store is a folder, so the site index GX rebuilds on every
    run keeps listing earlier runs' pages. Results hold counts only (see ``RESULT_FORMAT``).
    Without ``docs_dir`` everything stays in memory: the context the rules run in, whose
    partial results never reach the site (only the merged one does, see :class:`Validacion`).
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    defaults = InMemoryStoreBackendDefaults()
    config = DataContextConfig(
        store_backend_defaults=defaults,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        config.stores[defaults.validation_results_store_name] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(docs_dir / RESULTS_FOLDER)},
        }
        config.data_docs_sites = {
            "casanare": {
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        }
    return gx.get_context(mode="ephemeral", project_config=config)


#: From this many rows on, each uniqueness rule runs on its column alone, before the table is read.
FILAS_UNICIDAD_APARTE = 1_000_000

#: Rules run on their own column when the table is large. GX checks uniqueness with
#: ``duplicated(keep=False)``, which hashes every value of the column (5M ids: +1.2 GB); on top
#: of the whole table (1.3 GB) that was the 5M run's memory peak.
TIPOS_APARTE = frozenset({"expect_column_values_to_be_unique"})


def columnas_aparte(suite: dict[str, Any], filas: int) -> list[str]:
    """Columns whose uniqueness rules :func:`casanare.quality.stage.validar` runs apart, in suite order."""
    if filas < FILAS_UNICIDAD_APARTE:
        return []
    columnas = [e["kwargs"].get("column") for e in suite["expectations"] if e["type"] in TIPOS_APARTE]
    return list(dict.fromkeys(c for c in columnas if c))


class Validacion:
    """One suite validated with GX Core, in one run or in parts, reported as one result.

    The rules run in an in-memory context: :meth:`columna` runs the uniqueness rules of one
    column on a frame of that column alone, :meth:`resto` every other rule on the whole table.
    :meth:`informe` merges the results in suite order into one ``ExpectationSuiteValidationResult``
    (statistics recomputed the way GX does), stores it in the Data Docs' results folder and
    builds the site: one page per run whatever the number of parts.
    """

    def __init__(self, dataset: Dataset, suite: dict[str, Any], *, run_name: str, docs_dir: Path) -> None:
        from great_expectations.core.run_identifier import RunIdentifier

        self._dataset, self._suite, self._docs_dir = dataset, suite, docs_dir
        self._run_id = RunIdentifier(run_name=run_name)
        self._resultados: dict[int, Any] = {}
        self._meta: dict[str, Any] | None = None
        self._batch_id: str | None = None
        self._partes = 0

    def __enter__(self) -> Validacion:
        self._salida = ExitStack()
        self._contexto = self._salida.enter_context(_ephemeral_context(None))
        self._salida.enter_context(_sin_huella_de_lote())
        return self

    def __exit__(self, *exc: object) -> None:
        self._salida.close()

    def columna(self, columna: str, df: pd.DataFrame) -> None:
        """Run the uniqueness rules of ``columna`` on ``df`` (that column, every row)."""
        self._correr([i for i, e in enumerate(self._suite["expectations"])
                      if e["type"] in TIPOS_APARTE and e["kwargs"].get("column") == columna], df)

    def resto(self, df: pd.DataFrame) -> None:
        """Run every rule not run yet on the whole table ``df``."""
        self._correr([i for i in range(len(self._suite["expectations"])) if i not in self._resultados], df,
                     tabla=True)

    def _correr(self, indices: list[int], df: pd.DataFrame, *, tabla: bool = False) -> None:
        import great_expectations as gx
        from great_expectations.core.expectation_suite import ExpectationSuite

        self._partes += 1
        nombre = f"parte_{self._partes}"
        # The whole table's part keeps the data source name earlier runs' pages were filed under.
        fuente = f"{self._dataset.slug}_fuente" if tabla else f"{self._dataset.slug}_{nombre}"
        lote = (self._contexto.data_sources.add_pandas(fuente).add_dataframe_asset("anonimizado")
                .add_batch_definition_whole_dataframe("completo"))
        expectativas = [self._suite["expectations"][i] for i in indices]
        parte = self._contexto.suites.add(ExpectationSuite(**{**self._suite, "name": nombre,
                                                               "expectations": expectativas}))
        # GX gives the added rules new ids; they tell each result's place in the whole suite.
        lugar = {e.id: i for e, i in zip(parte.expectations, indices, strict=True)}
        definicion = self._contexto.validation_definitions.add(gx.ValidationDefinition(name=nombre, data=lote,
                                                                                       suite=parte))
        resultado = definicion.run(batch_parameters={"dataframe": comparable_dtypes(df)},
                                   result_format=RESULT_FORMAT, run_id=self._run_id)
        # The data source's engine holds the frame it validated (and its metrics) until it is
        # dropped: a column part's 5M ids would stay under the whole table read next.
        self._contexto.validation_definitions.delete(nombre)
        self._contexto.suites.delete(nombre)
        self._contexto.data_sources.delete(fuente)
        for item in resultado.results:
            self._resultados[lugar[item.expectation_config.id]] = item
        if tabla:  # the page describes the whole table's batch, not a one-column part
            self._meta, self._batch_id = dict(resultado.meta), resultado.batch_id

    def informe(self) -> dict[str, Any]:
        """Merge, store and render the result; the JSON-safe report of :func:`summarize`."""
        from great_expectations.core import ExpectationSuiteValidationResult
        from great_expectations.core.expectation_suite import ExpectationSuite
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )
        from great_expectations.validator.validation_statistics import calc_validation_statistics

        if self._meta is None:
            raise RuntimeError("Validacion.informe antes de validar la tabla completa (resto)")
        results = [self._resultados[i] for i in sorted(self._resultados)]
        stats = calc_validation_statistics(results)
        merged = ExpectationSuiteValidationResult(
            results=results, success=stats.success, suite_name=self._suite["name"], batch_id=self._batch_id,
            statistics={"evaluated_expectations": stats.evaluated_expectations,
                        "successful_expectations": stats.successful_expectations,
                        "unsuccessful_expectations": stats.unsuccessful_expectations,
                        "success_percent": stats.success_percent},
            meta=self._meta,
        )
        suite_id = ExpectationSuiteIdentifier(name=self._suite["name"])
        key = ValidationResultIdentifier(expectation_suite_identifier=suite_id, run_id=self._run_id,
                                         batch_identifier=self._batch_id)
        with _ephemeral_context(self._docs_dir) as docs:
            docs.suites.add(ExpectationSuite(**self._suite))
            docs.validation_results_store.set(key, merged)
            docs.build_data_docs(site_names=["casanare"], resource_identifiers=[key, suite_id])
        from casanare.quality.data_docs_offline import make_site_offline

        make_site_offline(self._docs_dir)
        return summarize({key: merged}, self._docs_dir)


def run_suite(
    df: pd.DataFrame,
    dataset: Dataset,
    *,
    run_name: str,
    docs_dir: Path,
    suite: dict[str, Any] | None = None,
    raise_on_critical: bool = True,
) -> dict[str, Any]:
    """Validate ``df`` in one GX run and return a JSON-safe report (counts only, no data values).

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
    with Validacion(dataset, suite or merged_suite(dataset), run_name=run_name, docs_dir=docs_dir) as validacion:
        validacion.resto(df)
        report = validacion.informe()
    if raise_on_critical:
        check_critical(report)
    return report


@contextmanager
def _ephemeral_context(docs_dir: Path | None) -> Iterator[Any]:
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


@contextmanager
def _sin_huella_de_lote() -> Iterator[None]:
    """Keep GX from fingerprinting each pandas batch while our rules run.

    GX's pandas engine stores ``pandas_data_fingerprint`` (md5 of ``hash_pandas_object``) in
    the batch markers of every frame under ``HASH_THRESHOLD`` bytes: 1.0 s of validar's 4.8 s
    at 1M rows, and for a uniqueness rule run on its column alone (5M ids, 0.11 GB) 5 s and
    +2.1 GB, more than the rule. Nothing reads the marker (the run manifest holds the data's
    own content hash, ``hash_publicable``) and GX has no setting for it, so its threshold is 0
    for the duration. Tasks validate one table at a time per process.
    """
    from great_expectations.execution_engine import pandas_execution_engine as engine

    antes = engine.HASH_THRESHOLD  # pinned GX has it; test_gx_does_not_fingerprint_the_validated_frame checks
    engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        engine.HASH_THRESHOLD = antes


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


def summarize(run_results: dict[Any, Any], docs_dir: Path) -> dict[str, Any]:
    rows = []
    docs_page = None
    for identifier, run in run_results.items():
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
