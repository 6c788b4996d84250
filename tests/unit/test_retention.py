"""Raw data retention: expired raw copies are deleted, the evidence stays, permissions are private."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from casanare.catalog import load_catalog
from casanare.retention import purge_expired
from casanare.staging import DatasetArea, RunArea

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
SECRET = "1098765432;MARIA GOMEZ;3101234567\n"


def _run(base: str, slug: str, run_id: str, days_ago: int) -> RunArea:
    area = RunArea(base, slug, run_id)
    area.write_bytes("original/fuente.csv", SECRET.encode())
    area.write_parquet("extraido.parquet", pd.DataFrame({"documento": ["1098765432"]}))
    area.write_parquet("anonimizado.parquet", pd.DataFrame({"valor": [1]}))
    area.record_stage("extraer", {"estado": "ok", "filas": 1, "sha256": "abc"})
    # Backdate the extraction record: retention counts from it.
    stage = area.read_json("etapas/extraer.json")
    stage["registrado"] = (NOW - timedelta(days=days_ago)).isoformat()
    area.write_json("etapas/extraer.json", stage)
    return area


def test_expired_raw_copies_are_deleted_and_evidence_remains(tmp_path, caplog):
    base = (tmp_path / "staging").as_uri()
    catalog = load_catalog()
    old = _run(base, "vacunacion_pai", "viejo", days_ago=31)
    recent = _run(base, "vacunacion_pai", "reciente", days_ago=29)
    expected_sha = hashlib.sha256(SECRET.encode()).hexdigest()
    with caplog.at_level(logging.INFO):
        resumen = purge_expired(base, catalog, now=NOW)
    # Old run: raw copies gone, anonymized table and manifest kept, evidence recorded.
    assert not old.exists("original/fuente.csv") and not old.exists("extraido.parquet")
    assert not old.exists("original") and old.exists("anonimizado.parquet")
    manifest = old.read_json("manifest.json")
    borrados = {b["archivo"]: b for b in manifest["retencion"]["borrados"]}
    assert set(borrados) == {"original/fuente.csv", "extraido.parquet"}
    assert borrados["original/fuente.csv"]["sha256"] == expected_sha
    assert manifest["etapas"]["extraer"]["sha256"] == "abc" and manifest["etapas"]["extraer"]["filas"] == 1
    # Recent run untouched.
    assert recent.exists("original/fuente.csv") and recent.exists("extraido.parquet")
    assert resumen.archivos_borrados == 2 and resumen.ejecuciones_depuradas == 1
    assert resumen.por_conjunto == {"vacunacion_pai": 2}
    # The log carries counts only: no values, no file names.
    text = caplog.text
    assert "2 archivos borrados" in text and "1098765432" not in text and "fuente.csv" not in text
    # A second pass finds nothing more to delete and keeps the evidence.
    assert purge_expired(base, catalog, now=NOW).archivos_borrados == 0
    assert len(old.read_json("manifest.json")["retencion"]["borrados"]) == 2


def test_retention_is_per_dataset(tmp_path):
    base = (tmp_path / "staging").as_uri()
    catalog = load_catalog()
    ds = catalog.get("vacunacion_pai").model_copy(update={"retencion_dias": 7})
    catalog.datasets[catalog.datasets.index(catalog.get("vacunacion_pai"))] = ds
    catalog.__dict__.pop("_by_slug", None)
    area = _run(base, "vacunacion_pai", "semana", days_ago=8)
    purge_expired(base, catalog, now=NOW)
    assert not area.exists("extraido.parquet")


def test_incremental_source_keeps_the_last_success_extraction(tmp_path):
    base = (tmp_path / "staging").as_uri()
    catalog = load_catalog()
    last = _run(base, "contratos_gobernacion", "ultimo", days_ago=40)
    older = _run(base, "contratos_gobernacion", "anterior", days_ago=60)
    DatasetArea(base, "contratos_gobernacion").record_success({"ejecucion": "ultimo"})
    resumen = purge_expired(base, catalog, now=NOW)
    assert last.exists("extraido.parquet") and not last.exists("original/fuente.csv")
    assert not older.exists("extraido.parquet")
    assert resumen.conservados_para_incremental == 1


def test_staging_files_are_0600_and_folders_0700(tmp_path):
    base = (tmp_path / "staging").as_uri()
    area = _run(base, "vacunacion_pai", "permisos", days_ago=0)
    with area.open("extraido_stream.parquet", "wb") as fh:
        fh.write(b"x")
    root = tmp_path / "staging"
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    # A file written by other means (wide umask) is narrowed by secure().
    loose = root / "vacunacion_pai" / "ejecuciones" / "permisos" / "original" / "otro.csv"
    loose.write_text("x")
    os.chmod(loose, 0o644)
    assert area.secure() == 1 and stat.S_IMODE(os.stat(loose).st_mode) == 0o600
    json.dumps(area.read_json("manifest.json"))
