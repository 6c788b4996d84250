"""A small client of Airflow's public REST API (``/api/v2``), with no Airflow import.

Airflow 3 forbids task code to touch the metadata database, and the Execution API has no call
that edits the current DAG run, so the run note (``dag_run_note``, shown in the UI) is written
the way an operator would write it: ``PATCH /api/v2/dags/<dag>/dagRuns/<run>`` with a token from
the auth manager (``POST /auth/token``). The same client lets ``make run``/``make up`` and the
tests unpause and trigger DAGs through the running API server.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests


@dataclass
class AirflowApi:
    """Base URL plus the login of an Airflow user allowed to edit DAG runs."""

    base_url: str
    username: str
    password: str
    timeout: float = 30
    _token: str | None = field(default=None, repr=False)

    def token(self) -> str:
        if self._token is None:
            resp = requests.post(f"{self.base_url.rstrip('/')}/auth/token", timeout=self.timeout,
                                 json={"username": self.username, "password": self.password})
            resp.raise_for_status()
            self._token = resp.json()["access_token"]
        return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        resp = requests.request(method, f"{self.base_url.rstrip('/')}/api/v2/{path.lstrip('/')}",
                                headers={"Authorization": f"Bearer {self.token()}"}, timeout=self.timeout, **kwargs)
        resp.raise_for_status()
        return resp

    def set_note(self, dag_id: str, run_id: str, note: str) -> None:
        """Replace the note of one DAG run (Markdown, shown in the run's details in the UI)."""
        self.request("PATCH", f"dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}",
                     params={"update_mask": "note"}, json={"note": note})

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.request("GET", f"dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}").json()

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.request("GET", f"dags/{quote(dag_id, safe='')}/dagRuns",
                            params={"order_by": "-run_after", "limit": 50}).json()["dag_runs"]

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"dags/{quote(dag_id, safe='')}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """Queue a manual run now and return its run id."""
        body: dict[str, Any] = {"logical_date": None, "conf": conf or {}}
        return self.request("POST", f"dags/{quote(dag_id, safe='')}/dagRuns", json=body).json()["dag_run_id"]

    def wait_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Wait until the DAG processor has parsed ``dag_id`` into the metadata DB."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.request("GET", f"dags/{quote(dag_id, safe='')}")
                return
            except requests.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(2)

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 900) -> str:
        """Poll a run until it is finished; return its final state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.dag_run(dag_id, run_id)["state"]
            if state in {"success", "failed"}:
                return state
            time.sleep(2)
        raise TimeoutError(f"{dag_id} {run_id} no terminó en {timeout:.0f} s")


def from_connection(conn_id: str = "airflow_api") -> AirflowApi:
    """Client from an Airflow connection (``http`` with host, port, login and password)."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    scheme = conn.schema or "http"
    port = f":{conn.port}" if conn.port else ""
    return AirflowApi(f"{scheme}://{conn.host}{port}", conn.login or "", conn.password or "")
