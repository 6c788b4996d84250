"""Benchmark that chose how the website draws charts: hand-written SVG against chart libraries.

For 200 dataset pages it renders what a page carries (bars for 19 municipios, a line over 24
months, a map of Casanare) and prints time and size per candidate. Libraries that are not
installed are skipped (they are not project dependencies: install them into a scratch folder and
put it on PYTHONPATH to compare). Then it renders 200 full dataset pages (preview, charts, map, API section: ``explore_view`` and
the page template) from tables of ``--filas`` rows and prints time and the largest page.
Run with ``python -m scripts.bench_charts [--paginas N] [--filas N]``.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT)]


def _data(page: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]], dict[str, float]]:
    from casanare.publish.site.charts import municipios_casanare

    seats = municipios_casanare()
    bars = [(m.nombre, float((page * 37 + i * 101) % 900 + 5)) for i, m in enumerate(seats)]
    months = [(f"{2025 + i // 12}-{i % 12 + 1:02d}", float((page + i * 13) % 70 + 10)) for i in range(24)]
    values = {m.codigo: v for m, (_, v) in zip(seats, bars, strict=True)}
    return bars, months, values


def hand_written(page: int) -> int:
    from casanare.publish.site import charts

    bars, months, values = _data(page)
    a = charts.bar_chart(bars, title="Filas por municipio", description="d", label_header="M", value_header="F")
    b = charts.line_chart(months, title="Filas por mes", description="d", label_header="Mes", value_header="F")
    c = charts.map_chart(values, title="Mapa", description="d", value_header="F")
    return sum(len(str(x.svg).encode()) for x in (a, b, c))


def pygal_charts(page: int) -> int:
    import pygal

    bars, months, values = _data(page)
    bar = pygal.HorizontalBar(disable_xml_declaration=True, show_legend=False)
    bar.x_labels = [b[0] for b in bars]
    bar.add("Filas", [b[1] for b in bars])
    line = pygal.Line(disable_xml_declaration=True, show_legend=False)
    line.x_labels = [m[0] for m in months]
    line.add("Filas", [m[1] for m in months])
    # pygal has no Casanare map: a scatter of the seats stands in for it.
    from casanare.publish.site.charts import municipios_casanare

    xy = pygal.XY(stroke=False, disable_xml_declaration=True, show_legend=False)
    xy.add("Filas", [(m.longitud, m.latitud) for m in municipios_casanare()])
    return sum(len(c.render()) for c in (bar, line, xy)) + 0 * len(values)


def matplotlib_charts(page: int) -> int:
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    from casanare.publish.site.charts import municipios_casanare

    bars, months, values = _data(page)
    total = 0
    for draw in (
        lambda ax: ax.barh([b[0] for b in bars], [b[1] for b in bars]),
        lambda ax: ax.plot([m[0] for m in months], [m[1] for m in months]),
        lambda ax: ax.scatter(
            [m.longitud for m in municipios_casanare()], [m.latitud for m in municipios_casanare()],
            s=[values[m.codigo] / 10 for m in municipios_casanare()],
        ),
    ):
        fig, ax = plt.subplots(figsize=(6.4, 3.2))
        draw(ax)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg")
        plt.close(fig)
        total += len(buffer.getvalue().encode())
    return total


def altair_charts(page: int) -> int:
    import altair as alt
    import pandas as pd
    import vl_convert as vlc

    bars, months, _values = _data(page)
    a = alt.Chart(pd.DataFrame(bars, columns=["m", "v"])).mark_bar().encode(y="m:N", x="v:Q")
    b = alt.Chart(pd.DataFrame(months, columns=["t", "v"])).mark_line().encode(x="t:O", y="v:Q")
    return sum(len(vlc.vegalite_to_svg(c.to_dict()).encode()) for c in (a, b))


CANDIDATES: dict[str, Callable[[int], int]] = {
    "SVG escrito a mano (charts.py)": hand_written,
    "pygal": pygal_charts,
    "matplotlib (backend svg)": matplotlib_charts,
    "altair + vl-convert (sin mapa)": altair_charts,
}


def full_pages(pages: int, rows: int) -> None:
    """``pages`` dataset pages, cycling through the catalog, each from its own table."""
    from datetime import UTC, datetime

    from casanare.catalog import load_catalog
    from casanare.publish.site.explore import explore_view
    from casanare.publish.website import _env, render_dataset_page
    from tests.e2e.test_website_explorar_browser import realistic_frame

    datasets = load_catalog().priorizados
    frames = [realistic_frame(ds, rows=rows, seed=i) for i, ds in enumerate(datasets)]
    env = _env()
    when = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
    aggregate = render = 0.0
    largest = 0
    for page in range(pages):
        ds, df = datasets[page % len(datasets)], frames[page % len(datasets)]
        start = time.perf_counter()
        view = explore_view(ds, df, version="20261122T153000", published_at=when)
        middle = time.perf_counter()
        html = render_dataset_page(env, ds, version="20261122T153000", published_at=when, rows=len(df),
                                   sizes={"csv": "1 KB", "xlsx": "1 KB", "json": "1 KB"}, history=[],
                                   calidad=None, explorar=view)
        render += time.perf_counter() - middle
        aggregate += middle - start
        largest = max(largest, len(html))
    print(f"{pages} páginas completas de conjuntos ({_miles(rows)} filas cada una):")
    print(f"  vista previa + gráficos + mapa + API (datos) {aggregate:6.2f} s, {aggregate / pages * 1000:6.1f} ms/página")
    print(f"  plantilla HTML                               {render:6.2f} s, {render / pages * 1000:6.1f} ms/página")
    print(f"  página más grande (HTML con sus SVG)         {largest / 1024:6.1f} KB")


def _miles(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def main() -> None:
    parser = argparse.ArgumentParser(description="Compara formas de dibujar los gráficos del sitio")
    parser.add_argument("--paginas", type=int, default=200)
    parser.add_argument("--filas", type=int, default=10_000)
    parser.add_argument("--solo-paginas", action="store_true", help="no comparar bibliotecas")
    args = parser.parse_args()
    full_pages(args.paginas, args.filas)
    if args.solo_paginas:
        return
    print(f"{args.paginas} páginas × (barras de 19 municipios + línea de 24 meses + mapa)")
    for name, render in CANDIDATES.items():
        try:
            render(0)  # imports and caches outside the timing
        except ImportError as exc:
            print(f"  {name:34s} no instalado ({exc.name})")
            continue
        start = time.perf_counter()
        size = sum(render(page) for page in range(args.paginas))
        elapsed = time.perf_counter() - start
        print(
            f"  {name:34s} {elapsed:7.2f} s en total, {elapsed / args.paginas * 1000:7.1f} ms/página, "
            f"{size / args.paginas / 1024:6.1f} KB de SVG por página"
        )


if __name__ == "__main__":
    main()
