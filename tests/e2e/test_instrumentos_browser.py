"""The transparency section (Registro, Índice, priorización) in a real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest

from casanare.catalog import load_catalog
from casanare.instruments.generar import actualizar_transparencia
from casanare.instruments.indice import COLUMNAS_INDICE
from casanare.instruments.registro import COLUMNAS_REGISTRO
from casanare.publish.website import LocalFolder, publish_site
from casanare.staging import DatasetArea
from tests.e2e.test_website_browser import ARTIFACTS, CHROMIUM, LAUNCH_FLAGS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
WHEN = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
PUBLISHED = "contratos_gobernacion"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, object]]:
    from standins.web_server import start_web

    root = tmp_path_factory.mktemp("transparencia")
    catalog = load_catalog()
    ds = catalog.get(PUBLISHED)
    folder = LocalFolder(root / "sitio")
    frame = pd.DataFrame({c.nombre_salida: ["x", "y"] for c in ds.columnas_publicadas})
    publish_site(frame, ds, folder, version="20261122T153000", published_at=WHEN)
    staging = (root / "staging").as_uri()
    DatasetArea(staging, PUBLISHED).record_success(
        {"ejecucion": "r1", "fecha": WHEN.isoformat(), "sha256": "b" * 64, "filas_publicadas": 2,
         "version_sitio": "20261122T153000"})
    actualizar_transparencia(catalog, staging, folder, ahora=WHEN)
    web = start_web(root / "sitio")
    try:
        yield web.url, catalog
    finally:
        web.stop()


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip("Chromium no está instalado en /usr/bin/chromium (bash .ci/run lo instala)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="es-CO")
    yield context.new_page()
    context.close()


def cells(pg, selector: str) -> list[list[str]]:
    return pg.eval_on_selector_all(
        f"{selector} tbody tr", "rows => rows.map(r => Array.from(r.children).map(c => c.innerText.trim()))")


def test_registro_page_lists_every_asset_with_its_real_state(site, page):
    url, catalog = site
    page.goto(f"{url}/index.html")
    page.get_by_role("contentinfo").get_by_role("link", name="Registro de Activos de Información").click()
    page.wait_for_url("**/transparencia/registro-activos.html")
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.locator("h1").inner_text() == "Registro de Activos de Información"
    headers = page.locator("#tabla-instrumento thead th").all_inner_texts()
    assert headers == list(COLUMNAS_REGISTRO.values())
    rows = cells(page, "#tabla-instrumento")
    assert len(rows) == len(catalog.datasets)
    assert all(all(value for value in row[:-1]) for row in rows)
    state = headers.index("Información publicada o disponible")
    by_name = {row[headers.index("Nombre o título de la información")]: row for row in rows}
    assert by_name[catalog.get(PUBLISHED).nombre][state] == "Publicada en datos.gov.co y casanare.gov.co"
    assert by_name[catalog.get("vacunacion_pai").nombre][state] == "Disponible a solicitud"
    # The wide table scrolls in a labelled region reachable from the keyboard.
    region = page.get_by_role("region", name="Registro de activos")
    region.focus()
    assert page.evaluate("document.activeElement.getAttribute('role')") == "region"
    response = page.request.get(f"{url}/transparencia/registro-activos.xlsx")
    assert response.status == 200 and response.headers["content-type"].split(";")[0] == XLSX
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "transparencia_registro.png"), full_page=True)


def test_indice_and_priorizacion_pages(site, page):
    url, catalog = site
    page.goto(f"{url}/transparencia/index.html")
    page.locator("main").get_by_role("link", name="Índice de Información Clasificada y Reservada").click()
    page.wait_for_url("**/indice-clasificada-reservada.html")
    assert page.locator("#tabla-instrumento thead th").all_inner_texts() == list(COLUMNAS_INDICE.values())
    rows = cells(page, "#tabla-instrumento")
    classified = sum(1 for d in catalog.datasets for c in d.columnas if c.clasificacion != "publica")
    assert len(rows) == classified and all(all(row) for row in rows)
    page.goto(f"{url}/transparencia/priorizacion.html")
    assert page.get_by_role("table", name="Criterios de priorización").is_visible()
    matrix = cells(page, "#tabla-instrumento")
    assert [row[0] for row in matrix] == [str(i) for i in range(1, len(catalog.datasets) + 1)]
    assert {row[12] for row in matrix} <= {"Abrir", "Actualizar", "Mejorar", "Usar"}
    page.screenshot(path=str(ARTIFACTS / "transparencia_priorizacion.png"), full_page=True)


def test_catalog_shows_inventory_entries_and_how_to_request_them(site, page):
    url, catalog = site
    page.goto(f"{url}/index.html")
    table = page.get_by_role("table", name="Conjuntos en inventario")
    assert table.is_visible()
    names = page.locator("#tabla-inventario tbody th").all_inner_texts()
    assert sorted(names) == sorted(d.nombre for d in catalog.datasets if d.slug != PUBLISHED)
    link = page.locator("#tabla-inventario a[href^='mailto:']").first.get_attribute("href")
    assert "subject=Solicitud" in link
