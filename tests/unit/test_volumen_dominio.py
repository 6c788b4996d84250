"""Volume guard against the last publication, and domain rules on the extracted (pre-privacy) data."""

from __future__ import annotations

import pandas as pd
import pytest

from casanare.catalog import load_catalog
from casanare.errors import CalidadDeDatos, CambioDeVolumen
from casanare.extract.volumen import Aceptacion, check_volume
from casanare.quality.dominio import check_domain

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def pqrsd():
    return load_catalog().get("pqrsd_atencion_ciudadano")


def test_half_the_rows_is_held_with_both_counts_in_plain_spanish(pqrsd):
    with pytest.raises(CambioDeVolumen) as info:
        check_volume(pqrsd, 250, {"filas_extraidas": 499}, archivo="atencion_ciudadano/pqrsd.csv")
    error = info.value
    assert error.destinatario == "dependencia"
    assert "La fuente trae 250 filas; la última publicación tenía 499 (−49,9 %)" in error.mensaje
    assert "caída de hasta 10 %" in error.mensaje and "no se publicó nada" in error.mensaje
    assert "catálogo" not in error.como_corregir


@pytest.mark.parametrize(("filas", "estado"), [(460, "ok"), (1996, "ok"), (499, "ok")])
def test_changes_within_the_thresholds_pass(pqrsd, filas, estado):
    assert check_volume(pqrsd, filas, {"filas_extraidas": 499})["estado"] == estado


def test_jump_beyond_three_hundred_percent_is_held(pqrsd):
    with pytest.raises(CambioDeVolumen, match="trae 2500 filas; la última publicación tenía 499"):
        check_volume(pqrsd, 2500, {"filas_extraidas": 499})


def test_operator_acceptance_is_recorded_with_who_and_when(pqrsd):
    report = check_volume(pqrsd, 250, {"filas_extraidas": 499}, aceptacion=Aceptacion(True, "operadora"))
    assert report["estado"] == "aceptado" and report["aceptado_por"] == "operadora"
    assert report["aceptado_en"] and report["filas"] == 250 and report["filas_anteriores"] == 499


def test_first_run_has_nothing_to_compare(pqrsd):
    assert check_volume(pqrsd, 10, None)["estado"] == "sin_referencia"


def test_incremental_sources_compare_the_delta(pqrsd):
    assert check_volume(pqrsd, 5000, {"filas_incremento": 40}, incremento=0)["estado"] == "ok"
    with pytest.raises(CambioDeVolumen, match="El incremento trae 400 filas"):
        check_volume(pqrsd, 5000, {"filas_incremento": 40}, incremento=400)
    assert check_volume(pqrsd, 5000, {"filas_incremento": 2}, incremento=9)["estado"] == "sin_referencia"


def test_threshold_comes_from_the_catalog(pqrsd):
    strict = pqrsd.model_copy(update={"calidad": pqrsd.calidad.model_copy(
        update={"volumen": pqrsd.calidad.volumen.model_copy(update={"caida_maxima_pct": 1})})})
    with pytest.raises(CambioDeVolumen, match="caída de hasta 1 %"):
        check_volume(strict, 490, {"filas_extraidas": 499})


def _pqrsd_frame(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({
        "codigo_municipio": pd.Series(["85001"] * n, dtype="string"),
        "tipo": pd.Series(["Petición"] * n, dtype="string"),
        "dias_respuesta": pd.Series([5] * n, dtype="Int64"),
    })


def test_invalid_divipola_in_a_generalized_personal_column_is_reported_before_privacy(pqrsd):
    frame = _pqrsd_frame()
    frame.loc[[1, 3, 4], "codigo_municipio"] = "85999"
    with pytest.raises(CalidadDeDatos) as info:
        check_domain(frame, pqrsd, filas=pd.Series([2, 3, 4, 5, 6, 7]),
                     encabezados={"codigo_municipio": "Código municipio"}, archivo="pqrsd.csv")
    error = info.value
    assert error.destinatario == "dependencia"
    assert error.ubicacion.filas == [3, 5, 6] and error.ubicacion.columna == "codigo_municipio"
    assert 'Hay 3 valor(es) no válidos en la columna codigo_municipio (encabezado "Código municipio")' in error.mensaje
    assert "85999" not in str(error) + error.como_corregir  # a personal column: no value, no list
    assert "DIVIPOLA" in error.como_corregir


def test_allowed_values_are_listed_for_non_personal_columns(pqrsd):
    frame = _pqrsd_frame()
    frame.loc[2, "tipo"] = "Otra cosa"
    with pytest.raises(CalidadDeDatos) as info:
        check_domain(frame, pqrsd)
    assert '"Petición", "Queja"' in info.value.como_corregir
    assert "Otra cosa" not in info.value.mensaje


def test_warning_rules_report_without_failing_and_blanks_are_not_invalid(pqrsd):
    frame = _pqrsd_frame(40)
    frame.loc[0, "dias_respuesta"] = 60  # > 30 is the warning rule (mostly 0.95), <= 90 is valid
    frame.loc[1, "codigo_municipio"] = pd.NA
    report = check_domain(frame, pqrsd)
    assert [f["regla"] for f in report["fallidas"]] == ["suite:be_between:dias_respuesta"]
    assert report["fallidas"][0]["invalidos"] == 1


def test_suppression_blanks_are_counted_apart_from_source_blanks():
    from casanare.quality.dominio import blank_counts

    ds = load_catalog().get("vacunacion_pai")
    extracted = pd.DataFrame({"codigo_municipio": pd.Series(["85001", None, "85010", "85015"], dtype="string")})
    published = pd.DataFrame({"codigo_municipio": pd.Series(["85001", None, None, None], dtype="string")})
    assert blank_counts(extracted, published, ds) == {
        "codigo_municipio": {"vacios_en_la_fuente": 1, "vacios_por_proteccion": 2}}


def test_published_data_rule_failure_names_source_rows_header_and_valid_values(pqrsd):
    from casanare.errors import Ubicacion
    from casanare.quality.dominio import locate_quality_failure

    frame = _pqrsd_frame(5).rename(columns={})
    frame.loc[[1, 3], "tipo"] = "Otra"
    suite = {"expectations": [{"type": "expect_column_values_to_be_in_set", "meta": {"regla": "suite:tipo"},
                               "kwargs": {"column": "tipo", "value_set": ["Petición", "Queja"]}}]}
    error = CalidadDeDatos("1 regla(s) críticas…", ubicacion=Ubicacion(columna="tipo"), como_corregir="Revise.",
                           detalles={"fallas_criticas": [{"regla": "suite:tipo", "columna": "tipo"}]})
    locate_quality_failure(error, frame, pqrsd, suite, filas=pd.Series([2, 3, 5, 8, 9]),
                           encabezados={"tipo": "Tipo de solicitud"}, archivo="pqrsd.csv")
    assert error.ubicacion.filas == [3, 8] and error.ubicacion.archivo == "pqrsd.csv"
    assert 'En el archivo es la columna "Tipo de solicitud"' in error.como_corregir
    assert '"Petición", "Queja"' in error.como_corregir and "Otra" not in error.como_corregir
