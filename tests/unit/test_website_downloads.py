"""Downloads: CSV with BOM, XLSX (write-only) and JSON; formula injection neutralized, numbers kept."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime

import pandas as pd
import pytest

from casanare.publish.site import downloads
from casanare.publish.site.downloads import csv_bytes, json_bytes, neutralize_cell, xlsx_bytes

pytestmark = pytest.mark.unit

DANGEROUS = ["=1+1", "+57 300", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", '=HYPERLINK("http://x","y")']


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "municipio": ["Yopal", "Paz de Ariporo", "Peñas Blancas", "=1+1", "@SUM(A1)"],
            "saldo": pd.array([-5, 0, 12, -100, None], dtype="Int64"),
            "tasa": [-1.5, 2.25, None, -0.001, 3.0],
            "fecha": pd.to_datetime(["2026-01-31", "2026-02-01", None, "2025-12-31", "2026-03-15"]),
            "activo": [True, False, True, False, True],
            "nota": ["-menos", "+más", "normal\u0001con control", "\tTab", "Ñandú"],
        }
    )


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_text_is_prefixed(text):
    assert neutralize_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-5, -5.5, 0, 3, None, True, date(2026, 1, 1), "Yopal", "a=b", ""])
def test_other_values_are_left_alone(value):
    assert neutralize_cell(value) == value


def test_csv_has_bom_accents_and_neutralized_text_but_numbers_stay_numbers():
    data = csv_bytes(frame())
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header == ["municipio", "saldo", "tasa", "fecha", "activo", "nota"]
    col = {name: [r[i] for r in body] for i, name in enumerate(header)}
    assert col["municipio"] == ["Yopal", "Paz de Ariporo", "Peñas Blancas", "'=1+1", "'@SUM(A1)"]
    assert col["saldo"] == ["-5", "0", "12", "-100", ""]
    assert col["tasa"][0] == "-1.5" and col["tasa"][2] == "" and col["tasa"][3] == "-0.001"
    assert col["fecha"][0] == "2026-01-31T00:00:00.000" and col["fecha"][2] == ""
    assert col["activo"][:2] == ["true", "false"]
    assert col["nota"][0] == "'-menos" and col["nota"][1] == "'+más" and col["nota"][3] == "'\tTab"


def test_xlsx_cells_keep_their_types_and_text_is_never_a_formula():
    from openpyxl import load_workbook

    data = xlsx_bytes(frame(), sheet="prueba")
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook["prueba"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("municipio", "saldo", "tasa", "fecha", "activo", "nota")
    assert [r[1] for r in rows[1:]] == [-5, 0, 12, -100, None]
    assert rows[1][2] == -1.5 and isinstance(rows[1][2], float)
    assert rows[1][3] == datetime(2026, 1, 31) and rows[3][3] is None
    assert rows[1][4] is True and rows[2][4] is False
    assert rows[4][0] == "'=1+1" and rows[5][0] == "'@SUM(A1)" and rows[3][0] == "Peñas Blancas"
    assert rows[1][5] == "'-menos" and rows[3][5] == "normalcon control" and rows[5][5] == "Ñandú"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    # No formula element in the worksheet XML at all.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_xlsx_is_skipped_when_the_table_does_not_fit_one_sheet(monkeypatch):
    monkeypatch.setattr(downloads, "XLSX_MAX_ROWS", 5)
    assert xlsx_bytes(frame()) is None
    monkeypatch.setattr(downloads, "XLSX_MAX_ROWS", 6)
    assert xlsx_bytes(frame()) is not None


def _stored_bytes(data: bytes, name: str) -> bytes:
    """The compressed bytes of one zip entry, as they lie in the file."""
    import struct

    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    return data[start:start + info.compress_size]


def test_the_sheet_is_deflated_by_isal():
    """The sheet is deflated by ISA-L, not zlib (4× faster on 1M rows), and inflates to the same XML.

    zlib's level-1 output does not depend on how the input was fed, so equal bytes would mean
    zipfile stopped using the swapped compressor.
    """
    import zlib

    from python_calamine import CalamineWorkbook

    big = pd.concat([frame()] * 2100, ignore_index=True)  # two batches of the writer (10,000 rows each)
    assert len(big) > downloads.BATCH_ROWS
    data = xlsx_bytes(big, sheet="prueba")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None  # every entry's CRC checks out
        xml = archive.read("xl/worksheets/sheet1.xml")
    stored = _stored_bytes(data, "xl/worksheets/sheet1.xml")
    assert zlib.decompress(stored, -15) == xml
    by_zlib = zlib.compressobj(1, zlib.DEFLATED, -15)
    assert stored != by_zlib.compress(xml) + by_zlib.flush()
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("prueba").to_python()
    assert len(rows) == 1 + len(big) and rows[-1][0] == "'@SUM(A1)" and rows[-1][1] == ""


def test_json_rows_are_plain_values():
    rows = json.loads(json_bytes(frame()))
    assert rows[0] == {
        "municipio": "Yopal", "saldo": -5, "tasa": -1.5, "fecha": "2026-01-31T00:00:00.000", "activo": True,
        "nota": "-menos",
    }
    assert rows[4]["saldo"] is None and rows[2]["tasa"] is None and rows[2]["fecha"] is None


def test_read_ahead_keeps_order_raises_errors_and_never_hangs():
    from casanare.publish.site.downloads import _ahead

    assert list(_ahead(iter(range(50)))) == list(range(50))

    def failing():
        yield 1
        raise ValueError("lote dañado")

    got = []
    with pytest.raises(ValueError, match="lote dañado"):
        for item in _ahead(failing()):
            got.append(item)
    assert got == [1]
    # A consumer that stops early (a full disk) must not leave the producer blocked.
    stream = _ahead(iter(range(1000)), depth=1)
    assert next(stream) == 0
    stream.close()


def test_write_downloads_prints_what_each_writer_prints_alone(tmp_path, monkeypatch):
    """Decimals formatted once for the three files, written in parallel and across batches:
    the same bytes as each writer formatting its own batches."""
    import numpy as np

    monkeypatch.setattr(downloads, "BATCH_ROWS", 7)
    n = 40
    df = pd.DataFrame({
        "valor": pd.Series([1500000.0, -0.5, np.nan, 0.125, 1e20, float("inf"), 12.3, -7.0] * 5),
        "pagos": pd.Series(np.arange(n) * 1234.56),
        "cantidad": pd.Series([*range(n - 1), None], dtype="Int64"),
        "nombre": [f"=fila {i}, \"x\"" if i % 3 == 0 else f"fila {i}" for i in range(n)],
        "fecha": pd.to_datetime(["2024-01-05"] * n),
    })
    tipos = {"valor": "decimal", "pagos": "decimal", "cantidad": "entero", "nombre": "texto", "fecha": "fecha"}
    files = downloads.write_downloads(df, tmp_path, sheet="datos", tipos=tipos)
    assert files["datos.csv"].read_bytes() == csv_bytes(df, tipos)
    assert files["datos.json"].read_bytes() == json_bytes(df, tipos)
    together = zipfile.ZipFile(files["datos.xlsx"])
    alone = zipfile.ZipFile(io.BytesIO(xlsx_bytes(df, sheet="datos", tipos=tipos)))
    assert together.namelist() == alone.namelist()
    assert all(together.read(name) == alone.read(name) for name in alone.namelist())


def test_cells_that_need_no_escaping_skip_the_rewrites_with_the_same_text(monkeypatch):
    """Each escaping step looks at the bytes first and leaves a column that needs nothing alone;
    the full rewrite of every value is the reference."""
    import random

    import pyarrow as pa

    from casanare.publish.site import downloads

    rng = random.Random(5)
    pieces = ["a", "Ñ", "1,5", '"', "\\", "\n", "\r", "\t", "\x01", "\x1f", "&", "<", ">", "=", "+", "-", "@", " ", "€"]
    steps = (downloads._neutralized, downloads._csv_quote, downloads._xml_text, downloads._json_string)
    for _ in range(300):
        # Columns either plain (the common case) or with any character, sometimes null, sliced.
        plain = rng.random() < 0.5
        values = [None if rng.random() < 0.1 else "".join(rng.choice(pieces[:2] if plain else pieces)
                                                          for _ in range(rng.randint(0, 4)))
                  for _ in range(rng.randint(1, 12))]
        array = pa.array(values, pa.string()).slice(rng.randint(0, len(values) - 1))
        for step in steps:
            fast = step(array)
            with monkeypatch.context() as m:
                m.setattr(downloads, "_text_bytes", lambda values: None)  # "may need it": rewrite all
                reference = step(array)
            assert fast.to_pylist() == reference.to_pylist(), (step, values)
    plain = pa.array(["Yopal", "Aguazul", None], pa.string())
    assert downloads._neutralized(plain) is plain and downloads._csv_quote(plain) is plain
    assert downloads._xml_text(plain) is plain


def _read_all(shared, k, got, fail_after=None):
    for i, item in enumerate(shared.reader(k)):
        if fail_after is not None and i == fail_after:
            raise OSError("disco lleno")
        got[k].append(item)


def test_shared_batches_are_made_once_read_by_all_and_never_pile_up():
    import threading

    from casanare.publish.site.reparto import Reparto

    made = []
    held = []

    def source():
        for i in range(200):
            made.append(i)
            held.append(len(shared._items))
            yield i

    shared = Reparto(source(), readers=3, depth=4)
    got = {0: [], 1: [], 2: []}
    threads = [threading.Thread(target=_read_all, args=(shared, k, got), daemon=True) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert made == list(range(200)) and all(got[k] == list(range(200)) for k in range(3))
    assert max(held) <= 4 and shared._items == {}


def test_a_reader_that_fails_does_not_hold_the_others_and_source_errors_reach_everyone():
    import threading

    from casanare.publish.site.reparto import Reparto

    shared = Reparto(iter(range(100)), readers=3, depth=2)
    got = {0: [], 1: [], 2: []}
    errors = []

    def run(k, fail_after=None):
        try:
            _read_all(shared, k, got, fail_after)
        except OSError as exc:
            errors.append((k, str(exc)))

    threads = [threading.Thread(target=run, args=(0, 5), daemon=True), threading.Thread(target=run, args=(1,), daemon=True),
               threading.Thread(target=run, args=(2,), daemon=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert errors == [(0, "disco lleno")] and got[1] == got[2] == list(range(100))

    def broken():
        yield 1
        raise ValueError("lote dañado")

    shared = Reparto(broken(), readers=2)
    for k in range(2):
        with pytest.raises(ValueError, match="lote dañado"):
            list(shared.reader(k))


def test_each_batch_is_formatted_once_for_the_three_files(tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.setattr(downloads, "BATCH_ROWS", 10)
    formatted = []
    real = downloads._float_text
    monkeypatch.setattr(downloads, "_float_text", lambda values: formatted.append(len(values)) or real(values))
    df = pd.DataFrame({"valor": np.arange(95) * 1.5, "pagos": np.arange(95) * 0.25, "nombre": ["x"] * 95})
    files = downloads.write_downloads(df, tmp_path, sheet="datos", tipos={"valor": "decimal", "pagos": "decimal"})
    assert set(files) == {"datos.csv", "datos.json", "datos.xlsx"}
    # Two decimal columns × ten batches, each formatted once (never a whole column at once).
    assert sorted(formatted) == sorted([10] * 18 + [5] * 2)


def test_a_table_in_many_small_chunks_is_written_in_full_batches_with_the_same_bytes(monkeypatch):
    """``to_batches`` cuts at every chunk edge: 30 five-row pieces must not become 30 batches."""
    big = pd.concat([frame()] * 30, ignore_index=True)  # 30 chunks of 5 rows per text column
    monkeypatch.setattr(downloads, "BATCH_ROWS", 40)
    chunked = downloads.to_arrow(big)
    assert max(c.num_chunks for c in chunked.columns) > 1
    sizes = [b.num_rows for b in downloads._batches(chunked, {})]
    assert sizes == [40, 40, 40, 30]
    assert csv_bytes(big) == csv_bytes(pd.DataFrame(big.to_dict("list")).astype(big.dtypes.to_dict()))
    empty = big.iloc[:0]
    assert list(downloads._batches(downloads.to_arrow(empty), {})) == []
    assert csv_bytes(empty).count(b"\r\n") == 1 and json.loads(json_bytes(empty)) == []
