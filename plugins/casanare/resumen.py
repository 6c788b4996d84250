"""What one run did, in Spanish: the attempt record, the run note and "what happens next".

Built only from the run's stage results in staging (counts, hashes, causes, advice) and the
catalog: no data value ever reaches these functions, so the note, the status page and the
quality report carry no personal data by construction. No Airflow import.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casanare.catalog import Dataset, FuenteArchivo
from casanare.errors import CAUSAS
from casanare.notify import CAUSAS_DE_FUENTE, DESTINOS, ETAPAS, QUE_SIGNIFICA, where
from casanare.publish.site.schedule import fecha_larga, proxima_actualizacion_texto

# Minutes between two checks of ``vigilancia_fuentes`` (its cron is */15).
MINUTOS_VIGILANCIA = 15
# Airflow's REST API refuses a DAG run note longer than this (``max_length=1000``).
NOTA_MAXIMA = 1000


def _miles(value: Any) -> str:
    return f"{value:,}".replace(",", ".") if isinstance(value, int) else "—"


def reintento_con_archivo(ds: Dataset, causa: str | None) -> bool:
    """True when a corrected source file re-runs the dataset by itself (watched by vigilancia_fuentes)."""
    return bool(ds.priorizado and isinstance(ds.fuente, FuenteArchivo) and causa in CAUSAS_DE_FUENTE)


def que_sigue(ds: Dataset, causa: str | None, ahora: datetime, contacto_plataforma: str) -> str:
    """Plain-Spanish "what happens next" after a failure: automatic re-run, next run, or whom to ask."""
    proxima = proxima_actualizacion_texto(ds.frecuencia_actualizacion, ahora)
    programada = (f"La próxima ejecución programada es el {proxima}." if ds.cron
                  else "Este conjunto no tiene fecha programada: se ejecuta cuando llega un archivo nuevo.")
    if reintento_con_archivo(ds, causa):
        assert isinstance(ds.fuente, FuenteArchivo)
        return (f"Cuando guarde el archivo corregido en la misma ubicación ({ds.fuente.ruta}), la plataforma lo "
                f"detecta en menos de {MINUTOS_VIGILANCIA} minutos y vuelve a ejecutar el conjunto sola; no hace "
                f"falta avisar a nadie. {programada}")
    if causa in CAUSAS_DE_FUENTE:
        return (f"Corrija los datos en la fuente. {programada} Si necesita publicar antes, escriba al equipo de "
                f"datos abiertos ({contacto_plataforma}) para que lo ejecute a mano.")
    return (f"No requiere acción de la dependencia: el equipo de datos abiertos ya fue avisado. {programada}")


def attempt_record(
    ds: Dataset,
    stages: dict[str, dict[str, Any] | None],
    *,
    run_id: str,
    fecha: datetime,
    notificado: dict[str, Any] | None,
    avisados: list[str],
    sha256_fuente: str | None,
    contacto_plataforma: str,
) -> dict[str, Any]:
    """The last attempt of a dataset, as the status page, the note and vigilancia read it."""
    extraer = stages.get("extraer") or {}
    validar = stages.get("validar") or {}
    portal = stages.get("publicar_datos_gov_co") or {}
    sitio = stages.get("publicar_casanare_gov_co") or {}
    exito = (stages.get("cerrar") or {}).get("estado") == "ok"
    fallida = next((e for e in ETAPAS if (stages.get(e) or {}).get("estado") == "fallido"), None)
    error = (stages.get(fallida) or {}).get("error") or {} if fallida else {}
    causa = (notificado or {}).get("causa") or error.get("causa") or (None if exito else "error_interno")
    causa = causa if causa in CAUSAS or causa is None else "error_interno"
    record: dict[str, Any] = {
        "conjunto": ds.slug,
        "ejecucion": run_id,
        "fecha": fecha.isoformat(timespec="seconds"),
        "fecha_texto": fecha_larga(fecha, con_dia=True) + " (hora de Colombia)",
        "resultado": "exito" if exito else "fallido",
        "filas_leidas": extraer.get("filas"),
        "filas_publicables": (stages.get("anonimizar") or {}).get("filas"),
        "filas_enviadas": portal.get("filas_enviadas"),
        "filas_en_portal": portal.get("filas_en_portal"),
        "sin_cambios": bool(extraer.get("sin_cambios")),
        "calidad": _calidad(validar),
        "destinos": _destinos(portal, sitio),
        "sha256_fuente": extraer.get("sha256") or sha256_fuente,
        "proxima": proxima_actualizacion_texto(ds.frecuencia_actualizacion, fecha) if ds.cron else None,
    }
    if not exito:
        record.update(
            etapa=ETAPAS.get(fallida or "", fallida or "desconocida"),
            causa=causa,
            causa_texto=CAUSAS.get(causa, CAUSAS["error_interno"]),
            que_paso=QUE_SIGNIFICA.get(causa, QUE_SIGNIFICA["error_interno"]),
            # Messages and advice are written by the stages from metadata (file, sheet, rows,
            # column, rule); an unexpected error's own text is never used (see casanare.notify).
            que_fallo=error.get("mensaje") if error.get("causa") in CAUSAS else None,
            donde=where(causa, error.get("ubicacion") or {}, ds) or None,
            como_corregir=error.get("como_corregir"),
            avisados=avisados if notificado else [],
            reintento_con_archivo=reintento_con_archivo(ds, causa),
            que_sigue=que_sigue(ds, causa, fecha, contacto_plataforma),
        )
    return record


def _calidad(validar: dict[str, Any]) -> dict[str, Any] | None:
    if not validar or "evaluadas" not in validar:
        detalles = ((validar or {}).get("error") or {}).get("detalles") or {}
        return {"exito": False, "fallas_criticas": len(detalles.get("fallas_criticas") or [])} if detalles else None
    puntaje = validar.get("puntaje_mintic") or {}
    return {
        "exito": bool(validar.get("exito")),
        "evaluadas": validar.get("evaluadas"),
        "fallidas": validar.get("fallidas"),
        "advertencias": len(validar.get("advertencias") or []),
        "puntaje": (puntaje.get("promedio") or puntaje.get("puntaje_promedio")) if isinstance(puntaje, dict) else None,
    }


def _destinos(portal: dict[str, Any], sitio: dict[str, Any]) -> dict[str, str]:
    """One sentence per target saying what changed there in this run."""
    textos = {}
    for etapa, info in (("publicar_datos_gov_co", portal), ("publicar_casanare_gov_co", sitio)):
        label = DESTINOS[etapa]
        estado = info.get("estado")
        if estado == "ok" and etapa == "publicar_datos_gov_co":
            diff = info.get("diff") or {}
            textos[label] = (f"{_miles(diff.get('nuevas', 0))} filas nuevas, {_miles(diff.get('cambiadas', 0))} "
                             f"cambiadas, {_miles(diff.get('borradas', 0))} borradas; "
                             f"{_miles(info.get('filas_en_portal'))} filas publicadas en total.")
        elif estado == "ok":
            textos[label] = f"versión {info.get('version')} con {_miles(info.get('filas'))} filas."
        elif estado == "omitido":
            textos[label] = "sin cambios: la fuente es igual a la última publicada."
        elif estado == "fallido":
            textos[label] = "no se publicó (falló); conserva la versión anterior."
        else:
            textos[label] = "no se publicó; conserva la versión anterior."
    return textos


def run_note(record: dict[str, Any], links: dict[str, str]) -> str:
    """The DAG run note (Markdown, shown in the Airflow UI) for operators."""
    lines = []
    if record["resultado"] == "exito":
        lines.append(f"**Ejecución exitosa** · {record['fecha_texto']}")
    else:
        lines.append(f"**Ejecución fallida** en la etapa *{record['etapa']}* · {record['fecha_texto']}")
        lines.append("")
        lines.append(f"- **Causa:** {record['causa_texto']}. {record.get('que_fallo') or record['que_paso']}")
        if record.get("donde"):
            lines.append(f"- **Dónde:** {record['donde']}")
        avisados = record.get("avisados") or []
        lines.append("- **Avisados por correo:** " + (", ".join(avisados) if avisados else "nadie (sin correo)"))
        lines.append(f"- **Qué sigue:** {record['que_sigue']}")
    lines.append("")
    lines.append(f"- **Filas leídas de la fuente:** {_miles(record.get('filas_leidas'))}")
    lines.append(f"- **Filas publicables (tras anonimizar):** {_miles(record.get('filas_publicables'))}")
    lines.append(f"- **Filas enviadas a datos.gov.co:** {_miles(record.get('filas_enviadas'))}")
    calidad = record.get("calidad")
    if calidad and "evaluadas" in calidad:
        puntaje = f"; puntaje MinTIC {calidad['puntaje']}/10" if calidad.get("puntaje") is not None else ""
        lines.append(f"- **Calidad:** {calidad['evaluadas']} reglas, {calidad['fallidas']} sin cumplir"
                     f" ({calidad['advertencias']} advertencias){puntaje}")
    for destino, texto in record["destinos"].items():
        lines.append(f"- **{destino}:** {texto}")
    note = "\n".join(lines)
    # Links while they fit (the status page first); the summary itself is never cut for them.
    shown = []
    for label, url in links.items():
        candidate = " · ".join([*shown, f"[{label}]({url})"])
        if len(note) + 2 + len(candidate) > NOTA_MAXIMA:
            break
        shown.append(f"[{label}]({url})")
    if shown:
        note += "\n\n" + " · ".join(shown)
    return note if len(note) <= NOTA_MAXIMA else note[: NOTA_MAXIMA - 1] + "…"
