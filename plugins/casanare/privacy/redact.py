"""Free-text redaction: identifiers inside text columns are replaced before publication."""

from __future__ import annotations

import pandas as pd

from casanare.privacy.rules import redact_text


def redact_free_text(values: pd.Series) -> tuple[pd.Series, int]:
    """Replace e-mails, phone numbers and document numbers found in free text."""
    return redact_text(values)
