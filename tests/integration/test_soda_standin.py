"""Integration tests of the SODA portal stand-in through unmodified sodapy and socrata-py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from sodapy import Socrata

from standins.soda_portal import PortalHandle, start_portal

pytestmark = pytest.mark.integration

TOKEN = "test-app-token"
USER, PASSWORD = "publicador@casanare.gov.co", "s3creto"
CONTRACTS = "abcd-1234"
APPEND = "appe-0001"
SEED: dict[str, Any] = {
    "datasets": [
        {
            "id": CONTRACTS,
            "name": "Contratos",
            "description": "Contratos de la Gobernación",
            "category": "Hacienda y Crédito Público",
            "rowIdentifier": "id_contrato",
            "columns": [
                {"fieldName": "id_contrato", "name": "ID contrato", "dataTypeName": "text"},
                {"fieldName": "valor", "name": "Valor", "dataTypeName": "number"},
                {"fieldName": "fecha", "name": "Fecha", "dataTypeName": "calendar_date"},
                {"fieldName": "activo", "name": "Activo", "dataTypeName": "checkbox"},
                {"fieldName": "municipio", "name": "Municipio", "dataTypeName": "text"},
            ],
            "metadata": {
                "custom_fields": {
                    "Información de la Entidad": {"Departamento": "Casanare", "Municipio": "Yopal"},
                    "Información de Datos": {"Frecuencia de Actualización": "Mensual"},
                }
            },
            "tags": ["casanare"],
            "license": "Creative Commons Attribution | Share Alike 4.0 International",
        },
        {
            "id": APPEND,
            "name": "Sin identificador",
            "columns": [
                {"fieldName": "x", "name": "X", "dataTypeName": "number"},
                {"fieldName": "label", "name": "Label", "dataTypeName": "text"},
            ],
        },
    ]
}


def sodapy_client(portal: PortalHandle, token: str | None = TOKEN, auth: bool = True) -> Socrata:
    """An unmodified sodapy client speaking plain http to the stand-in."""
    return Socrata(
        portal.domain,
        token,
        username=USER if auth else None,
        password=PASSWORD if auth else None,
        session_adapter={"prefix": "http://", "adapter": HTTPAdapter()},
        timeout=30,
    )


def contract(i: int, **extra: Any) -> dict[str, Any]:
    row = {"id_contrato": f"C{i:06d}", "valor": str(i * 10), "fecha": "2024-03-01", "activo": i % 2 == 0}
    row.update(extra)
    return row


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalHandle]:
    handle = start_portal(
        tmp_path_factory.mktemp("soda"), SEED, app_token=TOKEN, username=USER, password=PASSWORD
    )
    yield handle
    handle.stop()


@pytest.fixture()
def client(portal: PortalHandle) -> Iterator[Socrata]:
    portal.reset()
    with sodapy_client(portal) as soda:
        yield soda


def test_upsert_get_and_types(client: Socrata) -> None:
    result = client.upsert(CONTRACTS, [contract(1, municipio="Yopal"), contract(2)])
    assert result["Rows Created"] == 2 and result["Errors"] == 0
    result = client.upsert(CONTRACTS, [{"id_contrato": "C000001", "valor": 99.5}, contract(3)])
    assert (result["Rows Created"], result["Rows Updated"], result["By RowIdentifier"]) == (1, 1, 2)
    rows = client.get(CONTRACTS, order="id_contrato")
    assert rows[0] == {
        "id_contrato": "C000001",
        "valor": "99.5",  # numbers come back as strings; unspecified fields kept
        "fecha": "2024-03-01T00:00:00.000",
        "activo": False,
        "municipio": "Yopal",
    }
    assert "municipio" not in rows[1]  # nulls are omitted
    system = client.get(CONTRACTS, exclude_system_fields=False, limit=1)
    assert system[0][":id"].startswith("row-") and system[0][":created_at"].endswith("Z")
    assert client.get(CONTRACTS, id_contrato="C000002")[0]["valor"] == "20"


def test_deleted_and_delete_row(client: Socrata) -> None:
    client.upsert(CONTRACTS, [contract(i) for i in range(1, 5)])
    result = client.upsert(CONTRACTS, [{"id_contrato": "C000001", ":deleted": True}])
    assert result["Rows Deleted"] == 1
    client.delete(CONTRACTS, row_id="C000002")
    assert sorted(r["id_contrato"] for r in client.get(CONTRACTS)) == ["C000003", "C000004"]
    with pytest.raises(requests.HTTPError, match="404"):
        client.delete(CONTRACTS, row_id="C999999")
    # Without a row identifier rows are appended; :id addresses them.
    client.upsert(APPEND, [{"x": 1}, {"x": 1}])
    rows = client.get(APPEND, exclude_system_fields=False)
    assert len(rows) == 2
    client.upsert(APPEND, [{":id": rows[0][":id"], ":deleted": True}, {":id": rows[1][":id"], "label": "b"}])
    assert client.get(APPEND) == [{"x": "1", "label": "b"}]


def test_replace_is_whole_dataset(client: Socrata) -> None:
    client.upsert(CONTRACTS, [contract(i) for i in range(10)])
    result = client.replace(CONTRACTS, [contract(100), contract(101)])
    assert result["Rows Created"] == 2
    assert [r["id_contrato"] for r in client.get(CONTRACTS, order="id_contrato")] == ["C000100", "C000101"]


def test_paging_where_order_select(client: Socrata) -> None:
    rows = [contract(i, municipio="Aguazul" if i % 3 else None) for i in range(2500)]
    for start in range(0, len(rows), 1000):
        client.upsert(CONTRACTS, rows[start : start + 1000])
    everything = list(client.get_all(CONTRACTS, order=":id"))
    assert len(everything) == 2500 and len({r["id_contrato"] for r in everything}) == 2500
    assert len(client.get(CONTRACTS)) == 1000  # SODA 2.1 default $limit
    assert len(client.get(CONTRACTS, limit=50000)) == 2500
    filtered = client.get(
        CONTRACTS,
        where="(valor >= 100 AND valor < '200') OR id_contrato IN ('C000001', 'C000002') AND municipio IS NOT NULL",
        order="valor DESC",
    )
    assert [r["valor"] for r in filtered] == [str(v) for v in range(190, 90, -10)] + ["20", "10"]
    assert client.get(CONTRACTS, select="count(*) AS n", where="municipio IS NULL") == [{"n": "834"}]
    grouped = client.get(CONTRACTS, select="activo, count(*)", group="activo", order="activo")
    assert grouped == [{"activo": False, "count": "1250"}, {"activo": True, "count": "1250"}]
    with pytest.raises(requests.HTTPError, match="400"):
        client.get(CONTRACTS, where="no_such_column = 1")


def test_metadata_get_and_update(client: Socrata) -> None:
    before = client.get_metadata(CONTRACTS)
    assert before["rowIdentifierColumnId"] == before["columns"][0]["id"]
    assert before["metadata"]["rowIdentifier"] == "id_contrato"
    time.sleep(1.05)  # rowsUpdatedAt has one-second resolution, as on the portal
    client.upsert(CONTRACTS, [contract(1)])
    after = client.get_metadata(CONTRACTS)
    assert after["rowsUpdatedAt"] > before["rowsUpdatedAt"]
    updated = client.update_metadata(
        CONTRACTS,
        {
            "description": "Nueva descripción",
            "tags": ["casanare", "contratos"],
            "metadata": {"custom_fields": {"Información de Datos": {"Frecuencia de Actualización": "Anual"}}},
            "columns": [{"fieldName": "valor", "description": "Valor en pesos"}],
        },
    )
    assert updated["description"] == "Nueva descripción"
    assert updated["metadata"]["custom_fields"] == {
        "Información de Datos": {"Frecuencia de Actualización": "Anual"}
    }
    assert updated["metadata"]["rowIdentifier"] == "id_contrato"  # other metadata keys kept
    assert updated["columns"][1]["description"] == "Valor en pesos"
    assert updated["viewLastModified"] >= after["viewLastModified"]
    assert updated["rowsUpdatedAt"] == after["rowsUpdatedAt"]


def test_download_and_view_counters(portal: PortalHandle, client: Socrata) -> None:
    requests.get(f"{portal.url}/resource/{CONTRACTS}.csv", timeout=10)
    requests.get(f"{portal.url}/api/views/{CONTRACTS}.json?read=true", timeout=10)
    view = client.get_metadata(CONTRACTS)
    assert (view["downloadCount"], view["viewCount"]) == (1, 1)
    catalog = requests.get(f"{portal.url}/api/catalog/v1", params={"ids": CONTRACTS}, timeout=10).json()
    assert catalog["results"][0]["resource"]["download_count"] == 1


def test_auth_rejection(portal: PortalHandle, client: Socrata) -> None:
    with sodapy_client(portal, token=None) as no_token:
        assert no_token.get(CONTRACTS) == []  # reads are public
        with pytest.raises(requests.HTTPError, match="403"):
            no_token.upsert(CONTRACTS, [contract(1)])
    with sodapy_client(portal, token="wrong") as bad_token, pytest.raises(requests.HTTPError, match="403"):
        bad_token.get(CONTRACTS)
    with sodapy_client(portal, auth=False) as anonymous, pytest.raises(requests.HTTPError, match="401"):
        anonymous.upsert(CONTRACTS, [contract(1)])
    response = requests.post(
        f"{portal.url}/resource/{CONTRACTS}.json",
        data=json.dumps([contract(1)]),
        headers={"X-App-Token": TOKEN},
        auth=(USER, "bad"),
        timeout=10,
    )
    assert response.status_code == 401 and response.json()["error"] is True
    assert client.get(CONTRACTS) == []


def test_invalid_payloads_are_rejected_atomically(portal: PortalHandle, client: Socrata) -> None:
    client.upsert(CONTRACTS, [contract(1)])
    bad_batches = [
        [contract(2), {"id_contrato": "C3", "no_existe": 1}],  # unknown field
        [contract(2), {"id_contrato": "C3", "valor": "mucho"}],  # number column, text value
        [contract(2), {"valor": 5}],  # missing row identifier
        [contract(2), {"id_contrato": "C4", "fecha": "ayer"}],  # bad date
    ]
    for batch in bad_batches:
        with pytest.raises(requests.HTTPError, match="400"):
            client.upsert(CONTRACTS, batch)
    response = requests.post(
        f"{portal.url}/resource/{CONTRACTS}.json",
        data="[{not json",
        headers={"X-App-Token": TOKEN},
        auth=(USER, PASSWORD),
        timeout=10,
    )
    assert response.status_code == 400 and response.json()["error"] is True
    assert "mucho" not in response.text
    assert [r["id_contrato"] for r in client.get(CONTRACTS)] == ["C000001"]


def test_unknown_dataset_is_404(client: Socrata) -> None:
    for call in (
        lambda: client.get("zzzz-9999"),
        lambda: client.upsert("zzzz-9999", [{"a": 1}]),
        lambda: client.get_metadata("zzzz-9999"),
    ):
        with pytest.raises(requests.HTTPError, match="404"):
            call()


def _set_faults(portal: PortalHandle, **config: Any) -> None:
    response = requests.post(f"{portal.url}/__standin/faults", json=config, timeout=10)
    assert response.status_code == 200


def test_fault_injection(portal: PortalHandle, client: Socrata) -> None:
    try:
        _set_faults(portal, rate=1.0, kinds=["429"], seed=1, reset_stats=True)
        response = requests.get(f"{portal.url}/resource/{CONTRACTS}.json", timeout=10)
        assert response.status_code == 429 and response.headers["Retry-After"] == "1"
        _set_faults(portal, rate=1.0, kinds=["500"])
        with pytest.raises(requests.HTTPError, match="500"):
            client.upsert(CONTRACTS, [contract(1)])
        _set_faults(portal, rate=1.0, kinds=["202"])
        assert client.upsert(CONTRACTS, [contract(2)]) == {"message": "processing", "status": "processing"}
        _set_faults(portal, rate=1.0, kinds=["drop"])
        with pytest.raises(requests.ConnectionError):
            client.upsert(CONTRACTS, [contract(3)])
        _set_faults(portal, rate=1.0, kinds=["drop_after_commit"])
        with pytest.raises(requests.ConnectionError):
            client.upsert(CONTRACTS, [contract(4)])
        _set_faults(portal, rate=0.0)
        # Only the drop_after_commit write was applied.
        assert [r["id_contrato"] for r in client.get(CONTRACTS)] == ["C000004"]
        stats = requests.get(f"{portal.url}/__standin/stats", timeout=10).json()
        assert stats["faults"] == {"429": 1, "500": 1, "202": 1, "drop": 1, "drop_after_commit": 1}
        assert stats["by_status"]["429"] == 1 and stats["by_status"]["drop"] == 2
        # A seeded partial rate is deterministic and a retrying client converges.
        _set_faults(portal, rate=0.3, kinds=["429", "500", "202", "drop"], seed=7, reset_stats=True)
        for start in range(0, 200, 20):
            _upsert_with_retries(client, [contract(i) for i in range(start, start + 20)])
        _set_faults(portal, rate=0.0)
        assert len(client.get(CONTRACTS, limit=1000)) == 200
        assert requests.get(f"{portal.url}/__standin/stats", timeout=10).json()["faults_total"] > 0
    finally:
        _set_faults(portal, rate=0.0)


def _upsert_with_retries(client: Socrata, rows: list[dict[str, Any]]) -> None:
    for _ in range(30):
        try:
            result = client.upsert(CONTRACTS, rows)
        except (requests.HTTPError, requests.ConnectionError):
            continue
        if "Rows Created" in result:  # a 202 body means "not applied yet": retry
            return
    raise AssertionError("upsert never succeeded")


def test_socrata_py_replace_revision_is_atomic(
    portal: PortalHandle, client: Socrata, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd
    from socrata import Socrata as Publisher
    from socrata.authorization import Authorization

    old_rows = [contract(i) for i in range(3000)]
    client.upsert(CONTRACTS, old_rows)
    # socrata-py hard-codes https://; the stand-in answers TLS on the same port.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(portal.cert_path))
    publisher = Publisher(Authorization(portal.domain, USER, PASSWORD))
    view = publisher.views.lookup(CONTRACTS)
    revision = view.revisions.create_replace_revision(metadata={"description": "Reemplazo"})
    frame = pd.DataFrame(
        {
            "id_contrato": [f"N{i:05d}" for i in range(2000)],
            "valor": [i * 1.5 for i in range(2000)],
            "fecha": ["2025-01-31"] * 2000,
            "activo": [True] * 2000,
            "municipio": ["Maní"] * 2000,
        }
    )
    source = revision.create_upload("contratos.csv").df(frame)
    output = source.get_latest_input_schema().get_latest_output_schema().wait_for_finish(sleeptime=0.1)
    assert output.attributes["error_count"] == 0
    assert client.get(CONTRACTS, select="count(*)") == [{"count": "3000"}]  # staged, not visible

    seen: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        with sodapy_client(portal) as soda:
            while not stop.is_set():
                count = soda.get(CONTRACTS, select="count(*) AS n, min(id_contrato) AS first")[0]
                seen.append(f"{count['n']}:{count['first'][0]}")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        job = revision.apply(output_schema=output).wait_for_finish(sleeptime=0.1, timeout=60)
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
    assert job.attributes["status"] == "successful"
    assert set(seen) <= {"3000:C", "2000:N"} and seen[-1] == "2000:N"
    rows = client.get(CONTRACTS, order="id_contrato", limit=1)
    assert rows == [
        {
            "id_contrato": "N00000",
            "valor": "0",
            "fecha": "2025-01-31T00:00:00.000",
            "activo": True,
            "municipio": "Maní",
        }
    ]
    assert client.get_metadata(CONTRACTS)["description"] == "Reemplazo"


def test_output_schema_rows_errors_and_apply_come_from_one_computation(
    portal: PortalHandle, client: Socrata, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An output schema is computed once: its rows, its error rows, the row-id check and the apply
    all see the same converted values; rows a transform cannot convert are counted and not published."""
    import pandas as pd
    from socrata import Socrata as Publisher
    from socrata.authorization import Authorization

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(portal.cert_path))
    publisher = Publisher(Authorization(portal.domain, USER, PASSWORD))
    revision = publisher.views.lookup(CONTRACTS).revisions.create_replace_revision()
    frame = pd.DataFrame({
        "id_contrato": ["A1", "A2", "A3", "A4", "A5"],
        "valor": ["10", "2.50", "doce", "1.000,5", ""],
        "fecha": ["2025-01-31", "2025-02-30", "2025-03-01T08:30:00", "2025-03-02", "2025-03-03"],
        "activo": ["true", "false", "true", "no", ""],
        "municipio": ["Yopal", "Maní", "Orocué", "", "Aguazul"],
    })
    source = revision.create_upload("contratos.csv").df(frame)
    typed = source.get_latest_input_schema().get_latest_output_schema().wait_for_finish(sleeptime=0.05)
    # A2 (30 February), A3 ("doce") and A4 (a decimal comma) cannot be converted.
    assert typed.attributes["error_count"] == 3
    assert len(typed.schema_errors()) == 3
    assert typed.rows() == [
        {"id_contrato": "A1", "valor": "10", "fecha": "2025-01-31T00:00:00.000", "activo": True,
         "municipio": "Yopal"},
        {"id_contrato": "A5", "valor": None, "fecha": "2025-03-03T00:00:00.000", "activo": None,
         "municipio": "Aguazul"},
    ]
    # A new output schema is computed in the background (a request for its rows waits for them).
    as_text = (typed.change_column_transform("valor").to("to_text(`valor`)")
               .change_column_transform("fecha").to("to_text(`fecha`)").run())
    assert [r["valor"] for r in as_text.rows()] == ["10", "2.50", "doce", "1.000,5", None]
    assert as_text.validate_row_id("id_contrato") is True
    assert as_text.validate_row_id("municipio") is False  # A4 has none
    assert as_text.wait_for_finish(sleeptime=0.05).attributes["error_count"] == 0
    job = revision.apply(output_schema=typed).wait_for_finish(sleeptime=0.05, timeout=60)
    assert job.attributes["status"] == "successful"
    assert client.get(CONTRACTS, order="id_contrato") == [
        {"id_contrato": "A1", "valor": "10", "fecha": "2025-01-31T00:00:00.000", "activo": True,
         "municipio": "Yopal"},
        {"id_contrato": "A5", "fecha": "2025-03-03T00:00:00.000", "municipio": "Aguazul"},
    ]


