"""Read what datos.gov.co says about a dataset (``GET /api/views/<id>.json``) and compare it.

Read-only and cheap: one request per dataset per day. The request carries the app token and
never ``read=true``, so monitoring does not inflate the portal's view counter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests

from casanare.catalog import Dataset

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PortalEndpoint:
    """Base URL and app token, resolved from the ``datos_gov_co`` connection in the task body."""

    base_url: str
    app_token: str | None = None
    timeout: float = 30.0


def fetch_view(endpoint: PortalEndpoint, dataset_id: str, session: requests.Session | None = None) -> dict[str, Any] | None:
    """The view's JSON, or None when the portal does not have the dataset (404).

    Other errors raise: a portal that does not answer must not look like "no views".
    """
    http = session or requests.Session()
    headers = {"X-App-Token": endpoint.app_token} if endpoint.app_token else {}
    response = http.get(f"{endpoint.base_url.rstrip('/')}/api/views/{dataset_id}.json", headers=headers,
                        timeout=endpoint.timeout)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    body = response.json()
    return body if isinstance(body, dict) else None


def fetch_page_views(endpoint: PortalEndpoint, dataset_ids: list[str],
                     session: requests.Session | None = None) -> dict[str, dict[str, int]]:
    """Page views per dataset from the Discovery API (``/api/catalog/v1?ids=…``), where available.

    Optional by nature (not every domain exposes it): any failure returns ``{}`` and is logged.
    """
    if not dataset_ids:
        return {}
    http = session or requests.Session()
    headers = {"X-App-Token": endpoint.app_token} if endpoint.app_token else {}
    try:
        response = http.get(f"{endpoint.base_url.rstrip('/')}/api/catalog/v1", headers=headers,
                            params=[("ids", i) for i in dataset_ids] + [("limit", str(len(dataset_ids)))],
                            timeout=endpoint.timeout)
        response.raise_for_status()
        results = response.json().get("results") or []
    except (requests.RequestException, ValueError, AttributeError) as exc:
        log.warning("La API de catálogo no dio las vistas de página: %s", type(exc).__name__)
        return {}
    views: dict[str, dict[str, int]] = {}
    for item in results:
        resource = item.get("resource") or {} if isinstance(item, dict) else {}
        pages = resource.get("page_views") or {}
        if resource.get("id") and isinstance(pages, dict):
            views[resource["id"]] = {k.removeprefix("page_views_"): int(v) for k, v in pages.items()
                                     if isinstance(v, int | float) and not isinstance(v, bool)}
    return views


def use_counts(view: dict[str, Any] | None) -> dict[str, int | None]:
    def count(key: str) -> int | None:
        value = (view or {}).get(key)
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    return {"vistas_portal": count("viewCount"), "descargas_portal": count("downloadCount")}


def _custom(view: dict[str, Any], fieldset: str, name: str) -> Any:
    fields = ((view.get("metadata") or {}).get("custom_fields") or {}).get(fieldset) or {}
    return fields.get(name) if isinstance(fields, dict) else None


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return sorted(_norm(v) for v in value)
    return value


def metadata_drift(ds: Dataset, view: dict[str, Any] | None) -> list[dict[str, str]]:
    """Portal metadata that differ from the catalog (field, what the catalog says, what the portal says).

    Only public, citizen-facing fields are compared (no contact e-mail): name, description,
    category, tags, licence, update frequency and dependencia.
    """
    if not view:
        return []
    expected = {
        "nombre": (ds.nombre, view.get("name")),
        "descripcion": (ds.descripcion, view.get("description")),
        "categoria": (ds.categoria, view.get("category")),
        # The stable tag the publication adds (Dataset.etiqueta_portal) is ours, not drift.
        "etiquetas": (list(ds.etiquetas), [t for t in view.get("tags") or [] if t != ds.etiqueta_portal]),
        "licencia": (ds.licencia, (view.get("license") or {}).get("name")),
        "frecuencia": (ds.frecuencia_portal, _custom(view, "Información de Datos", "Frecuencia de Actualización")),
        "dependencia": (ds.dependencia, _custom(view, "Información de la Entidad", "Área o dependencia")),
    }
    drift = []
    for campo, (catalogo, portal) in expected.items():
        if _norm(catalogo) != _norm(portal):
            drift.append({"campo": campo, "catalogo": _show(catalogo), "portal": _show(portal)})
    return drift


def _show(value: Any) -> str:
    if value is None:
        return "(vacío)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(vacío)"
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "…"


def endpoint_from_connection(conn: Any) -> PortalEndpoint:
    """Base URL and app token of the ``datos_gov_co`` connection (host, port, schema, extra ``app_token``)."""
    extra = conn.extra_dejson or {}
    scheme = (conn.schema or extra.get("scheme") or "https").rstrip(":/")
    port = f":{conn.port}" if conn.port else ""
    return PortalEndpoint(f"{scheme}://{conn.host}{port}", extra.get("app_token"), float(extra.get("timeout") or 30))
