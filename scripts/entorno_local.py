"""The embedded default: sample sources, local stand-ins and the Airflow settings pointing at them.

Shared by ``make run``, ``make up`` and the test-suite, so the tests exercise exactly what a
newcomer runs. Production uses the same code with other connections.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
PSEUDONYM_KEY_LOCAL = "clave-local-de-desarrollo-no-usar-en-produccion"
APP_TOKEN_LOCAL = "token-local-casanare"
# The local portal refuses writes without credentials, like datos.gov.co: these are its only user.
PORTAL_USER_LOCAL = "publicador-local"
PORTAL_PASSWORD_LOCAL = "clave-local-del-portal"
TIMEZONE = "America/Bogota"
LOCAL_USER = "admin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalEnv:
    """Folders, running stand-ins and environment of one embedded deployment."""

    root: Path
    portal: Any = None
    smtp: Any = None
    web: Any = None
    sql_urls: dict[str, str] = field(default_factory=dict)
    airflow_home_override: Path | None = None
    # Port of the Airflow API server (UI + REST + Execution API) of this deployment.
    api_port: int = 8080
    # Log servers of the worker and the triggerer (free ports: several deployments share a machine).
    log_ports: tuple[int, int] = field(default_factory=lambda: (free_port(), free_port()))

    @property
    def fuentes(self) -> Path:
        return self.root / "fuentes"

    @property
    def staging_url(self) -> str:
        return (self.root / "staging").as_uri()

    @property
    def web_dir(self) -> Path:
        return self.root / "sitio"

    @property
    def mail_dir(self) -> Path:
        return self.root / "correos"

    @property
    def access_log(self) -> Path:
        return self.root / "registro_sitio" / "access.log"

    @property
    def monitoring_db(self) -> Path:
        return self.root / "monitoreo.sqlite"

    @property
    def docs_dir(self) -> Path:
        return self.root / "data_docs"

    @property
    def airflow_home(self) -> Path:
        # Tests pin the session's Airflow home: an ORM engine already bound to it can't move.
        return self.airflow_home_override or self.root / "airflow"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def secrets_local(self) -> dict[str, str]:
        """Local login password and API signing keys, generated once per data folder (never committed)."""
        path = self.airflow_home / "credenciales_locales.json"
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
        values = {"password": secrets.token_urlsafe(12), "jwt": secrets.token_urlsafe(32),
                  "secret_key": secrets.token_urlsafe(32)}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
        path.chmod(0o600)
        return values

    def login(self) -> tuple[str, str]:
        """The local UI login (simple auth manager): user ``admin`` and its generated password."""
        return LOCAL_USER, self.secrets_local()["password"]

    def env(self) -> dict[str, str]:
        """Environment for Airflow processes (and for in-process ``dag.test()`` in tests)."""
        portal = self.portal
        local = self.secrets_local()
        passwords = self.airflow_home / "simple_auth_manager_passwords.json"
        if not passwords.exists():
            passwords.write_text(json.dumps({LOCAL_USER: local["password"]}), encoding="utf-8")
        conns = {
            "DATOS_GOV_CO": {
                "conn_type": "http",
                "host": "127.0.0.1",
                "port": portal.port if portal else 1,
                "schema": "http",
                "login": PORTAL_USER_LOCAL,
                "password": PORTAL_PASSWORD_LOCAL,
                "extra": {"app_token": APP_TOKEN_LOCAL, "timeout": 30},
            },
            "CASANARE_GOV_CO": {"conn_type": "fs",
                                "extra": {"path": str(self.web_dir), "registro_acceso": str(self.access_log)}},
            "MONITOREO_HISTORIAL": {"conn_type": "generic",
                                    "extra": {"sqlalchemy_url": f"sqlite:///{self.monitoring_db}"}},
            "SMTP_DEFAULT": {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": self.smtp.port if self.smtp else 8025,
                "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "datos.abiertos@casanare.gov.co"},
            },
            "CLAVE_SEUDONIMIZACION": {"conn_type": "generic", "password": PSEUDONYM_KEY_LOCAL},
            # The platform's own API: the closing task writes the run note through it.
            "AIRFLOW_API": {"conn_type": "http", "host": "127.0.0.1", "port": self.api_port, "schema": "http",
                            "login": LOCAL_USER, "password": local["password"]},
        }
        for name, url in self.sql_urls.items():
            conns[name.upper()] = {"conn_type": "generic", "extra": {"sqlalchemy_url": url}}
        env = {f"AIRFLOW_CONN_{k}": json.dumps(v) for k, v in conns.items()}
        env.update(
            # `airflow standalone` starts its components as `airflow …` found on PATH.
            PATH=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "/usr/bin:/bin")]),
            AIRFLOW_HOME=str(self.airflow_home),
            AIRFLOW__CORE__DEFAULT_TIMEZONE=TIMEZONE,
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{LOCAL_USER}:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
            AIRFLOW__API_AUTH__JWT_SECRET=local["jwt"],
            AIRFLOW__API__SECRET_KEY=local["secret_key"],
            AIRFLOW__API__BASE_URL=self.api_url,
            AIRFLOW__API__PORT=str(self.api_port),
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.api_url}/execution/",
            AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(self.log_ports[0]),
            AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(self.log_ports[1]),
            # Two cores: a few task processes at a time keep memory and the machine responsive.
            AIRFLOW__CORE__PARALLELISM="4",
            AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL="10",
            CASANARE_AIRFLOW_URL=self.api_url,
            AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT="120",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{self.airflow_home / 'airflow.db'}",
            AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(self.airflow_home / "logs"),
            PYTHONPATH=os.pathsep.join([str(ROOT / "plugins"), str(ROOT)]),
            CASANARE_SOURCE_BASE=str(self.fuentes),
            CASANARE_STAGING_URL=self.staging_url,
            CASANARE_DATA_DOCS_DIR=str(self.docs_dir),
            CASANARE_RETRY_DELAY_S="1",
            GX_ANALYTICS_ENABLED="false",
            NO_PROXY="127.0.0.1,localhost",
        )
        if self.web:
            env["CASANARE_WEBSITE_PUBLIC_URL"] = self.web.url
            env["CASANARE_DATA_DOCS_URL"] = f"{self.web.url}/data-docs"
        if portal:
            env["CASANARE_PORTAL_PUBLIC_URL"] = portal.url
        return env

    def stop(self) -> None:
        for handle in (self.portal, self.smtp, self.web):
            if handle is not None:
                handle.stop()


def start_airflow(env: LocalEnv, *command: str, log: Path | None = None) -> subprocess.Popen:
    """Start ``airflow <command>`` in its own process group (so every child stops with it)."""
    out = open(log or os.devnull, "ab")  # noqa: SIM115 - handed to the child
    return subprocess.Popen(
        [str(VENV_BIN / "airflow"), *command], env={**os.environ, **env.env()},
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )


def wait_api(env: LocalEnv, process: subprocess.Popen | None = None, timeout: float = 240) -> None:
    """Wait until the API server answers its health check."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"airflow terminó con código {process.returncode} antes de responder")
        try:
            with urllib.request.urlopen(f"{env.api_url}/api/v2/monitor/health", timeout=3) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"la API de Airflow no respondió en {env.api_url}")


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the whole process group, then SIGKILL what is left."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def generate_sources(env: LocalEnv, filas: int, semilla: int, sql_urls: dict[str, str] | None = None) -> None:
    """Create the sample sources (once) and remember the SQL connection URLs."""
    from casanare.catalog import FuenteSQL, load_catalog
    from scripts.generar_fuentes import generar

    catalog = load_catalog()
    paths = generar(env.fuentes, filas=filas, semilla=semilla, sql_urls=sql_urls)
    for ds in catalog.priorizados:
        if isinstance(ds.fuente, FuenteSQL):
            name = ds.fuente.conexion
            if sql_urls and name in sql_urls:
                env.sql_urls[name] = sql_urls[name]
            else:
                env.sql_urls[name] = f"sqlite:///{Path(paths[ds.slug]).resolve()}"


