"""Overdue notices: a dataset whose data are older than its declared frequency (``Dataset.vigencia``).

"Overdue" is about NEW DATA, not runs (``casanare.monitor.freshness``): a source re-published
unchanged month after month is overdue ("sin datos nuevos"), and a dataset still waiting for its
first scheduled run is in its grace period and never overdue. At most one notice per dataset per
period: the ``episodio`` key changes when new data arrive or when another full period has passed.

Pure functions: the ``avisos`` DAG passes the history recorded by ``DatasetArea`` and the current
time; nothing here reads storage or sends mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from casanare.catalog import Dataset
from casanare.monitor.freshness import Frescura, freshness, overdue_period
from casanare.notify import SUBJECT_PREFIX, compose

SUBJECT_CAUSE = "publicación vencida"
SUBJECT_CAUSE_SIN_DATOS = "sin datos nuevos"


@dataclass(frozen=True)
class Vencido:
    """One overdue dataset. ``ultima`` is the last NEW data (None when never published)."""

    slug: str
    ultima: datetime | None
    vigencia: timedelta
    atraso: timedelta | None
    episodio: str
    sin_datos_nuevos: bool = False
    ultima_ejecucion: datetime | None = None


def check(ds: Dataset, history: list[dict[str, Any]], now: datetime, *, alta: datetime,
          portal_rows_updated: Any = None) -> Vencido | None:
    """The overdue notice due now for ``ds``, or None (fresh, eventual, in grace or already told).

    Args:
        history: successful runs, oldest first (``DatasetArea.history()``).
        alta: when monitoring first saw the dataset (start of the grace period).
        portal_rows_updated: the portal's ``rowsUpdatedAt``, used only without local history.
    """
    vigencia = ds.vigencia
    if vigencia is None:
        return None
    f: Frescura = freshness(ds, history, now, alta=alta, portal_rows_updated=portal_rows_updated)
    episodio = overdue_period(f, ds, now)
    if episodio is None:
        return None
    atraso = now - f.vence if f.vence is not None and f.ultimo_dato_nuevo is not None else None
    return Vencido(ds.slug, f.ultimo_dato_nuevo, vigencia, atraso, episodio, f.sin_datos_nuevos, f.ultima_ejecucion)


def overdue_subject(ds: Dataset, vencido: Vencido | None = None) -> str:
    nombre = " ".join(ds.nombre.split())
    cause = SUBJECT_CAUSE_SIN_DATOS if vencido is not None and vencido.sin_datos_nuevos else SUBJECT_CAUSE
    return f"{SUBJECT_PREFIX} {nombre}: {cause}"


def overdue_message(
    ds: Dataset, vencido: Vencido, *, sender: str, cc: list[str], links: list[dict[str, str]]
) -> EmailMessage:
    """Spanish notice (text + HTML) to the dependencia's contacts, platform team in copy."""
    subject = overdue_subject(ds, vencido)
    if vencido.sin_datos_nuevos:
        como = (f"La plataforma sigue leyendo la fuente ({ds.ubicacion}), pero su contenido no ha cambiado. "
                "Reemplace el archivo o la tabla con la información actualizada del periodo; si de verdad no hubo "
                "cambios, avise al equipo de datos abiertos para revisar la frecuencia declarada.")
    else:
        como = (f"Entregue la fuente actualizada en la ubicación acordada ({ds.ubicacion}). Si ya la entregó, "
                "revise los correos de fallo de la plataforma o escriba al equipo de datos abiertos.")
    values = {
        "asunto": subject,
        "nombre": ds.nombre,
        "dependencia": ds.dependencia,
        "frecuencia": ds.frecuencia_actualizacion,
        "dias_vigencia": vencido.vigencia.days,
        "ultima": vencido.ultima.strftime("%Y-%m-%d %H:%M") if vencido.ultima else "no hay publicaciones registradas",
        "dias_atraso": vencido.atraso.days if vencido.atraso is not None else None,
        "sin_datos_nuevos": vencido.sin_datos_nuevos,
        "ultima_ejecucion": vencido.ultima_ejecucion.strftime("%Y-%m-%d %H:%M") if vencido.ultima_ejecucion else None,
        "como_corregir": como,
        "enlaces": links,
        "equipo": ", ".join(cc) or sender,
    }
    return compose(subject, sender, [str(c) for c in ds.contactos], cc, "vencido", **values)
