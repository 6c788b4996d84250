"""The casanare.gov.co open-data section: static pages rendered with Jinja2 and delivered atomically.

Ley 1712 de 2014 asks the entity to show its open data under "Transparencia y acceso a la
información pública". We do not know the site's CMS, so we publish a self-contained static
section (no external CDN) through a transport (local folder or SFTP):

1. every publication of a dataset is uploaded to a new folder ``versiones/<ruta>/<version>/``;
   a failure there leaves the live site untouched (the half-uploaded folder is removed);
2. the public path ``conjuntos/<ruta>`` is a symbolic link switched with one rename, so a
   visitor sees the old version or the new one, never a half-written page;
3. the dataset's state goes to its own ``estado/<ruta>.json``; the index, the facet pages,
   ``data.json`` and the Atom feed are rebuilt from all state files and written temp+rename,
   then re-checked, so two DAGs publishing at once do not lose each other's entry.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from casanare import settings
from casanare.catalog import Dataset, slug_valido
from casanare.publish.site.catalog_pages import LICENCIAS_URL, build_catalog, inventory_entries
from casanare.publish.site.downloads import (
    FORMULA_PREFIXES,
    csv_bytes,
    json_bytes,
    neutralize_cell,
    write_downloads,
    xlsx_bytes,
)
from casanare.publish.site.paths import safe_relative
from casanare.publish.site.privacy_panel import privacy_view
from casanare.publish.site.releases import prune_releases, with_release_flags
from casanare.publish.site.schedule import FRECUENCIA_TEXTO, bogota, fecha_larga, proxima_actualizacion_texto
from casanare.publish.site.transport import LocalFolder, Transport

__all__ = [
    "FORMULA_PREFIXES",
    "LocalFolder",
    "Transport",
    "csv_bytes",
    "json_bytes",
    "neutralize_cell",
    "publish_site",
    "render_dataset_page",
    "xlsx_bytes",
]

log = logging.getLogger(__name__)

# Versions listed in a dataset's state (and so in the feed and the page's history links).
VERSIONES_EN_ESTADO = 20
# How many times the site-wide files are rebuilt when another DAG changed the state meanwhile.
INTENTOS_INDICE = 20
TIPOS = {
    "texto": "Texto",
    "entero": "Número entero",
    "decimal": "Número decimal",
    "fecha": "Fecha",
    "fecha_hora": "Fecha y hora",
    "booleano": "Verdadero/falso",
}


def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    # Autoescape everything (html and the Atom xml): catalog texts and data are never trusted.
    return Environment(
        loader=FileSystemLoader(str(settings.include_dir() / "templates" / "sitio")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def _size(data: bytes | int | None) -> str | None:
    if data is None:
        return None
    size = float(data if isinstance(data, int) else len(data))
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}".replace(".", ",")
        size /= 1024
    return None


def _miles(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _history_rows(
    ruta: str, current: dict[str, Any], site_versions: list[dict[str, Any]], runs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """This run first, then earlier versions (site state + DatasetArea.history()), newest first."""
    on_site = {v["version"] for v in site_versions if v.get("descargable", True)}
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        version = run.get("version_sitio") or run.get("ejecucion")
        if not version or not run.get("fecha"):
            continue
        filas = run.get("filas_publicadas")
        if not isinstance(filas, int):
            filas = run.get("filas_extraidas")
        rows[str(version)] = {"version": str(version), "fecha_iso": str(run["fecha"]), "filas": filas}
    for v in site_versions:
        rows[v["version"]] = {"version": v["version"], "fecha_iso": v["fecha"], "filas": v["filas"]}
    rows[current["version"]] = {"version": current["version"], "fecha_iso": current["fecha"], "filas": current["filas"]}
    ordered = sorted(rows.values(), key=lambda r: r["fecha_iso"], reverse=True)
    result = []
    for r in ordered:
        try:
            when = fecha_larga(datetime.fromisoformat(r["fecha_iso"]))
        except ValueError:
            when = r["fecha_iso"]
        link = (
            f"../../versiones/{ruta}/{r['version']}/datos.csv"
            if r["version"] in on_site and r["version"] != current["version"] else None
        )
        filas = _miles(r["filas"]) if isinstance(r["filas"], int) else "—"
        result.append({"version": r["version"], "fecha": when, "filas": filas, "enlace": link})
    return result


def blank_meanings(dataset: Dataset) -> list[tuple[str, str]]:
    """(column, what an empty cell means) for the data dictionary's blank-cell section."""
    from casanare.publish.site.datapackage import blank_meaning

    return [(c.nombre_salida, blank_meaning(c, dataset)) for c in dataset.columnas_publicadas]


