"""The failure e-mail builder: cause from typed exceptions, plain Spanish, no data, no traceback."""

from __future__ import annotations

import html as htmllib
import traceback
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import yaml

from casanare import errors
from casanare.catalog import Dataset
from casanare.notify import (
    RunInfo,
    classify,
    failure_message,
    failure_subject,
    log_url,
    published_destinations,
)

pytestmark = pytest.mark.unit

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "catalogo_valido.yaml"
CC = ["equipo.datos@casanare.gov.co", "soporte.datos@casanare.gov.co"]


def dataset(**changes) -> Dataset:
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    data.update(changes)
    return Dataset.model_validate(data)


def run_info(**changes) -> RunInfo:
    values = {
        "dag_id": "prueba_csv",
        "run_id": "manual__2026-11-22T16:30:00+00:00",
        "task_id": "extraer",
        "log_url": log_url("http://airflow.local:8080", "prueba_csv", "manual__2026-11-22T16:30:00+00:00", "extraer", 1),
    }
    values.update(changes)
    return RunInfo(**values)


def wrapped(exc: BaseException) -> BaseException:
    """What the notifier receives: the stage error re-raised by Airflow ``from`` the original."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        try:
            raise exc
        except errors.DatosAbiertosError as original:
            raise AirflowFailException(str(original)) from original
    except AirflowFailException as outer:
        return outer


def parts(msg) -> tuple[str, str]:
    """(text, html) bodies of a message after a real serialize/parse round trip."""
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    html = parsed.get_body(preferencelist=("html",)).get_content()
    return text, html


CASES = [
    (errors.FuenteNoEncontrada, "fuente no encontrada"),
    (errors.ArchivoConErrores, "archivo con errores"),
    (errors.BaseDeDatosNoDisponible, "fuente no encontrada"),
    (errors.CalidadDeDatos, "calidad de datos"),
    (errors.DatosPersonalesDetectados, "datos personales detectados"),
    (errors.PortalNoDisponible, "portal no disponible"),
    (errors.ErrorDeConfiguracion, "error de configuración de la plataforma"),
]


@pytest.mark.parametrize(("cls", "causa"), CASES)
def test_cause_comes_from_the_exception_class(cls, causa):
    # The message text deliberately names another cause: classification must ignore it.
    exc = cls("portal no disponible: calidad de datos", ubicacion=errors.Ubicacion(archivo="a.csv", filas=[7]))
    key, detalle = classify(wrapped(exc))
    assert errors.CAUSAS[key] == causa
    assert detalle["ubicacion"]["filas"] == [7]
    assert failure_subject(dataset(), key) == f"[Datos Abiertos Casanare] Conjunto de prueba: {causa}"


def test_untyped_error_is_internal_and_its_text_never_reaches_the_mail():
    try:
        int("1234567890 Juan Pérez")
    except ValueError as exc:
        error = exc
    assert "Traceback" in "".join(traceback.format_exception(error))
    causa, detalle = classify(error)
    assert (causa, detalle) == ("error_interno", None)
    msg = failure_message(dataset(), causa, detalle, run_info(), sender="datos@casanare.gov.co", cc=CC)
    text, html = parts(msg)
    assert msg["Subject"] == "[Datos Abiertos Casanare] Conjunto de prueba: error interno"
    for body in (text, html):
        assert "1234567890" not in body
        assert "Juan" not in body
        assert "Traceback" not in body and "ValueError" not in body
        assert "error interno de la plataforma" in body


def test_body_says_where_how_and_that_nothing_was_published():
    exc = errors.ArchivoConErrores(
        "La columna fecha tiene fechas que no se pueden leer.",
        ubicacion=errors.Ubicacion(archivo="salud/prueba.xlsx", hoja="Datos", filas=[12, 40], columna="fecha"),
        como_corregir="Escriba las fechas como DD/MM/AAAA y vuelva a cargar el archivo.",
    )
    causa, detalle = classify(wrapped(exc))
    msg = failure_message(dataset(), causa, detalle, run_info(), sender="datos@casanare.gov.co", cc=CC)
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["To"] == "salud@casanare.gov.co"
    assert msg["Cc"] == ", ".join(CC)
    text, html = parts(msg)
    for body in (text, htmllib.unescape(html)):
        assert 'archivo salud/prueba.xlsx, hoja "Datos", filas 12, 40, columna fecha' in body
        assert "Escriba las fechas como DD/MM/AAAA" in body
        assert "No se publicó nada" in body
        assert "lectura de la fuente" in body
    assert "manual__2026-11-22T16%3A30%3A00%2B00%3A00" in text


def test_source_file_named_when_the_error_only_knows_the_column():
    exc = errors.CalidadDeDatos(
        "1 regla(s) críticas de calidad no se cumplen.",
        ubicacion=errors.Ubicacion(columna="codigo_municipio"),
        detalles={"fallas_criticas": [{"descripcion": "la columna codigo_municipio no puede tener celdas vacías",
                                       "inesperados": 3}], "data_docs": "file:///tmp/docs/index.html"},
    )
    causa, detalle = classify(wrapped(exc))
    run = run_info(task_id="validar", data_docs_url="https://datos.casanare.gov.co/data_docs/index.html")
    text, html = parts(failure_message(dataset(), causa, detalle, run, sender="d@casanare.gov.co", cc=CC))
    assert "archivo prueba.csv, columna codigo_municipio" in text
    assert "no puede tener celdas vacías (3 fila(s))" in text
    assert 'href="https://datos.casanare.gov.co/data_docs/index.html"' in html


def test_portal_failure_does_not_blame_a_file_and_reports_partial_publication():
    exc = errors.PortalNoDisponible("El portal datos.gov.co no respondió.")
    causa, detalle = classify(exc)
    run = run_info(task_id="publicar_datos_gov_co", published=["casanare.gov.co"])
    text, _ = parts(failure_message(dataset(), causa, detalle, run, sender="d@casanare.gov.co", cc=CC))
    assert "No aplica a un archivo o celda específicos" in text
    assert "Sí, en parte: se publicó en casanare.gov.co" in text
    assert "datos.gov.co sigue con la versión anterior" in text
    assert "la dependencia no fue notificada" in text.lower()


def test_html_is_escaped_and_subject_stays_on_one_line():
    ds = dataset(nombre="Conjunto <script>alert(1)</script> & más", dependencia="Secretaría \"X\" <b>")
    exc = errors.ArchivoConErrores("Encabezado <img src=x> inválido", ubicacion=errors.Ubicacion(columna="a<b"))
    causa, detalle = classify(exc)
    msg = failure_message(ds, causa, detalle, run_info(), sender="d@casanare.gov.co", cc=CC)
    text, html = parts(msg)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; más" in html
    assert "<img" not in html and "&lt;img src=x&gt;" in html
    assert "<b>" not in html
    assert "Conjunto <script>alert(1)</script> & más" in text  # text part is not HTML
    assert "\n" not in msg["Subject"]


def test_log_url_encodes_the_run_id_for_the_airflow_3_ui():
    url = log_url("http://localhost:8080/", "vacunacion_pai", "scheduled__2026-11-01T10:00:00+00:00", "validar", 3)
    assert url == (
        "http://localhost:8080/dags/vacunacion_pai/runs/scheduled__2026-11-01T10%3A00%3A00%2B00%3A00"
        "/tasks/validar?try_number=3"
    )


def test_published_destinations_come_from_manifest_stages():
    assert published_destinations({}) == []
    assert published_destinations({"extraer": {"estado": "ok"}, "publicar_datos_gov_co": {"estado": "fallido"}}) == []
    assert published_destinations(
        {"publicar_datos_gov_co": {"estado": "ok"}, "publicar_casanare_gov_co": {"estado": "ok"}}
    ) == ["datos.gov.co", "casanare.gov.co"]


def test_only_one_task_of_a_run_claims_the_notification(tmp_path):
    """Two publish tasks failing at once: exactly one wins the exclusive marker (threads race)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from casanare.failure_notifier import claim_notification
    from casanare.staging import RunArea

    base = tmp_path.as_uri()
    run_id = "scheduled__2026-11-01T10:00:00+00:00"
    barrier = Barrier(8)

    def claim(task: int) -> bool:
        area = RunArea(base, "prueba_csv", run_id)
        barrier.wait()
        return claim_notification(area, {"tarea": task})

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(claim, range(8)))
    assert results.count(True) == 1
    # Another run of the same DAG is notified on its own.
    assert claim_notification(RunArea(base, "prueba_csv", "manual__2026-11-02T00:00:00+00:00"), {}) is True


