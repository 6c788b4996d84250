"""The stand-in portal's value conversion: its fast paths return exactly what the general parsers do."""

from __future__ import annotations

import random

import pytest

from standins.soda import types as t

pytestmark = pytest.mark.unit


def _numbers() -> list[str]:
    rnd = random.Random(7)
    fixed = ["0", "-0", "007", "-0.0", "1.50", "1.00", "-12.000", "0.1", "0.3", "999999999999999999",
             "-999999999999999999", "1000000000000000000", "5.", ".5", "--5", "-", "-.5", "²", "1.2.3", "12345678901234567.5", "12345678901234567.0",
             "0.12345678901234567", "1e5", " 12", "12 ", "+5", "1_000", "٣", "", " "]
    drawn = []
    for _ in range(20_000):
        digits = rnd.randint(1, 19)
        text = str(rnd.randint(-(10**digits), 10**digits))
        if rnd.random() < 0.5:
            text += "." + str(rnd.randint(0, 10 ** rnd.randint(1, 17))).zfill(rnd.randint(1, 18))
        drawn.append(text)
    return fixed + drawn


def _stamps() -> list[str]:
    rnd = random.Random(8)
    fixed = ["2025-01-31", "2024-02-29", "2023-02-29", "0999-12-31", "1000-01-01", "2025-01-31T23:59:59",
             "2025-01-31T24:00:00", "2025-01-31 10:00:00", "2025-01-31T10:00", "2025-01-31T10:00:00.5",
             "2025-13-01", "2025-1-01", " 2025-01-31", "٢٠٢٥-01-31", ""]
    drawn = []
    for _ in range(5_000):
        day = f"{rnd.randint(1, 9999):04d}-{rnd.randint(0, 13):02d}-{rnd.randint(0, 32):02d}"
        if rnd.random() < 0.5:
            day += f"T{rnd.randint(0, 25):02d}:{rnd.randint(0, 61):02d}:{rnd.randint(0, 61):02d}"
        drawn.append(day)
    return fixed + drawn


def _outcome(parse: object, value: str) -> object:
    try:
        result = parse(value)  # type: ignore[operator]
    except (t.CoercionError, ArithmeticError, ValueError) as exc:
        return ("error", str(exc) if isinstance(exc, t.CoercionError) else "error")
    return (type(result).__name__, result)


def test_number_fast_paths_equal_the_general_parser() -> None:
    values = _numbers()
    mismatches = [v for v in values if _outcome(t.coerce_number, v) != _outcome(t._parse_number, v)]
    assert mismatches == []
    # The fast paths are really taken, and keep exact ints and floats.
    assert t._plain_number("-123") == -123 and t._plain_number("4.50") == 4.5 and t._plain_number("1e5") is None
    assert t.coerce_number("4.00") == 4 and isinstance(t.coerce_number("4.00"), int)
    assert t.coerce_number("0.1") == 0.1


def test_date_fast_paths_equal_the_general_parser() -> None:
    values = _stamps()
    mismatches = [v for v in values if _outcome(t.coerce_date, v) != _outcome(t._parse_date, v)]
    assert mismatches == []
    assert t._PLAIN_STAMP_RE.match("2025-01-31T10:00:00")
    assert t.coerce_date("2025-01-31") == "2025-01-31T00:00:00.000"
    with pytest.raises(t.CoercionError, match="invalid calendar date"):
        t.coerce_date("2023-02-29")


def test_coerce_dispatches_to_the_kind_converter() -> None:
    assert t.coerce("number", None) is None
    assert t.coerce("bool", "true") == 1 and t.converter("bool")("no") == 0
    assert t.coerce("text", 5) == "5" and t.coerce("json", {"a": 1}) == '{"a":1}'
    with pytest.raises(t.CoercionError):
        t.coerce("number", "doce")
