"""Staging area: run folders, manifests and published snapshots under a base URL.

The base URL comes from configuration (``file://…`` by default, ``s3://…`` in production) and
every access goes through fsspec, so two tasks of one run never assume they share a disk.

Layout::

    <base>/<slug>/ejecuciones/<run>/extraido.parquet, anonimizado.parquet, original/…,
                                   etapas/<etapa>.json, manifest.json
    <base>/<slug>/estado/ultimo_exito.json          last successful run (hash, counts)
    <base>/<slug>/snapshots/<version>.parquet       what was published, versioned
    <base>/<slug>/estado/historial.jsonl            one line per successful run
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import fsspec

if TYPE_CHECKING:
    import pandas as pd

#: Tables of at least this many rows are read a column at a time (see ``Storage.read_parquet``).
FILAS_LECTURA_POR_COLUMNA = 250_000

# Staging holds raw personal data (original/, extraido.parquet): on file storage only the
# platform's user may read it.
FILE_MODE = 0o600
DIR_MODE = 0o700
ETAPAS = ("extraer", "anonimizar", "validar", "publicar_datos_gov_co", "publicar_casanare_gov_co", "cerrar")


def safe_run_id(run_id: str) -> str:
    """Turn an Airflow run id (``manual__2026-01-01T00:00:00+00:00``) into a folder name."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id).strip("._")
    return cleaned[:120] or "run"


