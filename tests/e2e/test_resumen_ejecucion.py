"""End of every run, for real: the DAG run note through the REST API, the status page, the quality
report, the e-mail's "what happens next", and a corrected source file queuing a new run by itself.

An ``airflow api-server`` runs against the session's metadata DB (the closing ``resumir`` task
writes the note through it, as in production); the DAG runs in-process with ``dag.test()``.
Every link the note, the status page and the e-mail produce is opened and must answer 200.
"""

from __future__ import annotations

import re
import urllib.request

import pytest
import requests

from casanare.catalog import load_catalog
from tests.conftest import ROOT, task_states
from tests.e2e.test_extract_vigilancia import clear_queue, queued_runs, set_paused

pytestmark = pytest.mark.e2e
SLUG = "vacunacion_pai"
SHEET = "Vacunados"
CELL = "K20"  # "Biológico" of a data row of the generated workbook


@pytest.fixture(scope="module")
def api(local_env, tmp_path_factory):
    from casanare.airflow_api import AirflowApi
    from scripts.entorno_local import start_airflow, stop_process, wait_api

    proc = start_airflow(local_env, "api-server", log=tmp_path_factory.mktemp("api") / "api.log")
    try:
        wait_api(local_env, proc)
        yield AirflowApi(local_env.api_url, *local_env.login())
    finally:
        stop_process(proc)


def run(slug: str):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag(slug)
    dag_run = dag.test()
    return dag_run.run_id, task_states(dag_run)


def links_in(text: str) -> list[str]:
    return sorted(set(re.findall(r"https?://[^\s\"'<>)\]]+", text)))


def assert_all_answer(urls: list[str]) -> None:
    for url in urls:
        with urllib.request.urlopen(url, timeout=30) as resp:  # follows the portal's /d/ redirect
            assert resp.status == 200, url


def test_success_writes_the_note_and_every_link_answers(local_env, api):
    run_id, states = run(SLUG)
    assert set(states.values()) == {"success"}, states
    note = api.dag_run(SLUG, run_id)["note"]
    assert note.startswith("**Ejecución exitosa** · ") and "(hora de Colombia)" in note
    assert re.search(r"Filas leídas de la fuente:\*\* \d+", note)
    assert "puntaje MinTIC" in note and "**datos.gov.co:**" in note and "**casanare.gov.co:**" in note
    urls = links_in(note)
    assert any("/seguimiento/" in u for u in urls) and any("/calidad/" in u for u in urls)
    assert any("/d/" in u for u in urls)
    assert_all_answer(urls)
    # The status page and the quality report: their own links answer too, and no data value shows.
    status = requests.get(next(u for u in urls if "/seguimiento/" in u), timeout=30).text
    assert "Publicado con éxito" in status and "Próxima ejecución programada" in status
    report_url = next(u for u in urls if "/calidad/" in u)
    report = requests.get(report_url, timeout=30).text
    assert "Informe de calidad" in report and "Cumple" in report
    base = local_env.web.url
    page_links = [u if u.startswith("http") else base + u
                  for u in re.findall(r'href="(/[^"]+|https?://[^"]+)"', status + report)]
    assert_all_answer([u for u in page_links if u.startswith("http")])
    # The Data Docs (linked from the status page) are served over HTTP and load nothing from the internet.
    docs_url = next(u for u in page_links if "/data-docs/" in u)
    docs = requests.get(docs_url, timeout=30).text
    assert not re.search(r'src="https?://|<link[^>]*href="https?://', docs), "Data Docs cargan recursos externos"


def test_source_failure_note_mail_status_and_corrected_file_requeues(local_env, api):
    import openpyxl

    ds = load_catalog().get(SLUG)
    path = ds.fuente.ruta_absoluta()
    original = path.read_bytes()
    local_env.smtp.clear()
    book = openpyxl.load_workbook(path)
    book[SHEET][CELL] = "Vacuna inventada"
    book.save(path)
    try:
        run_id, states = run(SLUG)
        # Allowed values are checked on the source, at extraction (before any privacy transform).
        assert states["extraer"] == "failed" and states["resumir"] == "success", states
        assert api.dag_run(SLUG, run_id)["state"] == "failed"  # the teardown does not hide the failure
        note = api.dag_run(SLUG, run_id)["note"]
        assert note.startswith("**Ejecución fallida** en la etapa *lectura de la fuente*"), note
        assert "Calidad de datos" in note or "calidad de datos" in note
        assert 'hoja "Vacunados", fila 20, columna biologico' in note
        assert "Avisados por correo:** " + str(ds.contactos[0]) in note
        assert "vuelve a ejecutar el conjunto sola" in note
        # The e-mail links the status page (opens without Airflow) and says what happens next.
        from casanare.notify import PREFIJO_COPIA

        (mail,) = [m for m in local_env.smtp.messages() if not m["Subject"].startswith(PREFIJO_COPIA)]
        text = mail.get_body(preferencelist=("plain",)).get_content()
        assert str(ds.contactos[0]) in mail["To"] and not mail["Cc"]
        assert "Qué pasa después" in text and "vuelve a ejecutar el conjunto sola" in text
        assert "hora de Colombia" in text and "+00:00" not in text.split("Ejecución:")[1].splitlines()[0]
        status_url = next(u for u in links_in(text) if "/seguimiento/" in u)
        status = requests.get(status_url, timeout=30).text
        assert "Falló" in status and "Cómo corregirlo" in status and "se vuelve a ejecutar solo" in status
        # Every link of the dependencia's e-mail opens without Airflow and answers.
        assert_all_answer(links_in(text))

        # The dependencia saves a corrected file: the watcher queues the dataset's DAG by itself.
        set_paused(SLUG, False)
        clear_queue(SLUG)
        path.write_bytes(original)
        states = task_states_of_watcher()
        assert states[f"revisar_{SLUG}"] == "success", states
        assert queued_runs(SLUG) == 1
        # Seen once: the next check does not queue it again.
        states = task_states_of_watcher()
        assert states[f"revisar_{SLUG}"] == "skipped", states
        assert queued_runs(SLUG) == 1
    finally:
        path.write_bytes(original)
        set_paused(SLUG, True)
        clear_queue(SLUG)


def task_states_of_watcher() -> dict[str, str]:
    return run("vigilancia_fuentes")[1]


def test_portal_dataset_page_answers_like_datos_gov_co(local_env):
    from casanare.publish.portal import portal_dataset_id
    from tests.conftest import run_dag

    ds = load_catalog().get(SLUG)
    if portal_dataset_id(ds) is None:  # the portal starts empty: the first publication creates it
        run_dag(SLUG)
    dataset_id = portal_dataset_id(ds)
    resp = requests.get(f"{local_env.portal.url}/d/{dataset_id}", timeout=30, allow_redirects=False)
    assert resp.status_code == 302
    page = requests.get(local_env.portal.url + resp.headers["Location"], timeout=30)
    assert page.status_code == 200 and dataset_id in page.text
    assert requests.get(f"{local_env.portal.url}/d/zzzz-9999", timeout=30).status_code == 404

