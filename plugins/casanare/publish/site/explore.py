"""What a citizen sees of the data on its page before downloading it.

``explore_view`` gathers, for the dataset page template (``sitio/_explorar.html``): a preview of
the first rows, the charts and the map (``dataset_charts``), and how to use the data through the
datos.gov.co SODA API with a ready query, plus the license and how to cite it.

Everything comes from the published (anonymized) table, the same one the downloads hold. The
preview cells are the CSV download's cells (written by the same function, so formulas are
neutralized the same way); the template escapes them.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import pandas as pd

from casanare import settings
from casanare.catalog import Dataset
from casanare.publish.site.catalog_pages import LICENCIAS_URL
from casanare.publish.site.charts import municipios_casanare
from casanare.publish.site.dataset_charts import build_charts, chart_specs, dataset_k, municipio_column
from casanare.publish.site.downloads import csv_bytes
from casanare.publish.site.schedule import bogota

FILAS_VISTA_PREVIA = 20
LIMITE_EJEMPLO = 100
NUMERICOS = {"entero", "decimal"}


def portal_dataset_id(dataset: Dataset) -> str | None:
    """The dataset's 4x4 on datos.gov.co, read as the page's "Ver en datos.gov.co" link reads it."""
    from casanare.publish.portal import portal_dataset_id as assigned

    return assigned(dataset)


def preview(dataset: Dataset, df: pd.DataFrame, rows: int = FILAS_VISTA_PREVIA) -> dict[str, Any]:
    """The first ``rows`` rows as the CSV download writes them, with the catalog's column titles."""
    head = df.head(rows)
    reader = csv.reader(io.StringIO(csv_bytes(head).decode("utf-8-sig"), newline=""))
    next(reader, None)  # the header: titles come from the catalog instead
    by_name = {c.nombre_salida: c for c in dataset.columnas_publicadas}
    columns = []
    for name in map(str, df.columns):
        column = by_name.get(name)
        columns.append(
            {
                "nombre": name,
                "titulo": column.titulo_visible if column else name,
                "numerica": bool(column and column.tipo_salida in NUMERICOS),
            }
        )
    return {"columnas": columns, "filas": list(reader), "mostradas": len(head), "total": len(df)}


def _example_filter(dataset: Dataset, df: pd.DataFrame) -> tuple[str, str] | None:
    """A simple filter that returns rows: the municipio (or first category) with most rows."""
    least = max(dataset_k(dataset), 2)  # a value that only one row has is not an example of a filter
    row_id = dataset.datos_gov_co.identificador_fila if dataset.datos_gov_co else None
    bars = [s.dimension for s in chart_specs(dataset, df) if s.kind == "barras"]
    candidates = [municipio_column(dataset), *bars] + [
        c.nombre_salida for c in dataset.columnas_publicadas
        if c.tipo_salida == "texto" and c.regla.accion == "publicar" and c.dato_personal is None
        and c.nombre_salida != row_id
    ]
    for name in candidates:
        if not name or name not in df.columns:
            continue
        counts = df[name].dropna().astype("string").str.strip().value_counts()
        counts = counts[(counts >= least) & (counts.index != "") & ~counts.index.str.startswith(("=", "+", "-", "@"))]
        if len(counts):
            return name, str(counts.index[0])
    return None


def _seat_name(value: str) -> str | None:
    """The municipio a DIVIPOLA code names, to explain the example filter."""
    return next((m.nombre for m in municipios_casanare() if m.codigo == value), None)


def api_usage(dataset: Dataset, df: pd.DataFrame, *, version: str, published_at: datetime) -> dict[str, Any]:
    """SODA endpoint, a ready query with curl and pandas snippets, license and citation."""
    page_url = f"{settings.website_public_url()}/conjuntos/{dataset.casanare_gov_co.ruta}/"
    year = bogota(published_at).year
    cita = (
        f"Gobernación de Casanare, {dataset.dependencia}. ({year}). {dataset.nombre} (versión {version}) "
        f"[conjunto de datos]. Datos abiertos de Casanare. {page_url}"
    )
    result: dict[str, Any] = {
        "licencia": dataset.licencia,
        "licencia_url": LICENCIAS_URL.get(dataset.licencia),
        "cita": cita,
        "pagina_url": page_url,
        "anio": year,
        "portal": None,
    }
    four = portal_dataset_id(dataset)
    if four is None:
        return result
    base = settings.portal_public_url()
    endpoint = f"{base}/resource/{four}"
    filtro = _example_filter(dataset, df)
    query = {**({filtro[0]: filtro[1]} if filtro else {}), "$limit": str(LIMITE_EJEMPLO)}
    encoded = urlencode(query, quote_via=quote, safe="$")
    json_url, csv_url = f"{endpoint}.json?{encoded}", f"{endpoint}.csv?{encoded}"
    result["portal"] = {
        "id": four,
        "pagina": f"{base}/d/{four}",
        "endpoint": f"{endpoint}.json",
        "filtro": {"columna": filtro[0], "valor": filtro[1], "municipio": _seat_name(filtro[1])} if filtro else None,
        "limite": LIMITE_EJEMPLO,
        "url": json_url,
        # Single quotes: the shell must not expand $limit.
        "curl": f"curl '{json_url}'",
        "pandas": f'import pandas as pd\n\ndatos = pd.read_csv("{csv_url}")\nprint(datos.head())',
    }
    return result


def explore_view(dataset: Dataset, df: pd.DataFrame, *, version: str, published_at: datetime) -> dict[str, Any]:
    """Everything ``sitio/_explorar.html`` shows, and the index's mini chart (``mini``)."""
    graficos = build_charts(dataset, df)
    return {
        "vista_previa": preview(dataset, df),
        "graficos": graficos.charts,
        "mapa": graficos.mapa,
        "k": graficos.k,
        "unidad": graficos.unidad,
        "mini": graficos.mini,
        "uso": api_usage(dataset, df, version=version, published_at=published_at),
    }
