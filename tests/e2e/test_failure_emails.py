"""One real DAG run per failure cause, against the stand-ins and the loopback SMTP server.

Each test breaks one thing on a private copy of the sources (or one connection), runs the
``vacunacion_pai`` DAG with ``dag.test()`` and parses what the aiosmtpd stand-in received:
exactly one e-mail, the right subject and recipients (envelope included), the file/row/column,
"nothing was published", links, and not one personal identifier from the source.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import failure_mail_and_copy, restored_environ, run_dag

pytestmark = pytest.mark.e2e

SLUG = "vacunacion_pai"
SOURCE = Path("salud/vacunacion_pai.xlsx")
SHEET = "Vacunados"
ROW = 20  # a data row of the generated workbook (data starts at row 6)
# Columns of the generated workbook (two-row header on rows 4-5).
COL_TELEFONO, COL_BIOLOGICO, COL_FECHA_APLICACION = "I", "K", "M"
TEAM = "equipo.plataforma@casanare.gov.co,soporte.datos@casanare.gov.co"


@pytest.fixture
def mail_env(local_env) -> Iterator:
    """The session deployment with a clean mailbox, a known platform team and os.environ restored."""
    local_env.smtp.clear()
    with restored_environ(CASANARE_PLATFORM_EMAILS=TEAM, CASANARE_AIRFLOW_URL="http://airflow.casanare.local:8080"):
        yield local_env
    local_env.smtp.clear()


@pytest.fixture
def sources(mail_env, tmp_path) -> Path:
    """A private copy of the generated sources that the run reads (``CASANARE_SOURCE_BASE``)."""
    copy = tmp_path / "fuentes"
    shutil.copytree(mail_env.fuentes, copy)
    os.environ["CASANARE_SOURCE_BASE"] = str(copy)
    return copy


def edit_cell(sources: Path, cell: str, value=None, *, copy_from: str | None = None) -> str | None:
    """Write one cell of the workbook copy; returns the value that was there (or copied)."""
    import openpyxl

    path = sources / SOURCE
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET]
    if copy_from:
        value = sheet[copy_from].value
    old = sheet[cell].value
    sheet[cell] = value
    book.save(path)
    return str(value) if copy_from else old


def personal_values(sources: Path) -> set[str]:
    """Original identifiers of the source: documents, names, full names, phones, addresses.

    Read straight from the workbook's personal-data columns (C, D, E, I, J) so the check does
    not depend on anything the pipeline computes, plus ``identificadores_originales``.
    """
    import openpyxl

    book = openpyxl.load_workbook(sources / SOURCE, read_only=True)
    values: set[str] = set()
    for row in book[SHEET].iter_rows(min_row=6, values_only=True):
        documento, nombres, apellidos, telefono, direccion = row[2], row[3], row[4], row[8], row[9]
        for value in (documento, nombres, apellidos, telefono, direccion, f"{nombres} {apellidos}"):
            text = str(value or "").strip()
            if len(text) >= 5:
                values.add(text)
    book.close()
    assert len(values) > 100
    # Plus every identifier the generator knows it wrote in any source (other datasets too).
    from scripts.generar_fuentes import identificadores_originales

    values |= {v for v in identificadores_originales(sources) if len(v) >= 5}
    return values


def expected_recipients() -> tuple[list[str], list[str]]:
    from casanare.catalog import load_catalog

    ds = load_catalog().get(SLUG)
    return [str(c) for c in ds.contactos], TEAM.split(",")


def the_only_mail(env) -> dict:
    """The one failure e-mail, plus the platform team's copy when it went to the dependencia."""
    msg, copy = failure_mail_and_copy(env.smtp)
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    return {"msg": msg, "text": text, "html": html, "copy": copy,
            "copy_text": copy.get_body(preferencelist=("plain",)).get_content() if copy else "",
            "copy_html": copy.get_body(preferencelist=("html",)).get_content() if copy else ""}


