"""Download files of a dataset: CSV (UTF-8 with BOM), XLSX and JSON, streamed in constant memory.

Text cells that a spreadsheet would run as a formula are neutralized with a leading apostrophe
(OWASP "CSV injection"); numbers, dates and booleans are written as such, so ``-5`` stays -5.

How values are printed (the same in the three files):

* integers as ``21``; money and other decimals without a trailing ``.0`` (``1500000``,
  ``1234567.89``); NaN and infinities as empty / null;
* ``fecha`` columns as ``2024-01-05``; ``fecha_hora`` as ``2024-01-05T10:30:00.000`` (the floating
  timestamp datos.gov.co serves); booleans as ``true`` / ``false``.

Speed and memory: the table is turned into Arrow once and written in batches of
:data:`BATCH_ROWS` rows. Every cell is formatted with ``pyarrow.compute`` over the whole batch
(one C loop per column, no Python object per cell) and each batch's rows are joined into one
buffer that goes straight to the file. The XLSX is a minimal Office Open XML package (inline
strings, one style per date kind) written the same way into a deflate stream. A 1M-row table
takes seconds and a few hundred MB whatever its size (measured in ``make bench``); the earlier
writers built every row as Python objects, three times.

CSV text cells are quoted exactly as Python's ``csv`` module does (only when they hold a comma,
a quote or a line break), so the published bytes of text columns didn't change.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from isal import isal_zlib

from casanare.arrow_text import first_bytes
from casanare.arrow_text import string_bytes as _text_bytes
from casanare.publish.site.reparto import Reparto

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Excel's hard limit, header included.
XLSX_MAX_ROWS = 1_048_576
BATCH_ROWS = 10_000  # three writers run at once: 10k rows each keeps them ~100 MB together
_FORMULA_RE = r"^[=+\-@\t\r]"
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.000"
# Control characters XML 1.0 can't hold (openpyxl's ILLEGAL_CHARACTERS_RE).
_XML_ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
# ISA-L's deflate at level 1: on the sheet of 1M budget rows (683 MB of XML) 0.8 s and 107 MB,
# where zlib at level 1 took 3.2 s and 117 MB (side by side, docs/sitio_web.md); it releases the GIL.
_XLSX_DEFLATE_LEVEL = 1
_JSON_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def neutralize_cell(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula; leave every other type alone."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# Arrow conversion ----------------------------------------------------------------------------


def to_arrow(df: pd.DataFrame, tipos: Mapping[str, str] | None = None) -> pa.Table:
    """The frame as an Arrow table with the catalog's types (``entero`` as int64 even if float)."""
    tipos = tipos or {}
    columns = {}
    for name in df.columns:
        series = df[name]
        if tipos.get(str(name)) == "entero" and series.dtype.kind == "f":
            values = series.to_numpy()
            finite = values[~np.isnan(values)]
            if np.all(finite == np.round(finite)):
                series = series.astype("Int64")
        columns[str(name)] = series
    return pa.Table.from_pandas(pd.DataFrame(columns, copy=False), preserve_index=False)


def _kind(field: pa.Field, tipo: str | None) -> str:
    t = field.type
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "date" if tipo == "fecha" else "datetime"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_null(t):
        return "null"
    return "other"


def _batches(table: pa.Table, tipos: Mapping[str, str]) -> Iterator[pa.RecordBatch]:
    """Batches of at most :data:`BATCH_ROWS` rows; text as ``string`` (pandas gives ``large_string``).

    Decimal columns arrive already formatted (``_float_text``, a third of the downloads' CPU),
    so the three files share one formatting of each batch (see ``reparto.Reparto``) and
    ``_scalar_text`` passes them through. Formatting batch by batch, not whole columns first,
    keeps the text of only a few batches in memory (5M rows: 0.4 GB of decimal texts before).
    """
    floats = {i for i, f in enumerate(table.schema) if _kind(f, tipos.get(f.name)) == "float"}
    for start in range(0, table.num_rows, BATCH_ROWS):
        # BATCH_ROWS rows whatever the table's chunks: ``to_batches`` cuts at every chunk edge, and
        # a frame concatenated from 2,100 five-row pieces gave 2,100 batches (5 s for 10,500 rows).
        piece = table.slice(start, BATCH_ROWS)
        if any(column.num_chunks > 1 for column in piece.columns):
            piece = piece.combine_chunks()
        batch = piece.to_batches()[0]
        columns = [
            _float_text(c) if i in floats
            else pc.cast(c, pa.string()) if pa.types.is_large_string(c.type) else c
            for i, c in enumerate(batch.columns)
        ]
        yield pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


