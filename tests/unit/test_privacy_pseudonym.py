"""Keyed pseudonyms: deterministic, keyed, normalized, and the key is mandatory and long enough."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

from casanare.errors import ErrorDeConfiguracion
from casanare.privacy.pseudonym import (
    MIN_KEY_BYTES,
    ClaveInvalida,
    check_key,
    normalize_identifier,
    pseudonym,
)
from casanare.privacy.rules import pseudonymize

pytestmark = pytest.mark.unit
KEY = b"clave-de-prueba-suficientemente-larga-para-hmac"
OTHER_KEY = b"otra-clave-de-prueba-suficientemente-larga-hmac"


def test_format_is_P_plus_24_hex_and_matches_hmac_sha256():
    value = pseudonym("1098765432", KEY)
    expected = "P" + hmac.new(KEY, b"1098765432", hashlib.sha256).hexdigest()[:24]
    assert value == expected
    assert len(value) == 25 and value[0] == "P" and all(c in "0123456789abcdef" for c in value[1:])


def test_deterministic_across_calls_and_formats():
    assert pseudonym("1098765432", KEY) == pseudonym("1098765432", KEY)
    # Same person written differently (dots, spaces, float from a spreadsheet, NIT check digit).
    same = {pseudonym(v, KEY) for v in ("1.098.765.432", " 1098765432 ", 1098765432.0, 1098765432, "1098765432-5")}
    assert same == {pseudonym("1098765432", KEY)}
    assert normalize_identifier("José  Pérez") == normalize_identifier("JOSE PEREZ")


def test_different_people_and_different_keys_give_different_pseudonyms():
    assert pseudonym("1098765432", KEY) != pseudonym("1098765433", KEY)
    assert pseudonym("1098765432", KEY) != pseudonym("1098765432", OTHER_KEY)


def test_series_pseudonymization_is_stable_across_runs_and_datasets():
    run_1 = pseudonymize(pd.Series(["1098765432", None, "", "52123456"]), KEY)
    run_2 = pseudonymize(pd.Series(["52123456", "1.098.765.432"]), KEY)  # another dataset, other order
    assert run_1[0] == run_2[1] and run_1[3] == run_2[0]
    assert pd.isna(run_1[1]) and pd.isna(run_1[2])
    assert "1098765432" not in "".join(run_1.dropna())


@pytest.mark.parametrize("key", [None, b"", ""])
def test_key_is_required(key):
    with pytest.raises(ClaveInvalida) as info:
        check_key(key)
    assert "clave_seudonimizacion" in str(info.value)
    with pytest.raises(ClaveInvalida):
        pseudonymize(pd.Series(["1098765432"]), key)


def test_too_short_key_is_rejected_without_showing_it():
    short = "k" * (MIN_KEY_BYTES - 1)
    with pytest.raises(ClaveInvalida) as info:
        check_key(short)
    assert isinstance(info.value, ErrorDeConfiguracion)  # a configuration failure: not retried
    assert short not in str(info.value) and short not in info.value.como_corregir
    assert check_key("k" * MIN_KEY_BYTES) == b"k" * MIN_KEY_BYTES
