"""Reference tables shipped in ``include/reference`` that more than one stage reads."""

from __future__ import annotations

import csv
from functools import lru_cache

from casanare import settings

SUBREGIONES_FILE = "subregiones_casanare.csv"


@lru_cache(maxsize=1)
def subregiones() -> dict[str, str]:
    """DIVIPOLA code of each municipio of Casanare → ``Subregión …`` (the k-anonymity hierarchy)."""
    path = settings.include_dir() / "reference" / SUBREGIONES_FILE
    with path.open(encoding="utf-8") as fh:
        return {row["codigo_municipio"]: f"Subregión {row['subregion']}" for row in csv.DictReader(fh)}
