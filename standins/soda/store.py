"""SQLite-backed storage of datasets, rows and view metadata for the stand-in.

Design notes:

* One SQLite file in WAL mode. A single writer connection guarded by a lock applies
  every write request inside one ``BEGIN IMMEDIATE`` transaction, so a request is
  applied fully or not at all, and a crash of the server leaves the last committed
  state. Readers use per-thread connections and read inside a transaction, so they see
  a consistent snapshot (old version or new version, never a mix).
* Each dataset's rows live in their own table (``data_<n>``), one column per field
  (``"f_<fieldName>"``) plus ``_sid`` (the ``:id``), ``_created_at`` and ``_updated_at``.
  Replacing a dataset builds a new table and swaps the pointer in the same transaction.
* View/download counters are kept in memory and folded into the database at the next
  write, so counting a read never waits for a long write.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from standins.soda import soql
from standins.soda import types as t

FIELD_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
FOURFOUR_RE = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}$")
IGNORED_SYSTEM_FIELDS = frozenset({":created_at", ":updated_at"})
BATCH = 5000
DEFAULT_OWNER = {
    "id": "stnd-inus",
    "displayName": "Gobernación de Casanare (stand-in)",
    "screenName": "Gobernación de Casanare (stand-in)",
    "type": "interactive",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    view TEXT NOT NULL,
    tbl TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    rows_updated_at INTEGER NOT NULL,
    view_last_modified INTEGER NOT NULL,
    publication_date INTEGER NOT NULL,
    view_count INTEGER NOT NULL DEFAULT 0,
    download_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dsmapi (
    kind TEXT NOT NULL, id INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, id)
);
"""


