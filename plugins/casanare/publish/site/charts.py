"""Server-side SVG charts: bars, lines over time, a map of Casanare and sparklines.

Hand-written SVG, chosen by measurement against pygal and matplotlib (``scripts/bench_charts.py``;
figures in docs/sitio_web.md): a few KB per chart, no runtime dependency, no client-side script,
and rendering 200 pages of charts takes well under a second. Every function returns a
:class:`Chart`: the SVG (``role="img"`` with ``<title>``/``<desc>`` as its text alternative) plus
the same numbers as rows for an accessible table. Every text that reaches the SVG is escaped.

The functions draw what they are given: grouping, ordering and the k rule (no group smaller than
the dataset's k) are the caller's job (see ``casanare.publish.site.dataset_charts``).
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from markupsafe import Markup, escape

from casanare import settings

VERDE = "#1e6b24"
GRIS = "#595959"
GRIS_CLARO = "#d9d9d9"
FONT = 'font-family="system-ui,sans-serif"'
ANCHO = 640
# Longest label drawn inside a chart; the data table always has the full text.
MAX_ETIQUETA = 26


@dataclass(frozen=True)
class Chart:
    """One chart: safe SVG markup plus its text alternative and data table.

    Attributes:
        svg: the ``<svg>`` element, already escaped (a ``Markup``, inserted as is by Jinja).
        title: short title (also the SVG ``<title>``).
        description: one or two sentences saying what the chart shows (the SVG ``<desc>``).
        headers: column titles of the data table.
        rows: the data, formatted for reading (same order as drawn).
    """

    svg: Markup
    title: str
    description: str
    headers: tuple[str, str]
    rows: list[tuple[str, str]] = field(default_factory=list)

    def table_html(self, caption: str | None = None) -> Markup:
        """The chart's data as an accessible HTML table (caption, ``th scope``)."""
        head = "".join(f'<th scope="col">{escape(h)}</th>' for h in self.headers)
        body = "".join(f'<tr><th scope="row">{escape(a)}</th><td>{escape(b)}</td></tr>' for a, b in self.rows)
        return Markup(
            f"<table><caption>{escape(caption or self.title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )

    def __html__(self) -> str:  # lets templates write {{ chart }}
        return str(self.svg)


# Numbers in Colombian Spanish ------------------------------------------------------------------


def format_number(value: float) -> str:
    """``1234567`` → ``1.234.567``; ``1234.5`` → ``1.234,5`` (at most two decimals)."""
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{round(float(value)):,}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_compact(value: float) -> str:
    """Axis labels: ``2500000`` → ``2,5 M``; ``3e9`` → ``3 mil M``; ``4e12`` → ``4 bill.``"""
    sign = "-" if value < 0 else ""
    value = abs(value)
    for limit, suffix in ((1e12, " bill."), (1e9, " mil M"), (1e6, " M"), (1e3, " mil")):
        if value >= limit:
            number = value / limit
            text = f"{number:.1f}".rstrip("0").rstrip(".") if number < 100 else f"{number:.0f}"
            return sign + text.replace(".", ",") + suffix
    return sign + format_number(value)


def _short(label: str) -> str:
    return label if len(label) <= MAX_ETIQUETA else label[: MAX_ETIQUETA - 1] + "…"


def _ident(kind: str, title: str, data: object) -> str:
    """A stable id for the title/desc elements, distinct for distinct charts on one page."""
    digest = hashlib.blake2s(repr((kind, title, data)).encode("utf-8"), digest_size=5).hexdigest()
    return f"g{kind[0]}{digest}"


def _open(kind: str, title: str, description: str, data: object, width: float, height: float) -> str:
    ident = _ident(kind, title, data)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="grafico grafico-{kind}" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="100%" style="max-width:{width:.0f}px" '
        f'aria-labelledby="{ident}t {ident}d" {FONT} font-size="12">'
        f'<title id="{ident}t">{escape(title)}</title><desc id="{ident}d">{escape(description)}</desc>'
    )


