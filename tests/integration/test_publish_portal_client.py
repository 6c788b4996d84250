"""The portal client against the stand-in: each fault kind retried, 4xx refused by cause, auth, config."""

from __future__ import annotations

import pandas as pd
import pytest

from casanare.errors import PortalNoDisponible
from casanare.publish.portal.client import PortalClient, PortalConfig
from casanare.publish.portal.errors import CredencialesRechazadas, PublicacionRechazada
from casanare.publish.portal.hook import config_from_connection
from casanare.publish.portal.revision import csv_bytes
from casanare.staging import DatasetArea
from scripts.bench_publicacion import create_dataset, sample_dataset
from standins.soda_portal import start_portal

pytestmark = pytest.mark.integration


CREDENTIALS = {"app_token": "token-prueba", "username": "usuario", "password": "clave-larga"}


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    handle = start_portal(tmp_path_factory.mktemp("soda"), tls=False, **CREDENTIALS)
    # Created through the production path (DSMAPI), as on an empty datos.gov.co.
    handle.ff = create_dataset(PortalConfig(base_url=handle.url, **CREDENTIALS), sample_dataset(),
                               DatasetArea(f"file://{tmp_path_factory.mktemp('staging')}", "prueba_publicacion"))
    yield handle
    handle.stop()


def _parsed(client: PortalClient, source: dict, deadline: float) -> dict:
    """Poll an upload source until the portal parsed it (DSMAPI parses in the background)."""
    import time

    while not (source["resource"]["finished_at"] or source["resource"]["failed_at"]):
        assert time.monotonic() < deadline, "the stand-in never finished parsing the upload"
        time.sleep(0.2)
        source = client.get(source["links"]["show"])
    assert not source["resource"]["failed_at"], source["resource"]["failure_details"]
    return source


def _client(portal, **kw) -> PortalClient:
    values = {**CREDENTIALS, "backoff_base": 0.001, "backoff_max": 0.01, "retry_after_max": 0.01,
              "max_attempts": 6, **kw}
    return PortalClient(PortalConfig(base_url=portal.url, **values))


@pytest.mark.parametrize("kind", ["429", "500", "202", "drop", "drop_after_commit"])
def test_each_fault_kind_is_retried_until_the_write_lands(portal, kind) -> None:
    rows = [{"id_registro": i, "municipio": "Yopal", "valor": float("1.5")} for i in range(1, 11)]
    with _client(portal) as client:
        client.upsert(portal.ff, [{"id_registro": i, ":deleted": True} for i in range(1, 11)])
        # Exactly the first write is faulted, then the portal behaves.
        portal.set_faults(1.0, kinds=[kind], methods=["POST"])
        before = portal.stats()["faults_total"]
        try:
            with _client(portal, max_attempts=1) as once, pytest.raises(PortalNoDisponible):
                once.upsert(portal.ff, rows)
        finally:
            portal.set_faults(0.0)
        assert portal.stats()["faults_total"] == before + 1
        portal.set_faults(0.5, kinds=[kind], seed=4, methods=["POST"])
        try:
            report = client.upsert(portal.ff, rows)
        finally:
            portal.set_faults(0.0)
        assert report.peticiones == 1
        assert client.count(portal.ff, where="id_registro <= 10") == 10


def test_sodapy_would_take_a_202_as_success_but_the_client_does_not(portal) -> None:
    from requests.adapters import HTTPAdapter
    from sodapy import Socrata

    soda = Socrata(portal.domain, "token-prueba", username="usuario", password="clave-larga",
                   session_adapter={"prefix": "http://", "adapter": HTTPAdapter()})
    portal.set_faults(1.0, kinds=["202"], methods=["POST"])
    try:
        soda.upsert(portal.ff, [{"id_registro": 99, "municipio": "Maní"}])  # "succeeds"…
        with _client(portal, max_attempts=2) as client, pytest.raises(PortalNoDisponible):
            client.upsert(portal.ff, [{"id_registro": 99, "municipio": "Maní"}])
    finally:
        portal.set_faults(0.0)
        soda.close()
    with _client(portal) as client:
        assert client.count(portal.ff, where="id_registro = 99") == 0  # …but nothing was written


def test_refusals_and_bad_credentials_are_permanent(portal) -> None:
    with _client(portal) as client, pytest.raises(PublicacionRechazada) as err:
        client.upsert(portal.ff, [{"id_registro": 1, "columna_que_no_existe": 1}])
    assert err.value.detalles["estado_http"] == 400 and not err.value.transitoria
    assert err.value.destinatario == "plataforma" and err.value.detalles["mensaje_portal"]
    with _client(portal) as client, pytest.raises(PublicacionRechazada) as err:
        client.upsert(portal.ff, [{"id_registro": 1, "valor": "no es un número"}])
    assert err.value.detalles["estado_http"] == 400  # number columns refuse text, as on the portal
    for wrong in ({"activo": "quizás"}, {"fecha": "ayer"}, {"fecha": "2024-02-30"}):
        with _client(portal) as client, pytest.raises(PublicacionRechazada):
            client.upsert(portal.ff, [{"id_registro": 1, **wrong}])  # checkbox and date columns too
    for wrong in ({"password": "otra-clave"}, {"username": None, "password": None}):
        with _client(portal, **wrong) as client, pytest.raises(CredencialesRechazadas) as err:
            client.upsert(portal.ff, [{"id_registro": 1}])
        assert err.value.detalles["estado_http"] == 401 and err.value.destinatario == "plataforma"
        assert "datos_gov_co" in err.value.como_corregir and "logged in" in err.value.como_corregir
    with _client(portal, app_token="otro-token") as client, pytest.raises(CredencialesRechazadas) as err:
        client.upsert(portal.ff, [{"id_registro": 1}])
    assert err.value.detalles["estado_http"] == 403


