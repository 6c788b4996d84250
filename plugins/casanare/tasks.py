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
    finally:
        # The archived original and the extracted table hold personal data: 0600/0700 on file
        # storage, whatever wrote them and whether the stage failed or not.
        area.secure()


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
        if isinstance(ds.fuente, FuenteSQL) and ds.fuente.incremental and desde is not None:
            _merge_with_previous_run(ds, area, last, report)
        report.update(estado="ok", desde=desde.isoformat() if desde else None, hasta=hasta.isoformat())
        area.record_stage("extraer", report)
    log.info("Extraídas %s filas de %s", report["filas"], slug)
    for advertencia in report.get("advertencias", []):  # header names only, never data values
        log.warning("%s: %s", slug, advertencia)
    if report["sin_cambios"]:
        log.info("%s: la fuente no cambió desde la última ejecución exitosa (mismo sha256)", slug)
    return {"filas": report["filas"], "sha256": report["sha256"], "sin_cambios": report["sin_cambios"]}


def _merge_with_previous_run(ds: Dataset, area: RunArea, last: dict[str, Any], report: dict[str, Any]) -> None:
    """Turn an incremental delta into the full table by upserting it into the last run's table."""
    from casanare.extract.incremental import content_hash, merge_increment

    previous = RunArea(settings.staging_url(), ds.slug, last["ejecucion"]) if last.get("ejecucion") else None
    if previous is None or not previous.exists("extraido.parquet"):
        return
    row_id = ds.datos_gov_co.identificador_fila if ds.datos_gov_co else None
    key = next(c.nombre for c in ds.columnas if c.publicada and c.nombre_salida == row_id)
    delta = area.read_parquet("extraido.parquet")
    merged = merge_increment(previous.read_parquet("extraido.parquet"), delta, key)
    area.write_parquet("extraido.parquet", merged)
    report.update(
        filas_incremento=len(delta),
        filas=len(merged),
        sha256=content_hash(merged),
        sin_cambios=len(delta) == 0,
    )


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
        published, report = anonimizar(frame, ds, key=key, reference=reference, grupo=_pseudonym_group(ds))
        del frame
        area.write_parquet("anonimizado.parquet", published)
        report["informe_privacidad"] = _privacy_report(ds, report, area)
        area.record_stage("anonimizar", {"estado": "ok", **report})
    kanon = report.get("k_anonimato") or {}
    # Counts only: the privacy report never carries a value, and neither does this log line.
    log.info("Anonimizado %s: %s filas, %s columnas publicadas, %s no declaradas eliminadas, k logrado %s, "
             "revisión de datos personales: %s", slug, report["filas"], len(report["columnas_publicadas"]),
             report["columnas_no_declaradas_eliminadas"], kanon.get("k_logrado", "no aplica"),
             report["revision_datos_personales"]["estado"])
    return {"filas": report["filas"], "columnas": len(report["columnas_publicadas"])}


def _pseudonym_group(ds: Dataset) -> list[tuple[Dataset, Any]]:
    """The other datasets of ``ds``'s ``grupo_seudonimos`` with their last published table."""
    if not ds.grupo_seudonimos:
        return []
    members = []
    for other in load_catalog().priorizados:
        if other.slug != ds.slug and other.grupo_seudonimos == ds.grupo_seudonimos:
            snapshot = DatasetArea(settings.staging_url(), other.slug).latest_snapshot()
            if snapshot is not None:
                members.append((other, snapshot[1]))
    return members


def _privacy_report(ds: Dataset, report: dict[str, Any], area: RunArea) -> dict[str, Any]:
    """Numbers-only privacy report: into the manifest and beside the dataset's Data Docs."""
    from casanare.privacy.report import privacy_summary, write_report

    summary = privacy_summary(ds, report)
    run_name = area.url.rsplit("/", 1)[-1]
    page = write_report(settings.data_docs_dir() / ds.slug, summary, run_name=run_name)
    return {**summary, "pagina": str(page)}