class PortalError(Exception):
    """An error answered to the client as Socrata-like JSON.

    Attributes:
        status: HTTP status code.
        code: Socrata-like error code.
        message: Human readable message (never contains row values).
        data: Optional extra details.
    """

    def __init__(self, status: int, code: str, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.data = data or {}

    def body(self) -> dict[str, Any]:
        """Return the JSON body Socrata would send."""
        body: dict[str, Any] = {"code": self.code, "error": True, "message": self.message}
        if self.data:
            body["data"] = self.data
        return body


def not_found(dataset_id: str) -> PortalError:
    """Build the 404 answered for unknown dataset ids."""
    return PortalError(
        404,
        "not_found",
        f"Cannot find view with id {dataset_id}",
        {"id": dataset_id},
    )


@dataclass
class Dataset:
    """A dataset as loaded from the ``datasets`` table."""

    id: str
    view: dict[str, Any]
    table: str
    created_at: int
    rows_updated_at: int
    view_last_modified: int
    publication_date: int
    view_count: int
    download_count: int

    @property
    def columns(self) -> list[dict[str, Any]]:
        """User columns in position order."""
        return sorted(self.view["columns"], key=lambda c: c["position"])

    @property
    def field_names(self) -> list[str]:
        return [c["fieldName"] for c in self.columns]

    @property
    def kinds(self) -> dict[str, str]:
        return {c["fieldName"]: t.kind_of(c["dataTypeName"]) for c in self.view["columns"]}

    @property
    def row_identifier(self) -> str | None:
        return self.view.get("metadata", {}).get("rowIdentifier") or None

    def soql_columns(self) -> dict[str, soql.Column]:
        """Columns addressable from SoQL, including system fields."""
        columns = {
            c["fieldName"]: soql.Column(
                quote_field(c["fieldName"]), t.kind_of(c["dataTypeName"]), c["dataTypeName"]
            )
            for c in self.view["columns"]
        }
        columns[":id"] = soql.Column("_sid", "sid", "row_identifier")
        columns[":created_at"] = soql.Column("_created_at", "fixed", "fixed_timestamp")
        columns[":updated_at"] = soql.Column("_updated_at", "fixed", "fixed_timestamp")
        return columns


@dataclass
class QueryPlan:
    """A compiled read query."""

    sql: str
    params: list[Any]
    names: list[str]
    kinds: list[str]
    type_names: list[str]


def quote_field(field_name: str) -> str:
    """SQL identifier of a field's column (field names are validated, so this is safe)."""
    return f'"f_{field_name}"'


def now_epoch() -> int:
    """Current time in whole epoch seconds (the unit of ``rowsUpdatedAt``)."""
    return int(time.time())


class Store:
    """All persistent state of the portal stand-in."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._counter_lock = threading.Lock()
        self._pending_counts: dict[tuple[str, str], int] = {}
        self._writer = self._connect()
        self._writer.executescript(_SCHEMA)
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    # -- connections -----------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against a crash of this process, which is what the tests kill.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("PRAGMA temp_store=FILE")
        conn.execute("PRAGMA case_sensitive_like=ON")
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    @contextlib.contextmanager
    def read_snapshot(self) -> Iterator[sqlite3.Connection]:
        """Yield a connection inside a read transaction (a consistent snapshot)."""
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def write_transaction(self) -> Iterator[sqlite3.Connection]:
        """Yield the writer connection inside ``BEGIN IMMEDIATE``; commit or roll back."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                self._flush_counts(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Persist pending counters and close every connection."""
        with contextlib.suppress(sqlite3.Error), self.write_transaction():
            pass
        with self._readers_lock:
            for conn in self._readers:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._readers.clear()
        with self._write_lock:
            self._writer.close()

    # -- counters ----------------------------------------------------------------
    def _next_counter(self, conn: sqlite3.Connection, name: str, start: int) -> int:
        row = conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        value = row[0] + 1 if row else start
        conn.execute("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", (name, value))
        return value

    def bump(self, dataset_id: str, what: str) -> None:
        """Count a view (``"view_count"``) or a download (``"download_count"``)."""
        with self._counter_lock:
            key = (dataset_id, what)
            self._pending_counts[key] = self._pending_counts.get(key, 0) + 1

    def _pending(self, dataset_id: str, what: str) -> int:
        with self._counter_lock:
            return self._pending_counts.get((dataset_id, what), 0)

    def _flush_counts(self, conn: sqlite3.Connection) -> None:
        with self._counter_lock:
            pending, self._pending_counts = self._pending_counts, {}
        for (dataset_id, what), count in pending.items():
            conn.execute(f"UPDATE datasets SET {what} = {what} + ? WHERE id = ?", (count, dataset_id))

    # -- datasets ------------------------------------------------------------------
    @staticmethod
    def _load(conn: sqlite3.Connection, dataset_id: str) -> Dataset:
        row = conn.execute(
            "SELECT id, view, tbl, created_at, rows_updated_at, view_last_modified, publication_date,"
            " view_count, download_count FROM datasets WHERE id = ?",
            (dataset_id,),
        ).fetchone()
        if row is None:
            raise not_found(dataset_id)
        return Dataset(row[0], json.loads(row[1]), *row[2:])

    def dataset_ids(self) -> list[str]:
        """Ids of every dataset, sorted."""
        with self.read_snapshot() as conn:
            return [r[0] for r in conn.execute("SELECT id FROM datasets ORDER BY id")]

    def dataset(self, dataset_id: str) -> Dataset:
        """Load one dataset.

        Raises:
            PortalError: 404 if it does not exist.
        """
        with self.read_snapshot() as conn:
            return self._load(conn, dataset_id)

    def seed(self, spec: dict[str, Any]) -> list[str]:
        """Create the seed datasets that do not exist yet (existing ones keep their state).

        Args:
            spec: ``{"datasets": [...]}`` as documented in ``docs/soda_standin.md``.

        Returns:
            Ids of the datasets created now.
        """
        created = []
        for entry in spec.get("datasets", []):
            with self.write_transaction() as conn:
                exists = conn.execute("SELECT 1 FROM datasets WHERE id = ?", (entry.get("id"),)).fetchone()
                if exists:
                    continue
                self._create(conn, entry)
                created.append(entry["id"])
        return created

    def create_dataset(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Create a dataset (legacy ``POST /api/views.json``); returns its view JSON."""
        entry = dict(entry)
        with self.write_transaction() as conn:
            if not entry.get("id"):
                entry["id"] = _new_fourfour(conn)
            if conn.execute("SELECT 1 FROM datasets WHERE id = ?", (entry["id"],)).fetchone():
                raise PortalError(409, "conflict", f"View {entry['id']} already exists")
            self._create(conn, entry)
        return self.view_json(entry["id"])

    def _create(self, conn: sqlite3.Connection, entry: dict[str, Any]) -> None:
        view = self._normalize_entry(conn, entry)
        table = self._new_table(conn, view["columns"], view["metadata"].get("rowIdentifier"))
        stamp = now_epoch()
        conn.execute(
            "INSERT INTO datasets (id, view, tbl, created_at, rows_updated_at, view_last_modified,"
            " publication_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (view["id"], json.dumps(view, ensure_ascii=False), table, stamp, stamp, stamp, stamp),
        )

    def _normalize_entry(self, conn: sqlite3.Connection, entry: dict[str, Any]) -> dict[str, Any]:
        dataset_id = entry.get("id")
        if not isinstance(dataset_id, str) or not FOURFOUR_RE.match(dataset_id):
            raise PortalError(400, "invalid_request", "Dataset id must look like abcd-1234")
        columns = []
        for position, column in enumerate(entry.get("columns") or [], start=1):
            columns.append(self._normalize_column(conn, column, position))
        names = [c["fieldName"] for c in columns]
        if len(set(names)) != len(names):
            raise PortalError(400, "invalid_request", "Duplicate fieldName in columns")
        metadata = copy.deepcopy(entry.get("metadata") or {})
        row_identifier = entry.get("rowIdentifier", metadata.get("rowIdentifier"))
        if row_identifier and row_identifier not in names:
            raise PortalError(400, "invalid_request", f"rowIdentifier {row_identifier} is not a column")
        metadata["rowIdentifier"] = row_identifier or None
        license_value = entry.get("license")
        view = {
            "id": dataset_id,
            "name": entry.get("name") or dataset_id,
            "description": entry.get("description") or "",
            "category": entry.get("category"),
            "tags": list(entry.get("tags") or []),
            "attribution": entry.get("attribution"),
            "attributionLink": entry.get("attributionLink"),
            "licenseId": entry.get("licenseId")
            or (license_value.get("licenseId") if isinstance(license_value, dict) else license_value),
            "license": license_value
            if isinstance(license_value, dict)
            else ({"name": license_value} if license_value else None),
            "provenance": entry.get("provenance", "official"),
            "owner": entry.get("owner") or DEFAULT_OWNER,
            "metadata": metadata,
            "columns": columns,
            # Datasets created through DSMAPI stay unpublished drafts until a revision is applied.
            "publicationStage": entry.get("publicationStage") or "published",
        }
        return view

    def _normalize_column(
        self, conn: sqlite3.Connection, column: dict[str, Any], position: int
    ) -> dict[str, Any]:
        field_name = column.get("fieldName") or column.get("field_name")
        if not isinstance(field_name, str) or not FIELD_NAME_RE.match(field_name):
            raise PortalError(400, "invalid_request", "Column fieldName must match [a-z_][a-z0-9_]*")
        data_type = (column.get("dataTypeName") or column.get("datatype") or "text").lower()
        column_id = self._next_counter(conn, "column_id", 500000001)
        return {
            "id": column_id,
            "name": column.get("name") or field_name,
            "dataTypeName": data_type,
            "description": column.get("description") or "",
            "fieldName": field_name,
            "position": position,
            "renderTypeName": data_type,
            "tableColumnId": column_id,
            "format": column.get("format") or {},
        }

    def _new_table(
        self, conn: sqlite3.Connection, columns: list[dict[str, Any]], row_identifier: str | None
    ) -> str:
        table = f"data_{self._next_counter(conn, 'table', 1)}"
        field_sql = "".join(
            f", {quote_field(c['fieldName'])} {t.sql_affinity(t.kind_of(c['dataTypeName']))}" for c in columns
        )
        conn.execute(
            f'CREATE TABLE "{table}" (_sid INTEGER PRIMARY KEY AUTOINCREMENT,'
            f" _created_at REAL NOT NULL, _updated_at REAL NOT NULL{field_sql})"
        )
        if row_identifier:
            conn.execute(f'CREATE UNIQUE INDEX "{table}_rid" ON "{table}" ({quote_field(row_identifier)})')
        return table

    def delete_dataset(self, dataset_id: str) -> None:
        """Delete a dataset and its rows."""
        with self.write_transaction() as conn:
            dataset = self._load(conn, dataset_id)
            conn.execute(f'DROP TABLE IF EXISTS "{dataset.table}"')
            conn.execute("DELETE FROM datasets WHERE id = ?", (dataset_id,))

    def reset(self, seed_spec: dict[str, Any] | None) -> None:
        """Drop every dataset and DSMAPI object, then re-seed (tests only)."""
        with self.write_transaction() as conn:
            for (table,) in conn.execute("SELECT tbl FROM datasets").fetchall():
                conn.execute(f'DROP TABLE IF EXISTS "{table}"')
            for (table,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'stage_%' OR name LIKE 'out_%')"
            ).fetchall():
                conn.execute(f'DROP TABLE IF EXISTS "{table}"')
            conn.execute("DELETE FROM datasets")
            conn.execute("DELETE FROM dsmapi")
            with self._counter_lock:
                self._pending_counts.clear()
        if seed_spec:
            self.seed(seed_spec)

    # -- view metadata ---------------------------------------------------------------
    def view_json(self, dataset_id: str) -> dict[str, Any]:
        """Render ``/api/views/<id>.json`` like the real portal."""
        dataset = self.dataset(dataset_id)
        return render_view(
            dataset,
            dataset.view_count + self._pending(dataset_id, "view_count"),
            dataset.download_count + self._pending(dataset_id, "download_count"),
        )

    def update_view(self, dataset_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Merge a metadata patch (``PUT /api/views/<id>.json``) and return the new view."""
        if not isinstance(patch, dict):
            raise PortalError(400, "invalid_request", "Body must be a JSON object")
        with self.write_transaction() as conn:
            dataset = self._load(conn, dataset_id)
            view = merge_view(dataset.view, patch)
            conn.execute(
                "UPDATE datasets SET view = ?, view_last_modified = ? WHERE id = ?",
                (json.dumps(view, ensure_ascii=False), now_epoch(), dataset_id),
            )
        return self.view_json(dataset_id)

    # -- reads ---------------------------------------------------------------------
    def plan_query(self, dataset: Dataset, params: dict[str, str]) -> QueryPlan:
        """Compile SODA query parameters into SQL.

        Raises:
            PortalError: 400 for malformed queries or unknown columns.
        """
        try:
            return build_plan(dataset, params)
        except (soql.SoqlError, t.CoercionError) as exc:
            raise PortalError(400, "query.compiler.malformed", str(exc)) from exc

    def run_query(self, dataset_id: str, params: dict[str, str]) -> tuple[QueryPlan, Iterator[list[tuple]]]:
        """Run a read query inside one snapshot.

        Returns:
            The plan and an iterator of row batches (the snapshot ends when exhausted
            or closed).
        """
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            dataset = self._load(conn, dataset_id)
            plan = self.plan_query(dataset, params)
            cursor = conn.execute(plan.sql, plan.params)
        except sqlite3.Error as exc:
            conn.execute("COMMIT")
            raise PortalError(400, "query.execution.failed", f"Query failed: {exc}") from exc
        except BaseException:
            conn.execute("COMMIT")
            raise

        def batches() -> Iterator[list[tuple]]:
            try:
                while True:
                    batch = cursor.fetchmany(2000)
                    if not batch:
                        return
                    yield batch
            finally:
                cursor.close()
                conn.execute("COMMIT")

        return plan, batches()

    def row_count(self, dataset_id: str) -> int:
        """Number of rows currently published in a dataset."""
        with self.read_snapshot() as conn:
            dataset = self._load(conn, dataset_id)
            return conn.execute(f'SELECT COUNT(*) FROM "{dataset.table}"').fetchone()[0]

    # -- writes ----------------------------------------------------------------------
    def upsert(self, dataset_id: str, rows: Any) -> dict[str, int]:
        """Apply a SODA upsert (``POST /resource/<id>.json``) atomically.

        Raises:
            PortalError: 400 for invalid payloads (nothing is applied), 404 for unknown ids.
        """
        if not isinstance(rows, list):
            rows = [rows] if isinstance(rows, dict) else None
        if rows is None:
            raise PortalError(400, "invalid_request", "Upsert body must be a JSON array of objects")
        with self.write_transaction() as conn:
            dataset = self._load(conn, dataset_id)
            ops = plan_ops(dataset, rows)
            result = apply_ops(conn, dataset, ops)
            conn.execute("UPDATE datasets SET rows_updated_at = ? WHERE id = ?", (now_epoch(), dataset_id))
        return result

    def replace(self, dataset_id: str, rows: Any) -> dict[str, int]:
        """Replace every row atomically (``PUT /resource/<id>.json``)."""
        if not isinstance(rows, list):
            raise PortalError(400, "invalid_request", "Replace body must be a JSON array of objects")
        with self.write_transaction() as conn:
            dataset = self._load(conn, dataset_id)
            ops = plan_ops(dataset, rows, replace=True)
            values = [op[2] for op in ops]
            keys = [op[1] for op in ops]
            created = self._swap(conn, dataset, dataset.view, zip(keys, values, strict=True))
        return upsert_result(created=created)

    def swap_rows_from(
        self, conn: sqlite3.Connection, dataset: Dataset, view: dict[str, Any], keys: list[str], select: str
    ) -> int:
        """Replace every row with those of ``select`` (one value per key, stored form), in one statement.

        Used by the DSMAPI apply, whose rows are already converted (caller holds the transaction).
        """
        table = self._new_table(conn, view["columns"], view["metadata"].get("rowIdentifier"))
        stamp = time.time()
        columns = ", ".join(["_created_at", "_updated_at"] + [quote_field(k) for k in keys])
        created = conn.execute(
            f'INSERT INTO "{table}" ({columns}) SELECT ?, ?, * FROM ({select})', (stamp, stamp)
        ).rowcount
        self._point_to(conn, dataset, view, table)
        return created

    def _swap(
        self,
        conn: sqlite3.Connection,
        dataset: Dataset,
        view: dict[str, Any],
        rows: Iterable[tuple[tuple[str, ...], tuple[Any, ...]]],
    ) -> int:
        table = self._new_table(conn, view["columns"], view["metadata"].get("rowIdentifier"))
        stamp = time.time()
        created = 0
        sql_cache: dict[tuple[str, ...], str] = {}
        batch: list[tuple[Any, ...]] = []
        batch_keys: tuple[str, ...] | None = None
        rid = view["metadata"].get("rowIdentifier")
        for keys, values in rows:
            if keys != batch_keys and batch:
                created += _insert_batch(conn, table, batch_keys, batch, sql_cache, rid)  # type: ignore[arg-type]
                batch = []
            batch_keys = keys
            batch.append((stamp, stamp, *values))
            if len(batch) >= BATCH:
                created += _insert_batch(conn, table, keys, batch, sql_cache, rid)
                batch = []
        if batch:
            created += _insert_batch(conn, table, batch_keys, batch, sql_cache, rid)  # type: ignore[arg-type]
        self._point_to(conn, dataset, view, table)
        return created

    @staticmethod
    def _point_to(conn: sqlite3.Connection, dataset: Dataset, view: dict[str, Any], table: str) -> None:
        """Drop the dataset's old rows table and point the dataset (and its new view) at ``table``."""
        conn.execute(f'DROP TABLE IF EXISTS "{dataset.table}"')
        stamp_int = now_epoch()
        conn.execute(
            "UPDATE datasets SET tbl = ?, view = ?, rows_updated_at = ?, view_last_modified = ? WHERE id = ?",
            (table, json.dumps(view, ensure_ascii=False), stamp_int, stamp_int, dataset.id),
        )

    def delete_row(self, dataset_id: str, key: str) -> dict[str, int]:
        """Delete one row by row identifier value (or ``:id``).

        Raises:
            PortalError: 404 if no row matches.
        """
        with self.write_transaction() as conn:
            dataset = self._load(conn, dataset_id)
            deleted = 0
            rid = dataset.row_identifier
            if rid:
                with contextlib.suppress(t.CoercionError):
                    value = t.coerce(dataset.kinds[rid], key)
                    deleted = conn.execute(
                        f'DELETE FROM "{dataset.table}" WHERE {quote_field(rid)} = ?', (value,)
                    ).rowcount
            if not deleted:
                with contextlib.suppress(t.CoercionError, ValueError):
                    sid = t.decode_sid(key) if not key.isdigit() else int(key)
                    deleted = conn.execute(f'DELETE FROM "{dataset.table}" WHERE _sid = ?', (sid,)).rowcount
            if not deleted:
                raise PortalError(404, "not_found", "Row not found")
            conn.execute("UPDATE datasets SET rows_updated_at = ? WHERE id = ?", (now_epoch(), dataset_id))
        return upsert_result(deleted=1, by_rid=1 if rid else 0, by_sid=0 if rid else 1)

    # -- DSMAPI object storage -----------------------------------------------------------
    def put_object(self, conn: sqlite3.Connection, kind: str, obj_id: int, body: dict[str, Any]) -> None:
        """Store a DSMAPI object (revision, source, schema, job) as JSON."""
        conn.execute(
            "INSERT OR REPLACE INTO dsmapi (kind, id, body) VALUES (?, ?, ?)",
            (kind, obj_id, json.dumps(body, ensure_ascii=False)),
        )

    def get_object(self, kind: str, obj_id: int) -> dict[str, Any] | None:
        """Load a DSMAPI object, or ``None``."""
        with self.read_snapshot() as conn:
            row = conn.execute("SELECT body FROM dsmapi WHERE kind = ? AND id = ?", (kind, obj_id)).fetchone()
        return json.loads(row[0]) if row else None

    def list_objects(self, kind: str) -> list[dict[str, Any]]:
        """Load every DSMAPI object of a kind, by id."""
        with self.read_snapshot() as conn:
            rows = conn.execute("SELECT body FROM dsmapi WHERE kind = ? ORDER BY id", (kind,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def next_id(self, conn: sqlite3.Connection, kind: str) -> int:
        """Allocate an id for a DSMAPI object."""
        return self._next_counter(conn, f"dsmapi_{kind}", 1)


# -- helpers (module level so they stay small and testable) -------------------------------


def _new_fourfour(conn: sqlite3.Connection) -> str:
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    while True:
        candidate = (
            "".join(secrets.choice(alphabet) for _ in range(4))
            + "-"
            + "".join(secrets.choice(alphabet) for _ in range(4))
        )
        if not conn.execute("SELECT 1 FROM datasets WHERE id = ?", (candidate,)).fetchone():
            return candidate


def upsert_result(
    created: int = 0, updated: int = 0, deleted: int = 0, by_rid: int = 0, by_sid: int = 0
) -> dict[str, int]:
    """Build the response body of a SODA write."""
    return {
        "By RowIdentifier": by_rid,
        "By SID": by_sid,
        "Errors": 0,
        "Rows Created": created,
        "Rows Deleted": deleted,
        "Rows Updated": updated,
    }


def plan_ops(
    dataset: Dataset, rows: list[Any], replace: bool = False
) -> list[tuple[str, tuple[str, ...], tuple[Any, ...]]]:
    """Validate and coerce every row before anything is written.

    Each op is ``(kind, field_names, values)`` with kind one of ``upsert`` (by row
    identifier), ``delete_rid``, ``insert``, ``update_sid`` or ``delete_sid``; for the
    ``*_sid`` kinds the first value is the ``_sid``.

    Raises:
        PortalError: 400 describing the first invalid row (field names only, no values).
    """
    kinds = dataset.kinds
    rid = dataset.row_identifier
    ops = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise PortalError(400, "invalid_request", f"Row {index} is not a JSON object", {"row": index})
        ops.append(_plan_row(row, index, kinds, rid, replace))
    return ops


def _plan_row(
    row: dict[str, Any], index: int, kinds: dict[str, str], rid: str | None, replace: bool
) -> tuple[str, tuple[str, ...], tuple[Any, ...]]:
    deleted = row.get(":deleted") is True or str(row.get(":deleted")).lower() == "true"
    sid_value = row.get(":id")
    keys: list[str] = []
    values: list[Any] = []
    for name, value in row.items():
        if name in (":deleted", ":id") or name in IGNORED_SYSTEM_FIELDS:
            continue
        kind = kinds.get(name)
        if kind is None:
            raise PortalError(
                400,
                "invalid_request",
                f"Unknown field '{name}' in row {index}: no such column in this dataset",
                {"row": index, "field": name},
            )
        try:
            values.append(t.coerce(kind, value))
        except t.CoercionError as exc:
            raise PortalError(
                400,
                "invalid_request",
                f"Invalid value for field '{name}' in row {index}: {exc}",
                {"row": index, "field": name},
            ) from exc
        keys.append(name)
    if replace:
        return "insert", tuple(keys), tuple(values)
    if sid_value is not None and (not rid or rid not in keys):
        try:
            sid = t.decode_sid(sid_value)
        except t.CoercionError as exc:
            raise PortalError(400, "invalid_request", f"Invalid :id in row {index}", {"row": index}) from exc
        if deleted:
            return "delete_sid", (), (sid,)
        return "update_sid", tuple(keys), (sid, *values)
    if rid:
        if rid not in keys or values[keys.index(rid)] is None:
            raise PortalError(
                400,
                "invalid_request",
                f"Row {index} is missing the row identifier '{rid}'",
                {"row": index, "field": rid},
            )
        if deleted:
            return "delete_rid", (rid,), (values[keys.index(rid)],)
        return "upsert", tuple(keys), tuple(values)
    if deleted:
        raise PortalError(400, "invalid_request", f"Row {index}: ':deleted' needs a row identifier or ':id'")
    return "insert", tuple(keys), tuple(values)


def apply_ops(
    conn: sqlite3.Connection, dataset: Dataset, ops: list[tuple[str, tuple[str, ...], tuple[Any, ...]]]
) -> dict[str, int]:
    """Execute planned ops in order, grouping consecutive ops of the same shape.

    Raises:
        PortalError: 400 if an ``:id`` does not exist or a row identifier would collide.
    """
    counts = _count_rid_effects(conn, dataset, ops)
    table = dataset.table
    rid = dataset.row_identifier
    sql_cache: dict[tuple[str, ...], str] = {}
    stamp = time.time()
    index = 0
    try:
        while index < len(ops):
            kind, keys, _ = ops[index]
            end = index
            while end < len(ops) and ops[end][0] == kind and ops[end][1] == keys:
                end += 1
            group = [op[2] for op in ops[index:end]]
            counts = _run_group(conn, table, rid, kind, keys, group, stamp, sql_cache, counts)
            index = end
    except sqlite3.IntegrityError as exc:
        raise PortalError(400, "invalid_request", "Row identifier values must be unique") from exc
    return counts


def _run_group(
    conn: sqlite3.Connection,
    table: str,
    rid: str | None,
    kind: str,
    keys: tuple[str, ...],
    group: list[tuple[Any, ...]],
    stamp: float,
    sql_cache: dict[tuple[str, ...], str],
    counts: dict[str, int],
) -> dict[str, int]:
    if kind in ("upsert", "insert"):
        rows = [(stamp, stamp, *values) for values in group]
        created = _insert_batch(conn, table, keys, rows, sql_cache, rid if kind == "upsert" else None)
        if kind == "insert":
            counts["Rows Created"] += created
    elif kind == "delete_rid":
        conn.executemany(f'DELETE FROM "{table}" WHERE {quote_field(keys[0])} = ?', group)
    elif kind == "delete_sid":
        deleted = conn.executemany(f'DELETE FROM "{table}" WHERE _sid = ?', group).rowcount
        counts["Rows Deleted"] += max(deleted, 0)
        counts["By SID"] += len(group)
    elif kind == "update_sid":
        assignments = ", ".join(["_updated_at = ?"] + [f"{quote_field(k)} = ?" for k in keys])
        params = [(stamp, *values[1:], values[0]) for values in group]
        updated = conn.executemany(f'UPDATE "{table}" SET {assignments} WHERE _sid = ?', params).rowcount
        if updated != len(group):
            raise PortalError(400, "invalid_request", "A row addressed by :id does not exist")
        counts["Rows Updated"] += updated
        counts["By SID"] += len(group)
    return counts


def _insert_batch(
    conn: sqlite3.Connection,
    table: str,
    keys: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    sql_cache: dict[tuple[str, ...], str],
    upsert_on: str | None,
) -> int:
    cache_key = (table, upsert_on or "", *keys)
    sql = sql_cache.get(cache_key)
    if sql is None:
        columns = ", ".join(["_created_at", "_updated_at"] + [quote_field(k) for k in keys])
        marks = ", ".join("?" * (len(keys) + 2))
        sql = f'INSERT INTO "{table}" ({columns}) VALUES ({marks})'
        if upsert_on:
            updates = ", ".join(
                ["_updated_at = excluded._updated_at"]
                + [f"{quote_field(k)} = excluded.{quote_field(k)}" for k in keys if k != upsert_on]
            )
            sql += f" ON CONFLICT ({quote_field(upsert_on)}) DO UPDATE SET {updates}"
        sql_cache[cache_key] = sql
    conn.executemany(sql, rows)
    return len(rows)


def _count_rid_effects(
    conn: sqlite3.Connection, dataset: Dataset, ops: list[tuple[str, tuple[str, ...], tuple[Any, ...]]]
) -> dict[str, int]:
    """Simulate row-identifier ops in order to report created/updated/deleted counts."""
    counts = upsert_result()
    rid = dataset.row_identifier
    if not rid:
        return counts
    wanted = []
    for kind, keys, values in ops:
        if kind == "upsert":
            wanted.append(values[keys.index(rid)])
        elif kind == "delete_rid":
            wanted.append(values[0])
    existing: set[Any] = set()
    unique = list(dict.fromkeys(wanted))
    for start in range(0, len(unique), 900):
        chunk = unique[start : start + 900]
        marks = ", ".join("?" * len(chunk))
        existing.update(
            r[0]
            for r in conn.execute(
                f'SELECT {quote_field(rid)} FROM "{dataset.table}" WHERE {quote_field(rid)} IN ({marks})',
                chunk,
            )
        )
    for kind, keys, values in ops:
        if kind == "upsert":
            key = values[keys.index(rid)]
            counts["Rows Updated" if key in existing else "Rows Created"] += 1
            existing.add(key)
            counts["By RowIdentifier"] += 1
        elif kind == "delete_rid":
            if values[0] in existing:
                counts["Rows Deleted"] += 1
                existing.discard(values[0])
            counts["By RowIdentifier"] += 1
    return counts


def render_view(dataset: Dataset, view_count: int, download_count: int) -> dict[str, Any]:
    """Build the ``/api/views`` JSON of a dataset."""
    view = copy.deepcopy(dataset.view)
    rid = view["metadata"].get("rowIdentifier")
    rid_column = next((c for c in view["columns"] if c["fieldName"] == rid), None)
    body = {
        "id": dataset.id,
        "name": view["name"],
        "assetType": "dataset",
        "attribution": view.get("attribution"),
        "attributionLink": view.get("attributionLink"),
        "averageRating": 0,
        "category": view.get("category"),
        "createdAt": dataset.created_at,
        "description": view.get("description"),
        "displayType": "table",
        "downloadCount": download_count,
        "hideFromCatalog": False,
        "hideFromDataJson": False,
        "licenseId": view.get("licenseId"),
        "newBackend": True,
        "numberOfComments": 0,
        "oid": dataset.created_at,
        "provenance": view.get("provenance", "official"),
        "publicationAppendEnabled": False,
        "publicationDate": dataset.publication_date,
        "publicationGroup": dataset.created_at,
        "publicationStage": view.get("publicationStage", "published"),
        "rowsUpdatedAt": dataset.rows_updated_at,
        "rowsUpdatedBy": view["owner"].get("id"),
        "tableId": dataset.created_at,
        "totalTimesRated": 0,
        "viewCount": view_count,
        "viewLastModified": dataset.view_last_modified,
        "viewType": "tabular",
        "columns": sorted(view["columns"], key=lambda c: c["position"]),
        "metadata": view["metadata"],
        "owner": view["owner"],
        "tableAuthor": view["owner"],
        "tags": view.get("tags") or [],
        "flags": ["default", "ownerMayBeContacted", "restorable", "restorePossibleForType"],
        "rights": ["read"],
        "grants": [{"inherited": False, "type": "viewer", "flags": ["public"]}],
    }
    if view.get("license"):
        body["license"] = view["license"]
    if view.get("privateMetadata"):
        body["privateMetadata"] = view["privateMetadata"]
    if rid_column is not None:
        body["rowIdentifierColumnId"] = rid_column["id"]
    return body


_MERGE_TOP_LEVEL = (
    "name",
    "description",
    "category",
    "tags",
    "attribution",
    "attributionLink",
    "licenseId",
    "provenance",
    "privateMetadata",  # contact e-mail lives here on the real portal (owners only)
)


def merge_view(view: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Apply a metadata patch: top-level keys replace, ``metadata`` merges key by key.

    Raises:
        PortalError: 400 for columns that do not exist or a bad row identifier.
    """
    view = copy.deepcopy(view)
    for key in _MERGE_TOP_LEVEL:
        if key in patch:
            view[key] = patch[key]
    if "license" in patch:
        value = patch["license"]
        view["license"] = value if isinstance(value, dict) or value is None else {"name": value}
        if isinstance(value, dict) and value.get("licenseId") and "licenseId" not in patch:
            view["licenseId"] = value["licenseId"]
    if isinstance(patch.get("metadata"), dict):
        merged = dict(view.get("metadata") or {})
        merged.update(copy.deepcopy(patch["metadata"]))
        rid = merged.get("rowIdentifier")
        if rid and rid != view["metadata"].get("rowIdentifier"):
            raise PortalError(
                400, "invalid_request", "Changing the row identifier is not supported by the stand-in"
            )
        view["metadata"] = merged
    if isinstance(patch.get("columns"), list):
        _merge_columns(view, patch["columns"])
    return view


def _merge_columns(view: dict[str, Any], columns: list[Any]) -> None:
    by_field = {c["fieldName"]: c for c in view["columns"]}
    by_id = {c["id"]: c for c in view["columns"]}
    for change in columns:
        if not isinstance(change, dict):
            raise PortalError(400, "invalid_request", "Each column must be an object")
        target = by_field.get(change.get("fieldName")) or by_id.get(change.get("id"))
        if target is None:
            raise PortalError(400, "invalid_request", f"No such column: {change.get('fieldName')}")
        for key in ("name", "description"):
            if key in change:
                target[key] = change[key]


def build_plan(dataset: Dataset, params: dict[str, str]) -> QueryPlan:
    """Compile SODA 2.1 query parameters into a :class:`QueryPlan`.

    Raises:
        soql.SoqlError: For malformed queries.
    """
    columns = dataset.soql_columns()
    unknown = [k for k in params if k.startswith("$") and not k.startswith("$$") and k not in _KNOWN_PARAMS]
    if unknown:
        raise soql.SoqlError(f"Unrecognized arguments [{', '.join(sorted(unknown))}]")
    if "$query" in params:
        raise soql.SoqlError("$query is not supported by the stand-in; use $select/$where/$order")
    include_system = params.get("$$exclude_system_fields", "true").lower() == "false"
    default_fields = ([":id", ":created_at", ":updated_at"] if include_system else []) + dataset.field_names
    items = (
        soql.parse_select(params["$select"], columns, dataset.field_names)
        if params.get("$select")
        else [_column_item(columns, f) for f in default_fields]
    )
    where_sql, where_params = _where(dataset, columns, params)
    group = soql.parse_group(params["$group"], columns) if params.get("$group") else []
    aggregated = bool(group) or any(i.expr.aggregate for i in items)
    _check_grouping(items, group, aggregated)
    sql_params: list[Any] = [p for i in items for p in i.expr.params]
    sql = f'SELECT {", ".join(i.expr.sql for i in items)} FROM "{dataset.table}"'
    if where_sql:
        sql += f" WHERE {where_sql}"
        sql_params += where_params
    if group:
        sql += " GROUP BY " + ", ".join(g.sql for g in group)
        sql_params += [p for g in group for p in g.params]
    if params.get("$having"):
        having = soql.parse_where(params["$having"], {**columns, **{i.name: _as_column(i) for i in items}})
        sql += f" HAVING {having.sql}"
        sql_params += having.params
    order_terms = (
        soql.parse_order(params["$order"], columns, {i.name: i.expr for i in items})
        if params.get("$order")
        else []
    )
    if not aggregated:
        # A stable tiebreak keeps $offset paging deterministic, as :id ordering does on SODA.
        order_terms.append("_sid ASC")
    if order_terms:
        sql += " ORDER BY " + ", ".join(order_terms)
    sql += " LIMIT ? OFFSET ?"
    sql_params += [_int_param(params, "$limit", 1000), _int_param(params, "$offset", 0)]
    return QueryPlan(
        sql,
        sql_params,
        [i.name for i in items],
        [i.expr.kind or "bool" for i in items],
        [i.expr.type_name for i in items],
    )


def _column_item(columns: dict[str, soql.Column], name: str) -> soql.SelectItem:
    column = columns[name]
    return soql.SelectItem(name, soql.Expr(column.sql, [], column.kind, column.type_name, name=name))


_KNOWN_PARAMS = frozenset(
    {"$select", "$where", "$order", "$group", "$having", "$limit", "$offset", "$q", "$query"}
)


def _as_column(item: soql.SelectItem) -> soql.Column:
    return soql.Column(item.expr.sql, item.expr.kind or "text", item.expr.type_name)


def _where(
    dataset: Dataset, columns: dict[str, soql.Column], params: dict[str, str]
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    values: list[Any] = []
    if params.get("$where"):
        expr = soql.parse_where(params["$where"], columns)
        if expr.aggregate:
            raise soql.SoqlError("Aggregates are not allowed in $where; use $having")
        clauses.append(expr.sql)
        values += expr.params
    for name, value in params.items():
        if name.startswith("$"):
            continue
        column = columns.get(name)
        if column is None:
            raise soql.SoqlError(f"No such column: {name}")
        left = soql.Expr(column.sql, [], column.kind, column.type_name)
        right = soql.Expr("?", [value], None, literal=value, is_literal=True)
        expr = soql.compare(left, "=", right)
        clauses.append(expr.sql)
        values += expr.params
    if params.get("$q"):
        text_columns = [
            quote_field(c["fieldName"]) for c in dataset.columns if t.kind_of(c["dataTypeName"]) == "text"
        ]
        if text_columns:
            clauses.append("(" + " OR ".join(f"instr(lower({c}), lower(?)) > 0" for c in text_columns) + ")")
            values += [params["$q"]] * len(text_columns)
        else:
            clauses.append("0")
    return " AND ".join(clauses), values


def _check_grouping(items: list[soql.SelectItem], group: list[soql.Expr], aggregated: bool) -> None:
    if not aggregated:
        return
    grouped = {g.sql for g in group}
    for item in items:
        if not item.expr.aggregate and not item.expr.is_literal and item.expr.sql not in grouped:
            raise soql.SoqlError(f"Column {item.name} must appear in $group or be used in an aggregate")


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise soql.SoqlError(f"{name} must be a non-negative integer") from exc
    if value < 0:
        raise soql.SoqlError(f"{name} must be a non-negative integer")
    return value