def test_config_from_an_airflow_connection() -> None:
    from airflow.sdk import Connection

    conn = Connection(conn_id="datos_gov_co", conn_type="http", host="www.datos.gov.co", schema="https",
                      login="id-de-api-key", password="secreto-de-api-key",
                      extra='{"app_token": "token", "chunk_size": 2000, "verify": "false", "backoff_base": 0.5,'
                            ' "soda_max_filas": 100}')
    cfg = config_from_connection(conn)
    assert cfg.base_url == "https://www.datos.gov.co" and cfg.domain == "www.datos.gov.co"
    assert (cfg.username, cfg.password, cfg.app_token) == ("id-de-api-key", "secreto-de-api-key", "token")
    assert cfg.chunk_size == 2000 and cfg.verify is False and cfg.backoff_base == 0.5
    assert cfg.soda_max_filas == 100
    local = Connection(conn_id="datos_gov_co", conn_type="http", host="127.0.0.1", port=8765, schema="http",
                       extra='{"ca_bundle": "/tmp/cert.pem"}')
    cfg = config_from_connection(local, chunk_size=10)
    assert cfg.base_url == "http://127.0.0.1:8765" and cfg.verify == "/tmp/cert.pem" and cfg.chunk_size == 10


def test_airflow_hook_owns_the_connection(portal, monkeypatch) -> None:
    import json

    from casanare.publish.portal.hook import get_hook_class

    monkeypatch.setenv("AIRFLOW_CONN_DATOS_GOV_CO", json.dumps({
        "conn_type": "http", "host": "127.0.0.1", "port": portal.port, "schema": "http",
        "login": "usuario", "password": "clave-larga", "extra": {"app_token": "token-prueba", "chunk_size": 7}}))
    hook = get_hook_class()()
    assert hook.socrata_conn_id == "datos_gov_co"
    with hook.get_conn() as client:
        assert client.cfg.chunk_size == 7
        report = client.upsert(portal.ff, [{"id_registro": 500 + i} for i in range(10)])
        assert report.peticiones == 2 and client.count(portal.ff, where="id_registro >= 500") == 10


def test_a_big_upload_is_committed_at_once_and_parsed_in_the_background(portal) -> None:
    """Parsing a big CSV outlasts a request's read timeout, so the commit must not wait for it.

    DSMAPI answers the commit at once and processes the upload asynchronously (socrata-py polls
    the source for its schema). A stand-in that parsed inside the request made the client time
    out, resend the commit and get a 400 for chunks already consumed: the 1M-row first load failed.
    Here a 1 s read timeout plays the part of the 60 s one against a file 5x smaller.
    """
    import time

    filas = 200_000
    data = ("id_registro,municipio,valor\n" + "".join(f"{i},Yopal,{i}.5\n" for i in range(filas))).encode()
    with _client(portal) as client, _client(portal, timeout=1.0, max_attempts=2) as hurried:
        revision = client.open_revision(portal.ff, "update")
        try:
            source = hurried.upload_csv(revision, "grande.csv", data)  # only the upload is hurried
            deadline = time.monotonic() + 120
            source = _parsed(client, source, deadline)
            assert source["resource"]["schemas"][0]["total_rows"] == filas
            # A resent commit (its answer lost) answers the source as it stands, not a 400.
            again = client.dsmapi("POST", source["links"]["commit"].format(seq_num=0, byte_offset=len(data)))
            assert again["resource"]["id"] == source["resource"]["id"]
            # Transforms over every row also run in the background: the answer comes at once.
            schema = source["resource"]["schemas"][0]
            columnas = [{"field_name": c["field_name"], "position": c["position"] + 1, "transform": {
                "transform_expr": f"to_number(`{c['field_name']}`)" if c["field_name"] != "municipio"
                else f"`{c['field_name']}`"}} for c in schema["input_columns"]]
            link = source["links"]["input_schema_links"]["transform"].format(input_schema_id=schema["id"])
            output = hurried.dsmapi("POST", link, {"output_columns": columnas, "sort_bys": []})
            while not output["resource"]["completed_at"]:
                assert time.monotonic() < deadline, "the stand-in never finished the transforms"
                time.sleep(0.2)
                output = client.get(output["links"]["show"])
            assert output["resource"]["error_count"] == 0
        finally:
            client.dsmapi("DELETE", revision["links"]["discard"])  # the module's dataset stays as it was


def test_an_upload_read_from_a_file_arrives_whole_in_chunks(portal, tmp_path) -> None:
    """The revision CSV is uploaded from disk a chunk at a time (3 chunks of 4 MB here)."""
    import time

    from casanare.publish.portal.revision import write_csv_file

    filas = 400_000
    frame = pd.DataFrame({"id_registro": range(filas), "municipio": ["Yopal, Casanare"] * filas,
                          "valor": [i + 0.5 for i in range(filas)]})
    path = tmp_path / "subida.csv"
    size = write_csv_file(frame, path)
    assert size > 8 * 1024 * 1024 and path.read_bytes() == csv_bytes(frame)
    with _client(portal) as client:
        revision = client.open_revision(portal.ff, "update")
        try:
            source = client.upload_csv(revision, path.name, path)
            deadline = time.monotonic() + 120
            source = _parsed(client, source, deadline)
            assert source["resource"]["schemas"][0]["total_rows"] == filas
        finally:
            client.dsmapi("DELETE", revision["links"]["discard"])