def _nice_max(value: float) -> float:
    """Smallest 1/2/2.5/5 × 10ⁿ at or above ``value`` (axis top)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


# Bars -----------------------------------------------------------------------------------------


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    description: str,
    label_header: str,
    value_header: str,
) -> Chart:
    """Horizontal bars, one per ``(label, value)``, drawn in the given order (values ≥ 0)."""
    top = _nice_max(max((v for _, v in items), default=0))
    label_w, bar_w, row_h, pad = 190.0, 350.0, 22.0, 8.0
    height = pad * 2 + row_h * max(len(items), 1)
    parts = [_open("barras", title, description, items, ANCHO, height)]
    for i, (label, value) in enumerate(items):
        y = pad + i * row_h
        w = max(bar_w * value / top, 0.0) if top else 0.0
        parts.append(
            f'<text x="{label_w - 6:.0f}" y="{y + 15:.0f}" text-anchor="end">{escape(_short(label))}</text>'
            f'<rect x="{label_w:.0f}" y="{y + 3:.0f}" width="{w:.1f}" height="{row_h - 6:.0f}" fill="{VERDE}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 15:.0f}" fill="{GRIS}">{escape(format_number(value))}</text>'
        )
    if not items:
        parts.append(f'<text x="{ANCHO / 2:.0f}" y="{pad + 15:.0f}" text-anchor="middle">Sin datos</text>')
    parts.append("</svg>")
    return Chart(Markup("".join(parts)), title, description, (label_header, value_header), _rows(items))


# Lines over time ------------------------------------------------------------------------------


def line_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    description: str,
    label_header: str,
    value_header: str,
    height: float = 240.0,
) -> Chart:
    """A line through ``(period label, value)`` points in time order, y axis from zero.

    A ``None`` value is a gap (no data, or a value that must not be shown): the line breaks there
    and the table says "no se muestra".
    """
    left, right, top_pad, bottom = 70.0, 16.0, 12.0, 34.0
    plot_w, plot_h = ANCHO - left - right, height - top_pad - bottom
    top = _nice_max(max((v for _, v in points if v is not None), default=0))
    parts = [_open("lineas", title, description, points, ANCHO, height)]
    for step in range(5):  # horizontal grid with compact labels
        value = top * step / 4
        y = top_pad + plot_h - plot_h * step / 4
        parts.append(
            f'<line x1="{left:.0f}" x2="{ANCHO - right:.0f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRIS_CLARO}"/>'
            f'<text x="{left - 6:.0f}" y="{y + 4:.1f}" text-anchor="end" fill="{GRIS}">'
            f"{escape(format_compact(value))}</text>"
        )
    n = len(points)
    xs = [left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    ys = [None if v is None else top_pad + plot_h - plot_h * max(v, 0) / top for _, v in points]
    if n:
        parts.extend(_polylines(xs, ys, 'stroke-width="2.5"'))
        if n <= 60:
            parts.extend(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{VERDE}"/>'
                for x, y in zip(xs, ys, strict=True) if y is not None
            )
        ticks = sorted({round(i * (n - 1) / 5) for i in range(6)}) if n > 12 else range(n)
        for i in ticks:
            anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
            parts.append(
                f'<text x="{xs[i]:.1f}" y="{height - 12:.0f}" text-anchor="{anchor}" fill="{GRIS}">'
                f"{escape(_short(points[i][0]))}</text>"
            )
    else:
        parts.append(f'<text x="{ANCHO / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle">Sin datos</text>')
    parts.append("</svg>")
    return Chart(Markup("".join(parts)), title, description, (label_header, value_header), _rows(points))


NO_SE_MUESTRA = "no se muestra"


def _rows(points: Sequence[tuple[str, float | None]]) -> list[tuple[str, str]]:
    return [(label, NO_SE_MUESTRA if value is None else format_number(value)) for label, value in points]


def _polylines(xs: Sequence[float], ys: Sequence[float | None], style: str, digits: int = 1) -> list[str]:
    """One polyline per run of consecutive points that have a value."""
    runs: list[list[str]] = [[]]
    for x, y in zip(xs, ys, strict=True):
        if y is None:
            runs.append([])
        else:
            runs[-1].append(f"{x:.{digits}f},{y:.{digits}f}")
    return [
        f'<polyline points="{" ".join(run)}" fill="none" stroke="{VERDE}" {style}/>' for run in runs if len(run) > 1
    ]


# Sparklines (catalog index, dashboards) -------------------------------------------------------


def sparkline(
    values: Sequence[float | None],
    *,
    title: str,
    description: str,
    labels: Sequence[str] | None = None,
    label_header: str = "Periodo",
    value_header: str = "Valor",
    width: float = 120.0,
    height: float = 28.0,
    bars: bool = False,
) -> Chart:
    """A word-sized chart (a line, or bars with ``bars=True``) with no axes or labels; ``None`` is a gap."""
    top = max((v for v in values if v is not None), default=0) or 1.0
    n = len(values)
    parts = [
        _open("mini", title, description, (tuple(values), tuple(labels or ())), width, height)
        .replace(f' {FONT} font-size="12"', "")  # no text inside
        .replace(f'style="max-width:{width:.0f}px"', f'style="max-width:{width:.0f}px" height="{height:.0f}"')
    ]
    if bars and n:
        slot = width / n
        for i, v in enumerate(values):
            if v is None or v <= 0:
                continue
            h = max((height - 2) * v / top, 1.0)
            parts.append(
                f'<rect x="{i * slot + slot * 0.1:.1f}" y="{height - h:.1f}" width="{slot * 0.8:.1f}" '
                f'height="{h:.1f}" fill="{VERDE}"/>'
            )
    elif n:
        xs = [width * i / (n - 1) if n > 1 else width / 2 for i in range(n)]
        ys = [None if v is None else height - 2 - (height - 4) * max(v, 0) / top for v in values]
        parts.extend(_polylines(xs, ys, 'stroke-width="1.5"', digits=0))  # a pixel is enough at this size
        last = next((i for i in range(n - 1, -1, -1) if ys[i] is not None), None)
        if last is not None:
            parts.append(f'<circle cx="{xs[last]:.1f}" cy="{ys[last]:.1f}" r="2" fill="{VERDE}"/>')
    parts.append("</svg>")
    names = list(labels) if labels is not None else [str(i + 1) for i in range(n)]
    rows = _rows(list(zip(names, values, strict=True)))
    return Chart(Markup("".join(parts)), title, description, (label_header, value_header), rows)


# Map of Casanare ------------------------------------------------------------------------------

# Simplified outline of the department (lon, lat), about 0.1° accurate: enough to place the 19
# municipal seats in context. It is drawn as "contorno aproximado", never used for measurement.
CONTORNO_CASANARE: tuple[tuple[float, float], ...] = (
    (-73.08, 4.80), (-73.15, 5.05), (-72.95, 5.30), (-72.80, 5.55), (-72.55, 5.75), (-72.45, 6.00),
    (-72.40, 6.25), (-72.10, 6.32), (-71.60, 6.25), (-71.00, 6.12), (-70.50, 6.06), (-70.05, 6.00),
    (-69.85, 5.90), (-70.30, 5.60), (-70.80, 5.20), (-71.20, 4.85), (-71.60, 4.60), (-72.10, 4.45),
    (-72.60, 4.30), (-72.95, 4.35), (-73.05, 4.55),
)


# Seats whose names would overlap a neighbour's: label on the left (end) or below instead.
ETIQUETA_IZQUIERDA = frozenset({"85015", "85136"})
ETIQUETA_ABAJO = frozenset({"85300", "85325"})


@dataclass(frozen=True)
class Municipio:
    codigo: str
    nombre: str
    latitud: float
    longitud: float


@cache
def municipios_casanare(path: Path | None = None) -> tuple[Municipio, ...]:
    """The 19 municipalities with their seat coordinates (``include/reference/divipola_casanare.csv``)."""
    path = path or settings.include_dir() / "reference" / "divipola_casanare.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(
            Municipio(r["codigo_municipio"], r["municipio"], float(r["latitud"]), float(r["longitud"]))
            for r in csv.DictReader(handle)
        )


def _projection(width: float, height: float, pad: float):
    lons = [p[0] for p in CONTORNO_CASANARE]
    lats = [p[1] for p in CONTORNO_CASANARE]
    scale_x = math.cos(math.radians(sum(lats) / len(lats)))  # equirectangular at the mean latitude
    span_x, span_y = (max(lons) - min(lons)) * scale_x, max(lats) - min(lats)
    k = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return pad + (lon - min(lons)) * scale_x * k, pad + (max(lats) - lat) * k

    return project


def map_chart(
    values: Mapping[str, float],
    *,
    title: str,
    description: str,
    value_header: str,
    hidden: Sequence[str] = (),
    width: float = 640.0,
    height: float = 400.0,
) -> Chart:
    """Casanare with a circle at each municipal seat, its area proportional to the value.

    Args:
        values: DIVIPOLA code (``85001``) → value; seats without a value are drawn as small grey dots.
        hidden: codes whose value exists but is not shown (e.g. a group smaller than k): drawn grey
            and listed as "no se muestra" in the table.
    """
    project = _projection(width, height, 24.0)
    outline = " ".join("{:.1f},{:.1f}".format(*project(lon, lat)) for lon, lat in CONTORNO_CASANARE)
    top = max(values.values(), default=0) or 1.0
    parts = [
        _open("mapa", title, description, (sorted(values.items()), tuple(hidden)), width, height),
        f'<polygon points="{outline}" fill="#eef5ee" stroke="{GRIS}" stroke-width="1"/>',
    ]
    rows = []
    hidden_set = set(hidden)
    for m in sorted(municipios_casanare(), key=lambda m: -values.get(m.codigo, 0)):  # big circles first
        x, y = project(m.longitud, m.latitud)
        value = values.get(m.codigo)
        if value is not None and value > 0:
            r = 3 + 22 * math.sqrt(value / top)
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{VERDE}" fill-opacity="0.55" '
                f'stroke="{VERDE}"/>'
            )
        else:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{GRIS}"/>')
        if m.codigo in ETIQUETA_IZQUIERDA:
            lx, ly, anchor = x - 5, y - 4, "end"
        elif m.codigo in ETIQUETA_ABAJO:
            lx, ly, anchor = x + 5, y + 12, "start"
        else:
            lx, ly, anchor = x + 5, y - 4, "start"
        parts.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" font-size="10" fill="#1b1b1b">'
            f"{escape(m.nombre)}</text>"
        )
    for m in sorted(municipios_casanare(), key=lambda m: m.nombre):
        if m.codigo in values:
            rows.append((m.nombre, format_number(values[m.codigo])))
        elif m.codigo in hidden_set:
            rows.append((m.nombre, f"{NO_SE_MUESTRA} (grupo pequeño)"))
        else:
            rows.append((m.nombre, "sin datos"))
    parts.append(
        f'<text x="{width - 8:.0f}" y="{height - 8:.0f}" text-anchor="end" font-size="10" fill="{GRIS}">'
        "Contorno aproximado · puntos en las cabeceras municipales</text></svg>"
    )
    return Chart(Markup("".join(parts)), title, description, ("Municipio", value_header), rows)


# Stacked bars (monitoring dashboard) ------------------------------------------------------------

PALETA_APILADA = ("#1e6b24", "#c77700", "#b3261e", "#8c8c8c", "#0b4f8a")


def stacked_bar_chart(
    items: Sequence[tuple[str, Sequence[float]]],
    *,
    series: Sequence[str],
    title: str,
    description: str,
    label_header: str,
    colors: Sequence[str] = PALETA_APILADA,
) -> Chart:
    """Horizontal bars split into ``series`` (e.g. freshness states per dependencia), with a legend.

    Each item is ``(label, values)`` with one value ≥ 0 per series, drawn in the given order. The
    data table lists every series by name for each label.
    """
    top = _nice_max(max((sum(v) for _, v in items), default=0))
    label_w, bar_w, row_h, pad, legend_h = 190.0, 350.0, 22.0, 8.0, 22.0
    height = pad * 2 + legend_h + row_h * max(len(items), 1)
    parts = [_open("apiladas", title, description, (items, tuple(series)), ANCHO, height)]
    x = label_w
    for name, color in zip(series, colors, strict=False):  # legend
        parts.append(f'<rect x="{x:.0f}" y="{pad:.0f}" width="12" height="12" fill="{color}"/>'
                     f'<text x="{x + 16:.0f}" y="{pad + 11:.0f}">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    for i, (label, values) in enumerate(items):
        y = pad + legend_h + i * row_h
        parts.append(f'<text x="{label_w - 6:.0f}" y="{y + 15:.0f}" text-anchor="end">{escape(_short(label))}</text>')
        x = label_w
        for value, color in zip(values, colors, strict=False):
            w = max(bar_w * value / top, 0.0) if top else 0.0
            if w:
                parts.append(f'<rect x="{x:.1f}" y="{y + 3:.0f}" width="{w:.1f}" height="{row_h - 6:.0f}" '
                             f'fill="{color}"/>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 15:.0f}" fill="{GRIS}">{escape(format_number(sum(values)))}</text>')
    if not items:
        parts.append(f'<text x="{ANCHO / 2:.0f}" y="{pad + legend_h + 15:.0f}" text-anchor="middle">Sin datos</text>')
    parts.append("</svg>")
    rows = [(label, " · ".join(f"{name}: {format_number(v)}" for name, v in zip(series, values, strict=False)))
            for label, values in items]
    return Chart(Markup("".join(parts)), title, description, (label_header, "Valores"), rows)
