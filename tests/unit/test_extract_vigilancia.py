"""Change detection of eventual sources, without Airflow."""

from __future__ import annotations

import os

import pytest

from casanare.extract.vigilancia import ESTADO, es_vigilable, revisar_fuente, sha256_archivo, uri_fuente
from casanare.staging import DatasetArea
from tests.malformed_corpus import HEADERS, dataset, filas, write_csv

pytestmark = pytest.mark.unit


def eventual(path):
    ds = dataset(ruta=str(path))
    return ds.model_copy(update={"frecuencia_actualizacion": "eventual"})


def test_only_eventual_file_sources_are_watched(tmp_path):
    assert es_vigilable(eventual(tmp_path / "a.csv"))
    assert not es_vigilable(dataset(ruta=str(tmp_path / "a.csv")))


def test_uri_does_not_depend_on_where_sources_are_mounted(tmp_path, monkeypatch):
    ds = dataset(ruta="salud/pai.xlsx").model_copy(update={"frecuencia_actualizacion": "eventual"})
    monkeypatch.setenv("CASANARE_SOURCE_BASE", "/mnt/uno")
    first = uri_fuente(ds)
    monkeypatch.setenv("CASANARE_SOURCE_BASE", "/mnt/dos")
    assert uri_fuente(ds) == first == "casanare-fuente://prueba_extraccion/salud/pai.xlsx"


def test_change_detection_sequence(tmp_path):
    path = tmp_path / "eventos.csv"
    write_csv(path, [HEADERS, *filas(3)])
    ds = eventual(path)
    state = DatasetArea((tmp_path / "staging").as_uri(), ds.slug)

    assert revisar_fuente(ds, state)["cambio"] is True  # first sight, nothing published yet
    assert state.read_json(ESTADO)["sha256"] == sha256_archivo(path)
    assert revisar_fuente(ds, state)["cambio"] is False
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    touched = revisar_fuente(ds, state)
    assert touched["cambio"] is False and "sha256" in touched["motivo"]
    write_csv(path, [HEADERS, *filas(4)])
    assert revisar_fuente(ds, state)["cambio"] is True
    path.unlink()
    assert revisar_fuente(ds, state)["cambio"] is False


def test_first_sight_compares_with_last_successful_run(tmp_path):
    path = tmp_path / "eventos.csv"
    write_csv(path, [HEADERS, *filas(3)])
    ds = eventual(path)
    state = DatasetArea((tmp_path / "staging").as_uri(), ds.slug)
    state.record_success({"ejecucion": "r0", "sha256": sha256_archivo(path)})
    assert revisar_fuente(ds, state)["cambio"] is False
