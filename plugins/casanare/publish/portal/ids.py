"""Which 4x4 a catalog entry has on datos.gov.co, and creating it exactly once.

The catalog may give ``datos_gov_co.dataset_id``; otherwise the first publication creates the
dataset and the assigned id is kept in the dataset's state in staging
(``estado/datos_gov_co.json``). Creation is idempotent: every dataset carries a stable tag
(``casanare-<slug>``), and before creating one the portal is asked (authenticated, so unpublished
drafts count) for a dataset with that tag. A run killed right after the portal created the
dataset therefore finds it again instead of creating a second one.

:func:`portal_dataset_id` is the accessor for everyone else (task log, UI link, website, manifest).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from casanare.publish.portal.errors import PublicacionRechazada
from casanare.staging import PORTAL_ID_FILE

if TYPE_CHECKING:
    from casanare.catalog import Catalog, Dataset
    from casanare.publish.portal.client import PortalClient
    from casanare.staging import DatasetArea

log = logging.getLogger(__name__)

STATE_FILE = PORTAL_ID_FILE


def stable_tag(ds: Dataset) -> str:
    """Tag that identifies the dataset's portal copy across runs (and lets anyone find it)."""
    return ds.etiqueta_portal


def _state(ds: Dataset, state: DatasetArea | None) -> DatasetArea:
    if state is not None:
        return state
    from casanare import settings
    from casanare.staging import DatasetArea

    return DatasetArea(settings.staging_url(), ds.slug)


def portal_dataset_id(ds: Dataset, state: DatasetArea | None = None) -> str | None:
    """The dataset's 4x4: the catalog's, else the one assigned at creation, else None (not created yet)."""
    if ds.datos_gov_co is None:
        return None
    if ds.datos_gov_co.dataset_id:
        return ds.datos_gov_co.dataset_id
    return _state(ds, state).portal_id()


def assigned_ids(catalog: Catalog, staging_url: str | None = None) -> dict[str, str]:
    """``{slug: 4x4}`` of every catalog entry that has an id (for ``scripts/ids_portal.py``)."""
    from casanare import settings
    from casanare.staging import DatasetArea

    base = staging_url or settings.staging_url()
    out = {}
    for ds in catalog.datasets:
        found = portal_dataset_id(ds, DatasetArea(base, ds.slug)) if ds.datos_gov_co else None
        if found:
            out[ds.slug] = found
    return out


def issue_date(state: DatasetArea | None) -> str | None:
    """Date the first publication created the dataset (``aaaa-mm-dd``): its Fecha Emisión."""
    created = (state.read_json(STATE_FILE) or {}) if state is not None else {}
    return (created.get("fecha") or "")[:10] or None


def _remember(state: DatasetArea, dataset_id: str, how: str, tag: str) -> None:
    state.write_json(STATE_FILE, {"dataset_id": dataset_id, "etiqueta": tag, "origen": how,
                                  "fecha": datetime.now(UTC).isoformat(timespec="seconds")})


def ensure_dataset(
    client: PortalClient, ds: Dataset, state: DatasetArea, metadata: dict[str, Any]
) -> tuple[str, dict[str, Any] | None, str]:
    """The dataset's 4x4, creating the dataset if it does not exist yet.

    Returns:
        ``(dataset_id, open_revision, origin)``: the first revision of a dataset created now (to
        carry its first data), else None; origin is ``catalogo``, ``estado``, ``etiqueta`` or
        ``creado``.
    """
    known = portal_dataset_id(ds, state)
    if known:
        return known, None, "catalogo" if ds.datos_gov_co.dataset_id else "estado"
    tag = stable_tag(ds)
    found = client.find_by_tag(tag)
    if len(found) > 1:
        raise PublicacionRechazada(
            f"Hay {len(found)} conjuntos en datos.gov.co con la etiqueta {tag}: no se sabe cuál usar.",
            como_corregir="Equipo de plataforma: borre los duplicados en datos.gov.co o ponga el identificador "
            "correcto en datos_gov_co.dataset_id del catálogo.",
            detalles={"etiqueta": tag, "conjuntos": found},
        )
    if found:
        log.warning("El conjunto %s ya existía en datos.gov.co (%s): se reutiliza", ds.slug, found[0])
        _remember(state, found[0], "etiqueta", tag)
        return found[0], None, "etiqueta"
    revision = client.new_dataset(metadata)
    dataset_id = revision["resource"]["fourfour"]
    _remember(state, dataset_id, "creado", tag)
    log.info("Conjunto %s creado en datos.gov.co con el identificador %s", ds.slug, dataset_id)
    return dataset_id, revision, "creado"
