"""Vectorized candidate masks for the PII scan: RE2 (``pyarrow.compute``) over whole columns.

The exact detectors in :mod:`casanare.privacy.detectors` are Python regexes, phonenumbers and
python-stdnum, one value at a time: on a 1M-row column of unique ids that took minutes. Here
each detector gets a *superset* test that runs over the whole Arrow array at C speed; only the
values it flags go through the exact detectors. A value the prefilter drops can't produce a
span in the exact detector, so the decisions are the same (see ``tests/unit/
test_equivalencia_rendimiento.py``) and nothing is sampled.

Why each mask is a superset of its detector:

* e-mail: every match of ``EMAIL_RE`` contains ``@``;
* NIT / labelled document: the same patterns without look-arounds (RE2 has none), with looser
  spacing, on the ASCII view (:func:`ascii_view`: accented letters become ``a``, so the labels
  allow any character where Spanish writes an accent);
* phones (phonenumbers, region CO, leniency VALID): a valid number is either written with ``+``
  or has the length and leading digits of a CO number in phonenumbers' metadata (8 digits from
  46, 10 from 3x/60/90/94/19, 11 from 18/19), or 8–16 digits starting with a national prefix
  ``0`` or the country code ``57``. phonenumbers only considers a whole run of digits and
  separators, or a piece of it cut at spaces, dots, slashes, brackets, ``x``/``#`` (extensions)
  or dashes; so a value none of whose runs or pieces qualifies can't hold a valid number;
* weak spans: their patterns without look-arounds (``\\d{6}``, dotted thousands, phone shapes);
* names: a person's name or a run of names needs two words of three or more letters that are
  in the names list (hyphenated names are split into their parts on both sides).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# The digit, space and punctuation patterns run on an ASCII view of the values (see
# :func:`ascii_view`): RE2 is ~100× slower with Unicode classes such as ``\p{Nd}``.
_D = "[0-9]"
_S = r"[\s\x1c-\x1f\x0b]"
_L = r"[\pL\p{M}]"
EMAIL = "@"
NIT = rf"{_D}{{3}}[.]?{_S}*{_D}{{3}}[.]?{_S}*{_D}{{3}}{_S}*[-‐‑‒–—―−]{_S}*{_D}"
# On the ASCII view accented letters are "a": "cédula" reads "cadula", hence ``c.?dula``.
LABEL = (
    rf"(?i)(c.?dula|c\.{_S}*c|\bcc\b|c\.{_S}*e|documento|identificad|tarjeta|\bt\.{_S}*i|\bti\b|\bnit\b"
    r"|identificaci)"
)
PHONE_SHAPE = rf"(?:3{_D}{{2}}|60{_D})\)?(?:{_S}|[.-])?{_D}{{3}}(?:{_S}|[.-])?{_D}{{4}}"
DOTTED = rf"{_D}{{1,3}}(?:\.{_D}{{3}}){{2,3}}"
BARE = rf"{_D}{{6}}"
PSEUDONYM = r"^P[0-9a-f]{24}$"
# phonenumbers' VALID_PUNCTUATION plus white space: what may sit between the digits of a number.
_PHONE_PUNCT = r"\-x()./\[\]~\s"
# Where phonenumbers cuts a candidate into the pieces it also tries ("inner matches").
_PIECE_CUT = r"\s\x1c-\x1f\x0b./()\[\]xX#~\-"
_INNER_CUT = r"/("
# The digits of a part, by length and leading digits, that can be a valid CO number (phonenumbers'
# metadata): fixed 46 + 6 or 60 + 8 digits, mobile 3x + 8 (9408…), premium 19…/901…, toll-free
# 1800…; or 8–16 digits after a national prefix 0 or the country code 57.
_NATIONAL = (
    "(?:4{N}*6(?:{N}*{D}){{6}}|(?:3{N}*[0-357]|6{N}*0|9{N}*[04]|1{N}*9)(?:{N}*{D}){{8}}"
    "|1{N}*[89](?:{N}*{D}){{9}}|0(?:{N}*{D}){{7,15}}|5{N}*7(?:{N}*{D}){{6,14}})"
)


def _part_pattern(part_chars: str, *, negate: bool) -> str:
    """A part (maximal run of ``part_chars``, or of characters not in it) whose digits can be a phone."""
    digit = "0-9"
    inside = f"[^{part_chars}{digit}]" if negate else f"[{part_chars}]"
    outside = f"[{part_chars}]" if negate else f"[^{digit}{part_chars}]"
    body = _NATIONAL.format(N=inside, D=_D)
    return f"(?:^|{outside}){inside}*{body}{inside}*(?:{outside}|$)"


_PHONE_PARTS = (
    _part_pattern(f"+{_PHONE_PUNCT}", negate=False),  # whole runs of digits and punctuation
    _part_pattern(_PIECE_CUT.replace(r"\-", ""), negate=True),  # pieces between spaces, dots, slashes, brackets…
    _part_pattern(_PIECE_CUT, negate=True),  # …and hyphens
    _part_pattern(_INNER_CUT, negate=True),  # pieces between slashes and brackets
    _part_pattern(_INNER_CUT + r"\-", negate=True),  # …and hyphens
)
# Unicode punctuation phonenumbers accepts, mapped to the ASCII character with the same role.
_TO_ASCII = (
    (r"[\p{Z}\x{85}\x{ad}\x{200b}\x{2060}]", " "),
    ("[‐-―−ー－]", "-"),
    ("[／]", "/"),
    ("[（［]", "("),
    ("[）］]", ")"),
    ("[⁓∼～]", "~"),
)
_TWO_WORDS = rf"{_L}{{3,}}[^\pL\p{{M}}]+(?:{_L}+[^\pL\p{{M}}]+)*?{_L}{{3,}}"


def matches(values: pa.Array, pattern: str) -> np.ndarray:
    return _np(pc.match_substring_regex(values, pattern))


def contains(values: pa.Array, text: str) -> np.ndarray:
    return _np(pc.match_substring(values, text))


def _np(mask: pa.Array) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def is_pseudonym(values: pa.Array) -> np.ndarray:
    return matches(values, PSEUDONYM)


def ascii_view(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The values with every non-ASCII character replaced by an ASCII one of the same role.

    NFKC first (full-width digits become digits), then Unicode spaces and dashes become ASCII
    ones and any other non-ASCII character becomes ``a`` (a letter: it neither joins nor cuts
    a number). Values that still hold a non-ASCII digit (Arabic-Indic…) are returned in the
    mask: callers treat them as candidates.
    """
    ascii_mask = _np(pc.string_is_ascii(values))
    odd = np.zeros(len(values), dtype=bool)
    if ascii_mask.all():
        return values, odd
    idx = np.flatnonzero(~ascii_mask)
    sub = pc.utf8_normalize(values.take(pa.array(idx)), form="NFKC")
    for pattern, replacement in _TO_ASCII:
        sub = pc.replace_substring_regex(sub, pattern, replacement)
    odd[idx] = _np(pc.match_substring_regex(pc.replace_substring_regex(sub, "[0-9]", ""), r"\p{Nd}"))
    sub = pc.replace_substring_regex(sub, r"[^\x00-\x7f]", "a")
    order = np.concatenate([np.flatnonzero(ascii_mask), idx])
    merged = pa.concat_arrays([values.filter(pa.array(ascii_mask)).cast(pa.string()), sub.cast(pa.string())])
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return merged.take(pa.array(inverse)), odd


