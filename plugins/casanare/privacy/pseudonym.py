"""Keyed pseudonyms: HMAC-SHA256 over a normalized identifier.

Format: ``"P" + 24 lowercase hex characters`` (the first 96 bits of
``HMAC-SHA256(key, normalized_value)``), e.g. ``P3f9a0c…``. The same person gets the same
pseudonym in every run and every dataset as long as the key is the same; without the key the
pseudonym can't be linked back (DANE's rules: one pseudonym per person, keyed technique).
Normalization: identifiers made only of digits, dots, dashes and spaces keep just their digits
(``1.098.765.432`` ≡ ``1098765432``); any other text is trimmed, upper-cased and accent-folded.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

PREFIX = "P"
HEX_CHARS = 24
MIN_KEY_BYTES = 16


class ClaveInvalida(ValueError):
    """The pseudonymization key is missing or too short."""


def check_key(key: bytes | str | None) -> bytes:
    if key is None or len(key) == 0:
        raise ClaveInvalida("falta la clave de seudonimización (conexión clave_seudonimizacion)")
    raw = key.encode("utf-8") if isinstance(key, str) else key
    if len(raw) < MIN_KEY_BYTES:
        raise ClaveInvalida(f"la clave de seudonimización debe tener al menos {MIN_KEY_BYTES} bytes")
    return raw


def normalize_identifier(value: object) -> str:
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if re.fullmatch(r"[\d.\-\s]+", text):
        return re.sub(r"\D", "", text)
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", folded).upper()


def pseudonym(value: object, key: bytes) -> str:
    digest = hmac.new(key, normalize_identifier(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:HEX_CHARS]
