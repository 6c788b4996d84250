"""Past website versions: keep a bounded number, withdraw those that fail today's privacy policy.

Every publication leaves ``versiones/<ruta>/<version>/`` on the site. Old releases are a privacy
risk of their own: suppression is recomputed each run, so two releases side by side can reveal
what one of them blanked, and a release made under an older, weaker catalog stays downloadable.
So after each publication:

1. the current version and the ``versiones_sitio`` (catalog, default 3) most recent past versions
   are kept; older folders are deleted, and so are their links in the page's history, in
   ``data.json`` and in the Atom feed (the state entry marks each version ``descargable``);
2. a kept past version made under a different privacy policy (its fingerprint differs from
   today's) is checked again: its columns must all be published today, and on microdata each of
   its classes over today's checked columns must have at least ``k`` rows (or persons). One that
   fails is withdrawn at once.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable
from typing import Any

import pandas as pd

from casanare.catalog import Dataset
from casanare.publish.site.transport import Transport

log = logging.getLogger(__name__)


def policy_fingerprint(dataset: Dataset) -> str:
    """Short hash of everything that decides what a release may contain."""
    micro = dataset.microdatos
    policy = {
        "columnas": sorted(
            (c.nombre_salida, c.regla.model_dump_json(), c.fundamento_legal is not None)
            for c in dataset.columnas_publicadas
        ),
        "k": micro.k if micro else None,
        "verificadas": dataset.columnas_k,
        "persona": dataset.columnas_persona,
        "seudonimos": dataset.dominio_seudonimos,
    }
    return hashlib.sha256(json.dumps(policy, sort_keys=True).encode()).hexdigest()[:16]


def _version_dirs(transport: Transport, ruta: str) -> list[str]:
    lister = getattr(transport, "list_dirs", None)
    return lister(f"versiones/{ruta}") if lister else []


def columns_outside_policy(frame: pd.DataFrame, dataset: Dataset) -> str | None:
    """A release with a column that is not published today fails (reason names columns only)."""
    allowed = {c.nombre_salida for c in dataset.columnas_publicadas}
    extra = sorted(set(frame.columns) - allowed)
    return f"publica columnas que hoy no se publican: {', '.join(extra)}" if extra else None


def _read_release(transport: Transport, ruta: str, version: str) -> pd.DataFrame | None:
    raw = transport.read_file(f"versiones/{ruta}/{version}/datos.csv")
    if raw is None:
        return None
    return pd.read_csv(io.BytesIO(raw), dtype="string", keep_default_na=False, na_values=[""])


def prune_releases(
    transport: Transport, dataset: Dataset, *, ruta: str, current: str, versions: list[dict[str, Any]],
    check: Callable[[pd.DataFrame], str | None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Delete releases beyond the bound or failing today's policy; return the updated version list.

    Args:
        versions: the state entry's versions, newest first, the current one included.
        check: today's privacy check of a whole release (k-anonymity; from the privacy stage,
            wired by the task); the column check always applies.

    Returns:
        ``(versions with 'descargable' and 'politica' set, report with counts and reasons)``.
    """
    today = policy_fingerprint(dataset)
    keep_past = dataset.versiones_sitio
    known = [v["version"] for v in versions]
    on_site = _version_dirs(transport, ruta)
    # Folders the state does not list (older than its window) are older than every listed one.
    order = [*known, *sorted((d for d in on_site if d not in known), reverse=True)]
    exists = set(on_site) if on_site else set(known)
    kept: list[str] = []
    removed: list[str] = []
    withdrawn: dict[str, str] = {}
    policies = {v["version"]: v.get("politica") for v in versions}
    for version in order:
        if version == current:
            kept.append(version)
            continue
        if version not in exists:
            continue
        if len(kept) > keep_past:  # the current version plus ``keep_past`` past ones
            removed.append(version)
            continue
        reason = None
        if policies.get(version) != today:
            frame = _read_release(transport, ruta, version)
            if frame is None:
                reason = "la versión no está en el sitio"
            else:
                reason = columns_outside_policy(frame, dataset) or (check(frame) if check else None)
        if reason:
            withdrawn[version] = reason
        else:
            kept.append(version)
    for version in [*removed, *withdrawn]:
        transport.remove_tree(f"versiones/{ruta}/{version}")
    updated = []
    for v in versions:
        item = {**v, "descargable": v["version"] in kept}
        rechecked = check is not None and v["version"] in kept and policies.get(v["version"]) != today
        if v["version"] == current or rechecked:
            item["politica"] = today  # passed today's gate, or re-checked against today's policy
        if v["version"] in withdrawn:
            item["retirada"] = "no cumple la política de privacidad vigente"
        updated.append(item)
    if removed or withdrawn:
        log.info("Sitio web %s: %s versiones antiguas borradas, %s retiradas por la política de privacidad",
                 ruta, len(removed), len(withdrawn))
    return updated, {
        "versiones_conservadas": len(kept),
        "versiones_borradas": len(removed),
        "versiones_retiradas": len(withdrawn),
        "motivos_retiro": withdrawn,
        "max_versiones_anteriores": keep_past,
    }


def with_release_flags(versions: list[dict[str, Any]], released: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy ``descargable``/``politica``/``retirada`` from the pruning result onto the state's versions."""
    flags = {v["version"]: v for v in released}
    keys = ("descargable", "politica", "retirada")
    return [{**v, **{k: flags[v["version"]][k] for k in keys if k in flags.get(v["version"], {})}} for v in versions]
