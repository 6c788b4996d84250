"""Fault drill: publishes under 30% injected faults (429, 500, 202, drop, drop_after_commit),
atomic revisions watched by a reader, kill -9 in the middle of a large incremental publication and
right after the portal created a dataset.

Every run must end with the portal exactly equal to the expected table (multiset of normalized
rows: no duplicates, nothing lost, every value equal), read back independently of the publisher.
Retry delays are tiny here through the connection settings (backoff_base, retry_after_max).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import requests

from casanare.publish.portal.client import PortalConfig
from casanare.publish.portal.ids import STATE_FILE
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

ROOT = Path(__file__).resolve().parents[2]
KINDS = ["429", "500", "202", "drop", "drop_after_commit"]


def _cfg(url: str, **kw) -> PortalConfig:
    values = {"chunk_size": 500, "backoff_base": 0.005, "backoff_max": 0.05, "retry_after_max": 0.02,
              "max_attempts": 40, "timeout": 60, "app_token": "simulacro", **kw}
    return PortalConfig(base_url=url, **values)


def test_twenty_incremental_runs_under_thirty_percent_faults(tmp_path) -> None:
    ds = sample_dataset()
    portal = start_portal(tmp_path / "soda", tls=False)
    state = DatasetArea(f"file://{tmp_path}/staging", ds.slug)
    cfg = _cfg(portal.url)
    try:
        frame = make_frame(100_000)
        ff = publish(frame, ds, cfg, state=state, version="v00")["dataset_id"]
        for run in range(1, 21):
            # ~1% of the rows vary per run: changes, deletions and new rows.
            frame, _ = mutate(frame, 0.008, 0.001, nuevas=100, semilla=run)
            portal.set_faults(0.3, kinds=KINDS, seed=run)
            report = publish(frame, ds, cfg, state=state, version=f"v{run:02d}")
            portal.set_faults(0.0)
            assert report["reconciliacion"][-1]["diferentes"] == 0
            got = portal_frame(portal.url, ff, list(frame.columns))
            assert len(got) == len(frame), f"ejecución {run}"
            assert not got["id_registro"].duplicated().any(), f"ejecución {run}"
            assert same_table(ds, frame, got), f"ejecución {run}"
            assert state.latest_snapshot()[0] == f"v{run:02d}"
        faults = portal.stats()["faults"]
        assert all(faults.get(kind, 0) > 0 for kind in KINDS), faults
    finally:
        portal.stop()


def _reader(url: str, dataset_id: str, seen: list[tuple[int, int]], stop: threading.Event) -> None:
    """Poll count and checksum like a portal user would, ignoring failed (faulted) reads."""
    while not stop.is_set():
        try:
            response = requests.get(f"{url}/resource/{dataset_id}.json", timeout=10,
                                    params={"$select": "count(*) AS n, sum(cantidad) AS s"})
            if response.status_code == 200:
                row = response.json()[0]
                seen.append((int(row["n"]), int(float(row.get("s") or 0))))
        except (requests.RequestException, ValueError, KeyError, IndexError):
            pass
        time.sleep(0.02)


def test_replace_runs_under_faults_are_never_seen_half_done(tmp_path) -> None:
    ds = sample_dataset(modo="reemplazo")
    portal = start_portal(tmp_path / "soda", username="u", password="p", tls=False)
    cfg = _cfg(portal.url, username="u", password="p")
    state = DatasetArea(f"file://{tmp_path}/staging", ds.slug)
    ff = publish(make_frame(0), ds, cfg, state=state, version="v0")["dataset_id"]  # created empty
    versions = [make_frame(100_000, semilla=1)]
    for run in range(1, 4):
        versions.append(mutate(versions[-1], 0.01, 0.005, nuevas=150, semilla=run)[0])
    states = {(0, 0)} | {(len(v), int(v["cantidad"].sum())) for v in versions}
    assert len(states) == len(versions) + 1  # every version is distinguishable by (count, checksum)
    seen: list[tuple[int, int]] = []
    stop = threading.Event()
    reader = threading.Thread(target=_reader, args=(portal.url, ff, seen, stop), daemon=True)
    reader.start()
    try:
        for run, frame in enumerate(versions):
            portal.set_faults(0.3, kinds=KINDS, seed=100 + run)
            report = publish(frame, ds, cfg, state=state, version=f"v{run + 1}")
            portal.set_faults(0.0)
            # Always one replace revision applied in one step, whatever failed on the way.
            assert all(r["metodo"].startswith("revision_replace") for r in report["reconciliacion"])
            assert report["reconciliacion"][-1]["diferentes"] == 0
            assert same_table(ds, frame, portal_frame(portal.url, ff, list(frame.columns))), run
    finally:
        stop.set()
        reader.join(timeout=30)
        portal.stop()
    assert len(seen) > 20
    assert set(seen) <= states, set(seen) - states  # only whole versions were ever visible
    assert len(set(seen)) >= 3  # the reader did watch versions change


# -- kill -9 -----------------------------------------------------------------------------------
def _publish_in_subprocess(url: str, staging: str, parquet: Path, version: str, soda_max: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), str(ROOT)])}
    return subprocess.Popen(
        [sys.executable, __file__, url, staging, str(parquet), version, str(soda_max),
         str(parquet.with_suffix(".informe.json"))],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def test_kill_nine_mid_large_incremental_leaves_readers_on_the_old_version(tmp_path) -> None:
    ds = sample_dataset()
    portal = start_portal(tmp_path / "soda", tls=False, username="u", password="p")
    staging = f"file://{tmp_path}/staging"
    state = DatasetArea(staging, ds.slug)
    seen: list[tuple[int, int]] = []
    stop = threading.Event()
    try:
        first = make_frame(30_000)
        ff = publish(first, ds, _cfg(portal.url, username="u", password="p"), state=state,
                     version="v1")["dataset_id"]
        second, _ = mutate(first, 0.3, 0.0, nuevas=3_000, semilla=7)  # 12,000 rows: a revision
        second.to_parquet(tmp_path / "second.parquet")
        versions = {(len(first), int(first["cantidad"].sum())), (len(second), int(second["cantidad"].sum()))}
        reader = threading.Thread(target=_reader, args=(portal.url, ff, seen, stop), daemon=True)
        reader.start()
        puts = portal.stats()["by_method"].get("PUT", 0)
        posts = portal.stats()["by_method"].get("POST", 0)
        proc = _publish_in_subprocess(portal.url, staging, tmp_path / "second.parquet", "v2", soda_max=1_000)
        deadline = time.monotonic() + 120
        # Kill once the revision is being staged (revision and source created), before its apply.
        while (portal.stats()["by_method"].get("POST", 0) - posts < 3 and proc.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.002)
        _kill(proc)
        assert portal.stats()["by_method"].get("PUT", 0) == puts  # the apply was never requested
        assert state.read_json(MARKER)["estado"] == "en_curso" and state.latest_snapshot()[0] == "v1"
        # Readers are on the old version: no row of the half-staged revision is visible.
        assert same_table(ds, first, portal_frame(portal.url, ff, list(first.columns)))
        # The rerun diffs against the portal's real rows (unfinished marker) and converges exactly.
        report = publish(second, ds, _cfg(portal.url, soda_max_filas=1_000, username="u", password="p"),
                         state=state, version="v3")
        assert report["base"] == "portal" and report["diff"]["metodo"].startswith("revision_update")
        assert same_table(ds, second, portal_frame(portal.url, ff, list(second.columns)))
        assert state.latest_snapshot()[0] == "v3" and state.read_json(MARKER)["estado"] == "reconciliada"
    finally:
        stop.set()
        portal.stop()
    assert seen and set(seen) <= versions, set(seen) - versions  # only whole versions, ever


def test_kill_nine_right_after_creation_then_rerun_leaves_exactly_one_dataset(tmp_path) -> None:
    ds = sample_dataset()
    portal = start_portal(tmp_path / "soda", tls=False, username="u", password="p")
    staging = f"file://{tmp_path}/staging"
    state = DatasetArea(staging, ds.slug)
    try:
        frame = make_frame(20_000)
        frame.to_parquet(tmp_path / "first.parquet")
        proc = _publish_in_subprocess(portal.url, staging, tmp_path / "first.parquet", "v1", soda_max=5_000)
        deadline = time.monotonic() + 120
        while not portal.server.store.dataset_ids() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        _kill(proc)
        assert len(portal.server.store.dataset_ids()) == 1
        # Worst case: the run died before it could even write the assigned id to staging.
        (tmp_path / "staging" / ds.slug / STATE_FILE).unlink(missing_ok=True)
        report = publish(frame, ds, _cfg(portal.url, username="u", password="p"), state=state, version="v2")
        assert report["origen_id"] == "etiqueta"  # found again by its stable tag, not created twice
        assert portal.server.store.dataset_ids() == [report["dataset_id"]]
        assert state.read_json(STATE_FILE)["dataset_id"] == report["dataset_id"]
        assert same_table(ds, frame, portal_frame(portal.url, report["dataset_id"], list(frame.columns)))
        view = requests.get(f"{portal.url}/api/views/{report['dataset_id']}.json", timeout=30).json()
        assert view["metadata"]["rowIdentifier"] == "id_registro" and view["publicationStage"] == "published"
    finally:
        portal.stop()


def _main(url: str, staging: str, parquet: str, version: str, soda_max: str, report_path: str) -> None:
    ds = sample_dataset()
    frame = pd.read_parquet(parquet)
    report = publish(frame, ds, _cfg(url, soda_max_filas=int(soda_max), username="u", password="p"),
                     state=DatasetArea(staging, ds.slug), version=version)
    Path(report_path).write_text(json.dumps(report, default=str))


if __name__ == "__main__":
    _main(*sys.argv[1:7])
