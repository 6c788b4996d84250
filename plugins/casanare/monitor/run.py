"""The daily monitoring pass, as two plain steps the DAG calls: ``measure`` then ``render``.

``measure`` combines catalog, staging, portal and access log into today's rows, stores them in
the history database and returns a JSON-safe snapshot; ``render`` turns the snapshot and the
stored history into the public dashboard, the per-dataset panels and the quarterly report.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from casanare.catalog import Catalog
from casanare.monitor import history as store
from casanare.monitor import indicators as ind
from casanare.monitor.collect import registered_at, status_row
from casanare.monitor.portal import PortalEndpoint, fetch_page_views, fetch_view
from casanare.monitor.registries import Registros
from casanare.monitor.usage import VENTANAS, SiteCounts, read_access_logs, use_summary

SNAPSHOT = "ultimo.json"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def local_day(now: datetime) -> date:
    """The monitoring day is the Colombian calendar day."""
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo("America/Bogota")).date()


def measure(
    catalog: Catalog,
    *,
    now: datetime,
    staging_url: str,
    engine: sa.Engine,
    registros: Registros,
    endpoint: PortalEndpoint | None,
    access_log: Path | None,
) -> dict[str, Any]:
    """Measure every prioritized dataset, store today's rows and indicators, return the snapshot."""
    import requests

    from casanare.quality.scorecard import latest_scorecard
    from casanare.staging import DatasetArea

    store.ensure_schema(engine)
    today = local_day(now)
    site: SiteCounts | None = read_access_logs(access_log) if access_log else None
    # Enough history for the 90-day trend (this window and the one before), not the whole table.
    since = today - timedelta(days=2 * max(VENTANAS) + 7)
    past = [r for r in store.dataset_rows(engine, since=since) if r["fecha"] < today]
    rows: dict[str, dict[str, Any]] = {}
    with requests.Session() as session:
        # The catalog's 4x4, else the one the portal assigned when the platform created the dataset.
        ids = {ds.slug: (ds.datos_gov_co.dataset_id or DatasetArea(staging_url, ds.slug).portal_id())
               for ds in catalog.priorizados if ds.datos_gov_co}
        ids = {slug: i for slug, i in ids.items() if i}
        pages = fetch_page_views(endpoint, sorted(ids.values()), session) if endpoint is not None else {}
        for ds in catalog.priorizados:
            area = DatasetArea(staging_url, ds.slug)
            dataset_id = ids.get(ds.slug)
            view = fetch_view(endpoint, dataset_id, session) if endpoint is not None and dataset_id else None
            row = status_row(
                ds, now=now, alta=registered_at(area, now), history=area.history(),
                scorecard=latest_scorecard(staging_url, ds.slug), view=view, site=site, registros=registros,
            )
            row["vistas_pagina_portal"] = pages.get(dataset_id) if dataset_id else None
            mine = [r for r in past if r["conjunto"] == ds.slug] + [{**row, "fecha": today}]
            row["uso"] = use_summary(mine, today)
            row.update(vistas=row["uso"]["vistas"], descargas=row["uso"]["descargas"],
                       descargas_30d=row["uso"]["descargas_30d"])
            row["acciones"] = ind.pending_actions(ds, row, registros)
            rows[ds.slug] = row
    values = ind.compute(catalog.datasets, rows, registros)
    store.save_day(engine, today, list(rows.values()), values)
    return _jsonable({
        "fecha": today,
        "generado": now.astimezone(UTC),
        "conjuntos": rows,
        "indicadores": values,
        "desgloses": ind.breakdowns(catalog.datasets, rows),
        "frescura_por_dependencia": ind.freshness_by_dependencia(catalog.datasets, rows),
        "registro_acceso": access_log is not None,
        "lineas_ilegibles_registro": site.lineas_ilegibles if site else 0,
    })


def snapshot_bytes(snapshot: dict[str, Any]) -> bytes:
    return json.dumps(snapshot, ensure_ascii=False, indent=1).encode("utf-8")


def render(snapshot: dict[str, Any], *, engine: sa.Engine, registros: Registros, transport: Any) -> dict[str, Any]:
    """Write the quarterly report, the dashboard, its open data and the per-dataset panels to the site."""
    from casanare.monitor.dashboard import CARPETA, render_dashboard
    from casanare.monitor.report import build_report, report_name
    from casanare.publish.website import _env

    day = date.fromisoformat(snapshot["fecha"])
    workbook = build_report(snapshot, store.indicator_rows(engine), registros, day)
    transport.write_file(f"{CARPETA}/seguimiento/{report_name(day)}", workbook)
    reports = [n for n in transport.list_files(f"{CARPETA}/seguimiento") if n.endswith(".xlsx")]
    files = render_dashboard(_env(), snapshot, store.dataset_rows(engine), registros, reports=reports)
    for name in sorted(files, key=lambda n: n.endswith("index.html")):  # the page last
        transport.write_file(name, files[name])
    return {"archivos": len(files) + 1, "informe": f"{CARPETA}/seguimiento/{report_name(day)}",
            "tablero": f"{CARPETA}/index.html"}
