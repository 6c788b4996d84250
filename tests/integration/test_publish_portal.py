"""Publishing to the empty SODA stand-in: creation, incremental diff, atomic sends, snapshots, recovery."""

from __future__ import annotations

import pandas as pd
import pytest
import requests

from casanare.errors import ErrorDeConfiguracion, PortalNoDisponible
from casanare.publish.portal.client import PortalConfig
from casanare.publish.portal.publish import MARKER, publish
from casanare.staging import DatasetArea
from scripts.bench_publicacion import (
    make_frame,
    mutate,
    portal_frame,
    same_table,
    sample_dataset,
)
from standins.soda_portal import start_portal

pytestmark = pytest.mark.integration

FILAS = 20_000
CHUNK = 1_000


@pytest.fixture()
def portal(tmp_path):
    handle = start_portal(tmp_path / "soda", tls=False)
    yield handle
    handle.stop()


def _cfg(portal, **kw) -> PortalConfig:
    values = {"chunk_size": CHUNK, "backoff_base": 0.01, "backoff_max": 0.05, "retry_after_max": 0.05,
              "timeout": 30, "app_token": "prueba", **kw}
    return PortalConfig(base_url=portal.url, **values)


def _posts(portal) -> int:
    return portal.stats()["by_method"].get("POST", 0)


def test_first_load_then_one_percent_changed_sends_exactly_those_rows(portal, tmp_path) -> None:
    ds = sample_dataset()
    state = DatasetArea(f"file://{tmp_path}/staging", ds.slug)
    first = make_frame(FILAS)
    report = publish(first, ds, _cfg(portal), state=state, version="v1")
    ff = report["dataset_id"]
    assert report["origen_id"] == "creado" and report["diff"]["metodo"].startswith("revision_replace")
    assert report["filas_enviadas"] == FILAS == report["filas_en_portal"]
    assert same_table(ds, first, portal_frame(portal.url, ff, list(first.columns)))

    second, info = mutate(first, 0.01, 0.005)
    assert info == {"cambiadas": 200, "borradas": 100, "nuevas": 0}
    posts = _posts(portal)
    report = publish(second, ds, _cfg(portal), state=state, version="v2")
    assert report["base"] == "snapshot"
    assert report["diff"] == {"nuevas": 0, "cambiadas": 200, "borradas": 100, "sin_cambios": FILAS - 300,
                              "metodo": "soda"}
    assert report["filas_enviadas"] == 300
    # The portal's own counts: exactly 200 rows updated and 100 deleted, nothing created.
    assert (report["envio"]["creadas"], report["envio"]["actualizadas"], report["envio"]["borradas"]) == (0, 200, 100)
    assert _posts(portal) - posts == 1  # 300 ≤ soda_max_filas: ONE request, one transaction
    assert report["diff"]["metodo"] == "soda" and report["origen_id"] == "estado"
    assert same_table(ds, second, portal_frame(portal.url, ff, list(second.columns)))

    # Versioned snapshots, pointer on the last reconciled one.
    assert state.exists("snapshots/v1.parquet") and state.exists("snapshots/v2.parquet")
    version, snap = state.latest_snapshot()
    assert version == "v2" and len(snap) == len(second)
    assert state.read_json(MARKER)["estado"] == "reconciliada"

    # Nothing changed: nothing is written.
    posts = _posts(portal)
    report = publish(second, ds, _cfg(portal), state=state, version="v3")
    assert report["filas_enviadas"] == 0 and _posts(portal) == posts


