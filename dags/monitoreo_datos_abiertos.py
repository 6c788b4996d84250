"""Platform DAG ``monitoreo_datos_abiertos``: Fase IV of the plan (monitor quality and use), daily.

Parsing touches nothing: the catalog, staging, portal, access log and history database are read
inside the tasks; the logic lives in ``casanare.monitor``.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import task

from casanare.clock import run_moment
from casanare.platform_dag import platform_dag

SNAPSHOT_FOLDER = "_monitoreo"
DOC_MD = """
# Monitoreo de datos abiertos (Fase IV del plan)

Todos los días a las **6:00 a. m.** (hora de Bogotá):

1. **`medir`**: para cada conjunto priorizado calcula
   - la **frescura** frente a su frecuencia declarada, según la llegada de **datos nuevos** (cambio del
     sha256 de la fuente; o `rowsUpdatedAt` del portal si la plataforma no tiene historial):
     *al día*, *por vencer*, *vencido* o *sin publicar* (con periodo de gracia hasta su primera
     ejecución programada);
   - el **uso**: vistas y descargas de datos.gov.co (`/api/views/<id>.json`, conexión `datos_gov_co`) y
     del sitio web (registro de acceso, extra `registro_acceso` de la conexión `casanare_gov_co`),
     descargas por vista y tendencias a 30 y 90 días;
   - la **calidad** (puntaje MinTIC y Sello de Excelencia de la última publicación), la **deriva** de
     metadatos del portal frente al catálogo y los **hallazgos** abiertos;
   - los **indicadores** de la sección 13 del plan (con `include/registros/`: solicitudes, usos, hallazgos).

   Guarda una fila por conjunto y por día en la base de historial (conexión `monitoreo_historial`).
2. **`publicar_tablero`**: publica en el sitio web el **tablero de control** (`tablero/index.html`), sus
   datos (`tablero/monitoreo.json`), el panel de uso de cada conjunto y el **seguimiento trimestral**
   (`tablero/seguimiento/seguimiento-<año>-T<n>.xlsx`).

Los avisos de publicación vencida a las dependencias los envía el DAG `avisos`, con la misma regla.
"""


with platform_dag(
    "monitoreo_datos_abiertos", cron="0 6 * * *",
    description="Frescura, uso, calidad e indicadores del plan; tablero de control y seguimiento trimestral",
    tags=["plataforma", "monitoreo"], doc_md=DOC_MD,
) as dag:

    @task(task_id="medir", doc_md="Mide frescura, uso, calidad, deriva e indicadores y los guarda en el historial.")
    def medir(**context: Any) -> dict[str, Any]:
        from casanare import settings
        from casanare.catalog import load_catalog
        from casanare.connections import monitoring_history_url, portal_endpoint, website_access_log
        from casanare.monitor.history import engine
        from casanare.monitor.registries import load_registries
        from casanare.monitor.run import SNAPSHOT, measure, snapshot_bytes
        from casanare.staging import Storage

        catalog = load_catalog()
        registros = load_registries(slugs={d.slug for d in catalog.datasets})
        eng = engine(monitoring_history_url())
        try:
            snapshot = measure(
                catalog, now=run_moment(context), staging_url=settings.staging_url(), engine=eng, registros=registros,
                endpoint=portal_endpoint(), access_log=website_access_log(),
            )
        finally:
            eng.dispose()
        folder = Storage(f"{settings.staging_url().rstrip('/')}/{SNAPSHOT_FOLDER}")
        folder.write_bytes(f"{snapshot['fecha']}.json", snapshot_bytes(snapshot))
        folder.write_bytes(SNAPSHOT, snapshot_bytes(snapshot))
        estados: dict[str, int] = {}
        for row in snapshot["conjuntos"].values():
            estados[row["estado"]] = estados.get(row["estado"], 0) + 1
        return {"fecha": snapshot["fecha"], "conjuntos": len(snapshot["conjuntos"]), "estados": estados}

    @task(task_id="publicar_tablero", doc_md="Publica el tablero de control, los paneles y el seguimiento trimestral.")
    def publicar_tablero(**context: Any) -> dict[str, Any]:
        import json

        from casanare import settings
        from casanare.catalog import load_catalog
        from casanare.connections import monitoring_history_url, website_transport
        from casanare.monitor.history import engine
        from casanare.monitor.registries import load_registries
        from casanare.monitor.run import SNAPSHOT, render
        from casanare.staging import Storage

        snapshot = json.loads(Storage(f"{settings.staging_url().rstrip('/')}/{SNAPSHOT_FOLDER}").read_bytes(SNAPSHOT))
        registros = load_registries(slugs={d.slug for d in load_catalog().datasets})
        eng = engine(monitoring_history_url())
        transport = website_transport()
        try:
            return render(snapshot, engine=eng, registros=registros, transport=transport)
        finally:
            transport.close()
            eng.dispose()

    medir() >> publicar_tablero()
