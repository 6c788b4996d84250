"""Catalog load cache: per file mtime in memory and on disk (validated once per file change)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from casanare import catalog

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def entry(tmp_path, monkeypatch):
    monkeypatch.setenv("CASANARE_CATALOG_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "ejecucion_presupuestal_gastos.yaml"
    shutil.copy(ROOT / "include" / "catalog" / "ejecucion_presupuestal_gastos.yaml", path)
    catalog._CACHE.clear()
    return path


def test_an_unchanged_file_is_read_from_the_private_disk_cache(entry, monkeypatch):
    first = catalog.load_dataset(entry)
    files = list((entry.parent / "cache").iterdir())
    assert len(files) == 1 and files[0].stat().st_mode & 0o777 == 0o600
    assert (entry.parent / "cache").stat().st_mode & 0o777 == 0o700
    catalog._CACHE.clear()  # a new process: nothing in memory
    monkeypatch.setattr(catalog, "_parse_dataset", lambda *a: pytest.fail("parsed again"))
    assert catalog.load_dataset(entry) == first


def test_a_changed_file_is_parsed_and_validated_again(entry):
    catalog.load_dataset(entry)
    text = entry.read_text(encoding="utf-8").replace("minimo_filas: 50", "minimo_filas: 0.5")
    entry.write_text(text, encoding="utf-8")
    os.utime(entry, ns=(entry.stat().st_atime_ns, entry.stat().st_mtime_ns + 10**9))
    catalog._CACHE.clear()
    with pytest.raises(catalog.CatalogError, match="minimo_filas"):
        catalog.load_dataset(entry)


def test_a_cache_file_others_can_write_is_ignored(entry, monkeypatch):
    catalog.load_dataset(entry)
    cached = next((entry.parent / "cache").iterdir())
    os.chmod(cached, 0o666)
    catalog._CACHE.clear()
    calls = []
    real = catalog._parse_dataset
    monkeypatch.setattr(catalog, "_parse_dataset", lambda *a: calls.append(1) or real(*a))
    catalog.load_dataset(entry)
    assert calls == [1]
