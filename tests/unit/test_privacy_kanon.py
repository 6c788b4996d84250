"""k-anonymity: generalization hierarchies before local suppression, counted over rows or persons."""

from __future__ import annotations

import pandas as pd
import pytest

from casanare.errors import DatosPersonalesDetectados
from casanare.privacy.kanon import (
    ColumnaSinInformacion,
    ReidentificacionPosible,
    class_sizes,
    group_signatures,
    k_anonymize,
    protect,
)

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
    assert report["perdida_informacion"] == 0 and report["unidad"] == "filas"


def test_small_classes_are_fixed_by_blanking_the_most_specific_quasi_identifier():
    df = frame([("0-4", "F", "85001", 10), ("0-4", "M", "85010", 10), ("5-9", "F", "85001", 10),
                ("5-9", "M", "85010", 2), ("80+", "M", "85001", 2), ("10-14", "F", "85001", 1)])
    out, report = k_anonymize(df, QI, 5, 0.25)
    assert len(out) == len(df) and report["filas_eliminadas"] == 0
    assert report["celdas_suprimidas"] >= 5 and report["filas_con_supresion"] == 5
    assert class_sizes(out, QI).min() >= 5 and report["k_logrado"] >= 5
    assert report["k_inicial"] == 1
    assert out["rango_edad"].isna().sum() >= 3  # the age band (most distinct values) went first
    assert report["proporcion_clases_menores_k"] == 0.5  # 3 of the 6 classes were smaller than k


def test_rows_that_stay_unique_after_blanking_everything_are_dropped():
    df = frame([("0-4", "F", "85001", 10), ("5-9", "M", "85010", 10), ("80+", "M", "85015", 1)])
    out, report = k_anonymize(df, QI, 5, 0.2)
    assert len(out) == 20 and report["filas_eliminadas"] == 1
    assert class_sizes(out, QI).min() >= 5
    assert report["celdas_suprimidas"] == 0  # cells of dropped rows are not counted twice


def test_too_much_suppression_fails_naming_the_quasi_identifiers():
    df = frame([("0-4", "F", "85001", 5), ("5-9", "M", "85010", 1), ("10-14", "F", "85015", 1),
                ("15-19", "M", "85125", 1)])
    with pytest.raises(ReidentificacionPosible) as info:
        k_anonymize(df, QI, 5, 0.1, slug="vacunacion_pai")
    exc = info.value
    assert isinstance(exc, DatosPersonalesDetectados) and exc.causa == "reidentificacion_posible"
    # The fix is in the catalog: the platform team alone is told (a dependencia never edits YAML).
    assert exc.destinatario == "plataforma"
    for q in QI:
        assert q in exc.mensaje and q in exc.ubicacion.columna
    assert "vacunacion_pai.yaml" in exc.como_corregir
    assert exc.detalles["proporcion_minima_suprimida"] > 0.1


def test_nulls_in_quasi_identifiers_form_their_own_class():
    df = frame([("0-4", "F", "85001", 5)])
    df.loc[0, "sexo"] = pd.NA
    sizes = class_sizes(df, QI)
    assert sizes[0] == 1 and sizes[1] == 4


# Generalize before suppressing --------------------------------------------------------------

def _vaccination_like() -> pd.DataFrame:
    """The sample's shape: most rows aged 0-4, the older ones spread thin over 5-year bands."""
    older = ["10-14", "15-19", "20-24", "25-29", "30-34", "35-39"]
    bands = ["0-4"] * 464 + [band for band in older for _ in range(6)]
    sexes = ["F", "M"] * 250  # three of each sex per older 5-year band: classes of 3 < k
    return pd.DataFrame({"rango_edad": bands, "sexo": sexes}).astype("string")


def test_suppression_alone_would_empty_the_age_band_and_refuses():
    df = _vaccination_like()
    # Without a hierarchy the only way to k=5 is blanking all 36 older rows: "0-4" is left alone.
    with pytest.raises(ColumnaSinInformacion) as info:
        protect(df, cols=["rango_edad", "sexo"], k=5, max_share=0.2, slug="vacunacion_pai")
    exc = info.value
    assert exc.destinatario == "plataforma" and "rango_edad" in exc.mensaje
    assert "vacunacion_pai.yaml" in exc.como_corregir


def test_one_generalization_level_keeps_the_age_band_informative():
    df = _vaccination_like()
    out, report = protect(df, cols=["rango_edad", "sexo"], k=5, max_share=0.2, hierarchies={"rango_edad": "edad"})
    nivel = report["niveles"]["rango_edad"]
    assert nivel["nivel"] >= 1 and nivel["nombre"] in {"rango de 10 años", "etapa de vida"}
    assert out["rango_edad"].nunique() >= 2  # still says something besides "0-4"
    assert out["rango_edad"].isna().sum() < 36  # fewer blanks than suppression alone needed
    assert class_sizes(out, ["rango_edad", "sexo"]).min() >= 5
    assert 0 < report["perdida_informacion"] < 1 and 0 < nivel["perdida"] < 1
    assert report["combinaciones_evaluadas"] == 3


