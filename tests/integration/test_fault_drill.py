"""Fault drill: publishes under 30% injected faults (429, 500, 202, drop, drop_after_commit),
atomic replaces watched by a reader, and a kill -9 in the middle of a publish.

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

from casanare.publish.socrata import MARKER, PortalConfig, publish
from casanare.staging import DatasetArea
from scripts.bench_publicacion import (
    make_frame,
    mutate,
    portal_frame,
    portal_seed,
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
    ds = sample_dataset(dataset_id="simu-0001")
    portal = start_portal(tmp_path / "soda", portal_seed(ds), tls=False)
    state = DatasetArea(f"file://{tmp_path}/staging", ds.slug)
    cfg = _cfg(portal.url)
    try:
        frame = make_frame(100_000)
        publish(frame, ds, cfg, state=state, version="v00")
        for run in range(1, 21):
            # ~1% of the rows vary per run: changes, deletions and new rows.
            frame, _ = mutate(frame, 0.008, 0.001, nuevas=100, semilla=run)
            portal.set_faults(0.3, kinds=KINDS, seed=run)
            report = publish(frame, ds, cfg, state=state, version=f"v{run:02d}")
            portal.set_faults(0.0)
            assert report["reconciliacion"][-1]["diferentes"] == 0
            got = portal_frame(portal.url, "simu-0001", list(frame.columns))
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
    ds = sample_dataset(dataset_id="reem-0001", modo="reemplazo")
    portal = start_portal(tmp_path / "soda", portal_seed(ds), username="u", password="p")
    cfg = _cfg(portal.url, username="u", password="p", verify=str(portal.cert_path), revisiones=True)
    versions = [make_frame(100_000, semilla=1)]
    for run in range(1, 4):
        versions.append(mutate(versions[-1], 0.01, 0.005, nuevas=150, semilla=run)[0])
    states = {(0, 0)} | {(len(v), int(v["cantidad"].sum())) for v in versions}
    assert len(states) == len(versions) + 1  # every version is distinguishable by (count, checksum)
    seen: list[tuple[int, int]] = []
    stop = threading.Event()
    reader = threading.Thread(target=_reader, args=(portal.url, "reem-0001", seen, stop), daemon=True)
    reader.start()
    try:
        for run, frame in enumerate(versions):
            portal.set_faults(0.3, kinds=KINDS, seed=100 + run)
            report = publish(frame, ds, cfg)
            portal.set_faults(0.0)
            # Always through a revision (a failed attempt is redone as a new revision).
            assert {r["metodo"] for r in report["reconciliacion"]} <= {"revision", "revision_fallida"}
            assert report["reconciliacion"][-1]["diferentes"] == 0
            assert same_table(ds, frame, portal_frame(portal.url, "reem-0001", list(frame.columns))), run
    finally:
        stop.set()
        reader.join(timeout=30)
        portal.stop()
    assert len(seen) > 20
    assert set(seen) <= states, set(seen) - states  # only whole versions were ever visible
    assert len(set(seen)) >= 3  # the reader did watch versions change


# -- kill -9 -----------------------------------------------------------------------------------
def _publish_in_subprocess(url: str, staging: str, parquet: Path, version: str, chunk: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), str(ROOT)])}
    return subprocess.Popen(
        [sys.executable, __file__, url, staging, str(parquet), version, str(chunk),
         str(parquet.with_suffix(".informe.json"))],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def test_kill_nine_mid_publish_then_rerun_gives_the_exact_state(tmp_path) -> None:
    ds = sample_dataset(dataset_id="kill-0001")
    portal = start_portal(tmp_path / "soda", portal_seed(ds), tls=False)
    staging = f"file://{tmp_path}/staging"
    state = DatasetArea(staging, ds.slug)
    try:
        first = make_frame(10_000)
        publish(first, ds, _cfg(portal.url), state=state, version="v1")
        second, _ = mutate(first, 0.05, 0.01, nuevas=200, semilla=7)
        second.to_parquet(tmp_path / "second.parquet")
        before = portal.stats()["writes_applied"]
        proc = _publish_in_subprocess(portal.url, staging, tmp_path / "second.parquet", "v2", chunk=10)
        deadline = time.monotonic() + 120
        while portal.stats()["writes_applied"] - before < 5 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        landed = portal.stats()["writes_applied"] - before
        assert landed >= 5  # some chunks were accepted…
        assert state.read_json(MARKER)["estado"] == "en_curso"  # …and the publish never finished
        assert state.latest_snapshot()[0] == "v1"
        assert not same_table(ds, second, portal_frame(portal.url, "kill-0001", list(second.columns)))

        # The rerun brings a DIFFERENT target: rows that the killed run changed go back to their
        # v1 values. A diff against the v1 snapshot alone would miss them; the unfinished marker
        # makes the rerun diff against the portal's real rows.
        third = second.copy()
        changed = second.merge(first, on="id_registro", suffixes=("", "_v1"))
        revert = changed.loc[changed["valor"].ne(changed["valor_v1"]) & changed["valor_v1"].notna(), "id_registro"]
        mask = third["id_registro"].isin(revert)
        third.loc[mask, "valor"] = third.loc[mask, "id_registro"].map(first.set_index("id_registro")["valor"])
        assert mask.sum() > 0
        third.to_parquet(tmp_path / "third.parquet")
        proc = _publish_in_subprocess(portal.url, staging, tmp_path / "third.parquet", "v3", chunk=100)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
        report = json.loads((tmp_path / "third.informe.json").read_text())
        # Exact at the first try, because the base was the portal itself (no repair round).
        assert [r["base"] for r in report["reconciliacion"]] == ["portal"]
        assert same_table(ds, third, portal_frame(portal.url, "kill-0001", list(third.columns)))
        assert state.latest_snapshot()[0] == "v3" and state.read_json(MARKER)["estado"] == "reconciliada"
        # And the snapshot equals the portal: the next run diffs from the truth.
        assert same_table(ds, state.latest_snapshot()[1], portal_frame(portal.url, "kill-0001", list(third.columns)))
    finally:
        portal.stop()


def _main(url: str, staging: str, parquet: str, version: str, chunk: str, report_path: str) -> None:
    ds = sample_dataset(dataset_id="kill-0001")
    frame = pd.read_parquet(parquet)
    report = publish(frame, ds, _cfg(url, chunk_size=int(chunk)), state=DatasetArea(staging, ds.slug),
                     version=version)
    Path(report_path).write_text(json.dumps(report, default=str))


if __name__ == "__main__":
    _main(*sys.argv[1:7])