def test_socrata_py_creates_a_dataset_with_its_schema_and_row_id(
    portal: PortalHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Socrata.create(...).df(...)`` then set types and row id in the output schema, then apply."""
    import pandas as pd
    from socrata import Socrata as Publisher
    from socrata.authorization import Authorization

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(portal.cert_path))
    frame = pd.DataFrame({"codigo": ["A1", "A2"], "total": ["10", "2.5"], "dia": ["2025-01-31", "2025-02-01"]})
    revision, output = Publisher(Authorization(portal.domain, USER, PASSWORD)).create(
        name="Creado con socrata-py", description="Prueba de creación", tags=["casanare-prueba"]).df(frame)
    draft = revision.attributes["fourfour"]
    listed = requests.get(f"{portal.url}/api/catalog/v1", params={"tags": "casanare-prueba"}, timeout=10).json()
    assert listed["resultSetSize"] == 0  # an unpublished draft is invisible to the public…
    owner = requests.get(f"{portal.url}/api/catalog/v1", params={"tags": "casanare-prueba"}, timeout=10,
                         auth=(USER, PASSWORD)).json()
    assert [r["resource"]["id"] for r in owner["results"]] == [draft]  # …but its owner finds it
    output = (output.change_column_transform("total").to("to_number(`total`)")
              .change_column_transform("dia").to("to_floating_timestamp(`dia`)").run())
    output = output.set_row_id("codigo").wait_for_finish(sleeptime=0.05)
    job = revision.apply(output_schema=output).wait_for_finish(sleeptime=0.05, timeout=60)
    assert job.attributes["status"] == "successful"
    view = requests.get(f"{portal.url}/api/views/{draft}.json", timeout=10).json()
    assert {c["fieldName"]: c["dataTypeName"] for c in view["columns"]} == {
        "codigo": "text", "total": "number", "dia": "calendar_date"}
    assert view["metadata"]["rowIdentifier"] == "codigo" and view["publicationStage"] == "published"
    rows = requests.get(f"{portal.url}/resource/{draft}.json", params={"$order": "codigo"}, timeout=10).json()
    assert rows[1] == {"codigo": "A2", "total": "2.5", "dia": "2025-02-01T00:00:00.000"}
    with pytest.raises(Exception, match="401"):  # creating without credentials is refused
        Publisher(Authorization(portal.domain, USER, "otra")).new({"name": "Sin permiso"})


def test_restart_keeps_data(tmp_path: Path) -> None:
    with start_portal(tmp_path, SEED) as first, sodapy_client(first, token=None, auth=False) as soda:
        soda.upsert(CONTRACTS, [contract(i) for i in range(10)])
        soda.update_metadata(CONTRACTS, {"name": "Renombrado"})
    # Seeding again must not wipe anything.
    with start_portal(tmp_path, SEED) as second, sodapy_client(second, token=None, auth=False) as soda:
        assert len(soda.get(CONTRACTS)) == 10
        assert soda.get_metadata(CONTRACTS)["name"] == "Renombrado"


def test_bulk_upsert_throughput(tmp_path: Path) -> None:
    with (
        start_portal(tmp_path, SEED, tls=False) as portal,
        sodapy_client(portal, token=None, auth=False) as soda,
    ):
        chunk = [contract(i, municipio="Yopal") for i in range(10_000)]
        started = time.perf_counter()
        soda.upsert(CONTRACTS, chunk)
        created = time.perf_counter() - started
        started = time.perf_counter()
        result = soda.upsert(CONTRACTS, chunk)  # all updates
        updated = time.perf_counter() - started
        assert result["Rows Updated"] == 10_000
        print(
            f"\n10k-row upsert: insert {10_000 / created:,.0f} rows/s, update {10_000 / updated:,.0f} rows/s"
        )
        assert 10_000 / created > 2_000 and 10_000 / updated > 2_000


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(SEED), encoding="utf-8")
    pid_file = tmp_path / "portal.pid"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "standins.soda_portal",
            "--port",
            "0",
            "--seed",
            str(seed),
            "--state-dir",
            str(tmp_path / "state"),
            "--pid-file",
            str(pid_file),
            "--no-tls",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]
            ),
        },
    )
    try:
        url = process.stdout.readline().strip()  # type: ignore[union-attr]
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(f"{url}/api/views/{CONTRACTS}.json", timeout=10).json()["name"] == "Contratos"
        assert pid_file.read_text(encoding="utf-8") == str(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    assert not pid_file.exists()
