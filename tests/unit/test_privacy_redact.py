"""Free-text redaction with Presidio (NoOp NLP engine) and the Colombian recognizers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from casanare.privacy import detectors
from casanare.privacy.redact import REDACTED, analyzer, redact, redact_free_text

pytestmark = pytest.mark.unit
NAMES = detectors.load_names(Path(__file__).resolve().parents[2] / "include" / "reference" / "nombres_colombianos.txt")


def test_presidio_runs_offline_with_only_our_recognizers():
    engine = analyzer(NAMES)
    assert type(engine.nlp_engine).__name__ == "NoOpNlpEngine"
    names = {r.name for r in engine.registry.recognizers}
    assert names == {"ColombianIdentifierRecognizer", "ColombianNameRecognizer"}


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("El contratista identificado con cédula 1098765432 solicita pago", "1098765432"),
        ("Peticionario C.C. No. 1.098.765.432 de Yopal", "1.098.765.432"),
        ("Menor con T.I. 1001234567 reportado", "1001234567"),
        ("Empresa con NIT 900123456-8 adjudicataria", "900123456-8"),
        ("Comunicarse al celular 310 123 4567", "310 123 4567"),
        ("Teléfono fijo (608) 634 5678 en Yopal", "634 5678"),
        ("notificaciones al correo luz.rojas_77@gmail.com por favor", "luz.rojas_77@gmail.com"),
        ("Reporta la señora Luz Marina Rojas Pérez desde la vereda", "Luz Marina Rojas"),
        ("Atendido por JUAN CARLOS GÓMEZ CHAPARRO en la sede", "JUAN CARLOS GÓMEZ"),
    ],
)
def test_identifiers_in_free_text_are_replaced(text, secret):
    out, count = redact(text, NAMES)
    assert secret not in out
    assert REDACTED in out and count >= 1


@pytest.mark.parametrize(
    "text",
    [
        "Radicado PQRSD-2024-000123 del municipio 85001",
        "Valor del contrato $ 1.500.000,00 vigencia 2025",
        "Vía Yopal - Aguazul, kilómetro 12, vereda La Chaparrera",
        "Solicito información sobre la convocatoria",
    ],
)
def test_legitimate_text_is_left_alone(text):
    assert redact(text, NAMES) == (text, 0)


def test_column_redaction_counts_and_keeps_nulls():
    values = pd.Series(["llamar al 3101234567", None, "sin datos", "llamar al 3101234567"])
    out, count = redact_free_text(values, NAMES)
    assert count == 2 and pd.isna(out[1]) and out[2] == "sin datos"
    assert not out.dropna().str.contains("3101234567").any()
