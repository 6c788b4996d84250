"""Fase III announcements: one set for a new dataset, none for a no-change rerun, X length as X counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casanare.catalog import load_catalog
from casanare.instruments.anuncios import LIMITE_X, de_la_semana, longitud_x, novedad, textos
from casanare.instruments.generar import anunciar, instrumentos_storage, resumen_comunicaciones
from casanare.publish.site.catalog_pages import feed_entries
from casanare.staging import DatasetArea

pytestmark = pytest.mark.unit
WHEN = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
SLUG = "ejecucion_presupuestal_gastos"


def success(run: str, sha: str, when: datetime, rows: int = 40) -> dict:
    return {"ejecucion": run, "fecha": when.isoformat(), "sha256": sha, "filas_publicadas": rows,
            "version_sitio": run}


def test_x_length_counts_urls_as_23_and_wide_characters_as_2():
    assert longitud_x("hola") == 4
    assert longitud_x("Vacunación") == 10  # accented Latin letters weigh 1
    assert longitud_x("ver https://www.casanare.gov.co/transparencia/datos-abiertos/conjuntos/x/") == 4 + 23
    assert longitud_x("📊") == 2 and longitud_x("データ") == 6
    assert longitud_x("e\u0301") == 1  # NFC: e + combining accent is one character


def test_novedad_new_changed_and_unchanged():
    first = success("r1", "a" * 64, WHEN)
    assert novedad([], None) is None
    assert novedad([first], None).tipo == "nuevo"
    announced = {"ejecucion": "r1", "sha256": "a" * 64}
    assert novedad([first], announced) is None  # already announced
    rerun = success("r2", "a" * 64, WHEN + timedelta(days=1))
    assert novedad([first, rerun], announced) is None  # same data: not news
    changed = success("r3", "b" * 64, WHEN + timedelta(days=2))
    assert novedad([first, rerun, changed], announced).tipo == "actualizado"
    assert novedad([first, {**changed, "sin_cambios": True}], announced) is None
    # The published table's hash wins over the source's: a source change that publishes the same
    # table (e.g. only a withheld column changed) is not news.
    same_table = {**success("r4", "d" * 64, WHEN + timedelta(days=3)), "hash_publicado": "h1"}
    assert novedad([first, same_table], {"ejecucion": "r3", "sha256": "h1"}) is None
    assert novedad([first, same_table], {"ejecucion": "r3", "sha256": "h0"}).sha256 == "h1"


def test_texts_per_channel_with_the_link_and_x_within_280():
    catalog = load_catalog()
    url = "https://www.casanare.gov.co/transparencia/datos-abiertos/conjuntos/" + "x" * 80 + "/"
    for ds in catalog.priorizados:
        nov = novedad([success("r1", "a" * 64, WHEN, rows=1234567)], None)
        out = textos(ds, nov, url)
        assert sorted(out) == ["facebook.txt", "instagram.txt", "web.html", "x.txt"]
        assert all(url in text for text in out.values())
        assert longitud_x(out["x.txt"]) <= LIMITE_X, (ds.slug, longitud_x(out["x.txt"]))
        assert "1.234.567 registros" in out["facebook.txt"]
        assert out["web.html"].startswith('<article class="novedad-datos" lang="es">')
        assert "<script" not in out["web.html"]


def test_anunciar_writes_one_set_then_nothing_for_a_no_change_run(tmp_path):
    catalog = load_catalog()
    staging = (tmp_path / "staging").as_uri()
    area = DatasetArea(staging, SLUG)
    area.record_success(success("r1", "a" * 64, WHEN))
    first = anunciar(catalog, staging, ahora=WHEN)
    assert [(a["conjunto"], a["tipo"]) for a in first] == [(SLUG, "nuevo")]
    folder = tmp_path / "staging" / "_instrumentos" / "anuncios"
    (written,) = list(folder.iterdir())
    assert sorted(p.name for p in written.iterdir()) == ["anuncio.json", "facebook.txt", "instagram.txt", "web.html",
                                                         "x.txt"]
    assert anunciar(catalog, staging, ahora=WHEN) == []  # the same run twice
    area.record_success(success("r2", "a" * 64, WHEN + timedelta(days=1)))
    assert anunciar(catalog, staging, ahora=WHEN + timedelta(days=1)) == []  # no-change rerun
    area.record_success(success("r3", "c" * 64, WHEN + timedelta(days=2)))
    again = anunciar(catalog, staging, ahora=WHEN + timedelta(days=2))
    assert [(a["conjunto"], a["tipo"]) for a in again] == [(SLUG, "actualizado")]
    week = de_la_semana(instrumentos_storage(staging), WHEN - timedelta(days=1), WHEN + timedelta(days=6))
    assert [a["tipo"] for a in week] == ["nuevo", "actualizado"]
    message = resumen_comunicaciones(staging, WHEN - timedelta(days=1), WHEN + timedelta(days=6),
                                     sender="datos@casanare.gov.co", to=["comunicaciones@casanare.gov.co"], cc=[])
    body = message.get_body(("plain",)).get_content()
    assert message["To"] == "comunicaciones@casanare.gov.co"
    assert "Nuevo: " in body and "Actualizado: " in body and "de 280 caracteres" in body
    assert resumen_comunicaciones(staging, WHEN + timedelta(days=10), WHEN + timedelta(days=17),
                                  sender="d@c.co", to=["c@c.co"], cc=[]) is None


def test_feed_skips_no_change_versions_like_the_announcements():
    entry = {"ruta": "x", "nombre": "X", "dependencia": "D", "categoria": "Cultura", "primera_version": "v1",
             "versiones": [{"version": "v3", "fecha": "2026-11-25T10:00:00-05:00", "filas": 3},
                           {"version": "v2", "fecha": "2026-11-24T10:00:00-05:00", "filas": 3, "sin_cambios": True},
                           {"version": "v1", "fecha": "2026-11-23T10:00:00-05:00", "filas": 3}]}
    titles = [e["titulo"] for e in feed_entries([entry], base_url="https://s")]
    assert titles == ["Actualización: X", "Nuevo conjunto: X"]
