"""Airflow plugin: "Ver en datos.gov.co", "Ver en casanare.gov.co" and "Data Docs" buttons.

In Airflow 3 the API server renders extra links from the metadata database, never by running
DAG code: the publish and validate tasks push each URL as a small XCom (keys in ``XCOM_KEYS``)
and these links read it back for the task instance being shown. ``@task`` operators are all the
same class (``_PythonDecoratedOperator``), so the links are registered as *global* links and
answer an empty string (a disabled button) on tasks that have no such URL.

This file sits at the top of the plugins folder; ``plugins/.airflowignore`` keeps the plugin
manager out of the ``casanare/`` package, which is imported as a normal package instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin
from airflow.sdk import BaseOperatorLink

log = logging.getLogger(__name__)

# XCom key pushed by a task → which task of the same run pushes it.
XCOM_KEYS: dict[str, tuple[str, ...]] = {
    "enlace_datos_gov_co": ("publicar_datos_gov_co",),
    "enlace_casanare_gov_co": ("publicar_casanare_gov_co",),
    "enlace_data_docs": ("validar",),
}
# Tasks on which each button is offered (the others get a disabled button).
TASKS_WITH_LINK: dict[str, tuple[str, ...]] = {
    "enlace_datos_gov_co": ("publicar_datos_gov_co",),
    "enlace_casanare_gov_co": ("publicar_casanare_gov_co",),
    "enlace_data_docs": ("validar", "publicar_datos_gov_co", "publicar_casanare_gov_co"),
}


def read_link(dag_id: str, run_id: str, task_id: str, key: str, map_index: int = -1) -> str:
    """The URL stored as XCom ``key`` by ``task_id`` in the run, or "" when there is none."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.execute(
            XComModel.get_many(
                key=key, run_id=run_id, dag_ids=dag_id, task_ids=task_id, map_indexes=map_index
            ).with_only_columns(XComModel.value)
        ).first()
    if not row:
        return ""
    value: Any = row[0]
    with contextlib.suppress(TypeError, ValueError):
        value = json.loads(value)
    # Only web addresses are offered as links: anything else in that key is ignored.
    # Only web addresses: Airflow 3.3's UI shows no button for any other scheme (file:// included).
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else ""


def _bogota_middleware() -> Any:
    from casanare.zona_horaria_ui import ZonaHorariaPorDefecto

    return ZonaHorariaPorDefecto


class _XComUrlLink(BaseOperatorLink):
    """A button whose URL a task of the same run pushed as XCom ``key``."""

    key: str = ""

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        if operator.task_id not in TASKS_WITH_LINK[self.key]:
            return ""
        source_task = operator.task_id if operator.task_id in XCOM_KEYS[self.key] else XCOM_KEYS[self.key][0]
        map_index = ti_key.map_index if source_task == operator.task_id else -1
        try:
            return read_link(ti_key.dag_id, ti_key.run_id, source_task, self.key, map_index)
        except Exception:  # a missing link must never break the task view
            log.exception("No se pudo leer el enlace %s", self.key)
            return ""


class VerEnDatosGovCo(_XComUrlLink):
    """The dataset's page on datos.gov.co."""

    name = "Ver en datos.gov.co"
    key = "enlace_datos_gov_co"


class VerEnCasanareGovCo(_XComUrlLink):
    """The dataset's page in the open-data section of casanare.gov.co."""

    name = "Ver en casanare.gov.co"
    key = "enlace_casanare_gov_co"


class DataDocs(_XComUrlLink):
    """The Great Expectations Data Docs page of the run's validation."""

    name = "Data Docs"
    key = "enlace_data_docs"


class CasanareLinksPlugin(AirflowPlugin):
    """Registers the three extra links for every DAG of the platform, and Bogotá time in the UI."""

    name = "casanare_enlaces"
    global_operator_extra_links: ClassVar[list[BaseOperatorLink]] = [VerEnDatosGovCo(), VerEnCasanareGovCo(), DataDocs()]
    # Airflow 3 has no default_ui_timezone: see casanare/zona_horaria_ui.py.
    fastapi_root_middlewares: ClassVar[list[dict[str, Any]]] = [
        {"middleware": _bogota_middleware(), "args": [], "kwargs": {}, "name": "Hora de Colombia en la interfaz"},
    ]
