"""Baseline expectations generated from the catalog, and what GX makes of them on small frames."""

from __future__ import annotations

import re
from datetime import date, datetime

import pandas as pd
import pytest

from casanare.catalog import Dataset
from casanare.quality.baseline import (
    REGEX_MES,
    REGEX_RANGO_EDAD,
    REGEX_SEMANA_EPI,
    REGEX_SEUDONIMO,
    allow_privacy_suppression,
    baseline_expectations,
    dimension_of,
    divipola_codes,
    merged_suite,
)

pytestmark = pytest.mark.unit
HOY = date(2026, 11, 22)


def _col(nombre, tipo="texto", regla="publicar", **extra):
    return {"nombre": nombre, "tipo": tipo, "descripcion": f"Columna {nombre} de prueba", "clasificacion": "publica",
            "regla": regla, **extra}


def make_dataset(columnas, calidad=None, microdatos=None, row_id="id_caso") -> Dataset:
    data = {
        "slug": "prueba_calidad", "nombre": "Conjunto de prueba", "descripcion": "Conjunto de prueba para la calidad.",
        "dependencia": "Secretaría TIC", "tipologia": "Social", "categoria": "Función pública",
        "ambito_geografico": "Departamental", "fuente_primaria": True, "evidencia_solicitud": ["Ciudadanos"],
        "soporte": "digital", "frecuencia_generacion": "mensual", "frecuencia_actualizacion": "mensual",
        "disponible": True, "publicada": False, "ubicacion": "Servidor", "priorizado": True,
        "contactos": ["tic@casanare.gov.co"], "etiquetas": ["a", "b", "c"],
        "fuente": {"tipo": "archivo", "ruta": "x/prueba.csv"},
        "columnas": columnas,
        "datos_gov_co": {"dataset_id": "abcd-1234", "identificador_fila": row_id},
        "casanare_gov_co": {"ruta": "prueba"},
    }
    if calidad:
        data["calidad"] = calidad
    if microdatos:
        data["microdatos"] = microdatos
    return Dataset.model_validate(data)


COLUMNAS = [
    _col("id_caso", requerido=True),
    _col("documento", regla="seudonimizar", dato_personal="cedula", requerido=True, nombre_publicado="id_persona"),
    _col("nombre", regla="eliminar", dato_personal="nombre", clasificacion="clasificada"),
    _col("edad", tipo="entero", regla={"accion": "generalizar", "metodo": "rango_edad"}, dato_personal="edad",
         nombre_publicado="rango_edad"),
    _col("fecha", tipo="fecha", regla={"accion": "generalizar", "metodo": "mes"}, nombre_publicado="mes", requerido=True),
    _col("fecha_semana", tipo="fecha", regla={"accion": "generalizar", "metodo": "semana_epidemiologica"},
         nombre_publicado="semana"),
    _col("fecha_evento", tipo="fecha", minimo="2020-01-01"),
    _col("codigo_municipio", requerido=True),
    _col("valor", tipo="decimal", minimo=0, maximo=1000),
    _col("latitud", tipo="decimal"),
    _col("longitud", tipo="decimal"),
]


def by_rule(exps):
    return {e["meta"]["regla"]: e for e in exps}


def test_schema_rules_follow_the_published_columns():
    rules = by_rule(baseline_expectations(make_dataset(COLUMNAS, calidad={"minimo_filas": 50}), hoy=HOY))
    published = ["id_caso", "id_persona", "rango_edad", "mes", "semana", "fecha_evento", "codigo_municipio",
                 "valor", "latitud", "longitud"]
    assert rules["columnas"]["kwargs"] == {"column_set": published, "exact_match": True}
    assert {r.split(":", 1)[1] for r in rules if r.startswith("no_nulo:")} == {"id_caso", "id_persona", "mes",
                                                                              "codigo_municipio"}
    assert not any(r.endswith(":nombre") for r in rules), "a dropped column gets no rule"
    assert rules["unico:id_caso"]["type"] == "expect_column_values_to_be_unique"
    assert rules["identificador:id_caso"]["type"] == "expect_column_values_to_not_be_null"
    assert rules["minimo_filas"]["kwargs"] == {"min_value": 50, "max_value": None}
    assert all(e["severity"] == "critical" for e in rules.values())


