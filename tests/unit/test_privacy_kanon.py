"""k-anonymity with local suppression on the published quasi-identifiers."""

from __future__ import annotations

import pandas as pd
import pytest

from casanare.errors import DatosPersonalesDetectados
from casanare.privacy.kanon import ReidentificacionPosible, class_sizes, k_anonymize

pytestmark = pytest.mark.unit
QI = ["rango_edad", "sexo", "codigo_municipio"]


def frame(groups: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    rows = [(e, s, m) for e, s, m, n in groups for _ in range(n)]
    df = pd.DataFrame(rows, columns=QI).astype("string")
    df["dosis"] = "Primera"
    return df


def test_already_k_anonymous_frame_is_untouched():
    df = frame([("0-4", "F", "85001", 5), ("0-4", "M", "85001", 6)])
    out, report = k_anonymize(df, QI, 5, 0.05)
    pd.testing.assert_frame_equal(out, df)
    assert report["k_logrado"] == 5 and report["celdas_suprimidas"] == 0 and report["filas_eliminadas"] == 0


def test_small_classes_are_fixed_by_blanking_the_most_specific_quasi_identifier():
    df = frame([("0-4", "F", "85001", 10), ("0-4", "M", "85001", 10),
                ("5-9", "F", "85001", 2), ("80+", "M", "85001", 2), ("10-14", "F", "85001", 1)])
    out, report = k_anonymize(df, QI, 5, 0.25)
    assert len(out) == len(df) and report["filas_eliminadas"] == 0
    assert report["celdas_suprimidas"] >= 5 and report["filas_con_supresion"] == 5
    assert class_sizes(out, QI).min() >= 5 and report["k_logrado"] >= 5
    assert report["k_inicial"] == 1
    assert out["rango_edad"].isna().sum() == 5  # the age band (most distinct values) went first


def test_rows_that_stay_unique_after_blanking_everything_are_dropped():
    df = frame([("0-4", "F", "85001", 10), ("80+", "M", "85010", 1)])
    out, report = k_anonymize(df, QI, 5, 0.2)
    assert len(out) == 10 and report["filas_eliminadas"] == 1
    assert class_sizes(out, QI).min() >= 5
    assert report["celdas_suprimidas"] == 0  # cells of dropped rows are not counted twice


def test_too_much_suppression_fails_naming_the_quasi_identifiers():
    df = frame([("0-4", "F", "85001", 5), ("5-9", "M", "85010", 1), ("10-14", "F", "85015", 1),
                ("15-19", "M", "85125", 1)])
    with pytest.raises(ReidentificacionPosible) as info:
        k_anonymize(df, QI, 5, 0.1, slug="vacunacion_pai")
    exc = info.value
    assert isinstance(exc, DatosPersonalesDetectados) and exc.causa == "datos_personales_detectados"
    for q in QI:
        assert q in exc.mensaje and q in exc.ubicacion.columna
    assert "Generalice" in exc.como_corregir and "vacunacion_pai.yaml" in exc.como_corregir
    assert exc.detalles["proporcion_suprimida"] > 0.1


def test_nulls_in_quasi_identifiers_form_their_own_class():
    df = frame([("0-4", "F", "85001", 5)])
    df.loc[0, "sexo"] = pd.NA
    sizes = class_sizes(df, QI)
    assert sizes[0] == 1 and sizes[1] == 4
