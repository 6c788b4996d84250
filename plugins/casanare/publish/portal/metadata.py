"""Metadata as code: the catalog decides the portal's metadata, pushed and drift-checked every run.

Managed fields (``GET/PUT /api/views/<id>.json``, as on datos.gov.co): name, description,
category, tags, license, attribution, contact e-mail (``privateMetadata.contactEmail``), the
custom fieldsets "Información de la Entidad" and "Información de Datos" (with Fecha Emisión,
URL Documentación — the dataset's page on casanare.gov.co unless the catalog gives another — and
URL Normativa when the catalog gives one), and each column's display name and description.

Drift: the last pushed metadata is kept in the dataset state
(``estado/metadatos_portal.json``). A field where the portal differs from what we last pushed
was edited by hand on the portal (``cambios_manuales``); it is reported in the manifest and the
log before being overwritten. Fields where the catalog changed are ``cambios_catalogo``. No
row values ever appear: only metadata (the contact e-mail is reported by field name only).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from casanare.catalog import Dataset
from casanare.publish.portal.ids import issue_date, stable_tag

if TYPE_CHECKING:
    from casanare.publish.portal.client import PortalClient
    from casanare.staging import DatasetArea

log = logging.getLogger(__name__)

STATE_FILE = "estado/metadatos_portal.json"

#: Constant part of "Información de la Entidad" for every dataset of the Gobernación.
ENTIDAD = {
    "Nombre de la Entidad": "Gobernación de Casanare",
    "Departamento": "Casanare",
    "Municipio": "Yopal",
    "Orden": "Territorial",
}
ATRIBUCION = "Gobernación de Casanare"
LICENCIAS = {
    "CC BY-SA 4.0": "CC_BY_SA_4.0",
    "CC BY 4.0": "CC_BY_4.0",
    "CC0 1.0": "CC0_10",
    "Dominio público": "PUBLIC_DOMAIN",
}
_PRIVATE = {"privateMetadata.contactEmail"}


def documentation_url(ds: Dataset) -> str | None:
    """URL Documentación: the catalog's, else the dataset's page on casanare.gov.co."""
    if ds.url_documentacion:
        return ds.url_documentacion
    from casanare.dag_docs import website_page_url

    return website_page_url(ds)


def desired_metadata(ds: Dataset, fecha_emision: str | None = None) -> dict[str, Any]:
    """The ``PUT /api/views/<id>.json`` body the catalog entry asks for.

    Args:
        fecha_emision: date of the first publication (``aaaa-mm-dd``), used when the catalog
            gives none.
    """
    datos = {
        "Frecuencia de Actualización": ds.frecuencia_portal,
        "Cobertura Geográfica": ds.cobertura_geografica,
        "Idioma": ds.idioma,
        "Fecha Emisión (aaaa-mm-dd)": ds.fecha_emision or fecha_emision or "",
        "URL Documentación": documentation_url(ds) or "",
    }
    if ds.url_normativa:
        datos["URL Normativa"] = ds.url_normativa
    return {
        "name": ds.nombre,
        "description": ds.descripcion,
        "category": ds.categoria,
        # The stable tag finds the dataset again even if a run died right after creating it.
        "tags": [*ds.etiquetas, stable_tag(ds)],
        "licenseId": LICENCIAS.get(ds.licencia, ds.licencia),
        "license": {"name": ds.licencia},
        "attribution": ATRIBUCION,
        "privateMetadata": {"contactEmail": ds.contactos[0]},
        "metadata": {
            "custom_fields": {
                "Información de la Entidad": {
                    **ENTIDAD,
                    "Sector": ds.categoria,
                    "Área o dependencia": ds.dependencia,
                },
                "Información de Datos": datos,
            }
        },
        "columns": [
            {"fieldName": c.nombre_salida, "name": c.titulo_visible, "description": c.descripcion}
            for c in ds.columnas_publicadas
        ],
    }


def flatten(meta: dict[str, Any]) -> dict[str, Any]:
    """Managed fields as ``{"campo.ruta": valor}``, comparable between the catalog and the portal."""
    out: dict[str, Any] = {}
    for key in ("name", "description", "category", "attribution", "licenseId"):
        out[key] = meta.get(key)
    out["tags"] = sorted(meta.get("tags") or [])
    license_ = meta.get("license")
    out["license.name"] = license_.get("name") if isinstance(license_, dict) else license_
    out["privateMetadata.contactEmail"] = (meta.get("privateMetadata") or {}).get("contactEmail")
    custom = (meta.get("metadata") or {}).get("custom_fields") or {}
    for fieldset in ("Información de la Entidad", "Información de Datos"):
        for name, value in (custom.get(fieldset) or {}).items():
            out[f"{fieldset}.{name}"] = value
    for col in meta.get("columns") or []:
        for attr in ("name", "description"):
            out[f"columna.{col.get('fieldName')}.{attr}"] = col.get(attr)
    return out


def differences(left: dict[str, Any], right: dict[str, Any], fields: list[str]) -> list[dict[str, Any]]:
    """Fields of ``fields`` whose values differ (private fields without their values)."""
    out = []
    for name in fields:
        a, b = left.get(name), right.get(name)
        if (a or None) != (b or None):
            out.append({"campo": name} if name in _PRIVATE else {"campo": name, "portal": a, "esperado": b})
    return out


def revision_metadata(ds: Dataset, fecha_emision: str | None = None) -> dict[str, Any]:
    """Metadata carried by a DSMAPI revision (columns come from its output schema instead)."""
    return {k: v for k, v in desired_metadata(ds, fecha_emision).items() if k != "columns"}


def sync_metadata(client: PortalClient, ds: Dataset, dataset_id: str, state: DatasetArea | None = None,
                  fecha_emision: str | None = None) -> dict[str, Any]:
    """Push the catalog's metadata, reporting hand edits on the portal first.

    Returns:
        ``{"cambios_manuales": [...], "cambios_catalogo": [...], "actualizado": bool, "verificado": bool}``.
    """
    desired = desired_metadata(ds, fecha_emision or issue_date(state))
    view = client.view(dataset_id)
    # Columns are created with the dataset; a catalog column missing on the portal cannot be
    # described (the PUT would be refused): report it, the data upsert will say more.
    existing = {c.get("fieldName") for c in view.get("columns") or []}
    missing = [c["fieldName"] for c in desired["columns"] if c["fieldName"] not in existing]
    desired["columns"] = [c for c in desired["columns"] if c["fieldName"] in existing]
    want = flatten(desired)
    fields = list(want)
    portal = flatten(view)
    last = (state.read_json(STATE_FILE) if state is not None else None) or None
    if last is not None:
        manual = differences(portal, last, [f for f in fields if f in last])
        catalog = differences(last, want, fields)
    else:
        manual, catalog = [], differences(portal, want, fields)
    if manual:
        log.warning("Metadatos de %s editados a mano en datos.gov.co (se sobrescriben): %s", dataset_id,
                    ", ".join(d["campo"] for d in manual))
    pending = differences(portal, want, fields)
    if pending:
        client.update_view(dataset_id, desired)
    after = flatten(client.view(dataset_id))
    remaining = differences(after, want, fields)
    if state is not None:
        state.write_json(STATE_FILE, want)
    return {
        "cambios_manuales": manual,
        "cambios_catalogo": catalog,
        "actualizado": bool(pending),
        "verificado": not remaining,
        "pendientes": [d["campo"] for d in remaining],
        "columnas_faltantes_en_portal": missing,
    }