def render_dataset_page(
    env: Any,
    dataset: Dataset,
    *,
    version: str,
    published_at: datetime,
    rows: int,
    sizes: dict[str, str | None],
    history: list[dict[str, Any]],
    calidad: dict[str, Any] | None,
    monitoreo: dict[str, Any] | None = None,
    explorar: dict[str, Any] | None = None,
    privacidad: dict[str, Any] | None = None,
) -> bytes:
    """The dataset's page (Spanish, accessible, every text escaped)."""
    portal_url = _portal_url(dataset)
    return env.get_template("conjunto.html").render(
        d=dataset,
        raiz="../../",
        version=version,
        filas_texto=_miles(rows),
        actualizado=fecha_larga(published_at),
        actualizado_iso=bogota(published_at).isoformat(timespec="seconds"),
        proxima=proxima_actualizacion_texto(dataset.frecuencia_actualizacion, published_at),
        frecuencia=FRECUENCIA_TEXTO[dataset.frecuencia_actualizacion],
        licencia_url=LICENCIAS_URL.get(dataset.licencia),
        tamanos=sizes,
        tipos=TIPOS,
        historial=history,
        calidad=calidad,
        portal_url=portal_url,
        vacios=blank_meanings(dataset),
        monitoreo=monitoreo,
        explorar=explorar,
        privacidad=privacy_view(dataset, privacidad),
    ).encode("utf-8")


def _portal_url(dataset: Dataset) -> str | None:
    """The dataset's page on datos.gov.co, once the portal has an id for it."""
    from casanare.publish.portal import portal_dataset_id

    dataset_id = portal_dataset_id(dataset)
    return f"{settings.portal_public_url()}/d/{dataset_id}" if dataset_id else None


def _read_entry(transport: Transport, name: str) -> dict[str, Any] | None:
    raw = transport.read_file(f"estado/{name}")
    if raw is None:
        return None
    try:
        entry = json.loads(raw)
    except ValueError:
        log.warning("Estado ilegible en el sitio web: %s", name)
        return None
    return entry if isinstance(entry, dict) and _read_entry_ok(entry) else None


def _state_snapshot(transport: Transport) -> dict[str, bytes | None]:
    return {
        name: transport.read_file(f"estado/{name}")
        for name in transport.list_files("estado")
        if name.endswith(".json") and name != "indice.json"
    }


def rebuild_catalog(transport: Transport, env: Any, *, generated: datetime) -> int:
    """Rebuild index, facet pages, data.json and the feed from every ``estado/*.json``.

    After writing, the state files are read again: if another DAG published meanwhile, its entry
    may be missing from what we just wrote, so we build again (the last writer always re-checks).

    Returns:
        The number of datasets listed.
    """
    base_url = settings.website_public_url()
    snapshot = _state_snapshot(transport)
    for _ in range(INTENTOS_INDICE):
        entries = []
        for _name, raw in sorted(snapshot.items()):
            try:
                entry = json.loads(raw) if raw else None
            except ValueError:
                entry = None
            if isinstance(entry, dict) and _read_entry_ok(entry):
                entries.append(entry)
        inventario = inventory_entries({e["slug"] for e in entries})
        files = build_catalog(env, entries, base_url=base_url, generated=generated, inventario=inventario)
        # Facet pages and feeds first, the front page last.
        for name in sorted(files, key=lambda n: n == "index.html"):
            transport.write_file(name, files[name])
        again = _state_snapshot(transport)
        if again == snapshot:
            return len(entries)
        snapshot = again
    log.warning("El índice del sitio cambió durante la reconstrucción; quedará al día en la próxima publicación.")
    return len(entries)


