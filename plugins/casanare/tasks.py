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
        area.record_stage(etapa, {"estado": "fallido", "error": {"causa": "error_interno", "tipo": type(exc).__name__,
                                                         "destinatario": "plataforma"}})
        raise


def run_extract(
    slug: str, run_id: str, run_after: datetime | None, *, aceptar_volumen: bool = False, usuario: str | None = None
) -> dict[str, Any]:
    from casanare.extract import extraer
    from casanare.extract.volumen import Aceptacion, check_volume

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
        incremento = report.get("filas_incremento") if "filas_incremento" in report else None
        volumen = check_volume(ds, report["filas"], last, incremento=incremento,
                               aceptacion=Aceptacion(aceptar_volumen, usuario), archivo=_source_name(ds))
        report["volumen"] = volumen
        if volumen["estado"] == "aceptado":
            area.write_manifest(aceptacion_volumen={k: volumen[k] for k in (
                "aceptado_por", "aceptado_en", "filas", "filas_anteriores", "variacion_pct")})
        report["dominio"] = _check_domain(ds, area, report)
        area.record_stage("extraer", report)
    log.info("Extraídas %s filas de %s", report["filas"], slug)
    for advertencia in report.get("advertencias", []):  # header names only, never data values
        log.warning("%s: %s", slug, advertencia)
    if report["sin_cambios"]:
        log.info("%s: la fuente no cambió desde la última ejecución exitosa (mismo sha256)", slug)
    return {"filas": report["filas"], "sha256": report["sha256"], "sin_cambios": report["sin_cambios"]}


def _source_name(ds: Dataset) -> str | None:
    from casanare.catalog import FuenteArchivo

    return ds.fuente.ruta if isinstance(ds.fuente, FuenteArchivo) else None


def _check_domain(ds: Dataset, area: RunArea, report: dict[str, Any]) -> dict[str, Any]:
    """Domain rules on the EXTRACTED data, before any privacy transform can blank a bad value."""
    from pathlib import PurePath

    from casanare.errors import CalidadDeDatos
    from casanare.quality.dominio import check_domain

    frame = area.read_parquet("extraido.parquet")
    rows = area.read_parquet("filas_origen.parquet")["fila"] if area.exists("filas_origen.parquet") else None
    archivo = _source_name(ds)
    try:
        return check_domain(frame, ds, filas=rows, encabezados=report.get("encabezados"),
                            archivo=PurePath(archivo).name if archivo else None, hoja=report.get("hoja"))
    except CalidadDeDatos as exc:
        _personal_data_instead(ds, frame, rows, exc)
        raise


def _personal_data_instead(ds: Dataset, frame: Any, rows: Any, exc: Any) -> None:
    """An invalid cell that holds a phone, e-mail or document is a personal-data problem: say so."""
    from casanare.errors import DatosPersonalesDetectados, Ubicacion
    from casanare.privacy.detectors import identifier_spans

    column = exc.ubicacion.columna
    if column not in frame.columns:
        return
    numbers = list(rows) if rows is not None and len(rows) == len(frame) else list(range(1, len(frame) + 1))
    position = {n: i for i, n in enumerate(numbers)}
    flagged = [n for n in exc.ubicacion.filas
               if n in position and any(s.strong for s in identifier_spans(str(frame[column].iloc[position[n]])))]
    if flagged:
        raise DatosPersonalesDetectados(
            f"La columna {column} tiene datos personales (teléfonos, correos o documentos) donde se esperaba "
            f"otro dato, en {len(flagged)} fila(s): {', '.join(map(str, flagged))}. No se publicó nada.",
            ubicacion=Ubicacion(archivo=exc.ubicacion.archivo, hoja=exc.ubicacion.hoja, filas=flagged, columna=column),
            como_corregir="Borre esos datos personales de la columna y escriba en cada celda el dato que corresponde; "
            "luego vuelva a cargar el archivo.",
            detalles={"encabezado": (exc.detalles or {}).get("encabezado")},
        ) from exc


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
        published, report = anonimizar(frame, ds, key=key, reference=reference)
        from casanare.quality.dominio import blank_counts

        # A suppressed cell is counted apart from one missing at the source (invalid ones never get here).
        report["vacios_por_columna"] = blank_counts(frame, published, ds)
        del frame
        area.write_parquet("anonimizado.parquet", published)
        from casanare.extract.incremental import content_hash

        # What would be published, fingerprinted: equal to the last publication means no change.
        report["hash_publicable"] = content_hash(published, ordered=False)
        area.record_stage("anonimizar", {"estado": "ok", **report})
    kanon = report.get("k_anonimato") or {}
    # Counts only: the privacy report never carries a value, and neither does this log line.
    log.info("Anonimizado %s: %s filas, %s columnas publicadas, %s no declaradas eliminadas, k logrado %s, "
             "revisión de datos personales: %s", slug, report["filas"], len(report["columnas_publicadas"]),
             report["columnas_no_declaradas_eliminadas"], kanon.get("k_logrado", "no aplica"),
             report["revision_datos_personales"]["estado"])
    return {"filas": report["filas"], "columnas": len(report["columnas_publicadas"])}


def run_validate(slug: str, run_id: str) -> dict[str, Any]:
    from casanare.quality.stage import resumen_manifiesto, validar

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
        _check_critical_with_rows(ds, area, report)
    return {"exito": report["exito"], "advertencias": len(report["advertencias"]), "data_docs": report["data_docs"]}


