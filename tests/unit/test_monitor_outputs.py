"""History store (SQLite here; PostgreSQL in the e2e test), dashboard files, the dataset page's
panel and the website stand-in's access log."""

from __future__ import annotations

import contextlib
import json
import urllib.parse
import urllib.request
from datetime import date

import pytest

from casanare.monitor import history as store
from casanare.monitor import indicators as ind
from casanare.monitor.dashboard import render_dashboard
from casanare.monitor.registries import Registros
from casanare.monitor.run import _jsonable
from casanare.monitor.usage import read_access_logs
from casanare.publish.site.monitor_panel import monitor_panel
from casanare.publish.website import LocalFolder, _env
from tests.unit.test_monitor_indicators import NOW, REGISTROS, catalog, rows

pytestmark = pytest.mark.unit
EVIL = "<script>alert(1)</script>"


def snapshot(registros: Registros = REGISTROS) -> dict:
    cat = catalog()
    r = rows()
    for slug, row in r.items():
        row["acciones"] = ind.pending_actions(next(d for d in cat if d.slug == slug), row, registros)
    return _jsonable({
        "fecha": NOW.date(), "generado": NOW, "conjuntos": r, "indicadores": ind.compute(cat, r, registros),
        "desgloses": ind.breakdowns(cat, r), "frescura_por_dependencia": ind.freshness_by_dependencia(cat, r),
        "registro_acceso": True,
    })


def test_history_schema_created_if_missing_and_days_replaced(tmp_path):
    eng = store.engine(f"sqlite:///{tmp_path / 'h.sqlite'}")
    store.ensure_schema(eng)
    store.ensure_schema(eng)  # idempotent
    day = date(2026, 11, 23)
    data = list(rows().values())
    assert store.save_day(eng, day, data, {"priorizados": 3.0}) == 3
    assert store.save_day(eng, day, data[:2], {"priorizados": 2.0}) == 2  # a re-run replaces the day
    store.save_day(eng, date(2026, 11, 24), data, {"priorizados": 3.0})
    saved = store.dataset_rows(eng)
    assert [(r["fecha"], r["conjunto"]) for r in saved] == [
        (day, "salud_fresco"), (day, "salud_viejo"),
        (date(2026, 11, 24), "educ_nuevo"), (date(2026, 11, 24), "salud_fresco"), (date(2026, 11, 24), "salud_viejo")]
    assert store.dataset_rows(eng, since=date(2026, 11, 24))[0]["estado"] == "sin_publicar"
    assert [(r["fecha"], r["valor"]) for r in store.indicator_rows(eng)] == [(day, 2.0), (date(2026, 11, 24), 3.0)]
    eng.dispose()


def test_dashboard_files_charts_tables_and_escaping(tmp_path):
    registros = Registros.model_validate({
        **REGISTROS.model_dump(mode="json"),
        "hallazgos": [{"conjunto": "salud_viejo", "fecha": "2026-11-10", "descripcion": f"Texto con {EVIL} pegado."}],
    })
    snap = snapshot(registros)
    history = [{**r, "fecha": NOW.date()} for r in rows().values()]
    files = render_dashboard(_env(), snap, history, registros, reports=["seguimiento-2026-T4.xlsx"])
    assert set(files) == {"tablero/index.html", "tablero/monitoreo.json"} | {
        f"tablero/conjuntos/{ruta}.{ext}" for ruta in ("salud-fresco", "salud-viejo", "educ-nuevo")
        for ext in ("json", "html")}
    html = files["tablero/index.html"].decode("utf-8")
    assert html.count('role="img"') == 4 and EVIL not in html and "&lt;script&gt;" in html
    for slug in ("salud_fresco", "salud_viejo", "educ_nuevo"):
        assert f'data-conjunto="{slug}"' in html
    assert "Vencido (sin datos nuevos)" in html and "Sin publicar (en periodo de gracia)" in html
    assert 'href="seguimiento/seguimiento-2026-T4.xlsx"' in html
    data = json.loads(files["tablero/monitoreo.json"])
    assert data["indicadores"]["priorizados"] == 3 and len(data["conjuntos"]) == 3
    panel = json.loads(files["tablero/conjuntos/salud-fresco.json"])
    assert (panel["conjunto"], panel["estado"], panel["vistas"], panel["descargas"]) == ("salud_fresco", "al_dia", 41, 10)
    page = files["tablero/conjuntos/salud-viejo.html"].decode("utf-8")
    assert "Vencido (sin datos nuevos)" in page and '<base target="_top">' in page


def test_dataset_panel_embeds_the_monitor_page(tmp_path):
    ds = catalog()[0]
    site = LocalFolder(tmp_path)
    empty = monitor_panel(site, ds)
    assert empty["panel"] == "tablero/conjuntos/salud-fresco.html"
    assert "Aún no hay mediciones" in site.read_file(empty["panel"]).decode("utf-8")  # placeholder until monitoring
    mailto = urllib.parse.urlsplit(empty["reportar"])
    assert mailto.scheme == "mailto" and mailto.path == "datos.abiertos@casanare.gov.co"
    subject = urllib.parse.parse_qs(mailto.query)["subject"][0]
    assert subject == "Reportar un problema con estos datos: Salud al día (salud_fresco)"
    site.write_file("tablero/conjuntos/salud-fresco.html", b"<!DOCTYPE html><p>panel</p>")
    monitor_panel(site, ds)
    assert site.read_file("tablero/conjuntos/salud-fresco.html") == b"<!DOCTYPE html><p>panel</p>"  # never overwritten


def test_website_standin_writes_an_access_log_the_monitor_reads(tmp_path):
    from standins.web_server import start_web

    root, log = tmp_path / "sitio", tmp_path / "registro" / "access.log"
    (root / "conjuntos" / "salud-fresco").mkdir(parents=True)
    (root / "conjuntos" / "salud-fresco" / "index.html").write_text("ok", encoding="utf-8")
    (root / "conjuntos" / "salud-fresco" / "datos.csv").write_text("a\n1\n", encoding="utf-8")
    web = start_web(root, access_log=log)
    try:
        for path in ("conjuntos/salud-fresco/", "conjuntos/salud-fresco/datos.csv", "conjuntos/salud-fresco/datos.csv",
                     "conjuntos/no-existe/datos.csv"):
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(f"{web.url}/{path}", timeout=10).read()
    finally:
        web.stop()
    counts = read_access_logs(log)
    assert (dict(counts.vistas), dict(counts.descargas), counts.lineas_ilegibles) == (
        {"salud-fresco": 1}, {"salud-fresco": 2}, 0)
    assert not (root / "access.log").exists()  # the log is never published with the site


def test_registration_date_is_kept_and_taken_from_the_first_success(tmp_path):
    from datetime import UTC, datetime, timedelta

    from casanare.monitor.collect import registered_at
    from casanare.staging import DatasetArea

    fresh = DatasetArea(tmp_path.as_uri(), "nuevo_conjunto")
    assert registered_at(fresh, NOW) == NOW
    assert registered_at(fresh, NOW + timedelta(days=9)) == NOW  # kept: grace starts once
    old = DatasetArea(tmp_path.as_uri(), "conjunto_viejo")
    old.record_success({"fecha": "2026-01-05T05:00:00"})  # naive: the platform records UTC
    old.record_success({"fecha": "2026-02-05T05:00:00+00:00"})
    assert registered_at(old, NOW) == datetime(2026, 1, 5, 5, tzinfo=UTC)
