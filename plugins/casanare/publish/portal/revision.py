"""Stage rows in a DSMAPI revision and apply it in one step (readers see the old or the new version).

The same sequence socrata-py runs (``create_*_revision`` → ``create_upload(...).csv`` →
``transform`` → ``apply`` → wait for the job), on the project's retrying client. The output
schema always comes from the catalog (field names, display names, types, descriptions, row
identifier), so applying a revision also puts the portal's schema in line.
"""

from __future__ import annotations

import io
import logging
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from casanare.errors import PortalNoDisponible
from casanare.publish.portal.errors import PublicacionRechazada
from casanare.publish.portal.schema import is_catalog_output, output_columns

if TYPE_CHECKING:
    from casanare.catalog import Dataset
    from casanare.publish.portal.client import PortalClient

log = logging.getLogger(__name__)


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV the portal's transforms read: ISO dates, true/false, empty = null.

    See :func:`write_csv_file`, which writes the same bytes to disk for an upload.
    """
    sink = io.BytesIO()
    _write_csv(df, sink)
    return sink.getvalue()


def write_csv_file(df: pd.DataFrame, path: Path) -> int:
    """Write :func:`csv_bytes` of ``df`` to ``path`` and return its size.

    A revision's upload is read back from this file a chunk at a time, so a million-row upload is
    never held in memory (it was 200 MB at 1M rows, 1 GB at 5M, on top of the table).
    """
    with path.open("wb") as sink:
        _write_csv(df, sink)
    return path.stat().st_size


def _write_csv(df: pd.DataFrame, sink: Any) -> None:
    """Arrow's C++ CSV writer (a 1M-row upload took 20 s through pandas ``to_csv`` on object
    columns); a frame Arrow can't type column by column (mixed objects) takes the pandas path.
    Both give the same cells."""
    import pyarrow as pa

    try:
        table = _arrow_table(df)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        sink.write(_pandas_csv(df))
        return
    _write_arrow_csv(df, table, sink)


def _arrow_csv(df: pd.DataFrame) -> bytes:
    """Arrow path of :func:`csv_bytes`: strings are always quoted, numbers in shortest form."""
    sink = io.BytesIO()
    _write_arrow_csv(df, _arrow_table(df), sink)
    return sink.getvalue()


def _arrow_table(df: pd.DataFrame) -> Any:
    """The frame's columns as Arrow arrays the CSV writer prints as the portal reads them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for col in df.columns:
        series = df[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            raise pa.ArrowNotImplementedError("categorical column")
        array = pa.array(series, from_pandas=True)
        if pa.types.is_timestamp(array.type):
            if array.type.tz is not None:
                raise pa.ArrowNotImplementedError("aware timestamps keep the pandas path")
            # Whole seconds first: Arrow's %S prints the fraction of a finer unit.
            array = pc.strftime(array.cast(pa.timestamp("s"), safe=False), format="%Y-%m-%dT%H:%M:%S")
        elif not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
                  or pa.types.is_integer(array.type) or pa.types.is_floating(array.type)
                  or pa.types.is_boolean(array.type) or pa.types.is_date32(array.type)
                  or pa.types.is_null(array.type)):
            raise pa.ArrowNotImplementedError(f"{array.type} keeps the pandas path")
        columns.append(array)
    return pa.Table.from_arrays(columns, names=[f"c{i}" for i in range(len(columns))])


def _write_arrow_csv(df: pd.DataFrame, table: Any, sink: Any) -> None:
    import csv

    import pyarrow.csv as pacsv

    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow([str(c) for c in df.columns])
    sink.write(header.getvalue().encode("utf-8"))
    pacsv.write_csv(table, sink, write_options=pacsv.WriteOptions(include_header=False, eol="\n"))


def _pandas_csv(df: pd.DataFrame) -> bytes:
    """pandas path of :func:`csv_bytes` (any object column: dates, decimals, mixed values)."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        series = df[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            text = series.dt.strftime("%Y-%m-%dT%H:%M:%S")
            out[col] = text.where(series.notna(), None)
        elif pd.api.types.is_bool_dtype(series):
            out[col] = series.map({True: "true", False: "false"})
        elif series.dtype == object:
            out[col] = series.map(_cell)
        else:
            out[col] = series
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


#: Longest pause between two polls: socrata-py's own cadence. With 2 s, each of the three waits
#: of a revision (upload parsed, transforms done, job applied) overslept by about 1 s on average.
POLL_MAX_S = 1.0


def _wait(client: PortalClient, path: str, done: str, timeout: float) -> dict[str, Any]:
    """Poll a DSMAPI resource until ``resource[done]`` is set (quickly at first, then every second)."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        doc = client.get(path)
        resource = doc.get("resource") or {}
        if resource.get(done) or resource.get("failed_at") or resource.get("status") == "failure":
            return doc
        if time.monotonic() > deadline:
            raise PortalNoDisponible(
                "datos.gov.co no terminó de procesar la revisión a tiempo.",
                como_corregir="No requiere acción de la dependencia: la plataforma reintentará.",
                detalles={"ruta": path, "espera_s": timeout},
            )
        time.sleep(delay)
        delay = min(delay * 2, POLL_MAX_S)


