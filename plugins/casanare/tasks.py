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
from casanare.memoria import devuelve_memoria
from casanare.staging import ColumnReader, DatasetArea, RunArea

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
    finally:
        # The archived original and the extracted table hold personal data: 0600/0700 on file
        # storage, whatever wrote them and whether the stage failed or not.
        area.secure()


@devuelve_memoria
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
    delta = area.read_parquet("extraido.parquet")
    merged = merge_increment(previous.read_parquet("extraido.parquet"), delta, ds.columna_identificador)
    area.write_parquet("extraido.parquet", merged)
    report.update(
        filas_incremento=len(delta),
        filas=len(merged),
        sha256=content_hash(merged),
        sin_cambios=len(delta) == 0,
    )


@devuelve_memoria
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
        from casanare.quality.dominio import blank_counts

        # A suppressed cell is counted apart from one missing at the source (invalid ones never get here).
        report["vacios_por_columna"] = blank_counts(frame, published, ds)
        del frame
        from concurrent.futures import ThreadPoolExecutor

        from casanare.extract.incremental import content_hash

        # What would be published, fingerprinted: equal to the last publication means no change.
        # Hashed while the Parquet is written (the writer releases the GIL): ~0.4 s less at 1M rows.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="huella") as pool:
            fingerprint = pool.submit(content_hash, published, ordered=False)
            area.write_parquet("anonimizado.parquet", published)
            report["hash_publicable"] = fingerprint.result()
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


@devuelve_memoria
def run_validate(slug: str, run_id: str) -> dict[str, Any]:
    from casanare.quality.stage import resumen_manifiesto, validar

    ds = dataset(slug)
    area, state = areas(slug, run_id)
    with stage(area, "validar"):
        # Source duplicates, so the scorecard can tell them from those the anonymization created.
        duplicados_origen = _source_duplicates(area, ds)
        docs = settings.data_docs_dir() / ds.slug
        report = validar(
            ColumnReader(area, "anonimizado.parquet"), ds, run_name=area.url.rsplit("/", 1)[-1], docs_dir=docs,
            privacidad=area.stage("anonimizar"), extraccion=area.stage("extraer"), historial=state.history(),
            duplicados_origen=duplicados_origen,
        )
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


def _source_duplicates(area: RunArea, ds: Dataset) -> int:
    """Whole-row duplicates of the extracted table; with a unique row key only that column is read
    (the whole table was read for a 0: 0.3 GB at 1M rows that the next frames landed on)."""
    from casanare.quality.perfil import conteo_llave, filas_duplicadas

    key = ds.columna_identificador
    source = ColumnReader(area, "extraido.parquet")
    if len(source) < 2:
        return 0
    conteo = conteo_llave(source[key]) if key in source.columns else None
    if conteo is not None and conteo.unica:
        return 0
    return filas_duplicadas(source.read(), key, conteo)


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
    if not (last and current and last.get("hash_publicado") == current):
        return None
    # A run that failed half-way may have changed one target since: only skip when both still
    # hold what the last success published, so a rerun after a partial failure converges.
    live = state.read_json(PUBLICADO, {}) or {}
    if all(live.get(target) == current for target in ("datos_gov_co", "casanare_gov_co")):
        return "sin cambios"
    return None


PUBLICADO = "estado/publicado.json"


def _mark_published(state: DatasetArea, area: RunArea, target: str) -> None:
    """Remember which content each target now shows (read by ``_skip_unchanged``)."""
    live = state.read_json(PUBLICADO, {}) or {}
    live[target] = (area.stage("anonimizar") or {}).get("hash_publicable")
    state.write_json(PUBLICADO, live)


@devuelve_memoria
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
        _mark_published(state, area, "datos_gov_co")
    return {"filas_en_portal": report["filas_en_portal"], "filas_enviadas": report["filas_enviadas"],
            "dataset_id": report["dataset_id"]}


@devuelve_memoria
def run_publish_website(slug: str, run_id: str) -> dict[str, Any]:
    from casanare.connections import website_transport
    from casanare.publish.website import publish_site

    ds = dataset(slug)
    area, state = areas(slug, run_id)
    # The website follows the portal's decision in this run: both targets publish, or neither.
    portal = area.stage("publicar_datos_gov_co") or {}
    if portal.get("estado") == "omitido":
        area.record_stage("publicar_casanare_gov_co", {"estado": "omitido", "motivo": portal.get("motivo")})
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
        _mark_published(state, area, "casanare_gov_co")
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


