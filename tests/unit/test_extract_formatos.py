"""``extraer`` on well-formed but messy sources: every format, header shape and encoding."""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from datetime import datetime

import pandas as pd
import pytest

from casanare.errors import ArchivoConErrores
from casanare.extract import extraer
from casanare.staging import RunArea
from tests.malformed_corpus import HEADERS, dataset, fila, filas, write_csv, write_ods, write_xls, write_xlsx

pytestmark = pytest.mark.unit


def run(tmp_path, ds, hash_anterior=None):
    area = RunArea((tmp_path / "staging").as_uri(), ds.slug, f"r{len(list(tmp_path.glob('staging/*/*/*')))}")
    report = extraer(ds, area, hash_anterior=hash_anterior)
    return report, area.read_parquet("extraido.parquet"), area


def check_typed(frame: pd.DataFrame, n: int) -> None:
    assert list(frame["id_registro"]) == list(range(1, n + 1))
    assert frame["id_registro"].dtype == "Int64"  # nullable integers end to end
    assert frame["valor"].iloc[0] == pytest.approx(1234.51)
    assert frame["fecha"].iloc[0] == pd.Timestamp(2024, 3, 2)
    assert frame["vacunado"].tolist()[:2] == [True, False]
    assert frame["documento"].iloc[0] == "1000000001"


@pytest.mark.parametrize(
    ("sep", "encoding"), [(",", "utf-8"), (";", "cp1252"), ("|", "utf-8-sig"), ("\t", "latin-1")]
)
def test_csv_detects_encoding_and_delimiter(tmp_path, sep, encoding):
    path = tmp_path / "datos.csv"
    write_csv(path, [HEADERS, *filas(6)], sep=sep, encoding=encoding)
    report, frame, _ = run(tmp_path, dataset(ruta=str(path)))
    assert report["filas"] == 6
    assert report["delimitador"] == sep
    check_typed(frame, 6)


def test_csv_bom_quoted_newlines_trailing_separators_and_blank_lines(tmp_path):
    path = tmp_path / "export.csv"
    lines = [";".join(HEADERS) + ";;", "", ";".join(fila(1)).replace("PERSONA FICTICIA 1", '"PERSONA\nFICTICIA; 1"') + ";;",
             ";".join(fila(2)) + ";", "", ";".join(fila(3)) + ";;", ";;;;;;;;"]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8") + b"\r\n\r\n")
    report, frame, _ = run(tmp_path, dataset(ruta=str(path)))
    assert report["filas"] == 3
    assert report["codificacion"] == "utf-8-sig"
    assert frame.columns[0] == "id_registro"  # the BOM did not glue itself to the first header
    assert frame["nombre"].iloc[0] == "PERSONA\nFICTICIA; 1"
    assert report["advertencias"] == []


def test_csv_declared_encoding_and_delimiter_win(tmp_path):
    path = tmp_path / "datos.txt"
    write_csv(path, [HEADERS, *filas(3)], sep="|", encoding="cp1252")
    report, frame, _ = run(tmp_path, dataset(ruta=str(path), codificacion="cp1252", delimitador="|"))
    assert report["formato"] == "txt" and report["filas"] == 3
    assert frame["vacunado"].tolist() == [True, False, True]


def test_extra_columns_are_ignored_with_a_warning(tmp_path):
    path = tmp_path / "extra.csv"
    write_csv(path, [[*HEADERS, "Observaciones internas"], *[[*r, "texto"] for r in filas(3)]])
    report, frame, _ = run(tmp_path, dataset(ruta=str(path)))
    assert report["columnas_extra"] == ["Observaciones internas"]
    assert any("Se ignoraron 1 columna(s)" in a for a in report["advertencias"])
    assert "Observaciones internas" not in frame.columns


def test_missing_optional_column_is_empty_with_a_warning(tmp_path):
    path = tmp_path / "opcional.csv"
    write_csv(path, [r[:4] + r[5:] for r in [HEADERS, *filas(3)]])
    report, frame, _ = run(tmp_path, dataset(ruta=str(path)))
    assert frame["valor"].isna().all()
    assert any("valor" in a for a in report["advertencias"])


def test_headers_match_case_and_accent_insensitively(tmp_path):
    path = tmp_path / "mayus.csv"
    headers = ["id", "NUMERO DE DOCUMENTO", "nombres  y  apellidos", "codigo del municipio", "VALOR", "Fecha", "vacunado"]
    write_csv(path, [headers, *filas(2)])
    _, frame, _ = run(tmp_path, dataset(ruta=str(path)))
    assert frame["municipio"].tolist() == ["85001", "85001"]


