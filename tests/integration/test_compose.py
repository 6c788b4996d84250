"""Structure of the production topology: docker-compose.yaml, Dockerfile and .env.example.

No Docker engine runs here, so the file is checked as data: services, start order, health
checks, mounts, environment, and that every secret comes from a variable documented in
``.env.example`` (which itself holds no real secret).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker")
VAR = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'")
    return values


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    return env if isinstance(env, dict) else dict(item.split("=", 1) for item in env)


def test_all_components_of_the_celery_topology(compose: dict) -> None:
    services = compose["services"]
    expected = {"postgres", "redis", "airflow-init", "flower", "minio", "minio-init", *AIRFLOW_SERVICES}
    assert expected <= set(services)
    commands = {name: services[name].get("command") for name in AIRFLOW_SERVICES}
    assert commands == {
        "airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer",
        "airflow-worker": "celery worker",
    }
    assert services["flower"]["profiles"] == ["flower"]
    assert services["flower"]["command"] == "celery flower"
    # Nothing but flower and the debug CLI is optional: the default "up" starts the whole stack.
    optional = {name for name, svc in services.items() if svc.get("profiles")}
    assert optional == {"flower", "airflow-cli"}


def test_start_order_waits_for_healthy_dependencies(compose: dict) -> None:
    services = compose["services"]
    for name in (*AIRFLOW_SERVICES, "flower"):
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
        assert deps["minio-init"]["condition"] == "service_completed_successfully", name
    # Workers call the Execution API: they start once the api-server answers healthy.
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    assert services["minio-init"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert services["airflow-init"]["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"
    # Every pool a task of the factory uses is created before the scheduler starts.
    factory = (ROOT / "plugins" / "casanare" / "factory.py").read_text(encoding="utf-8")
    init = "\n".join(services["airflow-init"]["command"])
    for pool in set(re.findall(r'pool="([a-z_]+)"', factory)):
        assert f"airflow pools set {pool} " in init, pool


def test_every_long_running_service_has_a_healthcheck(compose: dict) -> None:
    services = compose["services"]
    for name, svc in services.items():
        if name.endswith("-init") or name == "airflow-cli":
            continue
        assert svc.get("healthcheck", {}).get("test"), f"{name} sin healthcheck"
    assert "http://localhost:8080/api/v2/monitor/health" in services["airflow-apiserver"]["healthcheck"]["test"]
    assert "http://localhost:8974/health" in services["airflow-scheduler"]["healthcheck"]["test"]
    assert _env(services["airflow-scheduler"])["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "DagProcessorJob" in " ".join(services["airflow-dag-processor"]["healthcheck"]["test"])
    assert "TriggererJob" in " ".join(services["airflow-triggerer"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["airflow-worker"]["healthcheck"]["test"])


def test_image_is_built_from_the_pinned_dockerfile(compose: dict) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11$", dockerfile, re.M)
    assert "-r /tmp/requirements.txt" in dockerfile
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert "apache-airflow==3.3.2" in requirements.splitlines()
    assert "apache-airflow-providers-celery==" in requirements
    # s3fs releases are cut together with fsspec: the image must pin the same version.
    fsspec = re.search(r"^fsspec==(\S+)$", requirements, re.M).group(1)
    assert f"s3fs=={fsspec}" in dockerfile
    for name in AIRFLOW_SERVICES:
        build = compose["services"][name]["build"]
        assert build["context"] == "." and build["dockerfile"] == "Dockerfile"
        assert (ROOT / build["context"] / build["dockerfile"]).is_file()
    dockerignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in dockerignore and ".venv" in dockerignore


def test_project_code_is_mounted_and_importable(compose: dict) -> None:
    for name in AIRFLOW_SERVICES:
        svc = compose["services"][name]
        mounts = {}
        for volume in svc["volumes"]:
            host, target = re.fullmatch(r"(.+):(/[^:]+)(?::ro|:rw)?", volume).groups()
            mounts[target] = host
        for folder in ("dags", "plugins", "include"):
            host = mounts[f"/opt/airflow/{folder}"]
            assert host == "${AIRFLOW_PROJ_DIR:-.}/" + folder, name
            assert (ROOT / folder).is_dir()
        env = _env(svc)
        assert "/opt/airflow/plugins" in env["PYTHONPATH"].split(":")
        assert env["CASANARE_INCLUDE_DIR"] == "/opt/airflow/include"
        # Folders read or written by several workers are shared mounts, never a container's disk.
        assert env["CASANARE_SOURCE_BASE"] in mounts
        assert env["CASANARE_DATA_DOCS_DIR"] in mounts


def test_distributed_engine_settings(compose: dict) -> None:
    for name in AIRFLOW_SERVICES:
        env = _env(compose["services"][name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
        assert env["AIRFLOW__CELERY__BROKER_URL"].endswith("@redis:6379/0")
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
        # The same signing secrets in every component, from .env (never generated per container).
        for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY"):
            assert VAR.fullmatch(env[key]), f"{name}: {key}"
        assert env["CASANARE_STAGING_URL"].startswith("${CASANARE_STAGING_URL:-s3://")


def test_connections_come_from_env_example(compose: dict, env_example: dict[str, str]) -> None:
    from casanare.catalog import FuenteSQL, load_catalog

    required = {"datos_gov_co", "casanare_gov_co", "smtp_default", "clave_seudonimizacion", "monitoreo_historial"}
    required |= {d.fuente.conexion for d in load_catalog().datasets if isinstance(d.fuente, FuenteSQL)}
    for name in AIRFLOW_SERVICES:
        env = _env(compose["services"][name])
        conns = {k: v for k, v in env.items() if k.startswith("AIRFLOW_CONN_")}
        assert {f"AIRFLOW_CONN_{c.upper()}" for c in required} <= set(conns), name
        for key, value in conns.items():
            match = VAR.fullmatch(value)
            assert match, f"{key} debe venir de una variable ${{…}}, no de un valor fijo"
            assert match.group(1) in env_example, f"{match.group(1)} no está en .env.example"
            assert match.group(2) == ":?", f"{key} debe ser obligatoria (${{VAR:?mensaje}})"


def test_env_example_is_complete_and_holds_no_secret(compose: dict, env_example: dict[str, str]) -> None:
    text = (ROOT / "docker-compose.yaml").read_text(encoding="utf-8")
    required = {m.group(1) for m in VAR.finditer(text) if m.group(2) == ":?"}
    assert required, "el compose no exige ninguna variable"
    assert required <= set(env_example), required - set(env_example)
    secret_words = ("PASSWORD", "SECRET", "FERNET", "KEY")
    for key, value in env_example.items():
        if key.startswith("AIRFLOW_CONN_"):
            conn = json.loads(value)
            assert conn["conn_type"], key
            for field in ("password", "login"):
                if conn.get(field):
                    assert conn[field].startswith("cambiar-"), f"{key}.{field} parece un secreto real"
            token = conn.get("extra", {}).get("app_token")
            assert token is None or token.startswith("cambiar-"), key
        elif any(word in key for word in secret_words):
            assert value.startswith("cambiar-"), f"{key} parece un secreto real"
    gitignore = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in gitignore


def test_portal_connection_fields_match_what_the_code_reads(env_example: dict[str, str]) -> None:
    """The documented datos_gov_co connection resolves to an HTTPS portal with token and keys."""
    import os

    from airflow.models.connection import Connection

    from casanare.connections import portal_config

    conn = Connection(conn_id="datos_gov_co", **json.loads(env_example["AIRFLOW_CONN_DATOS_GOV_CO"]))
    previous = os.environ.get("AIRFLOW_CONN_DATOS_GOV_CO")
    os.environ["AIRFLOW_CONN_DATOS_GOV_CO"] = conn.as_json()
    try:
        config = portal_config()
    finally:
        if previous is None:
            del os.environ["AIRFLOW_CONN_DATOS_GOV_CO"]
        else:
            os.environ["AIRFLOW_CONN_DATOS_GOV_CO"] = previous
    assert config.base_url == "https://www.datos.gov.co:443"
    assert config.app_token == "cambiar-app-token"
    assert config.username == "cambiar-api-key-id"
    assert config.password == "cambiar-api-key-secret"


def test_data_docs_and_status_pages_are_served(compose: dict) -> None:
    services = compose["services"]
    web = services["sitio-web"]
    mounts = {v.split(":")[0]: v.split(":")[1] for v in web["volumes"]}
    assert mounts == {"sitio-web": "/srv/sitio", "data-docs": "/srv/data-docs"}
    conf = compose["configs"]["sitio-nginx"]["content"]
    assert "location /data-docs/ { alias /srv/data-docs/;" in conf and "root /srv/sitio;" in conf
    env = _env(services["airflow-scheduler"])
    assert env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == "America/Bogota"
    assert env["CASANARE_DATA_DOCS_URL"].endswith(":8090/data-docs}")
    assert "AIRFLOW_CONN_AIRFLOW_API" in env
