"""Colombian personal-identifier detectors over one piece of text.

Shared by the free-text redaction (through Presidio recognizers) and by the PII scan gate, so
both see exactly the same things. Each detector returns spans ``(kind, start, end, strong)``:

* strong spans are unambiguous (an e-mail, a valid CO phone number, a NIT whose check digit is
  valid, a number introduced by "cédula", "C.C.", "T.I.", "documento", "NIT"…);
* weak spans could also be something legitimate (a bare 6–11 digit number could be a cédula or a
  tarjeta de identidad but also a radicado; two given names in a row could be a person or a
  school named after one). The scan only acts on weak spans when they are frequent in a column.

Nothing here logs or returns values outside the spans the caller already owns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import phonenumbers
from stdnum.co import nit as stdnum_nit

# Kinds reported by the detectors (Spanish, they reach the manifest and the failure e-mail).
CORREO = "correo"
TELEFONO = "telefono"
NIT = "nit"
DOCUMENTO = "numero_documento"  # cédula (3–10 digits) or tarjeta de identidad (10–11 digits)
NOMBRE = "nombre"

PSEUDONYM_RE = re.compile(r"^P[0-9a-f]{24}$")

EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)

# A document number introduced by its label: "C.C. 1.098.765.432", "identificado con cédula 123456",
# "T.I. No. 1001234567", "documento: 98765432", "NIT 900123456-8".
_DOC_LABEL = (
    r"(?:c[ée]dula(?:\s+de\s+(?:ciudadan[íi]a|extranjer[íi]a))?|\bc\.\s?c\.?|\bcc\b|\bc\.e\.?"
    r"|documento(?:\s+de\s+identidad)?|identificad[oa]\s+con(?:\s+(?:la\s+)?c[ée]dula)?"
    r"|tarjeta\s+de\s+identidad|\bt\.\s?i\.?|\bti\b|\bnit\b|n[uú]mero\s+de\s+identificaci[oó]n)"
)
LABELLED_DOC_RE = re.compile(
    _DOC_LABEL
    + r"[\s:#]*(?:(?:no|n[°º]|nro|n[uú]mero)\.?[\s:#]*)?"
    + r"(?P<num>\d{1,3}(?:[.\s]\d{3}){1,3}|\d{5,11})(?:\s?-\s?\d)?(?!\d)",
    re.IGNORECASE,
)
# Dotted thousands like a cédula written by hand (1.098.765.432, 98.765.432), not money ($ 1.500.000,00).
DOTTED_NUM_RE = re.compile(r"(?<![\d.,$])(?<!\$\s)\d{1,3}(?:\.\d{3}){2,3}(?![\d]|[.,]\d)")
# Bare 6–11 digit run standing alone (not part of a code like PQRSD-2024-000123 or a decimal).
BARE_NUM_RE = re.compile(r"(?<![\w.,$/-])(?<!\$\s)\d{6,11}(?![\w/-]|[.,]\d)")
# Phone-shaped numbers (mobile 3xx, landline 60x) even if the prefix isn't assigned: weak.
PHONE_SHAPE_RE = re.compile(r"(?<![\w.,$/-])(?:\+?57[\s-]?)?\(?(?:3\d{2}|60\d)\)?[\s.-]?\d{3}[\s.-]?\d{4}(?![\w/-]|[.,]\d)")
# NIT: 9 digits (optionally dotted) + check digit after a dash.
NIT_RE = re.compile(r"(?<![\w.])(?P<base>\d{3}\.?\d{3}\.?\d{3})\s?-\s?(?P<dv>\d)(?![\w])")

CONNECTORS = frozenset({"DE", "DEL", "LA", "LAS", "LOS", "Y"})
_WORD_RE = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*", re.UNICODE)
NAMES_FILE = "nombres_colombianos.txt"


@dataclass(frozen=True)
class Span:
    """One detected identifier inside a text (positions only, never the value)."""

    kind: str
    start: int
    end: int
    strong: bool


def fold(text: str) -> str:
    """Upper case without accents (ñ keeps its tilde only in spirit: Ñ → N)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper()


def is_pseudonym(text: str) -> bool:
    return bool(PSEUDONYM_RE.match(text))


def nit_is_valid(base: str, check: str) -> bool:
    digits = re.sub(r"\D", "", base)
    return len(digits) == 9 and stdnum_nit.is_valid(digits + check)


def identifier_spans(text: str) -> list[Span]:
    """Every e-mail, CO phone, valid NIT and document number found in ``text``."""
    spans: list[Span] = [Span(CORREO, m.start(), m.end(), True) for m in EMAIL_RE.finditer(text)]
    for m in NIT_RE.finditer(text):
        if nit_is_valid(m.group("base"), m.group("dv")):
            spans.append(Span(NIT, m.start(), m.end(), True))
    for m in LABELLED_DOC_RE.finditer(text):
        spans.append(Span(DOCUMENTO, m.start("num"), m.end(), True))
    if any(ch.isdigit() for ch in text):
        for match in phonenumbers.PhoneNumberMatcher(text, "CO", leniency=phonenumbers.Leniency.VALID):
            spans.append(Span(TELEFONO, match.start, match.end, True))
        spans.extend(Span(TELEFONO, m.start(), m.end(), False) for m in PHONE_SHAPE_RE.finditer(text))
        spans.extend(Span(DOCUMENTO, m.start(), m.end(), False) for m in DOTTED_NUM_RE.finditer(text))
        spans.extend(Span(DOCUMENTO, m.start(), m.end(), False) for m in BARE_NUM_RE.finditer(text))
    return _drop_covered(spans)


