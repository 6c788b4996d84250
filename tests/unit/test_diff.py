"""Row diff: new, changed, deleted, unchanged rows; type-only changes; nulls; append multiset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from casanare.publish.portal.diff import (
    append_positions,
    diff_frames,
    duplicated_keys,
    normalize_column,
    row_hashes,
)

pytestmark = pytest.mark.unit


def _base() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "valor": [1.5, 2.0, 3.25, None],
            "cantidad": pd.array([1, 2, 3, None], dtype="Int64"),
            "fecha": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-03-01", None]),
            "activo": [True, False, True, None],
            "nombre": ["x", "y", "z", None],
        }
    )


def test_new_changed_deleted_and_unchanged_rows_are_classified() -> None:
    old = _base()
    new = old.copy()
    new.loc[1, "valor"] = 2.5  # changed
    new = new[new["id"] != "c"]  # deleted
    new = pd.concat([new, pd.DataFrame({"id": ["e"], "valor": [9.0], "cantidad": pd.array([9], dtype="Int64"),
                                        "fecha": pd.to_datetime(["2025-01-01"]), "activo": [False],
                                        "nombre": ["w"]})], ignore_index=True)
    diff = diff_frames(old, new, "id")
    assert list(new.iloc[diff.nuevas]["id"]) == ["e"]
    assert list(new.iloc[diff.cambiadas]["id"]) == ["b"]
    assert list(old.iloc[diff.borradas]["id"]) == ["c"]
    assert diff.sin_cambios == 2
    assert diff.resumen() == {"nuevas": 1, "cambiadas": 1, "borradas": 1, "sin_cambios": 2}


def test_type_only_differences_are_not_changes() -> None:
    old = _base()
    # What SODA returns: numbers as strings, floating timestamps, booleans, nulls omitted.
    portal = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "valor": ["1.5", "2", "3.25", None],
            "cantidad": ["1", "2.0", "3", None],
            "fecha": ["2024-01-05T00:00:00.000", "2024-02-01", "2024-03-01T00:00:00", None],
            "activo": [True, "false", "true", None],
            "nombre": ["x", "y", "z", ""],
        }
    )
    kinds = {"valor": "number", "cantidad": "number", "fecha": "date", "activo": "bool", "nombre": "text",
             "id": "text"}
    diff = diff_frames(portal, old, "id", kinds)
    assert diff.resumen() == {"nuevas": 0, "cambiadas": 0, "borradas": 0, "sin_cambios": 4}


def test_int_vs_float_dtypes_and_inferred_kinds_compare_equal() -> None:
    old = pd.DataFrame({"id": [1, 2, 3], "n": pd.array([10, None, 30], dtype="Int64")})
    new = pd.DataFrame({"id": [1.0, 2.0, 3.0], "n": [10.0, np.nan, 30.0]})
    diff = diff_frames(old, new, "id")
    assert diff.resumen()["sin_cambios"] == 3
    assert diff.resumen()["cambiadas"] == 0


def test_a_real_change_after_normalization_is_detected() -> None:
    old = pd.DataFrame({"id": ["a", "b"], "v": [1.0, 2.0], "f": ["2024-01-01", "2024-01-02"]})
    new = pd.DataFrame({"id": ["a", "b"], "v": [1.0, 2.0000001], "f": pd.to_datetime(["2024-01-01", "2024-01-03"])})
    diff = diff_frames(old, new, "id", {"f": "date"})
    assert diff.resumen()["cambiadas"] == 1
    assert list(new.iloc[diff.cambiadas]["id"]) == ["b"]
    old2 = old.assign(f=pd.to_datetime(old["f"]))
    new2 = new.assign(f=old2["f"])
    assert list(new2.iloc[diff_frames(old2, new2, "id").cambiadas]["id"]) == ["b"]


def test_null_handling() -> None:
    old = pd.DataFrame({"id": ["a", "b", "c"], "v": [None, 1.0, None], "t": [None, "x", "y"]})
    new = pd.DataFrame({"id": ["a", "b", "c"], "v": [np.nan, None, 0.0], "t": [pd.NA, "x", "y"]})
    diff = diff_frames(old, new, "id")
    # a: null == NaN == NA; b: value → null is a change; c: null → 0 is a change (0 is not null).
    assert sorted(new.iloc[diff.cambiadas]["id"]) == ["b", "c"]
    assert diff.sin_cambios == 1
    assert list(normalize_column(pd.Series([None, np.nan, pd.NA, pd.NaT, ""], dtype=object), "text")) == [None] * 5


def test_column_order_and_added_null_column_do_not_change_rows() -> None:
    old = pd.DataFrame({"id": ["a", "b"], "v": [1, 2]})
    new = pd.DataFrame({"v": [1, 2], "id": ["a", "b"], "nueva": [None, None]})
    assert diff_frames(old, new, "id").sin_cambios == 2
    assert (row_hashes(old, ["id", "v"]) == row_hashes(new[["v", "id"]], ["v", "id"])).all()


def test_empty_old_means_everything_is_new() -> None:
    new = _base()
    diff = diff_frames(new.iloc[0:0], new, "id")
    assert len(diff.nuevas) == 4 and len(diff.borradas) == 0


def test_duplicated_and_null_keys_are_counted() -> None:
    df = pd.DataFrame({"id": ["a", "a", None, "b"]})
    assert duplicated_keys(df, "id") == 2


def test_append_positions_is_a_multiset_difference() -> None:
    old = pd.DataFrame({"evento": ["x", "y", "y"], "n": [1, 2, 2]})
    new = pd.DataFrame({"evento": ["x", "y", "y", "y", "z", "x"], "n": [1.0, 2.0, 2.0, 2.0, 3.0, 1.0]})
    positions = append_positions(old, new)
    assert sorted(new.iloc[positions].itertuples(index=False, name=None)) == [("x", 1.0), ("y", 2.0), ("z", 3.0)]
    assert len(append_positions(new, new)) == 0


def test_row_hashes_fed_column_by_column_equal_hashing_the_whole_canonical_frame() -> None:
    """Streaming the columns into pandas' combiner gives the hash of the materialized frame."""
    from casanare.publish.portal.diff import normalized

    frame = pd.DataFrame({
        "id": ["a", "b", None, "d"],
        "monto": [1.5, None, 3.0, 1e12],
        "n": pd.Series([1, None, 3, 4], dtype="Int64"),
        "fecha": pd.to_datetime(["2024-01-05", None, "2024-03-01", "2024-03-01"]),
        "activo": [True, False, None, True],
    })
    kinds = {"id": "text", "monto": "number", "n": "number", "fecha": "date", "activo": "bool"}
    columns = [*frame.columns, "ausente"]
    data = {}
    for col in sorted(columns):
        series = frame[col] if col in frame.columns else pd.Series([None] * len(frame), dtype=object)
        values, null = normalized(series, kinds.get(col, "text"))
        data[col] = pd.Series(values, dtype=values.dtype)
        data[f"{col}\x00nulo"] = pd.Series(null.astype("uint8"))
    whole = pd.util.hash_pandas_object(pd.DataFrame(data), index=False).to_numpy()
    assert (row_hashes(frame, columns, kinds) == whole).all()
    assert len(set(whole)) == len(frame)