def check_common(mail: dict, causa: str, task_id: str, personal: set[str], *, dependencia: bool = True) -> None:
    """Subject, recipients (the dependencia plus a separate copy for the team, or the team alone),
    links (Airflow only in what the team reads), no data."""
    import html as htmllib

    from casanare.catalog import load_catalog

    msg, text, html = mail["msg"], mail["text"], mail["html"]
    nombre = load_catalog().get(SLUG).nombre
    assert msg["Subject"] == f"[Datos Abiertos Casanare] {nombre}: {causa}"
    to, cc = expected_recipients()
    log_link = re.compile(
        rf"http://airflow\.casanare\.local:8080/dags/{SLUG}/runs/[^/\s\"]*%3A[^/\s\"]*/tasks/{task_id}"
    )
    assert msg["Cc"] is None
    if not dependencia:  # platform problems never reach the dependencia: one mail, every link
        to = cc
        assert mail["copy"] is None
        assert "la dependencia no fue notificada" in text.lower()
        assert log_link.search(text) and log_link.search(html)
    else:
        # The SMTP envelopes prove each message really went to its readers.
        copy = mail["copy"]
        assert copy["Subject"] == f"[Copia para la plataforma] {msg['Subject']}"
        assert sorted(copy["X-Envelope-To"].split(", ")) == sorted(cc)
        # Airflow links only in the platform's copy; the dependencia gets its status page instead.
        assert log_link.search(mail["copy_text"]) and log_link.search(mail["copy_html"])
        assert "airflow.casanare.local" not in text and "airflow.casanare.local" not in html
        assert "/seguimiento/vacunacion-pai/" in text and "Qué pasa después" in text
    assert [a.addr_spec for a in msg["To"].addresses] == to
    assert sorted(msg["X-Envelope-To"].split(", ")) == sorted(to)
    assert msg.get_content_type() == "multipart/alternative"
    plain_html = htmllib.unescape(re.sub(r"<[^>]+>", " ", html))
    for body in (text, plain_html):
        assert "Traceback" not in body and 'File "' not in body
        leaked = sorted(v for v in personal if v in body)
        assert not leaked, "personal data leaked into the e-mail"


def test_fuente_no_encontrada(mail_env, sources):
    personal = personal_values(sources)
    (sources / SOURCE).unlink()
    states = run_dag(SLUG)
    assert states["extraer"] == "failed"
    mail = the_only_mail(mail_env)
    check_common(mail, "fuente no encontrada", "extraer", personal)
    assert "vacunacion_pai.xlsx" in mail["text"]
    assert "No se publicó nada" in mail["text"]


def test_archivo_con_errores(mail_env, sources):
    personal = personal_values(sources)
    edit_cell(sources, f"{COL_FECHA_APLICACION}{ROW}", "fecha por confirmar")
    states = run_dag(SLUG)
    assert states["extraer"] == "failed"
    assert states["publicar_datos_gov_co"] == "upstream_failed"
    mail = the_only_mail(mail_env)
    check_common(mail, "archivo con errores", "extraer", personal)
    text = mail["text"]
    assert "vacunacion_pai.xlsx" in text
    assert f'hoja "{SHEET}"' in text
    assert f"fila {ROW}" in text
    assert "columna fecha_aplicacion" in text
    assert "No se publicó nada" in text


def test_calidad_de_datos(mail_env, sources):
    personal = personal_values(sources)
    edit_cell(sources, f"{COL_BIOLOGICO}{ROW}", "Vacuna experimental")
    states = run_dag(SLUG)
    # Allowed values are domain rules checked on the source values, before any privacy transform.
    assert states["extraer"] == "failed" and states["anonimizar"] == "upstream_failed"
    mail = the_only_mail(mail_env)
    check_common(mail, "calidad de datos", "extraer", personal)
    text = mail["text"]
    assert f'archivo vacunacion_pai.xlsx, hoja "{SHEET}", fila {ROW}, columna biologico' in text
    assert "Hay 1 valor(es) no válidos en la columna biologico" in text
    assert '"BCG"' in text or "uno de estos valores" in text  # allowed values of a non-personal column
    assert "No se publicó nada" in text
    assert "Vacuna experimental" not in text


