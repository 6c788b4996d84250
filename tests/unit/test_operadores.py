"""What operators and dependencias read: run note, status page, quality report, corrected-file re-run."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from casanare.catalog import load_catalog
from casanare.catalog_checks import dropped_columns_in_description
from casanare.extract.vigilancia import ULTIMO_INTENTO, revisar_fuente, sha256_archivo, vigila_correccion
from casanare.publish.site.estado import render_report, render_status
from casanare.publish.website import _env as site_env
from casanare.resumen import attempt_record, que_sigue, run_note
from casanare.staging import DatasetArea
from tests.malformed_corpus import HEADERS, dataset, filas, write_csv

pytestmark = pytest.mark.unit
WHEN = datetime(2026, 11, 30, 20, 12, tzinfo=UTC)  # 3:12 p. m. in Bogotá


def _stages_ok():
    return {
        "extraer": {"estado": "ok", "filas": 300, "sha256": "a" * 64},
        "anonimizar": {"estado": "ok", "filas": 298},
        "validar": {"estado": "ok", "exito": True, "evaluadas": 25, "fallidas": 1, "advertencias": [{}],
                    "puntaje_mintic": {"puntaje_promedio": 9.3},
                    "resultados": [{"descripcion": "la columna dosis no puede tener celdas vacías",
                                    "columna": "dosis", "severidad": "warning", "exito": False,
                                    "evaluados": 298, "inesperados": 4, "dimension": "completitud"}]},
        "publicar_datos_gov_co": {"estado": "ok", "filas_enviadas": 7, "filas_en_portal": 298,
                                  "diff": {"nuevas": 5, "cambiadas": 2, "borradas": 0}},
        "publicar_casanare_gov_co": {"estado": "ok", "version": "20261130T201200", "filas": 298},
        "cerrar": {"estado": "ok"},
    }


def _failed_extraction():
    return {"extraer": {"estado": "fallido", "error": {
        "causa": "archivo_con_errores", "mensaje": "Falta la columna obligatoria 'Dosis'.",
        "ubicacion": {"archivo": "salud/vacunacion_pai.xlsx", "hoja": "Vacunados", "columna": "Dosis"},
        "como_corregir": "Agregue la columna 'Dosis' al archivo y guárdelo de nuevo."}}}


def test_success_note_counts_quality_and_each_target():
    ds = load_catalog().get("vacunacion_pai")
    record = attempt_record(ds, _stages_ok(), run_id="manual__x", fecha=WHEN, notificado=None, avisados=[],
                            sha256_fuente=None, contacto_plataforma="datos@x.gov.co")
    note = run_note(record, {"Estado de publicación": "http://sitio/seguimiento/vacunacion-pai/"})
    assert note.startswith("**Ejecución exitosa** · lunes 30 de noviembre de 2026, 15:12 (hora de Colombia)")
    assert "Filas leídas de la fuente:** 300" in note and "Filas enviadas a datos.gov.co:** 7" in note
    assert "25 reglas, 1 sin cumplir (1 advertencias); puntaje MinTIC 9.3/10" in note
    assert "**datos.gov.co:** 5 filas nuevas, 2 cambiadas, 0 borradas; 298 filas publicadas" in note
    assert "**casanare.gov.co:** versión 20261130T201200 con 298 filas" in note
    assert "[Estado de publicación](http://sitio/seguimiento/vacunacion-pai/)" in note


def test_failure_note_says_cause_where_who_was_told_and_what_next():
    ds = load_catalog().get("vacunacion_pai")
    record = attempt_record(ds, _failed_extraction(), run_id="manual__x", fecha=WHEN,
                            notificado={"causa": "archivo_con_errores"}, avisados=["salud@x.gov.co", "datos@x.gov.co"],
                            sha256_fuente="b" * 64, contacto_plataforma="datos@x.gov.co")
    assert record["resultado"] == "fallido" and record["reintento_con_archivo"] is True
    assert record["sha256_fuente"] == "b" * 64
    long_links = {f"Enlace {i}": "http://sitio.casanare.gov.co/" + "x" * 150 for i in range(8)}
    assert len(run_note(record, long_links)) <= 1000  # Airflow refuses longer notes
    note = run_note(record, {})
    assert note.startswith("**Ejecución fallida** en la etapa *lectura de la fuente*")
    assert "Falta la columna obligatoria 'Dosis'." in note
    assert 'archivo salud/vacunacion_pai.xlsx, hoja "Vacunados", columna Dosis' in note
    assert "Avisados por correo:** salud@x.gov.co, datos@x.gov.co" in note
    assert "vuelve a ejecutar el conjunto sola" in note
    assert "**datos.gov.co:** no se publicó; conserva la versión anterior." in note


def test_what_next_depends_on_cause_and_source():
    catalog = load_catalog()
    archivo, sql = catalog.get("vacunacion_pai"), catalog.get("contratos_gobernacion")
    assert "vuelve a ejecutar el conjunto sola" in que_sigue(archivo, "calidad_de_datos", WHEN, "e")
    assert "próxima ejecución programada es el martes 1 de diciembre de 2026" in que_sigue(
        archivo, "calidad_de_datos", WHEN, "e")
    assert "para que lo ejecute a mano" in que_sigue(sql, "calidad_de_datos", WHEN, "datos@x")
    assert "No requiere acción de la dependencia" in que_sigue(archivo, "portal_no_disponible", WHEN, "e")


def test_status_page_and_report_show_failure_without_values():
    ds = load_catalog().get("vacunacion_pai")
    record = attempt_record(ds, {**_stages_ok(), **_failed_extraction(), "cerrar": None}, run_id="r", fecha=WHEN,
                            notificado={"causa": "archivo_con_errores"}, avisados=["salud@x.gov.co"],
                            sha256_fuente=None, contacto_plataforma="e")
    html = render_status(site_env(), ds, record, {"Informe de calidad": "http://x/calidad/"}).decode()
    for text in ("Último intento", "Falló", "lectura de la fuente", "Qué falló y dónde", "columna Dosis",
                 "Agregue la columna", "Próxima ejecución programada", "martes 1 de diciembre de 2026",
                 "se vuelve a ejecutar solo"):
        assert text in html, text
    report = render_report(site_env(), ds, record, _stages_ok()["validar"], {}).decode()
    assert "la columna dosis no puede tener celdas vacías" in report and "No cumple" in report
    assert ">4<" in report and "Advertencia" in report


def test_description_naming_a_dropped_column_is_reported():
    ds = load_catalog().get("vacunacion_pai")
    assert dropped_columns_in_description(ds) == []
    promised = ds.descripcion.replace("mes de aplicación y código DIVIPOLA del municipio",
                                      "mes de aplicación, institución vacunadora y municipio")
    assert dropped_columns_in_description(ds.model_copy(update={"descripcion": promised})) == [
        "Institución vacunadora", "Municipio"]


def test_corrected_file_after_a_source_failure_triggers_once(tmp_path):
    path = tmp_path / "vacunas.csv"
    write_csv(path, [HEADERS, *filas(3)])
    ds = dataset(ruta=str(path))
    assert vigila_correccion(ds)
    state = DatasetArea((tmp_path / "staging").as_uri(), ds.slug)
    # No failure recorded: a periodic dataset waits for its cron, whatever happens to the file.
    assert revisar_fuente(ds, state)["cambio"] is False
    state.write_json(ULTIMO_INTENTO, {"resultado": "fallido", "reintento_con_archivo": True,
                                      "sha256_fuente": sha256_archivo(path), "fecha": "2026-11-30T20:00:00+00:00"})
    os.utime(path, ns=(1, 1))  # touched, same bytes: still the file that failed
    assert revisar_fuente(ds, state)["cambio"] is False
    write_csv(path, [HEADERS, *filas(4)])  # the corrected file
    assert revisar_fuente(ds, state)["cambio"] is True
    os.utime(path, ns=(2, 2))
    assert revisar_fuente(ds, state)["cambio"] is False  # already re-run for this content
