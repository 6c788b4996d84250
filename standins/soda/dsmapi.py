"""Dataset Management API (``/api/publishing/v1``) as used by socrata-py 1.2.0.

Flow supported: create a revision (replace/update/delete) -> create an upload source ->
initiate/chunk/commit the bytes (CSV) -> input schema -> output schema (optionally
transformed) -> apply -> job (task set) polling. Responses are ``{"resource": ...,
"links": ...}`` documents; socrata-py builds every further URL from ``links``.

Uploaded bytes are parsed at commit into a staging table; the published rows only
change when the apply job swaps tables inside one transaction, so readers of
``/resource`` see the old version until then.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from standins.soda import types as t
from standins.soda.store import (
    PortalError,
    Store,
    apply_ops,
    merge_view,
    not_found,
    plan_ops,
    quote_field,
)

LOG = logging.getLogger("standins.soda.dsmapi")
PREFIX = "/api/publishing/v1"
_TRANSFORM_RE = re.compile(r"^\s*(?:(to_[a-z_]+)\(\s*)?`([^`]+)`\s*\)?\s*$")
_TRANSFORM_TYPES = {
    None: None,
    "to_text": "text",
    "to_number": "number",
    "to_floating_timestamp": "calendar_date",
    "to_boolean": "checkbox",
    "to_checkbox": "checkbox",
}
_TYPE_TRANSFORMS = {"number": "to_number", "date": "to_floating_timestamp", "bool": "to_boolean"}


def iso_now() -> str:
    """Timestamp format used by DSMAPI resources."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000000"


def normalize_field_name(header: str) -> str:
    """Derive an API field name from a CSV header (as DSMAPI does for new columns)."""
    name = re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")
    return name or "column"


