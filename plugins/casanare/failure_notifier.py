"""Task-level failure notifier: one plain-Spanish e-mail per failed run through ``smtp_default``.

Retries call ``on_retry_callback``, not this one, so a task that fails after its retries sends
one mail. DAG-level notifiers break ``airflow dags test`` in 3.3.2, hence task level. The two
publish tasks run in parallel and may both fail in the same run: the first one to fail creates
``notificado.json`` in the run's staging area with exclusive-create semantics (``xb``) and is the
only one that sends; the other only logs.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)

MARKER = "notificado.json"


def claim_notification(area: Any, info: dict[str, Any]) -> bool:
    """Create the run's notification marker; False if another task already did.

    ``xb`` maps to ``O_CREAT|O_EXCL`` on a local disk and to a conditional put on object stores
    that support it, so two tasks racing on the same run cannot both win.
    """
    try:
        target = area._fs_path(MARKER)
        fs = area.fs
        fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        with fs.open(target, "xb") as fh:
            fh.write(json.dumps(info, ensure_ascii=False).encode("utf-8"))
    except FileExistsError:
        return False
    except Exception:
        # Staging unreachable: a possible duplicate mail is better than no mail at all.
        log.warning("No se pudo crear la marca de notificación; se envía el correo de todas formas", exc_info=True)
    return True


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
        from casanare.dag_docs import public_data_docs_url
        from casanare.notify import (
            DESTINOS,
            ETAPAS,
            RunInfo,
            classify,
            failure_messages,
            log_url,
            published_destinations,
        )
        from casanare.tasks import areas, dataset

        ds = dataset(self.slug)
        ti = context["ti"]
        run_id = context["run_id"]
        causa, detalle = classify(context.get("exception"))
        area, _ = areas(self.slug, run_id)
        claimed = claim_notification(
            area,
            {"tarea": ti.task_id, "causa": causa, "fecha": datetime.now(UTC).isoformat(timespec="seconds")},
        )
        if not claimed:
            log.info("La ejecución %s ya notificó su falla; no se envía otro correo (tarea %s, causa %s)",
                     run_id, ti.task_id, causa)
            return
        try:
            stages = {etapa: area.stage(etapa) for etapa in (*ETAPAS, *DESTINOS)}
        except Exception:  # the mail still goes out; it just can't say which stages ran
            log.warning("No se pudo leer el manifiesto de la ejecución", exc_info=True)
            stages = {}
        validated = stages.get("validar") or {}
        docs = validated.get("data_docs") or ((validated.get("error") or {}).get("detalles") or {}).get("data_docs")
        others = [
            ETAPAS.get(etapa, etapa)
            for etapa, result in stages.items()
            if etapa != ti.task_id and (result or {}).get("estado") == "fallido"
        ]
        run = RunInfo(
            dag_id=ti.dag_id,
            run_id=run_id,
            task_id=ti.task_id,
            log_url=log_url(settings.airflow_base_url(), ti.dag_id, run_id, ti.task_id,
                            getattr(ti, "try_number", None)),
            data_docs_url=public_data_docs_url(docs),
            published=published_destinations(stages),
            otras_fallas=others,
            **_next_steps(ds, causa, run_id, bool(validated)),
        )
        with SmtpHook(smtp_conn_id=self.smtp_conn_id) as hook:
            sender = sender_address(hook)
            messages = failure_messages(ds, causa, detalle, run, sender=sender, cc=settings.platform_team_emails())
            # The hook's own send_email_smtp only builds HTML bodies; a clerk's mail client
            # deserves the text alternative too, so the prepared client sends our MIME message.
            for message in messages:
                hook._smtp_client.send_message(message)
        # Who was told, for the run note and the status page (addresses only, never data).
        area.write_json("correo.json", {"para": _addresses(messages[0]["To"]),
                                        "copia": [a for m in messages[1:] for a in _addresses(m["To"])]})
        log.info("Correo de fallo enviado para %s (causa %s, tarea %s, para %s)", self.slug, causa, ti.task_id,
                 (detalle or {}).get("destinatario", "plataforma"))




def _addresses(header: str | None) -> list[str]:
    return [a.strip() for a in (header or "").split(",") if a.strip()]


def _next_steps(ds: Any, causa: str, run_id: str, validated: bool) -> dict[str, Any]:
    """Status page, "what happens next" and the run's time in Bogotá, for the e-mail."""
    from casanare import settings
    from casanare.publish.site.estado import report_url, status_url
    from casanare.publish.site.schedule import fecha_larga
    from casanare.resumen import que_sigue
    from casanare.staging import safe_run_id

    now = datetime.now(UTC)
    return {
        "estado_url": status_url(ds),
        # Written by the run's closing task moments after this mail leaves.
        "informe_url": report_url(ds, safe_run_id(run_id)) if validated else None,
        "que_sigue": que_sigue(ds, causa, now, ", ".join(settings.platform_team_emails())),
        "fecha_texto": fecha_larga(now, con_dia=True) + " (hora de Colombia)",
    }


@contextmanager
def mailer(smtp_conn_id: str = "smtp_default") -> Iterator[tuple[str, Callable[[Any], Any]]]:
    """One SMTP session through the Airflow connection: ``(sender, send_message)``.

    Used by the ``avisos`` DAG to send several prepared MIME messages (text + HTML kept).
    """
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=smtp_conn_id) as hook:
        yield sender_address(hook), hook._smtp_client.send_message


def sender_address(hook: Any = None) -> str:
    """``from_email`` of the SMTP connection, else ``CASANARE_MAIL_FROM``."""
    return (getattr(hook, "from_email", None) if hook else None) or os.environ.get(
        "CASANARE_MAIL_FROM", "datos.abiertos@casanare.gov.co"
    )