def _drop_covered(spans: list[Span]) -> list[Span]:
    """Keep strong spans over weak ones covering the same characters."""
    strong = [s for s in spans if s.strong]
    weak = [s for s in spans if not s.strong and not any(t.start <= s.start and s.end <= t.end for t in strong)]
    return strong + weak


# Names ------------------------------------------------------------------------------------------


def load_names(path: Path) -> frozenset[str]:
    """Read the list of common Colombian given names and surnames (folded, one token per entry).

    Lines starting with ``#`` are comments; a line may hold several tokens ("DE LA HOZ"), and an
    optional ``tipo;nombre`` or ``nombre,tipo`` shape is tolerated (only the name part is used).
    """
    tokens: set[str] = set()
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in re.split(r"[;,\t]", line) if p.strip()]
        for part in parts:
            for word in _WORD_RE.findall(fold(part)):
                if len(word) >= 3 and word not in CONNECTORS and word not in _NOT_NAMES:
                    tokens.add(word)
    return frozenset(tokens)


# Words a names list may carry as a column label or type marker, never as a person's name.
_NOT_NAMES = frozenset({"NOMBRE", "NOMBRES", "APELLIDO", "APELLIDOS", "TIPO", "MUJER", "HOMBRE", "FEMENINO",
                        "MASCULINO", "GIVEN", "SURNAME"})


@lru_cache(maxsize=4)
def names_from_reference(reference_dir: str) -> frozenset[str]:
    path = Path(reference_dir) / NAMES_FILE
    return load_names(path) if path.is_file() else frozenset()


def _words(text: str) -> list[tuple[str, int, int, bool]]:
    """(folded word, start, end, starts with a capital) for each word of ``text``."""
    return [(fold(m.group()), m.start(), m.end(), m.group()[0].isupper()) for m in _WORD_RE.finditer(text)]


def is_person_name(text: str, names: frozenset[str]) -> bool:
    """The whole value looks like a person's name: 2–6 words, every one a known name or connector."""
    words = [w for w, *_ in _words(text)]
    if re.search(r"\d", text) or not 2 <= len(words) <= 6:
        return False
    known = [w for w in words if w not in CONNECTORS]
    return len(known) >= 2 and all(w in names for w in known)


# A run of names right after one of these words names a place or an institution after a person
# ("Vía Luis Carlos Galán", "Colegio Camilo Torres", "Hospital Juan Hernando Urrego"), not a person.
EPONYM_WORDS = frozenset({
    "VIA", "AVENIDA", "AV", "CALLE", "CARRERA", "CRA", "KR", "CL", "DIAGONAL", "TRANSVERSAL", "AUTOPISTA",
    "CARRETERA", "TRONCAL", "MARGINAL", "PUENTE", "PARQUE", "PLAZA", "PLAZOLETA", "BARRIO", "URBANIZACION",
    "VEREDA", "CORREGIMIENTO", "INSPECCION", "COLEGIO", "MEGACOLEGIO", "ESCUELA", "INSTITUCION", "EDUCATIVA",
    "CONCENTRACION", "ESCOLAR", "LICEO", "GIMNASIO", "UNIVERSIDAD", "SENA", "HOSPITAL", "CLINICA", "CENTRO",
    "SEDE", "ESE", "IPS", "ESTADIO", "COLISEO", "POLIDEPORTIVO", "CANCHA", "BIBLIOTECA", "CASA", "FUNDACION",
    "ASOCIACION", "CORPORACION", "COOPERATIVA", "AEROPUERTO", "TERMINAL", "CONJUNTO", "EDIFICIO", "BATALLON",
    "IGLESIA", "PARROQUIA", "CAPILLA", "HOGAR", "JARDIN", "INFANTIL", "SAN", "SANTA", "SANTO", "PREMIO",
    "ORDEN", "MEDALLA", "CATEDRA", "PROGRAMA", "PLAN", "LEY", "DECRETO", "CONDECORACION",
})


def name_spans(text: str, names: frozenset[str]) -> list[Span]:
    """Runs of ≥ 2 capitalized known names in free text ("… la señora Luz Marina Rojas Pérez …").

    A run that follows a place or institution word (:data:`EPONYM_WORDS`, connectors between
    them allowed: "Institución Educativa de San Luis") is an eponym and is not reported.
    """
    spans: list[Span] = []
    run: list[tuple[int, int]] = []
    previous = ""  # last word before the current run that is not a connector
    eponym = False

    def close() -> None:
        if len(run) >= 2 and not eponym:
            spans.append(Span(NOMBRE, run[0][0], run[-1][1], False))

    for word, start, end, capital in _words(text):
        if word in CONNECTORS:
            continue  # "María de los Ángeles": connectors don't break a name
        if capital and word in names:
            if not run:
                eponym = previous in EPONYM_WORDS
            run.append((start, end))
        else:
            close()
            run = []
        previous = word
    close()
    return spans


def merge(spans: Iterable[Span]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping character ranges covering every span."""
    ranges: list[tuple[int, int]] = []
    for s in sorted(spans, key=lambda s: (s.start, s.end)):
        if ranges and s.start <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], s.end))
        else:
            ranges.append((s.start, s.end))
    return ranges
