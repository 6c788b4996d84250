"""Per-column rules and default deny: what reaches the publishable frame and what never does."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from casanare.catalog import Columna, Dataset
from casanare.privacy.rules import apply_column_rule, apply_rules, mask

pytestmark = pytest.mark.unit
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "catalogo_valido.yaml"
KEY = b"clave-de-prueba-suficientemente-larga-para-hmac"
REF = date(2026, 10, 1)


def dataset(columnas: list[dict], **extra) -> Dataset:
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    data["columnas"] = columnas
    data.pop("microdatos", None)  # the fixture's quasi-identifiers are not among these columns
    data["datos_gov_co"] = {"dataset_id": "test-0001"}
    data.update(extra)
    return Dataset.model_validate(data)


def col(nombre: str, regla, tipo: str = "texto", clasificacion: str = "publica", **kw) -> dict:
    return {"nombre": nombre, "tipo": tipo, "descripcion": "Columna de prueba", "clasificacion": clasificacion,
            "regla": regla, **kw}


def test_reservada_column_that_publishes_is_rejected_by_the_catalog():
    with pytest.raises(ValidationError, match="reservada"):
        Columna.model_validate(col("diagnostico", "publicar", clasificacion="reservada"))
    with pytest.raises(ValidationError, match="reservada"):
        Columna.model_validate(col("diagnostico", {"accion": "generalizar", "metodo": "anio"}, tipo="fecha",
                                   clasificacion="reservada"))
    Columna.model_validate(col("diagnostico", "eliminar", clasificacion="reservada"))  # dropping is fine


def test_direct_identifier_published_as_is_is_rejected_by_the_catalog():
    with pytest.raises(ValidationError, match="cedula"):
        Columna.model_validate(col("cedula", "publicar", dato_personal="cedula"))


def test_default_deny_drops_clasificada_reservada_eliminar_and_undeclared_columns():
    ds = dataset([
        col("id_registro", "publicar", tipo="entero"),
        col("nombre", "publicar", clasificacion="clasificada"),
        col("historia", "eliminar", clasificacion="reservada"),
        col("telefono", "eliminar", dato_personal="telefono"),
    ])
    frame = pd.DataFrame({
        "id_registro": [1, 2], "nombre": ["ANA PÉREZ", "LUIS GÓMEZ"], "historia": ["x", "y"],
        "telefono": ["3101234567", "3112345678"], "columna_sorpresa": ["1098765432", "52123456"],
    })
    out, report = apply_rules(frame, ds, key=None, reference=REF)
    assert list(out.columns) == ["id_registro"]
    assert set(report["columnas_eliminadas"]) == {"nombre", "historia", "telefono"}
    assert report["columnas_no_declaradas_eliminadas"] == 1
    assert "columna_sorpresa" not in str(report)  # undeclared headers are counted, not named
    assert report["reglas"]["nombre"]["motivo"] == "clasificación clasificada"


def test_each_rule_transforms_its_column():
    ds = dataset([
        col("documento", "seudonimizar", dato_personal="cedula", nombre_publicado="id_persona"),
        col("edad", {"accion": "generalizar", "metodo": "rango_edad"}, tipo="entero", nombre_publicado="rango_edad"),
        col("nacimiento", {"accion": "generalizar", "metodo": "rango_edad"}, tipo="fecha",
            dato_personal="fecha_nacimiento", nombre_publicado="rango_edad_2"),
        col("fecha", {"accion": "generalizar", "metodo": "semana_epidemiologica"}, tipo="fecha"),
        col("direccion", {"accion": "generalizar", "metodo": "municipio", "columna_municipio": "municipio"},
            dato_personal="direccion"),
        col("municipio", "publicar"),
        col("latitud", {"accion": "generalizar", "metodo": "coordenadas", "precision": 2}, tipo="decimal"),
        col("ingreso", {"accion": "generalizar", "metodo": "tope", "limite_superior": 10_000_000}, tipo="entero"),
        col("celular", {"accion": "enmascarar", "conservar": 2}, dato_personal="telefono"),
        col("observacion", "redactar_texto", dato_personal="texto_libre"),
    ])
    frame = pd.DataFrame({
        "documento": ["1098765432"], "edad": [42], "nacimiento": [pd.Timestamp("1990-10-02")],
        "fecha": [pd.Timestamp("2026-01-05")], "direccion": ["CALLE 12 # 3-45"], "municipio": ["Yopal"],
        "latitud": [5.337912], "ingreso": [48_000_000], "celular": ["3101234567"],
        "observacion": ["Llamar al 3101234567 o escribir a ana@correo.co"],
    })
    out, report = apply_rules(frame, ds, key=KEY, reference=REF)
    row = out.iloc[0]
    assert row["id_persona"].startswith("P") and len(row["id_persona"]) == 25
    assert row["rango_edad"] == "40-44" and row["rango_edad_2"] == "35-39"
    assert row["fecha"] == "2026-S01"
    assert row["direccion"] == "Yopal"
    assert row["latitud"] == 5.34
    assert row["ingreso"] == 10_000_000
    assert row["celular"] == "********67"
    assert "3101234567" not in row["observacion"] and "ana@correo.co" not in row["observacion"]
    assert report["reglas"]["observacion"]["reemplazos"] == 2
    assert report["reglas"]["edad"] == {"accion": "generalizar", "metodo": "rango_edad", "publicada_como": "rango_edad"}


def test_mask_keeps_last_k_and_fully_masks_short_values():
    out = mask(pd.Series(["1098765432", "123", None, 52123456.0]), 4)
    assert list(out[:2]) == ["******5432", "***"] and pd.isna(out[2]) and out[3] == "****3456"


def test_publicar_passes_values_unchanged():
    c = Columna.model_validate(col("biologico", "publicar"))
    series, report = apply_column_rule(c, pd.DataFrame({"biologico": ["BCG", None]}), key=None, reference=REF)
    assert series[0] == "BCG" and report == {"accion": "publicar"}
