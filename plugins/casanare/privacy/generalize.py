"""Generalization functions: each takes a typed pandas Series and returns its coarser form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pandas as pd

from casanare.referencia import subregiones


def age_band(ages: pd.Series, width: int = 5, top: int = 80) -> pd.Series:
    """Quinquennial bands: 0-4, 5-9, …, 75-79, 80+."""
    numeric = pd.to_numeric(ages, errors="coerce")
    lower = (numeric // width) * width

    def label(v: float) -> str | None:
        if pd.isna(v):
            return None
        v = int(v)
        return f"{top}+" if v >= top else f"{v}-{v + width - 1}"

    return lower.map(label).astype("string")


def age_at(birth_dates: pd.Series, reference: date) -> pd.Series:
    """Completed years at ``reference`` for a series of birth dates."""
    dates = pd.to_datetime(birth_dates, errors="coerce")
    ref = pd.Timestamp(reference)
    years = ref.year - dates.dt.year
    before_birthday = (dates.dt.month > ref.month) | ((dates.dt.month == ref.month) & (dates.dt.day > ref.day))
    return (years - before_birthday.astype("Int64")).astype("Int64")


def month(dates: pd.Series) -> pd.Series:
    """``YYYY-MM``."""
    return pd.to_datetime(dates, errors="coerce").dt.strftime("%Y-%m").astype("string")


def year(dates: pd.Series) -> pd.Series:
    """Calendar year as an integer."""
    return pd.to_datetime(dates, errors="coerce").dt.year.astype("Int64")


def epi_week_label(value: date | datetime | None) -> str | None:
    """Epidemiological week (INS/MMWR: weeks start on Sunday; week 1 has ≥ 4 days of January)."""
    if value is None or pd.isna(value):
        return None
    day = value.date() if isinstance(value, datetime) else value
    for year_ in (day.year + 1, day.year, day.year - 1):
        start = _epi_year_start(year_)
        if day >= start:
            week = (day - start).days // 7 + 1
            return f"{year_}-S{week:02d}"
    return None


def _epi_year_start(year_: int) -> date:
    jan1 = date(year_, 1, 1)
    # Python: Monday=0 … Sunday=6. Sunday-start weeks; week 1 contains Jan 4 at latest.
    offset = (jan1.weekday() + 1) % 7  # days since the previous Sunday
    first_sunday = jan1 - timedelta(days=offset)
    return first_sunday if offset <= 3 else first_sunday + timedelta(days=7)


def epi_week(dates: pd.Series) -> pd.Series:
    """``YYYY-Sww`` epidemiological week of each date."""
    parsed = pd.to_datetime(dates, errors="coerce")
    return parsed.map(lambda v: epi_week_label(v.to_pydatetime()) if not pd.isna(v) else None).astype("string")


def round_coordinates(values: pd.Series, precision: int) -> pd.Series:
    """Round to ``precision`` decimals (2 ≈ 1.1 km, 3 ≈ 110 m at Casanare's latitude)."""
    return pd.to_numeric(values, errors="coerce").round(precision).astype("Float64")


def top_bottom_code(values: pd.Series, lower: float | None, upper: float | None) -> pd.Series:
    """Top/bottom coding: values beyond the declared limits are published as the limit."""
    numeric = values if pd.api.types.is_numeric_dtype(values) else pd.to_numeric(values, errors="coerce")
    return numeric.clip(lower=lower, upper=upper)


# Generalization hierarchies used by k-anonymity (kanon.py) -----------------------------------
# Each level maps the published values of the level below to coarser ones; level 0 is what the
# column rule produced. Labels keep the published formats (age ranges stay ``a-b``/``a+``), so
# the quality suite and the portal schema don't change when a coarser level is chosen.

# Life stages aligned with 10-year bands (WHO: adolescence 10–19, older persons 60+).
ETAPAS_VIDA: tuple[tuple[int, str], ...] = ((10, "0-9"), (20, "10-19"), (60, "20-59"))
ETAPA_MAYOR = "60+"


def _band_lower(values: pd.Series) -> pd.Series:
    text = values.astype("string")
    return pd.to_numeric(text.str.extract(r"^(\d+)", expand=False), errors="coerce")


def age_band_10(bands: pd.Series, top: int = 80) -> pd.Series:
    """``0-4``/``5-9`` → ``0-9``; ``80+`` stays: 10-year bands from 5-year ones."""
    lower = (_band_lower(bands) // 10) * 10

    def label(v: float) -> str | None:
        if pd.isna(v):
            return None
        v = int(v)
        return f"{top}+" if v >= top else f"{v}-{v + 9}"

    return lower.map(label).astype("string")


def life_stage(bands: pd.Series) -> pd.Series:
    """Age ranges → life stages ``0-9`` (niñez), ``10-19`` (adolescencia), ``20-59``, ``60+``."""
    lower = _band_lower(bands)

    def label(v: float) -> str | None:
        if pd.isna(v):
            return None
        return next((name for limit, name in ETAPAS_VIDA if v < limit), ETAPA_MAYOR)

    return lower.map(label).astype("string")


def quarter(months: pd.Series) -> pd.Series:
    """``YYYY-MM`` → ``YYYY-Tn``."""
    text = months.astype("string")
    parts = text.str.extract(r"^(\d{4})-(\d{2})$")
    q = ((pd.to_numeric(parts[1], errors="coerce") - 1) // 3 + 1).astype("Int64").astype("string")
    return (parts[0] + "-T" + q).astype("string")


def year_of_period(periods: pd.Series) -> pd.Series:
    """``YYYY-MM`` or ``YYYY-Tn`` → ``YYYY`` (text, like the levels below)."""
    return periods.astype("string").str.extract(r"^(\d{4})", expand=False).astype("string")


def subregion(codes: pd.Series) -> pd.Series:
    """Municipio code → its subregion of Casanare; codes outside the table stay as they are."""
    table = subregiones()
    text = codes.astype("string")
    return text.map(lambda v: table.get(v, v) if v is not None and not pd.isna(v) else None).astype("string")


# name → (level names, functions from level i to level i + 1)
JERARQUIAS: dict[str, tuple[tuple[str, ...], tuple[Callable[[pd.Series], pd.Series], ...]]] = {
    "edad": (("rango de 5 años", "rango de 10 años", "etapa de vida"), (age_band_10, life_stage)),
    "municipio": (("municipio", "subregión"), (subregion,)),
    "mes": (("mes", "trimestre", "año"), (quarter, year_of_period)),
}


def hierarchy_levels(name: str, values: pd.Series) -> list[pd.Series]:
    """The column at every level of hierarchy ``name`` (level 0 first).

    Each step runs on the distinct values only and is mapped back by code, so a million rows
    cost what their few dozen distinct values cost.
    """
    import numpy as np

    _, steps = JERARQUIAS[name]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    present = codes >= 0
    levels = [values]
    current = pd.Series(uniques, dtype="string")
    for step in steps:
        current = step(current).reset_index(drop=True)
        mapped = current.to_numpy(dtype=object, na_value=None)
        out = np.full(len(values), None, dtype=object)
        out[present] = mapped[codes[present]]
        levels.append(pd.Series(out, index=values.index, dtype="string"))
    return levels
