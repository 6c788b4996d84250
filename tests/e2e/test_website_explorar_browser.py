"""The citizen's view of each dataset page in a real headless Chromium: preview, charts, map, API.

Every prioritized dataset is published with ``publish_site`` (local-folder transport, as ``make
run``) from a table shaped like its published columns: DIVIPOLA codes with a few small
municipios (below k), dates, pseudonyms, a formula and a script in the text. Screenshots of each
page go to ``artifacts/`` (gitignored), and the load timings to ``artifacts/sitio_tiempos.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from casanare.catalog import es_columna_municipio, load_catalog
from casanare.publish.site.charts import municipios_casanare
from casanare.publish.website import LocalFolder, publish_site
from tests.e2e.test_website_browser import ARTIFACTS, CHROMIUM, LAUNCH_FLAGS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
WHEN = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
EVIL = "<script>alert(1)</script>"
FORMULA = "=HIPERVINCULO(1)"
ROWS = 400
MAX_PAGE_BYTES = 300 * 1024


def realistic_frame(ds, rows: int = ROWS, seed: int = 18) -> pd.DataFrame:
    """Published columns with plausible values: most rows in Yopal, two municipios below k."""
    rng = np.random.default_rng(seed)
    seats = [m.codigo for m in municipios_casanare()]
    weights = np.array([30.0] + [4.0] * 16 + [0.0, 0.0])
    municipios = [*rng.choice(seats, rows - 3, p=weights / weights.sum()), seats[-2], seats[-2], seats[-1]]
    data: dict[str, object] = {}
    for c in ds.columnas_publicadas:
        name = c.nombre_salida
        if es_columna_municipio(c):
            data[name] = municipios
        elif c.regla.metodo == "mes":
            data[name] = [f"2026-{m:02d}" for m in rng.integers(1, 11, rows)]
        elif c.regla.metodo == "rango_edad":
            data[name] = rng.choice(["0-4", "5-9", "20-24"], rows)
        elif c.regla.accion == "seudonimizar":
            data[name] = [f"ps{i:05d}" for i in range(rows)]
        elif c.tipo_salida == "entero":
            data[name] = rng.integers(2019, 2026, rows)
        elif c.tipo_salida == "decimal":
            data[name] = np.round(rng.gamma(2.0, 5e5, rows), 2)
        elif c.tipo_salida == "fecha":
            data[name] = pd.Timestamp(2025, 1, 1) + pd.to_timedelta(rng.integers(0, 600, rows), unit="D")
        elif c.tipo_salida == "fecha_hora":
            data[name] = pd.Timestamp(2025, 1, 1, 8) + pd.to_timedelta(rng.integers(0, 600 * 24, rows), unit="h")
        elif c.tipo_salida == "booleano":
            data[name] = rng.integers(0, 2, rows).astype(bool)
        else:
            values = list(rng.choice(["Ejecución", "Terminado", "Suspendido", "En trámite"], rows))
            values[0], values[1] = FORMULA, EVIL
            data[name] = values
    return pd.DataFrame(data)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, list, Path]]:
    from casanare.staging import PORTAL_ID_FILE, DatasetArea
    from standins.web_server import start_web
    from tests.conftest import restored_environ

    root = tmp_path_factory.mktemp("sitio_explorar")
    staging = tmp_path_factory.mktemp("staging_explorar").as_uri()
    folder = LocalFolder(root)
    datasets = load_catalog().priorizados
    # The 4x4 each dataset got when the portal created it, as the first publication leaves it.
    with restored_environ(CASANARE_STAGING_URL=staging):
        for i, ds in enumerate(datasets):
            DatasetArea(staging, ds.slug).write_json(PORTAL_ID_FILE, {"dataset_id": f"ex{i:02d}-pl0r"})
            publish_site(realistic_frame(ds, seed=i), ds, folder, version="20261122T153000", published_at=WHEN)
    web = start_web(root)
    try:
        yield web.url, datasets, root
    finally:
        web.stop()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium no está instalado en /usr/bin/chromium (bash .ci/run lo instala)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_FLAGS)
        yield chromium
        chromium.close()


def has_municipio(ds) -> bool:
    return any(es_columna_municipio(c) for c in ds.columnas_publicadas)


def test_every_dataset_page_shows_preview_charts_and_map_without_javascript(site, browser):
    url, datasets, root = site
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900}, locale="es-CO")
    timings = {}
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        pg = context.new_page()
        for ds in datasets:
            ruta = ds.casanare_gov_co.ruta
            pg.goto(f"{url}/conjuntos/{ruta}/index.html")
            pg.wait_for_load_state("load")
            # Preview: caption, the catalog's column titles, 20 of 400 rows, a note on the total.
            table = pg.get_by_role("table", name=f"Primeras 20 filas de «{ds.nombre}»")
            assert table.is_visible(), ruta
            headers = table.locator("thead th").all_inner_texts()
            assert headers == [c.titulo_visible for c in ds.columnas_publicadas], ruta
            assert table.locator("tbody tr").count() == 20
            assert "primeras 20 de 400 filas" in pg.locator("#nota-vista-previa").inner_text()
            assert pg.locator("#filtro-vista").is_hidden()  # no half-working filter without JS
            # Charts: each an image with its text alternative, and its data in a table.
            charts = pg.locator("#graficos ~ figure svg[role=img]")
            assert charts.count() >= 1, ruta
            for i in range(charts.count()):
                svg = charts.nth(i)
                assert svg.is_visible() and svg.bounding_box()["height"] > 20
                assert pg.get_by_role("img", name=svg.locator("title").text_content()).count() >= 1
            assert pg.get_by_text("Ver los datos del gráfico").first.is_visible()
            # The map of Casanare, where the dataset has a municipio column.
            mapa = pg.locator("svg.grafico-mapa")
            assert mapa.count() == (1 if has_municipio(ds) else 0), ruta
            if has_municipio(ds):
                assert mapa.is_visible() and mapa.locator("circle").count() == 19
            # How to use it: endpoint and a ready curl command (plain text, copyable without JS).
            curl = pg.locator("#fragmento-curl").inner_text()
            four = f"ex{datasets.index(ds):02d}-pl0r"
            assert curl.startswith("curl 'http") and f"/resource/{four}.json?" in curl
            assert ds.nombre in pg.locator("#cita").inner_text()
            assert pg.locator("button.copiar").count() == 0
            size = len((root / "conjuntos" / ruta / "index.html").read_bytes())
            assert size < MAX_PAGE_BYTES, (ruta, size)  # the SVGs are inline: this is the whole page
            timings[ruta] = {"bytes": size, **pg.evaluate(
                "(() => { const t = performance.getEntriesByType('navigation')[0];"
                " return {dom_ms: Math.round(t.domContentLoadedEventEnd), load_ms: Math.round(t.loadEventEnd)}; })()"
            )}
            pg.screenshot(path=str(ARTIFACTS / f"sitio_explorar_{ruta}.png"), full_page=True)
    finally:
        context.close()
    (ARTIFACTS / "sitio_tiempos.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")


def test_values_are_shown_as_text_and_formulas_as_in_the_downloads(site, browser):
    url, datasets, _ = site
    ds = next(d for d in datasets if d.slug == "vacunacion_pai")
    context = browser.new_context()
    try:
        pg = context.new_page()
        dialogs: list[str] = []
        pg.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        pg.goto(f"{url}/conjuntos/{ds.casanare_gov_co.ruta}/index.html")
        pg.wait_for_load_state("load")
        cells = pg.locator("#tabla-vista-previa tbody tr").first.locator("td").all_inner_texts()
        assert f"'{FORMULA}" in cells
        assert EVIL in pg.locator("#tabla-vista-previa tbody tr").nth(1).inner_text()
        assert pg.evaluate("document.querySelectorAll('main script').length") == 0
        assert dialogs == []
        # k rule on the page: Trinidad (2 persons) and Villanueva (1) are below k=5.
        pg.get_by_text("Ver los datos del mapa").click()
        mapa = pg.get_by_role("table", name=pg.locator("svg.grafico-mapa title").text_content())
        assert mapa.get_by_role("row", name="Villanueva").locator("td").inner_text().startswith("no se muestra")
        assert mapa.get_by_role("row", name="Trinidad").locator("td").inner_text().startswith("no se muestra")
        bars = pg.locator("table", has=pg.get_by_text("Número de registros por municipio", exact=True))
        text = bars.text_content()
        assert "Yopal" in text and "Villanueva" not in text and "Trinidad" not in text
    finally:
        context.close()


def test_preview_filter_and_sort_with_javascript(site, browser):
    url, datasets, _ = site
    ds = next(d for d in datasets if d.slug == "contratos_gobernacion")
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.goto(f"{url}/conjuntos/{ds.casanare_gov_co.ruta}/index.html")
        pg.wait_for_load_state("load")
        rows = pg.locator("#tabla-vista-previa tbody tr")
        assert pg.locator("#filtro-vista").is_visible()
        pg.fill("#filtro-vista-texto", "suspendido")
        shown = pg.locator("#tabla-vista-previa tbody tr:visible")
        assert 0 < shown.count() < 20
        assert all("Suspendido" in t for t in shown.all_inner_texts())
        pg.fill("#filtro-vista-texto", "")
        assert pg.locator("#tabla-vista-previa tbody tr:visible").count() == 20
        column = [c.nombre_salida for c in ds.columnas_publicadas].index("valor")
        header = pg.locator("#tabla-vista-previa thead th").nth(column)
        header.get_by_role("button").click()
        assert header.get_attribute("aria-sort") == "ascending"
        values = [float(rows.nth(i).locator("td").nth(column).inner_text()) for i in range(20)]
        assert values == sorted(values)
        header.get_by_role("button").click()
        values = [float(rows.nth(i).locator("td").nth(column).inner_text()) for i in range(20)]
        assert values == sorted(values, reverse=True)
        assert pg.locator("button.copiar").count() >= 2  # curl, pandas (and the citation)
    finally:
        context.close()


def test_catalog_index_has_a_small_chart_per_dataset(site, browser):
    url, datasets, _ = site
    context = browser.new_context(java_script_enabled=False)
    try:
        pg = context.new_page()
        pg.goto(f"{url}/index.html")
        for ds in datasets:
            row = pg.locator("#tabla-conjuntos tbody tr", has=pg.get_by_role("link", name=ds.nombre, exact=True))
            mini = row.locator("svg.grafico-mini")
            assert mini.count() == 1 and mini.is_visible(), ds.slug
            assert mini.get_attribute("role") == "img" and mini.locator("title").text_content()
            assert f"Conjunto: {ds.nombre}." in mini.locator("desc").text_content()
        pg.screenshot(path=str(ARTIFACTS / "sitio_catalogo_mini.png"), full_page=True)
    finally:
        context.close()
