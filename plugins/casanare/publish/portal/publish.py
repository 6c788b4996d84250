"""Publish a frame to datos.gov.co: create, align the schema, send the change atomically, verify.

Flow of one publication (:func:`publish`):

1. **The dataset.** Its 4x4 comes from the catalog, the state in staging, or the stable tag; if
   none exists the dataset is created through DSMAPI (``ids.ensure_dataset``) and its first
   revision carries the catalog's metadata, the first data and the catalog's output schema.
2. **The schema.** The portal's columns, types and row identifier are compared with the catalog
   (``schema.plan``). Differences are fixed by a replace revision that carries the full expected
   table with the catalog's schema, applied in one step. A column that disappears from the
   catalog but still holds data is only dropped if ``datos_gov_co.columnas_retiradas`` names it;
   otherwise :class:`EsquemaIncompatible` goes to the platform team.
3. **Metadata** is pushed (hand edits reported first).
4. **The rows.** Base = the last reconciled snapshot unless the previous publication did not
   finish or the portal's count differs (then the portal's rows). The change is sent so readers
   see the old or the new version, never a mix:
   - a diff of at most ``soda_max_filas`` rows: ONE SODA upsert request (one transaction);
   - a larger diff without deletions: a DSMAPI **update** revision applied in one step;
   - a larger diff with deletions, and every ``reemplazo``: a DSMAPI **replace** revision.
5. **Reconcile** (count + checksums of a sample by row identifier), one repair pass, and only
   then save the versioned snapshot and mark the publication ``reconciliada``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from casanare.catalog import Dataset
from casanare.errors import ErrorDeConfiguracion
from casanare.publish.portal.client import PortalClient, PortalConfig, WriteReport
from casanare.publish.portal.diff import (
    Kind,
    append_positions,
    dataset_kinds,
    diff_frames,
    duplicated_keys,
    infer_kind,
    normalize_column,
    row_hashes,
)
from casanare.publish.portal.errors import EsquemaIncompatible, PublicacionRechazada, ReconciliacionFallida
from casanare.publish.portal.ids import ensure_dataset, issue_date
from casanare.publish.portal.metadata import revision_metadata, sync_metadata
from casanare.publish.portal.revision import stage_and_apply
from casanare.publish.portal.schema import SchemaPlan, plan
from casanare.publish.records import json_value, to_records

if TYPE_CHECKING:
    from casanare.staging import ColumnReader, DatasetArea

log = logging.getLogger(__name__)

MARKER = "snapshots/publicacion.json"
#: Fingerprint of the catalog's portal schema + metadata at the last publication (see ``catalog_changed``).
FINGERPRINT_FILE = "estado/huella_catalogo_portal.json"
#: Without a row identifier the whole table is read back for reconciliation up to this size.
FULL_CHECK_MAX = 300_000
_IN_BATCH = 100  # ids per ``$where … IN (…)`` (keeps URLs short)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def catalog_fingerprint(ds: Dataset) -> str:
    """sha256 of what the catalog asks of the portal: columns, types, row identifier, metadata."""
    import hashlib
    import json

    from casanare.publish.portal.metadata import desired_metadata
    from casanare.publish.portal.schema import desired_columns, row_identifier

    wanted = {"columnas": [c.__dict__ for c in desired_columns(ds)], "identificador": row_identifier(ds),
              "metadatos": desired_metadata(ds)}
    return hashlib.sha256(json.dumps(wanted, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def column_kinds(ds: Dataset, df: pd.DataFrame) -> dict[str, Kind]:
    kinds = dataset_kinds(ds)
    return {c: kinds.get(c) or infer_kind(df[c]) for c in df.columns}


# -- reading the portal ----------------------------------------------------------------------
def read_portal_frame(client: PortalClient, dataset_id: str, columns: list[str]) -> pd.DataFrame:
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


def _rows_by_key(client: PortalClient, dataset_id: str, key: str, keys: list[Any], columns: list[str]) -> pd.DataFrame:
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
    client: PortalClient,
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
    """Compare what the portal serves with ``expected`` (counts and sampled checksums, no values).

    Args:
        focus: positions of ``expected`` that were just sent (checked first).
        deleted: row identifiers that must be absent.
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


