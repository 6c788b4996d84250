"""Shared fixtures: Airflow home per session, real local services, the embedded stand-ins.

The Airflow environment is set before anything imports ``airflow`` so that in-process
``dag.test()`` uses a throw-away SQLite metadata DB for the test session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SESSION_DIR = Path(tempfile.mkdtemp(prefix="casanare-tests-"))
os.environ.setdefault("AIRFLOW_HOME", str(SESSION_DIR / "airflow"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / "plugins"))
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{SESSION_DIR / 'airflow' / 'airflow.db'}")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "plugins"), str(ROOT)])
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"


def pytest_sessionfinish(session, exitstatus) -> None:
    shutil.rmtree(SESSION_DIR, ignore_errors=True)


@contextmanager
def restored_environ(**updates: str) -> Iterator[None]:
    """Apply ``updates`` and restore os.environ exactly afterwards, whatever the block changed."""
    saved = dict(os.environ)
    os.environ.update(updates)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# Real services ---------------------------------------------------------------------------------

START_COMMANDS = {
    5432: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    3306: "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
    6379: "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no "
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log",
}


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def ensure_service(port: int, timeout: float = 30.0) -> None:
    """Start a machine service (PostgreSQL, MariaDB, Redis) if it is down; skip never."""
    if _port_open(port):
        return
    subprocess.run(START_COMMANDS[port], shell=True, check=False, capture_output=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _port_open(port):
            return
        time.sleep(0.5)
    raise RuntimeError(f"el servicio del puerto {port} no arrancó")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A fresh PostgreSQL database for this session on the machine's real server."""
    import sqlalchemy as sa

    ensure_service(5432)
    name = f"casanare_{os.getpid()}"
    admin = sa.create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def mariadb_url() -> str:
    """A fresh MariaDB database for this session on the machine's real server."""
    import sqlalchemy as sa

    ensure_service(3306)
    name = f"casanare_{os.getpid()}"
    admin = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/test")
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    yield f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    admin.dispose()


# Embedded deployment -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def local_env() -> Iterator:
    """Sample sources, SODA portal, SMTP and website stand-ins, Airflow DB: the ``make run`` setup."""
    from scripts.entorno_local import LocalEnv, free_port, generate_sources, migrate_airflow, start_standins

    # Free API port: another deployment (an engineer's `make up`) may hold 8080 on this machine.
    env = LocalEnv(SESSION_DIR / "entorno", airflow_home_override=SESSION_DIR / "airflow", api_port=free_port())
    generate_sources(env, filas=300, semilla=2026)
    start_standins(env)
    os.environ.update(env.env())
    migrate_airflow(env)
    yield env
    env.stop()


def failure_mail_and_copy(smtp) -> tuple:
    """The one failure e-mail of a run, and the platform team's separate copy of it (or None)."""
    from casanare.notify import PREFIJO_COPIA

    messages = smtp.messages()
    mails = [m for m in messages if not m["Subject"].startswith(PREFIJO_COPIA)]
    copies = [m for m in messages if m["Subject"].startswith(PREFIJO_COPIA)]
    assert len(mails) == 1 and len(copies) <= 1, [m["Subject"] for m in messages]
    return mails[0], (copies[0] if copies else None)


LAST_RUN_IDS: dict[str, str] = {}


def run_dag(slug: str, **conf) -> dict[str, str]:
    """Run one DAG in-process with ``dag.test()`` and return ``{task_id: state}``."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    dag = bag.get_dag(slug)
    assert dag is not None, bag.import_errors
    dag_run = dag.test(run_conf=conf or None)
    LAST_RUN_IDS[slug] = dag_run.run_id
    return task_states(dag_run)


def last_run_area(staging_url: str, slug: str):
    """The staging area of the last ``run_dag(slug)`` of this session.

    Not the last folder by name: other tests write run areas with their own ids
    (``vinculacion__…``), which sort after ``manual__…``.
    """
    from casanare.staging import RunArea

    assert slug in LAST_RUN_IDS, f"{slug} no se ha ejecutado en esta sesión"
    return RunArea(staging_url, slug, LAST_RUN_IDS[slug])


def task_states(dag_run) -> dict[str, str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(TaskInstance.task_id, TaskInstance.state)
            .filter(TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id)
            .all()
        )
    return {task_id: str(getattr(state, "value", state)) for task_id, state in rows}
