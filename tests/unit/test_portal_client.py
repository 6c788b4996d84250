"""Pure parts of the portal package: strict JSON, the transport retry policy, schema plans, CSV, metadata."""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from casanare.catalog import CasanareGovCo
from casanare.publish.portal.client import PortalClient, PortalConfig, dumps, retry_policy
from casanare.publish.portal.metadata import desired_metadata, revision_metadata
from casanare.publish.portal.revision import csv_bytes
from casanare.publish.portal.schema import output_columns, plan
from casanare.publish.records import to_records
from scripts.bench_publicacion import sample_dataset

pytestmark = pytest.mark.unit


def test_rows_are_strict_json_with_nulls_and_iso_dates() -> None:
    frame = pd.DataFrame({
        "n": [1.5, np.nan], "i": pd.array([3, None], dtype="Int64"),
        "t": pd.to_datetime(["2024-01-05 10:30:00", None]), "d": [date(2024, 2, 1), None],
        "dt": [datetime(2024, 3, 1, 8, 0), None], "b": [True, None], "s": ["ñandú", None],
    })
    body = json.loads(dumps(to_records(frame)))
    assert body[0] == {"n": 1.5, "i": 3, "t": "2024-01-05T10:30:00.000", "d": "2024-02-01T00:00:00.000",
                       "dt": "2024-03-01T08:00:00.000", "b": True, "s": "ñandú"}
    assert all(v is None for v in body[1].values())
    with pytest.raises(ValueError):
        dumps([{"x": float("nan")}])  # never invalid JSON on the wire


def test_transport_retries_only_what_is_safe_to_resend() -> None:
    policy = retry_policy(PortalConfig(base_url="https://www.datos.gov.co", max_attempts=4, retry_after_max=10))
    assert policy.total == 3
    # Throttled requests were not applied: every method goes again.
    assert policy.is_retry("POST", 429) and policy.is_retry("GET", 429)
    # A 5xx on a POST may have been applied: the client decides (it asks the portal first).
    assert not policy.is_retry("POST", 500) and policy.is_retry("GET", 503) and policy.is_retry("PUT", 502)
    assert not policy.is_retry("GET", 400) and not policy.is_retry("GET", 403)
    assert policy.retry_after_max == 10 and policy.respect_retry_after_header


def test_one_session_with_the_retrying_adapter_for_both_apis() -> None:
    client = PortalClient(PortalConfig(base_url="http://127.0.0.1:9", max_attempts=3))
    try:
        adapter = client.session.get_adapter("http://127.0.0.1:9/api/publishing/v1/revision")
        assert adapter is client.session.get_adapter("http://127.0.0.1:9/resource/abcd-1234.json")
        assert adapter.max_retries.total == 2
    finally:
        client.close()


def test_schema_plan_lists_additions_type_changes_removals_and_row_identifier() -> None:
    ds = sample_dataset(dataset_id=None)
    view = {"columns": [
        {"fieldName": "id_registro", "dataTypeName": "text"},
        {"fieldName": "municipio", "dataTypeName": "text"},
        {"fieldName": "vieja", "dataTypeName": "text"},
    ], "metadata": {"rowIdentifier": None}}
    changes = plan(view, ds)
    assert changes.agregar == ["valor", "cantidad", "fecha", "activo", "observacion"]
    assert changes.cambiar_tipo == [{"campo": "id_registro", "portal": "text", "catalogo": "number"}]
    assert changes.retirar == ["vieja"]
    assert changes.identificador == {"portal": None, "catalogo": "id_registro"}
    aligned = {"columns": [{"fieldName": c["field_name"], "dataTypeName": {
        "to_number": "number", "to_text": "text", "to_floating_timestamp": "calendar_date",
        "to_boolean": "checkbox"}[c["transform"]["transform_expr"].split("(")[0]]}
        for c in output_columns(ds, ["id_registro", "municipio", "valor", "cantidad", "fecha", "activo",
                                     "observacion"])], "metadata": {"rowIdentifier": "id_registro"}}
    assert not plan(aligned, ds).cambios


def test_output_schema_comes_from_the_catalog() -> None:
    ds = sample_dataset(dataset_id=None)
    columns = output_columns(ds, ["id_registro", "municipio", "valor", "cantidad", "fecha", "activo", "observacion"])
    first = columns[0]
    assert first["field_name"] == "id_registro" and first["is_primary_key"]
    assert first["transform"]["transform_expr"] == "to_number(`id_registro`)"
    assert first["display_name"] == "Id registro" and first["description"] == "Consecutivo del registro"
    assert [c["position"] for c in columns] == list(range(1, 8))
    assert sum(c["is_primary_key"] for c in columns) == 1
    with pytest.raises(ValueError, match="fecha"):
        output_columns(ds, ["id_registro", "municipio"])