# Value formatting (vectorized) ---------------------------------------------------------------


def _float_text(values: pa.Array) -> pa.Array:
    """Shortest round-trip text of each float (Python ``repr``), ``.0`` dropped; null for NaN/inf.

    Integral values and values with at most two decimals (money) are formatted with integer
    arithmetic; anything else (rare: rates, coordinates) goes through ``repr`` one by one.
    """
    v = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    finite = np.isfinite(v)
    safe = np.where(finite, v, 0.0)
    cents = np.round(safe * 100)
    exact = finite & (np.abs(safe) < 1e13) & (cents / 100 == safe)
    c = np.where(exact, cents, 0).astype(np.int64)
    whole = pc.cast(pa.array(np.abs(c) // 100), pa.string())
    frac = np.abs(c) % 100
    tenths = frac % 10 == 0
    frac_text = pc.cast(pa.array(np.where(tenths, frac // 10, frac)), pa.string())
    frac_text = pc.if_else(pa.array(tenths), frac_text, pc.utf8_lpad(frac_text, width=2, padding="0"))
    decimals = pc.if_else(pa.array(frac == 0), "", pc.binary_join_element_wise(".", frac_text, ""))
    text = pc.binary_join_element_wise(pc.if_else(pa.array(c < 0), "-", ""), whole, decimals, "")
    rest = np.flatnonzero(finite & ~exact)
    if rest.size:  # rare: more than two decimals or huge; Python's repr, one by one
        others = np.empty(len(v), dtype=object)
        for i in rest:
            x = float(v[i])
            others[i] = str(int(x)) if x.is_integer() and abs(x) < 1e16 else repr(x)
        text = pc.if_else(pa.array(exact), text, pa.array(others, type=pa.string()))
    valid = finite if values.null_count == 0 else finite & ~values.is_null().to_numpy(zero_copy_only=False)
    return pc.if_else(pa.array(valid), text, pa.nulls(len(v), pa.string()))


def _date_text(values: pa.Array, kind: str) -> pa.Array:
    if pa.types.is_date(values.type):
        text = pc.cast(values, pa.string())
        return text if kind == "date" else pc.binary_join_element_wise(text, "T00:00:00.000", "")
    # Whole seconds first: Arrow's %S prints the fraction of finer units.
    seconds = pc.cast(pc.floor_temporal(values, unit="second"), pa.timestamp("s", values.type.tz))
    return pc.strftime(seconds, format="%Y-%m-%d" if kind == "date" else _DATETIME_FORMAT)


def _byte_set(chars: str) -> np.ndarray:
    flags = np.zeros(256, dtype=bool)
    flags[list(chars.encode("ascii"))] = True
    return flags


_FORMULA_FIRST = _byte_set("".join(FORMULA_PREFIXES))
_CSV_SPECIAL = _byte_set(',"\r\n')
_XML_SPECIAL = _byte_set("&<>" + "".join(map(chr, [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])))
_JSON_SPECIAL = _byte_set('\\"' + "".join(map(chr, range(0x20))))


def _may_contain(values: pa.Array, flags: np.ndarray) -> bool:
    """Whether some value may hold one of the flagged (ASCII) bytes: one pass over the bytes.

    The kernels below rewrite every value even when none needs it; most columns need nothing."""
    found = _text_bytes(values)
    return True if found is None else bool(flags[found[1]].any())


def _neutralized(values: pa.Array) -> pa.Array:
    found = _text_bytes(values)
    if found is not None and not _FORMULA_FIRST[first_bytes(*found)].any():
        return values
    risky = pc.match_substring_regex(values, _FORMULA_RE)
    return pc.if_else(risky, pc.binary_join_element_wise("'", values, ""), values)


def _scalar_text(values: pa.Array, kind: str) -> pa.Array:
    """Plain text of non-text cells (null stays null)."""
    if kind == "int":
        return pc.cast(values, pa.string())
    if kind == "float":  # formatted once for the three files when it is text already
        return values if pa.types.is_string(values.type) else _float_text(values)
    if kind == "bool":
        return pc.if_else(values, "true", "false")
    if kind in ("date", "datetime"):
        return _date_text(values, kind)
    if kind == "null":
        return pa.nulls(len(values), pa.string())
    return pa.array([_other_text(v) for v in values.to_pylist()], type=pa.string())


def _other_text(value: Any) -> str | None:
    from casanare.publish.records import json_value

    value = json_value(value)
    return None if value is None else str(value)


def _csv_quote(values: pa.Array) -> pa.Array:
    """Quote like ``csv.QUOTE_MINIMAL``: only cells with a comma, a quote or a line break."""
    if not _may_contain(values, _CSV_SPECIAL):
        return values
    needs = pc.match_substring_regex(values, r'[,"\r\n]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, values)


def _json_string(values: pa.Array) -> pa.Array:
    """JSON string literals, escaped exactly like ``json.dumps(..., ensure_ascii=False)``."""
    if not _may_contain(values, _JSON_SPECIAL):
        return pc.binary_join_element_wise('"', values, '"', "")
    escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    if pc.any(pc.match_substring_regex(values, r"[\x00-\x1f]")).as_py():
        for code in range(0x20):
            char = chr(code)
            escaped = pc.replace_substring(escaped, char, _JSON_ESCAPES.get(char, f"\\u{code:04x}"))
    return pc.binary_join_element_wise('"', escaped, '"', "")


def _xml_text(values: pa.Array) -> pa.Array:
    if not _may_contain(values, _XML_SPECIAL):
        return values
    clean = pc.replace_substring_regex(values, _XML_ILLEGAL, "")
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        clean = pc.replace_substring(clean, char, entity)
    return clean


# Row assembly --------------------------------------------------------------------------------


def _write_rows(out: IO[bytes], rows: pa.Array) -> None:
    """Write the concatenated UTF-8 bytes of a string array (no Python string per row)."""
    rows = pc.cast(rows, pa.large_string()) if not pa.types.is_large_string(rows.type) else rows
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)
    start, end = int(offsets[rows.offset]), int(offsets[rows.offset + len(rows)])
    data = rows.buffers()[2]
    if data is not None and end > start:
        out.write(memoryview(data)[start:end])


def _join(parts: list[pa.Array | str]) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _write_csv(table: pa.Table, out: IO[bytes], tipos: Mapping[str, str],
               batches: Iterable[pa.RecordBatch] | None = None) -> None:
    out.write("\ufeff".encode())
    header = ",".join(_csv_header(name) for name in table.column_names)
    out.write((header + "\r\n").encode("utf-8"))
    kinds = [_kind(f, tipos.get(f.name)) for f in table.schema]
    for batch in batches if batches is not None else _batches(table, tipos):
        cells: list[pa.Array | str] = []
        for i, kind in enumerate(kinds):
            col = batch.column(i)
            text = pc.fill_null(_csv_quote(_neutralized(col)) if kind == "text" else _scalar_text(col, kind), "")
            if len(kinds) == 1:  # csv.writer quotes a lone empty field so the row isn't blank
                text = pc.if_else(pc.equal(text, ""), '""', text)
            cells += [text, ","]
        cells[-1] = "\r\n"
        _write_rows(out, _join(cells))


def _csv_header(name: str) -> str:
    text = neutralize_cell(name)
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\r\n') else text


def _write_json(table: pa.Table, out: IO[bytes], tipos: Mapping[str, str],
                batches: Iterable[pa.RecordBatch] | None = None) -> None:
    kinds = [_kind(f, tipos.get(f.name)) for f in table.schema]
    keys = [json.dumps(name, ensure_ascii=False) + ": " for name in table.column_names]
    out.write(b"[")
    first = True
    for batch in batches if batches is not None else _batches(table, tipos):
        if batch.num_rows == 0:
            continue
        cells: list[pa.Array | str] = [", {"]
        for i, kind in enumerate(kinds):
            col = batch.column(i)
            if kind == "text":
                text = _json_string(col)
            elif kind in ("date", "datetime"):
                text = _json_string(_scalar_text(col, kind))
            elif kind == "other":
                text = pa.array([None if v is None else json.dumps(v, ensure_ascii=False)
                                 for v in (_other_json(x) for x in col.to_pylist())], type=pa.string())
            else:
                text = _scalar_text(col, kind)
            cells += [keys[i] if i == 0 else ", " + keys[i], pc.fill_null(text, "null")]
        cells.append("}")
        rows = _join(cells)
        if first:  # no ", " before the very first row
            out.write(rows[0].as_py()[2:].encode("utf-8"))
            rows = rows.slice(1)
            first = False
        _write_rows(out, rows)
    out.write(b"]")


def _other_json(value: Any) -> Any:
    from casanare.publish.records import json_value

    return json_value(value)


# XLSX ----------------------------------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)
# Style 1: dates (yyyy-mm-dd); style 2: date and time (yyyy-mm-dd hh:mm:ss).
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_EXCEL_EPOCH_DAYS = 25_569  # 1970-01-01 as an Excel serial date


def _workbook(sheet: str) -> str:
    name = sheet.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _excel_serial(values: pa.Array, kind: str) -> pa.Array:
    """Excel serial numbers (days since 1899-12-30) of dates and wall-clock timestamps."""
    if pa.types.is_date(values.type):
        days = pc.cast(pc.cast(values, pa.date32()), pa.int32()).to_numpy(zero_copy_only=False)
        serial = days.astype(np.float64) + _EXCEL_EPOCH_DAYS
    else:
        if values.type.tz is not None:  # Excel has no time zones: keep the local wall-clock time
            values = pc.local_timestamp(values)
        micros = pc.cast(pc.cast(values, pa.timestamp("us")), pa.int64()).to_numpy(zero_copy_only=False)
        if kind == "date":
            micros = micros - micros % 86_400_000_000
        serial = micros / 86_400_000_000 + _EXCEL_EPOCH_DAYS
    serial = pa.array(serial, mask=values.is_null().to_numpy(zero_copy_only=False))
    return _float_text(serial)


def _xlsx_cells(col: pa.Array, kind: str, ref: str, rows: pa.Array) -> pa.Array:
    """``<c>`` elements of one column ("" for empty cells)."""
    start = pc.binary_join_element_wise(f'<c r="{ref}', rows, "")
    if kind == "text":
        text = _xml_text(_neutralized(col))
        cell = _join([start, '" t="inlineStr"><is><t xml:space="preserve">', text, "</t></is></c>"])
    elif kind == "bool":
        cell = _join([start, '" t="b"><v>', pc.if_else(col, "1", "0"), "</v></c>"])
    elif kind in ("date", "datetime"):
        style = "1" if kind == "date" else "2"
        cell = _join([start, f'" s="{style}"><v>', _excel_serial(col, kind), "</v></c>"])
    elif kind in ("int", "float"):
        cell = _join([start, '"><v>', _scalar_text(col, kind), "</v></c>"])
    elif kind == "null":
        return pa.array([""] * len(col), type=pa.string())
    else:
        text = _xml_text(_neutralized(_scalar_text(col, kind)))
        cell = _join([start, '" t="inlineStr"><is><t xml:space="preserve">', text, "</t></is></c>"])
    return pc.fill_null(cell, "")


def _write_xlsx(table: pa.Table, out: IO[bytes], sheet: str, tipos: Mapping[str, str],
                batches: Iterable[pa.RecordBatch] | None = None) -> None:
    kinds = [_kind(f, tipos.get(f.name)) for f in table.schema]
    letters = [_column_letter(i) for i in range(table.num_columns)]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook(sheet[:31]))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as xml:
            _deflate_with_isal(xml)
            xml.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            header = pa.array([str(neutralize_cell(name)) for name in table.column_names], type=pa.string())
            head_cells = "".join(
                f'<c r="{letters[i]}1" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
                for i, text in enumerate(_xml_text(header).to_pylist())
            )
            xml.write(f'<row r="1">{head_cells}</row>'.encode())

            def sheet_rows() -> Iterator[pa.Array]:
                row_number = 2
                for batch in batches if batches is not None else _batches(table, tipos):
                    n = batch.num_rows
                    rows = pc.cast(pa.array(np.arange(row_number, row_number + n)), pa.string())
                    parts: list[pa.Array | str] = [pc.binary_join_element_wise('<row r="', rows, '">', "")]
                    parts += [_xlsx_cells(batch.column(i), kind, letters[i], rows) for i, kind in enumerate(kinds)]
                    parts.append("</row>")
                    yield _join(parts)
                    row_number += n

            # The XML of the next batch is built while this one is deflated (both release the GIL).
            for rows_xml in _ahead(sheet_rows()):
                _write_rows(xml, rows_xml)
            xml.write(b"</sheetData></worksheet>")


def _deflate_with_isal(entry: IO[bytes]) -> None:
    """Give a new deflated zip entry ISA-L's compressor instead of zlib's, before its first byte.

    ``zipfile`` offers no way to choose the compressor; its writer keeps it in ``_compressor``
    (CPython 3.11–3.13) and only calls ``compress`` and ``flush``. Any inflater reads the result.
    ``test_the_sheet_is_deflated_by_isal`` fails if the attribute ever stops being used.
    """
    if getattr(entry, "_compressor", None) is not None:
        entry._compressor = isal_zlib.compressobj(  # type: ignore[attr-defined]
            _XLSX_DEFLATE_LEVEL, isal_zlib.DEFLATED, -isal_zlib.MAX_WBITS)


def _ahead(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Yield ``items`` while a background thread already produces the next ``depth`` ones."""
    import queue
    import threading

    done = object()
    pending: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        """Queue ``item`` unless the consumer is gone (then never block)."""
        while not stop.is_set():
            try:
                pending.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)

    worker = threading.Thread(target=produce, name="descargas-xlsx", daemon=True)
    worker.start()
    try:
        while (item := pending.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


# Public API ----------------------------------------------------------------------------------


def write_csv(df: pd.DataFrame | pa.Table, out: IO[bytes], tipos: Mapping[str, str] | None = None) -> None:
    """UTF-8 with BOM so Excel shows accents; formula-looking text cells neutralized."""
    tipos = tipos or {}
    _write_csv(_table(df, tipos), out, tipos)


def write_json(df: pd.DataFrame | pa.Table, out: IO[bytes], tipos: Mapping[str, str] | None = None) -> None:
    """A JSON array of row objects (the same shape datos.gov.co serves)."""
    tipos = tipos or {}
    _write_json(_table(df, tipos), out, tipos)


def write_xlsx(
    df: pd.DataFrame | pa.Table, out: IO[bytes], *, sheet: str = "datos", tipos: Mapping[str, str] | None = None,
    batches: Iterable[pa.RecordBatch] | None = None,
) -> bool:
    """An Excel workbook; False (nothing written) when the table doesn't fit in one worksheet.

    Excel holds at most 1,048,575 data rows per sheet: above that the page offers CSV and JSON
    only and says why (``sitio/conjunto.html``).
    """
    if len(df) + 1 > XLSX_MAX_ROWS:
        return False
    tipos = tipos or {}
    _write_xlsx(_table(df, tipos), out, sheet, tipos, batches)
    return True


def _table(df: pd.DataFrame | pa.Table, tipos: Mapping[str, str]) -> pa.Table:
    return df if isinstance(df, pa.Table) else to_arrow(df, tipos)


def _to_bytes(writer: Callable[[IO[bytes]], Any]) -> bytes:
    buffer = io.BytesIO()
    writer(buffer)
    return buffer.getvalue()


def csv_bytes(df: pd.DataFrame, tipos: Mapping[str, str] | None = None) -> bytes:
    return _to_bytes(lambda out: write_csv(df, out, tipos))


def json_bytes(df: pd.DataFrame, tipos: Mapping[str, str] | None = None) -> bytes:
    return _to_bytes(lambda out: write_json(df, out, tipos))


def xlsx_bytes(df: pd.DataFrame, *, sheet: str = "datos", tipos: Mapping[str, str] | None = None) -> bytes | None:
    """The workbook's bytes, or None when the table does not fit in one worksheet."""
    buffer = io.BytesIO()
    return buffer.getvalue() if write_xlsx(df, buffer, sheet=sheet, tipos=tipos) else None


def write_downloads(
    df: pd.DataFrame, folder: Path, *, sheet: str, tipos: Mapping[str, str] | None = None
) -> dict[str, Path]:
    """Write ``datos.csv``, ``datos.json`` and (if it fits) ``datos.xlsx`` into ``folder``."""
    from concurrent.futures import ThreadPoolExecutor

    tipos = tipos or {}
    table = to_arrow(df, tipos)
    files = {"datos.csv": folder / "datos.csv", "datos.json": folder / "datos.json"}
    xlsx = folder / "datos.xlsx"
    fits = table.num_rows + 1 <= XLSX_MAX_ROWS
    # Each batch is formatted once for the three files and read by the three writers.
    shared = Reparto(_batches(table, tipos), readers=3 if fits else 2)

    def write(path: Path, k: int, writer: Callable[[IO[bytes], Iterator[pa.RecordBatch]], Any]) -> Any:
        try:
            with path.open("wb") as fh:
                result = writer(fh, shared.reader(k))
                # Each writer flushes its own file to disk, at the same time as the others work:
                # the site then only renames it into place.
                fh.flush()
                os.fsync(fh.fileno())
                return result
        finally:
            shared.stop(k)  # a failed writer must not hold the others back

    # The three files are written at the same time: Arrow's compute kernels, ISA-L's deflate and file
    # writes release the GIL, so on two cores this takes about half the time of one after another.
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="descargas") as pool:
        jobs = [pool.submit(write, files["datos.csv"], 0, lambda fh, rows: _write_csv(table, fh, tipos, rows)),
                pool.submit(write, files["datos.json"], 1, lambda fh, rows: _write_json(table, fh, tipos, rows))]
        if fits:
            jobs.append(pool.submit(write, xlsx, 2, lambda fh, rows: write_xlsx(table, fh, sheet=sheet, tipos=tipos,
                                                                               batches=rows)))
        for job in jobs:
            job.result()
    if fits:
        files["datos.xlsx"] = xlsx
    return files