def _read_entry_ok(entry: dict[str, Any]) -> bool:
    needed = {"slug", "ruta", "nombre", "descripcion", "dependencia", "categoria", "frecuencia", "actualizado"}
    return needed <= entry.keys()


def dataset_entry(
    dataset: Dataset,
    *,
    ruta: str,
    version: str,
    rows: int,
    published_at: datetime,
    formats: list[str],
    previous: dict[str, Any] | None,
    sin_cambios: bool = False,
) -> dict[str, Any]:
    """The dataset's public state: what the index, data.json and the feed need (no data values).

    A version whose source did not change is marked ``sin_cambios``: the feed skips it, in step with
    the Fase III announcements (``casanare.instruments.anuncios``).
    """
    when = bogota(published_at).isoformat(timespec="seconds")
    versions = [v for v in (previous or {}).get("versiones", []) if v.get("version") != version]
    current = {"version": version, "fecha": when, "filas": rows, **({"sin_cambios": True} if sin_cambios else {})}
    versions = [current, *versions][:VERSIONES_EN_ESTADO]
    return {
        "slug": dataset.slug,
        "ruta": ruta,
        "nombre": dataset.nombre,
        "descripcion": dataset.descripcion,
        "dependencia": dataset.dependencia,
        "categoria": dataset.categoria,
        "frecuencia": dataset.frecuencia_actualizacion,
        "licencia": dataset.licencia,
        "etiquetas": list(dataset.etiquetas),
        "contactos": [str(c) for c in dataset.contactos],
        "cobertura": dataset.cobertura_geografica,
        "portal_url": _portal_url(dataset),
        "formatos": formats,
        "version": version,
        "filas": rows,
        "actualizado": when,
        "actualizado_texto": fecha_larga(published_at),
        "primera_version": (previous or {}).get("primera_version") or version,
        "versiones": versions,
    }


