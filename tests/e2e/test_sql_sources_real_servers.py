"""The SQL-sourced DAGs run unchanged on the real PostgreSQL and MariaDB of the machine."""

from __future__ import annotations

import json

import pytest

from casanare.catalog import FuenteSQL, load_catalog
from casanare.staging import DatasetArea, RunArea
from tests.conftest import restored_environ, run_dag

pytestmark = pytest.mark.e2e


def sql_datasets():
    return [d for d in load_catalog().priorizados if isinstance(d.fuente, FuenteSQL)]


@pytest.mark.parametrize("server", ["postgres", "mariadb"])
def test_sql_dags_on_real_server(server, local_env, request, tmp_path):
    from scripts.generar_fuentes import generar

    url = request.getfixturevalue(f"{server}_url")
    datasets = sql_datasets()
    assert datasets, "el catálogo de ejemplo debe tener fuentes SQL"
    urls = {d.fuente.conexion: url for d in datasets}
    # The session's sample (300 rows, seed 2026): matrícula publishes five quasi-identifiers, and on
    # smaller or other random censuses k=5 within the 20 % suppression budget is out of reach (the
    # gate rightly refuses to publish them), which is not what this test is about.
    generar(tmp_path / "fuentes", filas=300, semilla=2026, solo={d.slug for d in datasets}, sql_urls=urls)
    staging = (tmp_path / "staging").as_uri()
    connections = {
        f"AIRFLOW_CONN_{name.upper()}": json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": url}})
        for name in urls
    }
    # A private staging area: the incremental source must do a full first load here.
    with restored_environ(CASANARE_STAGING_URL=staging, **connections):
        for ds in datasets:
            states = run_dag(ds.slug)
            assert set(states.values()) == {"success"}, (server, ds.slug, states)
            last = DatasetArea(staging, ds.slug).last_success()
            manifest = RunArea(staging, ds.slug, last["ejecucion"]).read_json("manifest.json")
            assert manifest["etapas"]["extraer"]["formato"] == "sql"
            assert manifest["etapas"]["extraer"]["filas"] > 0
