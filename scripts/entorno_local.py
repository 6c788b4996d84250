"""The embedded default: sample sources, local stand-ins and the Airflow settings pointing at them.

Shared by ``make run``, ``make up`` and the test-suite, so the tests exercise exactly what a
newcomer runs. Production uses the same code with other connections.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


@dataclass
class LocalEnv:
    """Folders, running stand-ins and environment of one embedded deployment."""

    root: Path
    portal: Any = None
    smtp: Any = None
    web: Any = None
    sql_urls: dict[str, str] = field(default_factory=dict)
    airflow_home_override: Path | None = None

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

    def env(self) -> dict[str, str]:
        """Environment for Airflow processes (and for in-process ``dag.test()`` in tests)."""
        portal = self.portal
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
        }
        for name, url in self.sql_urls.items():
            conns[name.upper()] = {"conn_type": "generic", "extra": {"sqlalchemy_url": url}}
        env = {f"AIRFLOW_CONN_{k}": json.dumps(v) for k, v in conns.items()}
        env.update(
            AIRFLOW_HOME=str(self.airflow_home),
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
        if portal:
            env["CASANARE_PORTAL_PUBLIC_URL"] = portal.url
        return env

    def stop(self) -> None:
        for handle in (self.portal, self.smtp, self.web):
            if handle is not None:
                handle.stop()


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
    env.web = start_web(env.web_dir, port=web_port, access_log=env.access_log)


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
