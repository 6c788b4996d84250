"""Row and column hashes equal to pandas' ``hash_pandas_object``, in slices of distinct values."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from casanare import hashing
from casanare.extract.incremental import content_hash

pytestmark = pytest.mark.unit


def _frame() -> pd.DataFrame:
    text = ["Yopal", None, "", "Aguazul", "Yopal", "ñandú €", "x" * 5000, "Paz de Ariporo", None, "Maní"]
    chunked = pa.chunked_array([pa.array(text[:4]), pa.array(text[4:])])
    return pd.DataFrame({
        "str": pd.Series(text, dtype="str"),
        "string_pyarrow": pd.Series(text, dtype="string[pyarrow]"),
        "arrow_large": pd.Series(pd.array(text, dtype=pd.ArrowDtype(pa.large_string()))),
        "arrow_chunked": pd.Series(pd.arrays.ArrowExtensionArray(chunked)),
        "object": pd.Series(text, dtype=object),
        "int": pd.array([1, None, 3, 4, 5, 6, 7, 8, 9, 10], dtype="Int64"),
        "float": [1.5, np.nan, 0.0, -0.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        "date": pd.to_datetime(["2024-01-05"] * 9 + [None]),
        "category": pd.Categorical(["a", "b", None, "a", "b", "a", "a", "b", "a", "b"]),
    })


def _pandas(df: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(df, index=False).to_numpy()


def test_frame_hashes_are_pandas_hashes_for_every_dtype(monkeypatch):
    df = _frame()
    # Slices of two distinct values, so values from different slices meet in one column.
    monkeypatch.setattr(hashing, "_SLICE", 2)
    assert np.array_equal(hashing.frame_hashes(df), _pandas(df))
    for col in df.columns:
        assert np.array_equal(hashing.column_hashes(df[col]), pd.util.hash_pandas_object(df[col], index=False).to_numpy()), col


def test_edge_frames_hash_like_pandas():
    df = _frame()
    empty = df.iloc[:0]
    all_null = pd.DataFrame({"t": pd.Series([None, None], dtype="str")})
    duplicated_names = pd.DataFrame([["a", "b"], ["c", None]], columns=["x", "x"]).astype("str")
    for frame in (empty, all_null, duplicated_names, df.iloc[3:7], pd.DataFrame(index=range(3))):
        assert np.array_equal(hashing.frame_hashes(frame), _pandas(frame))


def _record_sizes(monkeypatch, module, name: str) -> list[int]:
    """Wrap ``module.name`` so every call appends the length of its first argument."""
    sizes: list[int] = []
    real = getattr(module, name)

    def recording(values, *args, **kwargs):
        sizes.append(len(values))
        return real(values, *args, **kwargs)

    monkeypatch.setattr(module, name, recording)
    return sizes


def test_distinct_values_become_python_strings_a_slice_at_a_time(monkeypatch):
    from pandas.core.util import hashing as pandas_hashing

    sizes = _record_sizes(monkeypatch, pandas_hashing, "hash_array")
    monkeypatch.setattr(hashing, "_SLICE", 1000)
    ids = pd.Series([f"R-{i:06d}" for i in range(4500)], dtype="str")
    expected = pd.util.hash_pandas_object(ids.astype(object), index=False).to_numpy()
    sizes.clear()
    assert np.array_equal(hashing.column_hashes(ids), expected)
    assert sizes and max(sizes) == 1000 and sum(sizes) == 4500


def test_a_column_is_encoded_a_slice_at_a_time(monkeypatch):
    """No dictionary of the whole column (5M unique ids: +1.4 GB); few names cost few hashes."""
    import pyarrow.compute as pc

    encoded = _record_sizes(monkeypatch, pc, "dictionary_encode")
    monkeypatch.setattr(hashing, "_SLICE", 1000)
    names = pd.Series(pa.chunked_array([pa.array(["Yopal", "Maní", None] * 700)] * 2), dtype="str")
    hashes = hashing.column_hashes(names)
    assert np.array_equal(hashes, pd.util.hash_pandas_object(names.astype(object), index=False).to_numpy())
    assert encoded == [1000, 1000, 100] * 2


def test_content_hash_is_the_fingerprint_earlier_runs_stored():
    df = _frame()
    for ordered in (True, False):
        rows = _pandas(df)
        digest = hashlib.sha256("\x1f".join(map(str, df.columns)).encode())
        digest.update((rows if ordered else np.sort(rows)).tobytes())
        assert content_hash(df, ordered=ordered) == digest.hexdigest()
