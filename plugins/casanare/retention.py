"""Raw data retention: delete the personal-data copies of old runs, keep the evidence.

Each run keeps in staging the archived source (``original/``) and the typed extraction
(``extraido.parquet``): names, documents, phones. They are needed while the run is investigated
or re-run, not forever (Ley 1581, principio de finalidad y temporalidad). After the dataset's
``retencion_dias`` (catalog, default 30) counted from the run's extraction, this module deletes
them and writes into the run's manifest what was deleted: file name, size and SHA-256 (the
manifest already holds the source hash and every stage's counts), so the run stays auditable.

Kept on purpose: ``anonimizado.parquet`` and the snapshots (what was published, no personal
data), the manifests, and — only for incremental SQL sources — the last successful run's
``extraido.parquet``, which the next run merges its increment into (deleting it would make the
next run publish the increment as if it were the whole table).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from casanare.catalog import Catalog, Dataset, FuenteSQL
from casanare.staging import DatasetArea, RunArea

log = logging.getLogger(__name__)

# Files and folders of a run that hold personal data before anonymization.
CRUDOS: tuple[str, ...] = ("original", "extraido.parquet")


@dataclass
class Resumen:
    """Counts only: what a retention pass did (this is what the task logs)."""

    ejecuciones_revisadas: int = 0
    ejecuciones_depuradas: int = 0
    archivos_borrados: int = 0
    bytes_borrados: int = 0
    conservados_para_incremental: int = 0
    por_conjunto: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def run_started(area: RunArea) -> datetime | None:
    """When the run extracted its data (the extraction stage's record), else the manifest's time."""
    for source in (area.stage("extraer") or {}, area.read_json("manifest.json", {}) or {}):
        stamp = source.get("registrado") or source.get("actualizado")
        if stamp:
            try:
                moment = datetime.fromisoformat(str(stamp))
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _sha256(area: RunArea, name: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with area.open(name, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _raw_files(area: RunArea, keep_extracted: bool) -> list[str]:
    names = []
    for item in CRUDOS:
        if item == "extraido.parquet" and keep_extracted:
            continue
        if item == "original":
            names += [f"original/{n}" for n in area.listdir("original")]
        elif area.exists(item):
            names.append(item)
    return names


def purge_run(area: RunArea, *, now: datetime, keep_extracted: bool = False) -> list[dict[str, Any]]:
    """Delete the raw files of one run and record their evidence in its manifest."""
    deleted = []
    for name in _raw_files(area, keep_extracted):
        sha, size = _sha256(area, name)
        area.fs.rm(area._fs_path(name))
        deleted.append({"archivo": name, "sha256": sha, "bytes": size})
    if area.exists("original") and not area.listdir("original"):
        area.fs.rmdir(area._fs_path("original"))
    if deleted:
        manifest = area.read_json("manifest.json", {}) or {}
        previous = (manifest.get("retencion") or {}).get("borrados", [])
        area.write_manifest(retencion={
            "depurado": now.isoformat(timespec="seconds"),
            "motivo": "plazo de retención de datos crudos vencido",
            "borrados": previous + deleted,
        })
    return deleted


def purge_dataset(base_url: str, dataset: Dataset, *, now: datetime, resumen: Resumen) -> None:
    """Apply ``dataset.retencion_dias`` to every run of one dataset."""
    state = DatasetArea(base_url, dataset.slug)
    limit = now - timedelta(days=dataset.retencion_dias)
    last = (state.last_success() or {}).get("ejecucion")
    incremental = isinstance(dataset.fuente, FuenteSQL) and dataset.fuente.incremental
    for run_folder in state.listdir("ejecuciones"):
        area = RunArea(base_url, dataset.slug, run_folder)
        resumen.ejecuciones_revisadas += 1
        started = run_started(area)
        if started is None or started > limit:
            continue
        keep = incremental and last is not None and RunArea(base_url, dataset.slug, last).url == area.url
        deleted = purge_run(area, now=now, keep_extracted=keep)
        resumen.conservados_para_incremental += int(keep and area.exists("extraido.parquet"))
        if deleted:
            resumen.ejecuciones_depuradas += 1
            resumen.archivos_borrados += len(deleted)
            resumen.bytes_borrados += sum(d["bytes"] for d in deleted)
            resumen.por_conjunto[dataset.slug] = resumen.por_conjunto.get(dataset.slug, 0) + len(deleted)


def purge_expired(base_url: str, catalog: Catalog, *, now: datetime | None = None) -> Resumen:
    """Delete every raw copy older than its dataset's retention; return counts only."""
    now = now or datetime.now(UTC)
    resumen = Resumen()
    for dataset in catalog.datasets:
        purge_dataset(base_url, dataset, now=now, resumen=resumen)
        DatasetArea(base_url, dataset.slug).secure()
    log.info(
        "Retención de datos crudos: %s ejecuciones revisadas, %s depuradas, %s archivos borrados (%s bytes), "
        "%s tablas conservadas para la próxima carga incremental",
        resumen.ejecuciones_revisadas, resumen.ejecuciones_depuradas, resumen.archivos_borrados,
        resumen.bytes_borrados, resumen.conservados_para_incremental,
    )
    return resumen
