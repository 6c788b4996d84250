"""Platform DAG ``instrumentos``: the plan's instruments kept current from the catalog and real state.

Parsing reads nothing (no catalog, no storage); every task resolves its connections when it runs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import task

from casanare.clock import run_moment
from casanare.platform_dag import TIMEZONE, platform_dag

DOC_MD = """
# Instrumentos de gestión de la información y Fase III

Todos los días a las **6:30 a. m.** (hora de Bogotá), desde el catálogo y el estado real de las
publicaciones (historial del área de staging y estado del sitio web):

- **`transparencia`**: publica en la sección de transparencia de casanare.gov.co el **Registro de
  Activos de Información**, el **Índice de Información Clasificada y Reservada** (Ley 1712 de 2014,
  Decreto 103 de 2015) y la **matriz de priorización** (plan 10.2 y 10.3), cada uno como página
  accesible más `.xlsx` (y `.csv`), y reconstruye el índice del catálogo con los conjuntos
  *en inventario*.
- **`evidencias_sello`**: por cada conjunto publicado, el `.xlsx` de evidencias para la postulación
  al Sello de Excelencia (Requisito / Etapa / Criterio / Evidencia / Descripción).
- **`anuncios`**: textos listos para publicar (web, Facebook, X, Instagram) cuando un conjunto es
  nuevo o sus datos cambiaron de verdad (una corrida *sin cambios* no se anuncia).
- **`resumen_comunicaciones`**: los **lunes** (o con `{"resumen": true}`), correo al equipo de
  comunicaciones con los anuncios de la semana.

Dónde quedan: `transparencia/` en el sitio; `instrumentos/` en el área de staging.
"""


with platform_dag(
    "instrumentos", cron="30 6 * * *",
    description="Registro de Activos, Índice de Información Clasificada y Reservada, priorización, Sello y anuncios",
    tags=["plataforma", "instrumentos", "transparencia"], doc_md=DOC_MD, retry_delay=timedelta(minutes=2),
) as dag:

    @task(task_id="transparencia", doc_md="Registro de Activos, Índice y priorización en el sitio web.")
    def transparencia(**context: Any) -> dict[str, Any]:
        from casanare import settings
        from casanare.catalog import load_catalog
        from casanare.connections import website_transport
        from casanare.instruments.generar import actualizar_transparencia

        transport = website_transport()
        try:
            report = actualizar_transparencia(load_catalog(), settings.staging_url(), transport, ahora=run_moment(context))
        finally:
            transport.close()
        return {"filas": report["filas"], "publicados": len(report["publicados"]),
                "avisos_priorizacion": report["avisos_priorizacion"]}

    @task(task_id="evidencias_sello", doc_md="Evidencias del Sello de Excelencia por conjunto publicado (.xlsx).")
    def evidencias_sello() -> dict[str, Any]:
        from casanare import settings
        from casanare.catalog import load_catalog
        from casanare.connections import website_transport
        from casanare.instruments.generar import evidencias_sello as generar

        transport = website_transport()
        try:
            written = generar(load_catalog(), settings.staging_url(), transport)
        finally:
            transport.close()
        return {"evidencias": [f"{w['conjunto']}: {w['resultado']}" for w in written]}

    @task(task_id="anuncios", doc_md="Textos de la Fase III para los conjuntos nuevos o con datos que cambiaron.")
    def anuncios(**context: Any) -> dict[str, Any]:
        from casanare import settings
        from casanare.catalog import load_catalog
        from casanare.instruments.generar import anunciar

        written = anunciar(load_catalog(), settings.staging_url(), ahora=run_moment(context))
        return {"anuncios": [f"{a['conjunto']} ({a['tipo']})" for a in written]}

    @task(task_id="resumen_comunicaciones", doc_md="Los lunes, correo al equipo de comunicaciones con los anuncios.")
    def resumen_comunicaciones(**context: Any) -> dict[str, Any]:
        from casanare import settings
        from casanare.failure_notifier import mailer
        from casanare.instruments.anuncios import de_la_semana
        from casanare.instruments.generar import instrumentos_storage
        from casanare.instruments.generar import resumen_comunicaciones as componer

        now = run_moment(context)
        forced = bool((getattr(context.get("dag_run"), "conf", None) or {}).get("resumen"))
        if now.astimezone(pendulum.timezone(TIMEZONE)).weekday() != 0 and not forced:
            return {"enviado": False, "motivo": "solo los lunes"}
        desde, hasta = now - timedelta(days=7), now + timedelta(seconds=1)
        if not de_la_semana(instrumentos_storage(settings.staging_url()), desde, hasta):
            return {"enviado": False, "motivo": "sin anuncios en la semana"}
        with mailer() as (sender, send_message):
            send_message(componer(settings.staging_url(), desde, hasta, sender=sender,
                                  to=settings.communications_emails(), cc=settings.platform_team_emails()))
        return {"enviado": True}

    transparencia() >> evidencias_sello() >> anuncios() >> resumen_comunicaciones()