def test_types_and_post_rule_formats():
    rules = by_rule(baseline_expectations(make_dataset(COLUMNAS), hoy=HOY))
    assert all(t.startswith("datetime64") for t in rules["tipo:fecha_evento"]["kwargs"]["type_list"])
    assert rules["tipo:rango_edad"]["kwargs"]["type_list"] == ["StringDtype", "object"], "an age band is text"
    assert rules["tipo:mes"]["kwargs"]["type_list"] == ["StringDtype", "object"], "mes is text once generalized"
    assert "float64" in rules["tipo:valor"]["kwargs"]["type_list"]
    assert rules["formato:id_persona"]["kwargs"]["regex"] == REGEX_SEUDONIMO
    assert rules["formato:mes"]["kwargs"]["regex"] == REGEX_MES
    assert rules["formato:semana"]["kwargs"]["regex"] == REGEX_SEMANA_EPI
    assert rules["formato:rango_edad"]["kwargs"]["regex"] == REGEX_RANGO_EDAD
    assert re.fullmatch(REGEX_SEUDONIMO, "P" + "0a" * 12) and not re.fullmatch(REGEX_SEUDONIMO, "1234567890")
    assert re.fullmatch(REGEX_MES, "2026-11") and not re.fullmatch(REGEX_MES, "2026-13")
    assert re.fullmatch(REGEX_SEMANA_EPI, "2026-S07") and not re.fullmatch(REGEX_SEMANA_EPI, "2026-7")
    assert re.fullmatch(REGEX_RANGO_EDAD, "15-19") and re.fullmatch(REGEX_RANGO_EDAD, "80+")


def test_divipola_dates_ranges_and_coordinates():
    rules = by_rule(baseline_expectations(make_dataset(COLUMNAS), hoy=HOY))
    assert rules["divipola:codigo_municipio"]["kwargs"]["value_set"] == list(divipola_codes())
    assert len(divipola_codes()) == 19 and "85001" in divipola_codes()
    futuro = rules["fecha_futura:fecha_evento"]["kwargs"]
    assert futuro["max_value"] == datetime(2026, 11, 22, 23, 59, 59)
    assert rules["rango:fecha_evento"]["kwargs"]["min_value"] == datetime(2020, 1, 1)
    assert rules["rango:valor"]["kwargs"] == {"column": "valor", "min_value": 0, "max_value": 1000}
    assert rules["coordenadas:latitud"]["kwargs"]["min_value"] == pytest.approx(4.2)
    assert rules["coordenadas:longitud"]["kwargs"]["max_value"] == pytest.approx(-69.7)
    # A generalized date (mes) is text: no date range on it.
    assert "fecha_futura:mes" not in rules


def test_catalog_overrides_severity_future_dates_and_coordinate_names():
    cols = [*COLUMNAS[:-2], _col("y", tipo="decimal"), _col("x", tipo="decimal")]
    ds = make_dataset(cols, calidad={"severidades": {"rango": "warning", "divipola:codigo_municipio": "warning"},
                                     "fechas_futuras": ["fecha_evento"], "columna_latitud": "y",
                                     "columna_longitud": "x"})
    rules = by_rule(baseline_expectations(ds, hoy=HOY))
    assert rules["rango:valor"]["severity"] == rules["rango:fecha_evento"]["severity"] == "warning"
    assert rules["divipola:codigo_municipio"]["severity"] == "warning"
    assert rules["formato:mes"]["severity"] == "critical"
    assert "fecha_futura:fecha_evento" not in rules
    assert "coordenadas:y" in rules and "coordenadas:x" in rules


def test_quasi_identifier_gaps_are_warnings():
    cols = [*COLUMNAS[:3], _col("sexo", requerido=True, dato_personal="sexo"), *COLUMNAS[3:]]
    ds = make_dataset(cols, microdatos={"cuasi_identificadores": ["sexo", "codigo_municipio"], "k": 2})
    rules = by_rule(baseline_expectations(ds, hoy=HOY))
    assert rules["no_nulo:sexo"]["severity"] == rules["no_nulo:codigo_municipio"]["severity"] == "warning"
    assert rules["no_nulo:id_caso"]["severity"] == "critical"


