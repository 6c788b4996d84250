"""Platform DAG ``retencion_datos_crudos``: delete raw personal-data copies after their retention.

Parsing reads nothing; the catalog and the staging area are read inside the task. The logic is in
``casanare.retention`` (plain functions); this file only wires it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, task
from airflow.timetables.trigger import CronTriggerTimetable

OWNER = "Equipo de Datos Abiertos"
TIMEZONE = "America/Bogota"
DOC_MD = """
# Retención de datos crudos

Todos los días a las **2:00 a. m.** (hora de Bogotá), **`depurar_datos_crudos`** borra del área de
staging las copias con datos personales de las ejecuciones cuyo plazo venció: la carpeta
`original/` (el archivo fuente archivado) y `extraido.parquet` (la tabla extraída, antes de
anonimizar). El plazo es `retencion_dias` de cada conjunto en el catálogo (por defecto 30 días,
contados desde la extracción).

- Se conservan `anonimizado.parquet`, las versiones publicadas y los manifiestos.
- En el manifiesto de cada ejecución depurada queda la evidencia: nombre, tamaño y SHA-256 de cada
  archivo borrado, además de los conteos y el hash de la fuente que ya tenía.
- En las fuentes SQL incrementales se conserva la tabla extraída de la última ejecución exitosa,
  porque la próxima carga le agrega el incremento.
- El registro de la tarea solo muestra conteos, nunca datos ni nombres de archivos.

Configuración opcional al ejecutarlo a mano: `{"fecha": "2026-12-31T00:00:00+00:00"}` evalúa los
plazos como si fuera esa fecha.
"""


def _now(context: dict[str, Any]) -> datetime:
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    if conf.get("fecha"):
        return datetime.fromisoformat(str(conf["fecha"])).astimezone(UTC)
    dag_run = context.get("dag_run")
    when = getattr(dag_run, "run_after", None) or context.get("logical_date") or datetime.now(UTC)
    return when.astimezone(UTC)


with DAG(
    dag_id="retencion_datos_crudos",
    description="Borra los datos crudos con datos personales cuando vence su plazo de retención",
    schedule=CronTriggerTimetable("0 2 * * *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    tags=["plataforma", "privacidad", "retención"],
    doc_md=DOC_MD,
    default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(minutes=5),
                  "retry_exponential_backoff": True},
) as dag:

    @task(task_id="depurar_datos_crudos", doc_md="Borra original/ y extraido.parquet vencidos; registra conteos.")
    def depurar_datos_crudos(**context: Any) -> dict[str, Any]:
        from casanare import settings
        from casanare.catalog import load_catalog
        from casanare.retention import purge_expired

        return purge_expired(settings.staging_url(), load_catalog(), now=_now(context)).as_dict()

    depurar_datos_crudos()
