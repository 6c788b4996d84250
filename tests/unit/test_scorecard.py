"""MinTIC scorecard: each criterion on small inputs with known answers, the Sello, the history."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from casanare.quality import scorecard as sc
from tests.unit.test_quality_baseline import COLUMNAS, _col, make_dataset

pytestmark = pytest.mark.unit
AHORA = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def row(dimension, evaluados=None, inesperados=None, exito=True, **extra):
    return {"dimension": dimension, "evaluados": evaluados, "inesperados": inesperados, "exito": exito, **extra}


def test_completitud_counts_empty_cells_and_penalizes_required_and_empty_columns():
    df = pd.DataFrame({"a": [1, None, 3, 4], "b": ["x", "y", None, "z"], "c": [None] * 4})
    result = sc.completitud(df, requeridas=["a"])
    # 6 of 12 cells are empty: 10·(1 − 6/12) = 5, −1 (required 'a' has a gap), −2 (column 'c' empty).
    assert result["puntaje"] == 2.0
    assert result["detalle"]["columnas_vacias"] == ["c"] and result["detalle"]["requeridas_con_vacios"] == ["a"]
    assert sc.completitud(pd.DataFrame({"a": [1, 2]}), ["a"])["puntaje"] == 10.0
    assert sc.completitud(pd.DataFrame({"a": [None] * 10, "b": range(10)}), [])["puntaje"] == 3.0


def test_unicidad_uses_whole_rows_or_the_row_identifier():
    df = pd.DataFrame({"id": ["1", "2", "2", "3"], "v": [1, 2, 2, 3]})
    assert sc.unicidad(df)["puntaje"] == 7.5  # one repeated row of four
    df2 = pd.DataFrame({"id": ["1", "1", "1", "2"], "v": [1, 2, 3, 4]})
    assert sc.unicidad(df2)["puntaje"] == 10.0
    assert sc.unicidad(df2, "id")["puntaje"] == 5.0  # two repeated identifiers
    assert sc.unicidad(pd.DataFrame({"id": [None, None, "1"]}), "id")["detalle"]["duplicadas"] == 1


def test_conformidad_is_exponential_in_the_share_of_wrong_values():
    rows = [row("conformidad", 80, 4), row("conformidad", 20, 1), row("exactitud", 100, 100)]
    result = sc.conformidad(rows)
    assert result["puntaje"] == round(10 * math.exp(-5 * 5 / 100), 2) == 7.79
    assert sc.conformidad([row("conformidad", 50, 0)])["puntaje"] == 10.0
    assert sc.conformidad([row("exactitud", 50, 0)])["estado"] == "no_medible"


def test_exactitud_is_the_share_of_values_in_range():
    result = sc.exactitud([row("exactitud", 200, 10), row("exactitud", 0, 0), row("conformidad", 10, 10)])
    assert result["puntaje"] == 9.5 and result["detalle"]["valores_fuera_de_rango"] == 10
    assert sc.exactitud([])["estado"] == "no_medible"


def test_consistencia_is_the_share_of_structure_rules_met():
    rows = [row("consistencia", exito=True)] * 3 + [row("consistencia", exito=False), row("completitud", exito=False)]
    assert sc.consistencia(rows)["puntaje"] == 7.5
    assert sc.consistencia([])["estado"] == "no_medible"


def test_actualidad_against_the_declared_frequency():
    vigencia = timedelta(days=32)
    assert sc.actualidad(AHORA - timedelta(days=31), AHORA, vigencia)["puntaje"] == 10.0
    assert sc.actualidad(AHORA - timedelta(days=33), AHORA, vigencia)["puntaje"] == 0.0
    assert sc.actualidad(AHORA - timedelta(days=400), AHORA, None)["puntaje"] == 10.0


def test_fecha_ultimo_cambio_walks_back_while_the_source_is_unchanged():
    historial = [
        {"fecha": "2026-08-01T00:00:00+00:00", "sha256": "a"},
        {"fecha": "2026-09-01T00:00:00+00:00", "sha256": "b"},
        {"fecha": "2026-10-01T00:00:00+00:00", "sha256": "b"},
    ]
    assert sc.fecha_ultimo_cambio(historial, "b", AHORA) == datetime(2026, 9, 1, tzinfo=UTC)
    assert sc.fecha_ultimo_cambio(historial, "c", AHORA) == AHORA
    assert sc.fecha_ultimo_cambio([], "b", AHORA) == AHORA
    # Unchanged for 82 days on a monthly dataset: out of date.
    cambio = sc.fecha_ultimo_cambio(historial, "b", AHORA)
    assert sc.actualidad(cambio, AHORA, timedelta(days=32))["puntaje"] == 0.0


def test_confidencialidad_weights_published_personal_columns():
    cols = [
        _col("id_caso", requerido=True),
        _col("documento", regla="publicar", dato_personal="nit"),  # 3, as is
        _col("correo", regla="eliminar", dato_personal="correo", clasificacion="clasificada"),  # dropped: 0
        _col("telefono", regla={"accion": "enmascarar", "conservar": 2}, dato_personal="telefono"),  # 2 × 0.5
        _col("cedula", regla="seudonimizar", dato_personal="cedula"),  # pseudonym: 0
        _col("sexo", dato_personal="sexo"),  # 1
        _col("edad", tipo="entero", regla={"accion": "generalizar", "metodo": "rango_edad"}, dato_personal="edad",
             nombre_publicado="rango_edad"),  # 1 × 0.5
        _col("codigo_municipio", dato_personal="municipio"),  # not weighted by the guide
    ]
    ds = make_dataset(cols)
    result = sc.confidencialidad(ds, None)
    assert result["detalle"]["penalizacion"] == 5.5 and result["puntaje"] == 4.5
    # The run's privacy report wins over the catalog: here the NIT column was dropped.
    report = {"reglas": {"documento": {"accion": "eliminar", "motivo": "regla"},
                         "telefono": {"accion": "enmascarar", "publicada_como": "telefono"},
                         "sexo": {"accion": "publicar", "publicada_como": "sexo"},
                         "edad": {"accion": "generalizar", "publicada_como": "rango_edad"}}}
    assert sc.confidencialidad(ds, report)["puntaje"] == 7.5


def test_precision_flags_total_rows_and_relevancia_needs_fifty_rows():
    df = pd.DataFrame({"municipio": ["Yopal", "Maní", "TOTAL"], "valor": [1, 2, 3]})
    assert sc.precision(df)["puntaje"] == 5.0 and sc.precision(df)["detalle"]["filas_de_totales"] == 1
    assert sc.precision(df.iloc[:2])["puntaje"] == 10.0
    assert sc.relevancia(50)["puntaje"] == 10.0 and sc.relevancia(20)["puntaje"] == 4.0


def test_portabilidad_by_best_open_format():
    assert sc.portabilidad(["pdf"])["puntaje"] == 0.0
    assert sc.portabilidad(["pdf", "xlsx"])["puntaje"] == 7.0
    assert sc.portabilidad(["csv", "json", "xml"])["puntaje"] == 10.0
    assert sc.portabilidad([])["puntaje"] == 0.0
    assert sc.formatos_publicados(make_dataset(COLUMNAS)) == ["csv", "json", "xml"]


def test_metadata_criteria():
    ds = make_dataset(COLUMNAS)
    comp = sc.comprensibilidad(ds)
    # Described columns, meaningful names and three tags, but no titles and a short description.
    assert comp["detalle"]["columnas_con_titulo"] == 0.0 and comp["detalle"]["descripcion_del_conjunto"] == 0.0
    assert comp["puntaje"] == 6.0
    assert sc.credibilidad(ds)["puntaje"] == 10.0
    unnamed = make_dataset([*COLUMNAS, _col("unnamed_3")])
    assert sc.comprensibilidad(unnamed)["detalle"]["nombres_significativos"] < 1
    traz = sc.trazabilidad(ds, historial=[], sha256="abc")
    # No issue date, no documentation URL, hash yes, history half (first run): 1.5 of 4.
    assert traz["puntaje"] == 3.75
    assert sc.trazabilidad(ds, historial=[{"sha256": "x"}], sha256="abc")["puntaje"] == 5.0


def test_sello_de_excelencia_level_1():
    def crit(actualidad, completitud, consistencia):
        return {"actualidad": {"puntaje": actualidad}, "completitud": {"puntaje": completitud},
                "consistencia": {"puntaje": consistencia}}

    assert sc.sello_excelencia(crit(10, 9, 8.5), "CC BY-SA 4.0")["nivel_1"] is True
    assert sc.sello_excelencia(crit(0, 9, 9), "CC BY-SA 4.0")["nivel_1"] is False
    assert sc.sello_excelencia(crit(10, 8, 9), "CC BY-SA 4.0")["nivel_1"] is False  # needs more than 8
    assert sc.sello_excelencia(crit(10, 9, 9), "Todos los derechos reservados")["nivel_1"] is False
    no_medible = {"actualidad": {"puntaje": 10}, "completitud": {"puntaje": 9},
                  "consistencia": {"estado": "no_medible"}}
    assert sc.sello_excelencia(no_medible, "CC0 1.0")["nivel_1"] is False


def test_build_scorecard_lists_all_seventeen_criteria():
    ds = make_dataset(COLUMNAS)
    df = pd.DataFrame({"id_caso": ["1", "2"], "mes": ["2026-10", None]})
    validacion = {"resultados": [row("conformidad", 10, 0), row("consistencia", exito=True)]}
    card = sc.build_scorecard(df, ds, validacion, None, ahora=AHORA, ultima_actualizacion=AHORA,
                              historial=[], sha256="abc")
    assert len(card["criterios"]) == 17
    # Four are never measurable; exactitud isn't here because this report has no range rule.
    assert card["no_medibles"] == ["accesibilidad", "disponibilidad", "eficiencia", "exactitud", "recuperabilidad"]
    assert all(card["criterios"][k]["motivo"] for k in card["no_medibles"])
    assert card["criterios"]["exactitud"]["estado"] == "no_medible"  # no range rule in this report
    medidos = [c["puntaje"] for c in card["criterios"].values() if "puntaje" in c]
    assert card["medidos"] == len(medidos) == 12
    assert card["promedio"] == round(sum(medidos) / len(medidos), 2)
    assert card["sello_excelencia"]["requisitos"]["licencia_valida"] is True


def test_history_latest_and_order(tmp_path):
    url = tmp_path.as_uri()
    assert sc.latest_scorecard(url, "x") is None and sc.scorecard_history(url, "x") == []
    for i, fecha in enumerate(["2026-10-01T05:00:00+00:00", "2026-09-01T05:00:00+00:00", "2026-11-01T05:00:00+00:00"]):
        sc.save_scorecard(url, "x", f"scheduled__{fecha}", {"fecha": fecha, "promedio": i})
    history = sc.scorecard_history(url, "x")
    assert [h["promedio"] for h in history] == [1, 0, 2]
    assert sc.scorecard_history(url, "x", limit=1)[0]["promedio"] == 2
    assert sc.latest_scorecard(url, "x")["ejecucion"] == "scheduled__2026-11-01T05:00:00+00:00"
