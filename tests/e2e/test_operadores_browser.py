"""In Chromium (Debian's, driven by Playwright): the status page and the Spanish quality report of a
real failed run, and the Airflow UI showing the Spanish display name and times in Bogotá.

The browser itself runs in UTC, like the VM of the issue: Bogotá times must come from the
platform, not from the operator's machine.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from casanare.catalog import load_catalog
from tests.e2e.test_resumen_ejecucion import SHEET, SLUG, api, run  # noqa: F401 - api is a fixture
from tests.e2e.test_website_browser import CHROMIUM, LAUNCH_FLAGS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "falta /usr/bin/chromium: `make test` lo instala (scripts/paquetes_sistema.sh)"
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="es-CO", timezone_id="UTC")
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(scope="module")
def failed_run(local_env, api):  # noqa: F811
    """One run that fails on the source file (a value outside the allowed list)."""
    import openpyxl

    ds = load_catalog().get(SLUG)
    path = ds.fuente.ruta_absoluta()
    original = path.read_bytes()
    book = openpyxl.load_workbook(path)
    book[SHEET]["K21"] = "Vacuna inventada"
    book.save(path)
    try:
        run_id, states = run(SLUG)
    finally:
        path.write_bytes(original)
    assert states["extraer"] == "failed", states
    return run_id


def test_status_page_of_a_failed_run_in_chromium(local_env, failed_run, page):
    ds = load_catalog().get(SLUG)
    page.goto(f"{local_env.web.url}/seguimiento/{ds.casanare_gov_co.ruta}/")
    assert page.locator("h1").inner_text() == f"Estado de publicación: {ds.nombre}"
    assert "Falló" in page.locator("#resultado").inner_text()
    assert "lectura de la fuente" in page.locator("#resultado").inner_text()
    assert page.locator("#que-fallo").is_visible() and page.locator("#como-corregir").is_visible()
    assert "fila 21" in page.locator("main").inner_text()  # where: file, sheet, row, column
    assert "se vuelve a ejecutar solo" in page.locator("#archivo-corregido").inner_text()
    assert re.search(r"\d{4}, 05:00 \(hora de Colombia\)", page.locator("#proxima").inner_text())
    assert "Vacuna inventada" not in page.content()


def test_spanish_quality_report_in_chromium(local_env, failed_run, page):
    ds = load_catalog().get(SLUG)
    _, states = run(SLUG)  # the corrected file (restored by the fixture) publishes again
    assert set(states.values()) == {"success"}, states
    page.goto(f"{local_env.web.url}/seguimiento/{ds.casanare_gov_co.ruta}/")
    assert "Publicado con éxito" in page.locator("#resultado").inner_text()
    page.get_by_role("link", name="Informe de calidad").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == f"Informe de calidad: {ds.nombre}"
    rows = page.locator("#reglas tbody tr")
    assert rows.count() >= 10
    assert all("Cumple" in rows.nth(i).inner_text() for i in range(rows.count()))
    assert page.locator("#sin-cumplir").inner_text() == "0"
    table = page.locator("#reglas").inner_text()
    assert any(c.titulo_visible in table for c in ds.columnas if c.publicada)  # columns by their visible title


def test_airflow_ui_shows_spanish_name_and_bogota_time(local_env, api, failed_run, page):  # noqa: F811
    ds = load_catalog().get(SLUG)
    run = api.dag_run(SLUG, failed_run)
    started = datetime.fromisoformat(run["start_date"].replace("Z", "+00:00"))
    bogota = started.astimezone(ZoneInfo("America/Bogota")).strftime("%H:%M:%S")
    utc = started.strftime("%H:%M:%S")
    token = requests.post(f"{local_env.api_url}/auth/token",
                          json={"username": api.username, "password": api.password}, timeout=30).json()
    page.context.add_cookies([{"name": "_token", "value": token["access_token"], "url": local_env.api_url}])
    page.goto(f"{local_env.api_url}/dags/{SLUG}/runs/{failed_run}")
    page.get_by_text(ds.nombre).first.wait_for(timeout=60000)
    assert page.evaluate("localStorage.getItem('timezone')") == '"America/Bogota"'
    page.get_by_text(bogota).first.wait_for(timeout=60000)
    # The UTC clock time shows nowhere, except inside the run id (which Airflow names in UTC).
    assert utc not in page.locator("body").inner_text().replace(failed_run, "")
