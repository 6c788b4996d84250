"""Platform DAG ``avisos``: overdue notices (daily) and the weekly success digest (Mondays).

Parsing reads only the catalog YAMLs; the staging area and SMTP are touched inside the tasks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import task

from casanare.clock import run_moment
from casanare.platform_dag import TIMEZONE, platform_dag

MARKER = "estado/aviso_vencido.json"
DOC_MD = """
# Avisos a las dependencias

Todos los días a las **7:00 a. m.** (hora de Bogotá):

- **`revisar_vigencia`**: compara la llegada de **datos nuevos** de cada conjunto (cambio del sha256
  de la fuente, no la última ejecución) con su frecuencia declarada en el catálogo. Si pasó más tiempo
  del permitido, envía **un** aviso a los contactos de la dependencia, con copia al equipo de datos
  abiertos: *publicación vencida*, o *sin datos nuevos* cuando las ejecuciones funcionan pero la fuente
  no cambia. Como máximo un aviso por conjunto y por periodo de su frecuencia
  (`<conjunto>/estado/aviso_vencido.json` en el área de staging). Un conjunto que aún no ha tenido su
  primera ejecución programada está en **periodo de gracia** y no recibe avisos.
- **`resumen_semanal`**: los **lunes** (o con la configuración `{"resumen": true}` al ejecutarlo a
  mano) envía a cada dependencia que tenga `resumen_exitos: semanal` en el catálogo un resumen de
  las publicaciones exitosas de los últimos 7 días.

Los conjuntos con frecuencia *eventual* no tienen vencimiento.
"""


with platform_dag(
    "avisos", cron="0 7 * * *", description="Avisos de publicación vencida y resumen semanal de publicaciones",
    tags=["plataforma", "avisos"], doc_md=DOC_MD, retries=1, backoff=False,
) as dag:

    @task(task_id="revisar_vigencia", doc_md="Envía un aviso por cada conjunto con la publicación vencida.")
    def revisar_vigencia(**context: Any) -> dict[str, Any]:
        from casanare import settings
        from casanare.catalog import load_catalog
        from casanare.dag_docs import portal_page_url, website_page_url
        from casanare.failure_notifier import mailer
        from casanare.monitor.collect import registered_at
        from casanare.overdue import check, overdue_message
        from casanare.staging import DatasetArea

        now = run_moment(context)
        pending = []
        for ds in load_catalog().priorizados:
            area = DatasetArea(settings.staging_url(), ds.slug)
            vencido = check(ds, area.history(), now, alta=registered_at(area, now))
            if vencido is None:
                continue
            previous = area.read_json(MARKER) or {}
            if previous.get("episodio") == vencido.episodio:
                continue  # already told them in this period
            pending.append((ds, area, vencido))
        sent = []
        if pending:
            with mailer() as (sender, send_message):
                for ds, area, vencido in pending:
                    links = [
                        {"etiqueta": "Ver en datos.gov.co", "url": portal_page_url(ds) or ""},
                        {"etiqueta": "Ver en casanare.gov.co", "url": website_page_url(ds) or ""},
                    ]
                    send_message(overdue_message(ds, vencido, sender=sender, cc=settings.platform_team_emails(),
                                                 links=[link for link in links if link["url"]]))
                    area.write_json(MARKER, {"episodio": vencido.episodio, "avisado": now.isoformat()})
                    sent.append(ds.slug)
        return {"avisos": sent}

    @task(task_id="resumen_semanal", trigger_rule="all_done", doc_md="Los lunes, resumen de publicaciones exitosas por dependencia.")
    def resumen_semanal(**context: Any) -> dict[str, Any]:
        from casanare import settings
        from casanare.catalog import load_catalog
        from casanare.dag_docs import portal_page_url, website_page_url
        from casanare.digest import by_dependencia, digest_message, week_summary
        from casanare.failure_notifier import mailer
        from casanare.staging import DatasetArea

        now = run_moment(context)
        forced = bool((context.get("params") or {}).get("resumen") or
                      (getattr(context.get("dag_run"), "conf", None) or {}).get("resumen"))
        if now.astimezone(pendulum.timezone(TIMEZONE)).weekday() != 0 and not forced:
            return {"resumenes": []}
        desde = now - timedelta(days=7)
        groups = by_dependencia(load_catalog().priorizados)
        sent = []
        if groups:
            with mailer() as (sender, send_message):
                for dependencia, datasets in sorted(groups.items()):
                    items = [
                        week_summary(ds, DatasetArea(settings.staging_url(), ds.slug).history(), desde, now,
                                     {"portal": portal_page_url(ds) or "", "sitio": website_page_url(ds) or ""})
                        for ds in datasets
                    ]
                    send_message(digest_message(dependencia, datasets, items, desde, now, sender=sender,
                                                cc=settings.platform_team_emails()))
                    sent.append(dependencia)
        return {"resumenes": sent}

    revisar_vigencia() >> resumen_semanal()
