"""Socrata data types: coercion of incoming values and formatting of stored ones.

Values are stored in SQLite in a form whose natural ordering matches SoQL ordering:
numbers as SQLite numerics, floating timestamps as ``YYYY-MM-DDTHH:MM:SS.mmm`` text,
checkboxes as 0/1 and complex types (point, location, url...) as JSON text.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

NUMBER_TYPES = frozenset({"number", "double", "money", "percent"})
DATE_TYPES = frozenset({"calendar_date", "date", "floating_timestamp"})
BOOL_TYPES = frozenset({"checkbox", "boolean"})
TEXT_TYPES = frozenset({"text", "html", "email", "phone", "plain_text"})

# Fast paths for the common plain forms: exactly what the general parsers return for them
# (ASCII only: ``\d`` in the general patterns also admits other scripts' digits; years from
# 1000 only: ``strftime`` does not pad smaller years). A 1M-row revision converts every cell.
_PLAIN_STAMP_RE = re.compile(r"([1-9][0-9]{3})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2}):([0-9]{2}))?\Z")
_DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$"
)


class CoercionError(ValueError):
    """Raised when a value cannot be converted to a column's type.

    The message never contains the offending value: rows may carry personal data.
    """


def kind_of(data_type_name: str) -> str:
    """Map a Socrata ``dataTypeName`` to one of our storage kinds.

    Args:
        data_type_name: The Socrata type, e.g. ``"number"`` or ``"calendar_date"``.

    Returns:
        One of ``"number"``, ``"date"``, ``"bool"``, ``"text"`` or ``"json"``.
    """
    name = (data_type_name or "text").lower()
    if name in NUMBER_TYPES:
        return "number"
    if name in DATE_TYPES:
        return "date"
    if name in BOOL_TYPES:
        return "bool"
    if name in TEXT_TYPES:
        return "text"
    return "json"


def sql_affinity(kind: str) -> str:
    """Return the SQLite column affinity for a storage kind."""
    return {"number": "NUMERIC", "bool": "INTEGER"}.get(kind, "TEXT")


def converter(kind: str) -> Any:
    """The function :func:`coerce` applies to a non-null value of ``kind``."""
    return _CONVERTERS.get(kind, _coerce_json)


def coerce(kind: str, value: Any) -> Any:
    """Convert an incoming JSON (or CSV text) value to its stored form.

    Args:
        kind: Storage kind from :func:`kind_of`.
        value: The value received from the client.

    Returns:
        The value to store, or ``None`` for null.

    Raises:
        CoercionError: If the value does not fit the type.
    """
    return None if value is None else converter(kind)(value)


def _coerce_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise CoercionError("expected text")


def coerce_number(value: Any) -> int | float | None:
    """Parse a number from a JSON number or a numeric string (SODA accepts both)."""
    if type(value) is str:
        plain = _plain_number(value)
        return _parse_number(value) if plain is None else plain
    if isinstance(value, bool):
        raise CoercionError("expected a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CoercionError("expected a finite number")
        return value
    if not isinstance(value, str):
        raise CoercionError("expected a number")
    return _parse_number(value)


def _plain_number(value: str) -> int | float | None:
    """``-123`` or ``4.50`` (ASCII digits, up to 18 of them) as :func:`_parse_number` reads it; else None.

    String methods instead of a regular expression: a 1M-row revision converts millions of cells.
    """
    digits = value[1:] if value[:1] == "-" else value
    if not digits.isascii():
        return None
    whole, dot, fraction = digits.partition(".")
    if not whole.isdigit():
        return None
    if not dot:
        return int(value) if len(whole) <= 18 else None
    if not fraction.isdigit() or len(whole) > 17 or len(fraction) > 17:
        return None
    # Integral values stay ints (as in the general parser); a correctly rounded float of the same text otherwise.
    return int(value.partition(".")[0]) if fraction.strip("0") == "" else float(value)


def _parse_number(value: str) -> int | float | None:
    """The general parser behind :func:`coerce_number` (any text :class:`~decimal.Decimal` reads)."""
    text = value.strip()
    if text == "":
        return None
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise CoercionError("expected a number") from exc
    if not number.is_finite():
        raise CoercionError("expected a finite number")
    # Integral values stay exact ints; the rest become floats (documented limit).
    if number == number.to_integral_value() and abs(number) < Decimal(10) ** 18:
        return int(number)
    return float(number)


def coerce_date(value: Any) -> str | None:
    """Normalize a floating timestamp to ``YYYY-MM-DDTHH:MM:SS.mmm``."""
    if not isinstance(value, str):
        raise CoercionError("expected a floating timestamp")
    plain = _PLAIN_STAMP_RE.match(value)
    if plain:
        try:
            year, month, day, hour, minute, second = plain.groups()
            dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        except ValueError as exc:
            raise CoercionError("invalid calendar date") from exc
        return value + (".000" if plain.group(4) else "T00:00:00.000")
    return _parse_date(value)


def _parse_date(value: str) -> str | None:
    """The general parser behind :func:`coerce_date`."""
    text = value.strip()
    if text == "":
        return None
    match = _DATE_RE.match(text)
    if not match:
        raise CoercionError("expected a floating timestamp (YYYY-MM-DD[THH:MM:SS])")
    year, month, day, hour, minute, second, fraction = match.groups()
    millis = int((fraction or "0").ljust(3, "0")[:3])
    try:
        stamp = dt.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError as exc:
        raise CoercionError("invalid calendar date") from exc
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}"


def _coerce_bool(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "":
            return None
        if text in ("true", "1", "yes", "y"):
            return 1
        if text in ("false", "0", "no", "n"):
            return 0
    raise CoercionError("expected a checkbox (true/false)")


def _coerce_json(value: Any) -> str:
    if isinstance(value, str) and value.strip() == "":
        return None  # type: ignore[return-value]
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def format_number(value: Any) -> str:
    """Render a stored number the way SODA JSON does (a decimal string)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e18:
            return str(int(value))
        text = format(Decimal(repr(value)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def format_json(kind: str, value: Any) -> Any:
    """Render a stored value for a SODA JSON response (``None`` means omit)."""
    if value is None:
        return None
    if kind == "number":
        return format_number(value)
    if kind == "bool":
        return bool(value)
    if kind == "json":
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            return value
    return value if isinstance(value, str) else str(value)


def format_csv(kind: str, value: Any) -> str:
    """Render a stored value for a CSV response (empty string means null)."""
    if value is None:
        return ""
    if kind == "bool":
        return "true" if value else "false"
    if kind == "number":
        return format_number(value)
    return value if isinstance(value, str) else str(value)


def format_fixed_timestamp(epoch_seconds: float) -> str:
    """Render a system timestamp (``:created_at``) as SODA does: UTC with ``Z``."""
    stamp = dt.datetime.fromtimestamp(epoch_seconds, tz=dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def parse_fixed_timestamp(value: Any) -> float:
    """Parse an ISO timestamp (``Z`` or no zone = UTC) into epoch seconds.

    Raises:
        CoercionError: If the text is not a timestamp.
    """
    if not isinstance(value, str):
        raise CoercionError("expected a timestamp")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1]
    normalized = coerce_date(text)
    if normalized is None:
        raise CoercionError("expected a timestamp")
    stamp = dt.datetime.strptime(normalized, "%Y-%m-%dT%H:%M:%S.%f")
    return stamp.replace(tzinfo=dt.UTC).timestamp()


_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def encode_sid(sid: int) -> str:
    """Encode an internal row number as an opaque ``:id`` (``row-xxxx``)."""
    digits = []
    number = int(sid)
    while True:
        number, rest = divmod(number, 36)
        digits.append(_B36[rest])
        if number == 0:
            break
    return "row-" + "".join(reversed(digits)).rjust(4, "0")


def decode_sid(value: Any) -> int:
    """Decode a ``:id`` produced by :func:`encode_sid` (ints are accepted too).

    Raises:
        CoercionError: If the value is not a valid ``:id``.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.startswith("row-"):
        try:
            return int(value[4:], 36)
        except ValueError as exc:
            raise CoercionError("invalid :id") from exc
    raise CoercionError("invalid :id")


_CONVERTERS = {"text": _coerce_text, "number": coerce_number, "date": coerce_date, "bool": _coerce_bool}