def _check_critical_with_rows(ds: Dataset, area: RunArea, report: dict[str, Any]) -> None:
    """Fail on a critical rule, naming the source rows (up to 20), the sheet's header and the valid values."""
    from pathlib import PurePath

    from casanare.errors import CalidadDeDatos
    from casanare.quality.baseline import merged_suite
    from casanare.quality.dominio import locate_quality_failure
    from casanare.quality.validation import check_critical

    try:
        check_critical(report)
    except CalidadDeDatos as exc:
        extracted = area.stage("extraer") or {}
        rows = area.read_parquet("filas_origen.parquet")["fila"] if area.exists("filas_origen.parquet") else None
        archivo = _source_name(ds)
        try:
            locate_quality_failure(exc, area.read_parquet("anonimizado.parquet"), ds, merged_suite(ds), filas=rows,
                                   encabezados=extracted.get("encabezados"),
                                   archivo=PurePath(archivo).name if archivo else None, hoja=extracted.get("hoja"))
        except Exception:  # the failure is reported either way; rows are a bonus
            log.warning("No se pudieron ubicar las filas de la regla de calidad", exc_info=True)
        raise


def _skip_unchanged(ds: Dataset, area: RunArea, state: DatasetArea | None = None) -> str | None:
    """Why this run publishes nothing, or None.

    The anonymized data equal to what the last successful run published on BOTH targets means
    no new website version, no feed entry and no re-send to the portal.
    """
    extracted = area.stage("extraer") or {}
    if ds.omitir_si_sin_cambios and extracted.get("sin_cambios"):
        return "sin cambios en la fuente"
    last = state.last_success() if state is not None else None
    current = (area.stage("anonimizar") or {}).get("hash_publicable")
    if last and current and last.get("hash_publicado") == current:
        return "sin cambios"
    return None


def run_publish_portal(slug: str, run_id: str) -> dict[str, Any]:
    from casanare.connections import portal_config
    from casanare.publish.portal import catalog_changed, portal_dataset_id, publish_dataset

    ds = dataset(slug)
    area, state = areas(slug, run_id)
    # Same data may skip the portal, unless the catalog changed its schema or metadata.
    if (motivo := _skip_unchanged(ds, area, state)) and not catalog_changed(ds, state):
        dataset_id = portal_dataset_id(ds, state)
        area.record_stage("publicar_datos_gov_co", {"estado": "omitido", "motivo": motivo, "dataset_id": dataset_id})
        return {"estado": "omitido", "dataset_id": dataset_id}
    with stage(area, "publicar_datos_gov_co"):
        frame = area.read_parquet("anonimizado.parquet")
        # Creates the dataset on its first publication, aligns schema and metadata, sends the
        # rows atomically and saves the snapshot only after a reconciled read-back.
        report = publish_dataset(frame, ds, portal_config(), state, area.url.rsplit("/", 1)[-1])
        log.info("datos.gov.co: %s publicado en el conjunto %s", slug, report["dataset_id"])
        area.record_stage("publicar_datos_gov_co", {"estado": "ok", "filas": report["filas_en_portal"], **report})
    return {"filas_en_portal": report["filas_en_portal"], "filas_enviadas": report["filas_enviadas"],
            "dataset_id": report["dataset_id"]}


def run_publish_website(slug: str, run_id: str) -> dict[str, Any]:
    from casanare.connections import website_transport
    from casanare.publish.website import publish_site

    ds = dataset(slug)
    area, state = areas(slug, run_id)
    if motivo := _skip_unchanged(ds, area, state):
        area.record_stage("publicar_casanare_gov_co", {"estado": "omitido", "motivo": motivo})
        return {"estado": "omitido"}
    with stage(area, "publicar_casanare_gov_co"):
        from casanare.publish.site.scorecard import latest_scorecard

        frame = area.read_parquet("anonimizado.parquet")
        now = datetime.now(UTC)
        version = now.strftime("%Y%m%dT%H%M%S")
        transport = website_transport()
        try:
            report = publish_site(frame, ds, transport, version=version, published_at=now,
                                  history=state.history(), scorecard=latest_scorecard(settings.staging_url(), slug),
                                  validation=area.stage("validar"),
                                  sin_cambios=bool((area.stage("extraer") or {}).get("sin_cambios")))
        finally:
            transport.close()
        area.record_stage("publicar_casanare_gov_co", {"estado": "ok", **report})
    return {"version": report["version"], "filas": report["filas"]}


def run_close(slug: str, run_id: str) -> dict[str, Any]:
    """Write the final manifest and remember this run as the last success."""
    area, state = areas(slug, run_id)
    last = state.last_success() or {}
    extracted = area.stage("extraer") or {}
    portal = area.stage("publicar_datos_gov_co") or {}
    site = area.stage("publicar_casanare_gov_co") or {}
    unchanged = portal.get("estado") == "omitido" and site.get("estado") == "omitido"
    published_hash = (area.stage("anonimizar") or {}).get("hash_publicable")
    summary = {
        "ejecucion": run_id,
        "fecha": datetime.now(UTC).isoformat(timespec="seconds"),
        "sha256": extracted.get("sha256"),
        "hasta": extracted.get("hasta"),
        "filas_extraidas": extracted.get("filas"),
        "filas_incremento": extracted.get("filas_incremento"),
        # Both targets now show the same content: an unchanged run keeps the last publication's facts.
        "filas_publicadas": portal.get("filas_en_portal", last.get("filas_publicadas") if unchanged else None),
        "version_sitio": site.get("version", last.get("version_sitio") if unchanged else None),
        "hash_publicado": last.get("hash_publicado") if unchanged and not published_hash else published_hash,
        "sin_cambios": unchanged,
        "manifiesto": area.path("manifest.json"),
    }
    area.record_stage("cerrar", {"estado": "ok"})
    area.write_manifest(resultado="sin cambios" if unchanged else "exito")
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
