"""The dataset's human page, as datos.gov.co serves it: ``/d/<4x4>`` redirects to
``/<categoría>/<nombre>/<4x4>``, an HTML page with the name, description, columns and API link.

Kept apart from the SODA and DSMAPI handlers: it only reads the view's metadata.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any


def slug(text: str) -> str:
    """``"Salud y Protección Social"`` → ``"Salud-y-Protecci-n-Social"``-like path segment (ASCII, dashes)."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-") or "dataset"


def page_path(view: dict[str, Any]) -> str:
    return f"/{slug(view.get('category') or 'dataset')}/{slug(view.get('name') or '')}/{view['id']}"


def render(view: dict[str, Any]) -> bytes:
    e = html.escape
    columns = "".join(
        f"<tr><td>{e(str(c.get('name') or ''))}</td><td><code>{e(str(c.get('fieldName') or ''))}</code></td>"
        f"<td>{e(str(c.get('dataTypeName') or ''))}</td></tr>"
        for c in view.get("columns") or []
    )
    body = (
        f"<!DOCTYPE html><html lang=\"es\"><head><meta charset=\"utf-8\"><title>{e(view.get('name') or '')} | "
        f"Datos Abiertos de Colombia</title></head><body><main><h1>{e(view.get('name') or '')}</h1>"
        f"<p>{e(view.get('description') or '')}</p><p>Categoría: {e(view.get('category') or '')}</p>"
        f"<p><a href=\"/resource/{e(view['id'])}.json\">API</a> · "
        f"<a href=\"/api/views/{e(view['id'])}/rows.csv\">Descargar CSV</a></p>"
        f"<table><thead><tr><th>Columna</th><th>Nombre en la API</th><th>Tipo</th></tr></thead>"
        f"<tbody>{columns}</tbody></table></main></body></html>"
    )
    return body.encode("utf-8")
