"""Spanish value formats → declared column types.

Parsing works on the distinct values of a column and maps back, because departmental sources
repeat the same dates, codes and labels many times; that keeps a million-row column fast.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

MESES = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
}
# Three-letter abbreviations ("15-mar-2024", "15/ene/24") as exported by some systems.
MESES.update({name[:3]: number for name, number in list(MESES.items())})
MESES["sept"] = 9
VERDADEROS = {"SI", "SÍ", "S", "TRUE", "VERDADERO", "1", "X"}
FALSOS = {"NO", "N", "FALSE", "FALSO", "0"}
EXCEL_EPOCH = datetime(1899, 12, 30)

_INVALID = object()
_TIME = r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([ap])?\.?\s*(?:m\.?)?)?"
_DMY = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{2}|\d{4})" + _TIME + "$", re.IGNORECASE)
_YMD = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})" + _TIME + r"(?:Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)
_LONG = re.compile(r"^(\d{1,2})\s+de\s+([a-záéíóú]+)\s+(?:de|del)\s+(\d{4})$", re.IGNORECASE)
_ABBR = re.compile(r"^(\d{1,2})[/\- ]([a-záéíóú]{3,4})\.?[/\- ](\d{2}|\d{4})$", re.IGNORECASE)
# "1.234" or "12.345.678": dots as thousands separators only.
_DOT_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:\.\d{3})+$")
# Evidence that a column writes decimals the Spanish way ("1.234,5", "0,75").
_COMMA_DECIMAL = re.compile(r"^[-+]?[\d.]*\d,\d+$")


def is_null(value: Any, nulls: frozenset[str]) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, str) and value.strip().upper() in nulls


def parse_number(value: Any, *, comma_decimal: bool = False) -> float | object:
    """``1.234.567,89`` → 1234567.89; also plain numbers, ``1,234.5`` and ``(1.234,00)``.

    Args:
        value: the cell.
        comma_decimal: the column writes decimals with a comma, so a lone ``1.234`` means 1234.
    """
    if isinstance(value, bool):
        return _INVALID
    if isinstance(value, int | float | Decimal):
        return float(value)
    text = str(value).strip().replace(" ", "").replace("$", "").replace("\u00a0", "")
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    if not text:
        return _INVALID
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        text = text.replace(thousands, "").replace(decimal, ".")
    elif "," in text:
        text = text.replace(",", "") if text.count(",") > 1 else text.replace(",", ".")
    elif text.count(".") > 1 or (comma_decimal and _DOT_THOUSANDS.match(text)):
        text = text.replace(".", "")
    try:
        number = float(text)
    except ValueError:
        return _INVALID
    if not math.isfinite(number):
        return _INVALID
    return -number if negative else number


def parse_integer(value: Any, *, comma_decimal: bool = False) -> int | object:
    """Integers, with Spanish thousands dots (``12.500`` → 12500) always allowed."""
    if isinstance(value, str) and _DOT_THOUSANDS.match(value.strip()):
        return int(value.strip().replace(".", ""))
    number = parse_number(value, comma_decimal=comma_decimal)
    if number is _INVALID or not float(number).is_integer():  # type: ignore[arg-type]
        return _INVALID
    return int(number)  # type: ignore[arg-type]


def parse_datetime(value: Any, **_: Any) -> datetime | object:
    """dd/mm/yyyy, d-m-yy, ISO, "15 de marzo de 2024", "15-mar-2024", a.m./p.m. and Excel serials."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, bool):
        return _INVALID
    if isinstance(value, int | float | Decimal):
        return EXCEL_EPOCH + timedelta(days=float(value)) if 1 <= value < 2958466 else _INVALID
    text = str(value).strip()
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return parse_datetime(float(text))
    try:
        if m := _YMD.match(text):
            y, mo, d, hh, mi, ss, ampm = m.groups()
            return datetime(int(y), int(mo), int(d), _hour(hh, ampm), int(mi or 0), int(ss or 0))
        if m := _DMY.match(text):
            d, mo, y, hh, mi, ss, ampm = m.groups()
            return datetime(_year(y), int(mo), int(d), _hour(hh, ampm), int(mi or 0), int(ss or 0))
        if m := _LONG.match(text) or _ABBR.match(text):
            d, month, y = m.groups()
            number = MESES.get(_fold(month))
            return datetime(_year(y), number, int(d)) if number else _INVALID
    except ValueError:
        return _INVALID
    return _INVALID


def _year(y: str) -> int:
    return int(y) + (2000 if int(y) < 70 else 1900) if len(y) == 2 else int(y)


def _hour(hh: str | None, ampm: str | None) -> int:
    hour = int(hh or 0)
    if ampm:
        if hour > 12:
            raise ValueError("hora inválida con a.m./p.m.")
        hour = hour % 12 + (12 if ampm.lower() == "p" else 0)
    return hour


def _fold(text: str) -> str:
    return text.lower().translate(str.maketrans("áéíóú", "aeiou"))


def parse_boolean(value: Any, **_: Any) -> bool | object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal) and value in (0, 1):
        return bool(value)
    text = str(value).strip().upper()
    if text in VERDADEROS:
        return True
    if text in FALSOS:
        return False
    return _INVALID


def as_text(value: Any) -> str:
    # Excel stores typed document numbers as floats; 1098765432.0 must stay "1098765432".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


_PARSERS = {
    "entero": parse_integer,
    "decimal": parse_number,
    "fecha": parse_datetime,
    "fecha_hora": parse_datetime,
    "booleano": parse_boolean,
}
_DTYPES = {
    "entero": "Int64",
    "decimal": "Float64",
    "booleano": "boolean",
    "texto": "string",
}


def coerce_series(values: pd.Series, tipo: str, nulls: frozenset[str]) -> tuple[pd.Series, pd.Series]:
    """Coerce one column to its declared type.

    Returns:
        The typed series and a boolean mask of rows whose value could not be parsed.
    """
    keys = values.astype("object")
    uniques = pd.unique(keys)
    parser = _PARSERS.get(tipo)
    comma_decimal = tipo in {"entero", "decimal"} and any(
        isinstance(v, str) and _COMMA_DECIMAL.match(v.strip().replace(" ", "")) for v in uniques
    )
    mapping: dict[Any, Any] = {}
    bad_values: set[Any] = set()
    for value in uniques:
        try:
            hash(value)
        except TypeError:
            continue
        if is_null(value, nulls):
            mapping[value] = None
            continue
        parsed = as_text(value) if parser is None else parser(value, comma_decimal=comma_decimal)
        if parsed is _INVALID:
            bad_values.add(value)
            mapping[value] = None
        else:
            mapping[value] = parsed
    mapped = keys.map(lambda v: mapping.get(v) if _hashable(v) else None)
    bad = keys.map(lambda v: _hashable(v) and v in bad_values).astype(bool)
    if tipo in {"fecha", "fecha_hora"}:
        typed = pd.to_datetime(mapped, errors="coerce").astype("datetime64[us]")
        if tipo == "fecha":
            typed = typed.dt.normalize()
    else:
        typed = mapped.astype(_DTYPES[tipo])
    return typed, bad


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
