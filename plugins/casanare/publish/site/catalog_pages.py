"""Site-wide outputs rebuilt from every dataset's ``estado/<ruta>.json``.

The catalog index, one static page per facet value (dependencia, categoría, frecuencia: the
filter works without JavaScript), ``data.json`` (DCAT-US / Project Open Data 1.1) and the Atom
feed ``novedades.atom`` of new and updated datasets. Building them only from per-dataset state
files (never a read-modify-write of one shared index) lets two DAGs publish at once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from casanare.publish.site.dataset_charts import mini_chart
from casanare.publish.site.paths import facet_slug
from casanare.publish.site.schedule import FRECUENCIA_TEXTO

FACETAS: dict[str, str] = {"dependencia": "Dependencia", "categoria": "Categoría", "frecuencia": "Frecuencia"}
FEED_PATH = "novedades.atom"
FEED_ALIAS = "feed.xml"
FEED_ENTRIES = 50
# Tag URIs (RFC 4151) never change once minted: the date is the authority's, not the entry's.
TAG_AUTHORITY = "tag:casanare.gov.co,2024:datos-abiertos"
LICENCIAS_URL = {
    "CC BY-SA 4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "CC BY 4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC0 1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "Dominio público": "https://creativecommons.org/publicdomain/mark/1.0/",
}
# ISO 8601 repeating durations used by DCAT-US accrualPeriodicity.
PERIODICIDAD = {
    "diaria": "R/P1D",
    "semanal": "R/P1W",
    "mensual": "R/P1M",
    "trimestral": "R/P3M",
    "semestral": "R/P6M",
    "anual": "R/P1Y",
    "eventual": "irregular",
}
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def facet_value(entry: dict[str, Any], facet: str) -> str:
    if facet == "frecuencia":
        return FRECUENCIA_TEXTO.get(entry["frecuencia"], entry["frecuencia"])
    return str(entry[facet])


def facets(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """For each facet, its values with file name and count, sorted by value."""
    result: dict[str, list[dict[str, Any]]] = {}
    for facet in FACETAS:
        counts: dict[str, int] = defaultdict(int)
        for entry in entries:
            counts[facet_value(entry, facet)] += 1
        used: set[str] = set()
        values = []
        for value in sorted(counts, key=str.casefold):
            name = facet_slug(value)
            while name in used:  # two values folding to the same ASCII name
                name += "-2"
            used.add(name)
            values.append({"valor": value, "archivo": f"filtros/{facet}/{name}.html", "cantidad": counts[value]})
        result[facet] = values
    return result


def inventory_entries(published: set[str]) -> list[dict[str, Any]]:
    """Catalog entries not on the site: listed as "en inventario" with how to request them."""
    from casanare.catalog import load_catalog

    try:
        catalog = load_catalog()
    except ValueError:  # an invalid catalog fails the dataset DAGs loudly; the index just omits this list
        return []
    return [
        {"slug": d.slug, "nombre": d.nombre, "descripcion": d.descripcion, "dependencia": d.dependencia,
         "contactos": [str(c) for c in d.contactos], "priorizado": d.priorizado,
         "frecuencia": FRECUENCIA_TEXTO[d.frecuencia_actualizacion], "disponible": d.disponible}
        for d in sorted(catalog.datasets, key=lambda d: d.nombre.casefold())
        if d.slug not in published
    ]


def build_catalog(
    env: Any, entries: list[dict[str, Any]], *, base_url: str, generated: datetime,
    inventario: list[dict[str, Any]] | None = None,
) -> dict[str, bytes]:
    """Every site-wide file, keyed by its path relative to the site root."""
    entries = sorted(entries, key=lambda e: (e["nombre"].casefold(), e["slug"]))
    facet_map = facets(entries)
    # Each dataset's small chart is drawn once and reused by the index and every facet page.
    minis = {e["slug"]: mini_chart(e.get("mini"), e["nombre"]) for e in entries}
    files: dict[str, bytes] = {}
    index = env.get_template("indice.html")
    files["index.html"] = index.render(
        conjuntos=entries, facetas=facet_map, nombres_facetas=FACETAS, filtro=None, raiz="",
        facet_value=facet_value, inventario=inventario or [], mini=minis,
    ).encode("utf-8")
    for facet, values in facet_map.items():
        for item in values:
            selected = [e for e in entries if facet_value(e, facet) == item["valor"]]
            files[item["archivo"]] = index.render(
                conjuntos=selected, facetas=facet_map, nombres_facetas=FACETAS, raiz="../../",
                filtro={"faceta": facet, "nombre": FACETAS[facet], "valor": item["valor"]},
                facet_value=facet_value, mini=minis,
            ).encode("utf-8")
    files["data.json"] = data_json(entries, base_url=base_url)
    feed = atom_feed(env, entries, base_url=base_url, generated=generated)
    files[FEED_PATH] = feed
    files[FEED_ALIAS] = feed
    return files


def data_json(entries: list[dict[str, Any]], *, base_url: str) -> bytes:
    """The catalog as DCAT-US (Project Open Data metadata schema v1.1)."""
    datasets = []
    for e in entries:
        landing = f"{base_url}/conjuntos/{e['ruta']}/"
        distributions = [
            {
                "@type": "dcat:Distribution",
                "title": f"{e['nombre']} ({fmt.upper()})",
                "downloadURL": f"{landing}datos.{fmt}",
                "mediaType": MEDIA_TYPES[fmt],
                "format": fmt.upper(),
            }
            for fmt in e.get("formatos", ["csv", "json"])
        ]
        if e.get("portal_url"):
            distributions.append(
                {"@type": "dcat:Distribution", "title": "API SODA en datos.gov.co", "accessURL": e["portal_url"],
                 "format": "API"}
            )
        distributions += past_distributions(e, base_url=base_url)
        item = {
            "@type": "dcat:Dataset",
            "title": e["nombre"],
            "description": e["descripcion"],
            "keyword": e.get("etiquetas") or [e["categoria"].lower()],
            "modified": e["actualizado"],
            "publisher": {"@type": "org:Organization", "name": f"Gobernación de Casanare - {e['dependencia']}"},
            "contactPoint": {
                "@type": "vcard:Contact",
                "fn": e["dependencia"],
                "hasEmail": f"mailto:{e['contactos'][0]}" if e.get("contactos") else "mailto:contactenos@casanare.gov.co",
            },
            "identifier": landing,
            "accessLevel": "public",
            "license": LICENCIAS_URL.get(e["licencia"], LICENCIAS_URL["CC BY-SA 4.0"]),
            "spatial": e.get("cobertura") or "Departamento de Casanare",
            "accrualPeriodicity": PERIODICIDAD.get(e["frecuencia"], "irregular"),
            "theme": [e["categoria"]],
            "language": ["es-CO"],
            "landingPage": landing,
            "distribution": distributions,
        }
        datasets.append(item)
    catalog = {
        "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
        "@type": "dcat:Catalog",
        "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
        "describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
        "dataset": datasets,
    }
    return json.dumps(catalog, ensure_ascii=False, indent=1).encode("utf-8")


def past_distributions(entry: dict[str, Any], *, base_url: str) -> list[dict[str, Any]]:
    """CSV of each past version still downloadable (pruned or withdrawn ones are not listed)."""
    return [
        {
            "@type": "dcat:Distribution",
            "title": f"{entry['nombre']} (CSV, versión {v['version']})",
            "downloadURL": f"{base_url}/versiones/{entry['ruta']}/{v['version']}/datos.csv",
            "mediaType": MEDIA_TYPES["csv"],
            "format": "CSV",
        }
        for v in entry.get("versiones") or []
        if v["version"] != entry.get("version") and v.get("descargable")
    ]


def feed_entries(entries: list[dict[str, Any]], *, base_url: str) -> list[dict[str, Any]]:
    """One Atom entry per version still on the site, newest first; the first version reads "Nuevo".

    Versions pruned or withdrawn from the site (``descargable`` false) leave the feed too.
    """
    items = []
    for e in entries:
        for v in e.get("versiones") or []:
            if v.get("sin_cambios"):  # a no-change rerun is not news (nor a Fase III announcement)
                continue
            if v["version"] != e.get("version") and not v.get("descargable", True):
                continue
            new = v["version"] == e.get("primera_version")
            items.append(
                {
                    "id": f"{TAG_AUTHORITY}/{e['ruta']}/{v['version']}",
                    "titulo": f"{'Nuevo conjunto' if new else 'Actualización'}: {e['nombre']}",
                    "actualizado": v["fecha"],
                    "enlace": f"{base_url}/conjuntos/{e['ruta']}/",
                    "resumen": f"{e['nombre']} ({e['dependencia']}): versión {v['version']}, {v['filas']} filas.",
                    "categoria": e["categoria"],
                }
            )
    items.sort(key=lambda i: (i["actualizado"], i["id"]), reverse=True)
    return items[:FEED_ENTRIES]


def atom_feed(env: Any, entries: list[dict[str, Any]], *, base_url: str, generated: datetime) -> bytes:
    items = feed_entries(entries, base_url=base_url)
    updated = items[0]["actualizado"] if items else generated.isoformat(timespec="seconds")
    return env.get_template("novedades.atom").render(
        id=f"{TAG_AUTHORITY}/novedades", actualizado=updated, base_url=base_url, entradas=items,
        feed_url=f"{base_url}/{FEED_PATH}",
    ).encode("utf-8")
