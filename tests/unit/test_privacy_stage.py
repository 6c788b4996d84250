"""The privacy stage end to end on a frame: rules → k-anonymity → scan, and its report."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

from casanare.catalog import Dataset, load_catalog
from casanare.errors import DatosPersonalesDetectados, ErrorDeConfiguracion
from casanare.privacy.kanon import ReidentificacionPosible
from casanare.privacy.pseudonym import ClaveInvalida
from casanare.privacy.stage import anonimizar, reference_names

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
KEY = b"clave-de-prueba-suficientemente-larga-para-hmac"
REF = date(2026, 10, 1)


def dataset(max_supresion: float = 0.2) -> Dataset:
    data = yaml.safe_load((ROOT / "tests" / "fixtures" / "catalogo_valido.yaml").read_text(encoding="utf-8"))
    data["microdatos"] = {"cuasi_identificadores": ["edad", "codigo_municipio"], "k": 3,
                          "max_supresion": max_supresion}
    return Dataset.model_validate(data)


def frame(n: int = 60) -> pd.DataFrame:
    return pd.DataFrame({
        "id_registro": range(1, n + 1),
        "cedula": [str(1_098_000_000 + i * 7) for i in range(n)],
        "nombre": [f"PERSONA {i}" for i in range(n)],
        # Three people stand out (80+, 5-9, 60-64): alone in their class until their age is blanked;
        # the other three bands keep the column informative.
        "edad": [20 + (i % 3) * 10 for i in range(n - 3)] + [97, 7, 61],
        "codigo_municipio": ["85001"] * n,
        "valor": [1500.5] * n,
        "fecha": pd.to_datetime(["2026-01-15"] * n),
        "sobrante": ["3101234567"] * n,  # undeclared
    })


def test_report_has_rules_kanon_and_scan_and_no_values():
    df = frame()
    out, report = anonimizar(df, dataset(), key=KEY, reference=REF)
    assert list(out.columns) == ["id_registro", "id_persona", "edad", "codigo_municipio", "valor", "fecha"]
    assert report["filas_entrada"] == 60 and report["filas"] == 60
    assert report["columnas_eliminadas"] == ["nombre"] and report["columnas_no_declaradas_eliminadas"] == 1
    kanon = report["k_anonimato"]
    assert kanon["k_inicial"] == 1 and kanon["k_logrado"] == 3 and kanon["celdas_suprimidas"] == 3
    assert kanon["filas_eliminadas"] == 0 and out["edad"].isna().sum() == 3
    assert report["revision_datos_personales"]["estado"] == "sin_hallazgos"
    dump = json.dumps(report, ensure_ascii=False, default=str)
    for value in (*df["cedula"], *df["nombre"], "3101234567", "sobrante"):
        assert value not in dump


def test_excess_suppression_fails_the_stage():
    with pytest.raises(ReidentificacionPosible):
        anonimizar(frame(4), dataset(max_supresion=0.1), key=KEY, reference=REF)


def test_pseudonymized_dataset_needs_the_key():
    with pytest.raises(ClaveInvalida):
        anonimizar(frame(), dataset(), key=None, reference=REF)
    with pytest.raises(ClaveInvalida):
        anonimizar(frame(), dataset(), key=b"corta", reference=REF)


def test_scan_runs_on_the_final_frame():
    df = frame()
    # Classes stay ≥ k (three addresses, 20 rows each), so only the scan can stop this.
    df["codigo_municipio"] = [f"85001 escribir a persona{i % 3}@gmail.com" for i in range(60)]
    df["edad"] = 30
    with pytest.raises(DatosPersonalesDetectados) as info:
        anonimizar(df, dataset(max_supresion=1.0), key=KEY, reference=REF)
    assert info.value.ubicacion.columna == "codigo_municipio"


def test_missing_names_list_is_a_configuration_error(tmp_path):
    with pytest.raises(ErrorDeConfiguracion, match="nombres"):
        reference_names(tmp_path)
    assert "MARÍA" not in reference_names() and "MARIA" in reference_names()


def test_failure_details_carry_the_rules_summary_without_values():
    df = frame()
    df["codigo_municipio"] = [f"85001 escribir a persona{i % 3}@gmail.com" for i in range(60)]
    df["edad"] = 30
    with pytest.raises(DatosPersonalesDetectados) as info:
        anonimizar(df, dataset(max_supresion=1.0), key=KEY, reference=REF)
    summary = info.value.detalles["informe_reglas"]
    assert summary["columnas_eliminadas"] == ["nombre"] and summary["filas_entrada"] == 60
    assert "gmail" not in json.dumps(info.value.as_dict(), ensure_ascii=False)


def test_scan_skips_only_columns_published_under_a_legal_basis():
    from casanare.privacy.stage import legal_basis_exempt

    contratos = load_catalog().get("contratos_gobernacion")
    # The document type is public by law; the contractor's pseudonym is still scanned (only pseudonyms).
    assert legal_basis_exempt(contratos) == ["tipo_documento_contratista"]
    data = yaml.safe_load((ROOT / "tests" / "fixtures" / "catalogo_valido.yaml").read_text(encoding="utf-8"))
    data["columnas"][2] = {"nombre": "nombre", "tipo": "texto", "descripcion": "Nombre del contratista",
                           "clasificacion": "publica", "regla": "publicar", "dato_personal": "nombre",
                           "fundamento_legal": {"norma": "Ley 1150 de 2007", "articulo": "art. 3"}}
    ds = Dataset.model_validate(data)
    df = frame()
    df["nombre"] = ["MARIA GOMEZ RUIZ"] * len(df)
    _, report = anonimizar(df, ds, key=KEY, reference=REF)
    assert report["revision_datos_personales"]["estado"] == "sin_hallazgos"
    without = ds.model_copy(update={"columnas": [
        c.model_copy(update={"fundamento_legal": None, "dato_personal": None}) if c.nombre == "nombre" else c
        for c in ds.columnas]})
    with pytest.raises(DatosPersonalesDetectados):
        anonimizar(df, without, key=KEY, reference=REF)


def test_a_linkable_group_is_checked_together():
    """Alone each dataset is 2-anonymous over persons; joined through the group pseudonym it is not."""
    data = yaml.safe_load((ROOT / "tests" / "fixtures" / "catalogo_valido.yaml").read_text(encoding="utf-8"))
    data["grupo_seudonimos"] = "salud_escolar"
    data["microdatos"] = {"cuasi_identificadores": ["edad"], "k": 2, "max_supresion": 0.2,
                          "excluir_de_k": {"codigo_municipio": "Municipio de la entidad que registra.",
                                           "valor": "Valor administrativo del registro.",
                                           "fecha": "Fecha administrativa del registro."}}
    ds = Dataset.model_validate(data)
    other = ds.model_copy(update={"slug": "otro_conjunto"})
    df = frame(20)
    df["edad"] = 30  # everyone alike here
    alone, report = anonimizar(df, ds, key=KEY, reference=REF)
    assert report["k_anonimato"]["unidad"] == "personas" and report["k_anonimato"]["grupo_vinculado"] is True
    # The other dataset of the group published each of these persons with a distinct attribute.
    published_other = alone[["id_persona"]].assign(edad=[f"{10 + i}-{14 + i}" for i in range(len(alone))])
    with pytest.raises(ReidentificacionPosible):
        anonimizar(df, ds, key=KEY, reference=REF, grupo=[(other, published_other)])
