"""The dataset page's small use and freshness panel, and its "Reportar un problema" link.

The daily monitoring DAG writes ``tablero/conjuntos/<ruta>.html`` to the site; the dataset page
embeds it, so the publish stage never imports the monitor and the numbers stay current even when
an unchanged source publishes no new version. Before the first monitoring run a placeholder says
"no measurements yet".
"""

from __future__ import annotations

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


PLACEHOLDER = (
    '<!DOCTYPE html>\n<html lang="es"><head><meta charset="utf-8"><title>Uso y actualización</title>'
    '<style>body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b}</style></head>\n'
    "<body><p>Aún no hay mediciones de uso de este conjunto: el monitoreo diario las publicará aquí y en "
    "el tablero de control.</p></body></html>\n"
).encode()


def monitor_panel(transport: Transport, dataset: Dataset) -> dict[str, Any]:
    """What ``sitio/_uso_frescura.html`` needs: the panel page to embed and the mailto.

    The panel (``tablero/conjuntos/<ruta>.html``) is rewritten every day by the monitoring DAG and
    embedded with an ``iframe``, so a page published months ago still shows today's numbers. If
    monitoring has not run yet, a placeholder saying so is written (the monitor replaces it).
    """
    panel = None
    if dataset.casanare_gov_co is not None:
        panel = f"tablero/conjuntos/{dataset.casanare_gov_co.ruta}.html"
        if transport.read_file(panel) is None:
            transport.write_file(panel, PLACEHOLDER)
    return {"panel": panel, "reportar": report_mailto(dataset.nombre, dataset.slug)}
