"""Build one Airflow DAG from one catalog entry. The only place that wires stages to Airflow.

Parsing stays cheap: this module imports neither pandas, GX nor sodapy, reads no connection
and makes no network or database call; task bodies import what they need when they run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from airflow.sdk import DAG, Asset, Param, task

from casanare.catalog import Dataset
from casanare.clock import START, TIMEZONE
from casanare.dag_docs import doc_md, owner_label, schedule_text


def schedule_for(ds: Dataset) -> Any:
    """Cron in America/Bogota, or'ed with the source file's asset when the source is a file.

    ``vigilancia_fuentes`` emits that asset event when an eventual dataset's file changes, and
    when a corrected file arrives after a run that failed because of the file: either way the
    dataset runs again by itself. An SQL source has no file to watch: cron only (or on demand).
    """
    from airflow.sdk import AssetOrTimeSchedule

    from casanare.extract.vigilancia import es_vigilable, vigila_correccion

    if ds.cron is None:
        return [source_asset(ds)] if es_vigilable(ds) else None
    cron = _timetable(ds.cron)
    return AssetOrTimeSchedule(timetable=cron, assets=[source_asset(ds)]) if vigila_correccion(ds) else cron


@lru_cache(maxsize=64)
def _timetable(cron: str) -> Any:
    """One timetable per cron expression: building one parses the cron and describes it in words,
    a tenth of the parse time of a 200-entry catalog; timetables are immutable."""
    from airflow.sdk import CronTriggerTimetable

    return CronTriggerTimetable(cron, timezone=TIMEZONE)


def source_asset(ds: Dataset) -> Asset:
    """Asset of an eventual dataset's source file (see ``casanare.extract.vigilancia``)."""
    from casanare.extract.vigilancia import uri_fuente

    return Asset(name=f"fuente__{ds.slug}", uri=uri_fuente(ds))


def portal_asset(ds: Dataset) -> Asset:
    """Stable URI of a dataset's publication on datos.gov.co (its 4x4, or its slug until the portal assigns one)."""
    assert ds.datos_gov_co is not None
    return Asset(name=f"datos_gov_co__{ds.slug}",
                 uri=f"socrata://www.datos.gov.co/{ds.datos_gov_co.dataset_id or 'casanare/' + ds.slug}")


def website_asset(ds: Dataset) -> Asset:
    assert ds.casanare_gov_co is not None
    return Asset(name=f"casanare_gov_co__{ds.slug}", uri=f"https://www.casanare.gov.co/datos-abiertos/{ds.casanare_gov_co.ruta}")


def default_args(ds: Dataset) -> dict[str, Any]:
    from casanare.failure_notifier import NotificadorFallo

    return {
        "owner": owner_label(ds.dependencia),
        "retries": 2,
        "retry_delay": timedelta(seconds=int(_env_int("CASANARE_RETRY_DELAY_S", 60))),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "on_failure_callback": [NotificadorFallo(ds.slug)],
    }


def _env_int(name: str, default: int) -> int:
    import os

    return int(os.environ.get(name, default))


def _run_after(context: dict[str, Any]) -> datetime | None:
    dag_run = context.get("dag_run")
    return getattr(dag_run, "run_after", None) or context.get("logical_date")


def params() -> dict[str, Param]:
    """Trigger-form parameters (Spanish labels): the operator's acceptance of a volume change."""
    from casanare.extract.volumen import PARAM_ACEPTAR

    return {
        PARAM_ACEPTAR: Param(
            False, type="boolean", title="Aceptar un cambio grande en el número de filas",
            description="Marque solo si verificó con la dependencia que la caída o el aumento de filas frente a "
            "la última publicación es real. Queda registrado en el manifiesto con su usuario y la fecha.",
        ),
    }


