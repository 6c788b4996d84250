"""Hostile exports through the real DAGs: each publishes exactly the right data or fails with one
clear e-mail to whoever can fix it, leaving datos.gov.co and casanare.gov.co as they were.

Every test edits a private copy of the generated sources (small: 300 rows), runs the DAG with
``dag.test()`` and compares the portal rows and the website files before and after, plus the one
e-mail the SMTP stand-in received. Tests run in file order on purpose: each one starts from what
the previous successful run published.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from casanare.catalog import load_catalog
from casanare.publish.portal import portal_dataset_id
from casanare.staging import DatasetArea, RunArea
from tests.conftest import failure_mail_and_copy, restored_environ, run_dag

pytestmark = pytest.mark.e2e

TEAM = "equipo.plataforma@casanare.gov.co"
PQRSD = "pqrsd_atencion_ciudadano"
PQRSD_CSV = Path("atencion_ciudadano/pqrsd.csv")
PRESUPUESTO = "ejecucion_presupuestal_gastos"
PRESUPUESTO_CSV = Path("hacienda/ejecucion_presupuestal_gastos.csv")
VACUNACION = "vacunacion_pai"
VACUNACION_XLSX = Path("salud/vacunacion_pai.xlsx")


@pytest.fixture(scope="module")
def env(local_env, tmp_path_factory) -> Iterator:
    """The session deployment reading a private copy of the sources, with a known platform team."""
    copy = tmp_path_factory.mktemp("hostiles") / "fuentes"
    shutil.copytree(local_env.fuentes, copy)
    with restored_environ(CASANARE_PLATFORM_EMAILS=TEAM, CASANARE_SOURCE_BASE=str(copy),
                          CASANARE_RETRY_DELAY_S="0"):
        local_env.copia = copy
        local_env.originales = {p: (copy / p).read_bytes() for p in (PQRSD_CSV, PRESUPUESTO_CSV, VACUNACION_XLSX)}
        for slug in (PQRSD, PRESUPUESTO, VACUNACION):  # what is live before the hostile files arrive
            states = run_dag(slug)
            assert set(states.values()) == {"success"}, (slug, states)
        yield local_env
        # Leave the session's targets as the generated sources publish them, for the next modules.
        for path, data in local_env.originales.items():
            (copy / path).write_bytes(data)
        for slug in (PQRSD, PRESUPUESTO, VACUNACION):
            states = run_dag(slug, aceptar_cambio_de_volumen=True)
            assert set(states.values()) == {"success"}, (slug, states)


@pytest.fixture(autouse=True)
def clean(env) -> Iterator:
    env.smtp.clear()
    for path, data in env.originales.items():
        (env.copia / path).write_bytes(data)
    yield
    env.smtp.clear()


# What is live ------------------------------------------------------------------------------------

def portal(env, slug: str) -> list[dict]:
    dataset_id = portal_dataset_id(load_catalog().get(slug))
    if dataset_id is None:  # not created on the portal yet: nothing is live there
        return []
    response = requests.get(f"{env.portal.url}/resource/{dataset_id}.json",
                            params={"$limit": 100000, "$order": ":id"}, timeout=30)
    response.raise_for_status()
    return response.json()


# Per-run follow-up pages (every run, failed or not, reports its own status there): not published data.
RUN_STATUS_FOLDERS = {"seguimiento", "calidad"}


def website(env) -> dict[str, str]:
    """Every published file of the website with its sha256: any new version, page or feed entry shows."""
    root = env.web_dir
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] not in RUN_STATUS_FOLDERS}


def live(env, slug: str) -> tuple[list[dict], dict[str, str]]:
    return portal(env, slug), website(env)


def the_only_mail(env) -> dict:
    """The one failure e-mail (the platform team's separate copy of a dependencia's mail aside)."""
    msg, copy = failure_mail_and_copy(env.smtp)
    msg.copia = copy
    return {"msg": msg, "text": msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")}


def field(text: str, label: str) -> str:
    """The value under ``label:`` in the text e-mail."""
    marker = f"\n{label}:\n  "
    assert marker in text, (label, text)
    return text.split(marker, 1)[1].split("\n\n", 1)[0]


def assert_mail(env, slug: str, causa: str, *, to_dependencia: bool) -> str:
    mail = the_only_mail(env)
    msg, text = mail["msg"], mail["text"]
    ds = load_catalog().get(slug)
    assert msg["Subject"] == f"[Datos Abiertos Casanare] {ds.nombre}: {causa}"
    to = [a.addr_spec for a in msg["To"].addresses]
    assert msg["Cc"] is None
    if to_dependencia:  # the dependencia, and a separate copy for the platform team
        assert to == [str(c) for c in ds.contactos]
        assert msg.copia is not None and [a.addr_spec for a in msg.copia["To"].addresses] == [TEAM]
    else:
        assert to == [TEAM] and msg.copia is None
    assert "catálogo" not in field(text, "Cómo corregirlo") or not to_dependencia
    return text


def last_manifest(env, slug: str) -> dict:
    state = DatasetArea(env.staging_url, slug)
    return json.loads(RunArea(env.staging_url, slug, state.last_success()["ejecucion"]).read_bytes("manifest.json"))


# Source editing ----------------------------------------------------------------------------------

def read_csv(env, path: Path, *, delimiter: str = ",", encoding: str = "utf-8") -> list[list[str]]:
    text = (env.copia / path).read_bytes().decode(encoding)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def write_csv(env, path: Path, rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8",
              quoting: int = csv.QUOTE_ALL, bom: bool = False) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator="\r\n").writerows(rows)
    text = buffer.getvalue()
    (env.copia / path).write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return text


def column(rows: list[list[str]], header: str) -> int:
    return rows[0].index(header)


# PQRSD: a quoted UTF-8 CSV ---------------------------------------------------------------------

def test_cut_at_a_row_boundary_holds_publication_and_tells_the_dependencia(env):
    before = live(env, PQRSD)
    rows = read_csv(env, PQRSD_CSV)
    write_csv(env, PQRSD_CSV, rows[: 1 + (len(rows) - 1) // 2])
    states = run_dag(PQRSD)
    assert states["extraer"] == "failed" and states["publicar_datos_gov_co"] == "upstream_failed"
    assert live(env, PQRSD) == before
    text = assert_mail(env, PQRSD, "cambio grande en el número de filas", to_dependencia=True)
    assert field(text, "Qué falló") == (
        f"La fuente trae {(len(rows) - 1) // 2} filas; la última publicación tenía {len(rows) - 1} (−50,0 %). "
        "El límite acordado para este conjunto es una caída de hasta 10 % o un aumento de hasta 300 %, así que no "
        "se publicó nada.")
    assert field(text, "¿Se publicó algo?").startswith("No. No se publicó nada")


def test_cut_mid_row_inside_quotes_names_the_last_row(env):
    before = live(env, PQRSD)
    data = (env.copia / PQRSD_CSV).read_bytes()
    cut = data[: data.rfind(b'","', 0, len(data) - 40) + 5]  # inside the last record, in a quoted value
    (env.copia / PQRSD_CSV).write_bytes(cut)
    states = run_dag(PQRSD)
    assert states["extraer"] == "failed"
    assert live(env, PQRSD) == before
    text = assert_mail(env, PQRSD, "archivo con errores", to_dependencia=True)
    rows = data.count(b"\n")  # records of the complete file: the cut one is the last
    assert field(text, "Qué falló") == ("El archivo parece cortado (exportación o copia incompleta): la última fila "
                                        "termina dentro de un texto entre comillas.")
    assert field(text, "Dónde") == f"archivo pqrsd.csv, fila {rows}"


def test_semicolon_utf8_excel_export_is_a_separator_problem(env):
    before = live(env, PQRSD)
    write_csv(env, PQRSD_CSV, read_csv(env, PQRSD_CSV), delimiter=";", quoting=csv.QUOTE_MINIMAL, bom=True)
    states = run_dag(PQRSD)
    assert states["extraer"] == "failed"
    assert live(env, PQRSD) == before
    text = assert_mail(env, PQRSD, "archivo con errores", to_dependencia=True)
    assert field(text, "Qué falló") == ("El archivo separa las columnas con punto y coma (;), pero este conjunto se "
                                        "entrega separado por comas (,).")
    assert "comillas" not in text


def test_no_change_rerun_changes_nothing_and_says_sin_cambios(env):
    before = live(env, PQRSD)
    states = run_dag(PQRSD)
    assert set(states.values()) == {"success"}, states
    assert live(env, PQRSD) == before
    manifest = last_manifest(env, PQRSD)
    assert manifest["resultado"] == "sin cambios"
    assert manifest["etapas"]["publicar_datos_gov_co"]["estado"] == "omitido"
    assert manifest["etapas"]["publicar_casanare_gov_co"]["estado"] == "omitido"
    assert env.smtp.messages() == []


def test_portal_failure_leaves_the_website_untouched_and_tells_the_platform_only(env):
    rows = read_csv(env, PQRSD_CSV)
    estado = column(rows, "Estado")
    rows[5][estado] = "Cerrada" if rows[5][estado] != "Cerrada" else "Respondida"  # a real, valid change
    write_csv(env, PQRSD_CSV, rows)
    before = live(env, PQRSD)
    saved = os.environ["AIRFLOW_CONN_DATOS_GOV_CO"]
    conn = json.loads(saved)
    conn["extra"] = {**conn.get("extra", {}), "max_attempts": 1, "backoff_base": 0.01, "timeout": 5}
    conn["port"] = 9  # discard: nothing listens
    os.environ["AIRFLOW_CONN_DATOS_GOV_CO"] = json.dumps(conn)
    try:
        states = run_dag(PQRSD)
    finally:
        os.environ["AIRFLOW_CONN_DATOS_GOV_CO"] = saved
    assert states["publicar_datos_gov_co"] == "failed"
    assert states["publicar_casanare_gov_co"] == "upstream_failed"
    assert live(env, PQRSD) == before
    text = assert_mail(env, PQRSD, "portal no disponible", to_dependencia=False)
    assert field(text, "¿Se publicó algo?") == (
        "No. No se publicó nada: datos.gov.co y casanare.gov.co siguen mostrando la versión anterior.")
    # The rerun once the portal is back converges: both targets get the change.
    env.smtp.clear()
    states = run_dag(PQRSD)
    assert set(states.values()) == {"success"}, states
    published = {r["radicado"]: r for r in portal(env, PQRSD)}
    assert published[rows[5][column(rows, "Radicado")]]["estado"] == rows[5][estado]


def test_invalid_divipola_in_a_suppressed_column_is_reported_not_blanked(env):
    import openpyxl

    before = live(env, VACUNACION)
    path = env.copia / VACUNACION_XLSX
    book = openpyxl.load_workbook(path)
    sheet = book["Vacunados"]
    col = next(c.column for r in (4, 5) for c in sheet[r] if str(c.value or "").startswith("Código"))
    for row in (20, 33, 47):
        sheet.cell(row=row, column=col, value="85999")
    book.save(path)
    states = run_dag(VACUNACION)
    assert states["extraer"] == "failed" and states["anonimizar"] == "upstream_failed"
    assert live(env, VACUNACION) == before
    text = assert_mail(env, VACUNACION, "calidad de datos", to_dependencia=True)
    assert field(text, "Qué falló").startswith("Hay 3 valor(es) no válidos en la columna codigo_municipio")
    assert field(text, "Dónde") == 'archivo vacunacion_pai.xlsx, hoja "Vacunados", filas 20, 33, 47, columna codigo_municipio'
    assert "85999" not in text


def test_three_title_rows_above_a_merged_header_publish_the_same_data(env):
    import openpyxl

    before = live(env, VACUNACION)
    path = env.copia / VACUNACION_XLSX
    book = openpyxl.load_workbook(path)
    sheet = book["Vacunados"]
    merged = [str(r) for r in sheet.merged_cells.ranges]
    for rng in merged:
        sheet.unmerge_cells(rng)
    sheet.insert_rows(1, 3)
    for rng in merged:
        first, last = rng.split(":")
        shift = lambda ref: "".join(ch for ch in ref if ch.isalpha()) + str(int("".join(ch for ch in ref if ch.isdigit())) + 3)  # noqa: E731
        sheet.merge_cells(f"{shift(first)}:{shift(last)}")
    sheet["A1"], sheet["A2"], sheet["A3"] = "GOBERNACIÓN DE CASANARE", "Secretaría de Salud", "Corte: trimestre"
    book.save(path)
    states = run_dag(VACUNACION)
    assert set(states.values()) == {"success"}, states
    # Same rows as before: the run recognised the moved header and found nothing new to publish.
    assert live(env, VACUNACION) == before
    assert last_manifest(env, VACUNACION)["resultado"] == "sin cambios"


def test_integers_with_blanks_stay_integers_on_every_target(env):
    rows = read_csv(env, PQRSD_CSV)
    dias = column(rows, "Días de respuesta")
    for row in rows[1:11]:
        row[dias] = ""
    blanks = sum(not row[dias].strip() for row in rows[1:])  # the export already has unanswered ones
    write_csv(env, PQRSD_CSV, rows)
    states = run_dag(PQRSD)
    assert set(states.values()) == {"success"}, states
    published = portal(env, PQRSD)
    values = [r.get("dias_respuesta") for r in published]
    assert sum(v is None for v in values) == blanks >= 10
    assert all(v.isdigit() for v in values if v is not None), values[:20]
    site = last_manifest(env, PQRSD)["etapas"]["publicar_casanare_gov_co"]
    downloads = next(env.web_dir.rglob(f"versiones/*/{site['version']}/datos.csv"))
    text = downloads.read_text(encoding="utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    for record in list(csv.reader(io.StringIO(text)))[1:]:
        value = record[header.index("dias_respuesta")]
        assert value == "" or value.isdigit(), value


def test_row_count_jump_is_held_then_accepted_by_an_operator(env):
    rows = read_csv(env, PQRSD_CSV)
    radicado = column(rows, "Radicado")
    extra = []
    for copy in range(1, 5):
        for row in rows[1:]:
            clone = list(row)
            clone[radicado] = f"ER-2031-{copy}{row[radicado][3:7]}{row[radicado][-6:]}"  # unique, valid format
            extra.append(clone)
    write_csv(env, PQRSD_CSV, rows + extra)
    before = live(env, PQRSD)
    states = run_dag(PQRSD)
    assert states["extraer"] == "failed"
    assert live(env, PQRSD) == before
    text = assert_mail(env, PQRSD, "cambio grande en el número de filas", to_dependencia=True)
    assert f"La fuente trae {len(rows) - 1 + len(extra)} filas; la última publicación tenía {len(rows) - 1}" in text
    env.smtp.clear()
    states = run_dag(PQRSD, aceptar_cambio_de_volumen=True)
    assert set(states.values()) == {"success"}, states
    assert len(portal(env, PQRSD)) == len(rows) - 1 + len(extra)
    accepted = last_manifest(env, PQRSD)["aceptacion_volumen"]
    assert accepted["aceptado_por"] and accepted["aceptado_en"]
    assert (accepted["filas"], accepted["filas_anteriores"]) == (len(rows) - 1 + len(extra), len(rows) - 1)


# Budget: a `;` cp1252 CSV with Colombian amounts -------------------------------------------------

def test_integer_pesos_with_thousands_dots_are_published_whole(env):
    rows = read_csv(env, PRESUPUESTO_CSV, delimiter=";", encoding="cp1252")
    inicial = column(rows, "Apropiación inicial")
    rows[1][inicial], rows[2][inicial] = "850.000", "1.656.979.000"
    for row in rows[3:]:
        row[inicial] = row[inicial].split(",")[0]  # integer pesos: the usual export of many systems
    write_csv(env, PRESUPUESTO_CSV, rows, delimiter=";", encoding="cp1252", quoting=csv.QUOTE_MINIMAL)
    states = run_dag(PRESUPUESTO)
    assert set(states.values()) == {"success"}, states
    ds = load_catalog().get(PRESUPUESTO)
    key = ds.datos_gov_co.identificador_fila
    published = {r[key]: r for r in portal(env, PRESUPUESTO)}
    assert float(published[rows[1][0]]["apropiacion_inicial"]) == 850000
    assert float(published[rows[2][0]]["apropiacion_inicial"]) == 1656979000


def test_semicolon_file_cut_mid_amount_names_the_row(env):
    before = live(env, PRESUPUESTO)
    data = (env.copia / PRESUPUESTO_CSV).read_bytes().rstrip(b"\r\n")
    records = data.count(b"\r\n") + 1
    (env.copia / PRESUPUESTO_CSV).write_bytes(data[: data.rfind(b";") + 4])  # "170.502.583,73" → "170"
    states = run_dag(PRESUPUESTO)
    assert states["extraer"] == "failed"
    assert live(env, PRESUPUESTO) == before
    text = assert_mail(env, PRESUPUESTO, "archivo con errores", to_dependencia=True)
    assert field(text, "Qué falló") == ("El archivo parece cortado (exportación o copia incompleta): la última línea "
                                        "termina sin salto de línea, a mitad de un valor posible.")
    assert field(text, "Dónde") == f"archivo ejecucion_presupuestal_gastos.csv, fila {records}"
