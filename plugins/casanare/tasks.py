"""Task bodies: read staging → call one stage → write staging → return small metadata.

Each body resolves its connections here (never at parse time) and passes plain values to the
stage. Stage failures are recorded in the run manifest before being re-raised; failures that a
retry can't fix (a bad file) end the task at once so the dependencia gets one prompt e-mail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from casanare import settings
from casanare.catalog import Dataset, FuenteSQL, load_catalog
from casanare.errors import DatosAbiertosError
from casanare.staging import DatasetArea, RunArea

log = logging.getLogger(__name__)


def dataset(slug: str) -> Dataset:
    return load_catalog().get(slug)


def areas(slug: str, run_id: str) -> tuple[RunArea, DatasetArea]:
    base = settings.staging_url()
    return RunArea(base, slug, run_id), DatasetArea(base, slug)


@contextmanager
def stage(area: RunArea, etapa: str):
    """Record a failed stage in the manifest and turn permanent failures into no-retry failures."""
    try:
        yield
    except DatosAbiertosError as exc:
        area.record_stage(etapa, {"estado": "fallido", "error": exc.as_dict()})
        log.error("Etapa %s fallida: %s", etapa, exc)
        if not exc.transitoria:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(str(exc)) from exc
        raise
    except Exception as exc:
        area.record_stage(etapa, {"estado": "fallido", "error": {"causa": "error_interno", "tipo": type(exc).__name__}})
        raise


def run_extract(slug: str, run_id: str, run_after: datetime | None) -> dict[str, Any]:
    from casanare.extract import extraer

    ds = dataset(slug)
    area, state = areas(slug, run_id)
    last = state.last_success() or {}
    with stage(area, "extraer"):
        sql = None
        if isinstance(ds.fuente, FuenteSQL):
            from casanare.connections import sql_url

            sql = sql_url(ds.fuente.conexion)
        desde = datetime.fromisoformat(last["hasta"]) if last.get("hasta") else None
        hasta = run_after or datetime.now(UTC)
        report = extraer(ds, area, sql_url=sql, desde=desde, hasta=hasta, hash_anterior=last.get("sha256"))
        report.update(estado="ok", desde=desde.isoformat() if desde else None, hasta=hasta.isoformat())
        area.record_stage("extraer", report)
    log.info("Extraídas %s filas de %s", report["filas"], slug)
    return {"filas": report["filas"], "sha256": report["sha256"], "sin_cambios": report["sin_cambios"]}


def run_anonymize(slug: str, run_id: str, run_after: datetime | None) -> dict[str, Any]:
    from casanare.privacy.stage import anonimizar

    ds = dataset(slug)
    area, _ = areas(slug, run_id)
    with stage(area, "anonimizar"):
        key = None
        if any(c.publicada and c.regla.accion == "seudonimizar" for c in ds.columnas):
            from casanare.connections import pseudonymization_key

            key = pseudonymization_key()
        frame = area.read_parquet("extraido.parquet")
        reference = (run_after or datetime.now(UTC)).date()
        published, report = anonimizar(frame, ds, key=key, reference=reference)
        del frame
        area.write_parquet("anonimizado.parquet", published)
        area.record_stage("anonimizar", {"estado": "ok", **report})
    return {"filas": report["filas"], "columnas": len(report["columnas_publicadas"])}


def run_validate(slug: str, run_id: str) -> dict[str, Any]:
    from casanare.quality.validation import run_suite

    ds = dataset(slug)
    area, _ = areas(slug, run_id)
    with stage(area, "validar"):
        frame = area.read_parquet("anonimizado.parquet")
        docs = settings.data_docs_dir() / ds.slug
        report = run_suite(frame, ds, run_name=area.url.rsplit("/", 1)[-1], docs_dir=docs)
        report["filas"] = len(frame)
        area.record_stage("validar", {"estado": "ok", **report})
    return {"exito": report["exito"], "advertencias": len(report["advertencias"]), "data_docs": report["data_docs"]}


def _skip_unchanged(ds: Dataset, area: RunArea) -> bool:
    extracted = area.stage("extraer") or {}
    return bool(ds.omitir_si_sin_cambios and extracted.get("sin_cambios"))


def run_publish_portal(slug: str, run_id: str) -> dict[str, Any]:
    from casanare.connections import portal_config
    from casanare.publish.socrata import publish

    ds = dataset(slug)
    area, state = areas(slug, run_id)
    if _skip_unchanged(ds, area):
        area.record_stage("publicar_datos_gov_co", {"estado": "omitido", "motivo": "sin cambios"})
        return {"estado": "omitido"}
    with stage(area, "publicar_datos_gov_co"):
        frame = area.read_parquet("anonimizado.parquet")
        report = publish(frame, ds, portal_config())
        state.save_snapshot(area.url.rsplit("/", 1)[-1], frame)
        area.record_stage("publicar_datos_gov_co", {"estado": "ok", "filas": report["filas_en_portal"], **report})
    return {"filas_en_portal": report["filas_en_portal"], "filas_enviadas": report["filas_enviadas"]}


def run_publish_website(slug: str, run_id: str) -> dict[str, Any]:
    from casanare.connections import website_transport
    from casanare.publish.website import publish_site

    ds = dataset(slug)
    area, state = areas(slug, run_id)
    if _skip_unchanged(ds, area):
        area.record_stage("publicar_casanare_gov_co", {"estado": "omitido", "motivo": "sin cambios"})
        return {"estado": "omitido"}
    with stage(area, "publicar_casanare_gov_co"):
        frame = area.read_parquet("anonimizado.parquet")
        now = datetime.now(UTC)
        version = now.strftime("%Y%m%dT%H%M%S")
        report = publish_site(frame, ds, website_transport(), version=version, published_at=now,
                              history=state.history())
        area.record_stage("publicar_casanare_gov_co", {"estado": "ok", **report})
    return {"version": report["version"], "filas": report["filas"]}


def run_close(slug: str, run_id: str) -> dict[str, Any]:
    """Write the final manifest and remember this run as the last success."""
    area, state = areas(slug, run_id)
    extracted = area.stage("extraer") or {}
    portal = area.stage("publicar_datos_gov_co") or {}
    site = area.stage("publicar_casanare_gov_co") or {}
    summary = {
        "ejecucion": run_id,
        "fecha": datetime.now(UTC).isoformat(timespec="seconds"),
        "sha256": extracted.get("sha256"),
        "hasta": extracted.get("hasta"),
        "filas_extraidas": extracted.get("filas"),
        "filas_publicadas": portal.get("filas_en_portal"),
        "version_sitio": site.get("version"),
        "manifiesto": area.path("manifest.json"),
    }
    area.record_stage("cerrar", {"estado": "ok"})
    area.write_manifest(resultado="exito")
    state.record_success(summary)
    return {"filas_publicadas": summary["filas_publicadas"]}


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "extraer": run_extract,
    "anonimizar": run_anonymize,
    "validar": run_validate,
    "publicar_datos_gov_co": run_publish_portal,
    "publicar_casanare_gov_co": run_publish_website,
    "cerrar": run_close,
}
