"""Failure e-mails for the dependencias: cause → plain Spanish, built from metadata only.

No data value ever reaches these functions: they receive the failure's ``as_dict()`` (file,
sheet, rows, column, advice) and the run's links, never a frame, and never the exception text
of an unexpected error (its traceback stays in the Airflow log). The bodies are Jinja2
templates in ``include/templates/correo/`` (HTML autoescaped, plus a text alternative).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from casanare.catalog import Dataset, FuenteArchivo, FuenteSQL
from casanare.errors import CAUSAS

SUBJECT_PREFIX = "[Datos Abiertos Casanare]"

QUE_SIGNIFICA = {
    "fuente_no_encontrada": "No se encontró la fuente de datos: el archivo no está donde debería o la base de "
    "datos no respondió.",
    "archivo_con_errores": "El archivo o la consulta de origen tiene errores que impiden leerlo.",
    "calidad_de_datos": "Los datos no cumplen las reglas de calidad acordadas para este conjunto.",
    "datos_personales_detectados": "Se encontraron datos personales que no pueden publicarse (Ley 1581 de 2012).",
    "reidentificacion_posible": "Con las columnas que el catálogo publica, algunas personas podrían reconocerse "
    "(no se alcanza el k-anonimato sin suprimir demasiados datos); no se publicó nada. El archivo de la "
    "dependencia está bien: la decisión es de la plataforma.",
    "portal_no_disponible": "El portal datos.gov.co o el sitio web no respondieron durante la publicación.",
    "cambio_de_volumen": "La fuente trae muchas menos (o muchas más) filas que la última publicación; para no "
    "borrar ni duplicar datos publicados, la publicación se detuvo.",
    "error_de_configuracion": "La configuración de la plataforma (catálogo, conexiones o credenciales) impide "
    "ejecutar este conjunto.",
    "respuesta_del_portal": "El portal o el servidor del sitio respondió algo inesperado y la publicación se detuvo.",
    "error_interno": "Ocurrió un error interno de la plataforma de datos abiertos.",
}
# Advice when the failure carries none of its own.
COMO_CORREGIR = {
    "portal_no_disponible": "Revise el estado de datos.gov.co (o del servidor del sitio) y la conexión; la "
    "próxima ejecución vuelve a intentarlo. La dependencia no fue notificada.",
    "error_interno": "Revise el registro técnico de la ejecución (enlace abajo), corrija la causa y vuelva a "
    "ejecutar el DAG; la dependencia no fue notificada.",
    "error_de_configuracion": "Corrija la configuración indicada (catálogo, conexión o credencial) y vuelva a "
    "ejecutar el DAG; la dependencia no fue notificada.",
}
# What the platform team does about an HTTP status from the portal or the website server.
QUE_HACER_HTTP = {
    400: "El portal rechazó la forma de los datos: compare las columnas y tipos del catálogo con el esquema del "
    "conjunto en datos.gov.co.",
    401: "Las credenciales de la conexión datos_gov_co no son válidas: renueve el token o la clave.",
    403: "La cuenta de la conexión datos_gov_co no tiene permiso sobre el conjunto: pida permisos de edición.",
    404: "El conjunto no existe en datos.gov.co con ese identificador: revise dataset_id en el catálogo.",
    409: "El portal informa un conflicto (otra publicación en curso o un cambio de esquema): espere y reintente.",
    429: "El portal limita las peticiones: reintente más tarde o reduzca la concurrencia del pool datos_gov_co.",
}
# Causes that concern the source: the e-mail names the source file even if the error did not.
CAUSAS_DE_FUENTE = frozenset({"fuente_no_encontrada", "archivo_con_errores", "calidad_de_datos",
                              "datos_personales_detectados"})
# Publication stages recorded in the run manifest, with the name a clerk knows them by.
DESTINOS = {"publicar_datos_gov_co": "datos.gov.co", "publicar_casanare_gov_co": "casanare.gov.co"}
# Stage names shown to people.
ETAPAS = {
    "extraer": "lectura de la fuente",
    "anonimizar": "protección de datos personales",
    "validar": "validación de calidad",
    "publicar_datos_gov_co": "publicación en datos.gov.co",
    "publicar_casanare_gov_co": "publicación en casanare.gov.co",
    "cerrar": "cierre de la ejecución",
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
    otras_fallas: list[str] = field(default_factory=list)
    # The dataset's status page on the website (opens without Airflow) and "what happens next".
    estado_url: str | None = None
    informe_url: str | None = None
    que_sigue: str | None = None
    fecha_texto: str | None = None


def recipients(dataset: Dataset, detalle: dict[str, Any] | None, platform: list[str]) -> tuple[list[str], list[str]]:
    """``(to, cc)``: the dependencia (platform in copy) for its own problems, else the platform only."""
    if (detalle or {}).get("destinatario") == "dependencia":
        return [str(c) for c in dataset.contactos], platform
    return platform, []


def classify(error: BaseException | None) -> tuple[str, dict[str, Any] | None]:
    """Cause key and details from the typed exception (or one it wraps), never from its text.

    Airflow wraps permanent failures (``AirflowFailException ... from original``), so the chain
    of ``__cause__``/``__context__`` is walked until a ``DatosAbiertosError`` is found.
    """
    from casanare.errors import DatosAbiertosError

    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, DatosAbiertosError):
            detalle = error.as_dict()
            if error.causa == "error_interno" and (error.detalles or {}).get("estado_http"):
                # An HTTP answer the platform did not expect is not an "internal error": say so.
                return "respuesta_del_portal", detalle
            return error.causa, detalle
        error = error.__cause__ or error.__context__
        seen += 1
    return "error_interno", None


def log_url(base_url: str, dag_id: str, run_id: str, task_id: str, try_number: int | None = None) -> str:
    """Airflow 3 UI page of a task instance; run ids carry ``:`` and ``+`` so they are encoded."""
    url = (
        f"{base_url.rstrip('/')}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
        f"/tasks/{quote(task_id, safe='')}"
    )
    return f"{url}?try_number={int(try_number)}" if try_number else url


def published_destinations(stages: dict[str, dict[str, Any] | None]) -> list[str]:
    """Destinations whose publish stage finished ``ok`` in this run's manifest."""
    return [label for etapa, label in DESTINOS.items() if (stages.get(etapa) or {}).get("estado") == "ok"]


