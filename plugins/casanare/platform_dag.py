"""The header every daily platform DAG shares (avisos, instrumentos, monitoreo, retención).

Same owner, Bogotá cron, start date, no catch-up, one run at a time and retries; each DAG only
says what differs. Cheap at parse time: no catalog, connection or network.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG
from airflow.timetables.trigger import CronTriggerTimetable

from casanare.clock import START, TIMEZONE

OWNER = "Equipo de Datos Abiertos"


def platform_dag(
    dag_id: str,
    *,
    cron: str,
    description: str,
    tags: list[str],
    doc_md: str,
    retries: int = 2,
    retry_delay: timedelta = timedelta(minutes=5),
    backoff: bool = True,
) -> DAG:
    """A platform DAG on ``cron`` (America/Bogota) with the team as owner; use it as ``with …:``."""
    default_args = {"owner": OWNER, "retries": retries, "retry_delay": retry_delay}
    if backoff:
        default_args["retry_exponential_backoff"] = True
    return DAG(
        dag_id=dag_id,
        description=description,
        schedule=CronTriggerTimetable(cron, timezone=TIMEZONE),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=tags,
        doc_md=doc_md,
        default_args=default_args,
    )