def build_dag(ds: Dataset) -> DAG:
    """One DAG: extraer → anonimizar → validar → publicar datos.gov.co → publicar sitio → cerrar.

    The website is published only after the portal publication is reconciled, so a failure
    never leaves the two targets showing different versions of the data.
    """
    slug = ds.slug
    with DAG(
        dag_id=slug,
        dag_display_name=ds.nombre,
        description=schedule_text(ds)[:200],
        schedule=schedule_for(ds),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=ds.etiquetas_airflow(),
        doc_md=doc_md(ds),
        default_args=default_args(ds),
        owner_links={owner_label(ds.dependencia): f"mailto:{ds.contactos[0]}"},
        params=params(),
    ) as dag:

        # Each task returns one report dict: multiple_outputs=False keeps it one XCom (Airflow
        # would otherwise infer True from the dict annotation and also push every key apart)
        # and skips that inference while parsing (~5 % of the DagBag fill).
        @task(task_id="extraer", multiple_outputs=False, doc_md="Lee la fuente, tipa cada columna y archiva el original.")
        def extraer(**context: Any) -> dict[str, Any]:
            from casanare.extract.volumen import PARAM_ACEPTAR
            from casanare.tasks import run_extract

            dag_run = context.get("dag_run")
            return run_extract(slug, context["run_id"], _run_after(context),
                               aceptar_volumen=bool((context.get("params") or {}).get(PARAM_ACEPTAR)),
                               usuario=getattr(dag_run, "triggering_user_name", None))

        @task(task_id="anonimizar", multiple_outputs=False, doc_md="Aplica las reglas de privacidad; solo pasan columnas públicas.")
        def anonimizar(_: dict[str, Any], **context: Any) -> dict[str, Any]:
            from casanare.tasks import run_anonymize

            return run_anonymize(slug, context["run_id"], _run_after(context))

        @task(task_id="validar", multiple_outputs=False, doc_md="Ejecuta la suite de Great Expectations sobre los datos anonimizados.")
        def validar(_: dict[str, Any], **context: Any) -> dict[str, Any]:
            from casanare.dag_docs import public_data_docs_url
            from casanare.tasks import run_validate

            result = run_validate(slug, context["run_id"])
            # Read back by the "Data Docs" extra link (plugins/casanare_links.py).
            context["ti"].xcom_push(key="enlace_data_docs", value=public_data_docs_url(result.get("data_docs")))
            return result

        # Pool "datos_gov_co" caps concurrent portal calls across all DAGs (created by
        # migrate_airflow / `airflow pools set`); one publish of this dataset at a time.
        @task(task_id="publicar_datos_gov_co", multiple_outputs=False, outlets=[portal_asset(ds)], pool="datos_gov_co",
              max_active_tis_per_dag=1,
              doc_md="Publica en datos.gov.co (Socrata) solo las filas nuevas, cambiadas o borradas, "
              "sincroniza los metadatos y verifica lo publicado.")
        def publicar_datos_gov_co(_: dict[str, Any], **context: Any) -> dict[str, Any]:
            from casanare.dag_docs import portal_page_url
            from casanare.publish.portal.ids import portal_dataset_id
            from casanare.tasks import run_publish_portal

            result = run_publish_portal(slug, context["run_id"])
            # A run with nothing new skips the upload; the button still opens the dataset.
            dataset_id = result.get("dataset_id") or portal_dataset_id(ds)
            context["ti"].xcom_push(key="enlace_datos_gov_co", value=portal_page_url(ds, dataset_id))
            return result

        @task(task_id="publicar_casanare_gov_co", multiple_outputs=False, outlets=[website_asset(ds)],
              doc_md="Publica la página y las descargas en casanare.gov.co.")
        def publicar_casanare_gov_co(_: dict[str, Any], **context: Any) -> dict[str, Any]:
            from casanare.dag_docs import website_page_url
            from casanare.tasks import run_publish_website

            result = run_publish_website(slug, context["run_id"])
            context["ti"].xcom_push(key="enlace_casanare_gov_co", value=website_page_url(ds))
            return result

        @task(task_id="cerrar", multiple_outputs=False, doc_md="Escribe el manifiesto final y registra la ejecución exitosa.")
        def cerrar(_: Any, **context: Any) -> dict[str, Any]:
            from casanare.tasks import run_close

            return run_close(slug, context["run_id"])

        # A teardown runs after every other task, whatever their state, and its own result
        # does not decide the run's state: the run still fails when a stage failed.
        @task(task_id="resumir", multiple_outputs=False,
              doc_md="Escribe la nota de la ejecución (visible en la interfaz), la página de estado del "
              "conjunto para la dependencia y el informe de calidad en español.")
        def resumir(**context: Any) -> dict[str, Any]:
            from casanare.tasks import run_summarize

            return run_summarize(slug, context["run_id"], _run_after(context))

        extracted = extraer()
        anonymized = anonimizar(extracted)
        validated = validar(anonymized)
        portal = publicar_datos_gov_co(validated)
        site = publicar_casanare_gov_co(portal)
        closed = cerrar(site)
        [extracted, anonymized, validated, portal, site, closed] >> resumir().as_teardown()
    return dag