def _join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *[p.strip("/") for p in parts]])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Storage:
    """A folder under the staging base URL, with JSON/Parquet/bytes helpers."""

    url: str

    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        fs, _ = fsspec.core.url_to_fs(self.url)
        return fs

    def path(self, name: str) -> str:
        return _join(self.url, name)

    def _fs_path(self, name: str) -> str:
        return fsspec.core.url_to_fs(self.path(name))[1]

    def exists(self, name: str) -> bool:
        return self.fs.exists(self._fs_path(name))

    def write_bytes(self, name: str, data: bytes) -> str:
        """Write atomically where the filesystem allows it (temporary name, then rename)."""
        return self._write_with(name, lambda fh: fh.write(data))

    def _write_with(self, name: str, write: Callable[[Any], Any]) -> str:
        """Let ``write`` fill a temporary file, then rename it to ``name`` (readers never see half)."""
        fs = self.fs
        target = self._fs_path(name)
        self._makedirs(target.rsplit("/", 1)[0])
        tmp = f"{target}.tmp-{datetime.now(UTC).strftime('%H%M%S%f')}"
        with fs.open(tmp, "wb") as fh:
            self._restrict(tmp)
            write(fh)
        fs.mv(tmp, target)
        return self.path(name)

    @property
    def _local(self) -> bool:
        return self.url.startswith("file://") or "://" not in self.url

    def _makedirs(self, folder: str) -> None:
        """Create ``folder`` and its missing parents; on file storage they are 0700."""
        if not self._local:
            self.fs.makedirs(folder, exist_ok=True)
            return
        missing = []
        current = folder
        while current and not os.path.isdir(current):
            missing.append(current)
            current = os.path.dirname(current)
        for path in reversed(missing):
            os.makedirs(path, mode=DIR_MODE, exist_ok=True)
            os.chmod(path, DIR_MODE)  # the umask may have narrowed the mode, never widened it

    def _restrict(self, fs_path: str) -> None:
        if self._local and os.path.exists(fs_path):
            os.chmod(fs_path, FILE_MODE)

    def secure(self, name: str = "") -> int:
        """Make everything under ``name`` 0600 (files) / 0700 (folders) on file storage.

        Covers files written by other means (a streamed Parquet, an archived source). Returns
        how many entries were changed; 0 on object storage, where access is the bucket's policy.
        """
        if not self._local:
            return 0
        root = self._fs_path(name) if name else fsspec.core.url_to_fs(self.url)[1]
        if not os.path.exists(root):
            return 0
        changed = 0
        entries = [(root, os.path.isdir(root))]
        for folder, dirs, files in os.walk(root):
            entries += [(os.path.join(folder, d), True) for d in dirs]
            entries += [(os.path.join(folder, f), False) for f in files]
        for path, is_dir in entries:
            mode = DIR_MODE if is_dir else FILE_MODE
            if os.stat(path).st_mode & 0o777 != mode:
                os.chmod(path, mode)
                changed += 1
        return changed

    def read_bytes(self, name: str) -> bytes:
        with self.fs.open(self._fs_path(name), "rb") as fh:
            return fh.read()

    def write_json(self, name: str, obj: Any) -> str:
        data = json.dumps(obj, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        return self.write_bytes(name, data)

    def read_json(self, name: str, default: Any = None) -> Any:
        if not self.exists(name):
            return default
        return json.loads(self.read_bytes(name))

    def write_parquet(self, name: str, df: pd.DataFrame) -> str:
        # Straight into the file: through a buffer the Parquet was in memory twice (its bytes,
        # then their copy), 0.2 GB at 1M rows on top of the frame.
        return self._write_with(name, lambda fh: df.to_parquet(fh, index=False))

    def read_parquet(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """The table as pandas reads it; a large one is read a column at a time.

        ``pd.read_parquet`` holds the whole Arrow table and the frame being built from it at
        once: 5M rows peaked at +1.9 GB for a 1.3 GB frame. Column by column the peak is the
        frame plus one column (+1.4 GB), the frame is equal (values, dtypes, order) and it
        took 1.1 s instead of 2.9 s (Arrow's freed pages are handed back after each column).
        """
        import pandas as pd
        import pyarrow.parquet as pq

        from casanare.memoria import liberar_arrow

        with self.fs.open(self._fs_path(name), "rb") as fh:
            footer = pq.ParquetFile(fh)
            index = {c for c in (footer.schema_arrow.pandas_metadata or {}).get("index_columns", [])
                     if isinstance(c, str)}
            names = [c for c in (columns or footer.schema_arrow.names) if c not in index]
            if footer.metadata.num_rows < FILAS_LECTURA_POR_COLUMNA or len(names) < 2:
                fh.seek(0)
                frame = pd.read_parquet(fh, columns=columns)
            else:
                parts = []
                for column in names:
                    fh.seek(0)
                    parts.append(pd.read_parquet(fh, columns=[column]))
                    liberar_arrow()
                frame = pd.concat(parts, axis=1)
        # The Arrow table the frame was converted from is freed but its pages stay in Arrow's
        # pool; without this the next stage's frames land on top of them (0.7 GB at 5M rows).
        liberar_arrow()
        return frame

    def parquet_shape(self, name: str) -> tuple[list[str], int]:
        """Column names and row count of a Parquet file, from its footer (no data read)."""
        import pyarrow.parquet as pq

        with self.fs.open(self._fs_path(name), "rb") as fh:
            footer = pq.ParquetFile(fh)
            return footer.schema_arrow.names, footer.metadata.num_rows

    def local_path(self, name: str) -> str | None:
        """Path on the local disk when the base is ``file://`` (lets readers stream); else None."""
        return self._fs_path(name) if self.url.startswith("file://") else None

    def open(self, name: str, mode: str = "rb"):
        fs = self.fs
        target = self._fs_path(name)
        if "w" in mode:
            self._makedirs(target.rsplit("/", 1)[0])
        handle = fs.open(target, mode)
        if "w" in mode:
            self._restrict(target)
        return handle

    def listdir(self, name: str = "") -> list[str]:
        target = self._fs_path(name) if name else fsspec.core.url_to_fs(self.url)[1]
        if not self.fs.exists(target):
            return []
        return sorted(p.rsplit("/", 1)[-1] for p in self.fs.ls(target, detail=False))


class RunArea(Storage):
    """Files of one DAG run of one dataset."""

    def __init__(self, base_url: str, slug: str, run_id: str) -> None:
        super().__init__(_join(base_url, slug, "ejecuciones", safe_run_id(run_id)))
        object.__setattr__(self, "slug", slug)
        object.__setattr__(self, "run_id", run_id)

    def record_stage(self, etapa: str, resultado: dict[str, Any]) -> None:
        """Store one stage's result and refresh the merged manifest.

        Each stage owns its own file, so the two parallel publish tasks never overwrite each
        other's result; the manifest is a merge that the closing task rewrites last.
        """
        self.write_json(f"etapas/{etapa}.json", {"etapa": etapa, "registrado": _now(), **resultado})
        self.write_manifest()

    def stage(self, etapa: str) -> dict[str, Any] | None:
        return self.read_json(f"etapas/{etapa}.json")

    def write_manifest(self, **extra: Any) -> dict[str, Any]:
        etapas = {e: r for e in ETAPAS if (r := self.stage(e)) is not None}
        previous = self.read_json("manifest.json", {}) or {}
        manifest = {
            "conjunto": self.slug,
            "ejecucion": self.run_id,
            "actualizado": _now(),
            **{k: v for k, v in previous.items() if k not in {"etapas", "actualizado"}},
            **extra,
            "filas_por_etapa": {
                e: r.get("filas") for e, r in etapas.items() if isinstance(r.get("filas"), int)
            },
            "etapas": etapas,
        }
        self.write_json("manifest.json", manifest)
        return manifest


#: Where the first publication keeps the 4x4 datos.gov.co assigned (see ``publish.portal.ids``).
PORTAL_ID_FILE = "estado/datos_gov_co.json"


class DatasetArea(Storage):
    """State of one dataset that survives runs: last success, snapshots, history, portal id."""

    def __init__(self, base_url: str, slug: str) -> None:
        super().__init__(_join(base_url, slug))
        object.__setattr__(self, "slug", slug)

    def last_success(self) -> dict[str, Any] | None:
        return self.read_json("estado/ultimo_exito.json")

    def record_success(self, info: dict[str, Any]) -> None:
        self.write_json("estado/ultimo_exito.json", info)
        with self.open("estado/historial.jsonl.tmp", "wb") as fh:
            previous = self.read_bytes("estado/historial.jsonl") if self.exists("estado/historial.jsonl") else b""
            fh.write(previous + json.dumps(info, ensure_ascii=False, default=str).encode() + b"\n")
        self.fs.mv(self._fs_path("estado/historial.jsonl.tmp"), self._fs_path("estado/historial.jsonl"))

    def history(self) -> list[dict[str, Any]]:
        if not self.exists("estado/historial.jsonl"):
            return []
        return [json.loads(line) for line in self.read_bytes("estado/historial.jsonl").splitlines() if line]

    def portal_id(self) -> str | None:
        """The 4x4 datos.gov.co assigned when the first publication created the dataset, if any."""
        return (self.read_json(PORTAL_ID_FILE) or {}).get("dataset_id")

    def latest_snapshot(self) -> tuple[str, pd.DataFrame] | None:
        latest = self.latest_snapshot_columns()
        return None if latest is None else (latest[0], latest[1].read())

    def latest_snapshot_columns(self) -> tuple[str, ColumnReader] | None:
        """The latest snapshot as a :class:`ColumnReader`: a diff reads it one column at a time."""
        pointer = self.read_json("snapshots/actual.json")
        if not pointer:
            return None
        return pointer["version"], ColumnReader(self, f"snapshots/{pointer['version']}.parquet")

    def save_snapshot(self, version: str, df: pd.DataFrame) -> str:
        """Keep every published version and move the ``actual`` pointer last."""
        url = self.write_parquet(f"snapshots/{version}.parquet", df)
        self.write_json("snapshots/actual.json", {"version": version, "filas": len(df), "guardado": _now()})
        return url


class ColumnReader:
    """A Parquet table that loads a column only when one is asked for (``reader[name]``).

    What the row diff needs of the published snapshot: its length, its column names, and each
    column once to hash it. The whole previous table in pandas next to the new one was the
    re-run's memory peak (0.3 GB more at 1M rows); a column at a time it is a few MB.
    """

    def __init__(self, storage: Storage, name: str) -> None:
        self._storage, self._name = storage, name
        names, self._rows = storage.parquet_shape(name)
        self.columns = names

    def __len__(self) -> int:
        return self._rows

    def __getitem__(self, column: str) -> pd.Series:
        if column not in self.columns:
            raise KeyError(column)
        return self.read([column])[column]

    def read(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The whole table, or these of its columns."""
        return self._storage.read_parquet(self._name, columns=columns)
