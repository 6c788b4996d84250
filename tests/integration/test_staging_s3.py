"""The ``s3://`` staging against a real S3-compatible server (moto's server mode, from PyPI).

Production stages every run in S3 (MinIO in compose) because two tasks of one run may run on
two hosts. Here the same code talks HTTP to ``moto.server``: atomic writes, manifests, history,
snapshots, a whole DAG run, and the failure-notification marker, whose exclusive create (``xb``)
becomes a conditional ``PutObject`` (``If-None-Match: *``) that the server must refuse the
second time.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pandas as pd
import pytest

from casanare.failure_notifier import MARKER, claim_notification
from casanare.staging import DatasetArea, RunArea

pytestmark = pytest.mark.integration
BUCKET = "casanare-staging"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """``moto.server`` on a free port, with the staging bucket created (as minio-init does)."""
    import boto3

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
        boto3.client("s3", endpoint_url=url, aws_access_key_id="clave", aws_secret_access_key="secreto",
                     region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def s3_staging(s3_server, monkeypatch) -> str:
    """Point fsspec's s3 protocol at the server, as FSSPEC_S3_* do in compose."""
    import fsspec.config

    monkeypatch.setitem(fsspec.config.conf, "s3", {
        "endpoint_url": s3_server, "key": "clave", "secret": "secreto",
        "client_kwargs": {"region_name": "us-east-1"},
    })
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    return f"s3://{BUCKET}/pruebas-{time.monotonic_ns()}"


def test_run_and_dataset_state_round_trip(s3_staging):
    run = RunArea(s3_staging, "vacunacion_pai", "manual__2026-11-30T20:12:54+00:00")
    frame = pd.DataFrame({"dosis": ["Primera", "Segunda"], "n": [1, 2]})
    run.write_parquet("anonimizado.parquet", frame)
    pd.testing.assert_frame_equal(run.read_parquet("anonimizado.parquet"), frame)
    run.record_stage("extraer", {"estado": "ok", "filas": 2})
    run.record_stage("validar", {"estado": "ok", "filas": 2})
    manifest = run.read_json("manifest.json")
    assert manifest["filas_por_etapa"] == {"extraer": 2, "validar": 2}
    assert not [p for p in run.fs.find(run._fs_path("")) if ".tmp-" in p]  # temp names were moved away
    state = DatasetArea(s3_staging, "vacunacion_pai")
    state.record_success({"ejecucion": "a", "filas": 2})
    state.record_success({"ejecucion": "b", "filas": 3})
    assert [h["ejecucion"] for h in state.history()] == ["a", "b"]
    state.save_snapshot("v1", frame)
    version, snapshot = state.latest_snapshot()
    assert version == "v1" and len(snapshot) == 2


def test_notification_marker_is_exclusive_on_s3(s3_staging):
    run = RunArea(s3_staging, "vacunacion_pai", "manual__2026-11-30T20:12:54+00:00")
    assert claim_notification(run, {"tarea": "publicar_datos_gov_co"}) is True
    # The second task of the same run loses the race: the server refuses the conditional put.
    assert claim_notification(run, {"tarea": "publicar_casanare_gov_co"}) is False
    assert run.read_json(MARKER)["tarea"] == "publicar_datos_gov_co"


@pytest.mark.e2e
def test_a_whole_dag_run_stages_in_s3(local_env, s3_staging, monkeypatch):
    from tests.conftest import run_dag

    monkeypatch.setenv("CASANARE_STAGING_URL", s3_staging)
    states = run_dag("vacunacion_pai")
    assert set(states.values()) == {"success"}, states
    state = DatasetArea(s3_staging, "vacunacion_pai")
    last = state.last_success()
    assert last and last["filas_publicadas"] > 0
    assert state.read_json("estado/ultimo_intento.json")["resultado"] == "exito"
    run = RunArea(s3_staging, "vacunacion_pai", last["ejecucion"])
    assert run.read_json("manifest.json")["resultado"] == "exito"
    assert run.exists("nota.md") and run.exists("original/vacunacion_pai.xlsx")
