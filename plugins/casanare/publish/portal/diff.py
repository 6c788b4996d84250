"""Row diff between what is published and what should be published.

Values are compared after a per-kind normalization so that type-only differences never count
as changes: ``1`` vs ``1.0`` vs ``"1"`` (SODA returns numbers as strings), ``Int64`` vs
``float64``, a ``Timestamp`` vs the ISO string of the same instant (SODA floating timestamps
``2024-01-05T00:00:00.000``), ``True`` vs ``"true"``, and NaN / None / NaT / ``""`` (all null).
Everything is vectorized: a 1M-row diff takes a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from casanare.hashing import is_arrow_text, text_hashes

if TYPE_CHECKING:
    from casanare.catalog import Dataset

Kind = Literal["number", "date", "bool", "text"]

#: Catalog ``tipo_salida`` → comparison kind.
CATALOG_KINDS: dict[str, Kind] = {
    "texto": "text", "entero": "number", "decimal": "number",
    "fecha": "date", "fecha_hora": "date", "booleano": "bool",
}
#: SODA ``dataTypeName`` → comparison kind.
SODA_KINDS: dict[str, Kind] = {
    "number": "number", "double": "number", "money": "number", "percent": "number",
    "calendar_date": "date", "floating_timestamp": "date", "fixed_timestamp": "date", "date": "date",
    "checkbox": "bool", "text": "text",
}
_TRUE = {"true", "1", "t", "si", "sí", "yes", "verdadero"}
_FALSE = {"false", "0", "f", "no", "falso"}
_BOOLS: dict[Any, int] = {True: 1, False: 0, **dict.fromkeys(_TRUE, 1), **dict.fromkeys(_FALSE, 0)}


def dataset_kinds(ds: Dataset) -> dict[str, Kind]:
    """Comparison kinds of the published columns of a catalog entry."""
    return {c.nombre_salida: CATALOG_KINDS.get(c.tipo_salida, "text") for c in ds.columnas_publicadas}


def infer_kind(series: pd.Series) -> Kind:
    """Kind from a column's dtype, used when neither the catalog nor the portal says."""
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    sample = series.dropna()
    if len(sample) and sample.map(lambda v: isinstance(v, pd.Timestamp)).all():
        return "date"
    return "text"


