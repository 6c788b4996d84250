"""Spanish value formats → declared column types.

Parsing works on the distinct values of a column and maps back, because departmental sources
repeat the same dates, codes and labels many times; that keeps a million-row column fast.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from casanare.arrow_text import first_bytes, last_bytes, string_bytes
from casanare.extract.numbers import Convencion, Evidencia, decide, evidence, parse, to_arrow_strings
from casanare.extract.numbers import clean as numbers_clean

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


def is_null(value: Any, nulls: frozenset[str]) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, str) and value.strip().upper() in nulls


def parse_number(value: Any, *, convencion: Convencion | None = None) -> float | object:
    """One value read as the only value of its column (``1.234.567,89`` → 1234567.89).

    Columns are read with ``coerce_series``, which infers the convention from every value; this
    helper exists for single values (a lone ``5.337`` is five thousand, the Colombian default).
    """
    if isinstance(value, bool):
        return _INVALID
    if isinstance(value, int | float | Decimal):
        number = float(value)
        return number if math.isfinite(number) else _INVALID
    typed, bad = coerce_series(pd.Series([value], dtype=object), "decimal", frozenset({""}), convencion=convencion)
    return _INVALID if bad.iloc[0] or pd.isna(typed.iloc[0]) else float(typed.iloc[0])


def parse_integer(value: Any, *, convencion: Convencion | None = None) -> int | object:
    """One value read as an integer (``12.500`` → 12500); see ``parse_number``."""
    if isinstance(value, bool):
        return _INVALID
    if isinstance(value, int | float | Decimal):
        return int(value) if math.isfinite(float(value)) and float(value).is_integer() else _INVALID
    typed, bad = coerce_series(pd.Series([value], dtype=object), "entero", frozenset({""}), convencion=convencion)
    return _INVALID if bad.iloc[0] or pd.isna(typed.iloc[0]) else int(typed.iloc[0])


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
    "fecha": parse_datetime,
    "fecha_hora": parse_datetime,
    "booleano": parse_boolean,
}
NUMERIC = frozenset({"entero", "decimal"})
# Formats read by Arrow's vectorized strptime before the per-distinct-value fallback.
_FAST_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M",
                      "%d/%m/%Y %H:%M:%S")


@dataclass
class CeldasNumericas:
    """A numeric column split by what the cells are: text to parse, or numbers already typed.

    Attributes:
        texto: cleaned strings (null where the cell is a number, empty or a null token).
        numero: float64 values of cells that are already numbers (spreadsheets, SQL), else NaN.
        no_numericas: cells that are neither text nor a number (a date or a boolean cell).
    """

    texto: pa.Array
    numero: np.ndarray
    no_numericas: np.ndarray


def split_numeric(values: pd.Series, nulls: frozenset[str]) -> CeldasNumericas:
    """Separate a numeric column's text from its typed numbers, cleaning the text (vectorized)."""
    size = len(values)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in {"string", "empty"}:
        return split_numeric_text(to_arrow_strings(values), nulls)
    numbers = np.full(size, np.nan)
    other = np.zeros(size, dtype=bool)
    if kind in {"integer", "floating", "mixed-integer-float", "decimal"} and not values.map(
            lambda v: isinstance(v, bool)).any():
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        text = pa.nulls(size, pa.string())
    else:  # a spreadsheet column mixing typed numbers and text: one pass over the cells
        cells = values.to_numpy(dtype=object)
        strings: list[str | None] = [None] * size
        for i, v in enumerate(cells):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            if isinstance(v, str):
                strings[i] = v
            elif isinstance(v, int | float | Decimal) and not isinstance(v, bool):
                numbers[i] = float(v)
            else:
                other[i] = True
        text = pa.array(strings, type=pa.string())
    text = null_tokens(text, nulls)
    return CeldasNumericas(texto=numbers_clean(text), numero=numbers, no_numericas=other)


def split_numeric_text(text: pa.Array, nulls: frozenset[str]) -> CeldasNumericas:
    """``split_numeric`` for a column that is all text already (an Arrow string array)."""
    size = len(text)
    return CeldasNumericas(texto=numbers_clean(null_tokens(text, nulls)), numero=np.full(size, np.nan),
                           no_numericas=np.zeros(size, dtype=bool))