def run_validate(slug: str, run_id: str) -> dict[str, Any]:
    from casanare.quality.stage import resumen_manifiesto, validar
    from casanare.quality.validation import check_critical

    ds = dataset(slug)
    area, state = areas(slug, run_id)
    with stage(area, "validar"):
        from casanare.quality.perfil import filas_duplicadas

        # Source duplicates, so the scorecard can tell them from those the anonymization created.
        source = area.read_parquet("extraido.parquet")
        duplicados_origen = filas_duplicadas(source)
        del source
        frame = area.read_parquet("anonimizado.parquet")
        docs = settings.data_docs_dir() / ds.slug
        report = validar(
            frame, ds, run_name=area.url.rsplit("/", 1)[-1], docs_dir=docs,
            privacidad=area.stage("anonimizar"), extraccion=area.stage("extraer"), historial=state.history(),
            duplicados_origen=duplicados_origen,
        )
        del frame
        # Recorded before failing, so a stopped run keeps its Data Docs link and scorecard.
        resumen = resumen_manifiesto(report)
        area.write_manifest(calidad=resumen, puntaje_mintic=report["puntaje_mintic"])
        area.record_stage("validar", {"estado": "ok" if report["exito"] else "fallido", **report})
        if resumen["aviso"]:
            log.warning("Calidad de %s: %s", slug, resumen["aviso"])
            for item in resumen["advertencias"]:
                log.warning("Advertencia de calidad (%s): %s", item["regla"] or item["tipo"], item["descripcion"])
        check_critical(report)
    return {"exito": report["exito"], "advertencias": len(report["advertencias"]), "data_docs": report["data_docs"]}


def _skip_unchanged(ds: Dataset, area: RunArea) -> bool:
    extracted = area.stage("extraer") or {}
    return bool(ds.omitir_si_sin_cambios and extracted.get("sin_cambios"))


def run_publish_portal(slug: str, run_id: str) -> dict[str, Any]:
    from casanare.connections import portal_config
    from casanare.publish.portal_metadata import sync_metadata
    from casanare.publish.socrata import publish
    from casanare.publish.socrata_hook import SocrataClient

    ds = dataset(slug)
    area, state = areas(slug, run_id)
    if _skip_unchanged(ds, area):
        area.record_stage("publicar_datos_gov_co", {"estado": "omitido", "motivo": "sin cambios"})
        return {"estado": "omitido"}
    with stage(area, "publicar_datos_gov_co"):
        frame = area.read_parquet("anonimizado.parquet")
        cfg = portal_config()
        # Metadata first (hand edits reported before being overwritten), then the rows; the
        # publish saves the versioned snapshot itself, only after a reconciled read-back.
        with SocrataClient(cfg) as client:
            metadatos = sync_metadata(client, ds, state)
        report = publish(frame, ds, cfg, state=state, version=area.url.rsplit("/", 1)[-1])
        area.record_stage("publicar_datos_gov_co",
                          {"estado": "ok", "filas": report["filas_en_portal"], **report, "metadatos": metadatos})
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
        from casanare.privacy.stage import release_violation
        from casanare.publish.site.scorecard import latest_scorecard

        frame = area.read_parquet("anonimizado.parquet")
        now = datetime.now(UTC)
        version = now.strftime("%Y%m%dT%H%M%S")
        transport = website_transport()
        try:
            report = publish_site(frame, ds, transport, version=version, published_at=now,
                                  history=state.history(), scorecard=latest_scorecard(settings.staging_url(), slug),
                                  validation=area.stage("validar"),
                                  sin_cambios=bool((area.stage("extraer") or {}).get("sin_cambios")),
                                  release_check=lambda past: release_violation(past, ds),
                                  privacidad=area.stage("anonimizar"))
        finally:
            transport.close()
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
    scorecard = (area.stage("validar") or {}).get("puntaje_mintic")
    if scorecard:
        from casanare.quality.scorecard import save_scorecard

        save_scorecard(settings.staging_url(), slug, run_id, scorecard)
    return {"filas_publicadas": summary["filas_publicadas"]}


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "extraer": run_extract,
    "anonimizar": run_anonymize,
    "validar": run_validate,
    "publicar_datos_gov_co": run_publish_portal,
    "publicar_casanare_gov_co": run_publish_website,
    "cerrar": run_close,
}
