"""Fase IV end to end: sample pipelines, then ``monitoreo_datos_abiertos`` and ``avisos`` on two days.

Real parts only: the SODA portal, SMTP and website stand-ins of the session, the history in the
machine's PostgreSQL, the dashboard in Debian's Chromium, the workbook through openpyxl. The
clock is frozen (time-machine, ticking) three and four days after the pipelines ran, so the
daily ``contratos_gobernacion`` is stale on both days, and ``red_vial_departamental`` (annual,
never run) is still in its grace period.
"""

from __future__ import annotations

import io
import json
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import restored_environ, run_dag

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

STALE = "contratos_gobernacion"  # diaria
GRACE = "red_vial_departamental"  # anual, never run: first scheduled run is 1 January
RERUN = "vacunacion_pai"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def visit(portal_url: str, site_url: str, dataset_id: str, ruta: str, times: int) -> None:
    """Citizens reading the portal page and export, and the website page and CSV (counted for real)."""
    for _ in range(times):
        _get(f"{portal_url}/api/views/{dataset_id}.json?read=true")
        _get(f"{portal_url}/resource/{dataset_id}.csv")
        _get(f"{site_url}/conjuntos/{ruta}/")
        _get(f"{site_url}/conjuntos/{ruta}/datos.csv")


@pytest.fixture(scope="module")
def monitoreo(local_env, postgres_url, tmp_path_factory):
    import time_machine

    from casanare.catalog import load_catalog
    from casanare.publish.portal import portal_dataset_id
    from standins.web_server import start_web

    root = tmp_path_factory.mktemp("monitoreo")
    site, access_log = root / "sitio", root / "registro" / "access.log"
    web = start_web(site, access_log=access_log)
    conns = {
        "AIRFLOW_CONN_CASANARE_GOV_CO": json.dumps(
            {"conn_type": "fs", "extra": {"path": str(site), "registro_acceso": str(access_log)}}),
        "AIRFLOW_CONN_MONITOREO_HISTORIAL": json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": postgres_url}}),
        "CASANARE_STAGING_URL": (root / "staging").as_uri(),
        "CASANARE_WEBSITE_PUBLIC_URL": web.url,
        "CASANARE_PLATFORM_EMAILS": "datos.abiertos@casanare.gov.co",
    }
    catalog = load_catalog()
    result = {"catalog": catalog, "site": site, "root": root, "web": web, "postgres_url": postgres_url, "correos": [],
              "estados": {}}
    try:
        with restored_environ(**conns):
            for ds in catalog.priorizados:
                if ds.slug != GRACE:
                    states = run_dag(ds.slug)
                    assert set(states.values()) == {"success"}, (ds.slug, states)
            ran = datetime.now(UTC)
            days = [ran + timedelta(days=3), ran + timedelta(days=4)]
            for index, moment in enumerate(days):
                with time_machine.travel(moment, tick=True):
                    local_env.smtp.clear()
                    if index == 1:
                        vac = catalog.get(RERUN)
                        visit(local_env.portal.url, web.url, portal_dataset_id(vac), vac.casanare_gov_co.ruta, 3)
                        assert set(run_dag(RERUN).values()) == {"success"}  # same source: no new data
                    result["estados"][index] = {
                        "monitoreo": run_dag("monitoreo_datos_abiertos"), "avisos": run_dag("avisos")}
                    result["correos"].append(local_env.smtp.messages())
            # The monitor names its day in Bogotá (five hours behind UTC).
            result["dias"] = [d.astimezone(ZoneInfo("America/Bogota")).date() for d in days]
        yield result
    finally:
        web.stop()
        local_env.smtp.clear()


def _history(url: str) -> list[dict]:
    from casanare.monitor.history import dataset_rows, engine

    eng = engine(url)
    try:
        return dataset_rows(eng)
    finally:
        eng.dispose()


def test_every_task_succeeded_on_both_days(monitoreo):
    for day in (0, 1):
        assert monitoreo["estados"][day]["monitoreo"] == {"medir": "success", "publicar_tablero": "success"}
        assert monitoreo["estados"][day]["avisos"]["revisar_vigencia"] == "success"


def test_history_has_one_row_per_dataset_per_day(monitoreo):
    rows = _history(monitoreo["postgres_url"])
    prioritized = sorted(d.slug for d in monitoreo["catalog"].priorizados)
    by_day: dict[date, dict[str, dict]] = {}
    for r in rows:
        by_day.setdefault(r["fecha"], {})[r["conjunto"]] = r
    assert len(by_day) == 2 and all(sorted(v) == prioritized for v in by_day.values())
    first, second = (by_day[d] for d in sorted(by_day))
    assert (first[STALE]["estado"], second[STALE]["estado"]) == ("vencido", "vencido")
    assert first[GRACE]["estado"] == "sin_publicar" and first[GRACE]["en_gracia"] and second[GRACE]["en_gracia"]
    assert first["vacunacion_pai"]["estado"] == "al_dia"
    assert first["emergencias_gestion_riesgo"]["estado"] == "al_dia"  # eventual: never late
    # Use changed between the days: three citizens read the portal and the website.
    assert second[RERUN]["vistas_portal"] >= first[RERUN]["vistas_portal"] + 3
    assert second[RERUN]["descargas_portal"] >= first[RERUN]["descargas_portal"] + 3
    assert (first[RERUN]["vistas_sitio"], first[RERUN]["descargas_sitio"]) == (0, 0)
    assert (second[RERUN]["vistas_sitio"], second[RERUN]["descargas_sitio"]) == (3, 3)
    # Re-running an unchanged source is not new data.
    assert second[RERUN]["ultimo_dato_nuevo"] == first[RERUN]["ultimo_dato_nuevo"]
    assert second[RERUN]["ultima_ejecucion"] > first[RERUN]["ultima_ejecucion"]
    # Page views from the Discovery API (/api/catalog/v1) are kept in the day's snapshot.
    snapshot = json.loads((monitoreo["root"] / "staging" / "_monitoreo" / "ultimo.json").read_text(encoding="utf-8"))
    assert snapshot["conjuntos"][RERUN]["vistas_pagina_portal"]["total"] == second[RERUN]["vistas_portal"]
    for r in first.values():
        if r["conjunto"] != GRACE:
            assert isinstance(r["puntaje_mintic"], float) and 0 <= r["puntaje_mintic"] <= 10


