"""Publish a frame to a datos.gov.co (Socrata) dataset: incremental, atomic replace or append.

Flow of one publish (``publish``):

1. Base = what is on the portal. The last reconciled snapshot, unless the previous publish did
   not finish (marker ``snapshots/publicacion.json`` still ``en_curso``), there is no snapshot,
   or the portal's row count differs from it: then the portal's rows are read back (state
   unknown → ask the portal).
2. Mark the publish ``en_curso`` (so a crash from here on makes the next run read the portal).
3. Send: ``incremental`` upserts new/changed rows and ``{id, ":deleted": true}`` for vanished
   ones; ``agregar`` appends only rows whose content hash is not yet published; ``reemplazo``
   stages a replace revision (Dataset Management API) and applies it, so readers never see a mix.
4. Reconcile: row count + checksums of a sample of rows by row identifier (all rows when there
   is no identifier and the table is small enough). One repair pass against the portal's real
   rows; if it still differs, :class:`ReconciliacionFallida`.
5. Only then save the versioned snapshot and mark the publish ``reconciliada``.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from casanare.catalog import Dataset
from casanare.errors import DatosAbiertosError, ErrorDeConfiguracion
from casanare.publish.diff import (
    Kind,
    append_positions,
    dataset_kinds,
    diff_frames,
    duplicated_keys,
    infer_kind,
    normalize_column,
    row_hashes,
)
from casanare.publish.records import json_value, to_records
from casanare.publish.socrata_hook import (
    PortalConfig,
    PublicacionRechazada,
    ReconciliacionFallida,
    SocrataClient,
    WriteReport,
)

if TYPE_CHECKING:
    from casanare.staging import DatasetArea

__all__ = ["PortalConfig", "publish", "read_portal_frame", "reconcile"]

log = logging.getLogger(__name__)

MARKER = "snapshots/publicacion.json"
#: Without a row identifier the whole table is read back for reconciliation up to this size.
FULL_CHECK_MAX = 300_000
_IN_BATCH = 100  # ids per ``$where … IN (…)`` (keeps URLs short)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def column_kinds(ds: Dataset, df: pd.DataFrame) -> dict[str, Kind]:
    kinds = dataset_kinds(ds)
    return {c: kinds.get(c) or infer_kind(df[c]) for c in df.columns}


# -- reading the portal ----------------------------------------------------------------------
def read_portal_frame(client: SocrataClient, dataset_id: str, columns: list[str]) -> pd.DataFrame:
    """Every row of the dataset (only ``columns``; nulls, omitted by SODA, come back as None)."""
    frames = [pd.DataFrame.from_records(page, columns=columns) for page in client.iter_rows(dataset_id, columns)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(frames, ignore_index=True)


def _literal(value: Any) -> str:
    value = json_value(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _rows_by_key(client: SocrataClient, dataset_id: str, key: str, keys: list[Any], columns: list[str]) -> pd.DataFrame:
    frames = []
    for start in range(0, len(keys), _IN_BATCH):
        batch = keys[start : start + _IN_BATCH]
        where = f"{key} IN ({', '.join(_literal(k) for k in batch)})"
        page = client.query(dataset_id, select=",".join(columns), where=where, limit=len(batch) * 2 + 10)
        frames.append(pd.DataFrame.from_records(page, columns=columns))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(frames, ignore_index=True)


# -- reconciliation --------------------------------------------------------------------------
def reconcile(
    client: SocrataClient,
    dataset_id: str,
    expected: pd.DataFrame,
    key: str | None,
    kinds: Mapping[str, Kind],
    *,
    focus: np.ndarray | None = None,
    deleted: list[Any] | None = None,
    sample_size: int = 500,
    seed: int | None = None,
) -> dict[str, Any]:
    """Compare what the portal serves with ``expected``.

    Args:
        focus: positions of ``expected`` that were just sent (checked first).
        deleted: row identifiers that must be absent.

    Returns:
        A report without data values: counts and how many sampled rows differ.
    """
    columns = list(expected.columns)
    on_portal = client.count(dataset_id)
    report: dict[str, Any] = {"filas_esperadas": len(expected), "filas_en_portal": on_portal,
                              "muestra": 0, "diferentes": 0, "borradas_presentes": 0}
    if key is None:
        if len(expected) <= FULL_CHECK_MAX:
            portal = read_portal_frame(client, dataset_id, columns)
            want = pd.Series(row_hashes(expected, columns, kinds)).value_counts()
            got = pd.Series(row_hashes(portal, columns, kinds)).value_counts()
            both = pd.concat([want, got], axis=1).fillna(0)
            report["muestra"] = len(expected)
            report["diferentes"] = int((both.iloc[:, 0] - both.iloc[:, 1]).abs().sum())
    else:
        rng = np.random.default_rng(seed)
        focus = np.asarray(focus if focus is not None else [], dtype=int)
        half = sample_size // 2
        picked = focus if len(focus) <= half else rng.choice(focus, half, replace=False)
        rest = max(0, sample_size - len(picked))
        if len(expected):
            picked = np.unique(np.concatenate([picked, rng.choice(len(expected), min(rest, len(expected)),
                                                                    replace=False)]))
        sample = expected.iloc[picked]
        gone = list(deleted or [])[:50]
        keys = list(sample[key]) + gone
        portal = _rows_by_key(client, dataset_id, key, keys, columns)
        norm_key = normalize_column(portal[key], kinds.get(key)) if len(portal) else pd.Series(dtype=object)
        gone_norm = set(normalize_column(pd.Series(gone, dtype=object), kinds.get(key))) if gone else set()
        report["borradas_presentes"] = int(norm_key.isin(gone_norm).sum()) if gone_norm else 0
        got = dict(zip(norm_key, row_hashes(portal, columns, kinds), strict=True))
        want_keys = normalize_column(sample[key], kinds.get(key))
        want_hash = row_hashes(sample, columns, kinds)
        report["muestra"] = len(sample)
        report["diferentes"] = int(sum(got.get(k) != h for k, h in zip(want_keys, want_hash, strict=True)))
    report["ok"] = (on_portal == len(expected) and report["diferentes"] == 0 and report["borradas_presentes"] == 0)
    return report


def _fail_reconciliation(report: dict[str, Any], dataset_id: str) -> ReconciliacionFallida:
    return ReconciliacionFallida(
        "Lo publicado en datos.gov.co no coincide con los datos preparados.",
        como_corregir="No requiere acción de la dependencia: la tarea se reintentará comparando contra las "
        "filas reales del portal. Si persiste, el equipo de datos abiertos debe revisar si alguien editó el "
        "conjunto a mano en datos.gov.co.",
        detalles={"dataset_id": dataset_id, **{k: v for k, v in report.items() if k != "ok"}},
    )


# -- publish modes ---------------------------------------------------------------------------
def _portal_base(client: SocrataClient, dataset_id: str, state: DatasetArea | None, columns: list[str]
                 ) -> tuple[pd.DataFrame, str]:
    """The published rows the diff starts from, and where they came from."""
    if state is not None:
        marker = state.read_json(MARKER) or {}
        latest = state.latest_snapshot() if marker.get("estado") != "en_curso" else None
        if latest is not None:
            snapshot = latest[1]
            if client.count(dataset_id) == len(snapshot):
                return snapshot, "snapshot"
            log.warning("El conteo del portal no coincide con el snapshot: se leen las filas del portal")
    return read_portal_frame(client, dataset_id, columns), "portal"


def _incremental(client: SocrataClient, dataset_id: str, df: pd.DataFrame, base: pd.DataFrame, key: str,
                 kinds: Mapping[str, Kind], on_chunk: Callable[[int], None] | None, report: WriteReport
                 ) -> tuple[dict[str, int], np.ndarray, list[Any]]:
    diff = diff_frames(base, df, key, kinds, columns=list(df.columns))
    gone = [json_value(v) for v in base[key].iloc[diff.borradas]] if len(diff.borradas) else []
    rows = to_records(df.iloc[diff.upsert_positions]) + [{key: k, ":deleted": True} for k in gone]
    client.upsert(dataset_id, rows, report, on_chunk=on_chunk)
    return diff.resumen(), diff.upsert_positions, gone


def _append(client: SocrataClient, dataset_id: str, df: pd.DataFrame, base: pd.DataFrame,
            kinds: Mapping[str, Kind], on_chunk: Callable[[int], None] | None, report: WriteReport
            ) -> tuple[pd.DataFrame, int]:
    positions = append_positions(base, df, kinds, columns=list(df.columns))
    new_rows = df.iloc[positions]
    client.upsert(dataset_id, to_records(new_rows), report, append=True, on_chunk=on_chunk)
    expected = pd.concat([base[list(df.columns)].astype(object), new_rows.astype(object)], ignore_index=True)
    return expected, len(new_rows)


_PATCH_LOCK = threading.Lock()


@contextmanager
def _retrying_socrata_py(cfg: PortalConfig):
    """Give socrata-py (which calls ``requests.get/post/…`` with no retries) our retry policy.

    socrata-py treats 202/5xx as final and has no backoff on most calls; under a lock we swap
    the ``requests`` module it uses for a shim that retries 202, 429 (Retry-After), 5xx and
    dropped connections with exponential backoff and jitter. socrata-py itself is not modified.
    """
    import requests
    import socrata.http as http

    client = SocrataClient(cfg)  # only for its backoff computation

    def call(method: str):
        def send(url: str, **kwargs: Any):
            kwargs.setdefault("timeout", cfg.timeout)
            last: Exception | None = None
            for attempt in range(cfg.max_attempts):
                retry_after = None
                try:
                    response = requests.request(method, url, **kwargs)
                    if response.status_code not in (202, 429) and response.status_code < 500:
                        return response
                    if response.status_code == 429:
                        retry_after = float(response.headers.get("Retry-After") or 0)
                    last = RuntimeError(f"estado {response.status_code}")
                except (requests.ConnectionError, requests.Timeout) as exc:
                    last = exc
                client._sleep(client._delay(attempt, retry_after))
            assert last is not None
            raise last

        return send

    class Shim:
        get, post, put, patch, delete = (call(m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE"))
        exceptions = requests.exceptions

    with _PATCH_LOCK:
        original = http.requests
        http.requests = Shim  # type: ignore[assignment]
        try:
            yield
        finally:
            http.requests = original
            client.close()


def _replace_with_revision(cfg: PortalConfig, dataset_id: str, df: pd.DataFrame) -> None:
    """Create a replace revision, upload the CSV, wait for the schema and apply it (atomic swap)."""
    from socrata import Socrata as Publisher
    from socrata.authorization import Authorization

    auth = Authorization(cfg.domain, cfg.username, cfg.password)
    if cfg.verify is False:
        auth.live_dangerously()
    elif isinstance(cfg.verify, str):
        auth.verify = cfg.verify
    upload = pd.DataFrame({c: [json_value(v) for v in df[c]] for c in df.columns}, columns=list(df.columns))
    with _retrying_socrata_py(cfg):
        view = Publisher(auth).views.lookup(dataset_id)
        revision = view.revisions.create_replace_revision()
        source = revision.create_upload(f"{dataset_id}.csv").df(upload)
        output = source.get_latest_input_schema().get_latest_output_schema().wait_for_finish(
            sleeptime=0.1, timeout=cfg.timeout * 10)
        job = revision.apply(output_schema=output)
        job.wait_for_finish(sleeptime=0.1, timeout=cfg.timeout * 10)
        if job.attributes.get("status") == "failure":
            raise RuntimeError("la revisión terminó en failure")


def _replace(client: SocrataClient, cfg: PortalConfig, dataset_id: str, df: pd.DataFrame, report: WriteReport
             ) -> str:
    if cfg.usa_revisiones:
        try:
            _replace_with_revision(cfg, dataset_id, df)
            report.peticiones += 1
            report.filas_enviadas += len(df)
            return "revision"
        except DatosAbiertosError:
            raise
        except Exception as exc:
            log.warning("La revisión de reemplazo falló (%s); se verifica el portal", type(exc).__name__)
            report.reintentos += 1
            return "revision_fallida"
    # Fallback without the revision API: one PUT = one transaction on SODA 2 (see the docs for
    # its window on the real portal, which may process large PUTs asynchronously).
    client.replace(dataset_id, to_records(df))
    report.peticiones += 1
    report.filas_enviadas += len(df)
    return "put"


def publish(
    df: pd.DataFrame,
    dataset: Dataset,
    cfg: PortalConfig,
    *,
    state: DatasetArea | None = None,
    version: str | None = None,
    on_chunk: Callable[[int], None] | None = None,
    repair_passes: int = 1,
) -> dict[str, Any]:
    """Publish ``df`` to the dataset's portal id according to its mode, reconcile, snapshot.

    Args:
        df: the anonymized, validated frame (columns = portal field names).
        dataset: catalog entry (mode, row identifier, column types).
        cfg: connection values.
        state: dataset state area (snapshots); None = always diff against the portal.
        version: snapshot version name (the run folder).
        on_chunk: progress callback (rows accepted so far).
        repair_passes: extra send+reconcile rounds against the portal's real rows on mismatch.

    Returns:
        Report for the manifest (counts only, never data values).

    Raises:
        ReconciliacionFallida: the portal still differs after the repair passes.
        PortalNoDisponible: the portal did not answer after the retries.
        PublicacionRechazada: the portal refused the data (schema/permissions).
    """
    if dataset.datos_gov_co is None:
        raise ErrorDeConfiguracion(f"El conjunto {dataset.slug} no tiene sección datos_gov_co en el catálogo.")
    dataset_id = dataset.datos_gov_co.dataset_id
    mode = dataset.datos_gov_co.modo_efectivo
    key = dataset.datos_gov_co.identificador_fila
    if mode == "incremental" and not key:
        raise ErrorDeConfiguracion("El modo incremental necesita identificador_fila en el catálogo.")
    df = df.reset_index(drop=True)
    kinds = column_kinds(dataset, df)
    columns = list(df.columns)
    if key and (dups := duplicated_keys(df, key, kinds)):
        raise PublicacionRechazada(
            "Hay filas con el identificador de fila repetido o vacío: el portal no podría actualizarlas.",
            como_corregir=f"Revise que la columna {key} sea única y no tenga vacíos en la fuente.",
            detalles={"filas_repetidas_o_vacias": dups},
        )
    version = version or datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    report = WriteReport()
    with SocrataClient(cfg) as client:
        if mode == "reemplazo":
            base, origin = df.iloc[0:0], "ninguna"
        else:
            base, origin = _portal_base(client, dataset_id, state, columns)
        if state is not None:
            state.write_json(MARKER, {"estado": "en_curso", "version": version, "inicio": _now()})
        summary: dict[str, Any] = {}
        rounds = []
        for attempt in range(repair_passes + 1):
            if attempt:
                origin = "portal"
                base = read_portal_frame(client, dataset_id, columns)
            focus: np.ndarray = np.zeros(0, dtype=int)
            gone: list[Any] = []
            expected = df
            if mode == "incremental":
                summary, focus, gone = _incremental(client, dataset_id, df, base, key, kinds, on_chunk, report)
            elif mode == "agregar":
                expected, added = _append(client, dataset_id, df, base, kinds, on_chunk, report)
                summary = {"agregadas": added, "ya_publicadas": len(df) - added}
                focus = np.arange(len(expected) - added, len(expected))
            else:
                summary = {"metodo": _replace(client, cfg, dataset_id, df, report)}
            check = reconcile(client, dataset_id, expected, key, kinds, focus=focus, deleted=gone,
                              sample_size=cfg.sample_size, seed=random.randrange(2**32))
            rounds.append({"base": origin, **summary, **{k: v for k, v in check.items() if k != "ok"}})
            if check["ok"]:
                break
            log.warning("Reconciliación con diferencias (ronda %s): %s", attempt + 1,
                        {k: v for k, v in check.items() if k != "ok"})
        else:
            raise _fail_reconciliation(check, dataset_id)
        snapshot_url = None
        if state is not None:
            snapshot_url = state.save_snapshot(version, expected)
            state.write_json(MARKER, {"estado": "reconciliada", "version": version, "fin": _now()})
    return {
        "modo": mode,
        "dataset_id": dataset_id,
        "base": rounds[0]["base"],
        "diff": summary,
        "envio": report.as_dict(),
        "filas_enviadas": report.filas_enviadas,
        "filas_en_portal": check["filas_en_portal"],
        "reconciliacion": rounds,
        "snapshot": snapshot_url,
        "version": version,
    }