def test_xlsx_title_rows_merged_two_row_header_hidden_and_trailing_empties(tmp_path):
    from openpyxl import Workbook

    path = tmp_path / "pai.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Resumen"
    data = wb.create_sheet("Vacunados")
    data.append(["GOBERNACIÓN DE CASANARE — Secretaría de Salud"])
    data.append(["Corte: 31 de marzo de 2024"])
    data.append([])
    data.append(["Registro", "Persona", None, None, "Atención", None, None, "Uso interno"])
    data.append(["Consecutivo", "Nro. Documento", "Nombres y apellidos", "Cod. DANE", "Valor ($)",
                 "Fecha de atención", "¿Vacunado?", "Nro. Documento"])
    data.merge_cells("B4:D4")
    data.merge_cells("E4:G4")
    data.merge_cells("A4:A4")
    for i in range(1, 5):
        row = fila(i)
        row[0] = i  # numeric cells, as Excel stores them
        row[1] = float(row[1])  # document typed as number in Excel
        row[5] = datetime(2024, 3, (i % 28) + 1)
        data.append([*row, "OCULTO"])
    data.column_dimensions["H"].hidden = True  # a duplicated, hidden helper column
    for _ in range(5):
        data.append([None] * 12)
    data.cell(row=40, column=15, value="")
    wb.save(path)
    report, frame, _ = run(tmp_path, dataset(ruta=str(path), hoja="vacunados", filas_encabezado=2))
    assert report["hoja"] == "Vacunados"
    assert report["filas"] == 4
    assert report["columnas_ocultas_ignoradas"] == ["Uso interno / Nro. Documento"]
    assert report["advertencias"] == []
    check_typed(frame, 4)


def test_xlsx_sheet_by_index_and_detected_header(tmp_path):
    path = tmp_path / "idx.xlsx"
    write_xlsx(path, [["Reporte"], [], HEADERS, *filas(3)], sheet="Primera", extra_sheets=("Segunda",))
    report, frame, _ = run(tmp_path, dataset(ruta=str(path), hoja=0))
    assert report["hoja"] == "Primera"
    check_typed(frame, 3)


def test_xlsx_declared_header_row(tmp_path):
    path = tmp_path / "fila.xlsx"
    write_xlsx(path, [["ID", "Otra cosa"], ["x", "y"], HEADERS, *filas(3)])
    _, frame, _ = run(tmp_path, dataset(ruta=str(path), fila_encabezado=3))
    check_typed(frame, 3)


def test_xls_excel_97(tmp_path):
    path = tmp_path / "eva.xls"
    write_xls(path, [HEADERS, *filas(5)], sheet="EVA")
    report, frame, _ = run(tmp_path, dataset(ruta=str(path)))
    assert report["hoja"] == "EVA" and report["formato"] == "xls"
    check_typed(frame, 5)


def test_ods(tmp_path):
    path = tmp_path / "eventos.ods"
    write_ods(path, [HEADERS, *filas(5)], sheet="Eventos")
    report, frame, _ = run(tmp_path, dataset(ruta=str(path)))
    assert report["hoja"] == "Eventos"
    check_typed(frame, 5)


def test_ods_hidden_column_is_ignored(tmp_path):
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Datos")
    table.addElement(TableColumn(numbercolumnsrepeated=7))
    table.addElement(TableColumn(visibility="collapse"))
    for row in [[*HEADERS, "Municipio de atención"], *[[*r, "OCULTO"] for r in filas(3)]]:
        tr = TableRow()
        for value in row:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    path = tmp_path / "oculta.ods"
    doc.save(str(path))
    report, frame, _ = run(tmp_path, dataset(ruta=str(path)))
    assert report["columnas_ocultas_ignoradas"] == ["Municipio de atención"]
    assert report.get("columnas_extra") is None
    check_typed(frame, 3)


def test_archive_is_byte_identical_with_sha256_and_unchanged_flag(tmp_path):
    path = tmp_path / "datos.csv"
    write_csv(path, [HEADERS, *filas(20)])
    ds = dataset(ruta=str(path))
    first, _, area = run(tmp_path, ds)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert first["sha256"] == digest and first["sin_cambios"] is False
    assert area.read_bytes("original/datos.csv") == path.read_bytes()
    assert first["original"] == area.path("original/datos.csv")
    again, _, _ = run(tmp_path, ds, hash_anterior=digest)
    assert again["sin_cambios"] is True
    write_csv(path, [HEADERS, *filas(21)])
    changed, _, _ = run(tmp_path, ds, hash_anterior=digest)
    assert changed["sin_cambios"] is False


@contextmanager
def _as_other_user():
    """Drop root's override of file permissions for a moment (no-op for a normal user)."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)


def test_locked_file_fails_with_instructions(tmp_path):
    import shutil
    import tempfile

    # A folder everybody may enter (pytest's own tmp folders are private to root).
    folder = tempfile.mkdtemp(prefix="casanare-bloqueo-")
    os.chmod(folder, 0o755)
    path = tmp_path.__class__(folder) / "bloqueado.xlsx"
    write_xlsx(path, [HEADERS, *filas(3)])
    path.chmod(0)
    ds = dataset(ruta=str(path))
    area = RunArea((tmp_path / "staging").as_uri(), ds.slug, "r")
    try:
        with _as_other_user(), pytest.raises(ArchivoConErrores) as info:
            extraer(ds, area)
    finally:
        shutil.rmtree(folder)
    assert "bloqueado" in info.value.mensaje
    assert info.value.ubicacion.archivo == "bloqueado.xlsx"
    assert "Cierre el archivo" in info.value.como_corregir
