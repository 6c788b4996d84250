"""Overdue notices: a dataset that missed its declared frequency (``Dataset.vigencia``).

Pure functions: the ``avisos`` DAG passes the last success recorded by ``DatasetArea`` and the
current time; nothing here reads storage or sends mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from casanare.catalog import Dataset
from casanare.notify import SUBJECT_PREFIX, compose

SUBJECT_CAUSE = "publicación vencida"


@dataclass(frozen=True)
class Vencido:
    """One overdue dataset. ``ultima`` is None when it has never been published."""

    slug: str
    ultima: datetime | None
    vigencia: timedelta
    atraso: timedelta | None

    @property
    def episodio(self) -> str:
        """Identifies this overdue episode: a new success starts a new one (and a new notice)."""
        return self.ultima.isoformat() if self.ultima else "nunca"


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # the platform records UTC


def check(ds: Dataset, last_success: dict[str, Any] | None, now: datetime) -> Vencido | None:
    """Overdue if the last success (``fecha``) is older than the dataset's ``vigencia``.

    Eventual datasets (no ``vigencia``) are never overdue. A dataset with no recorded success
    is overdue: its page promises a frequency that nothing has fulfilled yet.
    """
    vigencia = ds.vigencia
    if vigencia is None:
        return None
    ultima = _parse((last_success or {}).get("fecha"))
    if ultima is None:
        return Vencido(ds.slug, None, vigencia, None)
    age = now - ultima
    return Vencido(ds.slug, ultima, vigencia, age - vigencia) if age > vigencia else None


def overdue_subject(ds: Dataset) -> str:
    nombre = " ".join(ds.nombre.split())
    return f"{SUBJECT_PREFIX} {nombre}: {SUBJECT_CAUSE}"


def overdue_message(
    ds: Dataset, vencido: Vencido, *, sender: str, cc: list[str], links: list[dict[str, str]]
) -> EmailMessage:
    """Spanish notice (text + HTML) to the dependencia's contacts, platform team in copy."""
    subject = overdue_subject(ds)
    values = {
        "asunto": subject,
        "nombre": ds.nombre,
        "dependencia": ds.dependencia,
        "frecuencia": ds.frecuencia_actualizacion,
        "dias_vigencia": vencido.vigencia.days,
        "ultima": vencido.ultima.strftime("%Y-%m-%d %H:%M") if vencido.ultima else "no hay publicaciones registradas",
        "dias_atraso": vencido.atraso.days if vencido.atraso is not None else None,
        "como_corregir": "Entregue la fuente actualizada en la ubicación acordada "
        f"({ds.ubicacion}). Si ya la entregó, revise los correos de fallo de la plataforma o escriba al "
        "equipo de datos abiertos.",
        "enlaces": links,
        "equipo": ", ".join(cc) or sender,
    }
    return compose(subject, sender, [str(c) for c in ds.contactos], cc, "vencido", **values)
