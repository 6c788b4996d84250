"""Rebuild the full table from an incremental SQL extraction.

An incremental query returns only the rows changed in the run's interval. Downstream stages
(privacy, quality, the portal diff) reason about the whole table, so the delta is merged into
the previous successful run's table by row identifier: a changed row replaces its old version,
a new one is added, and untouched rows are kept. Rows deleted at the source can't be seen by an
incremental query; sources that delete rows should be declared as full loads.
"""

from __future__ import annotations

import hashlib

import pandas as pd


def merge_increment(previous: pd.DataFrame, delta: pd.DataFrame, key: str) -> pd.DataFrame:
    """Previous full table with ``delta`` upserted by ``key`` (delta wins; its last duplicate wins)."""
    delta = delta.drop_duplicates(subset=[key], keep="last")
    kept = previous[~previous[key].isin(delta[key])]
    merged = pd.concat([kept, delta.astype(previous.dtypes.to_dict(), errors="ignore")], ignore_index=True)
    return merged.reset_index(drop=True)


def content_hash(df: pd.DataFrame, *, ordered: bool = True) -> str:
    """sha256 of the table's content, independent of the Parquet writer.

    Args:
        ordered: include row order; False fingerprints the rows as a set (a source exported in
            another order still publishes the same rows).
    """
    import numpy as np

    from casanare.hashing import frame_hashes

    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, df.columns)).encode())
    # pandas' row hashes (fingerprints stored by earlier runs stay comparable), in less memory.
    rows = frame_hashes(df)
    digest.update((rows if ordered else np.sort(rows)).tobytes())
    return digest.hexdigest()
