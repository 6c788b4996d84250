"""Numbers written the Colombian way, read column by column with Arrow compute (no per-value loop).

A column has ONE convention: which character is the decimal separator and which groups
thousands. Colombia writes ``1.234.567,89`` (decimal comma, thousands dot), but many systems export
``1,234,567.89``. The convention is declared in the catalog (``separador_decimal`` /
``separador_miles``) or inferred from the evidence of the WHOLE column: ``1.234.567`` or
``1.234,5`` prove a decimal comma, ``1,234,567`` or ``1,234.5`` a decimal point. Values such as
``850.000`` prove nothing on their own and are read with the column's convention (Colombian by
default). A value that only makes sense under the other convention is an error naming its row:
it is never read 1000 times too small or too large.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SIGN = r"^[-+]?"
# Thousands groups must be exact: 1-3 leading digits, then groups of exactly three.
_DOT_GROUPS = r"\d{1,3}(\.\d{3})+"
_COMMA_GROUPS = r"\d{1,3}(,\d{3})+"
# Evidence of a decimal comma: "1.234,5", "0,75", "1234,5", "12,50"; "1,234" (one comma group) is
# ambiguous and is left out.
_EV_COMMA = [SIGN + _DOT_GROUPS + r",\d+$", SIGN + _DOT_GROUPS.replace("+", "{2,}") + "$"]
_EV_DOT = [SIGN + _COMMA_GROUPS + r"\.\d+$", SIGN + _COMMA_GROUPS.replace("+", "{2,}") + "$"]
_ONE_COMMA = SIGN + r"\d+,\d+$"
_ONE_DOT = SIGN + r"\d+\.\d+$"
_AMBIGUOUS_COMMA = SIGN + r"[1-9]\d{0,2},\d{3}$"
_AMBIGUOUS_DOT = SIGN + r"[1-9]\d{0,2}\.\d{3}$"
MAX_INT_DIGITS = 18  # int64 holds any 18-digit number


@dataclass(frozen=True)
class Convencion:
    """A column's number format: ``decimal`` is "," or "."; ``miles`` is ".", ",", " " or ""."""

    decimal: str = ","
    miles: str = "."
    origen: str = "por defecto"

    def ejemplo(self) -> str:
        """How a value is written under this convention, e.g. ``1.234.567,89``."""
        return f"1{self.miles}234{self.miles}567{self.decimal}89"

    def describir(self) -> str:
        nombres = {",": "coma", ".": "punto", " ": "espacio", "": "ninguno"}
        miles = f"separador de miles {nombres[self.miles]}" if self.miles else "sin separador de miles"
        return f"{nombres[self.decimal]} decimal y {miles} (por ejemplo {self.ejemplo()})"

    def as_dict(self) -> dict[str, str]:
        return {"separador_decimal": self.decimal, "separador_miles": self.miles, "origen": self.origen}


@dataclass
class Evidencia:
    """Counts of values that only make sense with a decimal comma or with a decimal point."""

    coma: int = 0
    punto: int = 0

    def add(self, other: Evidencia) -> None:
        self.coma += other.coma
        self.punto += other.punto