def test_arrow_text_columns_hash_like_the_portals_object_columns() -> None:
    """The run's Parquet gives Arrow-backed text, the portal's JSON gives Python objects: a row
    must hash the same from both, or every row would look changed."""
    from casanare.publish.portal import diff

    values = ["a", "", None, "ñandú 😀", "1.0", " espacio ", "a", "x" * 5_000, "línea\nnueva", "NaN"]
    as_object = pd.DataFrame({"t": pd.Series(values, dtype=object), "n": range(len(values))})
    for dtype in (pd.StringDtype("pyarrow"), pd.StringDtype("pyarrow", na_value=np.nan),
                  pd.ArrowDtype(__import__("pyarrow").large_string())):
        as_arrow = as_object.assign(t=as_object["t"].astype(dtype))
        assert diff.is_arrow_text(as_arrow["t"])
        for kinds in ({"t": "text", "n": "number"}, None):
            assert (row_hashes(as_arrow, ["t", "n"], kinds) == row_hashes(as_object, ["t", "n"], kinds)).all()
    # Chunked Arrow data (several Parquet row groups) hashes like one chunk.
    chunked = pd.concat([as_object.iloc[:4], as_object.iloc[4:]]).astype({"t": pd.StringDtype("pyarrow")})
    assert (row_hashes(chunked, ["t", "n"]) == row_hashes(as_object, ["t", "n"])).all()
    # "" and null are the same published value (Socrata stores "" as null); "a" repeated hashes equal.
    hashes = row_hashes(as_object[["t"]].astype({"t": pd.StringDtype("pyarrow")}), ["t"], {"t": "text"})
    assert hashes[1] == hashes[2] and hashes[0] == hashes[6] and len(set(hashes)) == 8


