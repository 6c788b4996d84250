"""Dataset page: Spanish, accessible, every catalog text escaped, schedule, quality and history."""

from __future__ import annotations

import posixpath
import re
import sys
import types
from datetime import UTC, datetime
from html.parser import HTMLParser

import pandas as pd
import pytest

from casanare.catalog import load_catalog
from casanare.publish.site import scorecard as scorecard_module
from casanare.publish.site.schedule import proxima_actualizacion_texto
from casanare.publish.website import LocalFolder, publish_site

pytestmark = pytest.mark.unit
EVIL = '<script>alert(1)</script> "comillas" & <b>negrita</b>'
WHEN = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)  # 10:30 in Bogotá


def sample_frame(ds, rows: int = 4) -> pd.DataFrame:
    values = {
        "texto": lambda i: f"valor {i}",
        "entero": lambda i: i - 2,
        "decimal": lambda i: i * 1.5 - 2,
        "fecha": lambda i: pd.Timestamp(2026, 1, 1 + i),
        "fecha_hora": lambda i: pd.Timestamp(2026, 1, 1 + i, 8, 30),
        "booleano": lambda i: i % 2 == 0,
    }
    return pd.DataFrame(
        {c.nombre_salida: [values[c.tipo_salida](i) for i in range(rows)] for c in ds.columnas_publicadas}
    )


def evil_dataset(slug: str = "vacunacion_pai"):
    ds = load_catalog().get(slug)
    first = ds.columnas_publicadas[0].model_copy(update={"descripcion": EVIL})
    columns = [first if c.nombre == first.nombre else c for c in ds.columnas]
    return ds.model_copy(update={"descripcion": EVIL, "nombre": f"Prueba {EVIL}", "columnas": columns})


class Outline(HTMLParser):
    """Collects what the accessibility checks need."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = None
        self.headings: list[int] = []
        self.th_without_scope = 0
        self.tables = 0
        self.captions = 0
        self.scripts: list[dict] = []
        self.imgs_without_alt = 0
        self.external = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "th" and a.get("scope") not in {"col", "row"}:
            self.th_without_scope += 1
        self.tables += tag == "table"
        self.captions += tag == "caption"
        if tag == "script":
            self.scripts.append(a)
        if tag == "img" and not a.get("alt"):
            self.imgs_without_alt += 1
        if tag in {"script", "img", "iframe"} and a.get("src", "").startswith(("http", "//")):
            self.external.append(a["src"])
        if tag == "link" and a.get("rel") == "stylesheet":
            self.external.append(a.get("href"))


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def check_accessible(html: str) -> None:
    page = outline(html)
    assert page.lang == "es"
    assert page.headings and page.headings[0] == 1 and page.headings.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(page.headings, page.headings[1:], strict=False)), page.headings
    assert page.th_without_scope == 0
    assert page.tables == page.captions
    assert page.imgs_without_alt == 0
    assert page.external == []


@pytest.fixture
def published(tmp_path, monkeypatch):
    from casanare.publish.portal.ids import STATE_FILE
    from casanare.staging import DatasetArea

    ds = evil_dataset()
    # The 4x4 the portal assigned on the first publication, kept in the dataset's state.
    monkeypatch.setenv("CASANARE_STAGING_URL", (tmp_path / "staging").as_uri())
    DatasetArea((tmp_path / "staging").as_uri(), ds.slug).write_json(STATE_FILE, {"dataset_id": "zz99-yy88"})
    site = LocalFolder(tmp_path / "sitio")
    publish_site(sample_frame(ds), ds, site, version="20261122T153000", published_at=WHEN)
    return ds, tmp_path / "sitio"


def test_page_escapes_every_catalog_text(published):
    ds, root = published
    ruta = ds.casanare_gov_co.ruta
    for page in (root / "conjuntos" / ruta / "index.html", root / "index.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<b>negrita</b>" not in html
    # Scripts are inline progressive enhancements (index filter, preview filter/sort): no src.
    scripts = outline((root / "conjuntos" / ruta / "index.html").read_text()).scripts
    assert len(scripts) == 1 and all("src" not in s for s in scripts)
    assert b"<script>alert" not in (root / "novedades.atom").read_bytes()


def test_page_is_spanish_and_accessible(published):
    ds, root = published
    check_accessible((root / "conjuntos" / ds.casanare_gov_co.ruta / "index.html").read_text(encoding="utf-8"))
    check_accessible((root / "index.html").read_text(encoding="utf-8"))
    for facet_page in (root / "filtros").rglob("*.html"):
        check_accessible(facet_page.read_text(encoding="utf-8"))


def test_page_shows_the_catalog_facts(published):
    ds, root = published
    html = (root / "conjuntos" / ds.casanare_gov_co.ruta / "index.html").read_text(encoding="utf-8")
    assert ds.dependencia in html and ds.categoria in html and ds.licencia in html
    assert "22 de noviembre de 2026, 10:30" in html  # Bogotá time
    assert proxima_actualizacion_texto(ds.frecuencia_actualizacion, WHEN) in html
    for column in ds.columnas_publicadas[1:]:
        assert f"<code>{column.nombre_salida}</code>" in html
    assert "/d/zz99-yy88" in html
    for name in ("datos.csv", "datos.xlsx", "datos.json"):
        assert f'href="{name}"' in html
        assert (root / "conjuntos" / ds.casanare_gov_co.ruta / name).is_file()
    assert "Sin evaluación" in html


def test_next_update_follows_the_cron_in_bogota():
    # Sunday 22:00 in Bogotá is already Monday in UTC: the weekly run is Monday 05:00 Bogotá.
    sunday_night = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    assert proxima_actualizacion_texto("semanal", sunday_night) == "lunes 23 de noviembre de 2026, 05:00 (hora de Colombia)"
    assert proxima_actualizacion_texto("mensual", WHEN).startswith("martes 1 de diciembre de 2026, 05:00")
    assert proxima_actualizacion_texto("trimestral", WHEN).startswith("viernes 1 de enero de 2027, 06:00")
    assert proxima_actualizacion_texto("eventual", WHEN) == "cuando haya cambios"


def test_quality_from_scorecard_and_validation(tmp_path):
    ds = load_catalog().get("vacunacion_pai")
    validation = {
        "exito": True, "evaluadas": 3, "fallidas": 1,
        "resultados": [
            {"descripcion": "La tabla tiene entre 1 y 10 filas", "columna": None, "exito": True, "severidad": "critical"},
            {"descripcion": "Valores <únicos>", "columna": "codigo", "exito": False, "severidad": "warning"},
            {"descripcion": "Sin vacíos", "columna": "municipio", "exito": True, "severidad": "critical"},
        ],
    }
    scorecard = {"puntaje_total": 87.5, "puntaje_maximo": 100,
                 "criterios": [{"nombre": "Completitud", "puntaje": 90}, {"criterio": "Actualidad", "cumple": True}]}
    publish_site(sample_frame(ds), ds, LocalFolder(tmp_path), version="v1", published_at=WHEN,
                 scorecard=scorecard, validation=validation)
    html = (tmp_path / "conjuntos" / ds.casanare_gov_co.ruta / "index.html").read_text(encoding="utf-8")
    assert "Sin evaluación" not in html
    assert "<strong>87,5 de 100</strong>" in html
    assert "Completitud" in html and "Actualidad" in html
    assert "2 de 3 cumplidas" in html
    assert "Valores &lt;únicos&gt;" in html and "No cumple (advertencia)" in html


def test_real_mintic_scorecard_of_this_run_is_shown(tmp_path):
    """The quality module's scorecard, as the validar stage records it, is what the page shows."""
    from casanare.quality.scorecard import build_scorecard

    ds = load_catalog().get("vacunacion_pai")
    frame = sample_frame(ds, 6)
    validation = {"exito": True, "evaluadas": 1, "fallidas": 0, "resultados": [
        {"descripcion": "La tabla tiene filas", "columna": None, "exito": True, "severidad": "critical"}]}
    card = build_scorecard(frame, ds, validation, None, ahora=WHEN, ultima_actualizacion=WHEN, historial=[],
                           sha256=None)
    validation["puntaje_mintic"] = card
    stale = {"promedio": 1.0, "criterios": {}}  # an older stored scorecard must not win
    publish_site(frame, ds, LocalFolder(tmp_path), version="v1", published_at=WHEN, scorecard=stale,
                 validation=validation)
    html = (tmp_path / "conjuntos" / ds.casanare_gov_co.ruta / "index.html").read_text(encoding="utf-8")
    average = f"{card['promedio']:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    assert f"<strong>{average} de 10</strong>" in html and "<strong>1 de 10</strong>" not in html
    assert "Completitud" in html and "Precisión" in html and "No medible aquí" in html
    assert "Sello de Excelencia" in html


