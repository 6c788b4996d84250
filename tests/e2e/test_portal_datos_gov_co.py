"""datos.gov.co from an empty portal, through the DAG: creation, schema guard and errors by cause.

The session portal starts empty (no seed): the first run of a DAG creates its dataset through
DSMAPI. Failures that only the platform team can fix (wrong credentials, a column with data that
the catalog stopped publishing) send ONE e-mail to the platform team and none to the dependencia,
and leave the portal exactly as it was.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from casanare import settings
from casanare.catalog import load_catalog
from casanare.publish.portal import portal_dataset_id
from tests.conftest import last_run_area, restored_environ, run_dag

pytestmark = pytest.mark.e2e

SLUG = "red_vial_departamental"
ROOT = Path(__file__).resolve().parents[2]
_EDITS = itertools.count()
SODA_TYPES = {"texto": "text", "entero": "number", "decimal": "number", "fecha": "calendar_date",
              "fecha_hora": "calendar_date", "booleano": "checkbox"}


@pytest.fixture(scope="module")
def created(local_env) -> str:
    """The dataset exists on the portal after a normal run (created now, or by an earlier test)."""
    states = run_dag(SLUG)
    assert set(states.values()) == {"success"}, states
    dataset_id = portal_dataset_id(load_catalog().get(SLUG))
    assert dataset_id
    return dataset_id


@pytest.fixture
def changed_sources(local_env, tmp_path) -> Iterator[Path]:
    """A copy of the sources where one road changed its state: the next run has a real delta."""
    import openpyxl

    sources = tmp_path / "fuentes"
    shutil.copytree(local_env.fuentes, sources)
    path = sources / "infraestructura" / "red_vial_departamental.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book["Red vial"]
    column = next(c.column for c in sheet[1] if str(c.value).strip().lower() == "estado")
    cell = sheet.cell(row=2 + next(_EDITS), column=column)  # another road each time: always a new delta
    cell.value = "Regular" if cell.value != "Regular" else "Malo"
    book.save(path)
    with restored_environ(CASANARE_SOURCE_BASE=str(sources)):
        yield sources


def _view(env, dataset_id: str) -> dict:
    return requests.get(f"{env.portal.url}/api/views/{dataset_id}.json", timeout=30).json()


def _count(env, dataset_id: str) -> int:
    rows = requests.get(f"{env.portal.url}/resource/{dataset_id}.json", params={"$select": "count(*) AS n"},
                        timeout=30).json()
    return int(rows[0]["n"])


def test_created_with_the_catalog_columns_types_and_row_identifier(local_env, created, changed_sources) -> None:
    ds = load_catalog().get(SLUG)
    view = _view(local_env, created)
    assert {c["fieldName"]: c["dataTypeName"] for c in view["columns"]} == {
        c.nombre_salida: SODA_TYPES[c.tipo_salida] for c in ds.columnas_publicadas}
    assert {c["fieldName"]: c["name"] for c in view["columns"]} == {
        c.nombre_salida: c.titulo_visible for c in ds.columnas_publicadas}
    assert view["metadata"]["rowIdentifier"] == ds.datos_gov_co.identificador_fila
    assert ds.etiqueta_portal in view["tags"] and view["publicationStage"] == "published"
    datos = view["metadata"]["custom_fields"]["Información de Datos"]
    assert datos["Fecha Emisión (aaaa-mm-dd)"] and datos["URL Documentación"].endswith(
        f"/conjuntos/{ds.casanare_gov_co.ruta}/")
    # Exactly one dataset carries the tag: later runs update it, never create another.
    tagged = requests.get(f"{local_env.portal.url}/api/catalog/v1", params={"tags": ds.etiqueta_portal},
                          timeout=30).json()
    assert [r["resource"]["id"] for r in tagged["results"]] == [created]
    # The next run is an incremental update of the same dataset.
    assert set(run_dag(SLUG).values()) == {"success"}
    stage = last_run_area(local_env.staging_url, SLUG).read_json("manifest.json")["etapas"]["publicar_datos_gov_co"]
    assert stage["dataset_id"] == created and stage["origen_id"] == "estado"
    assert stage["esquema"]["resultado"] == "sin_cambios" and stage["modo"] == "incremental"
    assert stage["diff"]["cambiadas"] == 1 and stage["diff"]["metodo"] == "soda"  # one row, one request


@pytest.fixture
def mails(local_env) -> Iterator:
    local_env.smtp.clear()
    yield local_env.smtp
    local_env.smtp.clear()


def _only_platform_mail(smtp, ds) -> None:
    messages = smtp.messages()
    assert len(messages) == 1, [m["Subject"] for m in messages]
    message = messages[0]
    recipients = " ".join(str(message.get(h) or "") for h in ("To", "Cc", "Bcc"))
    for contact in ds.contactos:
        assert str(contact) not in recipients
    assert all(addr in recipients for addr in settings.platform_team_emails())


def test_wrong_credentials_mail_the_platform_team_only(local_env, created, mails, changed_sources) -> None:
    ds = load_catalog().get(SLUG)
    rows, writes = _count(local_env, created), local_env.portal.stats()["writes_applied"]
    conn = json.loads(local_env.env()["AIRFLOW_CONN_DATOS_GOV_CO"])
    conn["password"] = "clave-equivocada"
    with restored_environ(AIRFLOW_CONN_DATOS_GOV_CO=json.dumps(conn)):
        states = run_dag(SLUG)
    assert states["publicar_datos_gov_co"] == "failed", states
    _only_platform_mail(mails, ds)
    body = mails.messages()[0].get_body(("plain",)).get_content()
    assert "credenciales" in body and "datos_gov_co" in body and "logged in" in body
    assert _count(local_env, created) == rows and local_env.portal.stats()["writes_applied"] == writes


def test_a_dropped_column_with_data_needs_the_catalog_flag(local_env, created, mails, tmp_path,
                                                          changed_sources) -> None:
    catalog = tmp_path / "catalogo"
    shutil.copytree(ROOT / "include" / "catalog", catalog)
    path = catalog / f"{SLUG}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for column in data["columnas"]:
        if column["nombre"] == "nombre_via":
            column["regla"] = "eliminar"  # no longer published, but the portal column holds data
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    ds = load_catalog().get(SLUG)
    writes = local_env.portal.stats()["writes_applied"]
    with restored_environ(CASANARE_CATALOG_DIR=str(catalog)):
        states = run_dag(SLUG)
    assert states["publicar_datos_gov_co"] == "failed", states
    _only_platform_mail(mails, ds)
    body = mails.messages()[0].get_body(("plain",)).get_content()
    assert "nombre_via" in body and "columnas_retiradas" in body
    assert local_env.portal.stats()["writes_applied"] == writes
    assert "nombre_via" in {c["fieldName"] for c in _view(local_env, created)["columns"]}
