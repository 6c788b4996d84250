"""The privacy stage as one call: rules, default deny, and the report for the manifest."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from casanare.catalog import Dataset
from casanare.privacy.rules import apply_rules


def anonimizar(
    df: pd.DataFrame, dataset: Dataset, *, key: bytes | None, reference: date
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return the publishable frame and a privacy report with no personal data in it.

    Args:
        df: extracted frame (catalog column names, declared types).
        dataset: catalog entry with the per-column rules.
        key: pseudonymization key (connection ``clave_seudonimizacion``); required only when a
            column is pseudonymized.
        reference: date used to turn birth dates into ages (the run's date).
    """
    published, report = apply_rules(df, dataset, key=key, reference=reference)
    report["filas"] = len(published)
    return published, report
