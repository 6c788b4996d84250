"""Change detection for the source files of eventual datasets (no Airflow import).

The platform DAG ``vigilancia_fuentes`` calls ``revisar_fuente`` every 15 minutes for each
eventual dataset with a file source; a change makes its task succeed (emitting the source's
asset event, which queues the dataset's DAG) and no change makes it skip (no event).

A cheap size + mtime check comes first; only when those moved is the file hashed, so a file
that was merely touched or copied again with the same bytes triggers nothing. The last value
seen is kept in staging, next to the dataset's other state.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from casanare.catalog import Dataset, FuenteArchivo
from casanare.staging import DatasetArea

ESTADO = "estado/vigilancia.json"
# Last attempt of the dataset's DAG, written by its closing ``resumir`` task (see casanare.estado).
ULTIMO_INTENTO = "estado/ultimo_intento.json"
BLOCK = 1 << 20


def es_vigilable(ds: Dataset) -> bool:
    """Eventual, prioritized datasets whose source is a file."""
    return ds.priorizado and ds.frecuencia_actualizacion == "eventual" and isinstance(ds.fuente, FuenteArchivo)


def vigila_correccion(ds: Dataset) -> bool:
    """Periodic, prioritized datasets with a file source: a corrected file re-runs a failed run."""
    return ds.priorizado and ds.frecuencia_actualizacion != "eventual" and isinstance(ds.fuente, FuenteArchivo)


def espera_correccion(estado: DatasetArea) -> dict[str, Any] | None:
    """The last attempt if it failed because of the source file (so a corrected file re-runs it)."""
    intento = estado.read_json(ULTIMO_INTENTO) or {}
    return intento if intento.get("resultado") == "fallido" and intento.get("reintento_con_archivo") else None


def uri_fuente(ds: Dataset) -> str:
    """Stable asset URI of a dataset's source file, independent of where the share is mounted.

    ``CASANARE_SOURCE_BASE`` differs between machines (and tests), so the URI names the catalog's
    relative path, not the absolute one.
    """
    assert isinstance(ds.fuente, FuenteArchivo)
    ruta = PurePosixPath(ds.fuente.ruta.replace("\\", "/").lstrip("/"))
    return f"casanare-fuente://{ds.slug}/{ruta}"


def sha256_archivo(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def revisar_fuente(ds: Dataset, estado: DatasetArea) -> dict[str, Any]:
    """Compare the source file with the last value seen and remember the new one.

    Args:
        ds: an eventual dataset with a file source.
        estado: the dataset's persistent staging area.

    Returns:
        ``{"cambio": bool, "motivo": str, ...}`` with metadata only (no data values).
        The first observation compares against the last successful run's hash, so deploying
        the watcher does not re-run every eventual dataset.
    """
    assert isinstance(ds.fuente, FuenteArchivo)
    path = ds.fuente.ruta_absoluta()
    fallido = None
    if vigila_correccion(ds):
        # A periodic dataset runs on its cron; the watcher only re-runs it early when its last
        # run failed because of the file and a different file (new sha256) has arrived since.
        fallido = espera_correccion(estado)
        if fallido is None:
            return {"cambio": False, "motivo": "la última ejecución no falló por el archivo", "archivo": path.name}
    anterior = estado.read_json(ESTADO) or {}
    try:
        info = path.stat()
    except FileNotFoundError:
        return {"cambio": False, "motivo": "el archivo no existe (se revisará de nuevo)", "archivo": path.name}
    firma = {"bytes": info.st_size, "mtime_ns": info.st_mtime_ns}
    if anterior and all(anterior.get(k) == v for k, v in firma.items()):
        return {"cambio": False, "motivo": "mismo tamaño y fecha de modificación", "archivo": path.name}
    digest = sha256_archivo(path)
    if fallido is not None:
        # New = neither the file that failed nor one already seen (and re-run) since the failure.
        referencia = fallido.get("sha256_fuente")
        visto = anterior.get("sha256") if anterior.get("revisado", "") >= fallido.get("fecha", "") else None
        cambio = digest not in {referencia, visto}
    else:
        referencia = anterior.get("sha256") or (estado.last_success() or {}).get("sha256")
        cambio = digest != referencia
    estado.write_json(ESTADO, {**firma, "sha256": digest, "revisado": datetime.now(UTC).isoformat(timespec="seconds"),
                               "archivo": path.name})
    return {
        "cambio": cambio,
        "motivo": "el contenido cambió" if cambio else "mismo contenido (sha256)",
        "archivo": path.name,
        "sha256": digest,
        "sha256_anterior": referencia,
    }