class Dsmapi:
    """State machine of revisions, sources, schemas and jobs."""

    def __init__(self, store: Store, upload_dir: Path) -> None:
        self.store = store
        self.upload_dir = Path(upload_dir)
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._jobs: list[threading.Thread] = []
        self._computing: dict[int, threading.Event] = {}  # output schemas whose rows are being computed

    # -- links -------------------------------------------------------------------
    @staticmethod
    def revision_links(rev: dict[str, Any]) -> dict[str, Any]:
        base = f"{PREFIX}/revision/{rev['fourfour']}/{rev['revision_seq']}"
        return {
            "show": base,
            "update": base,
            "discard": base,
            "apply": f"{base}/apply",
            "plan": f"{base}/plan",
            "create_source": f"{base}/source",
            "list_sources": f"{base}/source",
        }

    @staticmethod
    def output_links(base: str) -> dict[str, str]:
        return {
            "show": base,
            "rows": f"{base}/rows",
            "schema_errors": f"{base}/errors",
            "validate_row_id": base + "/validate_row_id/{transform_id}",
        }

    def source_links(self, source_id: int) -> dict[str, Any]:
        base = f"{PREFIX}/source/{source_id}"
        schema = base + "/schema/{input_schema_id}"
        return {
            "show": base,
            "update": base,
            "bytes": base,
            "add_to_revision": base,
            "initiate": f"{base}/initiate",
            "chunk": base + "/chunk/{seq_num}/{byte_offset}",
            "commit": base + "/commit/{seq_num}/{byte_offset}",
            "show_input_schema": schema,
            "input_schema_links": {
                "show": schema,
                "transform": schema,
                "latest_output": f"{schema}/output/latest",
                "output_schema_links": self.output_links(schema + "/output/{output_schema_id}"),
            },
        }

    def input_links(self, source_id: int, input_id: int) -> dict[str, Any]:
        base = f"{PREFIX}/source/{source_id}/schema/{input_id}"
        return {
            "show": base,
            "transform": base,
            "latest_output": f"{base}/output/latest",
            "output_schema_links": self.output_links(base + "/output/{output_schema_id}"),
        }

    # -- documents ------------------------------------------------------------------
    def revision_doc(self, rev: dict[str, Any]) -> dict[str, Any]:
        rev = dict(rev)
        rev["task_sets"] = [j for j in self.store.list_objects("job") if j["revision_id"] == rev["id"]]
        return {"resource": rev, "links": self.revision_links(rev)}

    def source_doc(self, source: dict[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in source.items() if not k.startswith("_")}
        return {"resource": body, "links": self.source_links(source["id"])}

    def job_doc(self, job: dict[str, Any]) -> dict[str, Any]:
        base = f"{PREFIX}/revision/{job['fourfour']}/{job['revision_seq']}/task_set/{job['id']}"
        return {"resource": job, "links": {"show": base}}

    # -- revisions --------------------------------------------------------------------
    def create_revision(self, fourfour: str, body: dict[str, Any], user: str) -> dict[str, Any]:
        """``POST /revision/<4x4>``."""
        self.store.dataset(fourfour)  # 404 for unknown datasets, as on the portal
        action = body.get("action") or {}
        action_type = action.get("type", "update")
        if action_type not in ("replace", "update", "delete"):
            raise PortalError(400, "invalid_request", "action.type must be replace, update or delete")
        with self.store.write_transaction() as conn:
            rev_id = self.store.next_id(conn, "revision")
            seq = self.store.next_id(conn, f"seq_{fourfour}") - 1
            rev = {
                "id": rev_id,
                "fourfour": fourfour,
                "revision_seq": seq,
                "action": {"type": action_type, "permission": action.get("permission") or "public"},
                "metadata": body.get("metadata") or {},
                "output_schema_id": None,
                "notes": None,
                "created_at": iso_now(),
                "created_by": {"user_id": user, "display_name": user},
                "closed_at": None,
                "is_parent": False,
            }
            self.store.put_object(conn, "revision", rev_id, rev)
        return self.revision_doc(rev)

    def new_dataset(self, body: dict[str, Any], user: str) -> dict[str, Any]:
        """``POST /revision`` (socrata-py ``Socrata.new``): create an unpublished view and its first revision.

        The view gets the revision's name, description and tags at once (so an owner can find
        the draft again, e.g. by tag, before anything is applied); the rest of the metadata, the
        columns and the rows arrive when the revision is applied.
        """
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict) or not str(metadata.get("name") or "").strip():
            raise PortalError(400, "invalid_request", "A new dataset needs metadata.name")
        view = self.store.create_dataset(
            {
                "name": metadata["name"],
                "description": metadata.get("description") or "",
                "tags": list(metadata.get("tags") or []),
                "category": metadata.get("category"),
                "owner": {"id": user, "displayName": user, "screenName": user},
                "publicationStage": "unpublished",
            }
        )
        return self.create_revision(view["id"], body, user)

    def list_revisions(self, fourfour: str) -> list[dict[str, Any]]:
        self.store.dataset(fourfour)
        return [
            self.revision_doc(r) for r in self.store.list_objects("revision") if r["fourfour"] == fourfour
        ]

    def find_revision(self, fourfour: str, seq: int) -> dict[str, Any]:
        for rev in self.store.list_objects("revision"):
            if rev["fourfour"] == fourfour and rev["revision_seq"] == seq:
                return rev
        raise PortalError(404, "not_found", f"Revision {seq} of {fourfour} not found")

    def update_revision(self, fourfour: str, seq: int, body: dict[str, Any]) -> dict[str, Any]:
        """``PUT /revision/<4x4>/<seq>``: merge metadata, output schema id and notes."""
        with self._lock, self.store.write_transaction() as conn:
            rev = self.find_revision(fourfour, seq)
            if isinstance(body.get("metadata"), dict):
                rev["metadata"] = {**rev["metadata"], **body["metadata"]}
            for key in ("output_schema_id", "notes"):
                if key in body:
                    rev[key] = body[key]
            self.store.put_object(conn, "revision", rev["id"], rev)
        return self.revision_doc(rev)

    def discard_revision(self, fourfour: str, seq: int) -> dict[str, Any]:
        with self._lock, self.store.write_transaction() as conn:
            rev = self.find_revision(fourfour, seq)
            rev["closed_at"] = rev["closed_at"] or iso_now()
            rev["discarded_at"] = iso_now()
            self.store.put_object(conn, "revision", rev["id"], rev)
        return self.revision_doc(rev)

    def plan(self, fourfour: str, seq: int) -> dict[str, Any]:
        self.find_revision(fourfour, seq)
        steps = [
            "prepare_draft_for_import",
            "set_schema",
            "apply_metadata",
            "upsert_task",
            "set_display_type",
            "publish",
        ]
        return {"resource": [{"type": s} for s in steps], "links": {}}

    # -- sources ------------------------------------------------------------------------
    def create_source(self, body: dict[str, Any], revision: dict[str, Any] | None) -> dict[str, Any]:
        """``POST /revision/<4x4>/<seq>/source`` or ``POST /source``."""
        source_type = body.get("source_type") or {}
        if source_type.get("type") != "upload":
            raise PortalError(400, "invalid_request", "Only upload sources are supported by the stand-in")
        parse_options = {
            "header_count": 1,
            "column_header": 1,
            "encoding": None,
            "column_separator": ",",
            "quote_char": '"',
            "parse_source": True,
            **(body.get("parse_options") or {}),
        }
        with self.store.write_transaction() as conn:
            source_id = self.store.next_id(conn, "source")
            source = {
                "id": source_id,
                "source_type": source_type,
                "parse_options": parse_options,
                "content_type": None,
                "schemas": [],
                "created_at": iso_now(),
                "finished_at": None,
                "failed_at": None,
                "failure_details": None,
                "revision": (
                    {"fourfour": revision["fourfour"], "revision_seq": revision["revision_seq"]}
                    if revision
                    else None
                ),
                "_revision_id": revision["id"] if revision else None,
            }
            self.store.put_object(conn, "source", source_id, source)
        return self.source_doc(source)

    def source(self, source_id: int) -> dict[str, Any]:
        source = self.store.get_object("source", source_id)
        if source is None:
            raise PortalError(404, "not_found", f"Source {source_id} not found")
        return source

    def list_sources(self, fourfour: str, seq: int) -> list[dict[str, Any]]:
        rev = self.find_revision(fourfour, seq)
        return [
            self.source_doc(s)
            for s in self.store.list_objects("source")
            if s.get("_revision_id") == rev["id"]
        ]

    def add_to_revision(self, source_id: int, body: dict[str, Any]) -> dict[str, Any]:
        target = body.get("revision") or {}
        rev = self.find_revision(target.get("fourfour", ""), int(target.get("revision_seq", -1)))
        with self._lock, self.store.write_transaction() as conn:
            source = self.source(source_id)
            source["revision"] = {"fourfour": rev["fourfour"], "revision_seq": rev["revision_seq"]}
            source["_revision_id"] = rev["id"]
            self.store.put_object(conn, "source", source_id, source)
        return self.source_doc(source)

    def update_source(self, source_id: int, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock, self.store.write_transaction() as conn:
            source = self.source(source_id)
            if isinstance(body.get("parse_options"), dict):
                source["parse_options"].update(body["parse_options"])
            self.store.put_object(conn, "source", source_id, source)
        return self.source_doc(source)

    def initiate(self, source_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /source/<id>/initiate``: answer chunking preferences (not wrapped)."""
        with self._lock, self.store.write_transaction() as conn:
            source = self.source(source_id)
            source["content_type"] = body.get("content_type") or "text/csv"
            self.store.put_object(conn, "source", source_id, source)
        shutil.rmtree(self._chunk_dir(source_id), ignore_errors=True)
        self._chunk_dir(source_id).mkdir(parents=True)
        return {"preferred_chunk_size": 4 * 1024 * 1024, "preferred_upload_parallelism": 2}

    def _chunk_dir(self, source_id: int) -> Path:
        return self.upload_dir / str(source_id)

    def chunk(self, source_id: int, seq_num: int, byte_offset: int, data: bytes) -> dict[str, Any]:
        """``POST /source/<id>/chunk/<seq>/<offset>``: store one chunk (idempotent)."""
        self.source(source_id)
        directory = self._chunk_dir(source_id)
        if not directory.is_dir():
            raise PortalError(400, "invalid_request", "Upload was not initiated")
        part = directory / f"{seq_num:08d}_{byte_offset}.part"
        tmp = part.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(part)  # atomic: a retried chunk simply overwrites
        return {"seq_num": seq_num, "byte_offset": byte_offset, "size": len(data)}

    def commit(self, source_id: int, seq_num: int, end_offset: int) -> dict[str, Any]:
        """``POST /source/<id>/commit/<seq>/<end>``: check the chunks, then parse in the background.

        As on DSMAPI, the commit answers at once and the upload is processed asynchronously:
        the source gets its input schema and ``finished_at`` (or ``failed_at``) later, and
        clients poll ``show`` (socrata-py's ``wait_for_schema`` allows 12 hours). Parsing a
        1M-row file inside the request outlasted the client's read timeout, and the resent
        commit then found its chunks gone. A repeated commit of the same upload (its answer
        was lost) answers the source as it stands.
        """
        with self._lock:
            source = self.source(source_id)
            committed = source.get("_committed")
            if committed is not None:
                if committed == [seq_num, end_offset]:
                    return self.source_doc(source)
                raise PortalError(400, "invalid_request", "Upload was already committed")
            data = self._assemble(source_id, seq_num, end_offset)
            dataset_id = self._dataset_of(source)
            source["_committed"] = [seq_num, end_offset]
            with self.store.write_transaction() as conn:
                self.store.put_object(conn, "source", source_id, source)
        worker = threading.Thread(
            target=self._process_upload, args=(source_id, dataset_id, data), name=f"dsmapi-source-{source_id}",
            daemon=True,
        )
        self._jobs.append(worker)
        worker.start()
        return self.source_doc(source)

    def _process_upload(self, source_id: int, dataset_id: str, data: bytes) -> None:
        """Parse and stage a committed upload; record the input schema or the failure on the source."""
        try:
            header, rows = self._parse(data, self.source(source_id)["parse_options"])
            # The store's write lock serializes writers, so the source read inside it is current.
            with self.store.write_transaction() as conn:
                source = self.source(source_id)
                input_id = self.store.next_id(conn, "input_schema")
                total = self._stage(conn, input_id, len(header), rows)
                input_schema = self._input_schema(source_id, input_id, header, total)
                output = self._initial_output(conn, dataset_id, input_schema)
                input_schema["output_schemas"].append(output)
                source["schemas"].append(input_schema)
                source["finished_at"] = iso_now()
                source["_bytes"] = len(data)
                self.store.put_object(conn, "source", source_id, source)
        except (csv.Error, UnicodeDecodeError) as exc:
            self._fail_source(self.source(source_id), f"Could not parse the upload: {exc.__class__.__name__}")
        except PortalError as exc:
            self._fail_source(self.source(source_id), exc.message)
        except Exception as exc:
            LOG.exception("processing of source %s crashed", source_id)
            self._fail_source(self.source(source_id), exc.__class__.__name__)
        finally:
            shutil.rmtree(self._chunk_dir(source_id), ignore_errors=True)

    def _fail_source(self, source: dict[str, Any], message: str) -> dict[str, Any]:
        with self.store.write_transaction() as conn:
            source["failed_at"] = iso_now()
            source["failure_details"] = {"message": message}
            self.store.put_object(conn, "source", source["id"], source)
        return self.source_doc(source)

    def _assemble(self, source_id: int, seq_num: int, end_offset: int) -> bytes:
        directory = self._chunk_dir(source_id)
        parts = sorted(directory.glob("*.part")) if directory.is_dir() else []
        buffer = bytearray()
        for expected_seq, part in enumerate(parts):
            seq_text, offset_text = part.stem.split("_")
            if int(seq_text) != expected_seq or int(offset_text) != len(buffer):
                raise PortalError(400, "invalid_request", "Upload chunks are missing or out of order")
            buffer += part.read_bytes()
        if len(parts) != seq_num + 1 or len(buffer) != end_offset:
            raise PortalError(400, "invalid_request", "Commit does not match the uploaded chunks")
        return bytes(buffer)

    def _dataset_of(self, source: dict[str, Any]) -> str:
        revision = source.get("revision")
        if not revision:
            raise PortalError(400, "invalid_request", "Source is not attached to a revision")
        return revision["fourfour"]

    @staticmethod
    def _parse(data: bytes, options: dict[str, Any]) -> tuple[list[str], Any]:
        text = data.decode(options.get("encoding") or "utf-8-sig")
        reader = csv.reader(
            io.StringIO(text, newline=""),
            delimiter=options.get("column_separator") or ",",
            quotechar=options.get("quote_char") or '"',
        )
        header_count = int(options.get("header_count") or 1)
        column_header = int(options.get("column_header") or 1)
        header: list[str] = []
        for index in range(header_count):
            line = next(reader, [])
            if index + 1 == column_header:
                header = line
        if not header:
            raise csv.Error("empty upload")
        return header, reader

    def _stage(self, conn: Any, input_id: int, width: int, rows: Any) -> int:
        """Store the parsed rows as text, numbered from 1 in upload order; an empty cell is null.

        Short rows are padded and long ones cut to the header's width; blank lines are skipped.
        """
        columns = ", ".join(f"c{i} TEXT" for i in range(width))
        conn.execute(f'CREATE TABLE "stage_{input_id}" (n INTEGER PRIMARY KEY, {columns})')
        # ``n`` is the rowid SQLite assigns in insertion order; NULLIF turns empty cells into nulls
        # in C (per cell in Python it was most of the staging time of a 1M-row upload).
        cells = ", ".join(["NULLIF(?, '')"] * width)
        sql = f'INSERT INTO "stage_{input_id}" VALUES (NULL, {cells})'
        padding = [""] * width
        conn.executemany(
            sql, (row if len(row) == width else (row + padding)[:width] for row in rows if row)
        )
        return conn.execute(f'SELECT count(*) FROM "stage_{input_id}"').fetchone()[0]

    @staticmethod
    def _input_schema(source_id: int, input_id: int, header: list[str], total: int) -> dict[str, Any]:
        return {
            "id": input_id,
            "source_id": source_id,
            "total_rows": total,
            "num_row_errors": 0,
            "created_at": iso_now(),
            "input_columns": [
                {
                    "id": input_id * 1000 + i,
                    "field_name": normalize_field_name(name),
                    "display_name": name,
                    "position": i,
                    "soql_type": "text",
                }
                for i, name in enumerate(header)
            ],
            "output_schemas": [],
        }

    def _initial_output(self, conn: Any, dataset_id: str, input_schema: dict[str, Any]) -> dict[str, Any]:
        """Build the first output schema, typed after the dataset's existing columns."""
        dataset = self.store._load(conn, dataset_id)
        existing = {c["fieldName"]: c for c in dataset.view["columns"]}
        rid = dataset.row_identifier
        columns = []
        for position, column in enumerate(input_schema["input_columns"], start=1):
            field = column["field_name"]
            known = existing.get(field)
            data_type = known["dataTypeName"] if known else "text"
            function = _TYPE_TRANSFORMS.get(t.kind_of(data_type))
            expr = f"{function}(`{field}`)" if function else f"`{field}`"
            columns.append(
                {
                    "field_name": field,
                    "display_name": known["name"] if known else column["display_name"],
                    "description": known["description"] if known else "",
                    "position": position,
                    "is_primary_key": field == rid,
                    "transform": {"transform_expr": expr},
                }
            )
        return self._output_schema(conn, input_schema, columns, [])

    def _output_schema(
        self,
        conn: Any,
        input_schema: dict[str, Any],
        columns: list[dict[str, Any]],
        sort_bys: list[Any],
        count: bool = True,
    ) -> dict[str, Any]:
        """Build an output schema; ``count=False`` leaves ``error_count`` and ``completed_at`` to a later pass."""
        output_id = self.store.next_id(conn, "output_schema")
        by_input = {c["field_name"]: c for c in input_schema["input_columns"]}
        out_columns = []
        for position, column in enumerate(sorted(columns, key=lambda c: c.get("position", 0)), start=1):
            expr = (column.get("transform") or {}).get("transform_expr", f"`{column['field_name']}`")
            match = _TRANSFORM_RE.match(expr)
            if not match or match.group(1) not in _TRANSFORM_TYPES or match.group(2) not in by_input:
                raise PortalError(400, "invalid_request", f"Unsupported transform for {column['field_name']}")
            type_name = _TRANSFORM_TYPES[match.group(1)] or "text"
            transform_id = output_id * 1000 + position
            out_columns.append(
                {
                    "id": transform_id,
                    "field_name": column["field_name"],
                    "display_name": column.get("display_name") or column["field_name"],
                    "description": column.get("description") or "",
                    "position": position,
                    "is_primary_key": bool(column.get("is_primary_key")),
                    "initial_output_column_id": column.get("initial_output_column_id"),
                    "transform": {
                        "id": transform_id,
                        "transform_expr": expr,
                        "output_soql_type": type_name,
                        "transform_input_columns": [{"input_column_id": by_input[match.group(2)]["id"]}],
                        "failed_at": None,
                        "completed_at": iso_now(),
                        "error_count": 0,
                        "_input_position": by_input[match.group(2)]["position"],
                    },
                }
            )
        error_count = self._materialize(conn, input_schema["id"], output_id, out_columns) if count else None
        now = iso_now()
        done = now if count else None
        return {
            "id": output_id,
            "input_schema_id": input_schema["id"],
            "output_columns": out_columns,
            "sort_bys": sort_bys,
            "error_count": error_count,
            "total_rows": input_schema["total_rows"],
            "created_at": now,
            "completed_at": done,
            "finished_at": done,
        }

    def _materialize(self, conn: Any, input_id: int, output_id: int, out_columns: list[dict[str, Any]]) -> int:
        """Run an output schema's transforms once over the staged rows, keep the result, count errors.

        As on DSMAPI, an output schema is computed once: its rows, its error rows and the
        apply job all read this result instead of converting every cell again (the stand-in
        converted 1M rows three times per revision: the initial schema, the transform, the apply).
        Row ``n`` keeps the upload's order; ``err = 1`` marks a row a transform cannot convert.
        """
        table = _output_table(output_id)
        kinds = [t.kind_of(c["transform"]["output_soql_type"]) for c in out_columns]
        values = _value_columns(out_columns)
        cells = []
        for kind, column in zip(kinds, out_columns, strict=True):
            staged = f"c{column['transform']['_input_position']}"
            # Staged cells are text or null: ``to_text`` cannot fail on them.
            cells.append(staged if kind == "text" else f"standin_convert('{kind}', {staged})")
        conn.create_function("standin_convert", 2, _convert_cell, deterministic=True)
        conn.execute(f'DROP TABLE IF EXISTS "{table}"')
        conn.execute(f'CREATE TABLE "{table}" (n INTEGER PRIMARY KEY, err INTEGER NOT NULL, {", ".join(values)})')
        conn.execute(f'INSERT INTO "{table}" SELECT n, 0, {", ".join(cells)} FROM "stage_{input_id}"')
        converted = [value for value, kind in zip(values, kinds, strict=True) if kind != "text"]
        if not converted:
            return 0
        # A conversion that failed left a blob, which no converter returns: the row becomes an error row.
        failed = " OR ".join(f"typeof({value}) = 'blob'" for value in converted)
        cleared = ", ".join(f"{value} = NULL" for value in values)
        return conn.execute(f'UPDATE "{table}" SET err = 1, {cleared} WHERE {failed}').rowcount

    @staticmethod
    def _output_rows(conn: Any, output_id: int, out_columns: list[dict[str, Any]]) -> Any:
        """Yield ``(keys, values_or_None)`` per row of a computed output; ``None`` marks a row with errors."""
        keys = tuple(c["field_name"] for c in out_columns)
        values = ", ".join(_value_columns(out_columns))
        cursor = conn.execute(f'SELECT err, {values} FROM "{_output_table(output_id)}" ORDER BY n')
        while batch := cursor.fetchmany(5000):
            for err, *row in batch:
                yield keys, None if err else tuple(row)

    def find_schemas(self, source_id: int, input_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        source = self.source(source_id)
        for schema in source["schemas"]:
            if schema["id"] == input_id:
                return source, schema
        raise PortalError(404, "not_found", f"Input schema {input_id} not found")

    def input_doc(self, source_id: int, input_id: int) -> dict[str, Any]:
        _, schema = self.find_schemas(source_id, input_id)
        return {"resource": _public(schema), "links": self.input_links(source_id, input_id)}

    def output_doc(self, source_id: int, input_id: int, output_id: int | str) -> dict[str, Any]:
        _, schema = self.find_schemas(source_id, input_id)
        outputs = schema["output_schemas"]
        if output_id == "latest":
            chosen = max(outputs, key=lambda o: o["id"])
        else:
            chosen = _find_output(schema, int(output_id))
            if chosen is None:
                raise PortalError(404, "not_found", f"Output schema {output_id} not found")
        base = f"{PREFIX}/source/{source_id}/schema/{input_id}/output/{chosen['id']}"
        return {"resource": _public(chosen), "links": self.output_links(base)}

    def transform(self, source_id: int, input_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /source/<id>/schema/<id>``: create a new output schema.

        As on DSMAPI, the transforms run in the background: the answer has ``completed_at``
        null and clients poll the output schema until it is set (with its ``error_count``).
        Checking 1M rows inside the request outlasted the client's read timeout.
        """
        if not isinstance(body.get("output_columns"), list):
            raise PortalError(400, "invalid_request", "output_columns is required")
        with self._lock, self.store.write_transaction() as conn:
            source, schema = self.find_schemas(source_id, input_id)
            output = self._output_schema(
                conn, schema, body["output_columns"], body.get("sort_bys") or [], count=False
            )
            schema["output_schemas"].append(output)
            self.store.put_object(conn, "source", source_id, source)
            self._computing[output["id"]] = threading.Event()
        worker = threading.Thread(
            target=self._complete_output, args=(source_id, input_id, output["id"]),
            name=f"dsmapi-output-{output['id']}", daemon=True,
        )
        self._jobs.append(worker)
        worker.start()
        return self.output_doc(source_id, input_id, output["id"])

    def _complete_output(self, source_id: int, input_id: int, output_id: int) -> None:
        """Compute the output's rows (counting those the transforms cannot convert), then mark it completed."""
        try:
            # The store's write lock serializes writers, so the source read inside it is current.
            with self.store.write_transaction() as conn:
                source, schema = self.find_schemas(source_id, input_id)
                output = _find_output(schema, output_id)
                errors = self._materialize(conn, input_id, output_id, output["output_columns"])
                now = iso_now()
                output.update(error_count=errors, completed_at=now, finished_at=now)
                self.store.put_object(conn, "source", source_id, source)
        except Exception:
            LOG.exception("transforms of output schema %s crashed", output_id)
            with self.store.write_transaction() as conn:
                source, schema = self.find_schemas(source_id, input_id)
                _find_output(schema, output_id)["failed_at"] = iso_now()
                self.store.put_object(conn, "source", source_id, source)
        finally:
            if pending := self._computing.pop(output_id, None):
                pending.set()

    def _computed_output(self, source_id: int, input_id: int, output_id: int) -> dict[str, Any]:
        """The output schema once its rows are computed (a request for them waits, as on DSMAPI).

        Raises:
            PortalError: 404 if there is no such output schema, 400 if its transforms failed.
        """
        pending = self._computing.get(output_id)
        if pending is not None:
            pending.wait(_COMPUTE_WAIT_S)
        chosen = _find_output(self.find_schemas(source_id, input_id)[1], output_id)
        if chosen is None:
            raise PortalError(404, "not_found", f"Output schema {output_id} not found")
        if not chosen.get("completed_at"):
            raise PortalError(400, "invalid_request", f"Output schema {output_id} has no computed rows")
        return chosen

    def output_rows(
        self, source_id: int, input_id: int, output_id: int, offset: int, limit: int, errors: bool
    ) -> list[Any]:
        """Rows (or error rows) of an output schema: a header element then ``{"row": [...]}``."""
        doc = self.output_doc(source_id, input_id, output_id)["resource"]
        chosen = self._computed_output(source_id, input_id, doc["id"])
        columns = chosen["output_columns"]
        result: list[Any] = [{"output_columns": [_public(c) for c in columns]}]
        with self.store.read_snapshot() as conn:
            index = 0
            for _, values in self._output_rows(conn, chosen["id"], columns):
                if (values is None) != errors:
                    continue
                if index >= offset:
                    if len(result) > limit:
                        break
                    shown = [
                        t.format_json(t.kind_of(c["transform"]["output_soql_type"]), v)
                        for c, v in zip(columns, values or [None] * len(columns), strict=True)
                    ]
                    result.append({"row": shown})
                index += 1
        return result

    def validate_row_id(
        self, source_id: int, input_id: int, output_id: int, transform_id: int
    ) -> dict[str, Any]:
        chosen = self._computed_output(source_id, input_id, output_id)
        index = next(
            (i for i, c in enumerate(chosen["output_columns"]) if c["transform"]["id"] == transform_id), None
        )
        if index is None:
            raise PortalError(404, "not_found", "Transform not found")
        seen: set[Any] = set()
        with self.store.read_snapshot() as conn:
            for _, values in self._output_rows(conn, output_id, chosen["output_columns"]):
                if values is None or values[index] is None or values[index] in seen:
                    return {"valid": False}
                seen.add(values[index])
        return {"valid": True}

    # -- apply ----------------------------------------------------------------------
    def apply(self, fourfour: str, seq: int, body: dict[str, Any]) -> dict[str, Any]:
        """``PUT /revision/<4x4>/<seq>/apply``: start the job that publishes the revision."""
        with self._lock:
            rev = self.find_revision(fourfour, seq)
            if rev["closed_at"]:
                raise PortalError(400, "invalid_request", "Revision is already closed")
            output_id = body.get("output_schema_id") or rev.get("output_schema_id")
            with self.store.write_transaction() as conn:
                job_id = self.store.next_id(conn, "job")
                job = {
                    "id": job_id,
                    "revision_id": rev["id"],
                    "fourfour": fourfour,
                    "revision_seq": seq,
                    "status": "initializing",
                    "created_at": iso_now(),
                    "finished_at": None,
                    "output_schema_id": output_id,
                    "log": [],
                }
                rev["output_schema_id"] = output_id
                rev["closed_at"] = iso_now()
                self.store.put_object(conn, "job", job_id, job)
                self.store.put_object(conn, "revision", rev["id"], rev)
        worker = threading.Thread(
            target=self._run_job, args=(job, rev), name=f"dsmapi-job-{job_id}", daemon=True
        )
        self._jobs.append(worker)
        worker.start()
        return self.job_doc(job)

    def job(self, job_id: int) -> dict[str, Any]:
        job = self.store.get_object("job", job_id)
        if job is None:
            raise PortalError(404, "not_found", f"Task set {job_id} not found")
        return self.job_doc(job)

    def wait_for_jobs(self, timeout: float = 30.0) -> None:
        """Join running apply jobs (used on shutdown)."""
        for worker in list(self._jobs):
            worker.join(timeout)

    def _run_job(self, job: dict[str, Any], rev: dict[str, Any]) -> None:
        try:
            self._set_job(job, "in_progress")
            self._publish(rev)
            self._set_job(job, "successful", finished=True)
        except PortalError as exc:
            LOG.warning("apply job %s failed: %s", job["id"], exc.message)
            self._set_job(job, "failure", finished=True, details=exc.message)
        except Exception as exc:
            LOG.exception("apply job %s crashed", job["id"])
            self._set_job(job, "failure", finished=True, details=exc.__class__.__name__)

    def _set_job(
        self, job: dict[str, Any], status: str, finished: bool = False, details: str | None = None
    ) -> None:
        job["status"] = status
        job["log"].append({"stage": status, "time": iso_now(), "details": details})
        if finished:
            job["finished_at"] = iso_now()
        with self.store.write_transaction() as conn:
            self.store.put_object(conn, "job", job["id"], job)

    def _locate_output(self, output_id: int) -> dict[str, Any]:
        for source in self.store.list_objects("source"):
            for schema in source["schemas"]:
                if output := _find_output(schema, output_id):
                    return output
        raise PortalError(400, "invalid_request", f"Output schema {output_id} not found")

    def _publish(self, rev: dict[str, Any]) -> None:
        """Apply metadata and data of a revision in a single transaction."""
        output_id = rev.get("output_schema_id")
        output = self._locate_output(int(output_id)) if output_id else None
        with self.store.write_transaction() as conn:
            dataset = self.store._load(conn, rev["fourfour"])
            view = merge_view(dataset.view, rev.get("metadata") or {})
            if output is None:
                conn.execute(
                    "UPDATE datasets SET view = ?, view_last_modified = ? WHERE id = ?",
                    (_dumps(view), int(time.time()), dataset.id),
                )
                return
            columns = output["output_columns"]
            action = rev["action"]["type"]
            view["publicationStage"] = "published"
            if action == "replace" or not dataset.view["columns"]:
                # A replace, or the first data of a new dataset: the output schema becomes the
                # dataset's schema (columns, types, row identifier) in the same transaction.
                # Rows with errors are not imported, as on the portal.
                view = _view_with_columns(view, columns)
                self.store.swap_rows_from(
                    conn, dataset, view, [c["field_name"] for c in columns],
                    f'SELECT {", ".join(_value_columns(columns))} FROM "{_output_table(output["id"])}" WHERE err = 0 ORDER BY n',
                )
            else:
                rows = (
                    (keys, values)
                    for keys, values in self._output_rows(conn, output["id"], columns)
                    if values is not None  # rows with errors are not imported, as on the portal
                )
                self._upsert_rows(conn, dataset, rows, delete=action == "delete")
                conn.execute(
                    "UPDATE datasets SET view = ?, view_last_modified = ?, rows_updated_at = ? WHERE id = ?",
                    (_dumps(view), int(time.time()), int(time.time()), dataset.id),
                )

    @staticmethod
    def _upsert_rows(conn: Any, dataset: Any, rows: Any, delete: bool) -> None:
        batch = []
        for keys, values in rows:
            row = dict(zip(keys, values, strict=True))
            unknown = [k for k in row if k not in dataset.kinds]
            if unknown:
                raise PortalError(400, "invalid_request", f"Unknown field '{unknown[0]}' in update revision")
            if delete:
                row = {dataset.row_identifier: row.get(dataset.row_identifier), ":deleted": True}
            batch.append(row)
            if len(batch) >= 5000:
                apply_ops(conn, dataset, plan_ops(dataset, batch))
                batch = []
        if batch:
            apply_ops(conn, dataset, plan_ops(dataset, batch))


#: What a failed conversion leaves in an output table: converters never return bytes.
_FAILED = b"\x00"
#: How long a request for an output schema's rows waits for them to be computed.
_COMPUTE_WAIT_S = 600.0


def _value_columns(out_columns: list[dict[str, Any]]) -> list[str]:
    """The names of an output table's value columns, one per output column in order."""
    return [f"v{i}" for i in range(len(out_columns))]


def _find_output(schema: dict[str, Any], output_id: int) -> dict[str, Any] | None:
    """The output schema ``output_id`` of an input schema, if it has one."""
    return next((o for o in schema["output_schemas"] if o["id"] == output_id), None)


def _output_table(output_id: int) -> str:
    """The table holding an output schema's computed rows."""
    return f"out_{output_id}"


def _convert_cell(kind: str, cell: str | None) -> Any:
    """A staged cell (text or null) converted to ``kind``; ``_FAILED`` (a blob) where it cannot be."""
    if cell is None:
        return None
    try:
        return t.converter(kind)(cell)
    except t.CoercionError:
        return _FAILED


def _public(obj: Any) -> Any:
    """Strip private ``_``-prefixed keys from a stored document."""
    if isinstance(obj, dict):
        return {k: _public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [_public(v) for v in obj]
    return obj


def _dumps(view: dict[str, Any]) -> str:
    import json

    return json.dumps(view, ensure_ascii=False)


def _view_with_columns(view: dict[str, Any], out_columns: list[dict[str, Any]]) -> dict[str, Any]:
    """The dataset schema after a replace: the output schema's columns, keeping ids."""
    existing = {c["fieldName"]: c for c in view["columns"]}
    next_id = max([c["id"] for c in view["columns"]] + [600000000]) + 1
    columns = []
    rid = None
    for position, column in enumerate(out_columns, start=1):
        field = column["field_name"]
        type_name = column["transform"]["output_soql_type"]
        old = existing.get(field)
        if old and t.kind_of(old["dataTypeName"]) == t.kind_of(type_name):
            type_name = old["dataTypeName"]
        column_id = old["id"] if old else next_id
        next_id += 0 if old else 1
        columns.append(
            {
                "id": column_id,
                "name": column["display_name"],
                "dataTypeName": type_name,
                "description": column.get("description") or "",
                "fieldName": field,
                "position": position,
                "renderTypeName": type_name,
                "tableColumnId": column_id,
                "format": (old or {}).get("format", {}),
            }
        )
        if column.get("is_primary_key"):
            rid = field
    view = dict(view)
    view["columns"] = columns
    view["metadata"] = {**view["metadata"], "rowIdentifier": rid}
    return view


__all__ = ["Dsmapi", "not_found", "quote_field"]