def _number(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        text = series.astype("string").str.strip()
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    else:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
    null = ~np.isfinite(values)
    values = np.where(null, 0.0, values)
    # Round to 15 significant digits (what a float column on the portal keeps), so 1, 1.0 and
    # "1" or 0.30000000000000004 and "0.3" compare equal.
    nonzero = values != 0
    magnitude = 10.0 ** (14 - np.floor(np.log10(np.abs(values[nonzero]))))
    values[nonzero] = np.round(values[nonzero] * magnitude) / magnitude
    return values, null


def _date(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = series
    else:
        text = series.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
        stamps = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)  # floating timestamps: keep the wall time
    stamps = stamps.dt.as_unit("ns")
    null = stamps.isna().to_numpy()
    values = np.where(null, 0, stamps.to_numpy(dtype="datetime64[ns]").view("int64"))
    return values, null


def _bool(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if pd.api.types.is_bool_dtype(series) and not series.isna().any():
        values = series.to_numpy(dtype=bool)
        return values.astype("int8"), np.zeros(len(values), dtype=bool)
    mapped = series.map(_BOOLS)  # dict lookups: fast for the usual True/False/None/"true"
    unknown = mapped.isna() & series.notna()
    if unknown.any():  # other spellings ("Sí", " TRUE ")
        text = series[unknown].astype(str).str.strip().str.lower()
        mapped[unknown] = text.map(_BOOLS)
    null = mapped.isna().to_numpy(dtype=bool)
    return mapped.fillna(0).to_numpy(dtype="int8"), null


def _text(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    # Socrata stores "" as null. Object columns are hashed as they are (pandas hashes their
    # str()), which avoids converting millions of Python strings.
    null = _text_null(series)
    values = series.to_numpy(dtype=object, copy=True)
    values[null] = ""
    return values, null


def _text_null(series: pd.Series) -> np.ndarray:
    return (series.isna() | (series == "")).to_numpy(dtype=bool)


def _arrow_text_hashes(series: pd.Series) -> np.ndarray:
    """What hashing :func:`_text`'s values gives (null and "" alike), for an Arrow-backed text
    column, without a Python string per row: a frame read from the portal (object columns) and
    the Parquet of the run (Arrow strings) still compare equal."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(series, from_pandas=True)
    return text_hashes(pc.fill_null(array, "") if array.null_count else array)


_NORMALIZERS = {"number": _number, "date": _date, "bool": _bool, "text": _text}


def normalized(series: pd.Series, kind: Kind | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Canonical values (nulls zeroed) and a null mask; equal iff the published values are equal."""
    return _NORMALIZERS[kind or infer_kind(series)](series.reset_index(drop=True))


def normalize_column(series: pd.Series, kind: Kind | None = None) -> pd.Series:
    """Canonical value per position, None for null (used as a row-identifier index)."""
    values, null = normalized(series, kind)
    out = pd.Series(values, dtype=object)
    out[null] = None
    return out


def _column_hashes(df: pd.DataFrame, columns: list[str], kinds: Mapping[str, Kind]) -> Iterator[np.ndarray]:
    """Per column, the hash of its canonical values and of its null mask, one column at a time
    (a million-row frame never has all its normalized copies in memory at once)."""
    for col in columns:
        series = df[col] if col in df.columns else None
        if series is not None and (kinds.get(col) or infer_kind(series)) == "text" and is_arrow_text(series):
            yield _arrow_text_hashes(series)
            null = _text_null(series)
        else:
            if series is not None:
                values, null = normalized(series, kinds.get(col))
            else:
                # Null hashes the same as a present all-null column of the same kind.
                values, null = normalized(pd.Series([None] * len(df), dtype=object), kinds.get(col, "text"))
            # dtype given explicitly: pandas 3 would otherwise convert object strings to Arrow.
            yield pd.util.hash_pandas_object(pd.Series(values, dtype=values.dtype, copy=False),
                                             index=False).to_numpy()
            del values
        del series
        yield pd.util.hash_pandas_object(pd.Series(null.astype("uint8"), copy=False), index=False).to_numpy()


def row_hashes(df: pd.DataFrame, columns: list[str], kinds: Mapping[str, Kind] | None = None) -> np.ndarray:
    """One uint64 content hash per row over ``columns`` (sorted, so column order is irrelevant).

    The same value as ``hash_pandas_object`` of the frame of canonical columns (values, null mask)
    would give: pandas combines its columns' hashes with ``combine_hash_arrays``, here fed one
    column at a time.
    """
    from pandas.core.util.hashing import combine_hash_arrays

    if not len(df):
        return np.zeros(0, dtype="uint64")
    kinds = kinds or {}
    cols = sorted(columns)
    # Absent columns hash as null on both sides; kinds default to the dtype of this frame.
    return combine_hash_arrays(_column_hashes(df, cols, kinds), 2 * len(cols))


@dataclass
class Diff:
    """Result of :func:`diff_frames`: positions refer to the NEW frame, deleted to the OLD one."""

    nuevas: np.ndarray
    cambiadas: np.ndarray
    borradas: np.ndarray
    sin_cambios: int

    @property
    def upsert_positions(self) -> np.ndarray:
        return np.sort(np.concatenate([self.nuevas, self.cambiadas]))

    def resumen(self) -> dict[str, int]:
        return {"nuevas": len(self.nuevas), "cambiadas": len(self.cambiadas),
                "borradas": len(self.borradas), "sin_cambios": int(self.sin_cambios)}


def duplicated_keys(df: pd.DataFrame, key: str, kinds: Mapping[str, Kind] | None = None) -> int:
    """How many rows repeat a row identifier (null identifiers count as repeated)."""
    kind = (kinds or {}).get(key) or infer_kind(df[key])
    if kind == "text" and is_arrow_text(df[key]):  # counted by Arrow, without a Python string per row
        import pyarrow as pa
        import pyarrow.compute as pc

        from casanare.distinct import distinct_count

        keys = pa.array(df[key], from_pandas=True)
        # Empty and null identifiers all count as repeated, and so does each repeat of a value.
        # Counted by sorting when mostly distinct (Arrow's count_distinct: +1.1 GB at 5M ids);
        # the empty one is taken off the distinct count, not out of a copy of the column.
        empty = bool(pc.any(pc.equal(keys, "")).as_py())
        return len(keys) - (distinct_count(keys) - empty)
    values, null = normalized(df[key], kind)
    return int(pd.Series(values[~null]).duplicated(keep="first").sum() + null.sum())


def diff_frames(
    old: pd.DataFrame,
    new: pd.DataFrame,
    key: str,
    kinds: Mapping[str, Kind] | None = None,
    columns: list[str] | None = None,
) -> Diff:
    """Rows of ``new`` to upsert and rows of ``old`` to delete, matched by ``key``.

    Args:
        old: what is on the portal (last reconciled snapshot, or rows read from the portal); a
            ``staging.ColumnReader`` works too (only ``len``, ``columns`` and ``old[column]``
            are used, so the snapshot is read one column at a time).
        new: what should be on the portal.
        key: row identifier column.
        kinds: comparison kind per column (catalog/portal types); inferred from dtypes if absent.
        columns: columns compared (default: the columns of ``new``; a column only in ``old`` is
            not published any more and is ignored).
    """
    columns = columns or list(new.columns)
    kinds = dict(kinds or {})
    for col in columns:  # one kind per column for both sides, or 1 and "1" would hash differently
        if col not in kinds:
            kinds[col] = infer_kind(new[col]) if col in new.columns else infer_kind(old[col])
    pos = _key_positions(old[key], new[key], kinds[key])
    new_hash = row_hashes(new, columns, kinds)
    old_hash = row_hashes(old, columns, kinds) if len(old) else np.zeros(0, dtype="uint64")
    present = pos >= 0
    same = np.zeros(len(new), dtype=bool)
    same[present] = old_hash[pos[present]] == new_hash[present]
    nuevas = np.flatnonzero(~present)
    cambiadas = np.flatnonzero(present & ~same)
    # An old row stays iff some new row found it (old keys are unique, or get_indexer refuses
    # them): read off ``pos`` instead of ``old_keys.isin(new_keys)``, which took 5.6 s on 1M
    # Arrow-backed strings.
    kept = np.zeros(len(old), dtype=bool)
    kept[pos[present]] = True
    borradas = np.flatnonzero(~kept)
    return Diff(nuevas=nuevas, cambiadas=cambiadas, borradas=borradas, sin_cambios=int(same.sum()))


def _key_positions(old: pd.Series, new: pd.Series, kind: Kind) -> np.ndarray:
    """For each new row identifier, the position of the same identifier among the old ones, or -1.

    Arrow-backed text identifiers (the snapshot and the run's Parquet) are matched by Arrow's
    hash table, as :func:`normalized` compares them (null and "" alike), without two million
    Python strings and their pandas index (0.25 GB at 1M rows).
    """
    if not len(old):
        return np.full(len(new), -1)
    if kind == "text" and is_arrow_text(old) and is_arrow_text(new):
        import pyarrow as pa
        import pyarrow.compute as pc

        old_keys, new_keys = (pc.fill_null(pa.array(s, from_pandas=True), "") for s in (old, new))
        if pc.count_distinct(old_keys).as_py() == len(old_keys):  # else get_indexer below refuses them
            return pc.index_in(new_keys, value_set=old_keys).fill_null(-1).to_numpy()
    new_keys = pd.Index(normalized(new, kind)[0])
    return pd.Index(normalized(old, kind)[0]).get_indexer(new_keys)


def append_positions(
    old: pd.DataFrame, new: pd.DataFrame, kinds: Mapping[str, Kind] | None = None, columns: list[str] | None = None
) -> np.ndarray:
    """Rows of ``new`` not yet in ``old``, as a multiset of content hashes (for append-only logs).

    A row that appears k times in ``new`` and j < k times in ``old`` is appended k − j times, so
    genuinely repeated log lines survive and nothing already sent is sent twice.
    """
    columns = columns or list(new.columns)
    kinds = dict(kinds or {})
    for col in columns:
        kinds.setdefault(col, infer_kind(new[col]))
    new_hash = pd.Series(row_hashes(new, columns, kinds))
    old_counts = pd.Series(row_hashes(old, columns, kinds)).value_counts() if len(old) else pd.Series(dtype="int64")
    rank = new_hash.groupby(new_hash).cumcount()
    already = new_hash.map(old_counts).fillna(0).astype("int64")
    return np.flatnonzero((rank >= already).to_numpy())
