"""Keyed pseudonyms: HMAC-SHA256 over a normalized identifier, with one key per dataset.

Per-dataset keys: the master key (connection ``clave_seudonimizacion``) is never used directly.
Each dataset's key is ``HKDF-SHA256(master, salt=None, info="casanare-seudonimos/v1/" + domain)``
where ``domain`` is the dataset's slug, or its declared ``grupo_seudonimos`` when the catalog
makes two datasets linkable on purpose. So the same person gets unrelated pseudonyms in
vaccination and school enrolment, and nobody can join the two without the master key.

Format: ``"P" + 24 lowercase hex characters`` (the first 96 bits of
``HMAC-SHA256(key, normalized_value)``), e.g. ``P3f9a0c5e7d21b84a9c0e6f13``; 25 characters in
all. 96 bits keep collisions negligible (≈ 10^-15 for ten million people) while staying short.
The same person gets the same pseudonym in every run of one dataset (or group) as long as the master
key is the same; without the key the pseudonym can't be linked back (DANE's rules: one pseudonym per person, keyed technique).
Normalization: identifiers made only of digits, dots, dashes and spaces keep just their digits
(``1.098.765.432`` ≡ ``1098765432``); a trailing NIT check digit after a dash is dropped first
(``1098765432-1`` ≡ ``1098765432``, so a person's NIT and cédula share the pseudonym); any other
text is trimmed, upper-cased and accent-folded.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from casanare.errors import ErrorDeConfiguracion

PREFIX = "P"
HEX_CHARS = 24
MIN_KEY_BYTES = 32  # 256 bits: HMAC-SHA256's full strength
DERIVED_KEY_BYTES = 32
# Versioned label: changing the derivation scheme changes every pseudonym, like a key rotation.
HKDF_INFO_PREFIX = "casanare-seudonimos/v1/"


class ClaveInvalida(ErrorDeConfiguracion, ValueError):
    """The pseudonymization key is missing or too short (a configuration failure, not retried)."""


def check_key(key: bytes | str | None) -> bytes:
    """Return the key as bytes, or raise :class:`ClaveInvalida` (the key itself is never shown)."""
    fix = (
        f"Configure en la conexión de Airflow 'clave_seudonimizacion' (campo password) una clave aleatoria de al "
        f"menos {MIN_KEY_BYTES} caracteres, por ejemplo: python -c \"import secrets; print(secrets.token_urlsafe(48))\". "
        "Use siempre la misma clave: cambiarla cambia todos los seudónimos."
    )
    if key is None or len(key) == 0:
        raise ClaveInvalida("Falta la clave de seudonimización (conexión clave_seudonimizacion).", como_corregir=fix)
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(raw) < MIN_KEY_BYTES:
        raise ClaveInvalida(
            f"La clave de seudonimización es demasiado corta: debe tener al menos {MIN_KEY_BYTES} bytes.",
            como_corregir=fix,
        )
    return raw


def normalize_identifier(value: object) -> str:
    """Canonical text of an identifier, so formatting differences don't split a person in two."""
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if re.fullmatch(r"[\d.\-\s]+", text):
        text = re.sub(r"\s*-\s*\d$", "", text)  # NIT check digit
        return re.sub(r"\D", "", text)
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", folded).upper()


def pseudonym(value: object, key: bytes) -> str:
    """``P`` + the first 24 hex characters of HMAC-SHA256(key, normalized value)."""
    digest = hmac.new(key, normalize_identifier(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:HEX_CHARS]


def derive_key(master: bytes | str | None, domain: str) -> bytes:
    """Key of one pseudonym domain (a dataset slug or a declared ``grupo_seudonimos``).

    HKDF-SHA256 (RFC 5869) with the domain as ``info``: keys of different domains are independent,
    so pseudonyms of one dataset reveal nothing about another's.
    """
    if not domain:
        raise ValueError("el dominio de seudónimos no puede estar vacío")
    checked = check_key(master)
    hkdf = HKDF(algorithm=hashes.SHA256(), length=DERIVED_KEY_BYTES, salt=None,
                info=(HKDF_INFO_PREFIX + domain).encode("utf-8"))
    return hkdf.derive(checked)