def strong_candidates(values: pa.Array) -> np.ndarray:
    """Values that might hold an e-mail, a valid NIT, a labelled document or a valid phone."""
    view, odd = ascii_view(values)
    return odd | contains(values, EMAIL) | matches(view, LABEL) | matches(view, NIT) | phone_candidates(view)


def weak_candidates(values: pa.Array) -> np.ndarray:
    """Values that might hold a weak document or phone-shaped span."""
    view, odd = ascii_view(values)
    return odd | matches(view, BARE) | matches(view, DOTTED) | matches(view, PHONE_SHAPE)


def phone_candidates(view: pa.Array) -> np.ndarray:
    """Values (ASCII view) with a digit run, or a piece of one, that can be a valid phone number."""
    result = contains(view, "+") & matches(view, rf"\+[^0-9]{{0,4}}{_D}")
    for pattern in _PHONE_PARTS:
        result |= matches(view, pattern)
    return result


def fold(values: pa.Array) -> pa.Array:
    """Upper case without accents (the vectorized twin of ``detectors.fold``)."""
    decomposed = pc.utf8_normalize(values, form="NFKD")
    return pc.utf8_upper(pc.replace_substring_regex(decomposed, r"\p{M}+", ""))


def name_candidates(values: pa.Array, names: pa.Array, *, free_text: bool) -> np.ndarray:
    """Values with at least two words in the names list (person names, or name runs in free text)."""
    base = matches(values, _TWO_WORDS)
    if not free_text:
        base &= ~matches(values, _D)  # a whole-value person name has no digits
    idx = np.flatnonzero(base)
    out = np.zeros(len(values), dtype=bool)
    if idx.size == 0 or len(names) == 0:
        return out
    words = pc.split_pattern_regex(fold(values.take(pa.array(idx))), r"[^\pL]+")
    flat = pc.list_flatten(words)
    owner = pc.list_parent_indices(words).to_numpy(zero_copy_only=False)
    known = _np(pc.is_in(flat, value_set=names))
    counts = np.bincount(owner[known], minlength=idx.size)
    out[idx[counts >= 2]] = True
    return out


def name_parts(names: frozenset[str]) -> pa.Array:
    """The names list plus the parts of hyphenated or apostrophed names, as an Arrow set."""
    parts = set(names)
    for name in names:
        parts.update(p for p in name.replace("'", "-").split("-") if p)
    return pa.array(sorted(parts), type=pa.string())
