"""Distinct values and counts of a text column, by sorting or hashing: always Arrow's answer."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from casanare import distinct

pytestmark = pytest.mark.unit

TEXT = ["Yopal", None, "", "Aguazul", "Yopal", "ñandú €", " Yopal", "x" * 5000, "", None, "Maní", "yopal"]


def _arrow(values: pa.Array | pa.ChunkedArray) -> dict[str, int]:
    counted = pc.value_counts(pc.drop_null(values))
    return dict(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True))


def _ours(values: pa.Array | pa.ChunkedArray) -> dict[str, int]:
    found, counts = distinct.distinct_counts(values)
    assert len(found) == len(counts) and counts.dtype == "int64"
    result = dict(zip(found.to_pylist(), counts.tolist(), strict=True))
    assert len(result) == len(found)  # each distinct value once
    return result


CASES = {
    "string": pa.array(TEXT, pa.string()),
    "large_string": pa.array(TEXT * 3, pa.large_string()),
    "chunked": pa.chunked_array([pa.array(TEXT[:5]), pa.array(TEXT[5:]), pa.array([], pa.string())]),
    "unique": pa.array([f"R-{i:05d}" for i in range(3000)]),
    "all_null": pa.array([None, None], pa.string()),
    "empty": pa.array([], pa.string()),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("share", [0.0, 1.0])  # 0: always sort; 1: always hash
def test_sorted_and_hashed_counts_are_arrows_value_counts(monkeypatch, name, share):
    monkeypatch.setattr(distinct, "CUOTA_PARA_ORDENAR", share)
    assert _ours(CASES[name]) == _arrow(CASES[name])


def test_mostly_distinct_columns_are_sorted_and_repetitive_ones_hashed(monkeypatch):
    hashed = []
    real = pc.value_counts
    monkeypatch.setattr(pc, "value_counts", lambda values: hashed.append(len(values)) or real(values))
    ids = pa.array([f"R-{i:06d}" for i in range(20_000)] + [None])
    assert _ours(ids) == _arrow(ids)
    assert hashed == [20_000]  # only the reference count (nulls dropped): ours sorted
    hashed.clear()
    names = pa.array(["Yopal", "Aguazul", "Maní"] * 7000)
    assert _ours(names) == _arrow(names)
    assert hashed == [21_000, 21_000]  # ours hashed (few distinct values), then the reference


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("share", [0.0, 1.0])
@pytest.mark.parametrize("piece", [1, 2, 7, 1 << 20])
def test_the_distinct_count_is_arrows_count_distinct(monkeypatch, name, share, piece):
    """Sorted and compared ``TRAMO`` values at a time (runs that cross a piece counted once)."""
    monkeypatch.setattr(distinct, "CUOTA_PARA_ORDENAR", share)
    monkeypatch.setattr(distinct, "TRAMO", piece)
    assert distinct.distinct_count(CASES[name]) == pc.count_distinct(CASES[name]).as_py()


def test_a_mostly_distinct_count_never_holds_the_column_in_sorted_order(monkeypatch):
    taken = []
    real = pc.take
    monkeypatch.setattr(pc, "take", lambda values, indices: taken.append(len(indices)) or real(values, indices))
    monkeypatch.setattr(distinct, "TRAMO", 1000)
    ids = pa.array([f"R-{i % 4500:06d}" for i in range(5000)])
    assert distinct.distinct_count(ids) == 4500
    assert taken == [1000] * 5


def _summed(found: pa.Array, counts) -> dict[str, int]:
    """Counts per value, adding up the rows of a value returned more than once."""
    total: dict[str, int] = {}
    for value, n in zip(found.to_pylist(), counts.tolist(), strict=True):
        total[value] = total.get(value, 0) + n
    return total


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("keep", [0.0, 1.1])  # 0: every large column kept as it stands; 1.1: always reduced
def test_value_counts_sum_to_arrows_value_counts(monkeypatch, name, keep):
    monkeypatch.setattr(distinct, "CUOTA_TAL_CUAL", keep)
    monkeypatch.setattr(distinct, "MUESTRA", 16)
    found, counts = distinct.value_counts(CASES[name])
    assert counts.dtype == "int64" and len(found) == len(counts) and found.null_count == 0
    assert _summed(found, counts) == _arrow(CASES[name])


def test_only_nearly_all_distinct_columns_are_kept_as_they_stand():
    ids = pa.array([f"R-{i:06d}" for i in range(200_000)] + [None, "R-000001"])
    found, counts = distinct.value_counts(ids)
    assert len(found) == 200_001 and set(counts.tolist()) == {1}  # every non-null row, one each
    assert _summed(found, counts) == _arrow(ids)
    # The first 65,536 rows are all different, but the column holds each code four times.
    codes = pa.array([f"2.3.{i % 100_000:06d}" for i in range(400_000)])
    assert pc.count_distinct(codes.slice(0, distinct.MUESTRA)).as_py() == distinct.MUESTRA
    found, counts = distinct.value_counts(codes)
    assert len(found) == 100_000 and set(counts.tolist()) == {4}
