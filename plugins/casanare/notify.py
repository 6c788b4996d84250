"""Failure e-mails for the dependencias: cause → plain Spanish, built from metadata only.

No data value ever reaches these functions: they receive the failure's ``as_dict()`` (file,
sheet, rows, column, advice) and the run's links, never a frame.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from casanare.catalog import Dataset
from casanare.errors import CAUSAS

SUBJECT_PREFIX = "[Datos Abiertos Casanare]"

QUE_SIGNIFICA = {
    "fuente_no_encontrada": "No se encontró la fuente de datos (el archivo no está donde debería o la base de "
    "datos no respondió).",
    "archivo_con_errores": "El archivo o la consulta de origen tiene errores que impiden leerlo.",
    "calidad_de_datos": "Los datos no cumplen las reglas de calidad acordadas para este conjunto.",
    "datos_personales_detectados": "Se encontraron datos personales que no pueden publicarse (Ley 1581 de 2012).",
    "portal_no_disponible": "El portal datos.gov.co o el sitio web no respondieron durante la publicación.",
    "error_interno": "Ocurrió un error interno de la plataforma de datos abiertos.",
}


@dataclass
class RunInfo:
    """Links and facts about the failed run, resolved by the Airflow side."""

    dag_id: str
    run_id: str
    task_id: str
    log_url: str
    data_docs_url: str | None = None
    published: list[str] = field(default_factory=list)


def classify(error: BaseException | None) -> tuple[str, dict[str, Any] | None]:
    """Cause key and details from the typed exception (or one it wraps), never from its text."""
    from casanare.errors import DatosAbiertosError

    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, DatosAbiertosError):
            return error.causa, error.as_dict()
        error = error.__cause__ or error.__context__
        seen += 1
    return "error_interno", None


def failure_subject(dataset: Dataset, causa: str) -> str:
    return f"{SUBJECT_PREFIX} {dataset.nombre}: {CAUSAS.get(causa, CAUSAS['error_interno'])}"


def failure_message(
    dataset: Dataset, causa: str, detalle: dict[str, Any] | None, run: RunInfo, *, sender: str, cc: list[str]
) -> EmailMessage:
    """A multipart/alternative e-mail (text + HTML) in plain Spanish."""
    detalle = detalle or {}
    ubic = detalle.get("ubicacion") or {}
    where = _where(ubic)
    fix = detalle.get("como_corregir") or (
        "El equipo de datos abiertos ya fue notificado y revisará el registro técnico de la ejecución."
    )
    what = detalle.get("mensaje") or QUE_SIGNIFICA.get(causa, QUE_SIGNIFICA["error_interno"])
    published = (
        "Sí: " + ", ".join(run.published) + ". Lo demás quedó sin publicar."
        if run.published
        else "No. No se publicó nada: el portal y el sitio web conservan la versión anterior."
    )
    rows = [
        ("Qué pasó", QUE_SIGNIFICA.get(causa, "")),
        ("Qué falló", what),
        ("Dónde", where or "No aplica a una celda específica."),
        ("Cómo corregirlo", fix),
        ("¿Se publicó algo?", published),
        ("Registro de la ejecución", run.log_url),
    ]
    if run.data_docs_url:
        rows.append(("Informe de calidad (Data Docs)", run.data_docs_url))
    text = "\n".join(
        [f"Conjunto de datos: {dataset.nombre}", f"Dependencia: {dataset.dependencia}", ""]
        + [f"{k}: {v}" for k, v in rows]
        + ["", "Este mensaje lo envía automáticamente la plataforma de datos abiertos de la Gobernación de Casanare."]
    )
    items = "".join(
        f"<tr><th scope='row' style='text-align:left;padding:4px 8px'>{html.escape(k)}</th>"
        f"<td style='padding:4px 8px'>{_linkify(v)}</td></tr>"
        for k, v in rows
    )
    body = (
        "<!DOCTYPE html><html lang='es'><body style='font-family:sans-serif'>"
        f"<h1 style='font-size:1.2em'>{html.escape(dataset.nombre)}</h1>"
        f"<p>Dependencia: {html.escape(dataset.dependencia)}</p>"
        f"<table>{items}</table>"
        "<p style='color:#555'>Este mensaje lo envía automáticamente la plataforma de datos abiertos "
        "de la Gobernación de Casanare.</p></body></html>"
    )
    msg = EmailMessage()
    msg["Subject"] = failure_subject(dataset, causa)
    msg["From"] = sender
    msg["To"] = ", ".join(str(c) for c in dataset.contactos)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg.set_content(text)
    msg.add_alternative(body, subtype="html")
    return msg


def _where(ubic: dict[str, Any]) -> str:
    parts = []
    if ubic.get("archivo"):
        parts.append(f"archivo {ubic['archivo']}")
    if ubic.get("hoja"):
        parts.append(f"hoja \"{ubic['hoja']}\"")
    filas = ubic.get("filas") or []
    if filas:
        parts.append(("filas " if len(filas) > 1 else "fila ") + ", ".join(str(f) for f in filas[:10]))
    if ubic.get("columna"):
        parts.append(f"columna {ubic['columna']}")
    return ", ".join(parts)


def _linkify(value: str) -> str:
    escaped = html.escape(value)
    if value.startswith(("http://", "https://", "file://")):
        return f"<a href='{escaped}'>{escaped}</a>"
    return escaped
