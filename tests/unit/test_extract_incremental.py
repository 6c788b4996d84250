"""Merging an incremental SQL delta into the previous full table."""

from __future__ import annotations

import pandas as pd
import pytest

from casanare.extract.incremental import content_hash, merge_increment

pytestmark = pytest.mark.unit


def test_delta_replaces_changed_rows_adds_new_and_keeps_the_rest():
    previous = pd.DataFrame({"id": ["a", "b", "c"], "valor": [1.0, 2.0, 3.0]})
    delta = pd.DataFrame({"id": ["b", "d"], "valor": [20.0, 4.0]})
    merged = merge_increment(previous, delta, "id").sort_values("id").reset_index(drop=True)
    assert merged.to_dict("list") == {"id": ["a", "b", "c", "d"], "valor": [1.0, 20.0, 3.0, 4.0]}


def test_empty_delta_keeps_the_table_and_its_hash():
    previous = pd.DataFrame({"id": ["a", "b"], "valor": [1.0, 2.0]})
    merged = merge_increment(previous, previous.iloc[0:0], "id")
    assert content_hash(merged) == content_hash(previous)


def test_last_duplicate_in_delta_wins():
    previous = pd.DataFrame({"id": ["a"], "valor": [1.0]})
    delta = pd.DataFrame({"id": ["a", "a"], "valor": [5.0, 6.0]})
    assert merge_increment(previous, delta, "id")["valor"].tolist() == [6.0]


def test_hash_changes_with_content():
    a = pd.DataFrame({"id": ["a"], "valor": [1.0]})
    b = pd.DataFrame({"id": ["a"], "valor": [2.0]})
    assert content_hash(a) != content_hash(b)
