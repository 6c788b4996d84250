"""datos.gov.co publication: client (HTTP + DSMAPI with retries), ids (creation), schema, diff,
revision, metadata and publish (orchestration). Task code only needs :func:`publish_dataset`
and :func:`portal_dataset_id`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from casanare.catalog import Dataset
    from casanare.publish.portal.client import PortalConfig
    from casanare.staging import DatasetArea

__all__ = ["catalog_changed", "portal_dataset_id", "publish_dataset"]


def portal_dataset_id(ds: Dataset, state: DatasetArea | None = None) -> str | None:
    """The dataset's 4x4 on datos.gov.co (catalog, else assigned at creation), or None."""
    from casanare.publish.portal.ids import portal_dataset_id as _lookup

    return _lookup(ds, state)


def publish_dataset(df: pd.DataFrame, ds: Dataset, cfg: PortalConfig, state: DatasetArea,
                    version: str) -> dict[str, Any]:
    """Create the dataset if needed, align its schema and metadata, publish ``df`` and verify it."""
    from casanare.publish.portal.publish import publish

    return publish(df, ds, cfg, state=state, version=version)


def catalog_changed(ds: Dataset, state: DatasetArea) -> bool:
    """Whether the catalog's portal schema or metadata changed since the last publication.

    A run whose data did not change may skip the portal, but not when the catalog asks for a
    new column, type, row identifier or metadata: the schema is kept in line on every run.
    """
    from casanare.publish.portal.publish import FINGERPRINT_FILE, catalog_fingerprint

    return (state.read_json(FINGERPRINT_FILE) or {}).get("huella") != catalog_fingerprint(ds)
