"""``vigilancia_fuentes``: a changed source file emits its asset event and queues the dataset's DAG;
an unchanged one does not. Runs the real platform DAG in-process against the Airflow metadata DB.
"""

from __future__ import annotations

import os
import shutil

import pytest

from casanare.catalog import load_catalog
from casanare.extract.vigilancia import es_vigilable, uri_fuente
from tests.conftest import run_dag

pytestmark = pytest.mark.e2e


def asset_events(uri: str) -> int:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.query(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id).filter(
            AssetModel.uri == uri).count()


def queued_runs(dag_id: str) -> int:
    from airflow.models.asset import AssetDagRunQueue
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.query(AssetDagRunQueue).filter(AssetDagRunQueue.target_dag_id == dag_id).count()


def clear_queue(dag_id: str) -> None:
    from airflow.models.asset import AssetDagRunQueue
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(AssetDagRunQueue).filter(AssetDagRunQueue.target_dag_id == dag_id).delete()


def set_paused(dag_id: str, paused: bool) -> None:
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(DagModel).filter(DagModel.dag_id == dag_id).update({"is_paused": paused})


def test_changed_file_triggers_and_unchanged_does_not(local_env, tmp_path, monkeypatch):
    watched = [d for d in load_catalog().priorizados if es_vigilable(d)]
    assert watched, "el catálogo de ejemplo debe tener un conjunto eventual con archivo"
    ds = watched[0]
    # Private copies: the shared generated sources and staging stay untouched.
    fuentes = tmp_path / "fuentes"
    shutil.copytree(local_env.fuentes, fuentes)
    monkeypatch.setenv("CASANARE_SOURCE_BASE", str(fuentes))
    monkeypatch.setenv("CASANARE_STAGING_URL", (tmp_path / "staging").as_uri())
    uri = uri_fuente(ds)
    task_id = f"revisar_{ds.slug}"
    # Paused DAGs are never queued by asset events: sync the DAG folder, then unpause the consumer.
    run_dag("vigilancia_fuentes")
    set_paused(ds.slug, False)
    clear_queue(ds.slug)
    try:
        run_sequence(ds, uri, task_id, asset_events(uri))
    finally:
        set_paused(ds.slug, True)
        clear_queue(ds.slug)


def run_sequence(ds, uri: str, task_id: str, before: int) -> None:
    # 1. A new file arrives (the copy above was already seen by the warm-up run).
    path = ds.fuente.ruta_absoluta()
    with path.open("ab") as fh:
        fh.write(b"\0")
    states = run_dag("vigilancia_fuentes")
    assert states[task_id] == "success", states
    assert asset_events(uri) == before + 1
    assert queued_runs(ds.slug) == 1
    clear_queue(ds.slug)

    # 2. Same file: skipped, no event, nothing queued.
    states = run_dag("vigilancia_fuentes")
    assert states[task_id] == "skipped", states
    assert asset_events(uri) == before + 1
    assert queued_runs(ds.slug) == 0

    # 3. Touched (new mtime) but same bytes: the sha256 says no change.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    states = run_dag("vigilancia_fuentes")
    assert states[task_id] == "skipped", states
    assert asset_events(uri) == before + 1

    # 4. New content: a new event and a queued run of the dataset's DAG.
    with path.open("ab") as fh:
        fh.write(b"\0")
    states = run_dag("vigilancia_fuentes")
    assert states[task_id] == "success", states
    assert asset_events(uri) == before + 2
    assert queued_runs(ds.slug) == 1
