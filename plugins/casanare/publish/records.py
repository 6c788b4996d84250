"""DataFrame → SODA JSON rows: NaN → null, ISO dates, plain numbers."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd


def json_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000")
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00.000"
    if hasattr(value, "item"):  # numpy scalars
        return json_value(value.item())
    return value


def to_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with JSON-safe values; null fields are sent explicitly as null."""
    columns = list(df.columns)
    return [
        {col: json_value(val) for col, val in zip(columns, row, strict=True)}
        for row in df.itertuples(index=False, name=None)
    ]