def test_csv_for_revisions_has_iso_dates_booleans_and_empty_nulls() -> None:
    frame = pd.DataFrame({"id": pd.array([1, None], dtype="Int64"), "f": pd.to_datetime(["2024-01-05", None]),
                          "b": pd.Series([True, None], dtype=object), "t": ["a,b", None]})
    assert bytes(csv_bytes(frame)).decode() == 'id,f,b,t\n1,"2024-01-05T00:00:00",true,"a,b"\n,,,\n'


def test_metadata_fills_issue_date_documentation_and_norm_urls(monkeypatch) -> None:
    monkeypatch.setenv("CASANARE_WEBSITE_PUBLIC_URL", "https://www.casanare.gov.co/datos")
    ds = sample_dataset(dataset_id=None)
    ds = ds.model_copy(update={"casanare_gov_co": CasanareGovCo(ruta="prueba"), "url_normativa": "https://www.funcionpublica.gov.co/eva/gestornormativo/norma.php?i=56882"})
    datos = desired_metadata(ds, "2026-01-15")["metadata"]["custom_fields"]["Información de Datos"]
    assert datos["Fecha Emisión (aaaa-mm-dd)"] == "2026-01-15"
    assert datos["URL Documentación"] == "https://www.casanare.gov.co/datos/conjuntos/prueba/"
    assert datos["URL Normativa"].endswith("i=56882")
    meta = revision_metadata(ds, "2026-01-15")
    assert "columns" not in meta and "casanare-prueba-publicacion" in meta["tags"]
    catalog_date = ds.model_copy(update={"fecha_emision": "2020-02-02"})
    assert desired_metadata(catalog_date, "2026-01-15")["metadata"]["custom_fields"]["Información de Datos"][
        "Fecha Emisión (aaaa-mm-dd)"] == "2020-02-02"


def _cells(data: bytes | memoryview) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(bytes(data).decode("utf-8"), newline="")))


def _same_cell(a: str, b: str) -> bool:
    """The same value for the portal: identical text, or the same number ("5.0" and "5")."""
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def test_arrow_csv_for_revisions_gives_the_same_cells_as_the_pandas_path() -> None:
    from casanare.publish.portal.revision import _arrow_csv, _pandas_csv

    frame = pd.DataFrame({
        "id": pd.array([1, None, 3, 4], dtype="Int64"),
        "valor": [227926000.0, None, 0.1 + 0.2, 1e20],
        "n": [5, 6, 7, 8],
        "f": pd.to_datetime(["2024-01-05 10:22:47.123456", None, "1999-12-31 00:00:00", "2026-02-28 23:59:59"],
                            format="ISO8601"),
        "dia": pd.Series([date(2024, 1, 5), None, date(2020, 2, 29), date(2026, 12, 1)], dtype=object),
        "b": pd.Series([True, None, False, True], dtype=object),
        "activo": [True, False, True, False],
        "t": ['a,b', None, 'dice "hola"\nsegunda línea', "Ñandú; ok"],
        "vacia": pd.Series([None, None, None, None], dtype=object),
    })
    fast, slow = _cells(_arrow_csv(frame)), _cells(_pandas_csv(frame))
    assert fast[0] == slow[0] == list(frame.columns)
    assert len(fast) == len(slow) == 5
    for row_fast, row_slow in zip(fast[1:], slow[1:], strict=True):
        assert len(row_fast) == len(row_slow)
        assert all(_same_cell(a, b) for a, b in zip(row_fast, row_slow, strict=True)), (row_fast, row_slow)
    assert fast[1][3] == "2024-01-05T10:22:47"  # whole seconds, as the pandas path writes them


def test_csv_for_revisions_falls_back_to_pandas_for_values_arrow_cannot_type() -> None:
    from decimal import Decimal

    frame = pd.DataFrame({"id": [1, 2], "mixto": pd.Series([Decimal("1.50"), "texto"], dtype=object)})
    assert bytes(csv_bytes(frame)).decode() == "id,mixto\n1,1.50\n2,texto\n"


def test_revision_waits_poll_fast_then_every_second_like_socrata_py(monkeypatch) -> None:
    """A revision has three waits; pausing up to 2 s between polls overslept ~1 s on each."""
    from casanare.publish.portal import revision

    class Resource:  # the DSMAPI resource a poll reads: finished on the 12th read
        reads = 0

        def get(self, path: str) -> dict:
            Resource.reads += 1
            return {"resource": {"finished_at": "2026-12-01T00:00:00" if Resource.reads >= 12 else None}}

    pauses: list[float] = []
    monkeypatch.setattr(revision.time, "sleep", pauses.append)
    doc = revision._wait(Resource(), "/api/publishing/v1/source/1", "finished_at", timeout=3600)
    assert doc["resource"]["finished_at"]
    assert len(pauses) == 11
    assert pauses[:4] == [0.05, 0.1, 0.2, 0.4]
    assert max(pauses) == revision.POLL_MAX_S == 1.0