def run_summarize(slug: str, run_id: str, run_after: datetime | None) -> dict[str, Any]:
    """End of every run: attempt record, status page, quality report and the DAG run note.

    Runs as the DAG's teardown (after success or failure). Everything it writes is built from
    the stages' metadata and counts, so none of it can carry a data value.
    """
    from casanare.dag_docs import portal_page_url, public_data_docs_url, website_page_url
    from casanare.extract.vigilancia import ULTIMO_INTENTO
    from casanare.publish.site.estado import report_url, status_url
    from casanare.resumen import attempt_record, run_note
    from casanare.staging import ETAPAS as STAGES
    from casanare.staging import safe_run_id

    ds = dataset(slug)
    area, state = areas(slug, run_id)
    stages = {etapa: area.stage(etapa) for etapa in STAGES}
    notificado = area.read_json("notificado.json")
    correo = area.read_json("correo.json") or {}
    team = settings.platform_team_emails()
    record = attempt_record(
        ds, stages, run_id=run_id, fecha=datetime.now(UTC), notificado=notificado,
        avisados=[*correo.get("para", []), *correo.get("copia", [])] or team,
        sha256_fuente=_source_hash(ds, stages), contacto_plataforma=", ".join(team),
    )
    validated = stages.get("validar") or {}
    docs = validated.get("data_docs") or (((validated.get("error") or {}).get("detalles") or {}).get("data_docs"))
    folder = safe_run_id(run_id)
    # Most useful first: the note keeps the links that fit in Airflow's 1000 characters.
    links = {
        "Estado de publicación": status_url(ds),
        "Informe de calidad": report_url(ds, folder) if validated else None,
        "Ver en datos.gov.co": portal_page_url(ds, _portal_id(ds)),
        "Ver en casanare.gov.co": website_page_url(ds) if (stages.get("publicar_casanare_gov_co") or {}).get(
            "estado") == "ok" or state.last_success() else None,
        "Data Docs (técnico)": public_data_docs_url(docs),
    }
    record["enlaces"] = {k: v for k, v in links.items() if v}
    state.write_json(ULTIMO_INTENTO, record)
    area.write_json("resumen.json", record)
    if ds.casanare_gov_co is not None:
        _write_status_pages(ds, record, validated, folder, links)
    note = run_note(record, {k: v for k, v in links.items() if v})
    area.write_bytes("nota.md", note.encode("utf-8"))
    _set_run_note(slug, run_id, note)
    log.info("Resumen de %s: %s", slug, record["resultado"])
    return {"resultado": record["resultado"], "estado": links["Estado de publicación"]}


def _portal_id(ds: Dataset) -> str | None:
    from casanare.publish.portal.ids import portal_dataset_id

    return portal_dataset_id(ds)


def _source_hash(ds: Dataset, stages: dict[str, Any]) -> str | None:
    """sha256 of the file that was read (or, when reading failed, of the file there now)."""
    from casanare.catalog import FuenteArchivo

    recorded = (stages.get("extraer") or {}).get("sha256")
    if recorded or not isinstance(ds.fuente, FuenteArchivo):
        return recorded
    from casanare.extract.vigilancia import sha256_archivo

    try:
        return sha256_archivo(ds.fuente.ruta_absoluta())
    except OSError:
        return None


def _write_status_pages(ds: Dataset, record: dict[str, Any], validated: dict[str, Any], folder: str,
                        links: dict[str, str | None]) -> None:
    from casanare.connections import website_transport
    from casanare.publish.site.estado import render_report, render_status, report_path, status_path
    from casanare.publish.website import _env as site_env

    env = site_env()
    transport = website_transport()
    try:
        if validated:
            transport.write_file(report_path(ds, folder), render_report(env, ds, record, validated, {
                "Estado de publicación": links["Estado de publicación"],
                "Data Docs (detalle técnico, en inglés)": links["Data Docs (técnico)"],
            }))
        transport.write_file(status_path(ds), render_status(env, ds, record, {
            k: v for k, v in links.items() if k != "Estado de publicación"}))
    finally:
        transport.close()


def _set_run_note(dag_id: str, run_id: str, note: str) -> None:
    """Write the note through the REST API (connection ``airflow_api``); a missing API only logs."""
    from casanare.airflow_api import from_connection

    try:
        from_connection("airflow_api").set_note(dag_id, run_id, note)
    except Exception as exc:  # the note is a convenience: the status page and staging keep the summary
        log.warning("No se pudo escribir la nota de la ejecución en Airflow (%s): %s", type(exc).__name__, exc)