def test_datos_personales_detectados(mail_env, sources):
    personal = personal_values(sources)
    # A clerk pastes a person's phone number into a published column.
    phone = edit_cell(sources, f"{COL_BIOLOGICO}{ROW}", copy_from=f"{COL_TELEFONO}{ROW}")
    assert phone and phone in personal
    states = run_dag(SLUG)
    assert states["extraer"] == "failed"  # found by the domain rules, diagnosed as personal data
    mail = the_only_mail(mail_env)
    check_common(mail, "datos personales detectados", "extraer", personal)
    text = mail["text"]
    assert "vacunacion_pai.xlsx" in text
    assert "columna biologico" in text
    assert "No se publicó nada" in text
    assert phone not in text and phone not in mail["html"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def break_portal() -> None:
    """Point ``datos_gov_co`` at a closed port; one HTTP attempt per task try keeps the run short.

    ``max_attempts``/``backoff_base`` are ordinary extras of the connection (see
    ``publish.portal.hook.config_from_connection``); Airflow's own 3 tries still happen.
    """
    conn = json.loads(os.environ["AIRFLOW_CONN_DATOS_GOV_CO"])
    conn["port"] = closed_port()
    conn["extra"] = {**conn.get("extra", {}), "max_attempts": 1, "backoff_base": 0.01, "timeout": 5}
    os.environ["AIRFLOW_CONN_DATOS_GOV_CO"] = json.dumps(conn)


def change_data(sources: Path) -> None:
    """A real, valid change (the last data row removed), so the run has something to publish."""
    import openpyxl

    path = sources / SOURCE
    book = openpyxl.load_workbook(path)
    book[SHEET].delete_rows(book[SHEET].max_row)
    book.save(path)


def test_portal_no_disponible(mail_env, sources):
    personal = personal_values(sources)
    change_data(sources)
    break_portal()
    os.environ["CASANARE_RETRY_DELAY_S"] = "0"
    states = run_dag(SLUG)
    assert states["publicar_datos_gov_co"] == "failed"
    # The website waits for the reconciled portal publication: the two targets never disagree.
    assert states["publicar_casanare_gov_co"] == "upstream_failed"
    assert states["cerrar"] == "upstream_failed"
    mail = the_only_mail(mail_env)  # one mail although the task ran 3 times
    check_common(mail, "portal no disponible", "publicar_datos_gov_co", personal, dependencia=False)
    text = mail["text"]
    assert "try_number=3" in text  # the mail came after the last of the 3 tries, not per retry
    assert "No se publicó nada: datos.gov.co y casanare.gov.co siguen mostrando la versión anterior." in text


def test_error_de_configuracion(mail_env, sources):
    personal = personal_values(sources)
    change_data(sources)
    # The website connection has a type the platform can't use: a platform problem, not the dependencia's.
    os.environ["AIRFLOW_CONN_CASANARE_GOV_CO"] = json.dumps({"conn_type": "ftp", "host": "sitio.local"})
    os.environ["CASANARE_RETRY_DELAY_S"] = "0"
    states = run_dag(SLUG)
    assert states["publicar_casanare_gov_co"] == "failed"
    mail = the_only_mail(mail_env)
    check_common(mail, "error de configuración de la plataforma", "publicar_casanare_gov_co", personal,
                 dependencia=False)
    assert "Sí, en parte: se publicó en datos.gov.co" in mail["text"]


def test_website_failure_after_the_portal_says_what_is_live_where(mail_env, sources):
    """The portal publication succeeds and the website write fails: one mail, to the platform,
    saying exactly which target shows the new version."""
    change_data(sources)
    blocked = sources / "no_es_carpeta"
    blocked.write_text("un archivo donde debería haber una carpeta")
    os.environ["AIRFLOW_CONN_CASANARE_GOV_CO"] = json.dumps({"conn_type": "fs", "extra": {"path": str(blocked / "sitio")}})
    os.environ["CASANARE_RETRY_DELAY_S"] = "0"
    states = run_dag(SLUG)
    assert states["publicar_datos_gov_co"] == "success"
    assert states["publicar_casanare_gov_co"] == "failed"
    mail = the_only_mail(mail_env)
    assert [a.addr_spec for a in mail["msg"]["To"].addresses] == TEAM.split(",")
    assert ("Sí, en parte: se publicó en datos.gov.co, que ya muestra la versión nueva; casanare.gov.co sigue con "
            "la versión anterior. La próxima ejecución exitosa los iguala.") in mail["text"]