def test_least_loss_level_is_chosen():
    # Already 5-anonymous at the 5-year level: climbing the hierarchy would only lose information.
    df = pd.DataFrame({"rango_edad": ["0-4"] * 5 + ["5-9"] * 5 + ["10-14"] * 5, "mes": ["2025-01"] * 15})
    out, report = protect(df, cols=["rango_edad", "mes"], k=5, max_share=0.0,
                          hierarchies={"rango_edad": "edad", "mes": "mes"})
    assert report["niveles"]["rango_edad"]["nivel"] == 0 and report["niveles"]["mes"]["nivel"] == 0
    assert report["perdida_informacion"] == 0
    pd.testing.assert_frame_equal(out, df)


def test_month_climbs_to_quarter_and_municipio_to_subregion():
    df = pd.DataFrame({
        "mes": ["2025-01", "2025-02", "2025-03"] * 4 + ["2025-04", "2025-05", "2025-06"] * 4,
        "codigo_municipio": ["85250", "85263", "85125", "85430"] * 3 + ["85001", "85225", "85230", "85325"] * 3,
    })
    out, report = protect(df, cols=["mes", "codigo_municipio"], k=6, max_share=0.0,
                          hierarchies={"mes": "mes", "codigo_municipio": "municipio"})
    assert set(out["mes"]) == {"2025-T1", "2025-T2"}
    assert set(out["codigo_municipio"]) == {"Subregión Norte", "Subregión Centro"}
    assert report["niveles"]["codigo_municipio"]["nombre"] == "subregión"


# k over persons -------------------------------------------------------------------------------

def _two_doses_each() -> pd.DataFrame:
    """Ten persons, two rows each. Every (biológico, mes) row value is shared by at least two rows,
    so row-level k=2 holds; but two persons' *pairs* of rows are fingerprints shared by nobody."""
    rows = []
    for p in range(10):
        first = ("BCG", "2025-01") if p < 5 else ("Polio", "2025-02")
        second = [("DPT", "2025-03"), ("DPT", "2025-03"), ("Hepatitis B", "2025-04"),
                  ("Hepatitis B", "2025-04"), ("Rotavirus", "2025-05")][p % 5]
        rows += [(f"P{p:024x}", *first), (f"P{p:024x}", *second)]
    return pd.DataFrame(rows, columns=["id_persona", "biologico", "mes"]).astype("string")


def test_distinct_sequences_pass_row_level_k_but_fail_person_level_k():
    df = _two_doses_each()
    cols = ["biologico", "mes"]
    # Row level: every row's class has at least 2 rows, nothing to suppress...
    _, rows_report = protect(df, cols=cols, k=2, max_share=0.0)
    assert rows_report["k_logrado"] >= 2 and rows_report["unidad"] == "filas"
    assert class_sizes(df, cols).min() >= 2
    # ...but counted over persons two sequences are unique, even with months as quarters or years.
    assert class_sizes(df, cols, person="id_persona").min() == 1
    with pytest.raises(ReidentificacionPosible) as info:
        protect(df, cols=cols, k=2, max_share=0.1, person="id_persona", hierarchies={"mes": "mes"})
    assert "personas" in info.value.mensaje and info.value.detalles["unidades"] == 10


def test_person_level_budget_counts_persons_not_rows():
    # 18 persons in two classes; one person with 10 rows is unique: 1 of 19 persons (5.3 %)
    # although 10 of 46 rows (22 %).
    rows = [(f"P{p:024x}", "BCG", "2025-01") for p in range(12)] * 2
    rows += [(f"P{p:024x}", "Polio", "2025-02") for p in range(12, 18)]
    rows += [("P" + "f" * 24, "Polio", f"2025-{m:02d}") for m in range(1, 11)]
    df = pd.DataFrame(rows, columns=["id_persona", "biologico", "mes"]).astype("string")
    out, report = protect(df, cols=["biologico", "mes"], k=5, max_share=0.1, person="id_persona")
    assert report["unidades"] == 19 and report["unidades_con_supresion"] == 1
    assert report["proporcion_suprimida"] == round(1 / 19, 4) and report["filas_eliminadas"] == 10
    assert class_sizes(out, ["biologico", "mes"], person="id_persona").min() >= 5


def test_group_signatures_link_persons_across_datasets():
    a = pd.DataFrame({"id": ["P1", "P2", "P3"], "x": ["u", "u", "u"]})
    b = pd.DataFrame({"id": ["P1", "P2"], "y": ["v", "w"]})
    linked = group_signatures([(a, "id", ["x"]), (b, "id", ["y"])])
    assert set(linked) == {"P1", "P2", "P3"} and len(set(linked.values())) == 3
    # In the dataset under review everyone looks alike, but the group tells P1 and P2 apart.
    here = pd.DataFrame({"id": ["P1", "P2", "P3", "P4"], "z": ["q"] * 4})
    _, alone = protect(here, cols=["z"], k=2, max_share=1.0, person="id")
    assert alone["k_logrado"] == 4
    with pytest.raises(ReidentificacionPosible):
        protect(here, cols=["z"], k=2, max_share=0.5, person="id", linked=linked)