def start_standins(env: LocalEnv, *, portal_port: int = 0, smtp_port: int = 0, web_port: int = 0) -> None:
    from standins.smtp_server import start_smtp
    from standins.soda_portal import start_portal
    from standins.web_server import start_web

    env.root.mkdir(parents=True, exist_ok=True)
    # Empty, like a portal that has never seen these datasets: the first publication creates
    # each one through the production code path (DSMAPI).
    env.portal = start_portal(env.root / "portal", port=portal_port, app_token=APP_TOKEN_LOCAL,
                              username=PORTAL_USER_LOCAL, password=PORTAL_PASSWORD_LOCAL)
    env.smtp = start_smtp(env.mail_dir, port=smtp_port)
    # The Data Docs site is served next to the website, as operators and e-mails link to it.
    env.web = start_web(env.web_dir, port=web_port, access_log=env.access_log, mounts={"/data-docs": env.docs_dir})


def migrate_airflow(env: LocalEnv) -> None:
    env.airflow_home.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(VENV_BIN / "airflow"), "db", "migrate"],
        env={**os.environ, **env.env()}, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    # Pool capping concurrent calls to datos.gov.co (the publish tasks use it).
    subprocess.run(
        [str(VENV_BIN / "airflow"), "pools", "set", "datos_gov_co", "2", "Llamadas concurrentes a datos.gov.co"],
        env={**os.environ, **env.env()}, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
