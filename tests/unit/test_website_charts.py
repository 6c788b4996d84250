"""The shared SVG chart module: valid, accessible, escaped SVG and a data table that matches."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from casanare.publish.site import charts

pytestmark = pytest.mark.unit
SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert(1)</script> & "x"'


def parse(chart: charts.Chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))  # raises if the SVG is not well-formed XML


def all_charts(label: str = "Yopal") -> list[charts.Chart]:
    return [
        charts.bar_chart([(label, 10), ("Aguazul", 2.5)], title=f"Barras {label}", description=f"Desc {label}",
                         label_header="Municipio", value_header="Filas"),
        charts.line_chart([("2026-01", 3), (label, 7), ("2026-03", 0)], title=f"Línea {label}",
                          description=f"Desc {label}", label_header="Mes", value_header="Filas"),
        charts.map_chart({"85001": 12, "85010": 3}, title=f"Mapa {label}", description=f"Desc {label}",
                         value_header="Filas", hidden=["85015"]),
        charts.sparkline([1, 4, 2], title=f"Mini {label}", description=f"Desc {label}", labels=["a", label, "c"]),
    ]


def test_every_chart_is_an_accessible_svg_image():
    for chart in all_charts():
        root = parse(chart)
        assert root.get("role") == "img"
        title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
        assert title is not None and title.text == chart.title
        assert desc is not None and desc.text == chart.description
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert "<script" not in str(chart.svg) and "href" not in str(chart.svg)


def test_text_is_escaped_in_svg_and_table():
    for chart in all_charts(EVIL):
        svg = str(chart.svg)
        assert "<script>" not in svg and "&lt;script&gt;" in svg
        root = parse(chart)
        assert EVIL in root.find(f"{SVG}title").text
        table = str(chart.table_html())
        assert "<script>" not in table and "&lt;script&gt;" in table


def test_table_rows_follow_the_data():
    bars, line, mapa, mini = all_charts()
    assert bars.rows == [("Yopal", "10"), ("Aguazul", "2,5")]
    assert line.rows == [("2026-01", "3"), ("Yopal", "7"), ("2026-03", "0")]
    assert mini.rows == [("a", "1"), ("Yopal", "4"), ("c", "2")]
    assert len(mapa.rows) == 19
    as_dict = dict(mapa.rows)
    assert as_dict["Yopal"] == "12" and as_dict["Aguazul"] == "3"
    assert as_dict["Chámeza"].startswith("no se muestra") and as_dict["Maní"] == "sin datos"
    table = str(bars.table_html("Filas por municipio"))
    assert "<caption>Filas por municipio</caption>" in table and '<th scope="row">Yopal</th><td>10</td>' in table


def test_map_draws_a_circle_per_seat_and_scales_by_value():
    mapa = charts.map_chart({"85001": 100, "85010": 25}, title="t", description="d", value_header="v")
    circles = parse(mapa).findall(f"{SVG}circle")
    assert len(circles) == 19
    radius = sorted(float(c.get("r")) for c in circles)
    assert radius[-1] == pytest.approx(25.0) and radius[-2] == pytest.approx(3 + 22 * 0.5)
    # Every seat falls inside the drawing.
    for c in circles:
        assert 0 < float(c.get("cx")) < 640 and 0 < float(c.get("cy")) < 400


def test_bar_lengths_are_proportional():
    bars = charts.bar_chart([("a", 50), ("b", 25), ("c", 0)], title="t", description="d",
                            label_header="x", value_header="y")
    widths = [float(r.get("width")) for r in parse(bars).findall(f"{SVG}rect")]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == 0


def test_empty_charts_say_so():
    for chart in (
        charts.bar_chart([], title="t", description="d", label_header="x", value_header="y"),
        charts.line_chart([], title="t", description="d", label_header="x", value_header="y"),
    ):
        assert "Sin datos" in str(chart.svg)
        parse(chart)


def test_ids_differ_between_charts_on_one_page():
    ids = [parse(c).find(f"{SVG}title").get("id") for c in all_charts()]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("value", "plain", "compact"),
    [(0, "0", "0"), (1234567, "1.234.567", "1,2 M"), (1234.5, "1.234,5", "1,2 mil"), (2.25, "2,25", "2,25"),
     (3e9, "3.000.000.000", "3 mil M"), (4.5e12, "4.500.000.000.000", "4,5 bill."), (-1500, "-1.500", "-1,5 mil")],
)
def test_spanish_numbers(value, plain, compact):
    assert charts.format_number(value) == plain
    assert charts.format_compact(value) == compact


def test_nineteen_municipal_seats():
    seats = charts.municipios_casanare()
    assert len(seats) == 19 and len({m.codigo for m in seats}) == 19
    assert all(m.codigo.startswith("85") for m in seats)
