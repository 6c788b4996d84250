"""The published site in a real headless Chromium (Debian package), driven by Playwright.

The site is published with ``publish_site`` through the local-folder transport (what ``make run``
uses) and served over HTTP by the website stand-in. Screenshots go to ``artifacts/`` (gitignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from casanare.catalog import load_catalog
from casanare.publish.site.schedule import FRECUENCIA_TEXTO
from casanare.publish.website import LocalFolder, publish_site
from casanare.quality.scorecard import build_scorecard

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
LAUNCH_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
EVIL = "<script>alert(1)</script>"
EVIL_SLUG = "vacunacion_pai"
WHEN = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
CONTENT_TYPES = {
    "datos.csv": "text/csv",
    "datos.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "datos.json": "application/json",
}


def sample_frame(ds, rows: int) -> pd.DataFrame:
    values = {
        "texto": lambda i: f"Yopal {i}" if i % 3 else "=HIPERVINCULO(1)",
        "entero": lambda i: i - 3,
        "decimal": lambda i: i * 1.25 - 2,
        "fecha": lambda i: pd.Timestamp(2026, 1, 1) + pd.Timedelta(days=i),
        "fecha_hora": lambda i: pd.Timestamp(2026, 1, 1, 8) + pd.Timedelta(hours=i),
        "booleano": lambda i: i % 2 == 0,
    }
    return pd.DataFrame(
        {c.nombre_salida: [values[c.tipo_salida](i) for i in range(rows)] for c in ds.columnas_publicadas}
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, list]]:
    from standins.web_server import start_web

    root = tmp_path_factory.mktemp("sitio_navegador")
    folder = LocalFolder(root)
    datasets = []
    for i, ds in enumerate(load_catalog().priorizados):
        if ds.slug == EVIL_SLUG:
            ds = ds.model_copy(update={"descripcion": f"Descripción con {EVIL} incrustado en el catálogo."})
        validation = {"evaluadas": 1, "fallidas": 0, "resultados": [
            {"descripcion": "La tabla tiene filas", "columna": None, "exito": True, "severidad": "critical"}]}
        validation["puntaje_mintic"] = build_scorecard(
            sample_frame(ds, 20 + i), ds, validation, None, ahora=WHEN, ultima_actualizacion=WHEN, historial=[],
            sha256=None,
        )
        publish_site(sample_frame(ds, 12 + i), ds, folder, version="20261101T100000",
                     published_at=WHEN - timedelta(days=21), validation=validation)
        publish_site(sample_frame(ds, 20 + i), ds, folder, version="20261122T153000",
                     published_at=WHEN + timedelta(minutes=i), validation=validation)
        datasets.append(ds)
    web = start_web(root)
    try:
        yield web.url, datasets
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


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-CO")
    pg = context.new_page()
    pg.dialogs = []  # every alert/confirm/prompt the page tries to open
    pg.on("dialog", lambda dialog: (pg.dialogs.append(dialog.message), dialog.dismiss()))
    yield pg
    context.close()


def visible_names(pg) -> list[str]:
    return pg.locator("#tabla-conjuntos tbody tr:visible th a").all_inner_texts()


def test_catalog_lists_every_published_dataset(site, page):
    url, datasets = site
    page.goto(f"{url}/index.html")
    assert page.evaluate("document.documentElement.lang") == "es"
    assert sorted(visible_names(page)) == sorted(d.nombre for d in datasets)
    assert page.locator("h1").inner_text() == "Catálogo de datos abiertos"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sitio_catalogo.png"), full_page=True)


def test_live_filter_with_javascript(site, page):
    url, datasets = site
    page.goto(f"{url}/index.html")
    assert page.locator("#buscador").is_visible()  # progressive enhancement turned the form on
    target = datasets[0]
    page.select_option("#buscar-dependencia", target.dependencia)
    expected = sorted(d.nombre for d in datasets if d.dependencia == target.dependencia)
    assert sorted(visible_names(page)) == expected
    assert page.locator("#resultado-filtro").inner_text() == f"{len(expected)} conjunto(s)."
    page.select_option("#buscar-dependencia", "")
    frequency = FRECUENCIA_TEXTO[datasets[-1].frecuencia_actualizacion]
    page.select_option("#buscar-frecuencia", frequency)
    assert sorted(visible_names(page)) == sorted(
        d.nombre for d in datasets if FRECUENCIA_TEXTO[d.frecuencia_actualizacion] == frequency
    )
    page.select_option("#buscar-frecuencia", "")
    # Free text ignores accents and case: "vacunacion" finds "Vacunación".
    page.fill("#buscar-texto", "VACUNACION")
    assert visible_names(page) == [d.nombre for d in datasets if d.slug == EVIL_SLUG]
    page.fill("#buscar-texto", "")
    assert len(visible_names(page)) == len(datasets)


def test_static_filter_pages_without_javascript(site, browser):
    url, datasets = site
    context = browser.new_context(java_script_enabled=False)
    try:
        pg = context.new_page()
        pg.goto(f"{url}/index.html")
        assert not pg.locator("#buscador").is_visible()  # no half-working form without JS
        for facet, label_of in (("dependencia", lambda d: d.dependencia),
                                ("categoria", lambda d: d.categoria)):
            target = label_of(datasets[1])
            pg.goto(f"{url}/index.html")
            pg.locator(f'nav[aria-labelledby="faceta-{facet}"] a', has_text=re.compile(f"^{re.escape(target)}$")).click()
            # all_inner_texts() does not wait: on a loaded machine the click's navigation may still
            # be in flight, so wait for the filter page itself before reading its table.
            pg.wait_for_url(f"**/filtros/{facet}/**")
            pg.wait_for_load_state("load")
            expected = sorted(d.nombre for d in datasets if label_of(d) == target)
            assert sorted(pg.locator("#tabla-conjuntos tbody th a").all_inner_texts()) == expected
            pg.get_by_role("link", name="Ver todos los conjuntos").click()
            pg.wait_for_url("**/index.html")
            pg.wait_for_load_state("load")
            assert len(pg.locator("#tabla-conjuntos tbody tr").all()) == len(datasets)
    finally:
        context.close()


def test_dataset_page_downloads_resolve(site, page):
    url, datasets = site
    ds = datasets[2]
    page.goto(f"{url}/index.html")
    page.get_by_role("link", name=ds.nombre, exact=True).click()
    assert page.url.endswith(f"/conjuntos/{ds.casanare_gov_co.ruta}/index.html")
    assert page.locator("h1").inner_text() == ds.nombre
    assert page.get_by_text("Próxima actualización prevista").is_visible()
    assert page.get_by_role("table", name="Criterios de calidad evaluados").is_visible()
    for name, content_type in CONTENT_TYPES.items():
        href = page.locator(f'a[href="{name}"]').get_attribute("href")
        response = page.request.get(f"{page.url.rsplit('/', 1)[0]}/{href}")
        assert response.status == 200, name
        assert response.headers["content-type"].split(";")[0] == content_type, name
        assert len(response.body()) > 0
    with page.expect_download() as download_info:
        page.locator('a[href="datos.csv"]').click()
    download = download_info.value
    assert download.suggested_filename == "datos.csv"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"'=HIPERVINCULO(1)" in data
    # Older versions stay downloadable from the history table.
    old = page.locator('a[href*="../../versiones/"]').first
    response = page.request.get(old.evaluate("a => a.href"))
    assert response.status == 200 and response.body().startswith(b"\xef\xbb\xbf")


def test_script_in_catalog_text_is_shown_not_run(site, page):
    url, datasets = site
    ds = next(d for d in datasets if d.slug == EVIL_SLUG)
    page.goto(f"{url}/conjuntos/{ds.casanare_gov_co.ruta}/index.html")
    page.wait_for_load_state("load")
    assert EVIL in page.locator("main p").first.inner_text()
    assert page.evaluate("document.querySelectorAll('main script').length") == 0
    page.screenshot(path=str(ARTIFACTS / "sitio_conjunto.png"), full_page=True)
    page.goto(f"{url}/index.html")
    page.fill("#buscar-texto", "incrustado")  # the description is searchable as plain text
    assert visible_names(page) == [ds.nombre]
    assert page.dialogs == []