def _every_error_class():
    import importlib
    import pkgutil

    import casanare

    for module in pkgutil.walk_packages(casanare.__path__, "casanare."):
        try:
            importlib.import_module(module.name)
        except Exception:  # a module needing an optional service: its classes are still checked below
            continue
    found, todo = [], [errors.DatosAbiertosError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_failure_class_names_who_can_fix_it():
    classes = _every_error_class()
    assert len(classes) > 8
    for cls in classes:
        assert cls.destinatario in {"dependencia", "plataforma"}, cls
    dependencia = {c.__name__ for c in classes if c.destinatario == "dependencia"}
    assert {"ArchivoConErrores", "FuenteNoEncontrada", "CalidadDeDatos", "DatosPersonalesDetectados",
            "CambioDeVolumen"} <= dependencia
    assert not {"ErrorDeConfiguracion", "PortalNoDisponible", "BaseDeDatosNoDisponible"} & dependencia


@pytest.mark.parametrize("cls", [errors.ErrorDeConfiguracion, errors.PortalNoDisponible])
def test_platform_problems_go_to_the_platform_team_only(cls):
    exc = cls("La conexión datos_gov_co no tiene token.",
              detalles={"estado_http": 403, "ruta": "/api/views/abcd-1234", "codigo": "permission_denied"})
    causa, detalle = classify(wrapped(exc))
    msg = failure_message(dataset(), causa, detalle, run_info(task_id="publicar_datos_gov_co"),
                          sender="d@casanare.gov.co", cc=CC)
    assert [a.strip() for a in msg["To"].split(",")] == CC
    assert msg["Cc"] is None
    text, _ = parts(msg)
    assert "HTTP 403 en /api/views/abcd-1234 (código permission_denied)" in text
    assert "no tiene permiso" in text
    assert "la dependencia no fue notificada" in text.lower()


def test_untyped_failure_goes_to_the_platform_team_only():
    msg = failure_message(dataset(), "error_interno", None, run_info(), sender="d@casanare.gov.co", cc=CC)
    assert "salud@casanare.gov.co" not in str(msg["To"]) + str(msg["Cc"])


def test_file_problems_never_ask_the_dependencia_to_edit_the_catalog(tmp_path):
    from casanare.extract import extraer
    from casanare.staging import RunArea
    from tests.malformed_corpus import CASOS, construir

    for caso in CASOS:
        folder = tmp_path / caso.id
        folder.mkdir()
        ds = construir(caso, folder)
        area = RunArea((tmp_path / "staging").as_uri(), ds.slug, f"manual__{caso.id}")
        with pytest.raises(errors.DatosAbiertosError) as info:
            extraer(ds, area)
        if info.value.destinatario == "dependencia":
            advice = (info.value.mensaje + " " + info.value.como_corregir).lower()
            assert "catálogo" not in advice and "yaml" not in advice, caso.id


def test_unexpected_portal_answer_is_named_with_its_http_status():
    from casanare.publish.portal.errors import PublicacionRechazada

    exc = PublicacionRechazada("El portal datos.gov.co rechazó la petición.",
                               detalles={"estado_http": 401, "ruta": "/resource/abcd-1234.json"})
    causa, detalle = classify(wrapped(exc))
    msg = failure_message(dataset(), causa, detalle, run_info(task_id="publicar_datos_gov_co"),
                          sender="d@casanare.gov.co", cc=CC)
    assert msg["Subject"].endswith(": respuesta inesperada del portal")
    assert [a.strip() for a in msg["To"].split(",")] == CC
    text, _ = parts(msg)
    assert "HTTP 401 en /resource/abcd-1234.json" in text and "credenciales" in text


def test_k_anonymity_failure_goes_to_the_platform_team_only():
    from casanare.privacy.kanon import ReidentificacionPosible

    exc = ReidentificacionPosible("El conjunto no alcanza k-anonimato (k=5) sobre sexo, grado.",
                                  ubicacion=errors.Ubicacion(columna="sexo, grado"),
                                  como_corregir="Revise en el catálogo prueba.yaml qué se publica.")
    causa, detalle = classify(wrapped(exc))
    assert causa == "reidentificacion_posible"
    msg = failure_message(dataset(), causa, detalle, run_info(task_id="anonimizar"), sender="d@casanare.gov.co",
                          cc=CC)
    assert [a.strip() for a in msg["To"].split(",")] == CC and msg["Cc"] is None
    assert failure_subject(dataset(), causa).endswith("riesgo de reidentificación (catálogo)")
    text, _ = parts(msg)
    assert "El archivo de la dependencia está bien" in text
