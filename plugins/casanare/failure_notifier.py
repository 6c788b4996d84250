"""Task-level failure notifier: one plain-Spanish e-mail per failed run through ``smtp_default``.

Retries call ``on_retry_callback``, not this one, so a run that fails after retries sends one
mail. DAG-level notifiers break ``airflow dags test`` in 3.3.2, hence task level.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)


class NotificadorFallo(BaseNotifier):
    """Send the dependencia a failure e-mail classified from the typed exception."""

    template_fields = ()

    def __init__(self, slug: str, smtp_conn_id: str = "smtp_default") -> None:
        super().__init__()
        self.slug = slug
        self.smtp_conn_id = smtp_conn_id

    def notify(self, context: dict[str, Any]) -> None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        from casanare import settings
        from casanare.notify import RunInfo, classify, failure_message
        from casanare.tasks import areas, dataset

        ds = dataset(self.slug)
        ti = context["ti"]
        run_id = context["run_id"]
        causa, detalle = classify(context.get("exception"))
        area, _ = areas(self.slug, run_id)
        validated = area.stage("validar") or {}
        docs = validated.get("data_docs") or ((validated.get("error") or {}).get("detalles") or {}).get("data_docs")
        published = [
            label
            for etapa, label in (("publicar_datos_gov_co", "datos.gov.co"), ("publicar_casanare_gov_co", "casanare.gov.co"))
            if (area.stage(etapa) or {}).get("estado") == "ok"
        ]
        log_url = (
            f"{settings.airflow_base_url()}/dags/{ti.dag_id}/runs/{run_id}/tasks/{ti.task_id}"
            f"?try_number={getattr(ti, 'try_number', 1)}"
        )
        run = RunInfo(dag_id=ti.dag_id, run_id=run_id, task_id=ti.task_id, log_url=log_url,
                      data_docs_url=docs, published=published)
        with SmtpHook(smtp_conn_id=self.smtp_conn_id) as hook:
            sender = hook.from_email or os.environ.get("CASANARE_MAIL_FROM", "datos.abiertos@casanare.gov.co")
            message = failure_message(ds, causa, detalle, run, sender=sender, cc=settings.platform_team_emails())
            # The hook's own send_email_smtp only builds HTML bodies; a clerk's mail client
            # deserves the text alternative too, so the prepared client sends our MIME message.
            hook._smtp_client.send_message(message)  # noqa: SLF001
        log.info("Correo de fallo enviado para %s (causa %s)", self.slug, causa)