def test_merge_keeps_an_identical_rule_once_and_tags_suite_rules(tmp_path, monkeypatch):
    (tmp_path / "expectations").mkdir()
    (tmp_path / "reference").symlink_to(__import__("casanare.settings").settings.include_dir() / "reference")
    (tmp_path / "expectations" / "prueba_calidad.json").write_text(
        '{"name": "prueba_calidad", "expectations": ['
        '{"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id_caso"}, "severity": "critical"},'
        '{"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "valor", "value_set": [1]},'
        ' "severity": "warning"}]}',
        encoding="utf-8",
    )
    monkeypatch.setenv("CASANARE_INCLUDE_DIR", str(tmp_path))
    suite = merged_suite(make_dataset(COLUMNAS), hoy=HOY)
    unique = [e for e in suite["expectations"] if e["type"] == "expect_column_values_to_be_unique"]
    assert len(unique) == 1 and unique[0]["meta"]["origen"] == "catalogo"
    own = suite["expectations"][-1]
    assert own["meta"] == {"origen": "suite", "regla": "suite:column_values_to_be_in_set:valor",
                           "dimension": "conformidad"}
    assert own["severity"] == "warning"
    assert dimension_of("expect_column_pair_values_a_to_be_greater_than_b", {}) == "consistencia"
    assert dimension_of("expect_column_values_to_be_in_set", {"dimension": "exactitud"}) == "exactitud"


def _frame(n=60):
    return pd.DataFrame({
        "id_caso": pd.array([f"C{i}" for i in range(n)], dtype="str"),
        "id_persona": pd.array(["P" + f"{i:024x}" for i in range(n)], dtype="str"),
        "rango_edad": pd.array(["15-19"] * n, dtype="str"),
        "mes": pd.array(["2026-10"] * n, dtype="str"),
        "semana": pd.array(["2026-S40"] * n, dtype="str"),
        "fecha_evento": pd.to_datetime(["2024-05-01"] * n).astype("datetime64[us]"),
        "codigo_municipio": pd.array(["85001"] * n, dtype="str"),
        "valor": pd.array([10.5] * n, dtype="Float64"),
        "latitud": [5.33] * n,
        "longitud": [-72.39] * n,
    })


def _run(df, ds, tmp_path):
    from casanare.quality.validation import run_suite

    suite = {"name": ds.slug, "expectations": baseline_expectations(ds, hoy=HOY)}
    return run_suite(df, ds, run_name="prueba", docs_dir=tmp_path / "docs", suite=suite, raise_on_critical=False)


def test_gx_accepts_a_clean_frame_and_catches_each_broken_rule(tmp_path):
    ds = make_dataset(COLUMNAS, calidad={"minimo_filas": 50})
    clean = _run(_frame(), ds, tmp_path)
    assert clean["exito"], [r for r in clean["resultados"] if not r["exito"]]
    assert not any(r["error_interno"] for r in clean["resultados"])

    bad = _frame()
    bad.loc[0, "codigo_municipio"] = "99999"
    bad.loc[1, "id_caso"] = "C0"
    bad.loc[2, "mes"] = "2026-13"
    bad.loc[3, "id_persona"] = "1047175600"
    bad.loc[4, "fecha_evento"] = pd.Timestamp("2027-01-01")
    bad.loc[5, "latitud"] = 10.0
    bad.loc[6, "valor"] = -1
    bad["valor"] = bad["valor"].astype("Float64")
    report = _run(bad, ds, tmp_path)
    failed = {r["regla"]: r["inesperados"] for r in report["resultados"] if not r["exito"]}
    assert failed == {"divipola:codigo_municipio": 1, "unico:id_caso": 2, "formato:mes": 1,
                      "formato:id_persona": 1, "fecha_futura:fecha_evento": 1, "coordenadas:latitud": 1,
                      "rango:valor": 1}
    assert not report["exito"]

    short = _run(_frame(10), ds, tmp_path)
    assert {r["regla"] for r in short["resultados"] if not r["exito"]} == {"minimo_filas"}
    assert next(r for r in short["resultados"] if r["regla"] == "minimo_filas")["observado"] == 10

    as_text = _run(_frame().assign(valor=lambda d: d["valor"].astype("str")), ds, tmp_path)
    tipo = next(r for r in as_text["resultados"] if r["regla"] == "tipo:valor")
    assert not tipo["exito"] and tipo["observado"] == "str"


