"""Use of the data: portal views/downloads, website page views/downloads, per-view ratio, trends.

The portal reports cumulative ``viewCount`` and ``downloadCount`` (``/api/views/<id>.json``);
the website's counts come from its web server's access log (Common or Combined Log Format).
Trends compare cumulative totals kept in the daily history.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

# 127.0.0.1 - - [30/Nov/2026:21:00:00 +0000] "GET /conjuntos/x/datos.csv HTTP/1.1" 200 1234 ...
_LINE = re.compile(r'^\S+ \S+ \S+ \[[^\]]+\] "(?P<metodo>[A-Z]+) (?P<ruta>\S+)[^"]*" (?P<estado>\d{3}) ')
_PAGE = re.compile(r"/conjuntos/(?P<ruta>[a-z0-9][a-z0-9-]{1,80})/(?:index\.html)?$")
_DOWNLOAD = re.compile(
    r"/(?:conjuntos|versiones)/(?P<ruta>[a-z0-9][a-z0-9-]{1,80})/(?:[A-Za-z0-9_.-]+/)?datos\.(?:csv|xlsx|json)$"
)
VENTANAS = (30, 90)


@dataclass
class SiteCounts:
    """Page views and downloads per website folder (``casanare_gov_co.ruta``)."""

    vistas: Counter[str] = field(default_factory=Counter)
    descargas: Counter[str] = field(default_factory=Counter)
    lineas_ilegibles: int = 0


def parse_access_log(lines: Iterable[str]) -> SiteCounts:
    """Count successful GETs of dataset pages and data files; other lines are ignored.

    Query strings are dropped; HEAD requests and errors do not count as use.
    """
    counts = SiteCounts()
    for line in lines:
        match = _LINE.match(line)
        if match is None:
            counts.lineas_ilegibles += bool(line.strip())
            continue
        if match["metodo"] != "GET" or match["estado"] not in {"200", "206", "304"}:
            continue
        path = match["ruta"].split("?", 1)[0].split("#", 1)[0]
        if (hit := _DOWNLOAD.search(path)) is not None:
            counts.descargas[hit["ruta"]] += 1
        elif (hit := _PAGE.search(path)) is not None:
            counts.vistas[hit["ruta"]] += 1
    return counts


def read_access_logs(path: Path) -> SiteCounts:
    """The log and its rotated siblings (``access.log.1``…), so totals survive a rotation."""
    files = [*sorted(path.parent.glob(path.name + ".*")), path]
    lines: list[str] = []
    for item in files:
        if item.is_file() and not item.name.endswith(".gz"):
            lines.extend(item.read_text(encoding="utf-8", errors="replace").splitlines())
    return parse_access_log(lines)


def _total(row: dict[str, Any], kind: str) -> int | None:
    values = [row.get(f"{kind}_portal"), row.get(f"{kind}_sitio")]
    known = [v for v in values if isinstance(v, int)]
    return sum(known) if known else None


def _at_or_before(rows: list[dict[str, Any]], day: date, kind: str) -> int | None:
    best = None
    for row in rows:
        if row["fecha"] <= day and (value := _total(row, kind)) is not None:
            best = value
    return best


def use_summary(rows: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """Use of one dataset from its daily rows (oldest first, today's included).

    Returns totals, downloads per view and, per window (30 and 90 days), the downloads in the
    window and the change against the previous window (None while history is too short).
    """
    current = next((r for r in reversed(rows) if r["fecha"] <= today), None)
    vistas = _total(current, "vistas") if current else None
    descargas = _total(current, "descargas") if current else None
    summary: dict[str, Any] = {
        "vistas": vistas,
        "descargas": descargas,
        "descargas_por_vista": round(descargas / vistas, 3) if vistas and descargas is not None else None,
    }
    first = rows[0]["fecha"] if rows else today
    for days in VENTANAS:
        start, before = today - timedelta(days=days), today - timedelta(days=2 * days)
        base = _at_or_before(rows, start, "descargas")
        partial = base is None
        if partial:  # younger history: count from the first day we have
            base = _total(rows[0], "descargas") if rows else None
        window = descargas - base if descargas is not None and base is not None else None
        previous_base = _at_or_before(rows, before, "descargas")
        previous = base - previous_base if not partial and previous_base is not None and base is not None else None
        change = None
        if window is not None and previous:
            change = round((window - previous) / previous * 100, 1)
        summary[f"descargas_{days}d"] = window
        summary[f"tendencia_{days}d"] = change
        summary[f"ventana_{days}d_completa"] = not partial and first <= before
    return summary