# -- schema ------------------------------------------------------------------------------------
def _check_drops(client: PortalClient, ds: Dataset, dataset_id: str, changes: SchemaPlan) -> dict[str, int]:
    """Rows holding data in each column the catalog no longer has; refuse unless the catalog allows it."""
    allowed = set(ds.datos_gov_co.columnas_retiradas)
    holding = {}
    for name in changes.retirar:
        rows = client.get_json(f"/resource/{dataset_id}.json", {"$select": f"count({name}) AS n"})
        holding[name] = int(rows[0]["n"]) if rows else 0
    blocked = [name for name, n in holding.items() if n and name not in allowed]
    if blocked:
        raise EsquemaIncompatible(
            "El catálogo ya no incluye columnas que en datos.gov.co todavía tienen datos: no se borran sin "
            "una decisión explícita.",
            como_corregir="Equipo de plataforma: si la columna debe desaparecer del portal, agréguela a "
            f"datos_gov_co.columnas_retiradas en el catálogo ({', '.join(blocked)}); si no, vuelva a "
            "declararla en las columnas del catálogo. Nada se publicó.",
            detalles={"dataset_id": dataset_id, "columnas": blocked,
                      "filas_con_datos": {k: holding[k] for k in blocked}},
        )
    return holding


# -- publication modes -----------------------------------------------------------------------
def _portal_base(client: PortalClient, dataset_id: str, state: DatasetArea | None, columns: list[str],
                 *, by_column: bool = False) -> tuple[pd.DataFrame | ColumnReader, str]:
    """The published rows the diff starts from, and where they came from.

    Args:
        by_column: return the snapshot as a :class:`ColumnReader` (the row diff hashes it one
            column at a time instead of holding the whole previous table).
    """
    if state is not None:
        marker = state.read_json(MARKER) or {}
        latest = state.latest_snapshot_columns() if marker.get("estado") != "en_curso" else None
        if latest is not None and marker.get("dataset_id", dataset_id) == dataset_id:
            snapshot = latest[1]
            if client.count(dataset_id) == len(snapshot) and list(snapshot.columns) == columns:
                return (snapshot if by_column else snapshot.read()), "snapshot"
            log.warning("El portal no coincide con el último snapshot: se leen las filas del portal")
    return read_portal_frame(client, dataset_id, columns), "portal"


def _send(client: PortalClient, ds: Dataset, dataset_id: str, frame: pd.DataFrame, deletions: list[dict[str, Any]],
          report: WriteReport, *, append: bool, on_chunk: Callable[[int], None] | None) -> str:
    """Send upserts (and deletions) atomically.

    Up to ``soda_max_filas`` rows: one SODA request (one transaction, and faster than a
    revision for small diffs: see docs/publicacion_datos_gov_co.md). Larger: one DSMAPI update
    revision (the caller sends deletions through a replace revision instead).
    """
    total = len(frame) + len(deletions)
    if not total:
        return "nada"
    if total <= client.cfg.soda_max_filas:
        # One request whatever chunk_size says, so the change is all-or-nothing.
        client.upsert(dataset_id, to_records(frame) + deletions, report, append=append, on_chunk=on_chunk,
                      chunk_size=total)
        return "soda"
    result = stage_and_apply(client, ds, dataset_id, frame, action="update")
    report.peticiones += 1
    report.filas_enviadas += len(frame)
    return f"revision_update:{result['revision']}"


def _replace(client: PortalClient, ds: Dataset, dataset_id: str, df: pd.DataFrame, report: WriteReport,
             metadata: dict[str, Any] | None = None, revision: dict[str, Any] | None = None) -> str:
    result = stage_and_apply(client, ds, dataset_id, df, action="replace", metadata=metadata, revision=revision)
    report.peticiones += 1
    report.filas_enviadas += len(df)
    return f"revision_replace:{result['revision']}"