def test_snapshot_does_not_advance_on_failure_and_rerun_converges(portal, tmp_path) -> None:
    ds = sample_dataset()
    state = DatasetArea(f"file://{tmp_path}/staging", ds.slug)
    first = make_frame(5_000)
    ff = publish(first, ds, _cfg(portal), state=state, version="v1")["dataset_id"]
    second, _ = mutate(first, 0.05, 0.02, nuevas=50)
    # Every write fails: the publish gives up after its attempts.
    portal.set_faults(1.0, kinds=["500"], methods=["POST"])
    with pytest.raises(PortalNoDisponible):
        publish(second, ds, _cfg(portal, max_attempts=2, chunk_size=100), state=state, version="v2")
    assert state.latest_snapshot()[0] == "v1"
    assert state.read_json(MARKER)["estado"] == "en_curso"
    portal.set_faults(0.0)
    # A partial write straight to the portal (as if a chunk had landed before a crash).
    partial = second.iloc[:40]
    requests.post(f"{portal.url}/resource/{ff}.json", timeout=30,
                  json=[{k: v for k, v in r.items() if v is not None}
                        for r in partial.astype(object).where(partial.notna(), None)
                        .assign(fecha=partial["fecha"].dt.strftime("%Y-%m-%dT00:00:00.000")).to_dict("records")])
    report = publish(second, ds, _cfg(portal), state=state, version="v2")
    assert report["base"] == "portal"  # unfinished publish → the portal's real rows are the base
    assert same_table(ds, second, portal_frame(portal.url, ff, list(second.columns)))
    assert state.latest_snapshot()[0] == "v2"


def test_hand_edit_on_the_portal_is_repaired(portal, tmp_path) -> None:
    ds = sample_dataset()
    state = DatasetArea(f"file://{tmp_path}/staging", ds.slug)
    frame = make_frame(3_000)
    ff = publish(frame, ds, _cfg(portal), state=state, version="v1")["dataset_id"]
    # Someone deletes one row and edits another by hand on the portal.
    requests.post(f"{portal.url}/resource/{ff}.json", timeout=30,
                  json=[{"id_registro": 7, ":deleted": True}, {"id_registro": 8, "municipio": "Editado"}])
    report = publish(frame, ds, _cfg(portal, sample_size=5_000), state=state, version="v2")
    assert report["base"] == "portal"  # the count no longer matched the snapshot
    assert report["diff"]["nuevas"] == 1 and report["diff"]["cambiadas"] == 1
    assert same_table(ds, frame, portal_frame(portal.url, ff, list(frame.columns)))


def test_without_state_the_portal_is_the_base(portal, tmp_path) -> None:
    created = sample_dataset()
    frame = make_frame(2_000)
    with pytest.raises(ErrorDeConfiguracion):  # no id anywhere: it could not be created idempotently
        publish(frame, created, _cfg(portal))
    state = DatasetArea(f"file://{tmp_path}/staging", created.slug)
    ff = publish(frame, created, _cfg(portal), state=state, version="v1")["dataset_id"]
    ds = sample_dataset(dataset_id=ff)  # the id pasted into the catalog (make ids-portal)
    changed, _ = mutate(frame, 0.01, 0.0)
    report = publish(changed, ds, _cfg(portal))
    assert report["base"] == "portal" and report["filas_enviadas"] == 20
    assert same_table(ds, changed, portal_frame(portal.url, ff, list(changed.columns)))


def test_append_mode_sends_each_row_once(tmp_path) -> None:
    ds = sample_dataset(modo="agregar", key=None)
    handle = start_portal(tmp_path / "soda", tls=False)
    try:
        state = DatasetArea(f"file://{tmp_path}/staging", ds.slug)
        log1 = make_frame(1_000).drop(columns=["id_registro"])
        ds_cols = [c for c in log1.columns]
        report = publish(log1, ds.model_copy(update={"columnas": [c for c in ds.columnas if c.nombre != "id_registro"]}),
                         _cfg(handle), state=state, version="v1")
        ff = report["dataset_id"]
        assert report["filas_en_portal"] == 1_000
        log2 = pd.concat([log1, make_frame(300, semilla=9).drop(columns=["id_registro"])], ignore_index=True)
        handle.set_faults(0.5, kinds=["drop_after_commit", "drop", "202"], seed=3, methods=["POST"])
        report = publish(log2, ds.model_copy(update={"columnas": [c for c in ds.columnas if c.nombre != "id_registro"]}),
                         _cfg(handle, chunk_size=50), state=state, version="v2")
        handle.set_faults(0.0)
        assert report["diff"] == {"agregadas": 300, "ya_publicadas": 1_000, "metodo": "soda"}
        assert same_table(ds, log2, portal_frame(handle.url, ff, ds_cols))
    finally:
        handle.stop()


