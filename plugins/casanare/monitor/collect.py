"""One status row per catalog entry: freshness, use, quality, drift and findings, from plain inputs.

The DAG reads the staging area, the portal and the access log and hands the values here; this
module only combines them (no I/O except ``registered_at``, which keeps the grace-period start).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casanare.catalog import Dataset
from casanare.monitor.freshness import Frescura, freshness, parse_moment
from casanare.monitor.portal import metadata_drift, use_counts
from casanare.monitor.registries import Registros
from casanare.monitor.usage import SiteCounts

ALTA = "estado/alta_monitoreo.json"


def registered_at(area: Any, now: datetime) -> datetime:
    """When monitoring first saw the dataset (kept in its staging area; starts the grace period).

    A dataset that already has successful runs is taken as registered at its first success.
    """
    stored = parse_moment((area.read_json(ALTA) or {}).get("alta"))
    if stored is not None:
        return stored
    alta = min((when for h in area.history() if (when := parse_moment(h.get("fecha")))), default=now)
    area.write_json(ALTA, {"alta": alta.isoformat(timespec="seconds")})
    return alta


def _score(scorecard: dict[str, Any] | None) -> float | None:
    value = (scorecard or {}).get("promedio")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _sello(scorecard: dict[str, Any] | None) -> dict[str, bool]:
    seal = (scorecard or {}).get("sello_excelencia") or {}
    return {k: v for k, v in seal.items() if k.startswith("nivel_") and isinstance(v, bool)} if isinstance(seal, dict) else {}


def status_row(
    ds: Dataset,
    *,
    now: datetime,
    alta: datetime,
    history: list[dict[str, Any]],
    scorecard: dict[str, Any] | None,
    view: dict[str, Any] | None,
    site: SiteCounts | None,
    registros: Registros,
) -> dict[str, Any]:
    """Today's row for one dataset (the history table's columns plus details for the pages)."""
    f: Frescura = freshness(ds, history, now, alta=alta,
                            portal_rows_updated=(view or {}).get("rowsUpdatedAt"))
    ruta = ds.casanare_gov_co.ruta if ds.casanare_gov_co else None
    counts = use_counts(view)
    if site is not None and ruta:
        counts.update(vistas_sitio=site.vistas[ruta], descargas_sitio=site.descargas[ruta])
    else:
        counts.update(vistas_sitio=None, descargas_sitio=None)
    drift = metadata_drift(ds, view) if ds.datos_gov_co else []
    last = history[-1] if history else {}
    filas = last.get("filas_publicadas")
    return {
        "conjunto": ds.slug,
        "nombre": ds.nombre,
        "dependencia": ds.dependencia,
        "categoria": ds.categoria,
        "frecuencia": ds.frecuencia_actualizacion,
        "priorizado": ds.priorizado,
        "ruta": ruta,
        "dataset_id": (view or {}).get("id") or (ds.datos_gov_co.dataset_id if ds.datos_gov_co else None),
        "estado": f.estado,
        "etiqueta_estado": f.etiqueta,
        "en_gracia": f.en_gracia,
        "gracia_hasta": f.gracia_hasta,
        "sin_datos_nuevos": f.sin_datos_nuevos,
        "ultimo_dato_nuevo": f.ultimo_dato_nuevo,
        "ultima_ejecucion": f.ultima_ejecucion,
        "vence": f.vence,
        "dias_desde_dato_nuevo": f.dias_desde_dato_nuevo,
        **counts,
        "puntaje_mintic": _score(scorecard),
        "sello": _sello(scorecard),
        "sello_nivel_1": _sello(scorecard).get("nivel_1"),
        "filas_publicadas": filas if isinstance(filas, int) else None,
        "deriva": drift,
        "campos_con_deriva": len(drift),
        "hallazgos_abiertos": sum(h.abierto and h.conjunto == ds.slug for h in registros.hallazgos),
        "registrado": now,
    }
