"""Suite authoring aid: shapes, proposals, and a real run that never writes a personal value."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from scripts.perfilar_fuente import main, propose, shape
from tests.unit.test_quality_baseline import _col, make_dataset

pytestmark = pytest.mark.unit


def test_shape_describes_the_form_not_the_value():
    assert shape("ER-2024-000001") == r"[A-ZÁÉÍÓÚÑ]{2}\-\d{4}\-\d{6}"
    assert re.fullmatch(shape("PAI-0000123"), "XYZ-9999999")


def test_proposals_skip_personal_columns_and_widen_ranges():
    ds = make_dataset([
        _col("id_caso", requerido=True),
        _col("documento", regla="seudonimizar", dato_personal="cedula", nombre_publicado="id_persona"),
        _col("sexo", dato_personal="sexo"),
        _col("estado"),
        _col("observacion"),
        _col("dias", tipo="entero"),
    ])
    n = 40
    df = pd.DataFrame({
        "id_caso": [f"RAD-{i:05d}" for i in range(n)],
        "id_persona": [f"P{i:024x}" for i in range(n)],
        "sexo": ["F", "M"] * (n // 2),
        "estado": ["Abierta", "Cerrada", "En trámite", "Cerrada"] * (n // 4),
        "observacion": [f"texto libre número {i} con {'palabras ' * (i % 7)}y más" for i in range(n)],
        "dias": list(range(10, 10 + n)),
    })
    exps, notas = propose(df, ds)
    by_column = {e["kwargs"]["column"]: e for e in exps}
    assert set(by_column) == {"id_caso", "estado", "dias"}
    assert by_column["estado"]["kwargs"]["value_set"] == ["Abierta", "Cerrada", "En trámite"]
    assert by_column["id_caso"]["kwargs"]["regex"] == r"^[A-ZÁÉÍÓÚÑ]{3}\-\d{4,6}$"
    # Observed 10..49, span 39 → 10 % margin, floored at zero for a non-negative column.
    assert by_column["dias"]["kwargs"]["min_value"] == 6 and by_column["dias"]["kwargs"]["max_value"] == 53
    assert any(n.startswith("sexo:") for n in notas) and any(n.startswith("observacion:") for n in notas)


def test_cli_profiles_a_real_source_without_personal_values(tmp_path, monkeypatch, capsys):
    from scripts.generar_fuentes import generar, identificadores_originales

    slug = "pqrsd_atencion_ciudadano"
    generar(tmp_path / "fuentes", filas=120, semilla=11, solo={slug})
    monkeypatch.setenv("CASANARE_CLAVE_SEUDONIMIZACION", "k" * 40)
    salida = tmp_path / "propuesta.json"
    assert main([slug, "--muestra", "100", "--fuentes", str(tmp_path / "fuentes"), "--salida", str(salida)]) == 0
    suite = json.loads(salida.read_text(encoding="utf-8"))
    assert suite["name"] == slug and suite["expectations"]
    assert all(e["meta"]["generada_por"] == "perfilar_fuente" for e in suite["expectations"])
    columns = {e["kwargs"]["column"] for e in suite["expectations"]}
    assert not columns & {"id_peticionario", "asunto", "codigo_municipio"}, "no rule on personal columns"
    text = salida.read_text(encoding="utf-8").upper()
    originals = identificadores_originales(tmp_path / "fuentes")
    assert originals and [v for v in originals if len(v) >= 5 and v.upper() in text] == []
    assert "escrita en" in capsys.readouterr().err
    # A second run refuses to overwrite the reviewed file.
    assert main([slug, "--fuentes", str(tmp_path / "fuentes"), "--salida", str(salida)]) == 2


def test_source_duplicates_read_only_the_key_when_it_is_unique(tmp_path, monkeypatch):
    """The count the scorecard gets is the whole-table count; a unique key answers it alone."""
    from casanare.quality.perfil import filas_duplicadas
    from casanare.staging import RunArea
    from casanare.tasks import _source_duplicates
    from tests.unit.test_quality_baseline import COLUMNAS

    ds = make_dataset(COLUMNAS)
    assert ds.columna_identificador == "id_caso"
    area = RunArea((tmp_path / "staging").as_uri(), ds.slug, "r1")
    unique = pd.DataFrame({"id_caso": ["a", "b", "c", "d"], "valor": [1.0, 1.0, 1.0, 1.0]})
    repeated = pd.DataFrame({"id_caso": ["a", "a", "c", "c", None, None], "valor": [1.0, 1.0, 2.0, 3.0, 4.0, 4.0]})
    read = []
    original = RunArea.read_parquet
    monkeypatch.setattr(RunArea, "read_parquet", lambda self, name, columns=None: (
        read.append(columns), original(self, name, columns))[1])
    for frame, expected in ((unique, 0), (repeated, 2)):
        area.write_parquet("extraido.parquet", frame)
        read.clear()
        assert _source_duplicates(area, ds) == filas_duplicadas(frame, "id_caso") == expected
        assert read[0] == ["id_caso"]
        assert len(read) == (1 if expected == 0 else 2)  # the whole table only when the key repeats
