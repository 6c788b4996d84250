"""Dates shown to citizens: Spanish wording, America/Bogota time, next expected update."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from casanare.catalog import CRON_POR_FRECUENCIA

BOGOTA = ZoneInfo("America/Bogota")
MESES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)
DIAS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
FRECUENCIA_TEXTO = {
    "diaria": "Diaria",
    "semanal": "Semanal",
    "mensual": "Mensual",
    "trimestral": "Trimestral",
    "semestral": "Semestral",
    "anual": "Anual",
    "eventual": "Eventual (cuando haya cambios)",
}


def bogota(moment: datetime) -> datetime:
    """The moment in Colombian time (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BOGOTA)


def fecha_larga(moment: datetime, *, con_dia: bool = False) -> str:
    """``"22 de noviembre de 2026, 11:30"`` in Bogota time (optionally with the weekday)."""
    local = bogota(moment)
    text = f"{local.day} de {MESES[local.month - 1]} de {local.year}, {local:%H:%M}"
    return f"{DIAS[local.weekday()]} {text}" if con_dia else text


def proxima_actualizacion(frecuencia: str, desde: datetime) -> datetime | None:
    """Next run of the frequency's cron in America/Bogota after ``desde``; None for eventual."""
    cron = CRON_POR_FRECUENCIA.get(frecuencia)
    if not cron:
        return None
    from croniter import croniter

    return croniter(cron, bogota(desde)).get_next(datetime)


def proxima_actualizacion_texto(frecuencia: str, desde: datetime) -> str:
    nxt = proxima_actualizacion(frecuencia, desde)
    if nxt is None:
        return "cuando haya cambios"
    return f"{fecha_larga(nxt, con_dia=True)} (hora de Colombia)"
