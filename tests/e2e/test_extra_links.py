"""A successful run: the plugin's extra links resolve for its task instances, assets get events.

The links are read the way the API server reads them (serialized DAG from the metadata DB →
``task.get_extra_links(ti, name)``), and the website link is fetched from the web stand-in.
"""

from __future__ import annotations

import os
import urllib.request

import pytest

from casanare.publish.portal import portal_dataset_id
from tests.conftest import ROOT, task_states

pytestmark = pytest.mark.e2e

SLUG = "vacunacion_pai"
LINKS = ("Data Docs", "Ver en casanare.gov.co", "Ver en datos.gov.co")


def test_plugin_is_loaded_and_casanare_package_is_not_scanned(local_env):
    from airflow import plugins_manager

    names = sorted(link.name for link in plugins_manager.get_global_operator_extra_links())
    assert names == sorted(LINKS)
    plugins, errors = plugins_manager._get_plugins()
    assert [p.name for p in plugins if p.name.startswith("casanare")] == ["casanare_enlaces"]
    assert not errors


@pytest.fixture(scope="module")
def successful_run(local_env):
    """One successful run of the DAG (module-scoped: several checks read it)."""
    from airflow.dag_processing.dagbag import DagBag

    local_env.smtp.clear()
    dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag(SLUG)
    assert dag is not None
    dag_run = dag.test()
    states = task_states(dag_run)
    assert set(states.values()) == {"success"}, states
    assert local_env.smtp.messages() == []  # no failure, no mail
    return dag_run


def _links(dag_run, task_id: str) -> dict[str, str | None]:
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    dag = SerializedDagModel.get_dag(SLUG)
    task = dag.get_task(task_id)
    with create_session() as session:
        ti = (
            session.query(TaskInstance)
            .filter_by(dag_id=SLUG, run_id=dag_run.run_id, task_id=task_id, map_index=-1)
            .one()
        )
        assert sorted(task.extra_links) == sorted(LINKS)
        return {name: task.get_extra_links(ti, name) or None for name in task.extra_links}


def test_publish_links_point_at_the_published_pages(local_env, successful_run):
    from casanare.catalog import load_catalog

    ds = load_catalog().get(SLUG)
    portal = _links(successful_run, "publicar_datos_gov_co")
    assert portal["Ver en datos.gov.co"] == f"{os.environ['CASANARE_PORTAL_PUBLIC_URL']}/d/{portal_dataset_id(ds)}"
    assert portal["Ver en casanare.gov.co"] is None  # offered on the website task only

    site = _links(successful_run, "publicar_casanare_gov_co")
    url = site["Ver en casanare.gov.co"]
    assert url == f"{local_env.web.url}/conjuntos/{ds.casanare_gov_co.ruta}/"
    with urllib.request.urlopen(url, timeout=10) as response:  # the page really is there
        assert response.status == 200
        assert ds.nombre.split(" (")[0] in response.read().decode("utf-8")

    # Every button opens over HTTP (Airflow 3.3 shows no button for file:// links) and answers 200:
    # the portal's /d/<id> like datos.gov.co, the website, and the Data Docs on the web server.
    for links in (portal, site, _links(successful_run, "validar")):
        assert links["Data Docs"] and links["Data Docs"].endswith(".html")
        for name, url in links.items():
            if url is None:
                continue
            assert url.startswith("http://"), (name, url)
            with urllib.request.urlopen(url, timeout=30) as response:
                assert response.status == 200, (name, url)


def test_other_tasks_get_no_links(successful_run):
    assert _links(successful_run, "extraer") == dict.fromkeys(LINKS)


def test_each_publication_emits_an_asset_event(successful_run):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    from casanare.catalog import load_catalog
    from casanare.factory import portal_asset, website_asset

    ds = load_catalog().get(SLUG)
    with create_session() as session:
        events = (
            session.query(AssetModel.uri, AssetEvent.source_task_id)
            .join(AssetEvent, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetEvent.source_run_id == successful_run.run_id)
            .all()
        )
    assert sorted(events) == sorted(
        [(portal_asset(ds).uri, "publicar_datos_gov_co"), (website_asset(ds).uri, "publicar_casanare_gov_co")]
    )


def test_rest_api_serves_the_links(successful_run):
    """The same links through Airflow's own REST endpoint (what the task view calls)."""
    from urllib.parse import quote

    from airflow.api_fastapi.app import create_app, purge_cached_app
    from airflow.configuration import conf
    from fastapi.testclient import TestClient

    previous = conf.get("core", "simple_auth_manager_all_admins", fallback="False")
    conf.set("core", "simple_auth_manager_all_admins", "True")
    purge_cached_app()
    try:
        client = TestClient(create_app("core"))
        run = quote(successful_run.run_id, safe="")
        response = client.get(f"/api/v2/dags/{SLUG}/dagRuns/{run}/taskInstances/publicar_datos_gov_co/links")
        assert response.status_code == 200, response.text
        links = response.json()["extra_links"]
        from casanare.catalog import load_catalog

        dataset_id = portal_dataset_id(load_catalog().get(SLUG))
        assert links["Ver en datos.gov.co"] == f"{os.environ['CASANARE_PORTAL_PUBLIC_URL']}/d/{dataset_id}"
        assert links["Ver en casanare.gov.co"] is None
        assert links["Data Docs"].endswith(".html")
    finally:
        conf.set("core", "simple_auth_manager_all_admins", previous)
        purge_cached_app()
