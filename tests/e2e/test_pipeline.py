"""End to end on the embedded default: real DAG runs against the stand-ins."""

from __future__ import annotations

import json

import pytest
import requests

from casanare.catalog import load_catalog
from casanare.publish.portal import portal_dataset_id
from casanare.staging import DatasetArea, RunArea
from tests.conftest import run_dag

pytestmark = pytest.mark.e2e
SLUG = "vacunacion_pai"  # xlsx with title rows and a merged two-row header, personal data


def portal_rows(env, dataset_id: str) -> list[dict]:
    response = requests.get(
        f"{env.portal.url}/resource/{dataset_id}.json", params={"$limit": 100000, "$order": ":id"}, timeout=30
    )
    response.raise_for_status()
    return response.json()


@pytest.fixture(scope="module")
def vacunacion_run(local_env):
    states = run_dag(SLUG)
    return local_env, states


def test_every_task_instance_succeeded(vacunacion_run):
    _, states = vacunacion_run
    assert states and set(states.values()) == {"success"}, states


def test_rows_are_on_the_portal(vacunacion_run):
    env, _ = vacunacion_run
    ds = load_catalog().get(SLUG)
    rows = portal_rows(env, portal_dataset_id(ds))
    run = RunArea(env.staging_url, SLUG, DatasetArea(env.staging_url, SLUG).last_success()["ejecucion"])
    published = run.read_parquet("anonimizado.parquet")
    assert len(rows) == len(published) > 0
    row_id = ds.datos_gov_co.identificador_fila
    assert {r[row_id] for r in rows} == {str(v) for v in published[row_id]}
    assert set().union(*(r.keys() for r in rows)) <= set(published.columns)


def test_no_personal_value_reached_the_portal(vacunacion_run):
    from scripts.generar_fuentes import identificadores_originales

    env, _ = vacunacion_run
    ds = load_catalog().get(SLUG)
    dump = json.dumps(portal_rows(env, portal_dataset_id(ds)), ensure_ascii=False).upper()
    originals = identificadores_originales(env.fuentes)
    assert originals, "el generador debe devolver los identificadores originales"
    leaked = [value for value in originals if len(value) >= 5 and value.upper() in dump]
    assert leaked == []
    personal = [c for c in ds.columnas if c.dato_personal in {"cedula", "nombre", "telefono", "correo"}]
    assert personal and not any(c.nombre in dump.lower() and not c.publicada for c in personal)


def test_manifest_records_every_stage(vacunacion_run):
    env, _ = vacunacion_run
    last = DatasetArea(env.staging_url, SLUG).last_success()
    manifest = RunArea(env.staging_url, SLUG, last["ejecucion"]).read_json("manifest.json")
    extract = manifest["etapas"]["extraer"]
    assert len(extract["sha256"]) == 64 and extract["filas"] > 0
    assert set(manifest["filas_por_etapa"]) >= {"extraer", "anonimizar", "validar"}
    assert manifest["etapas"]["validar"]["exito"] is True
    # An earlier module of the session may already have published these very rows: then both
    # publications are skipped together and the manifest says so.
    estados = frozenset(manifest["etapas"][e]["estado"] for e in ("publicar_datos_gov_co", "publicar_casanare_gov_co"))
    assert (manifest["resultado"], estados) in {("exito", frozenset({"ok"})), ("sin cambios", frozenset({"omitido"}))}


def test_website_lists_the_dataset(vacunacion_run):
    env, _ = vacunacion_run
    ds = load_catalog().get(SLUG)
    index = requests.get(f"{env.web.url}/index.html", timeout=10)
    assert index.status_code == 200 and ds.nombre in index.text
    page = requests.get(f"{env.web.url}/conjuntos/{ds.casanare_gov_co.ruta}/index.html", timeout=10)
    assert page.status_code == 200 and "Diccionario de datos" in page.text


def test_all_prioritized_dags_publish(local_env):
    """What `make run` does, in-process: every prioritized DAG succeeds and shows rows on the portal."""
    for ds in load_catalog().priorizados:
        states = run_dag(ds.slug)
        assert set(states.values()) == {"success"}, (ds.slug, states)
        assert portal_rows(local_env, portal_dataset_id(ds)), ds.slug


def test_api_snippets_on_the_page_return_rows_from_the_portal(vacunacion_run):
    """Copy the page's curl command and pandas snippet as a citizen would, and run them."""
    import html
    import re
    import shlex
    import subprocess

    import pandas as pd

    env, _ = vacunacion_run
    ds = load_catalog().get(SLUG)
    page = requests.get(f"{env.web.url}/conjuntos/{ds.casanare_gov_co.ruta}/index.html", timeout=10).text
    # The real run's page carries the preview, the charts and the map (k rule: see the unit tests).
    assert 'id="tabla-vista-previa"' in page and page.count('class="grafico grafico-') >= 3
    assert 'class="grafico grafico-mapa"' in page
    curl = html.unescape(re.search(r'<code id="fragmento-curl">(.*?)</code>', page, re.S).group(1))
    argv = shlex.split(curl)
    assert argv[0] == "curl" and argv[1].startswith(f"{env.portal.url}/resource/{portal_dataset_id(ds)}.json?")
    done = subprocess.run([*argv, "--silent", "--show-error", "--fail"], capture_output=True, timeout=60, check=True)
    rows = json.loads(done.stdout)
    column, value = re.search(r"\?(\w+)=([^&]+)&\$limit=100$", argv[1]).groups()
    assert 0 < len(rows) <= 100 and all(r[column] == value for r in rows)
    snippet = html.unescape(re.search(r'<code id="fragmento-pandas">(.*?)</code>', page, re.S).group(1))
    scope: dict = {}
    exec(snippet.replace("print(datos.head())", ""), scope)  # the citizen's own Python session
    assert isinstance(scope["datos"], pd.DataFrame) and len(scope["datos"]) == len(rows)
    assert set(scope["datos"][column].astype(str)) == {value}
