"""Platform DAG ``retencion_datos_crudos``: delete raw personal-data copies after their retention.

Parsing reads nothing; the catalog and the staging area are read inside the task. The logic is in
``casanare.retention`` (plain functions); this file only wires it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import task

from casanare.clock import run_moment
from casanare.platform_dag import platform_dag

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
    """The run's moment, or the ``fecha`` an operator gave in the trigger conf."""
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    if conf.get("fecha"):
        return datetime.fromisoformat(str(conf["fecha"])).astimezone(UTC)
    return run_moment(context)


with platform_dag(
    "retencion_datos_crudos", cron="0 2 * * *",
    description="Borra los datos crudos con datos personales cuando vence su plazo de retención",
    tags=["plataforma", "privacidad", "retención"], doc_md=DOC_MD,
) as dag:

    @task(task_id="depurar_datos_crudos", doc_md="Borra original/ y extraido.parquet vencidos; registra conteos.")
    def depurar_datos_crudos(**context: Any) -> dict[str, Any]:
        from casanare import settings
        from casanare.catalog import load_catalog
        from casanare.retention import purge_expired

        return purge_expired(settings.staging_url(), load_catalog(), now=_now(context)).as_dict()

    depurar_datos_crudos()
