"""The assigned 4x4s: accessor, YAML command and the stable tag."""

from __future__ import annotations

import pytest
import yaml

from casanare.catalog import load_catalog
from casanare.publish.portal import portal_dataset_id
from casanare.publish.portal.ids import assigned_ids
from casanare.staging import PORTAL_ID_FILE, DatasetArea
from scripts.ids_portal import main

pytestmark = pytest.mark.unit


def test_command_prints_the_assigned_ids_as_yaml(tmp_path, monkeypatch, capsys) -> None:
    catalog = load_catalog()
    first, second, *rest = catalog.priorizados
    staging = tmp_path.as_uri()
    DatasetArea(staging, first.slug).write_json(PORTAL_ID_FILE, {"dataset_id": "ab12-cd34"})
    DatasetArea(staging, second.slug).write_json(PORTAL_ID_FILE, {"dataset_id": "ef56-gh78"})
    monkeypatch.setenv("CASANARE_STAGING_URL", staging)
    assert portal_dataset_id(first) == "ab12-cd34" and portal_dataset_id(rest[0]) is None
    assert assigned_ids(catalog) == {first.slug: "ab12-cd34", second.slug: "ef56-gh78"}
    assert main(["--staging", staging]) == 0
    out = capsys.readouterr().out
    assert yaml.safe_load(out) == {first.slug: {"datos_gov_co": {"dataset_id": "ab12-cd34"}},
                                   second.slug: {"datos_gov_co": {"dataset_id": "ef56-gh78"}}}
    assert f"# {rest[0].slug}: sin identificador todavía" in out


def test_catalog_id_wins_and_the_tag_is_stable() -> None:
    ds = load_catalog().priorizados[0]
    given = ds.model_copy(update={"datos_gov_co": ds.datos_gov_co.model_copy(update={"dataset_id": "zz11-yy22"})})
    assert portal_dataset_id(given) == "zz11-yy22"
    assert ds.etiqueta_portal == "casanare-" + ds.slug.replace("_", "-")
