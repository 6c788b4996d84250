"""Free-text redaction with Presidio: identifiers inside text columns are replaced before publication.

Presidio's analyzer runs fully offline: its NoOp NLP engine loads no spaCy model, and the only
recognizers registered are ours (``detectors``): e-mail, CO phones (phonenumbers, region CO), NIT
with a valid check digit (python-stdnum), cédulas and tarjetas de identidad (labelled, dotted or
bare 6–11 digit numbers) and runs of common Colombian names from
``include/reference/nombres_colombianos.txt``. Every match is replaced by ``[DATO PROTEGIDO]``.

Redaction errs on the side of privacy: a bare 6–11 digit number in free text is removed even if
it was a radicado, because free text is not where the published dataset keeps its codes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pandas as pd

from casanare.privacy import detectors

REDACTED = "[DATO PROTEGIDO]"
LANGUAGE = "es"
# Presidio entity names for our detector kinds.
ENTITIES: dict[str, str] = {
    detectors.CORREO: "EMAIL_ADDRESS",
    detectors.TELEFONO: "PHONE_NUMBER",
    detectors.NIT: "CO_NIT",
    detectors.DOCUMENTO: "CO_NUMERO_DOCUMENTO",
    detectors.NOMBRE: "PERSON",
}


def _recognizers(names: frozenset[str]) -> list[Any]:
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class ColombianIdentifierRecognizer(EntityRecognizer):
        """Cédula, tarjeta de identidad, NIT (check digit), CO phone and e-mail."""

        def load(self) -> None:  # nothing to load: pure regex + phonenumbers + stdnum
            return None

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            return [
                RecognizerResult(ENTITIES[s.kind], s.start, s.end, 1.0 if s.strong else 0.6)
                for s in detectors.identifier_spans(text)
                if ENTITIES[s.kind] in entities
            ]

    class ColombianNameRecognizer(EntityRecognizer):
        """Runs of ≥ 2 capitalized common Colombian given names / surnames."""

        def load(self) -> None:
            return None

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            if "PERSON" not in entities or not names:
                return []
            return [RecognizerResult("PERSON", s.start, s.end, 0.6) for s in detectors.name_spans(text, names)]

    identifiers = sorted(set(ENTITIES.values()) - {"PERSON"})
    return [
        ColombianIdentifierRecognizer(supported_entities=identifiers, supported_language=LANGUAGE,
                                      name="ColombianIdentifierRecognizer"),
        ColombianNameRecognizer(supported_entities=["PERSON"], supported_language=LANGUAGE,
                                name="ColombianNameRecognizer"),
    ]


@lru_cache(maxsize=2)
def analyzer(names: frozenset[str]) -> Any:
    """A Presidio AnalyzerEngine with the NoOp NLP engine and only the Colombian recognizers."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine

    engine = NoOpNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": "no_op"}])
    registry = RecognizerRegistry(recognizers=_recognizers(names), supported_languages=[LANGUAGE])
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=[LANGUAGE])


def redact(text: str, names: frozenset[str]) -> tuple[str, int]:
    """Replace every identifier in ``text``; returns the new text and how many were replaced."""
    results = analyzer(names).analyze(text=text, language=LANGUAGE, entities=list(ENTITIES.values()))
    if not results:
        return text, 0
    spans = [detectors.Span("x", r.start, r.end, True) for r in results]
    ranges = detectors.merge(spans)
    out = text
    for start, end in reversed(ranges):
        out = out[:start] + REDACTED + out[end:]
    return out, len(ranges)


def redact_free_text(values: pd.Series, names: frozenset[str]) -> tuple[pd.Series, int]:
    """Redact a text column (each distinct value analyzed once). Returns the column and the count."""
    cache: dict[str, tuple[str, int]] = {}
    total = 0

    def clean(value: Any) -> Any:
        nonlocal total
        if value is None or pd.isna(value):
            return None
        text = str(value)
        if text not in cache:
            cache[text] = redact(text, names)
        redacted, count = cache[text]
        total += count
        return redacted

    return values.map(clean).astype("string"), total