def test_deleted_rows_are_read_off_the_key_matches() -> None:
    old = pd.DataFrame({"id": [f"k{i}" for i in range(1_000)], "v": range(1_000)})
    new = old[old["id"].str[-1] != "7"].reset_index(drop=True)
    diff = diff_frames(old, new, "id")
    assert sorted(old.iloc[diff.borradas]["id"]) == sorted(k for k in old["id"] if k.endswith("7"))
    assert diff.sin_cambios == len(new) and not len(diff.nuevas) and not len(diff.cambiadas)


def test_repeated_and_empty_identifiers_count_the_same_from_arrow_and_object_columns() -> None:
    keys = ["a", "a", None, "b", "", "", "c", "a"]
    for dtype in (object, pd.StringDtype("pyarrow"), pd.StringDtype("pyarrow", na_value=np.nan)):
        assert duplicated_keys(pd.DataFrame({"id": pd.Series(keys, dtype=dtype)}), "id", {"id": "text"}) == 5
        assert duplicated_keys(pd.DataFrame({"id": pd.Series(keys[3:4], dtype=dtype)}), "id") == 0


def test_mostly_unique_identifiers_are_counted_by_sorting_with_the_same_answer(monkeypatch) -> None:
    import pyarrow.compute as pc

    from casanare import distinct

    keys = [f"k{i}" for i in range(3_000)] + ["k5", "k7", "", None, "k7"]
    hashed = []
    for name in ("value_counts", "count_distinct", "unique"):
        real = getattr(pc, name)
        monkeypatch.setattr(pc, name, lambda values, *a, _real=real, **k: hashed.append(len(values)) or _real(values, *a, **k))
    monkeypatch.setattr(distinct, "MUESTRA", 100)
    monkeypatch.setattr(distinct, "TRAMO", 1_000)
    taken = []
    take = pc.take
    monkeypatch.setattr(pc, "take", lambda values, indices: taken.append(len(indices)) or take(values, indices))
    for dtype in (object, pd.StringDtype("pyarrow", na_value=np.nan)):
        assert duplicated_keys(pd.DataFrame({"id": pd.Series(keys, dtype=dtype)}), "id", {"id": "text"}) == 5
    assert hashed == [100]  # only the sample was hashed: no hash table of every identifier
    assert taken == [1_000, 1_000, 1_000, 4]  # and the sorted identifiers (with the empty one) a piece at a time


def test_a_snapshot_read_one_column_at_a_time_diffs_like_the_whole_table(tmp_path, monkeypatch) -> None:
    from casanare.staging import ColumnReader, DatasetArea

    old = _base()
    new = old.copy()
    new.loc[1, "valor"] = 2.5
    new = new[new["id"] != "c"].reset_index(drop=True)
    state = DatasetArea(tmp_path.as_uri(), "prueba")
    state.save_snapshot("v1", old)
    version, reader = state.latest_snapshot_columns()
    assert version == "v1" and isinstance(reader, ColumnReader)
    assert len(reader) == 4 and list(reader.columns) == list(old.columns)
    reads = []
    original = DatasetArea.read_parquet
    monkeypatch.setattr(DatasetArea, "read_parquet", lambda self, name, columns=None: (
        reads.append(columns), original(self, name, columns))[1])
    lazy, whole = diff_frames(reader, new, "id"), diff_frames(old, new, "id")
    for field in ("nuevas", "cambiadas", "borradas"):
        assert np.array_equal(getattr(lazy, field), getattr(whole, field))
    assert lazy.resumen() == whole.resumen() == {"nuevas": 0, "cambiadas": 1, "borradas": 1, "sin_cambios": 2}
    assert reads and all(columns is not None and len(columns) == 1 for columns in reads)
    pd.testing.assert_frame_equal(reader.read(), old)
    with pytest.raises(KeyError):
        reader["ausente"]


def test_identifiers_in_different_arrow_string_types_still_match() -> None:
    import pyarrow as pa

    old = pd.DataFrame({"id": pd.Series(["a", "b", "c"], dtype=pd.ArrowDtype(pa.string())), "v": [1, 2, 3]})
    new = pd.DataFrame({"id": pd.Series(["c", "a", "d"], dtype=pd.StringDtype("pyarrow")), "v": [3, 1, 4]})
    diff = diff_frames(old, new, "id", {"id": "text", "v": "number"})
    assert diff.resumen() == {"nuevas": 1, "cambiadas": 0, "borradas": 1, "sin_cambios": 2}
    assert list(old.iloc[diff.borradas]["id"]) == ["b"] and list(new.iloc[diff.nuevas]["id"]) == ["d"]