def failure_subject(dataset: Dataset, causa: str) -> str:
    """``[Datos Abiertos Casanare] <nombre>: <causa>`` on one line."""
    nombre = " ".join(dataset.nombre.split())
    return f"{SUBJECT_PREFIX} {nombre}: {CAUSAS.get(causa, CAUSAS['error_interno'])}"


def source_file(dataset: Dataset) -> str | None:
    """The source as a clerk names it: file path, or the SQL query file."""
    fuente = dataset.fuente
    if isinstance(fuente, FuenteArchivo):
        return fuente.ruta
    if isinstance(fuente, FuenteSQL):
        sql = dataset.ruta_sql()
        return f"consulta {sql.name} (conexión {fuente.conexion})" if sql else f"conexión {fuente.conexion}"
    return None


def where(causa: str, ubicacion: dict[str, Any], dataset: Dataset) -> str:
    """``archivo x, hoja "y", filas 4, 9, columna z`` from the failure's location."""
    parts = []
    archivo = ubicacion.get("archivo") or (source_file(dataset) if causa in CAUSAS_DE_FUENTE else None)
    if archivo:
        parts.append(f"archivo {archivo}")
    if ubicacion.get("hoja") not in (None, ""):
        parts.append(f"hoja \"{ubicacion['hoja']}\"")
    filas = [int(f) for f in ubicacion.get("filas") or []]
    if filas:
        shown = ", ".join(str(f) for f in filas[:20])
        more = f" (y {len(filas) - 20} más)" if len(filas) > 20 else ""
        parts.append(("filas " if len(filas) > 1 else "fila ") + shown + more)
    if ubicacion.get("columna"):
        parts.append(f"columna {ubicacion['columna']}")
    return ", ".join(parts)


def live_where(published: list[str]) -> str:
    """What each target shows after this run, in one sentence."""
    targets = list(DESTINOS.values())
    if not published:
        return "No. No se publicó nada: " + " y ".join(targets) + " siguen mostrando la versión anterior."
    if set(published) >= set(targets):
        return "Sí: " + " y ".join(targets) + " muestran la versión nueva."
    old = [t for t in targets if t not in published]
    return (f"Sí, en parte: se publicó en {' y '.join(published)}, que ya muestra la versión nueva; "
            f"{' y '.join(old)} sigue con la versión anterior. La próxima ejecución exitosa los iguala.")


def http_answer(detalles: dict[str, Any]) -> str | None:
    """``HTTP 403 en /api/…: qué hacer`` from a failure's details, for the platform team."""
    status = detalles.get("estado_http")
    if not status:
        return None
    ruta = f" en {detalles['ruta']}" if detalles.get("ruta") else ""
    codigo = f" (código {detalles['codigo']})" if detalles.get("codigo") else ""
    consejo = QUE_HACER_HTTP.get(int(status)) or (
        "El servidor falló: reintente más tarde y revise el estado del servicio." if int(status) >= 500
        else "Respuesta inesperada: revise el registro de la ejecución.")
    return f"HTTP {status}{ruta}{codigo}. {consejo}"


def _quality_lines(detalles: dict[str, Any]) -> list[str]:
    lines = []
    for falla in (detalles.get("fallas_criticas") or [])[:5]:
        descripcion = str(falla.get("descripcion") or "")
        count = falla.get("inesperados")
        lines.append(f"{descripcion} ({count} fila(s))" if count else descripcion)
    return [line for line in lines if line]


