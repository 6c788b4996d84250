"""The dataset page's small use and freshness panel, and its "Reportar un problema" link.

The daily monitoring DAG writes ``tablero/conjuntos/<ruta>.json`` to the site; a publication reads
it here (plain JSON, so the publish stage never imports the monitor). A missing or unreadable
file only means "no measurements yet".
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from casanare import settings
from casanare.catalog import Dataset
from casanare.publish.site.transport import Transport


def report_mailto(nombre: str, slug: str) -> str:
    """``mailto:`` to the open-data team with the dataset in the subject and a short guide in the body."""
    team = settings.platform_team_emails()[0]
    subject = f"Reportar un problema con estos datos: {nombre} ({slug})"
    body = (f"Conjunto de datos: {nombre} ({slug})\n\nDescriba el problema (qué archivo, fila o columna, y qué "
            "esperaba encontrar). No incluya datos personales.\n\n")
    return f"mailto:{team}?subject={quote(subject)}&body={quote(body)}"


def _count(value: Any) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return f"{value:,}".replace(",", ".")


def monitor_panel(transport: Transport, dataset: Dataset) -> dict[str, Any]:
    """What ``sitio/_uso_frescura.html`` shows for ``dataset``."""
    panel = None
    if dataset.casanare_gov_co is not None:
        raw = transport.read_file(f"tablero/conjuntos/{dataset.casanare_gov_co.ruta}.json")
        try:
            panel = json.loads(raw) if raw else None
        except ValueError:
            panel = None
    if not isinstance(panel, dict) or panel.get("conjunto") != dataset.slug:
        panel = None
    return {
        "panel": panel,
        "vistas": _count((panel or {}).get("vistas")) or "sin datos",
        "descargas": _count((panel or {}).get("descargas")) or "sin datos",
        "descargas_30d": _count((panel or {}).get("descargas_30d")),
        "reportar": report_mailto(dataset.nombre, dataset.slug),
    }
