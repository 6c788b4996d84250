"""The LEILA-level profile in the scorecard: what DNP's LEILA sees, as counts only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest

from casanare.catalog import load_catalog
from casanare.quality import perfil as pf
from casanare.quality import scorecard as sc

pytestmark = pytest.mark.unit
AHORA = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SECRET = "Zyxwvut"  # a value that must never appear in the scorecard


def test_type_mix_of_integers_written_as_decimals():
    as_float = pf.perfil_columna(pd.Series([21.0, 22.0, None, 23.5], name="edad"), "entero")
    assert as_float["mezcla_tipos"] == {"entero escrito como decimal": 2, "decimal": 1}
    assert as_float["valores_fuera_de_tipo"] == 3 and as_float["tipo_inferido"] == "entero"
    as_text = pf.perfil_columna(pd.Series(["21", "21.0", "22", "x"], name="grado"), "entero")
    assert as_text["mezcla_tipos"] == {"entero": 2, "entero escrito como decimal": 1, "texto": 1}
    assert as_text["valores_fuera_de_tipo"] == 2
    clean = pf.perfil_columna(pd.Series([1, 2, 3], dtype="Int64", name="anio"), "entero")
    assert clean["mezcla_tipos"] == {} and clean["valores_fuera_de_tipo"] == 0
    assert pf.perfil_columna(pd.Series(["a", "1"], name="t"), "texto")["valores_fuera_de_tipo"] == 0
    money = pf.perfil_columna(pd.Series([1500.0, 2000.5, 3.0], name="pagos"), "decimal")
    assert money["mezcla_tipos"] == {} and money["valores_fuera_de_tipo"] == 0


def test_constant_and_near_constant_columns():
    constant = pf.perfil_columna(pd.Series(["0-4"] * 50 + [None] * 3, name="rango_edad"), "texto")
    assert constant["constante"] and not constant["casi_constante"]
    assert constant["faltantes"] == 3 and constant["faltantes_pct"] == round(300 / 53, 2)
    near = pf.perfil_columna(pd.Series(["A"] * 91 + ["B"] * 9, name="zona"), "texto")
    assert near["casi_constante"] and near["cuota_valor_mas_frecuente"] == 0.91
    varied = pf.perfil_columna(pd.Series(["A"] * 89 + ["B"] * 11, name="zona"), "texto")
    assert not varied["casi_constante"] and varied["distintos"] == 2


def test_iqr_outliers_skip_code_columns():
    values = [10, 11, 12, 13, 12, 11, 10, 500]
    assert pf.perfil_columna(pd.Series(values, name="valor"), "decimal")["atipicos_iqr"] == 1
    assert pf.perfil_columna(pd.Series(values, name="codigo_municipio"), "entero")["atipicos_iqr"] is None
    assert pf.perfil_columna(pd.Series(values, name="id_registro"), "entero")["atipicos_iqr"] is None


def test_duplicates_made_by_anonymization_apart_from_the_source():
    published = pd.DataFrame({"grado": [1, 1, 1, 2, 3], "sexo": ["F", "F", "F", "M", "M"]})
    assert pf.duplicados(published, duplicados_origen=0) == {
        "en_publicado": 2, "en_origen": 0, "creados_por_anonimizacion": 2}
    assert pf.duplicados(published, duplicados_origen=1)["creados_por_anonimizacion"] == 1
    assert pf.duplicados(published, None)["creados_por_anonimizacion"] is None


def test_a_unique_row_key_answers_duplicates_without_hashing_rows(monkeypatch):
    keyed = pd.DataFrame({"id": ["a", "b", "c", "d"], "grado": [1, 1, 1, 2]})
    repeated = pd.DataFrame({"id": ["a", "a", None, None], "grado": [1, 1, 2, 2]})
    assert pf.filas_duplicadas(repeated, "id") == pf.filas_duplicadas(repeated) == 2
    assert pf.filas_duplicadas(repeated, "otra") == 2
    monkeypatch.setattr(pd.util, "hash_pandas_object", lambda *a, **k: pytest.fail("hashed every row"))
    assert pf.filas_duplicadas(keyed, "id") == 0
    assert pf.duplicados(keyed, 0, "id")["en_publicado"] == 0


def test_one_count_gives_distinct_values_and_the_top_share():
    serie = pd.Series(["x"] * 5 + ["y"] * 3 + [None, "z"], name="zona", dtype="string")
    p = pf.perfil_columna(serie, "texto")
    assert (p["distintos"], p["cuota_valor_mas_frecuente"], p["faltantes"]) == (3, round(5 / 9, 4), 1)


def test_scorecard_carries_the_profile_penalizes_and_holds_no_values():
    ds = load_catalog().get("vacunacion_pai")
    names = [c.nombre_salida for c in ds.columnas_publicadas]
    rows = 60
    df = pd.DataFrame({n: [f"{SECRET}{i % 7}" for i in range(rows)] for n in names})
    df["rango_edad"] = "0-4"  # one value in every row: the constant column LEILA saw
    df["id_aplicacion"] = [f"PAI-{i // 2}" for i in range(rows)]  # declared key repeated
    validacion = {"resultados": [{"dimension": "consistencia", "exito": True, "evaluados": None,
                                  "inesperados": None}]}
    card = sc.build_scorecard(df, ds, validacion, None, ahora=AHORA, ultima_actualizacion=AHORA, historial=[],
                              sha256="x", duplicados_origen=0)
    assert card["perfil_columnas"]["rango_edad"]["constante"] is True
    assert "rango_edad" in card["criterios"]["relevancia"]["detalle"]["columnas_constantes"]
    assert card["criterios"]["relevancia"]["puntaje"] <= 10 - sc.PENALIZACION_CONSTANTE
    assert card["llave_declarada"] == {"columna": "id_aplicacion", "presente": True, "vacios": 0, "repetidos": 30}
    assert card["duplicados"]["creados_por_anonimizacion"] == card["duplicados"]["en_publicado"]
    assert set(card["perfil_columnas"]) == set(df.columns)
    assert SECRET not in json.dumps(card, ensure_ascii=False, default=str)


@pytest.mark.parametrize("ids", [
    [f"PAI-{i}" for i in range(60)],  # unique: no whole-row hashing at all
    [f"PAI-{i // 2}" for i in range(60)],  # every identifier twice
    [None if i % 10 == 0 else f"PAI-{i // 3}" for i in range(60)],  # empty and repeated
])
def test_the_scorecard_reads_the_row_key_counts_off_its_profile_with_the_same_figures(monkeypatch, ids):
    ds = load_catalog().get("vacunacion_pai")
    names = [c.nombre_salida for c in ds.columnas_publicadas]
    df = pd.DataFrame({n: [f"v{i % 4}" for i in range(60)] for n in names})
    df["id_aplicacion"] = pd.Series(ids, dtype="str")
    validacion = {"resultados": []}
    expected = (sc.unicidad(df, "id_aplicacion"), pf.duplicados(df, 1, "id_aplicacion"), pf.llave_declarada(df, ds))
    calls = []
    counting = pf.conteo_llave

    def counted(serie):
        calls.append(serie.name)
        return counting(serie)

    monkeypatch.setattr(pf, "conteo_llave", counted)
    card = sc.build_scorecard(df, ds, validacion, None, ahora=AHORA, ultima_actualizacion=AHORA, historial=[],
                              sha256="x", duplicados_origen=1)
    # Read off the key's column profile, which already counted its distinct values: no second pass.
    assert calls == []
    assert (card["criterios"]["unicidad"], card["duplicados"], card["llave_declarada"]) == expected
    vacios = sum(i is None for i in ids)
    repetidos = len([i for i in ids if i is not None]) - len({i for i in ids if i is not None})
    assert (card["llave_declarada"]["vacios"], card["llave_declarada"]["repetidos"]) == (vacios, repetidos)


def test_sello_thresholds_come_from_one_cited_table():
    assert {r["clave"] for r in sc.REQUISITOS_SELLO_NIVEL_1} == {
        "actualidad_10", "completitud_mayor_8", "consistencia_mayor_8", "licencia_valida"}
    criterios = {"actualidad": {"puntaje": 10}, "completitud": {"puntaje": 8.01}, "consistencia": {"puntaje": 8}}
    result = sc.sello_excelencia(criterios, "CC BY-SA 4.0")
    assert result["requisitos"] == {"actualidad_10": True, "completitud_mayor_8": True,
                                    "consistencia_mayor_8": False, "licencia_valida": True}
    assert result["nivel_1"] is False and result["fuente"].startswith("docs/calidad.md")


def test_dataset_page_shows_the_profile(tmp_path):
    from casanare.publish.website import LocalFolder, publish_site

    ds = load_catalog().get("vacunacion_pai")
    names = [c.nombre_salida for c in ds.columnas_publicadas]
    df = pd.DataFrame({n: [f"{SECRET}{i}" for i in range(60)] for n in names})
    df["rango_edad"] = "0-4"
    validation = {"evaluadas": 1, "fallidas": 0, "resultados": [
        {"dimension": "consistencia", "exito": True, "evaluados": None, "inesperados": None}]}
    validation["puntaje_mintic"] = sc.build_scorecard(df, ds, validation, None, ahora=AHORA, ultima_actualizacion=AHORA,
                                                      historial=[], sha256="x", duplicados_origen=0)
    publish_site(df, ds, LocalFolder(tmp_path), version="v1", published_at=AHORA, validation=validation)
    html = (tmp_path / "conjuntos" / ds.casanare_gov_co.ruta / "index.html").read_text(encoding="utf-8")
    section = html.split('id="perfil-columnas"', 1)[1]
    assert "<caption>Perfil por columna</caption>" in section
    assert '<th scope="row">rango_edad</th><td>0,0 %</td><td>1</td><td>texto</td>' in section
    assert "un solo valor" in section and "resultan de la anonimización" in section


def _kinds_counted_again(serie: pd.Series) -> dict[str, int]:
    """The text kinds as they were counted before: strip every value, count, classify."""
    counts = serie.dropna().astype(str).str.strip().value_counts()
    values = pd.Series(counts.index, dtype="string")
    kinds = pd.Series("texto", index=values.index, dtype="object")
    pending = pd.Series(True, index=values.index)
    for kind, rx in pf.CLASES.items():
        hit = pending & values.str.fullmatch(rx.pattern).fillna(False).astype(bool)
        kinds[hit] = kind
        pending &= ~hit
    return {str(k): int(v) for k, v in pd.Series(counts.to_numpy(), index=values.index).groupby(kinds).sum().items()}


MIXED_TEXT = ["21", " 21", "21 ", "21.0", "21,5", "2026-01-31", " 2026-01-31 ", "TRUE", "falso", "x", "", "  ",
              None, "21", "Casanare", " Casanare", "-3", "1e5", "\u00a021", "21\u3000"]


@pytest.mark.parametrize("dtype", ["str", "string", "object"])
def test_text_kinds_are_read_off_the_column_counts_with_the_same_totals(monkeypatch, dtype):
    serie = pd.Series(MIXED_TEXT * 3, name="grado", dtype=dtype)
    expected = _kinds_counted_again(serie)
    counted = []
    original = pd.Series.value_counts

    def value_counts(self, *args, **kwargs):
        counted.append(len(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pd.Series, "value_counts", value_counts)
    from casanare import distinct

    sorting = distinct.distinct_counts
    monkeypatch.setattr(distinct, "distinct_counts", lambda values: counted.append(len(values)) or sorting(values))
    profile = pf.perfil_columna(serie, "entero")
    assert profile["mezcla_tipos"] == expected
    # A string column is hashed once (its distinct values are classified); object columns, whose
    # 1 / 1.0 / True are one key but three texts, are counted again on their text.
    assert len(counted) == (2 if dtype == "object" else 1)


def test_object_text_kinds_keep_python_values_apart():
    serie = pd.Series([1, 1.0, True, "1", " 1"], dtype="object", name="mezcla")
    assert pf.perfil_columna(serie, "texto")["mezcla_tipos"] == _kinds_counted_again(serie)
    assert pf.perfil_columna(serie, "texto")["mezcla_tipos"] == {"booleano": 1, "entero": 3, "entero escrito como decimal": 1}
