"""Build one Airflow DAG from one catalog entry. The only place that wires stages to Airflow.

Parsing stays cheap: this module imports neither pandas, GX nor sodapy, reads no connection
and makes no network or database call; task bodies import what they need when they run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, task

from casanare.catalog import Dataset
from casanare.dag_docs import doc_md

TIMEZONE = "America/Bogota"
START = pendulum.datetime(2026, 1, 1, tz=TIMEZONE)


def schedule_for(ds: Dataset) -> Any:
    """Cron in America/Bogota for periodic datasets; None (manual/asset-triggered) for eventual."""
    from airflow.timetables.trigger import CronTriggerTimetable

    if ds.cron is None:
        return None
    return CronTriggerTimetable(ds.cron, timezone=TIMEZONE)


def portal_asset(ds: Dataset) -> Asset:
    """Stable URI of a dataset's publication on datos.gov.co."""
    assert ds.datos_gov_co is not None
    return Asset(name=f"datos_gov_co__{ds.slug}", uri=f"socrata://www.datos.gov.co/{ds.datos_gov_co.dataset_id}")


def website_asset(ds: Dataset) -> Asset:
    assert ds.casanare_gov_co is not None
    return Asset(name=f"casanare_gov_co__{ds.slug}", uri=f"https://www.casanare.gov.co/datos-abiertos/{ds.casanare_gov_co.ruta}")


def default_args(ds: Dataset) -> dict[str, Any]:
    from casanare.failure_notifier import NotificadorFallo

    return {
        "owner": ds.dependencia,
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


def build_dag(ds: Dataset) -> DAG:
    """One DAG: extraer → anonimizar → validar → publicar (portal ∥ sitio) → cerrar."""
    slug = ds.slug
    with DAG(
        dag_id=slug,
        description=ds.nombre[:200],
        schedule=schedule_for(ds),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=ds.etiquetas_airflow(),
        doc_md=doc_md(ds),
        default_args=default_args(ds),
        owner_links={ds.dependencia: f"mailto:{ds.contactos[0]}"},
    ) as dag:

        @task(task_id="extraer", doc_md="Lee la fuente, tipa cada columna y archiva el original.")
        def extraer(**context: Any) -> dict[str, Any]:
            from casanare.tasks import run_extract

            return run_extract(slug, context["run_id"], _run_after(context))

        @task(task_id="anonimizar", doc_md="Aplica las reglas de privacidad; solo pasan columnas públicas.")
        def anonimizar(_: dict[str, Any], **context: Any) -> dict[str, Any]:
            from casanare.tasks import run_anonymize

            return run_anonymize(slug, context["run_id"], _run_after(context))

        @task(task_id="validar", doc_md="Ejecuta la suite de Great Expectations sobre los datos anonimizados.")
        def validar(_: dict[str, Any], **context: Any) -> dict[str, Any]:
            from casanare.tasks import run_validate

            return run_validate(slug, context["run_id"])

        @task(task_id="publicar_datos_gov_co", outlets=[portal_asset(ds)],
              doc_md="Publica las filas en datos.gov.co (Socrata) y verifica el conteo.")
        def publicar_datos_gov_co(_: dict[str, Any], **context: Any) -> dict[str, Any]:
            from casanare.tasks import run_publish_portal

            return run_publish_portal(slug, context["run_id"])

        @task(task_id="publicar_casanare_gov_co", outlets=[website_asset(ds)],
              doc_md="Publica la página y las descargas en casanare.gov.co.")
        def publicar_casanare_gov_co(_: dict[str, Any], **context: Any) -> dict[str, Any]:
            from casanare.tasks import run_publish_website

            return run_publish_website(slug, context["run_id"])

        @task(task_id="cerrar", doc_md="Escribe el manifiesto final y registra la ejecución exitosa.")
        def cerrar(_: list[Any], **context: Any) -> dict[str, Any]:
            from casanare.tasks import run_close

            return run_close(slug, context["run_id"])

        validated = validar(anonimizar(extraer()))
        cerrar([publicar_datos_gov_co(validated), publicar_casanare_gov_co(validated)])
    return dag