def test_large_diffs_go_as_one_revision_and_deletions_as_a_replace(portal, tmp_path) -> None:
    ds = sample_dataset()
    state = DatasetArea(f"file://{tmp_path}/staging", ds.slug)
    first = make_frame(4_000)
    ff = publish(first, ds, _cfg(portal, soda_max_filas=100), state=state, version="v1")["dataset_id"]
    # 400 changed + 50 new > soda_max_filas, no deletions: an update revision, no SODA writes.
    second, _ = mutate(first, 0.1, 0.0, nuevas=50, semilla=3)
    before = portal.stats()["by_method"].get("POST", 0)
    report = publish(second, ds, _cfg(portal, soda_max_filas=100), state=state, version="v2")
    assert report["diff"]["metodo"].startswith("revision_update")
    assert report["filas_enviadas"] == 450
    resource_posts = portal.stats()["by_method"].get("POST", 0) - before
    assert resource_posts >= 1  # DSMAPI calls only (revision, source, chunk, commit, transform)
    assert same_table(ds, second, portal_frame(portal.url, ff, list(second.columns)))
    # With deletions an update revision can't express the change: one replace revision.
    third, _ = mutate(second, 0.1, 0.05, semilla=4)
    report = publish(third, ds, _cfg(portal, soda_max_filas=100), state=state, version="v3")
    assert report["diff"]["metodo"].startswith("revision_replace") and report["diff"]["borradas"] > 0
    assert same_table(ds, third, portal_frame(portal.url, ff, list(third.columns)))


def _output_schemas(portal, dataset_id: str, seq: int) -> int:
    """Output schemas of the revision's upload: 1 = the portal's own, 2 = ours was posted too."""
    base = f"{portal.url}/api/publishing/v1/revision/{dataset_id}/{seq}"
    sources = requests.get(f"{base}/source", timeout=10).json()
    sources = [s.get("resource", s) for s in (sources if isinstance(sources, list) else sources["resource"])]
    return sum(len(schema["output_schemas"]) for source in sources for schema in source["schemas"])


def test_a_revision_whose_own_schema_is_the_catalogs_is_applied_without_a_transform(portal, tmp_path) -> None:
    """The portal types each upload after the dataset's columns; when that already is the catalog's
    schema, posting it again only made the portal convert every row once more."""
    ds = sample_dataset()
    ds = ds.model_copy(update={"datos_gov_co": ds.datos_gov_co.model_copy(update={"modo": "reemplazo"})})
    state = DatasetArea(f"file://{tmp_path}/staging", ds.slug)
    first = make_frame(3_000)
    report = publish(first, ds, _cfg(portal), state=state, version="v1")
    ff, seq = report["dataset_id"], int(report["diff"]["metodo"].rsplit(":", 1)[1])
    assert _output_schemas(portal, ff, seq) == 2  # a new dataset: every column arrives as text
    second, _ = mutate(first, 0.2, 0.1, nuevas=30, semilla=5)
    report = publish(second, ds, _cfg(portal), state=state, version="v2")
    seq = int(report["diff"]["metodo"].rsplit(":", 1)[1])
    assert _output_schemas(portal, ff, seq) == 1
    assert same_table(ds, second, portal_frame(portal.url, ff, list(second.columns)))
    # A column changes type in the catalog: the portal's own schema (the old type) no longer fits.
    columnas = [c.model_copy(update={"tipo": "texto"}) if c.nombre == "cantidad" else c for c in ds.columnas]
    retyped = ds.model_copy(update={"columnas": columnas})
    report = publish(second, retyped, _cfg(portal), state=state, version="v3")
    seq = int(report["diff"]["metodo"].rsplit(":", 1)[1])
    assert _output_schemas(portal, ff, seq) == 2
    view = requests.get(f"{portal.url}/api/views/{ff}.json", timeout=10).json()
    assert {c["fieldName"]: c["dataTypeName"] for c in view["columns"]}["cantidad"] == "text"