def coerce_text_array(text: pa.Array, tipo: str, nulls: frozenset[str], arrow_type: pa.DataType
                      ) -> tuple[pa.Array, np.ndarray]:
    """``coerce_series`` for a non-numeric column that is all text (an Arrow string array),
    returning an Arrow array of ``arrow_type`` and the mask of unreadable values.

    Text stays in Arrow from start to end; dates try Arrow's strptime first; only the values
    those formats miss (and booleans) go through the per-distinct-value parsers.
    """
    if tipo == "texto":
        return null_tokens(text, nulls), np.zeros(len(text), dtype=bool)
    if tipo in {"fecha", "fecha_hora"}:
        typed, bad = coerce_date_text(text, lambda mask: pd.Series(text.filter(pa.array(mask)).to_pandas()),
                                      tipo, nulls)
    else:
        typed, bad = _coerce_by_distinct_value(pd.Series(text.to_pandas()), tipo, nulls)
    return pa.array(typed, type=arrow_type, from_pandas=True), bad.to_numpy(dtype=bool)


def null_tokens(text: pa.Array, nulls: frozenset[str]) -> pa.Array:
    """Trimmed strings with the source's null tokens (``N/A``, ``SIN DATO``…) as nulls.

    ``nulls`` are upper case. Most cells need neither: a column is trimmed only if some value
    starts or ends with a byte that may be whitespace, and only values short enough to be a token
    once upper-cased are upper-cased and looked up (a million amounts are not).
    """
    tokens = pa.array(sorted(nulls), type=pa.string())
    if text.type != pa.string() or not len(text):
        trimmed = pc.utf8_trim_whitespace(text)
        is_token = pc.fill_null(pc.is_in(pc.utf8_upper(trimmed), value_set=tokens), False)
        return pc.if_else(is_token, pa.scalar(None, pa.string()), trimmed)
    trimmed = pc.utf8_trim_whitespace(text) if _may_need_trim(text) else text
    offsets, raw = string_bytes(trimmed)
    # Upper-casing keeps an ASCII value's length; a non-ASCII character (up to 4 bytes) may become
    # a 1-byte one, so the bound is looser there.
    longest = max((len(t.encode()) for t in nulls), default=0) * (1 if not (raw >= 0x80).any() else 4)
    candidates = np.flatnonzero(np.diff(offsets) <= longest)
    if not len(candidates):
        return trimmed
    short = trimmed.take(pa.array(candidates))
    hits = pc.fill_null(pc.is_in(pc.utf8_upper(short), value_set=tokens), False).to_numpy(zero_copy_only=False)
    if not hits.any():
        return trimmed
    is_token = np.zeros(len(trimmed), dtype=bool)
    is_token[candidates[hits]] = True
    return pc.if_else(pa.array(is_token), pa.scalar(None, pa.string()), trimmed)


def _may_need_trim(text: pa.Array) -> bool:
    """Whether some value starts or ends with a control byte, a space or a non-ASCII byte (the
    only bytes that can begin or end a whitespace character): otherwise trimming changes nothing."""
    offsets, raw = string_bytes(text)
    edges = np.concatenate([first_bytes(offsets, raw), last_bytes(offsets, raw)])
    return bool(((edges <= 0x20) | (edges >= 0x7F)).any())


def numeric_evidence(cells: CeldasNumericas) -> Evidencia:
    return evidence(cells.texto)


def parse_numeric(cells: CeldasNumericas, tipo: str, conv: Convencion) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Typed values (``Int64`` or ``Float64``), invalid mask, mask of values of the other convention."""
    integer = tipo == "entero"
    result = parse(cells.texto, conv, integer=integer)
    has_number = ~np.isnan(cells.numero)
    invalid = result.invalidos | cells.no_numericas
    if integer:
        typed = pd.Series(result.valores.to_pandas(types_mapper=pd.ArrowDtype)).astype("Int64")
        if has_number.any():
            finite = has_number & np.isfinite(np.where(has_number, cells.numero, 0.0))
            whole = finite & (np.mod(np.where(finite, cells.numero, 0.0), 1) == 0)
            invalid = invalid | (has_number & ~whole)
            typed = typed.mask(whole, pd.Series(np.where(whole, cells.numero, 0), dtype="int64"))
    else:
        typed = pd.Series(result.valores.to_pandas(types_mapper=pd.ArrowDtype)).astype("Float64")
        if has_number.any():
            typed = typed.mask(has_number, pd.Series(cells.numero, dtype="Float64"))
    typed = typed.mask(pd.Series(invalid), pd.NA)
    return typed.reset_index(drop=True), invalid, result.contradicen


_DTYPES = {
    "entero": "Int64",
    "decimal": "Float64",
    "booleano": "boolean",
    "texto": "string",
}


def coerce_series(
    values: pd.Series, tipo: str, nulls: frozenset[str], *, convencion: Convencion | None = None
) -> tuple[pd.Series, pd.Series]:
    """Coerce one whole column to its declared type.

    Numbers: the convention is ``convencion`` when given, else inferred from all of ``values``.

    Returns:
        The typed series and a boolean mask of rows whose value could not be parsed.
    """
    values = values.reset_index(drop=True)
    if tipo in NUMERIC:
        cells = split_numeric(values, nulls)
        conv = convencion or decide(numeric_evidence(cells))
        typed, invalid, _ = parse_numeric(cells, tipo, conv)
        return typed, pd.Series(invalid, dtype=bool)
    if tipo == "texto":
        return coerce_text(values, nulls), pd.Series(np.zeros(len(values), dtype=bool))
    if tipo in {"fecha", "fecha_hora"}:
        return coerce_dates(values, tipo, nulls)
    return _coerce_by_distinct_value(values, tipo, nulls)


def coerce_text(values: pd.Series, nulls: frozenset[str]) -> pd.Series:
    """Text as written (trimmed); codes stay text, and an Excel 85001.0 stays ``85001``."""
    if pd.api.types.infer_dtype(values, skipna=True) in {"string", "empty"}:
        text = null_tokens(to_arrow_strings(values), nulls)
        return pd.Series(text.to_pandas(), dtype="string")
    typed, _ = _coerce_by_distinct_value(values, "texto", nulls)
    return typed


def coerce_dates(values: pd.Series, tipo: str, nulls: frozenset[str]) -> tuple[pd.Series, pd.Series]:
    """Common formats vectorized with Arrow's strptime; the rest by distinct value."""
    values = values.reset_index(drop=True)
    text = to_arrow_strings(values) if pd.api.types.infer_dtype(values, skipna=True) == "string" else None
    return coerce_date_text(text, lambda mask: values[mask], tipo, nulls, size=len(values))


