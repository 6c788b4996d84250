"""Download files of a dataset: CSV (UTF-8 with BOM), XLSX (openpyxl write-only) and JSON.

Text cells that a spreadsheet would run as a formula are neutralized with a leading apostrophe
(OWASP "CSV injection"); numbers, dates and booleans are written as such, so ``-5`` stays -5.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime
from typing import Any

import pandas as pd

from casanare.publish.records import json_value

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Excel's hard limit, header included.
XLSX_MAX_ROWS = 1_048_576


def neutralize_cell(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula; leave every other type alone."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    """Python scalar of a DataFrame cell: None for missing values, native numbers/dates."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):  # numpy scalars
        return _plain(value.item())
    return value


def _json_column(series: pd.Series) -> list[Any]:
    """One column as JSON-safe Python values, converted column-wise (much faster than per cell)."""
    missing = series.isna().to_numpy()
    kind = series.dtype.kind
    if kind == "M":
        values = series.dt.strftime("%Y-%m-%dT%H:%M:%S.000").tolist()
    elif kind == "b" or str(series.dtype) == "boolean":
        values = [bool(v) if not m else None for v, m in zip(series.tolist(), missing, strict=True)]
        return values
    elif kind in "iu" or str(series.dtype).startswith(("Int", "UInt")):
        values = series.astype(object).tolist()
        values = [int(v) if not m else None for v, m in zip(values, missing, strict=True)]
        return values
    elif kind == "f" or str(series.dtype).startswith("Float"):
        values = series.astype(object).tolist()
        return [None if m or math.isinf(v) else float(v) for v, m in zip(values, missing, strict=True)]
    else:
        return [json_value(v) for v in series.tolist()]
    return [None if m else v for v, m in zip(values, missing, strict=True)]


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralize_cell(value) if isinstance(value, str) else str(value)


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM so Excel shows accents; formula-looking text cells neutralized."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralize_cell(str(c)) for c in df.columns])
    columns = [[_csv_text(v) for v in _json_column(df[c])] for c in df.columns]
    writer.writerows(zip(*columns, strict=True))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def json_bytes(df: pd.DataFrame) -> bytes:
    """A JSON array of row objects (the same shape datos.gov.co serves)."""
    names = [str(c) for c in df.columns]
    columns = [_json_column(df[c]) for c in df.columns]
    rows = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    return json.dumps(rows, ensure_ascii=False).encode("utf-8")


def _xlsx_column(series: pd.Series) -> list[Any]:
    """One column as values openpyxl writes natively; text neutralized and control chars removed."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if series.dtype.kind == "M":
        missing = series.isna().to_numpy()
        if getattr(series.dt, "tz", None) is not None:
            # Excel has no time zones: keep the wall-clock time the source had.
            series = series.dt.tz_localize(None)
        values = series.dt.to_pydatetime().tolist()
        return [None if m else v for v, m in zip(values, missing, strict=True)]
    if series.dtype.kind in "biuf" or str(series.dtype).startswith(("Int", "UInt", "Float", "boolean")):
        return _json_column(series)
    result = []
    for raw in series.tolist():
        value = _plain(raw)
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        if isinstance(value, datetime):
            result.append(value.replace(tzinfo=None))
        elif value is None or isinstance(value, bool | int | float | date):
            result.append(value)
        else:
            result.append(neutralize_cell(ILLEGAL_CHARACTERS_RE.sub("", str(value))))
    return result


def xlsx_bytes(df: pd.DataFrame, *, sheet: str = "datos") -> bytes | None:
    """An Excel workbook written in openpyxl's streaming (write-only) mode.

    Returns None when the table does not fit in one worksheet (more than 1 048 575 rows);
    the page then offers CSV and JSON only.
    """
    if len(df) + 1 > XLSX_MAX_ROWS:
        return None
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])
    worksheet.append([neutralize_cell(str(c)) for c in df.columns])
    columns = [_xlsx_column(df[c]) for c in df.columns]
    for row in zip(*columns, strict=True):
        worksheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
