"""Which charts a dataset page gets, the k rule on every chart, the preview and the API snippet."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from casanare.catalog import CatalogError, load_catalog, load_dataset
from casanare.publish.site import dataset_charts as dc
from casanare.publish.site.charts import municipios_casanare
from casanare.publish.site.dataset_charts import OTROS, ChartSpec, Group, k_bars, k_points
from casanare.publish.site.explore import api_usage, explore_view, preview

pytestmark = pytest.mark.unit
WHEN = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
CODES = [m.codigo for m in municipios_casanare()]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def vacunacion_frame(per_municipio: dict[str, int], *, persons_per_group: int | None = None) -> pd.DataFrame:
    """Rows of the published vacunación table: ``n`` doses in each municipio, one person per dose."""
    rows = []
    serial = 0
    for code, n in per_municipio.items():
        for i in range(n):
            serial += 1
            person = f"p-{code}-{i % persons_per_group}" if persons_per_group else f"p{serial}"
            rows.append({"id_aplicacion": f"PAI-{serial:07d}", "id_persona": person, "rango_edad": "20-24",
                         "sexo": "F", "biologico": "VPH" if i % 2 else "Fiebre amarilla", "dosis": "Única",
                         "mes_aplicacion": f"2026-{1 + i % 3:02d}", "codigo_municipio": code})
    return pd.DataFrame(rows)


# Selection ------------------------------------------------------------------------------------


def test_defaults_follow_the_column_types(catalog):
    ds = catalog.get("vacunacion_pai")
    specs = dc.chart_specs(ds, vacunacion_frame({"85001": 30, "85010": 30}))
    assert specs == [
        ChartSpec("lineas", "mes_aplicacion"),  # month-generalized date: a line over time
        ChartSpec("barras", "codigo_municipio"),  # municipio: bars and the map
        ChartSpec("barras", "biologico"),  # first text column with a handful of values
        ChartSpec("mapa", "codigo_municipio"),
    ]
    # Never grouped by a pseudonym, the row id or a quasi-identifier about the person.
    assert not {s.dimension for s in specs} & {"id_persona", "id_aplicacion", "sexo", "rango_edad"}


def test_dates_give_a_line_and_no_municipio_gives_no_map(catalog):
    contratos = dc.chart_specs(catalog.get("contratos_gobernacion"), pd.DataFrame({"estado": ["a", "b"]}))
    assert contratos[0] == ChartSpec("lineas", "fecha_firma")
    budget = catalog.get("ejecucion_presupuestal_gastos")
    specs = dc.chart_specs(budget, pd.DataFrame())
    assert all(s.kind != "mapa" for s in specs)


def test_declared_charts_win_and_the_map_is_kept(catalog):
    ds = catalog.get("produccion_agropecuaria")
    specs = dc.chart_specs(ds, pd.DataFrame())
    assert specs[0] == ChartSpec("barras", "cultivo", "produccion_t", "Producción (toneladas) por cultivo")
    assert [s.kind for s in specs] == ["barras", "lineas", "mapa"]
    ruta = ds.casanare_gov_co.model_copy(update={"graficos": ds.casanare_gov_co.graficos[:1]})
    only_bars = ds.model_copy(update={"casanare_gov_co": ruta})
    assert [s.kind for s in dc.chart_specs(only_bars, pd.DataFrame())] == ["barras", "mapa"]


def test_k_is_the_datasets(catalog):
    assert dc.dataset_k(catalog.get("vacunacion_pai")) == catalog.get("vacunacion_pai").microdatos.k
    assert dc.dataset_k(catalog.get("pqrsd_atencion_ciudadano")) == 5  # personal data, default k
    assert dc.dataset_k(catalog.get("red_vial_departamental")) == 1  # no personal data
    assert dc.person_column(catalog.get("contratos_gobernacion")) == "id_contratista"
    assert dc.person_column(catalog.get("vacunacion_pai")) is None  # doses are not linked to persons


# The k rule -----------------------------------------------------------------------------------


def rows_size(groups: list[Group]) -> int:
    return sum(g.size for g in groups)


def test_small_bars_merge_into_otros():
    groups = [Group("Yopal", 50, 50), Group("Aguazul", 9, 9), Group("Chámeza", 2, 2), Group("Recetor", 3, 3)]
    bars, hidden = k_bars(groups, 5, rows_size)
    assert [(g.label, g.value) for g in bars] == [("Yopal", 50), ("Aguazul", 9), (OTROS, 5)]
    assert hidden == 0 and all(g.size >= 5 for g in bars)


def test_otros_below_k_is_hidden_too():
    bars, hidden = k_bars([Group("Yopal", 50, 50), Group("Chámeza", 2, 2), Group("Recetor", 1, 1)], 5, rows_size)
    assert [g.label for g in bars] == ["Yopal"] and hidden == 2


def test_too_many_bars_merge_the_tail():
    groups = [Group(f"g{i:02d}", 100 - i, 10) for i in range(30)]
    bars, hidden = k_bars(groups, 5, rows_size)
    assert len(bars) == dc.MAX_BARRAS and hidden == 0
    assert bars[-1].label == OTROS and bars[-1].value == sum(100 - i for i in range(11, 30))


def test_small_periods_have_no_value():
    points = k_points([Group("2026-01", 12, 12), Group("2026-02", 3, 3), Group("2026-03", 0, 0)], 5)
    assert points[0].value == 12 and pd.isna(points[1].value) and points[2].value == 0


def test_every_chart_of_a_page_respects_k(catalog):
    """End to end on the page data: no bar, point or municipio below k, counted in persons."""
    from casanare.catalog import Regla

    # The sample no longer links doses to persons; a catalog that publishes the pseudonym counts persons.
    sample = catalog.get("vacunacion_pai")
    ds = sample.model_copy(update={"columnas": [
        c.model_copy(update={"regla": Regla(accion="seudonimizar"), "nombre_publicado": "id_persona"})
        if c.nombre == "numero_documento" else c for c in sample.columnas]})
    # Chámeza: 3 doses of 3 persons (< k); Recetor: 40 doses but 2 persons (< k); Yopal and Aguazul fine.
    df = pd.concat([
        vacunacion_frame({"85001": 60, "85010": 30}),
        vacunacion_frame({"85015": 3}).assign(id_persona=lambda f: f["id_persona"] + "c"),
        vacunacion_frame({"85279": 40}, persons_per_group=2),
    ], ignore_index=True)
    result = dc.build_charts(ds, df)
    assert result.k == 5 and result.unidad == "personas"
    by_municipio = next(c for c in result.charts if c.headers[0] == "Municipio")
    labels = [label for label, _ in by_municipio.rows]
    assert "Chámeza" not in labels and "Recetor" not in labels
    assert labels[:2] == ["Yopal", "Aguazul"]
    # Chámeza's 3 persons + Recetor's 2 persons = 5 persons: shown together as "Otros".
    assert dict(by_municipio.rows)[OTROS] == "43"
    mapa = dict(result.mapa.rows)
    assert mapa["Yopal"] == "60" and mapa["Chámeza"].startswith("no se muestra")
    assert mapa["Recetor"].startswith("no se muestra") and mapa["Maní"] == "sin datos"
    assert "Recetor" not in str(result.mapa.svg).split("</desc>")[0]
    line = result.charts[0]
    assert line.headers == ("Mes", "Número de registros") and [p for p, _ in line.rows] == [
        "2026-01", "2026-02", "2026-03"]


def test_line_fills_missing_periods_and_sums_a_measure(catalog):
    ds = catalog.get("produccion_agropecuaria")
    df = pd.DataFrame({"anio": [2020, 2020, 2023], "semestre": [1, 2, 1], "codigo_municipio": ["85001"] * 3,
                       "municipio": ["Yopal"] * 3, "grupo_cultivo": ["x"] * 3, "cultivo": ["Arroz"] * 3,
                       "area_sembrada_ha": [1.0] * 3, "area_cosechada_ha": [1.0] * 3,
                       "produccion_t": [10.5, 4.5, 7.0], "rendimiento_t_ha": [1.0] * 3})
    result = dc.build_charts(ds, df)
    line = next(c for c in result.charts if c.title == "Producción (toneladas) por año")
    assert line.rows == [("2020", "15"), ("2021", "0"), ("2022", "0"), ("2023", "7")]
    assert result.mini["valores"] == [15.0, 0.0, 0.0, 7.0] and result.mini["barras"] is False


def test_municipio_names_are_matched_to_codes():
    codes = dc._municipio_codes(pd.Series(["85001", "PAZ DE ARIPORO", "chameza", 85010, None, "Bogotá"]))
    assert codes.tolist()[:4] == ["85001", "85250", "85015", "85010"]
    assert pd.isna(codes[4]) and pd.isna(codes[5])


# Catalog declarations -------------------------------------------------------------------------


def write_catalog(tmp_path: Path, graficos: str) -> Path:
    source = Path(load_catalog().get("produccion_agropecuaria").ruta_suite()).parents[1] / "catalog"
    text = (source / "produccion_agropecuaria.yaml").read_text(encoding="utf-8")
    text = re.sub(r"  graficos:\n(?:    .*\n)+", graficos, text)
    path = tmp_path / "produccion_agropecuaria.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_catalog_errors_name_file_field_and_line(tmp_path):
    path = write_catalog(tmp_path, "  graficos:\n    - tipo: lineas\n      dimension: cultivo\n"
                                   "    - tipo: barras\n      dimension: cultivo\n      medida: municipio\n")
    with pytest.raises(CatalogError) as info:
        load_dataset(path)
    message = str(info.value)
    lines = path.read_text(encoding="utf-8").splitlines()
    dim_line = next(i for i, t in enumerate(lines, 1) if t.strip() == "dimension: cultivo")
    assert "produccion_agropecuaria.yaml" in message
    assert f"campo 'casanare_gov_co.graficos[0].dimension' (línea {dim_line}): 'cultivo' no es una fecha" in message
    assert "casanare_gov_co.graficos[1].medida" in message and "no es 'filas' ni una columna numérica" in message


def test_unknown_chart_keys_are_refused(tmp_path):
    path = write_catalog(tmp_path, "  graficos:\n    - tipo: torta\n      dimension: cultivo\n      color: rojo\n")
    with pytest.raises(CatalogError) as info:
        load_dataset(path)
    message = str(info.value)
    assert "casanare_gov_co.graficos[0].tipo" in message and "barras" in message
    assert "casanare_gov_co.graficos[0].color" in message and "no permitido" in message


# Preview and API ------------------------------------------------------------------------------


def test_preview_is_the_downloads_first_rows(catalog):
    ds = catalog.get("vacunacion_pai")
    df = vacunacion_frame({"85001": 30})
    df.loc[0, "biologico"] = "=HYPERLINK(\"http://x\")"
    df.loc[1, "biologico"] = "<script>alert(1)</script>"
    view = preview(ds, df, rows=5)
    assert view["total"] == 30 and view["mostradas"] == 5 and len(view["filas"]) == 5
    titles = {c["nombre"]: c["titulo"] for c in view["columnas"]}
    assert titles["codigo_municipio"] == "Código DIVIPOLA del municipio"
    biologico = [c["nombre"] for c in view["columnas"]].index("biologico")
    assert view["filas"][0][biologico] == "'=HYPERLINK(\"http://x\")"  # as in datos.csv
    assert view["filas"][1][biologico] == "<script>alert(1)</script>"  # the template escapes it


def test_api_snippets_filter_by_a_big_municipio(catalog, monkeypatch, tmp_path):
    from casanare.staging import PORTAL_ID_FILE, DatasetArea

    monkeypatch.setenv("CASANARE_PORTAL_PUBLIC_URL", "https://www.datos.gov.co")
    ds = catalog.get("vacunacion_pai")
    # The 4x4 the portal assigned when the first publication created the dataset.
    monkeypatch.setenv("CASANARE_STAGING_URL", tmp_path.as_uri())
    DatasetArea(tmp_path.as_uri(), ds.slug).write_json(PORTAL_ID_FILE, {"dataset_id": "cas1-vac1"})
    uso = api_usage(ds, vacunacion_frame({"85001": 30, "85010": 8}), version="20261122T153000", published_at=WHEN)
    portal = uso["portal"]
    url = "https://www.datos.gov.co/resource/cas1-vac1.json?codigo_municipio=85001&$limit=100"
    assert portal["url"] == url and portal["curl"] == f"curl '{url}'"
    assert 'pd.read_csv("https://www.datos.gov.co/resource/cas1-vac1.csv?codigo_municipio=85001&$limit=100")' in (
        portal["pandas"])
    assert uso["cita"].startswith("Gobernación de Casanare, Secretaría de Salud. (2026). Vacunación")
    assert "(versión 20261122T153000)" in uso["cita"] and uso["cita"].endswith("/conjuntos/vacunacion-pai/")


def test_explore_view_holds_the_charts_and_the_index_numbers(catalog):
    """The state file keeps only aggregated numbers (k rule applied) for the index mini chart."""
    ds = catalog.get("vacunacion_pai")
    view = explore_view(ds, vacunacion_frame({c: 10 for c in CODES}), version="v1", published_at=WHEN)
    assert len(view["graficos"]) == 3 and view["mapa"] is not None
    assert set(view["mini"]) == {"titulo", "valores", "etiquetas", "barras", "encabezados"}
    assert all(isinstance(v, float | type(None)) for v in view["mini"]["valores"])


def test_index_with_200_datasets_draws_a_light_mini_chart_each(catalog):
    from casanare.publish.site.catalog_pages import build_catalog
    from casanare.publish.website import _env, dataset_entry

    ds = catalog.get("vacunacion_pai")
    view = explore_view(ds, vacunacion_frame({c: 10 for c in CODES}), version="v1", published_at=WHEN)
    entries = []
    for i in range(200):
        entry = dataset_entry(ds, ruta=f"conjunto-{i:03d}", version="v1", rows=190, published_at=WHEN,
                              formats=["csv"], previous=None)
        entries.append({**entry, "slug": f"conjunto_{i:03d}", "nombre": f"Conjunto {i:03d}", "mini": view["mini"]})
    index = build_catalog(_env(), entries, base_url="https://x", generated=WHEN)["index.html"].decode("utf-8")
    minis = re.findall(r'<svg [^>]*class="grafico grafico-mini".*?</svg>', index, re.S)
    assert len(minis) == 200
    assert max(len(m.encode()) for m in minis) < 1024
    assert "Último: " in minis[0] and "Conjunto: Conjunto 000." in minis[0]
