"""How the streamed downloads print values, and that they escape text exactly like the stdlib."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casanare.publish.site import downloads
from casanare.publish.site.downloads import csv_bytes, json_bytes, write_downloads, xlsx_bytes

pytestmark = pytest.mark.unit
TIPOS = {"n": "entero", "valor": "decimal", "fecha": "fecha", "momento": "fecha_hora", "texto": "texto"}


def typed_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "n": pd.array([21, None, -3], dtype="Int64"),
        "valor": [1_500_000.0, 1_234_567.89, None],
        "fecha": pd.array([date(2024, 1, 5), None, date(2026, 12, 31)], dtype=pd.ArrowDtype(pa.date32())),
        "momento": pd.to_datetime(["2024-01-05 10:30:15", None, "2026-12-31 23:59:59"]),
        "texto": ["Yopal", None, "=1+1"],
    })


def test_integers_money_dates_and_timestamps_are_printed_plainly():
    rows = list(csv.reader(io.StringIO(csv_bytes(typed_frame(), TIPOS).decode("utf-8-sig"), newline="")))
    assert rows[1] == ["21", "1500000", "2024-01-05", "2024-01-05T10:30:15.000", "Yopal"]
    assert rows[2] == ["", "1234567.89", "", "", ""]
    assert rows[3] == ["-3", "", "2026-12-31", "2026-12-31T23:59:59.000", "'=1+1"]
    data = json.loads(json_bytes(typed_frame(), TIPOS))
    assert data[0] == {"n": 21, "valor": 1500000, "fecha": "2024-01-05", "momento": "2024-01-05T10:30:15.000",
                       "texto": "Yopal"}
    assert b'"valor": 1500000,' in json_bytes(typed_frame(), TIPOS)  # no ".0"


def test_dates_stored_as_timestamps_print_as_dates_when_the_catalog_says_fecha():
    frame = pd.DataFrame({"fecha": pd.to_datetime(["2024-01-05", None]), "n": [21.0, None]})
    rows = list(csv.reader(io.StringIO(csv_bytes(frame, {"fecha": "fecha", "n": "entero"}).decode("utf-8-sig"))))
    assert rows[1:] == [["2024-01-05", "21"], ["", ""]]


def test_xlsx_types_dates_and_integers():
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx_bytes(typed_frame(), sheet="prueba", tipos=TIPOS)))["prueba"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:4] == (21, 1500000, datetime(2024, 1, 5), datetime(2024, 1, 5, 10, 30, 15))
    assert rows[2][:2] == (None, 1234567.89) and rows[3][4] == "'=1+1"
    assert sheet.cell(2, 3).number_format == "yyyy\\-mm\\-dd"


def test_a_table_above_the_sheet_limit_gets_no_xlsx_but_complete_csv_and_json(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads, "XLSX_MAX_ROWS", 3)
    monkeypatch.setattr(downloads, "BATCH_ROWS", 2)  # several batches, like a large table
    frame = pd.DataFrame({"n": range(7), "texto": [f"fila {i}" for i in range(7)]})
    files = write_downloads(frame, tmp_path, sheet="x", tipos={"n": "entero"})
    assert sorted(files) == ["datos.csv", "datos.json"] and not (tmp_path / "datos.xlsx").exists()
    assert len(json.loads(files["datos.json"].read_bytes())) == 7
    assert files["datos.csv"].read_bytes().count(b"\r\n") == 8


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), _text), min_size=1, max_size=30))
def test_text_is_escaped_exactly_like_the_stdlib(values):
    monkeypatch_batch = downloads.BATCH_ROWS
    frame = pd.DataFrame({"texto": pd.array(values, dtype="string")})
    expected_json = json.dumps(
        [{"texto": v} for v in values], ensure_ascii=False
    ).encode("utf-8")
    assert json_bytes(frame) == expected_json
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(
        [["texto"], *([downloads.neutralize_cell(v) if v is not None else ""] for v in values)]
    )
    assert csv_bytes(frame) == ("\ufeff" + buffer.getvalue()).encode("utf-8")
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes(frame))) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")
    assert monkeypatch_batch == downloads.BATCH_ROWS