def test_gaps_made_by_k_anonymity_are_not_reported_but_a_source_gap_is(tmp_path):
    from casanare.quality.validation import run_suite

    ds = make_dataset(COLUMNAS, microdatos={"cuasi_identificadores": ["codigo_municipio"], "k": 2})
    privacidad = {"k_anonimato": {"celdas_suprimidas_por_columna": {"codigo_municipio": 3}}}

    def gaps(blank_rows):
        df = _frame()
        df.loc[list(blank_rows), "codigo_municipio"] = None
        base = {"name": ds.slug, "expectations": baseline_expectations(ds, hoy=HOY)}
        suite = allow_privacy_suppression(base, privacidad, len(df))
        report = run_suite(df, ds, run_name="prueba", docs_dir=tmp_path / "docs", suite=suite,
                           raise_on_critical=False)
        return [r["inesperados"] for r in report["resultados"] if not r["exito"]
                and r["regla"] == "no_nulo:codigo_municipio"]

    assert gaps(range(3)) == []  # exactly the 3 cells privacy blanked
    assert gaps(range(4)) == [4]  # one more empty cell came from the source: still reported
    assert allow_privacy_suppression({"expectations": []}, None, 10) == {"expectations": []}


def test_aggregates_that_print_values_are_refused_on_personal_columns(tmp_path, monkeypatch):
    from casanare import settings
    from casanare.errors import ErrorDeConfiguracion

    (tmp_path / "expectations").mkdir()
    (tmp_path / "reference").symlink_to(settings.include_dir() / "reference")
    suite = tmp_path / "expectations" / "prueba_calidad.json"
    monkeypatch.setenv("CASANARE_INCLUDE_DIR", str(tmp_path))
    suite.write_text('{"name": "p", "expectations": [{"type": "expect_column_max_to_be_between", '
                     '"kwargs": {"column": "valor", "max_value": 5}}]}', encoding="utf-8")
    assert merged_suite(make_dataset(COLUMNAS), hoy=HOY)["expectations"][-1]["kwargs"]["column"] == "valor"
    suite.write_text('{"name": "p", "expectations": [{"type": "expect_column_distinct_values_to_be_in_set", '
                     '"kwargs": {"column": "rango_edad", "value_set": ["15-19"]}}]}', encoding="utf-8")
    with pytest.raises(ErrorDeConfiguracion, match="rango_edad"):
        merged_suite(make_dataset(COLUMNAS), hoy=HOY)


def test_the_validated_frame_is_not_kept_after_the_suite(tmp_path):
    """GX registers its context process-wide; through it the last frame stayed alive (0.27 GB
    at 1M rows) for every later task of the same worker process."""
    import gc

    import pyarrow as pa

    ds = make_dataset(COLUMNAS)
    gc.collect()
    before = pa.total_allocated_bytes()
    df = _frame(2_000)
    # 2 MB of Arrow-backed text: while anything (GX's project, its data source, the batch)
    # still holds the frame, Arrow still counts these bytes.
    df["relleno"] = pd.Series(pd.array(["x" * 1_000] * 2_000, dtype=pd.StringDtype("pyarrow")), index=df.index)
    assert pa.total_allocated_bytes() - before > 2_000_000
    report = _run(df, ds, tmp_path)
    assert report["resultados"]
    del df
    gc.collect()
    assert pa.total_allocated_bytes() - before < 100_000


