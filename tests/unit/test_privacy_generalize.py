"""Generalization: age bands, dates, epidemiological weeks, coordinates, top/bottom coding."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from casanare.privacy import generalize

pytestmark = pytest.mark.unit


def test_age_bands_are_quinquennial_with_open_top():
    bands = generalize.age_band(pd.Series([0, 4, 5, 37, 79, 80, 97, None]))
    assert list(bands[:7]) == ["0-4", "0-4", "5-9", "35-39", "75-79", "80+", "80+"]
    assert pd.isna(bands[7])


def test_age_at_reference_date_counts_completed_years():
    ages = generalize.age_at(pd.Series(["2000-06-15", "2000-06-16", None]), date(2026, 6, 15))
    assert list(ages[:2]) == [26, 25] and pd.isna(ages[2])


def test_month_and_year():
    dates = pd.Series(pd.to_datetime(["2025-03-17", "2024-12-31"]))
    assert list(generalize.month(dates)) == ["2025-03", "2024-12"]
    assert list(generalize.year(dates)) == [2025, 2024]


@pytest.mark.parametrize(
    ("day", "week"),
    [
        (date(2024, 1, 1), "2024-S01"),  # 2024 starts on Monday: week 1 began Sunday 2023-12-31
        (date(2023, 12, 31), "2024-S01"),
        (date(2022, 1, 1), "2021-S52"),  # Saturday: belongs to the last week of 2021
        (date(2022, 1, 2), "2022-S01"),
        (date(2026, 3, 18), "2026-S11"),
        (date(2020, 12, 31), "2020-S53"),
    ],
)
def test_epidemiological_week(day, week):
    assert generalize.epi_week_label(day) == week


def test_coordinates_are_rounded_to_declared_precision():
    out = generalize.round_coordinates(pd.Series([5.337912, -72.395611]), 2)
    assert list(out) == [5.34, -72.4]


def test_top_bottom_coding():
    out = generalize.top_bottom_code(pd.Series(["3", 120, 45, None]), 5, 100)
    assert list(out[:3]) == [5, 100, 45] and pd.isna(out[3])
