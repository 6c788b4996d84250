"""Platform DAG ``vigilancia_fuentes``: re-run datasets when their source file changes.

Eventual datasets run whenever their file changes; periodic ones run early when their last run
failed because of the file and a corrected file (a new sha256) has arrived.

Every 15 minutes one task per eventual dataset (with a file source) compares the file with the
last value it saw. A changed file makes the task succeed, which emits the file's asset event and
queues that dataset's DAG (scheduled on the asset by ``casanare.factory.schedule_for``); an
unchanged file makes the task skip, and a skipped task emits no asset event.

Parsing reads only the catalog YAMLs: the files themselves are read inside the tasks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from casanare.catalog import load_catalog
from casanare.extract.vigilancia import es_vigilable, vigila_correccion
from casanare.factory import source_asset
from casanare.platform_dag import OWNER

DOC_MD = """
# Vigilancia de fuentes eventuales

Revisa cada **15 minutos** los archivos fuente de los conjuntos de datos con frecuencia
**eventual** (por demanda). Si un archivo cambió de contenido desde la última revisión, la tarea
`revisar_<conjunto>` termina en **éxito** y dispara el DAG de ese conjunto; si no cambió, la tarea
queda **omitida** (skipped) y no se dispara nada.

- Primero compara tamaño y fecha de modificación; solo si cambiaron calcula el sha256, de modo que
  volver a copiar el mismo archivo no dispara una publicación.
- La primera revisión compara con el sha256 de la última ejecución exitosa del conjunto.
- El último valor visto se guarda en el área de staging (`<conjunto>/estado/vigilancia.json`).
- Un archivo que no existe no dispara nada; el DAG del conjunto se puede ejecutar a mano.

También vigila los conjuntos **periódicos** con fuente de archivo cuya última ejecución **falló por
el archivo** (no se encontró, tenía errores, no cumplió la calidad o traía datos personales): cuando
la dependencia deja un archivo corregido (contenido distinto del que falló), el conjunto se vuelve a
ejecutar solo, sin esperar a su próxima fecha programada.

Conjuntos vigilados: {conjuntos}
"""

_vigilados = [d for d in load_catalog().priorizados if es_vigilable(d) or vigila_correccion(d)]

with DAG(
    dag_id="vigilancia_fuentes",
    dag_display_name="Vigilancia de archivos fuente",
    description="Programación: cada 15 minutos. Vuelve a ejecutar un conjunto cuando llega un archivo nuevo "
    "o corregido.",
    schedule="*/15 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="America/Bogota"),
    catchup=False,
    max_active_runs=1,
    tags=["plataforma", "frecuencia:eventual"],
    doc_md=DOC_MD.format(conjuntos=", ".join(f"`{d.slug}`" for d in _vigilados) or "ninguno"),
    default_args={
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
    },
) as dag:
    for _ds in _vigilados:

        @task(
            task_id=f"revisar_{_ds.slug}",
            outlets=[source_asset(_ds)],
            doc_md=f"Revisa si cambió (o llegó corregido) el archivo fuente de **{_ds.nombre}**; si es así, "
            "dispara su DAG.",
        )
        def revisar(slug: str = _ds.slug, **context: Any) -> dict[str, Any]:
            from airflow.sdk.exceptions import AirflowSkipException

            from casanare import settings
            from casanare.catalog import load_catalog as cargar
            from casanare.extract.vigilancia import revisar_fuente
            from casanare.staging import DatasetArea

            ds = cargar().get(slug)
            resultado = revisar_fuente(ds, DatasetArea(settings.staging_url(), slug))
            if not resultado["cambio"]:
                raise AirflowSkipException(f"{resultado['archivo']}: sin cambios ({resultado['motivo']})")
            return resultado

        revisar()
