"""Null tokens are found without upper-casing every cell: the same cells as the plain way."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from casanare.extract.coerce import null_tokens

pytestmark = pytest.mark.unit


def _plain(text: pa.Array, nulls: frozenset[str]) -> pa.Array:
    """Trim every value, upper-case every value, look every value up."""
    trimmed = pc.utf8_trim_whitespace(text)
    is_token = pc.fill_null(pc.is_in(pc.utf8_upper(trimmed), value_set=pa.array(sorted(nulls), pa.string())), False)
    return pc.if_else(is_token, pa.scalar(None, pa.string()), trimmed)


@pytest.mark.parametrize("nulls", [frozenset({"", "NULL"}), frozenset({"", "SIN DATO"}),
                                   frozenset({"", "N/A", "SIN DATO", "NO APLICA"}),
                                   frozenset({"", "SIN INFORMACIÓN", "S"})])
def test_null_tokens_match_the_plain_way(nulls):
    rng = random.Random(11)
    # Whitespace of every kind at the edges (NBSP, thin space, \x1c), letters whose upper case is
    # shorter in bytes (ı → I, ſ → S), accents, tokens in any case, long amounts.
    pieces = ["n/a", "N/A", "null", "NuLl", "sın dato", "ſin dato", "sin información", "s", " ", "\t", "\u00a0",
              "\u202f", "\x1c", "\r\n", "1.234.567,89", "Peñas Blancas", "x", ""]
    for _ in range(400):
        values = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 3))) if rng.random() > 0.1 else None
                  for _ in range(rng.randint(1, 15))]
        array = pa.array(values, type=pa.string())
        skip = rng.randint(0, len(values) - 1)
        for case in (array, array.slice(skip), array.filter(pa.array([rng.random() > 0.3 for _ in values]))):
            assert null_tokens(case, nulls).to_pylist() == _plain(case, nulls).to_pylist(), case.to_pylist()


def test_a_value_longer_in_bytes_than_its_upper_case_token_is_still_a_token():
    """``sın dato`` (dotless ı, 9 bytes) upper-cases to ``SIN DATO`` (8 bytes)."""
    assert null_tokens(pa.array(["sın dato", "SIN DATOS", "x"]), frozenset({"SIN DATO"})).to_pylist() == [
        None, "SIN DATOS", "x"]


def test_a_column_with_nothing_to_trim_or_replace_comes_back_as_it_was():
    amounts = pa.array([f"{i}.000,00" for i in range(1000)], pa.string())
    assert null_tokens(amounts, frozenset({"", "NULL"})) is amounts
