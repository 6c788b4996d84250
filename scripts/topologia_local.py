"""The production topology (CeleryExecutor) as separate local processes, without Docker.

Same components as ``docker-compose.yaml``: PostgreSQL metadata DB, Redis broker, api-server,
scheduler, dag-processor, triggerer and N Celery workers. Each component runs in its own process
group so it can be stopped by PID; every process carries a marker variable so that stopping can
verify nothing it started is left behind.

Used by ``tests/celery/test_distributed.py`` and runnable by hand::

    python -m scripts.topologia_local [--filas 300] [--trabajadores 2]

which starts everything, triggers every prioritized DAG through the REST API, waits, prints a
Spanish summary (runs and which worker ran each task) and stops every process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.entorno_local import VENV_BIN, LocalEnv

PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
API_USER = "operador"
FINAL_STATES = {"success", "failed"}


def nombre_del_host() -> str:
    """Hostname callable (``[core] hostname_callable``): the worker's name if one is set.

    Two workers on one machine would otherwise record the same FQDN in ``task_instance.hostname``.
    """
    return os.environ.get("CASANARE_WORKER_NAME") or socket.getfqdn()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Componente:
    """One running Airflow component: its process (group leader) and its log file."""

    nombre: str
    proceso: subprocess.Popen
    log: Path

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class TopologiaCelery:
    """A CeleryExecutor deployment on the machine's PostgreSQL and Redis, one process per component.

    Args:
        local: embedded environment (sources, stand-ins, connections) to reuse.
        root: folder for this topology's Airflow home and logs.
        trabajadores: number of Celery workers (``trabajador1`` … ``trabajadorN``).
        concurrencia: task slots per worker.
        programar: let the scheduler create cron runs; off by default so that unpausing a DAG
            does not add a scheduled run next to the manual one being proven.
    """

    local: LocalEnv
    root: Path
    trabajadores: int = 2
    concurrencia: int = 2
    programar: bool = False
    token: str = field(default_factory=lambda: f"{os.getpid()}_{secrets.token_hex(3)}")
    componentes: list[Componente] = field(default_factory=list)
    api_port: int = field(default_factory=free_port)
    _password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    _jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    _secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def db_name(self) -> str:
        return f"airflow_celery_{self.token}"

    @property
    def db_url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{self.db_name}"

    @property
    def broker_url(self) -> str:
        # A Redis database of its own plus a queue of its own: concurrent sessions never mix.
        return f"redis://127.0.0.1:6379/{1 + os.getpid() % 15}"

    @property
    def queue(self) -> str:
        return f"casanare_{self.token}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def home(self) -> Path:
        return self.root / "airflow"

    def env(self) -> dict[str, str]:
        """The embedded environment with the distributed engine's settings on top."""
        passwords = self.home / "passwords.json"
        return {
            **os.environ,
            **self.local.env(),
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.db_url,
            "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://postgres@127.0.0.1:5432/{self.db_name}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.concurrencia),
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": self._jwt_secret,
            "AIRFLOW__API__SECRET_KEY": self._secret_key,
            "AIRFLOW__CORE__FERNET_KEY": "",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "scripts.topologia_local.nombre_del_host",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{API_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.root / "logs" / "tareas"),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(self.programar),
            "CASANARE_TOPOLOGIA": self.token,
            # The closing task writes the run note through this deployment's own API server, as
            # its user: the embedded environment's connection points at another port and login.
            "AIRFLOW_CONN_AIRFLOW_API": json.dumps({
                "conn_type": "http", "host": "127.0.0.1", "port": self.api_port, "schema": "http",
                "login": API_USER, "password": self._password,
            }),
            "CASANARE_AIRFLOW_URL": self.api_url,
        }

    # Lifecycle ----------------------------------------------------------------------------------

    def preparar(self) -> None:
        """Create the metadata database and migrate it."""
        import sqlalchemy as sa

        self.home.mkdir(parents=True, exist_ok=True)
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({API_USER: self._password}))
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{self.db_name}"'))
        admin.dispose()
        self._airflow("db", "migrate")
        # The publish tasks run in this pool (as in airflow-init of docker-compose.yaml).
        self._airflow("pools", "set", "datos_gov_co", "2", "Llamadas concurrentes a datos.gov.co")

    def arrancar(self, timeout: float = 240.0) -> None:
        """Start every component and wait until the API answers healthy."""
        self._start("api-server", ["api-server", "--port", str(self.api_port)])
        self._start("scheduler", ["scheduler"])
        self._start("dag-processor", ["dag-processor"])
        self._start("triggerer", ["triggerer"])
        for n in range(1, self.trabajadores + 1):
            name = f"trabajador{n}"
            # Each worker gets a private disk for everything but the staging URL and the shared
            # source folder, as two hosts would: a stage that silently relied on another task's
            # local files would fail here.
            disk = self.root / name
            (disk / "tmp").mkdir(parents=True, exist_ok=True)
            self._start(
                name,
                ["celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", str(self.concurrencia),
                 "--queues", self.queue],
                CASANARE_WORKER_NAME=name,
                CASANARE_DATA_DOCS_DIR=str(disk / "data_docs"),
                TMPDIR=str(disk / "tmp"),
                AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
            )
        self._wait_healthy(timeout)

    def detener(self, grace: float = 30.0) -> list[int]:
        """SIGTERM every process group, SIGKILL what remains; return the PIDs still alive (none)."""
        for comp in self.componentes:
            _signal_group(comp.proceso.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for comp in self.componentes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                comp.proceso.wait(timeout=max(0.1, deadline - time.monotonic()))
        for comp in self.componentes:
            _signal_group(comp.proceso.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                comp.proceso.wait(timeout=10)
        # Children that left the group (task supervisors, gunicorn/uvicorn workers) still carry
        # the marker: find them by it and end them by PID.
        for pid in self.procesos_vivos():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        return self.procesos_vivos()

    def borrar_base(self) -> None:
        """Drop the metadata database and this topology's own Redis keys (queue, bindings)."""
        import redis
        import sqlalchemy as sa

        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
        admin.dispose()
        client = redis.Redis.from_url(self.broker_url)
        try:
            keys = list(client.scan_iter(match=f"*{self.token}*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()

    def procesos_vivos(self) -> list[int]:
        """PIDs of live processes carrying this topology's marker (zombies excluded)."""
        import psutil

        alive = []
        for proc in psutil.process_iter(["pid", "status"]):
            try:
                if proc.info["status"] == psutil.STATUS_ZOMBIE or proc.pid == os.getpid():
                    continue
                if proc.environ().get("CASANARE_TOPOLOGIA") == self.token:
                    alive.append(proc.pid)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return alive

    def registros(self, lines: int = 40) -> str:
        """Tails of every component's log (Airflow component logs only; sample data is synthetic)."""
        parts = []
        for comp in self.componentes:
            code = comp.proceso.poll()
            parts.append(f"===== {comp.nombre} (pid {comp.proceso.pid}, salida {code}) =====\n{comp.tail(lines)}")
        return "\n".join(parts)

    # REST API ----------------------------------------------------------------------------------

    def _token(self) -> str:
        body = json.dumps({"username": API_USER, "password": self._password}).encode()
        request = urllib.request.Request(f"{self.api_url}/auth/token", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["access_token"]

    def api(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            f"{self.api_url}/api/v2{path}", data=data, method=method,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._token()}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")

    def esperar_dags(self, dag_ids: list[str], timeout: float = 300.0) -> None:
        """Wait until the dag-processor has serialized every DAG."""
        started = time.monotonic()
        missing = set(dag_ids)
        errors: list[str] = []
        while time.monotonic() < started + timeout:
            found = {d["dag_id"] for d in self.api("GET", "/dags?limit=1000")["dags"]}
            missing = set(dag_ids) - found
            if not missing:
                return
            errors = [f"{e['filename']}: {_last_line(e.get('stack_trace') or e.get('stacktrace'))}"
                      for e in self.api("GET", "/importErrors")["import_errors"]]
            if errors and time.monotonic() > started + 90:
                break  # a broken DAG file will not fix itself: fail with its error, not a timeout
            self._check_alive()
            time.sleep(3)
        raise TimeoutError(f"el dag-processor no registró: {sorted(missing)}; errores de importación: {errors}")

    def disparar(self, dag_id: str) -> str:
        """Unpause a DAG and trigger one manual run through the REST API; return the run id."""
        self.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": {}})
        return run["dag_run_id"]

    def esperar_ejecuciones(self, runs: dict[str, str], timeout: float) -> dict[str, str]:
        """Poll the metadata DB until every ``{dag_id: run_id}`` is final; return their states."""
        deadline = time.monotonic() + timeout
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            states = {row["dag_id"]: row["state"] for row in self.consulta(
                "SELECT dag_id, run_id, state FROM dag_run") if runs.get(row["dag_id"]) == row["run_id"]}
            if len(states) == len(runs) and all(s in FINAL_STATES for s in states.values()):
                return states
            self._check_alive()
            time.sleep(5)
        return states

    def consulta(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """Read the metadata DB directly (what an operator would do with psql)."""
        import sqlalchemy as sa

        engine = sa.create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return [dict(row._mapping) for row in conn.execute(sa.text(sql), params)]
        finally:
            engine.dispose()

    # Internals ---------------------------------------------------------------------------------

    def _airflow(self, *args: str) -> None:
        log = self.root / "logs" / f"airflow_{args[0]}.log"
        with log.open("ab") as out:
            subprocess.run([str(VENV_BIN / "airflow"), *args], env=self.env(), check=True,
                           stdout=out, stderr=subprocess.STDOUT)

    def _start(self, nombre: str, args: list[str], **extra_env: str) -> None:
        log = self.root / "logs" / f"{nombre}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [str(VENV_BIN / "airflow"), *args], env={**self.env(), **extra_env},
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stopped as a whole, by PID
            )
        self.componentes.append(Componente(nombre, proc, log))

    def _check_alive(self) -> None:
        dead = [c.nombre for c in self.componentes if c.proceso.poll() is not None]
        if dead:
            raise RuntimeError(f"componentes detenidos inesperadamente: {dead}")

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                with urllib.request.urlopen(f"{self.api_url}/api/v2/monitor/health", timeout=5) as response:
                    last = json.loads(response.read())
                if all(last.get(k, {}).get("status") == "healthy" for k in ("metadatabase", "scheduler")):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
                pass
            time.sleep(2)
        raise TimeoutError(f"la API no quedó sana: {last}")


def _last_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[-1][:300] if lines else ""


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def ejecutar_todo(topo: TopologiaCelery, dag_ids: list[str], timeout: float) -> dict[str, Any]:
    """Trigger every DAG, wait, and gather run states and the hostname of every task."""
    topo.esperar_dags(dag_ids)
    runs = {dag_id: topo.disparar(dag_id) for dag_id in dag_ids}
    states = topo.esperar_ejecuciones(runs, timeout)
    tasks = [row for row in topo.consulta(
        "SELECT dag_id, run_id, task_id, state, hostname FROM task_instance") if runs.get(row["dag_id"]) == row["run_id"]]
    # Notes written by each run's closing task through the REST API (connection ``airflow_api``).
    notes = {row["dag_id"]: row["content"] for row in topo.consulta(
        "SELECT dr.dag_id, dr.run_id, n.content FROM dag_run dr JOIN dag_run_note n ON n.dag_run_id = dr.id")
        if runs.get(row["dag_id"]) == row["run_id"]}
    return {"ejecuciones": runs, "estados": states, "tareas": tasks, "notas": notes}


def main() -> int:
    parser = argparse.ArgumentParser(description="Topología distribuida (CeleryExecutor) con procesos locales.")
    parser.add_argument("--filas", type=int, default=300)
    parser.add_argument("--trabajadores", type=int, default=2)
    parser.add_argument("--datos", type=Path, default=Path("data") / "celery")
    parser.add_argument("--espera", type=float, default=900.0, help="segundos máximos de espera")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
    from casanare.catalog import load_catalog
    from scripts.entorno_local import generate_sources, start_standins

    for port, service in ((5432, "PostgreSQL"), (6379, "Redis")):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                print(f"✗ {service} no responde en 127.0.0.1:{port}; inícielo primero.", file=sys.stderr)
                return 2
    local = LocalEnv(args.datos.resolve() / "entorno")
    generate_sources(local, args.filas, 2026)
    start_standins(local)
    topo = TopologiaCelery(local, args.datos.resolve(), trabajadores=args.trabajadores)
    started = time.monotonic()
    try:
        print(f"▶ Base de metadatos {topo.db_name}, broker {topo.broker_url}", flush=True)
        topo.preparar()
        topo.arrancar()
        print(f"▶ API en {topo.api_url}; disparando los DAG priorizados…", flush=True)
        result = ejecutar_todo(topo, [d.slug for d in load_catalog().priorizados], args.espera)
    finally:
        left = topo.detener()
        topo.borrar_base()
        local.stop()
    print(f"\nResultado ({time.monotonic() - started:.0f} s):")
    for dag_id, state in sorted(result["estados"].items()):
        hosts = sorted({t["hostname"] for t in result["tareas"] if t["dag_id"] == dag_id and t["hostname"]})
        print(f"  {dag_id:34} {state:8} trabajadores: {', '.join(hosts)}")
    print(f"Procesos que quedaron vivos: {left or 'ninguno'}")
    ok = all(s == "success" for s in result["estados"].values()) and len(result["estados"]) == len(result["ejecuciones"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