def test_gx_copies_the_table_only_to_evaluate_each_rule(tmp_path, monkeypatch):
    """The reports use only GX's counts. Asking for its lists of unexpected rows (``SUMMARY``)
    made GX filter the whole table twice more per column rule for lists cut to 0 entries
    (5M rows: +0.6 GB at the peak of validar and ~7 s of copies)."""
    import traceback

    ds = make_dataset(COLUMNAS, calidad={"minimo_filas": 50})
    df = _frame()
    df.loc[0, "codigo_municipio"] = "99999"
    copies = []
    real = pd.DataFrame._getitem_bool_array

    def recording(self, key):
        if self.shape[1] == df.shape[1]:
            copies.append({frame.name for frame in traceback.extract_stack(limit=4)})
        return real(self, key)

    monkeypatch.setattr(pd.DataFrame, "_getitem_bool_array", recording)
    report = _run(df, ds, tmp_path)
    assert "codigo_municipio" in {r["columna"] for r in report["resultados"] if not r["exito"]}
    # GX's own condition and its (empty) list of unexpected values filter the table; nothing else.
    assert copies
    assert all(names & {"inner_func", "_pandas_column_map_condition_values"} for names in copies)


@pytest.mark.parametrize("gap", [False, True])
def test_range_rules_on_nullable_numbers_are_vectorized_with_the_same_counts(tmp_path, monkeypatch, gap):
    """GX maps a Python function over every value of a range rule unless the column is a numpy
    int/float; a gap-free nullable column is handed to it as its numpy dtype (same values)."""
    ds = make_dataset(COLUMNAS, calidad={"minimo_filas": 50})
    df = _frame()
    df["valor"] = pd.array([10.5] * len(df), dtype="Float64")
    df.loc[5, "valor"] = 2_000.0
    df.loc[6, "valor"] = -1.0
    if gap:
        df.loc[7, "valor"] = None
    mapped = []
    real = pd.Series.map

    def recording(self, *args, **kwargs):
        mapped.append(self.name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.Series, "map", recording)
    report = _run(df, ds, tmp_path)
    by_rule = {r["regla"]: r for r in report["resultados"]}
    rango = next(r for name, r in by_rule.items() if name and name.startswith("rango:valor"))
    assert (rango["exito"], rango["inesperados"]) == (False, 2)
    assert next(r for name, r in by_rule.items() if name and name.startswith("tipo:valor"))["exito"]
    assert ("valor" in mapped) is gap
    assert df["valor"].dtype == "Float64"  # the caller's frame is untouched


@pytest.mark.parametrize("beside", [True, False])
def test_the_profile_measured_beside_the_suite_is_the_sequential_scorecard(tmp_path, monkeypatch, beside):
    """``validar`` profiles a small table in a thread while GX runs and a large one after GX:
    the same scorecard as one after the other."""
    import threading

    from casanare.quality import stage
    from casanare.quality.scorecard import build_scorecard
    from casanare.quality.stage import validar

    threads = []
    profile = stage.perfil
    monkeypatch.setattr(stage, "perfil", lambda *a: threads.append(threading.current_thread().name) or profile(*a))
    monkeypatch.setattr(stage, "FILAS_PERFIL_A_LA_VEZ", 1_000 if beside else 0)

    (tmp_path / "expectations").mkdir()
    (tmp_path / "reference").symlink_to(__import__("casanare.settings").settings.include_dir() / "reference")
    (tmp_path / "expectations" / "prueba_calidad.json").write_text(
        '{"name": "prueba_calidad", "expectations": []}', encoding="utf-8")
    monkeypatch.setenv("CASANARE_INCLUDE_DIR", str(tmp_path))
    ds = make_dataset(COLUMNAS)
    df = _frame()
    df.loc[3, "valor"] = None
    ahora = datetime(2026, 11, 22, 12, 0)
    report = validar(df, ds, run_name="prueba", docs_dir=tmp_path / "docs", privacidad=None, extraccion=None,
                     historial=[], ahora=ahora, duplicados_origen=0)
    sequential = build_scorecard(df, ds, report, None, ahora=ahora, ultima_actualizacion=ahora, historial=[],
                                 sha256=None, duplicados_origen=0)
    assert report["puntaje_mintic"] == sequential
    assert report["puntaje_mintic"]["perfil_columnas"]["valor"]["faltantes"] == 1
    assert len(threads) == 1 and threads[0].startswith("perfil") is beside