def _incremental(client: PortalClient, ds: Dataset, dataset_id: str, df: pd.DataFrame,
                 base: pd.DataFrame | ColumnReader,
                 key: str, kinds: Mapping[str, Kind], on_chunk: Callable[[int], None] | None, report: WriteReport
                 ) -> tuple[dict[str, Any], np.ndarray, list[Any]]:
    diff = diff_frames(base, df, key, kinds, columns=list(df.columns))
    gone = [json_value(v) for v in base[key].iloc[diff.borradas]] if len(diff.borradas) else []
    positions = diff.upsert_positions
    if gone and len(positions) + len(gone) > client.cfg.soda_max_filas:
        # An update revision cannot delete rows: the whole table goes as one replace revision.
        method = _replace(client, ds, dataset_id, df, report)
    else:
        deletions = [{key: k, ":deleted": True} for k in gone]
        method = _send(client, ds, dataset_id, df.iloc[positions], deletions, report, append=False,
                       on_chunk=on_chunk)
    return {**diff.resumen(), "metodo": method}, positions, gone


def _append(client: PortalClient, ds: Dataset, dataset_id: str, df: pd.DataFrame, base: pd.DataFrame,
            kinds: Mapping[str, Kind], on_chunk: Callable[[int], None] | None, report: WriteReport
            ) -> tuple[pd.DataFrame, dict[str, Any]]:
    positions = append_positions(base, df, kinds, columns=list(df.columns))
    new_rows = df.iloc[positions]
    method = _send(client, ds, dataset_id, new_rows, [], report, append=True, on_chunk=on_chunk)
    expected = pd.concat([base[list(df.columns)].astype(object), new_rows.astype(object)], ignore_index=True)
    return expected, {"agregadas": len(new_rows), "ya_publicadas": len(df) - len(new_rows), "metodo": method}


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
    """Create/align/publish ``df`` on the dataset's portal copy, reconcile, snapshot.

    Args:
        df: the anonymized, validated frame (columns = portal field names).
        dataset: catalog entry (mode, row identifier, column types, metadata).
        cfg: connection values.
        state: dataset state area (assigned id, snapshots, metadata); required when the catalog
            gives no ``dataset_id``.
        version: snapshot version name (the run folder).
        on_chunk: progress callback (rows accepted so far by SODA upserts).
        repair_passes: extra send+reconcile rounds against the portal's real rows on mismatch.

    Returns:
        Report for the manifest (counts, ids, schema plan; never data values).

    Raises:
        ReconciliacionFallida: the portal still differs after the repair passes.
        PortalNoDisponible: the portal did not answer after the retries.
        PublicacionRechazada / CredencialesRechazadas / EsquemaIncompatible: for the platform team.
    """
    if dataset.datos_gov_co is None:
        raise ErrorDeConfiguracion(f"El conjunto {dataset.slug} no tiene sección datos_gov_co en el catálogo.")
    mode = dataset.datos_gov_co.modo_efectivo
    key = dataset.datos_gov_co.identificador_fila
    if mode == "incremental" and not key:
        raise ErrorDeConfiguracion("El modo incremental necesita identificador_fila en el catálogo.")
    if state is None and not dataset.datos_gov_co.dataset_id:
        raise ErrorDeConfiguracion("Sin dataset_id en el catálogo hace falta el estado del conjunto en staging.")
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
    with PortalClient(cfg) as client:
        from casanare.publish.portal.ids import portal_dataset_id

        fecha = issue_date(state) or datetime.now(UTC).date().isoformat()
        meta = revision_metadata(dataset, fecha)
        if state is None:
            dataset_id, opened, origin = portal_dataset_id(dataset), None, "catalogo"
        else:
            dataset_id, opened, origin = ensure_dataset(client, dataset, state, meta)
        log.info("datos.gov.co: conjunto %s → %s (%s)", dataset.slug, dataset_id, origin)
        view = client.view(dataset_id)
        changes = plan(view, dataset)
        esquema: dict[str, Any] = {"plan": changes.as_dict(), "resultado": "sin_cambios"}
        first = not view.get("columns")
        if first:
            esquema["resultado"] = "creado_con_el_esquema_del_catalogo"
        elif changes.cambios:
            esquema["filas_con_datos_retiradas"] = _check_drops(client, dataset, dataset_id, changes)
        metadatos = None
        if not first:  # a new dataset gets its metadata from its first revision
            metadatos = sync_metadata(client, dataset, dataset_id, state, fecha)
        start_base: tuple[pd.DataFrame, str] | None = None
        if not (first or changes.cambios) and mode != "reemplazo":
            # Read before the marker says en_curso.
            start_base = _portal_base(client, dataset_id, state, columns, by_column=mode == "incremental")
        if state is not None:
            state.write_json(MARKER, {"estado": "en_curso", "version": version, "inicio": _now(),
                                      "dataset_id": dataset_id})
        summary: dict[str, Any] = {}
        rounds = []
        for attempt in range(repair_passes + 1):
            focus: np.ndarray = np.zeros(0, dtype=int)
            gone: list[Any] = []
            expected = df
            if first or changes.cambios:
                # New dataset or schema change: the full expected table with the catalog's schema,
                # applied in one step (readers see the old schema and rows, or the new ones).
                origin_rows = "ninguna"
                if mode == "agregar" and not first:
                    base = read_portal_frame(client, dataset_id, [c for c in columns if c not in changes.agregar])
                    expected = pd.concat([base.astype(object), df.iloc[append_positions(
                        base, df, kinds, columns=[c for c in columns if c in base.columns])].astype(object)],
                        ignore_index=True).reindex(columns=columns)
                method = _replace(client, dataset, dataset_id, expected, report, meta if first else None, opened)
                summary = {"metodo": method}
                esquema["resultado"] = esquema["resultado"] if first else "alineado_por_revision"
                if first:
                    metadatos = sync_metadata(client, dataset, dataset_id, state, fecha)
                changes, first, opened = SchemaPlan(), False, None
            else:
                if mode == "reemplazo":
                    base, origin_rows = df.iloc[0:0], "ninguna"
                elif attempt == 0 and start_base is not None:
                    base, origin_rows = start_base
                else:
                    base, origin_rows = read_portal_frame(client, dataset_id, columns), "portal"
                if mode == "incremental":
                    summary, focus, gone = _incremental(client, dataset, dataset_id, df, base, key, kinds, on_chunk,
                                                        report)
                elif mode == "agregar":
                    expected, summary = _append(client, dataset, dataset_id, df, base, kinds, on_chunk, report)
                    focus = np.arange(len(expected) - summary["agregadas"], len(expected))
                else:
                    summary = {"metodo": _replace(client, dataset, dataset_id, df, report)}
                # The published rows are not needed past the diff: free them before the snapshot
                # of the new rows is written (0.3 GB at 1M rows).
                start_base = base = None
            check = reconcile(client, dataset_id, expected, key, kinds, focus=focus, deleted=gone,
                              sample_size=cfg.sample_size, seed=random.randrange(2**32))
            rounds.append({"base": origin_rows, **summary, **{k: v for k, v in check.items() if k != "ok"}})
            if check["ok"]:
                break
            log.warning("Reconciliación con diferencias (ronda %s): %s", attempt + 1,
                        {k: v for k, v in check.items() if k != "ok"})
        else:
            raise _fail_reconciliation(check, dataset_id)
        snapshot_url = None
        if state is not None:
            snapshot_url = state.save_snapshot(version, expected)
            state.write_json(MARKER, {"estado": "reconciliada", "version": version, "fin": _now(),
                                      "dataset_id": dataset_id})
            state.write_json(FINGERPRINT_FILE, {"huella": catalog_fingerprint(dataset), "version": version})
    return {
        "modo": mode,
        "dataset_id": dataset_id,
        "origen_id": origin,
        "esquema": esquema,
        "metadatos": metadatos,
        "base": rounds[0]["base"],
        "diff": summary,
        "envio": report.as_dict(),
        "filas_enviadas": report.filas_enviadas,
        "filas_en_portal": check["filas_en_portal"],
        "reconciliacion": rounds,
        "snapshot": snapshot_url,
        "version": version,
    }
