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


@pytest.fixture(scope="module")
def all_published(local_env):
    """Every prioritized DAG run once (what `make run` does, in-process); shared by the checks below."""
    return local_env, {ds.slug: run_dag(ds.slug) for ds in load_catalog().priorizados}


def test_all_prioritized_dags_publish(all_published):
    """Every prioritized DAG succeeds and shows rows on the portal."""
    env, states = all_published
    for ds in load_catalog().priorizados:
        assert set(states[ds.slug].values()) == {"success"}, (ds.slug, states[ds.slug])
        assert portal_rows(env, portal_dataset_id(ds)), ds.slug


# How each catalog type must be printed (issue 12): `21` never `21.0`, money without `.0`,
# `fecha` a date in the downloads, a timestamp only for `fecha_hora`, codes as text.
_INT = r"-?\d+"
_NUMBER = r"-?\d+(\.\d*[1-9])?"
_DATE = r"\d{4}-\d{2}-\d{2}"
_DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000"
DOWNLOAD_TEXT = {"entero": _INT, "decimal": _NUMBER, "fecha": _DATE, "fecha_hora": _DATETIME,
                 "booleano": "true|false"}
# datos.gov.co serves every value as a JSON string and both date types as floating timestamps.
PORTAL_TEXT = {**DOWNLOAD_TEXT, "fecha": _DATE + r"T00:00:00\.000", "texto": r"(?s).*"}


def _json_cells(raw: bytes) -> list[dict]:
    """The JSON download with each number kept as its literal text, tagged int or float."""
    return json.loads(raw.decode("utf-8"), parse_int=lambda s: ("int", s), parse_float=lambda s: ("float", s))


def _xlsx_cells(raw: bytes) -> list[dict[str, tuple[str, str]]]:
    """Data rows of the XLSX as {header: (cell attributes, raw <v>/<t> text)}, from the sheet XML itself."""
    import io
    import re
    import zipfile

    xml = zipfile.ZipFile(io.BytesIO(raw)).read("xl/worksheets/sheet1.xml").decode("utf-8")
    rows = re.findall(r"<row r=\"(\d+)\">(.*?)</row>", xml, re.S)
    cell = re.compile(r'<c r="([A-Z]+)\d+"([^>]*)>(?:<v>(.*?)</v>|<is><t[^>]*>(.*?)</t></is>)</c>', re.S)
    header = {col: text for col, _, _, text in cell.findall(rows[0][1])}
    return [{header[col]: (attrs, v or t) for col, attrs, v, t in cell.findall(body)} for _, body in rows[1:]]


def test_downloads_and_portal_print_every_column_as_its_catalog_type(all_published):
    """Every column of every sample dataset, in CSV, JSON, XLSX and the portal rows."""
    import csv
    import io
    import re

    env, _ = all_published
    problems: list[str] = []

    def check(where: str, column: str, values: list, pattern: str) -> None:
        bad = [v for v in values if not re.fullmatch(pattern, v)]
        if bad:
            problems.append(f"{where} {column}: {bad[:3]}")

    for ds in load_catalog().priorizados:
        tipos = {c.nombre_salida: c.tipo_salida for c in ds.columnas_publicadas}
        base = f"{env.web.url}/conjuntos/{ds.casanare_gov_co.ruta}"
        fetched = {f: requests.get(f"{base}/datos.{f}", timeout=30) for f in ("csv", "json", "xlsx")}
        assert all(r.status_code == 200 for r in fetched.values()), (ds.slug, fetched)
        csv_rows = list(csv.DictReader(io.StringIO(fetched["csv"].content.decode("utf-8-sig"))))
        json_rows = _json_cells(fetched["json"].content)
        xlsx_rows = _xlsx_cells(fetched["xlsx"].content)
        api_rows = portal_rows(env, portal_dataset_id(ds))
        assert len(csv_rows) == len(json_rows) == len(xlsx_rows) == len(api_rows) > 0, ds.slug
        assert list(csv_rows[0]) == list(tipos), ds.slug
        for column, tipo in tipos.items():
            where = f"{ds.slug} ({tipo})"
            csv_values = [r[column] for r in csv_rows if r[column] != ""]
            json_values = [r[column] for r in json_rows if r[column] is not None]
            xlsx_values = [r[column] for r in xlsx_rows if column in r]
            api_values = [r[column] for r in api_rows if column in r]
            assert csv_values and json_values and xlsx_values and api_values, f"{where} {column}: vacía"
            assert len(csv_values) == len(json_values) == len(xlsx_values) == len(api_values), (where, column)
            if tipo == "texto":  # codes included: a string in JSON, an inline string in the XLSX
                if any(not isinstance(v, str) for v in json_values):
                    problems.append(f"JSON {where} {column}: no es texto")
                if any("inlineStr" not in attrs for attrs, _ in xlsx_values):
                    problems.append(f"XLSX {where} {column}: no es texto")
                if sorted(csv_values) != sorted(json_values):
                    problems.append(f"CSV/JSON {where} {column}: textos distintos")
            else:
                check(f"CSV {where}", column, csv_values, DOWNLOAD_TEXT[tipo])
                if tipo in ("entero", "decimal"):
                    if not all(isinstance(v, tuple) for v in json_values):  # a number, never a string
                        problems.append(f"JSON {where} {column}: {json_values[:3]}")
                        json_values = [v for v in json_values if isinstance(v, tuple)]
                    if tipo == "entero" and {kind for kind, _ in json_values} != {"int"}:
                        problems.append(f"JSON {where} {column}: {json_values[:3]}")
                    check(f"JSON {where}", column, [text for _, text in json_values], DOWNLOAD_TEXT[tipo])
                    check(f"XLSX {where}", column, [v for _, v in xlsx_values], DOWNLOAD_TEXT[tipo])
                    if any(attrs.strip() for attrs, _ in xlsx_values):
                        problems.append(f"XLSX {where} {column}: no es celda numérica")
                elif tipo in ("fecha", "fecha_hora"):
                    check(f"JSON {where}", column, json_values, DOWNLOAD_TEXT[tipo])
                    style = 's="1"' if tipo == "fecha" else 's="2"'
                    if any(style not in attrs for attrs, _ in xlsx_values):
                        problems.append(f"XLSX {where} {column}: estilo de fecha incorrecto")
                    serial = _INT if tipo == "fecha" else _NUMBER
                    check(f"XLSX {where}", column, [v for _, v in xlsx_values], serial)
                else:
                    check(f"JSON {where}", column, [str(v).lower() for v in json_values], DOWNLOAD_TEXT[tipo])
            check(f"portal {where}", column, [str(v) for v in api_values], PORTAL_TEXT[tipo])
    assert problems == []


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