def publish_site(
    df: pd.DataFrame,
    dataset: Dataset,
    transport: Transport,
    *,
    version: str,
    published_at: datetime,
    history: list[dict[str, Any]] | None = None,
    scorecard: dict[str, Any] | None = None,
    validation: dict[str, Any] | None = None,
    sin_cambios: bool = False,
    release_check: Callable[[pd.DataFrame], str | None] | None = None,
    privacidad: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Render and deliver one dataset's page, its downloads and the refreshed site-wide files.

    Args:
        df: the anonymized table (exactly what datos.gov.co receives).
        dataset: its catalog entry.
        transport: where the site lives.
        version: name of the version folder (letters, digits, ``_ . -``).
        published_at: publication moment (shown in America/Bogota time).
        history: earlier successful runs (``DatasetArea.history()``).
        scorecard: the MinTIC quality scorecard, if the quality module produced one.
        validation: the run's ``validar`` stage result (GX rules), if any.
        sin_cambios: the source is the same as in the last success (not announced in the feed).
        release_check: today's privacy check of a past release (withdrawn if it fails).
        privacidad: the run's ``anonimizar`` stage record (k, generalization levels, loss).

    Returns:
        A JSON-safe report for the run manifest.
    """
    from casanare.publish.site.datapackage import datapackage_bytes
    from casanare.publish.site.explore import explore_view
    from casanare.publish.site.monitor_panel import monitor_panel
    from casanare.publish.site.scorecard import scorecard_view

    if dataset.casanare_gov_co is None:
        raise ValueError(f"el conjunto {dataset.slug} no tiene página en casanare.gov.co")
    ruta = dataset.casanare_gov_co.ruta
    if not slug_valido(dataset.slug):
        raise ValueError("slug inválido para el sitio web")
    base = safe_relative(f"versiones/{ruta}/{version}")
    env = _env()
    previous = _read_entry(transport, f"{ruta}.json")

    rows = len(df)
    with tempfile.TemporaryDirectory(prefix="descargas-") as tmp:
        # Downloads are streamed to local files (constant memory whatever the row count), then
        # delivered; the page only needs their sizes.
        tipos = {c.nombre_salida: c.tipo_salida for c in dataset.columnas if c.publicada}
        downloads = write_downloads(df, Path(tmp), sheet=ruta, tipos=tipos)
        formats = [f for f in ("csv", "xlsx", "json") if f"datos.{f}" in downloads]
        package = datapackage_bytes(dataset, version=version, rows=rows, formats=formats)
        when = bogota(published_at).isoformat(timespec="seconds")
        current = {"version": version, "fecha": when, "filas": rows}
        # Bounded past versions, re-checked against today's privacy policy (before the page lists them).
        released, releases_report = prune_releases(
            transport, dataset, ruta=ruta, current=version, check=release_check,
            versions=[current, *[v for v in (previous or {}).get("versiones", []) if v.get("version") != version]],
        )
        rows_history = _history_rows(ruta, current, released, history or [])
        explorar = explore_view(dataset, df, version=version, published_at=published_at)
        page = render_dataset_page(
            env, dataset, version=version, published_at=published_at, rows=rows,
            sizes={f: _size(downloads[f"datos.{f}"].stat().st_size) if f"datos.{f}" in downloads else None
                   for f in ("csv", "xlsx", "json")},
            history=rows_history, calidad=scorecard_view(scorecard, validation), explorar=explorar,
            monitoreo=monitor_panel(transport, dataset), privacidad=privacidad,
        )
        try:
            for name in ("datos.csv", "datos.xlsx", "datos.json"):
                if name in downloads:
                    _deliver(transport, f"{base}/{name}", downloads[name])
            transport.write_file(f"{base}/datapackage.json", package)
            transport.write_file(f"{base}/index.html", page)
            transport.switch(f"conjuntos/{ruta}", f"../{base}")
        except Exception:
            # The live site still points at the previous version; drop the incomplete folder.
            try:
                transport.remove_tree(base)
            except Exception:
                log.warning("No se pudo borrar la versión incompleta %s", base)
            raise
    files = [*downloads, "datapackage.json", "index.html"]

    entry = dataset_entry(
        dataset, ruta=ruta, version=version, rows=rows, published_at=published_at, formats=formats,
        previous=previous, sin_cambios=sin_cambios,
    )
    entry["versiones"] = with_release_flags(entry["versiones"], released)
    entry["mini"] = explorar["mini"]  # aggregated numbers (k rule applied) for the index's small chart
    transport.write_file(f"estado/{ruta}.json", json.dumps(entry, ensure_ascii=False, indent=1).encode("utf-8"))
    listed = rebuild_catalog(transport, env, generated=published_at)
    return {
        "version": version,
        "ruta": f"conjuntos/{ruta}/",
        "url": f"{settings.website_public_url()}/conjuntos/{ruta}/",
        "archivos": sorted(files),
        "filas": rows,
        "conjuntos_en_indice": listed,
        "versiones_anteriores": releases_report,
    }


def _deliver(transport: Transport, relative: str, path: Path) -> None:
    """Hand a local file (a download, not needed here afterwards) over to the site: moved when
    the transport can (``move_path``), else streamed (``write_path``), else sent whole."""
    move_path = getattr(transport, "move_path", None)
    write_path = getattr(transport, "write_path", None)
    if move_path is not None:
        move_path(relative, path)
    elif write_path is not None:
        write_path(relative, path)
    else:
        transport.write_file(relative, path.read_bytes())
