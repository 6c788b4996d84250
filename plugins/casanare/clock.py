"""Time of the DAGs: their zone and start date, and the moment a run stands for (``run_after``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pendulum

TIMEZONE = "America/Bogota"
START = pendulum.datetime(2026, 1, 1, tz=TIMEZONE)


def run_moment(context: dict[str, Any]) -> datetime:
    """``run_after`` of the DAG run (the scheduled moment, or "now" for a manual run), in UTC.

    Using the run's moment instead of the wall clock keeps a delayed or re-run task measuring the
    day it was scheduled for.
    """
    dag_run = context.get("dag_run")
    when = getattr(dag_run, "run_after", None) or context.get("logical_date") or datetime.now(UTC)
    return when.astimezone(UTC)
