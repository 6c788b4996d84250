"""GX run in parts (a large table's uniqueness rules on their column first) reports as one run."""

from __future__ import annotations

import gc
import json
import weakref
from datetime import datetime

import pytest

from casanare.quality import stage, validation
from casanare.quality.validation import Validacion, columnas_aparte
from casanare.staging import ColumnReader, RunArea
from tests.unit.test_quality_baseline import COLUMNAS, _frame, make_dataset

pytestmark = pytest.mark.unit
AHORA = datetime(2026, 11, 22, 12, 0)
LINKS = {"data_docs", "data_docs_ruta", "data_docs_indice"}


@pytest.fixture
def ds(tmp_path, monkeypatch):
    from casanare import settings

    include = tmp_path / "include"
    (include / "expectations").mkdir(parents=True)
    (include / "reference").symlink_to(settings.include_dir() / "reference")
    (include / "expectations" / "prueba_calidad.json").write_text(
        '{"name": "prueba_calidad", "expectations": []}', encoding="utf-8")
    monkeypatch.setenv("CASANARE_INCLUDE_DIR", str(include))
    return make_dataset(COLUMNAS)


def _staged(tmp_path, ds, df):
    area = RunArea((tmp_path / "staging").as_uri(), ds.slug, "r1")
    area.write_parquet("anonimizado.parquet", df)
    return ColumnReader(area, "anonimizado.parquet")


def _validar(tabla, ds, docs):
    return stage.validar(tabla, ds, run_name="r1", docs_dir=docs, privacidad=None, extraccion=None, historial=[],
                         ahora=AHORA, duplicados_origen=0)


def test_a_large_tables_uniqueness_rules_run_first_on_their_column_with_the_same_report(tmp_path, ds, monkeypatch):
    """Above ``FILAS_UNICIDAD_APARTE`` rows each uniqueness rule runs on a frame of its column,
    read before the whole table; the report (results in suite order, failures and their
    counts, scorecard) is the one a single GX run gives, and the Data Docs hold one run."""
    df = _frame()
    df.loc[1, "id_caso"] = "C0"  # two rows break the row id's uniqueness
    df.loc[6, "valor"] = -1.0
    tabla = _staged(tmp_path, ds, df)

    monkeypatch.setattr(validation, "FILAS_UNICIDAD_APARTE", 10**9)
    whole = _validar(tabla, ds, tmp_path / "una")

    partes: list[tuple[str, list[str]]] = []
    for nombre in ("columna", "resto"):
        original = getattr(Validacion, nombre)

        def spy(self, *args, _original=original, _nombre=nombre):
            partes.append((_nombre, list(args[-1].columns)))
            return _original(self, *args)

        monkeypatch.setattr(Validacion, nombre, spy)
    monkeypatch.setattr(validation, "FILAS_UNICIDAD_APARTE", len(df))
    split = _validar(tabla, ds, tmp_path / "partes")

    from casanare.quality.baseline import merged_suite

    unicas = [e["kwargs"]["column"] for e in merged_suite(ds)["expectations"]
              if e["type"] == "expect_column_values_to_be_unique"]
    assert unicas and partes == [*(("columna", [c]) for c in unicas), ("resto", list(df.columns))]
    assert {k: v for k, v in split.items() if k not in LINKS} == {k: v for k, v in whole.items() if k not in LINKS}
    failed = {r["regla"]: r["inesperados"] for r in split["resultados"] if not r["exito"]}
    assert failed["unico:id_caso"] == 2 and not split["exito"]

    # One stored result with every rule and GX's statistics of the whole suite; one page.
    stored = list((tmp_path / "partes" / validation.RESULTS_FOLDER).rglob("*.json"))
    assert len(stored) == 1
    result = json.loads(stored[0].read_text(encoding="utf-8"))
    assert len(result["results"]) == split["evaluadas"]
    assert result["suite_name"] == ds.slug and result["success"] is False
    assert result["statistics"]["evaluated_expectations"] == split["evaluadas"]
    assert result["statistics"]["unsuccessful_expectations"] == split["fallidas"]
    assert [r["expectation_config"]["type"] for r in result["results"]] == [r["tipo"] for r in whole["resultados"]]
    (page,) = (tmp_path / "partes" / "validations").rglob("*.html")
    assert split["data_docs"].endswith(page.name)


def test_a_column_part_is_let_go_before_the_whole_table_is_read(tmp_path, ds):
    """GX's data source keeps the frame it validated; a part's frame must not stay under the
    whole table (5M ids: 0.5 GB that the table was read on top of)."""
    from casanare.quality.baseline import merged_suite

    df = validation.comparable_dtypes(_frame())
    part = df[["id_caso"]].copy()
    assert validation.comparable_dtypes(part) is part  # GX receives this very frame
    ref = weakref.ref(part)
    with Validacion(ds, merged_suite(ds), run_name="r1", docs_dir=tmp_path / "docs") as v:
        v.columna("id_caso", part)
        del part
        gc.collect()
        assert ref() is None
        v.resto(df)
        assert v.informe()["exito"]


def test_gx_does_not_fingerprint_the_validated_frame(tmp_path, ds):
    """GX hashes every pandas batch under 1 GB into its batch markers (1 s at 1M rows; 5 s and
    +2.1 GB for a column part of 5M ids). Our runs turn it off, and only while they run."""
    from great_expectations.execution_engine import pandas_execution_engine as engine

    assert engine.HASH_THRESHOLD == 1e9  # GX still has the setting this relies on
    validation.run_suite(_frame(), ds, run_name="r1", docs_dir=tmp_path / "docs", raise_on_critical=False)
    assert engine.HASH_THRESHOLD == 1e9
    (stored,) = (tmp_path / "docs" / validation.RESULTS_FOLDER).rglob("*.json")
    markers = json.loads(stored.read_text(encoding="utf-8"))["meta"]["batch_markers"]
    assert "ge_load_time" in markers and "pandas_data_fingerprint" not in markers


def test_only_large_tables_have_their_uniqueness_rules_run_apart():
    suite = {"expectations": [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "a"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "b"}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "c"}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "a", "mostly": 0.9}},
    ]}
    assert columnas_aparte(suite, validation.FILAS_UNICIDAD_APARTE) == ["a", "c"]
    assert columnas_aparte(suite, validation.FILAS_UNICIDAD_APARTE - 1) == []