def test_scorecard_reader_is_defensive(monkeypatch):
    broken = types.ModuleType("casanare.quality.scorecard")

    def latest_scorecard(staging_url, slug):
        raise FileNotFoundError(staging_url)

    broken.latest_scorecard = latest_scorecard
    monkeypatch.setitem(sys.modules, "casanare.quality.scorecard", broken)
    assert scorecard_module.latest_scorecard("file:///no/existe", "vacunacion_pai") is None
    without = types.ModuleType("casanare.quality.scorecard")
    monkeypatch.setitem(sys.modules, "casanare.quality.scorecard", without)
    assert scorecard_module.latest_scorecard("file:///no/existe", "vacunacion_pai") is None
    assert scorecard_module.scorecard_view(None, None) is None
    assert scorecard_module.scorecard_view({"otra": "cosa"}, {"sin": "forma"}) is None


def test_history_lists_this_run_and_earlier_versions(tmp_path):
    ds = load_catalog().get("vacunacion_pai")
    site = LocalFolder(tmp_path)
    runs = [{"ejecucion": "manual__2026-01-01", "fecha": "2026-01-01T10:00:00+00:00", "filas_publicadas": 1200}]
    publish_site(sample_frame(ds, 3), ds, site, version="20261101T100000",
                 published_at=datetime(2026, 11, 1, 15, tzinfo=UTC), history=runs)
    publish_site(sample_frame(ds, 5), ds, site, version="20261122T153000", published_at=WHEN, history=runs)
    html = (tmp_path / "conjuntos" / ds.casanare_gov_co.ruta / "index.html").read_text(encoding="utf-8")
    table = html.split("Historial de actualizaciones", 1)[1]
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>", table)
    assert [(re.sub("<[^>]+>", "", v).removesuffix(" (CSV)"), f) for v, _, f in rows] == [
        ("20261122T153000", "5"), ("20261101T100000", "3"), ("manual__2026-01-01", "1.200"),
    ]
    link = re.search(r'href="(\.\./\.\./versiones/[^"]+)"', table).group(1)
    # Resolved like a browser does from the page's URL conjuntos/<ruta>/ (not through the link).
    url_path = posixpath.normpath(f"conjuntos/{ds.casanare_gov_co.ruta}/{link}")
    assert url_path == f"versiones/{ds.casanare_gov_co.ruta}/20261101T100000/datos.csv"
    assert (tmp_path / url_path).read_bytes().startswith(b"\xef\xbb\xbf")
