"""Every malformed source in the corpus fails ``extraer`` with a precise, value-free Spanish error."""

from __future__ import annotations

import json

import pytest

from casanare.extract import extraer
from casanare.staging import RunArea
from tests.malformed_corpus import CASOS, Caso, construir

pytestmark = pytest.mark.unit


def test_corpus_is_large_enough():
    assert len(CASOS) >= 20
    assert len({c.id for c in CASOS}) == len(CASOS)


@pytest.mark.parametrize("caso", CASOS, ids=[c.id for c in CASOS])
def test_malformed_source_fails_precisely(caso: Caso, tmp_path):
    fuentes = tmp_path / "fuentes"
    fuentes.mkdir()
    ds = construir(caso, fuentes)
    area = RunArea((tmp_path / "staging").as_uri(), ds.slug, "manual__prueba")

    with pytest.raises(caso.error) as info:
        extraer(ds, area)

    exc = info.value
    assert type(exc) is caso.error
    assert caso.mensaje in exc.mensaje
    where = exc.ubicacion
    assert where.archivo == caso.archivo
    assert where.hoja == caso.hoja
    assert where.filas == caso.filas
    assert where.columna == caso.columna
    assert exc.como_corregir, "cada error dice cómo corregirlo"
    assert caso.como_corregir in exc.como_corregir
    # The one-line description names the file (and sheet / rows / column when known).
    described = str(exc)
    assert caso.archivo in described
    for row in caso.filas:
        assert str(row) in described
    # Never a data value, anywhere a person or a log could read it.
    dump = json.dumps(exc.as_dict(), ensure_ascii=False) + described
    for secret in caso.secretos:
        assert secret not in dump
    # Nothing typed reaches the next stage ...
    assert not area.exists("extraido.parquet") or caso.error.__name__ == "ArchivoConErrores"


@pytest.mark.parametrize("caso", [c for c in CASOS if c.escribir is not None][:3], ids=lambda c: c.id)
def test_rejected_source_is_still_archived(caso: Caso, tmp_path):
    """Even a rejected file is kept as evidence, byte for byte."""
    ds = construir(caso, tmp_path)
    area = RunArea((tmp_path / "staging").as_uri(), ds.slug, "r")
    with pytest.raises(caso.error):
        extraer(ds, area)
    assert area.read_bytes(f"original/{caso.archivo}") == (tmp_path / caso.archivo).read_bytes()