def message_fields(dataset: Dataset, causa: str, detalle: dict[str, Any] | None, run: RunInfo) -> dict[str, Any]:
    """Everything both templates show, as plain strings (no data values by construction)."""
    detalle = detalle or {}
    causa = causa if causa in CAUSAS else "error_interno"
    lugar = where(causa, detalle.get("ubicacion") or {}, dataset)
    # The failure's own message is metadata written by the stage; an untyped error has none
    # and its text (possibly a traceback or a value) is deliberately not used.
    que_fallo = detalle.get("mensaje") or QUE_SIGNIFICA[causa]
    calidad = _quality_lines(detalle.get("detalles") or {})
    if calidad:
        que_fallo = que_fallo + " Reglas incumplidas: " + "; ".join(calidad) + "."
    etapa = ETAPAS.get(run.task_id, run.task_id)
    publicado = live_where(run.published)
    para_plataforma = detalle.get("destinatario") != "dependencia"
    filas = [
        ("Qué pasó", QUE_SIGNIFICA[causa]),
        ("Etapa", etapa),
        ("Qué falló", que_fallo),
        ("Dónde", lugar or "No aplica a un archivo o celda específicos."),
        ("Cómo corregirlo", detalle.get("como_corregir") or COMO_CORREGIR.get(causa)
         or "Corrija la fuente y avise al equipo de datos abiertos para volver a ejecutar."),
        ("¿Se publicó algo?", publicado),
    ]
    respuesta = http_answer(detalle.get("detalles") or {})
    if respuesta:
        filas.insert(4, ("Respuesta del servidor", respuesta))
    if para_plataforma:
        filas.insert(0, ("Para", "Equipo de la plataforma de datos abiertos (la dependencia no fue notificada)"))
    if run.otras_fallas:
        filas.append(("Otras etapas que fallaron", "; ".join(run.otras_fallas)))
    enlaces = [{"etiqueta": "Registro de la ejecución en Airflow", "url": run.log_url}] if run.log_url else []
    if run.data_docs_url:
        enlaces.append({"etiqueta": "Informe de calidad (Data Docs)", "url": run.data_docs_url})
    _next_steps(filas, enlaces, run)
    return {
        "nombre": dataset.nombre,
        "dependencia": dataset.dependencia,
        "ejecucion": run.fecha_texto or run.run_id,
        "causa": CAUSAS[causa],
        "filas": filas,
        "enlaces": enlaces,
    }


def _next_steps(filas: list[tuple[str, str]], enlaces: list[dict[str, str]], run: RunInfo) -> None:
    """Add "what happens next" and the status page (first link: it opens without Airflow)."""
    if run.que_sigue:
        filas.append(("Qué pasa después", run.que_sigue))
    if run.informe_url:
        enlaces.insert(0, {"etiqueta": "Informe de calidad de esta ejecución", "url": run.informe_url})
    if run.estado_url:
        enlaces.insert(0, {"etiqueta": "Estado de publicación del conjunto", "url": run.estado_url})


@lru_cache(maxsize=4)
def _templates(folder: str):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render(name: str, **values: Any) -> str:
    """Render one template of ``include/templates/correo/``."""
    from casanare import settings

    return _templates(str(settings.include_dir() / "templates" / "correo")).get_template(name).render(**values)


def failure_message(
    dataset: Dataset, causa: str, detalle: dict[str, Any] | None, run: RunInfo, *, sender: str, cc: list[str]
) -> EmailMessage:
    """A multipart/alternative e-mail (text + HTML) in plain Spanish to whoever can fix it.

    ``cc`` is the platform team: in copy of the dependencia's problems, the only recipient of
    the platform's own (catalog, credentials, portal, servers, anything unexpected).
    """
    values = message_fields(dataset, causa, detalle, run)
    subject = failure_subject(dataset, causa)
    to, copy = recipients(dataset, detalle, cc or [sender])
    return compose(subject, sender, to, copy, "fallo", asunto=subject, equipo=", ".join(cc) or sender, **values)


PREFIJO_COPIA = "[Copia para la plataforma]"


def failure_messages(
    dataset: Dataset, causa: str, detalle: dict[str, Any] | None, run: RunInfo, *, sender: str, cc: list[str]
) -> list[EmailMessage]:
    """The failure e-mails: Airflow and Data Docs links only in the platform team's copy.

    A dependencia cannot open Airflow, so when the failure goes to its contacts it gets the
    status page and the Spanish quality report, and the team gets the same text with every
    link as a separate copy. A failure for the platform alone is one message with every link.
    """
    from dataclasses import replace

    full = failure_message(dataset, causa, detalle, run, sender=sender, cc=cc)
    team = full["Cc"]
    if not team:
        return [full]
    public = failure_message(dataset, causa, detalle, replace(run, log_url="", data_docs_url=None),
                             sender=sender, cc=cc)
    del public["Cc"]  # the team gets its own copy below, with the links the dependencia cannot open
    copy = full
    del copy["Cc"]
    copy.replace_header("To", team)
    copy.replace_header("Subject", f"{PREFIJO_COPIA} {full['Subject']}")
    return [public, copy]


def compose(
    subject: str, sender: str, to: list[str], cc: list[str], template: str, **values: Any
) -> EmailMessage:
    """An automatic multipart/alternative message from ``<template>.txt.j2`` and ``.html.j2``."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(render(f"{template}.txt.j2", **values))
    msg.add_alternative(render(f"{template}.html.j2", **values), subtype="html")
    return msg
