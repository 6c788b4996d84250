"""DAG integrity: one DAG per prioritized dataset, explained, safe to parse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from casanare.catalog import CRON_POR_FRECUENCIA, load_catalog
from casanare.dag_docs import owner_label

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
EXPECTED_TASKS = {
    "resumir",
    "extraer", "anonimizar", "validar", "publicar_datos_gov_co", "publicar_casanare_gov_co", "cerrar"
}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


@pytest.fixture(scope="module")
def dataset_dags(dagbag):
    return {dag_id: dag for dag_id, dag in dagbag.dags.items() if dag.fileloc.endswith("datasets.py")}


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_dag_ids_equal_prioritized_catalog(dataset_dags):
    catalog = load_catalog()
    assert set(dataset_dags) == {d.slug for d in catalog.priorizados}
    non_prioritized = {d.slug for d in catalog.datasets if not d.priorizado}
    assert non_prioritized, "el catálogo de ejemplo debe tener conjuntos no priorizados"
    assert not non_prioritized & set(dataset_dags)


def test_every_dag_is_explained_and_safe(dataset_dags):
    catalog = load_catalog()
    for dag_id, dag in dataset_dags.items():
        ds = catalog.get(dag_id)
        assert dag.max_active_runs == 1, dag_id
        assert dag.catchup is False, dag_id
        assert dag.doc_md and ds.nombre in dag.doc_md and "Reglas de privacidad" in dag.doc_md, dag_id
        assert ds.dependencia in dag.tags and f"frecuencia:{ds.frecuencia_actualizacion}" in dag.tags, dag_id
        assert ds.categoria in dag.tags, dag_id
        assert ("datos-personales" in dag.tags) == ds.tiene_datos_personales, dag_id
        assert set(dag.task_ids) >= EXPECTED_TASKS, dag_id
        # Spanish name in the UI; owner never split at a comma (the UI splits owners at ",").
        assert dag.dag_display_name == ds.nombre, dag_id
        assert "hora de Colombia" in dag.description, dag_id
        for task in dag.tasks:
            assert task.owner == owner_label(ds.dependencia) and "," not in task.owner, (dag_id, task.task_id)
            assert task.retries >= 2, (dag_id, task.task_id)
            assert task.retry_exponential_backoff, (dag_id, task.task_id)
            assert task.on_failure_callback, (dag_id, task.task_id)


def test_schedules_follow_declared_frequency(dataset_dags):
    catalog = load_catalog()
    for dag_id, dag in dataset_dags.items():
        cron = CRON_POR_FRECUENCIA[catalog.get(dag_id).frecuencia_actualizacion]
        # File sources also run when a corrected file arrives (cron OR the source asset).
        timetable = getattr(dag.timetable, "timetable", dag.timetable)
        if cron is None:
            assert getattr(timetable, "expression", None) is None, dag_id
            continue
        assert timetable.expression == cron, dag_id
        assert str(getattr(timetable.timezone, "name", timetable.timezone)) == "America/Bogota", dag_id


def test_pipeline_order(dataset_dags):
    for dag_id, dag in dataset_dags.items():
        def down(task_id: str, dag=dag) -> set[str]:
            return dag.get_task(task_id).downstream_task_ids - {"resumir"}  # the teardown follows every stage

        assert down("extraer") == {"anonimizar"}, dag_id
        assert down("anonimizar") == {"validar"}, dag_id
        # The website follows the reconciled portal publication: both targets always agree.
        assert down("validar") == {"publicar_datos_gov_co"}
        assert down("publicar_datos_gov_co") == {"publicar_casanare_gov_co"}
        assert dag.get_task("cerrar").upstream_task_ids == {"publicar_casanare_gov_co"}
        assert dag.params["aceptar_cambio_de_volumen"] is False
        # Each stage's report is one XCom, not also one per key (see factory.build_dag).
        assert not [t.task_id for t in dag.tasks if t.multiple_outputs], dag_id


PARSE_PROBE = r"""
import json, os, sys
for key in [k for k in os.environ if k.startswith("AIRFLOW_CONN_")]:
    del os.environ[key]
lookups = []
from airflow.sdk import BaseHook, Connection
def refuse(*args, **kwargs):
    lookups.append(args[1] if len(args) > 1 else kwargs)
    raise RuntimeError("connection lookup during parsing")
BaseHook.get_connection = classmethod(refuse)
Connection.get = classmethod(refuse)
import socket
real_connect = socket.socket.connect
def no_network(self, address):
    raise RuntimeError(f"network call during parsing: {address}")
socket.socket.connect = no_network
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
heavy = [m for m in ("pandas", "great_expectations", "sodapy", "pyarrow", "socrata", "presidio_analyzer")
         if m in sys.modules]
print(json.dumps({"dags": len(bag.dags), "errors": {k: str(v)[:300] for k, v in bag.import_errors.items()},
                  "lookups": len(lookups), "heavy": heavy}))
"""


def test_parsing_makes_no_connection_lookup_network_call_or_heavy_import(tmp_path):
    dags_file = tmp_path / "datasets_only"
    dags_file.mkdir()
    (dags_file / "datasets.py").write_text((ROOT / "dags" / "datasets.py").read_text(encoding="utf-8"))
    result = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, str(dags_file)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}
    assert report["dags"] == len(load_catalog().priorizados)
    assert report["lookups"] == 0
    assert report["heavy"] == []


def test_owner_with_comma_stays_one_owner():
    label = owner_label("Secretaría de Agricultura, Ganadería y Medio Ambiente")
    assert label.split(",") == [label]
    assert label == "Secretaría de Agricultura\u201a Ganadería y Medio Ambiente"


def test_run_summary_is_a_teardown_after_every_stage(dataset_dags):
    for dag_id, dag in dataset_dags.items():
        resumir = dag.get_task("resumir")
        assert resumir.is_teardown, dag_id
        assert set(resumir.upstream_task_ids) == EXPECTED_TASKS - {"resumir"}, dag_id
