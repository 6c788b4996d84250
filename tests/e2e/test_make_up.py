"""`make up` from a plain shell: the UI answers with the printed login, runs carry their note, links answer.

The driver runs as `make up` does (``scripts.ejecutar_local --mantener``), from an environment with
no ``.venv/bin`` on PATH and no Airflow variables, on free ports (``--puertos-libres``) so it can
share the machine. The test logs in with the credentials the command printed, reads the DAG and
its run through the REST API the UI uses, opens every link of the run note, then stops the
command and checks that no process of its group is left.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import requests

from casanare.catalog import load_catalog

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SLUG = "vacunacion_pai"


def _processes_of(data: Path) -> list[int]:
    """Live processes started for this deployment (their environment names its Airflow home)."""
    marker = f"AIRFLOW_HOME={data / 'airflow'}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _wait_line(proc: subprocess.Popen, lines: list[str], pattern: str, timeout: float) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        lines.append(line)
        if m := re.search(pattern, line):
            return m
    raise AssertionError(f"no apareció {pattern!r}:\n" + "".join(lines[-60:]))


@pytest.fixture(scope="module")
def make_up(tmp_path_factory):
    data = tmp_path_factory.mktemp("make_up") / "data"
    # A plain shell: system PATH only, nothing from the test session's Airflow environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CASANARE_"))}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "plugins"), str(ROOT)])
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.ejecutar_local", "--mantener", "--puertos-libres", "--solo", SLUG,
         "--filas", "300", "--datos", str(data)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    lines: list[str] = []
    try:
        url = _wait_line(proc, lines, r"Interfaz de Airflow: (http://\S+)", 1500).group(1)
        user = _wait_line(proc, lines, r"Usuario: (\S+)", 30).group(1)
        password = _wait_line(proc, lines, r"Contraseña: (\S+)", 30).group(1)
        yield {"url": url, "user": user, "password": password, "lines": lines, "proc": proc, "data": data}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(30)


def test_make_up_serves_the_ui_with_the_printed_login(make_up):
    base = make_up["url"]
    # The UI page itself answers.
    with urllib.request.urlopen(base + "/", timeout=30) as resp:
        assert resp.status == 200
    token = requests.post(f"{base}/auth/token", json={"username": make_up["user"], "password": make_up["password"]},
                          timeout=30)
    assert token.status_code == 201, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    dag = requests.get(f"{base}/api/v2/dags/{SLUG}", headers=headers, timeout=30).json()
    ds = load_catalog().get(SLUG)
    assert dag["dag_display_name"] == ds.nombre
    assert "hora de Colombia" in dag["description"]
    assert "," not in "".join(dag["owners"])
    # A wrong password is refused: the login printed is the one that works.
    bad = requests.post(f"{base}/auth/token", json={"username": make_up["user"], "password": "x"}, timeout=30)
    assert bad.status_code == 401

    runs = requests.get(f"{base}/api/v2/dags/{SLUG}/dagRuns", headers=headers, timeout=30).json()["dag_runs"]
    assert runs and runs[0]["state"] == "success", runs
    note = runs[0]["note"] or ""
    assert note.startswith("**Ejecución exitosa**"), note
    assert "Filas leídas de la fuente:** 300" in note
    assert "datos.gov.co:**" in note and "casanare.gov.co:**" in note and "puntaje MinTIC" in note
    # Every link of the note answers (status page, quality report, Data Docs, portal, website).
    links = re.findall(r"\]\((http[^)]+)\)", note)
    assert len(links) >= 4, note
    for link in links:
        assert requests.get(link, timeout=30).status_code == 200, link
    # Task logs of the run are readable through the API, as the UI shows them.
    log = requests.get(f"{base}/api/v2/dags/{SLUG}/dagRuns/{runs[0]['dag_run_id']}/taskInstances/validar/logs/1",
                       headers={**headers, "Accept": "application/json"}, timeout=60)
    assert log.status_code == 200 and "Skipping registering" not in log.text, log.text[:500]
    assert "Done. Returned value was" in log.text or "exito" in log.text


def test_stopping_make_up_stops_every_process(make_up):
    proc = make_up["proc"]
    assert _processes_of(make_up["data"]), "no se encontraron los procesos de Airflow de make up"
    proc.send_signal(signal.SIGTERM)
    proc.wait(180)
    deadline = time.monotonic() + 60
    while _processes_of(make_up["data"]) and time.monotonic() < deadline:
        time.sleep(1)
    assert not _processes_of(make_up["data"]), "quedaron procesos de make up vivos"
    with pytest.raises(requests.ConnectionError):
        requests.get(make_up["url"] + "/api/v2/monitor/health", timeout=5)
