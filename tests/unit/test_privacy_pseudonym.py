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


# Per-dataset keys (HKDF-SHA256) ------------------------------------------------------------------

def test_each_dataset_gets_its_own_hkdf_key():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from casanare.privacy.pseudonym import derive_key

    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                    info=b"casanare-seudonimos/v1/vacunacion_pai").derive(KEY)
    assert derive_key(KEY, "vacunacion_pai") == expected
    assert derive_key(KEY, "vacunacion_pai") != derive_key(KEY, "matricula_escolar")
    assert derive_key(KEY, "vacunacion_pai") != KEY
    with pytest.raises(ClaveInvalida):
        derive_key(b"corta", "vacunacion_pai")


def _dataset(slug: str, grupo: str | None = None):
    from pathlib import Path

    import yaml

    from casanare.catalog import Dataset

    data = yaml.safe_load((Path(__file__).resolve().parents[1] / "fixtures" / "catalogo_valido.yaml").read_text())
    data["slug"] = slug
    if grupo:
        data["grupo_seudonimos"] = grupo
    return Dataset.model_validate(data)


def test_same_person_is_unlinkable_across_datasets_unless_they_share_a_group():
    from datetime import date

    from casanare.privacy.rules import apply_rules

    frame = pd.DataFrame({"id_registro": [1, 2], "cedula": ["1098765432", "52123456"], "nombre": ["A", "B"],
                          "edad": [30, 40], "codigo_municipio": ["85001", "85001"], "valor": [1.0, 2.0],
                          "fecha": pd.to_datetime(["2025-01-01"] * 2)})

    def ids(ds):
        out, report = apply_rules(frame, ds, key=KEY, reference=date(2026, 1, 1))
        return list(out["id_persona"]), report

    salud, _ = ids(_dataset("conjunto_salud"))
    educacion, _ = ids(_dataset("conjunto_educacion"))
    assert not set(salud) & set(educacion)
    # The master key itself is never used: the old, linkable pseudonym does not appear.
    assert pseudonym("1098765432", KEY) not in salud
    grupo_a, report = ids(_dataset("conjunto_salud", grupo="salud_educacion"))
    grupo_b, _ = ids(_dataset("conjunto_educacion", grupo="salud_educacion"))
    assert grupo_a == grupo_b and report["grupo_seudonimos"] == "salud_educacion"
    assert set(grupo_a).isdisjoint(salud)
