"""Spanish value formats are coerced to the declared types (and bad ones are flagged, not guessed)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pandas as pd
import pytest

from casanare.extract.coerce import coerce_series, parse_boolean, parse_datetime, parse_integer, parse_number

pytestmark = pytest.mark.unit
NULOS = frozenset({"", "N/A", "NA", "-", "NULL", "SIN DATO"})


@pytest.mark.parametrize(
    ("texto", "esperado"),
    [
        ("1.234.567,89", 1234567.89), ("1234,5", 1234.5), ("0,75", 0.75), ("1,234.50", 1234.5),
        ("$ 2.500.000", 2500000.0), ("-3,25", -3.25), ("(1.234,00)", -1234.0), ("12", 12.0),
        ("5.337", 5337.0), (Decimal("10.50"), 10.5), (7, 7.0),
    ],
)
def test_numbers(texto, esperado):
    assert parse_number(texto) == pytest.approx(esperado)


def test_lone_dot_is_thousands_when_the_column_uses_decimal_comma():
    typed, bad = coerce_series(pd.Series(["1.234", "2,5", "3.000.000"]), "decimal", NULOS)
    assert list(typed) == [1234.0, 2.5, 3000000.0]
    assert not bad.any()


@pytest.mark.parametrize(("texto", "esperado"), [("12.500", 12500), ("1.234.567", 1234567), ("42", 42), (3.0, 3)])
def test_integers_accept_thousands_dots(texto, esperado):
    assert parse_integer(texto) == esperado


@pytest.mark.parametrize("texto", ["12,5", "abc", "1.5", "", "inf"])
def test_not_integers(texto):
    assert parse_integer(texto) is not None and not isinstance(parse_integer(texto), int)


@pytest.mark.parametrize(
    ("texto", "esperado"),
    [
        ("15/03/2024", datetime(2024, 3, 15)), ("5-3-24", datetime(2024, 3, 5)), ("2024-03-15", datetime(2024, 3, 15)),
        ("15 de marzo de 2024", datetime(2024, 3, 15)), ("1 de Septiembre del 2023", datetime(2023, 9, 1)),
        ("15-mar-2024", datetime(2024, 3, 15)), (45366, datetime(2024, 3, 15)), ("45366", datetime(2024, 3, 15)),
        ("15/03/2024 14:30", datetime(2024, 3, 15, 14, 30)),
        ("15/03/2024 02:30:05 p. m.", datetime(2024, 3, 15, 14, 30, 5)),
        ("15/03/2024 12:10 a.m.", datetime(2024, 3, 15, 0, 10)),
    ],
)
def test_dates(texto, esperado):
    assert parse_datetime(texto) == esperado


@pytest.mark.parametrize("texto", ["31/02/2024", "ayer", "15 de marzzo de 2024", "2024-13-01", True])
def test_not_dates(texto):
    assert not isinstance(parse_datetime(texto), datetime)


@pytest.mark.parametrize(("texto", "esperado"), [("SI", True), ("Sí", True), ("sí", True), ("No", False),
                                                 ("NO", False), ("1", True), (0, False), ("x", True)])
def test_booleans(texto, esperado):
    assert parse_boolean(texto) is esperado


def test_declared_nulls_become_null_and_are_not_errors():
    typed, bad = coerce_series(pd.Series(["N/A", "-", "NULL", "sin dato", " ", "12"]), "entero", NULOS)
    assert typed.isna().tolist() == [True] * 5 + [False]
    assert not bad.any()


def test_null_markers_are_only_those_declared():
    _, bad = coerce_series(pd.Series(["N/A", "7"]), "entero", frozenset({""}))
    assert bad.tolist() == [True, False]


def test_text_keeps_document_numbers_whole():
    typed, _ = coerce_series(pd.Series([1098765432.0, " 85001 ", None]), "texto", NULOS)
    assert typed.tolist()[:2] == ["1098765432", "85001"]
    assert pd.isna(typed.iloc[2])


def test_fecha_drops_time_and_fecha_hora_keeps_it():
    fecha, _ = coerce_series(pd.Series(["15/03/2024 14:30"]), "fecha", NULOS)
    fecha_hora, _ = coerce_series(pd.Series(["15/03/2024 14:30"]), "fecha_hora", NULOS)
    assert fecha.iloc[0] == pd.Timestamp(2024, 3, 15)
    assert fecha_hora.iloc[0] == pd.Timestamp(2024, 3, 15, 14, 30)