def to_arrow_strings(values: object) -> pa.Array:
    """An Arrow string array from a pandas Series / list of str-or-None (CSV cells)."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    import pandas as pd

    if isinstance(values, pd.Series):
        values = values.to_numpy(dtype=object, na_value=None)
    return pa.array(values, type=pa.string(), from_pandas=True)


def _has(values: pa.Array, needle: str) -> bool:
    """Whether any value may contain ``needle``: one byte search over the array's data buffer.

    The buffer of a sliced or filtered array can hold bytes of values outside it, so a True may
    be a false alarm; it only gates a cleaning pass that then changes nothing, never a result.
    """
    if values.type != pa.string():
        return bool(pc.any(pc.match_substring(values, needle)).as_py())
    data = values.buffers()[2]
    return data is not None and needle.encode("utf-8") in data.to_pybytes()


def clean(values: pa.Array) -> pa.Array:
    """Drop currency signs and spaces (also non-breaking ones), ``(1.234)`` → ``-1.234``.

    Each regex pass runs only when some value needs it: most exports have neither.
    """
    if any(_has(values, ch) for ch in (" ", "\u00a0", "\u202f", "$", "\t")):
        values = pc.replace_substring_regex(values, r"[\s\x{00A0}\x{202F}$]", "")
    if _has(values, "("):
        values = pc.replace_substring_regex(values, r"^\((.*)\)$", r"-\1")
    return values


def _count(mask: pa.Array) -> int:
    return int(pc.sum(pc.cast(pc.fill_null(mask, False), pa.int64())).as_py() or 0)


def evidence(cleaned: pa.Array) -> Evidencia:
    """How many cleaned values prove each convention (vectorized).

    Separator counts (plain substring counts) route each value to the one regex that can
    decide it, so a million-value column costs about one regex pass, not eight.
    """
    dots = pc.fill_null(pc.count_substring(cleaned, "."), 0)
    commas = pc.fill_null(pc.count_substring(cleaned, ","), 0)

    def proof(sep: pa.Array, other: pa.Array, strong: list[str], one: str, ambiguous: str) -> int:
        # Both separators: the pattern (groups, then the decimal) decides; one separator twice or more:
        # thousands groups; one separator once: a decimal unless it looks like a thousands group.
        both = pc.and_(pc.greater(sep, 0), pc.greater(other, 0))
        repeated = pc.and_(pc.greater(other, 1), pc.equal(sep, 0))
        once = pc.and_(pc.equal(sep, 1), pc.equal(other, 0))
        total = 0
        for mask, test in ((both, lambda v: pc.match_substring_regex(v, strong[0])),
                           (repeated, lambda v: pc.match_substring_regex(v, strong[1])),
                           (once, lambda v: pc.and_kleene(pc.match_substring_regex(v, one),
                                                          pc.invert(pc.match_substring_regex(v, ambiguous))))):
            subset = cleaned.filter(mask)
            if len(subset):
                total += _count(test(subset))
        return total

    return Evidencia(coma=proof(commas, dots, _EV_COMMA, _ONE_COMMA, _AMBIGUOUS_COMMA),
                     punto=proof(dots, commas, _EV_DOT, _ONE_DOT, _AMBIGUOUS_DOT))


def decide(ev: Evidencia, decimal: str | None = None, miles: str | None = None) -> Convencion:
    """The column's convention: the catalog's declaration, else the majority, else Colombian."""
    if decimal:
        return Convencion(decimal, miles if miles is not None else ("." if decimal == "," else ","), "catálogo")
    if miles:
        return Convencion("," if miles != "," else ".", miles, "catálogo")
    if ev.punto > ev.coma:
        return Convencion(".", ",", "inferida")
    if ev.coma:
        return Convencion(",", ".", "inferida")
    return Convencion(",", ".", "por defecto")


def _valid_pattern(conv: Convencion, integer: bool) -> str:
    esc = {".": r"\.", ",": ",", " ": " ", "": ""}
    whole = r"\d+"
    if conv.miles and conv.miles != " ":  # spaces were removed by clean()
        whole = rf"(\d+|\d{{1,3}}({esc[conv.miles]}\d{{3}})+)"
    fraction = rf"({esc[conv.decimal]}0+)?" if integer else rf"({esc[conv.decimal]}\d+)?"
    return SIGN + whole + fraction + "$"


@dataclass
class Resultado:
    """Parsed numbers plus masks (numpy bool) of values that were not numbers."""

    valores: pa.Array
    invalidos: np.ndarray
    contradicen: np.ndarray  # subset of invalidos: valid under the other convention


def parse(cleaned: pa.Array, conv: Convencion, *, integer: bool) -> Resultado:
    """Read cleaned strings with ``conv``; nulls stay null and are not errors."""
    present = pc.is_valid(cleaned)
    valid = pc.fill_null(pc.match_substring_regex(cleaned, _valid_pattern(conv, integer)), False)
    text = pc.if_else(valid, cleaned, pa.scalar(None, pa.string()))
    if conv.miles and conv.miles != " ":
        text = pc.replace_substring(text, conv.miles, "")
    if _has(text, "+"):
        text = pc.replace_substring_regex(text, r"^\+", "")
    if integer:
        if _has(text, conv.decimal):
            text = pc.replace_substring_regex(text, "[.,]0+$", "")
        too_long = pc.fill_null(pc.greater(pc.utf8_length(pc.replace_substring(text, "-", "")), MAX_INT_DIGITS),
                                False)
        valid = pc.and_(valid, pc.invert(too_long))
        text = pc.if_else(too_long, pa.scalar(None, pa.string()), text)
        values = pc.cast(text, pa.int64())
    else:
        if conv.decimal != ".":
            text = pc.replace_substring(text, conv.decimal, ".")
        values = pc.cast(text, pa.float64())
    invalid = pc.and_(present, pc.invert(valid)).to_numpy(zero_copy_only=False)
    contradicts = np.zeros(len(invalid), dtype=bool)
    if invalid.any():  # only the (rare) invalid values are tested against the other convention
        other = Convencion("." if conv.decimal == "," else ",", "," if conv.decimal == "," else ".")
        where = invalid.nonzero()[0]
        hits = pc.match_substring_regex(cleaned.take(pa.array(where)), _valid_pattern(other, integer))
        contradicts[where] = pc.fill_null(hits, False).to_numpy(zero_copy_only=False)
    return Resultado(valores=values, invalidos=invalid, contradicen=contradicts)


def is_ambiguous(cleaned: pa.Array) -> np.ndarray:
    """Values like ``850.000`` whose reading depends on the convention (for reports)."""
    mask = pc.or_kleene(pc.match_substring_regex(cleaned, _AMBIGUOUS_DOT),
                        pc.match_substring_regex(cleaned, _AMBIGUOUS_COMMA))
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
