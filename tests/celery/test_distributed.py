"""A real distributed run: CeleryExecutor, PostgreSQL metadata DB, Redis broker, two workers.

Every component is a separate local process (the same topology as docker-compose.yaml, without
Docker): api-server, scheduler, dag-processor, triggerer and two Celery workers. Every
prioritized DAG is unpaused and triggered through the REST API; the test waits for every run,
requires all of them to succeed, requires tasks to have run on both workers (hostnames recorded
in the metadata DB), and stops every process it started.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import ensure_service

pytestmark = [pytest.mark.celery, pytest.mark.timeout(900)]

WORKERS = ("trabajador1", "trabajador2")


@pytest.fixture(scope="module")
def entorno(tmp_path_factory):
    """Own sources, stand-ins and staging, so other suites' state (portal, snapshots) is untouched."""
    from scripts.entorno_local import LocalEnv, generate_sources, start_standins

    ensure_service(5432)
    ensure_service(6379)
    env = LocalEnv(tmp_path_factory.mktemp("celery") / "entorno")
    generate_sources(env, filas=300, semilla=2026)
    start_standins(env)
    yield env
    env.stop()


def _failed_stages(env, runs: dict[str, str], tasks: list[dict]) -> list[str]:
    """Which stage failed in each failed run and why (typed errors never carry data values)."""
    from casanare.staging import RunArea

    lines = []
    for task in tasks:
        if task["state"] in {"success", "skipped"}:
            continue
        area = RunArea(env.staging_url, task["dag_id"], runs[task["dag_id"]])
        error = (area.stage(task["task_id"]) or {}).get("error") or {}
        lines.append(
            f"{task['dag_id']}.{task['task_id']}: estado={task['state']} host={task['hostname']} "
            f"causa={error.get('causa')} tipo={error.get('tipo')} mensaje={error.get('mensaje')}"
        )
    return lines


def test_every_dag_runs_on_two_celery_workers(entorno, tmp_path: Path) -> None:
    from casanare.catalog import load_catalog
    from casanare.factory import build_dag
    from scripts.topologia_local import TopologiaCelery, ejecutar_todo

    datasets = load_catalog().priorizados
    dag_ids = [d.slug for d in datasets]
    assert dag_ids, "el catálogo no tiene conjuntos priorizados"
    # What each run must have executed: every task its DAG declares (derived, not hard-coded).
    expected = {ds.slug: set(build_dag(ds).task_ids) for ds in datasets}
    topo = TopologiaCelery(entorno, tmp_path / "topologia", trabajadores=len(WORKERS), concurrencia=2)
    result = None
    try:
        topo.preparar()
        topo.arrancar()
        result = ejecutar_todo(topo, dag_ids, timeout=660)
    except BaseException:
        print(topo.registros())
        raise
    finally:
        left = topo.detener()
        topo.borrar_base()

    assert left == [], f"procesos que siguieron vivos tras detener: {left}"
    runs, states, tasks = result["ejecuciones"], result["estados"], result["tareas"]
    report = _failed_stages(entorno, runs, tasks)
    if set(states) != set(dag_ids) or any(s != "success" for s in states.values()):
        print(topo.registros())
    assert set(states) == set(dag_ids), f"ejecuciones sin registrar o sin terminar: {set(dag_ids) - set(states)}"
    assert states == dict.fromkeys(dag_ids, "success"), "\n".join(report)

    # Every task of every run was executed by one of the two workers, and both took work.
    per_host = Counter(t["hostname"] for t in tasks)
    assert set(per_host) <= set(WORKERS), per_host
    assert all(per_host[w] > 0 for w in WORKERS), f"tareas por trabajador: {dict(per_host)}"
    ran: dict[str, list[str]] = {}
    for t in tasks:
        ran.setdefault(t["dag_id"], []).append(t["task_id"])
    assert {d: sorted(ids) for d, ids in ran.items()} == {d: sorted(ids) for d, ids in expected.items()}
    assert all(t["state"] == "success" for t in tasks), "\n".join(report)

    # The closing task reached this deployment's API server (connection airflow_api) from a worker.
    notes = result["notas"]
    assert set(notes) == set(dag_ids) and all(notes.values()), f"ejecuciones sin nota: {set(dag_ids) - set(notes)}"

    # The runs left their manifests in the shared staging, written by different hosts.
    from casanare.staging import RunArea

    for dag_id, run_id in runs.items():
        manifest = RunArea(entorno.staging_url, dag_id, run_id).read_json("manifest.json")
        assert manifest and manifest.get("resultado") == "exito", dag_id
    assert os.environ.get("AIRFLOW__CORE__EXECUTOR") != "CeleryExecutor"  # the session stays embedded