def test_exactly_one_overdue_mail_for_the_stale_dataset_and_none_in_grace(monitoreo):
    catalog = monitoreo["catalog"]
    overdue = [m for day in monitoreo["correos"] for m in day
               if m["Subject"].endswith((": publicación vencida", ": sin datos nuevos"))]
    subjects = [m["Subject"] for m in overdue]
    assert subjects == [f"[Datos Abiertos Casanare] {catalog.get(STALE).nombre}: publicación vencida"]
    assert not any(catalog.get(GRACE).nombre in s for s in subjects)
    body = overdue[0].get_body(preferencelist=("plain",)).get_content()
    assert "Últimos datos nuevos:" in body and "Días de atraso: 1." in body


def test_quarterly_report_opens_with_expected_sheets_and_rows(monitoreo):
    from openpyxl import load_workbook

    from casanare.monitor.report import HOJAS, report_name

    path = monitoreo["site"] / "tablero" / "seguimiento" / report_name(monitoreo["dias"][1])
    wb = load_workbook(io.BytesIO(path.read_bytes()))
    assert wb.sheetnames == list(HOJAS)
    estado = list(wb["Estado de conjuntos"].iter_rows(values_only=True))
    names = {d.nombre for d in monitoreo["catalog"].priorizados}
    assert {row[0] for row in estado[1:]} == names and len(estado) == len(names) + 1
    indicators = {row[0]: row[1] for row in wb["Indicadores"].iter_rows(min_row=2, values_only=True)}
    assert indicators["Conjuntos priorizados"] == len(names)
    assert indicators["Conjuntos priorizados publicados"] == len(names) - 1
    acciones = {(row[0], row[2]) for row in wb["Acciones pendientes"].iter_rows(min_row=2, values_only=True)}
    catalog = monitoreo["catalog"]
    assert (catalog.get(STALE).nombre, "Actualizar") in acciones
    assert (catalog.get(GRACE).nombre, "Abrir") in acciones


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium no está instalado en /usr/bin/chromium (bash .ci/run lo instala)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox",
                                                                           "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.mark.browser
def test_dashboard_in_chromium_shows_every_prioritized_dataset_and_charts(monitoreo, browser):
    catalog = monitoreo["catalog"]
    page = browser.new_page(locale="es-CO")
    try:
        page.goto(f"{monitoreo['web'].url}/index.html")
        page.get_by_role("link", name="Tablero de control").click()
        page.wait_for_url("**/tablero/index.html")
        assert page.locator("h1").inner_text() == "Tablero de control de datos abiertos"
        rows = page.locator("table.conjuntos-tablero tbody tr")
        assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.conjunto)")) == sorted(
            d.slug for d in catalog.priorizados)
        stale = page.locator(f"#c-{STALE}")
        assert "Vencido" in stale.locator("td").nth(1).inner_text()
        assert "periodo de gracia" in page.locator(f"#c-{GRACE}").inner_text()
        charts = page.locator("figure.grafico svg[role=img]")
        assert charts.count() == 4
        titles = charts.evaluate_all("ss => ss.map(s => s.querySelector('title').textContent)")
        assert titles == ["Frescura de los conjuntos priorizados por dependencia",
                          "Uso en el tiempo: descargas acumuladas",
                          "Puntaje de calidad MinTIC por conjunto",
                          "Conjuntos publicados frente al inventario, por dependencia"]
        for figure in page.locator("figure.grafico").all():  # each chart is followed by its data table
            assert figure.evaluate("f => f.nextElementSibling.tagName") == "TABLE"
        assert page.get_by_role("table", name="Datos del gráfico: vistas y descargas acumuladas por día de monitoreo") \
            .locator("tbody tr").count() == 2
        assert page.evaluate("document.querySelectorAll('script').length") == 0
        report = page.locator('a[href^="seguimiento/seguimiento-"]').first
        assert page.request.get(report.evaluate("a => a.href")).status == 200
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "tablero_control.png"), full_page=True)

        # Every dataset page embeds its daily panel, so even a page published before monitoring
        # started (the unchanged source on day two publishes no new version) shows today's numbers.
        ds = catalog.get(RERUN)
        page.goto(f"{monitoreo['web'].url}/conjuntos/{ds.casanare_gov_co.ruta}/")
        section = page.locator("section.uso-frescura")
        frame = page.frame_locator("section.uso-frescura iframe")
        assert "Al día" in frame.locator("dl").inner_text()
        assert frame.locator("dd").nth(2).inner_text() != "0"  # the day-two visits are counted
        href = section.get_by_role("link", name="Reportar un problema con estos datos").get_attribute("href")
        assert href.startswith("mailto:datos.abiertos@casanare.gov.co?subject=")
        assert "vacunacion_pai" in urllib.parse.unquote(href)
    finally:
        page.close()
