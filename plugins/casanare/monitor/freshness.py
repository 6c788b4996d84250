"""Freshness against the declared frequency, measured on NEW DATA, not on runs.

A run that re-publishes an unchanged source does not make a dataset fresh: the date that counts
is when the source hash last changed (``DatasetArea.history()``), or the portal's
``rowsUpdatedAt`` for a dataset published by hand before the platform (no history of its own). A dataset that has not reached its
first scheduled run since it entered the catalog is in its grace period: nobody is told it is late.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from casanare.catalog import CRON_POR_FRECUENCIA, Dataset

Estado = Literal["al_dia", "por_vencer", "vencido", "sin_publicar"]
ETIQUETAS: dict[str, str] = {
    "al_dia": "Al día",
    "por_vencer": "Por vencer",
    "vencido": "Vencido",
    "sin_publicar": "Sin publicar",
}
# "Por vencer" once this share of the allowed age is used up.
FRACCION_POR_VENCER = 0.75
# A scheduled run needs time to finish before its absence means anything.
MARGEN_PRIMERA_EJECUCION = timedelta(hours=12)


@dataclass(frozen=True)
class Frescura:
    """Freshness of one dataset at one moment (JSON-safe through ``as_dict``)."""

    slug: str
    estado: Estado
    ultimo_dato_nuevo: datetime | None
    ultima_ejecucion: datetime | None
    vence: datetime | None
    en_gracia: bool
    gracia_hasta: datetime | None
    sin_datos_nuevos: bool
    dias_desde_dato_nuevo: float | None

    @property
    def etiqueta(self) -> str:
        base = ETIQUETAS[self.estado]
        if self.en_gracia:
            return f"{base} (en periodo de gracia)"
        if self.sin_datos_nuevos:
            return f"{base} (sin datos nuevos)"
        return base

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat(timespec="seconds")
        out["etiqueta"] = self.etiqueta
        return out


def parse_moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)  # Socrata epochs (rowsUpdatedAt)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # the platform records UTC


def last_new_data(history: list[dict[str, Any]]) -> datetime | None:
    """When the source last changed: the first success of the latest run of equal hashes.

    ``history`` is the success history, oldest first. Entries without a hash count as changes
    (nothing proves they were equal).
    """
    dated = [(when, h) for h in history if (when := parse_moment(h.get("fecha"))) is not None]
    if not dated:
        return None
    dated.sort(key=lambda pair: pair[0])
    changed, previous_hash = dated[0][0], object()
    for when, entry in dated:
        digest = entry.get("sha256")
        if digest is None or digest != previous_hash:
            changed = when
        previous_hash = digest
    return changed


def first_scheduled_run(frecuencia: str, alta: datetime) -> datetime | None:
    """First run of the frequency's cron (America/Bogota) after the dataset entered the catalog."""
    cron = CRON_POR_FRECUENCIA.get(frecuencia)
    if not cron:
        return None
    from zoneinfo import ZoneInfo

    from croniter import croniter

    local = alta.astimezone(ZoneInfo("America/Bogota"))
    return croniter(cron, local).get_next(datetime).astimezone(UTC)


def freshness(
    ds: Dataset,
    history: list[dict[str, Any]],
    now: datetime,
    *,
    alta: datetime,
    portal_rows_updated: Any = None,
) -> Frescura:
    """Classify one dataset.

    Args:
        ds: the catalog entry (its ``frecuencia_actualizacion`` gives the allowed age).
        history: successful runs, oldest first (``fecha`` and ``sha256`` per entry).
        now: the moment of the check.
        alta: when the platform first saw the dataset in the catalog (starts the grace period).
        portal_rows_updated: the portal's ``rowsUpdatedAt`` (epoch or ISO), used only when the
            platform has no history and the inventory says the dataset was already published
            (``publicada: true``, i.e. published by hand before the platform existed).
    """
    ultima_ejecucion = max((w for h in history if (w := parse_moment(h.get("fecha")))), default=None)
    # The portal's date counts only for a dataset the inventory says was published before the
    # platform: a dataset created on the portal but never loaded also has a rowsUpdatedAt.
    nuevo = last_new_data(history) or (parse_moment(portal_rows_updated) if ds.publicada else None)
    primera = first_scheduled_run(ds.frecuencia_actualizacion, alta)
    gracia_hasta = primera + MARGEN_PRIMERA_EJECUCION if primera else None
    vigencia = ds.vigencia
    if nuevo is None:
        en_gracia = gracia_hasta is not None and now < gracia_hasta
        return Frescura(ds.slug, "sin_publicar", None, ultima_ejecucion, gracia_hasta, en_gracia,
                        gracia_hasta, False, None)
    dias = round((now - nuevo).total_seconds() / 86400, 2)
    if vigencia is None:  # eventual: published when the source changes, never late
        return Frescura(ds.slug, "al_dia", nuevo, ultima_ejecucion, None, False, None, False, dias)
    vence = nuevo + vigencia
    age = now - nuevo
    if age > vigencia:
        estado: Estado = "vencido"
    elif age >= vigencia * FRACCION_POR_VENCER:
        estado = "por_vencer"
    else:
        estado = "al_dia"
    # Runs keep succeeding but the source has not changed for longer than its frequency.
    sin_datos_nuevos = estado == "vencido" and ultima_ejecucion is not None and now - ultima_ejecucion <= vigencia
    return Frescura(ds.slug, estado, nuevo, ultima_ejecucion, vence, False, None, sin_datos_nuevos, dias)


def overdue_period(f: Frescura, ds: Dataset, now: datetime) -> str | None:
    """Key of the current overdue period, or None when no notice is due.

    One notice per dataset per period: the key changes when new data arrives (a new due date)
    or when another full frequency period has passed while still late. Nothing in grace, nothing
    for eventual datasets, nothing while "al día" or "por vencer".
    """
    vigencia = ds.vigencia
    if vigencia is None or f.en_gracia:
        return None
    if f.estado == "vencido" and f.vence is not None:
        periodo = int((now - f.vence) / vigencia)
        return f"{f.vence.isoformat(timespec='seconds')}#{periodo}"
    if f.estado == "sin_publicar" and f.gracia_hasta is not None:
        periodo = int((now - f.gracia_hasta) / vigencia)
        return f"sin_publicar#{periodo}"
    return None