def _apply(client: PortalClient, revision: dict[str, Any], output_schema_id: int) -> dict[str, Any]:
    """``PUT …/apply``; if an earlier attempt's answer was lost and the revision is already closed,
    follow the job that attempt started instead of failing."""
    try:
        return client.dsmapi("PUT", revision["links"]["apply"], {"output_schema_id": output_schema_id})
    except PublicacionRechazada:
        current = client.get(revision["links"]["show"])["resource"]
        jobs = current.get("task_sets") or []
        if not current.get("closed_at") or not jobs:
            raise
        job = max(jobs, key=lambda j: j["id"])
        base = revision["links"]["show"]
        return {"resource": job, "links": {"show": f"{base}/task_set/{job['id']}"}}


def stage_and_apply(
    client: PortalClient,
    ds: Dataset,
    dataset_id: str,
    rows: pd.DataFrame,
    *,
    action: str,
    metadata: dict[str, Any] | None = None,
    revision: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Upload ``rows`` in a ``replace``/``update`` revision with the catalog's schema and apply it.

    Args:
        revision: an already open revision (the first one of a dataset just created).

    Returns:
        ``{"revision": seq, "accion": ..., "filas": n, "trabajo": job status}`` (no values).

    Raises:
        PublicacionRechazada: the portal could not cast some values (type errors) or the job failed.
    """
    timeout = client.cfg.revision_timeout
    revision = revision or client.open_revision(dataset_id, action, metadata)
    with tempfile.TemporaryDirectory(prefix="casanare-revision-") as tmp:
        upload = Path(tmp) / f"{ds.slug}.csv"
        write_csv_file(rows, upload)
        source = client.upload_csv(revision, upload.name, upload)
    source = _wait(client, source["links"]["show"], "finished_at", timeout)
    resource = source["resource"]
    if resource.get("failed_at"):
        raise PublicacionRechazada(
            "datos.gov.co no pudo leer el archivo de la revisión.",
            como_corregir="Equipo de plataforma: revise el registro de la revisión en datos.gov.co.",
            detalles={"dataset_id": dataset_id, "mensaje_portal": str(resource.get("failure_details"))[:300]},
        )
    input_schema = max(resource["schemas"], key=lambda s: s["id"])
    uploaded = [c["field_name"] for c in input_schema["input_columns"]]
    initial = max(input_schema.get("output_schemas") or [{}], key=lambda o: o.get("id", -1))
    if initial.get("id") is not None and is_catalog_output(initial, ds):
        # The portal's own schema for this upload already is the catalog's: apply it as it is.
        show = f"{source['links']['show']}/schema/{input_schema['id']}/output/{initial['id']}"
    else:
        transform = source["links"]["input_schema_links"]["transform"].format(input_schema_id=input_schema["id"])
        body = {"output_columns": output_columns(ds, uploaded), "sort_bys": []}
        show = client.dsmapi("POST", transform, body)["links"]["show"]
    output = _wait(client, show, "completed_at", timeout)
    errors = int(output["resource"].get("error_count") or 0)
    if errors:
        raise PublicacionRechazada(
            f"datos.gov.co no pudo convertir {errors} fila(s) al tipo de columna del catálogo.",
            como_corregir="Equipo de plataforma: revise que los tipos del catálogo (entero, decimal, fecha, "
            "booleano) correspondan a los datos que produce la canalización. Nada se publicó.",
            detalles={"dataset_id": dataset_id, "filas_con_error": errors},
        )
    job = _apply(client, revision, output["resource"]["id"])
    job = _wait(client, job["links"]["show"], "finished_at", timeout)
    status = job["resource"].get("status")
    if status == "failure":
        raise PublicacionRechazada(
            "datos.gov.co no pudo aplicar la revisión.",
            como_corregir="Equipo de plataforma: revise el registro de la revisión en datos.gov.co.",
            detalles={"dataset_id": dataset_id, "revision": revision["resource"].get("revision_seq"),
                      "registro": [str(e.get("details"))[:200] for e in job["resource"].get("log") or []][-3:]},
        )
    return {"revision": revision["resource"].get("revision_seq"), "accion": action, "filas": len(rows),
            "trabajo": status}