def coerce_date_text(
    raw: pa.Array | None, pending_values: Any, tipo: str, nulls: frozenset[str], *, size: int | None = None
) -> tuple[pd.Series, pd.Series]:
    """Dates from Arrow strings (``raw``; None when the cells are not all text).

    ``pending_values(mask)`` returns the original cells under ``mask`` as a pandas Series, for the
    per-distinct-value parsers (typed spreadsheet cells, formats strptime does not know).
    """
    size = len(raw) if raw is not None else size
    result = pd.Series(pd.NaT, index=pd.RangeIndex(size), dtype="datetime64[us]")
    pending = np.ones(size, dtype=bool)
    if raw is not None:
        text = null_tokens(raw, nulls)
        pending = pc.is_valid(text).to_numpy(zero_copy_only=False).copy()
        for fmt in _FAST_DATE_FORMATS:
            if not pending.any():
                break
            parsed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
            # Arrow's strptime rolls 31/02 over to 2 March: the day written must be the day read.
            day_regex = r"^(?P<d>\d{1,2})/" if fmt.startswith("%d") else r"^\d{4}-\d{1,2}-(?P<d>\d{1,2})"
            written = pc.cast(pc.struct_field(pc.extract_regex(text, day_regex), [0]), pa.int64())
            same_day = pc.fill_null(pc.equal(written, pc.day(parsed)), False)
            hit = same_day.to_numpy(zero_copy_only=False) & pending
            if hit.any():
                stamps = pd.Series(parsed.to_pandas(), dtype="datetime64[us]")
                result[hit] = stamps[hit]
                pending &= ~hit
    bad = pd.Series(np.zeros(size, dtype=bool))
    if pending.any():
        rest, rest_bad = _coerce_by_distinct_value(pending_values(pending), tipo, nulls)
        result[pending] = rest.to_numpy()
        bad[pending] = rest_bad.to_numpy()
    if tipo == "fecha":
        result = result.dt.normalize()
    return result.reset_index(drop=True), bad


def _coerce_by_distinct_value(values: pd.Series, tipo: str, nulls: frozenset[str]) -> tuple[pd.Series, pd.Series]:
    """Parse each distinct value once and map back (sources repeat dates and labels a lot)."""
    keys = values.astype("object")
    uniques = pd.unique(keys)
    parser = _PARSERS.get(tipo)
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
        parsed = as_text(value) if parser is None else parser(value)
        if parsed is _INVALID:
            bad_values.add(value)
            mapping[value] = None
        else:
            mapping[value] = parsed
    mapped = keys.map(lambda v: mapping.get(v) if _hashable(v) else None)
    bad = keys.map(lambda v: _hashable(v) and v in bad_values).astype(bool).reset_index(drop=True)
    if tipo in {"fecha", "fecha_hora"}:
        typed = pd.to_datetime(mapped, errors="coerce").astype("datetime64[us]")
    else:
        typed = mapped.astype(_DTYPES[tipo])
    return typed.reset_index(drop=True), bad


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
