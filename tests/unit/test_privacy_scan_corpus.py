"""The two corpora of the final scan: red-team cases all block, false positives never block.

``tests/fixtures/corpus_escaneo/red_team.yaml`` hides e-mails, valid NITs, labelled documents,
phones (strong: one value is enough) and cédulas or names at 3 % of a column (weak: above the
2 % threshold). ``falsos_positivos.yaml`` holds road and school names after persons, budget lines,
SECOP contract objects, amounts, codes and dates. Also here: the per-column threshold override
and the exempt columns.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from casanare.catalog import Dataset
from casanare.errors import DatosPersonalesDetectados
from casanare.privacy import detectors, prefilter, scan

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corpus_escaneo"
FIXTURE = ROOT / "tests" / "fixtures" / "catalogo_valido.yaml"
NAMES = detectors.load_names(ROOT / "include" / "reference" / "nombres_colombianos.txt")
ROWS = 300
FILLER = "Sin novedad en la revisión del trámite"


def _cases(name: str) -> list[dict]:
    return yaml.safe_load((CORPUS / name).read_text(encoding="utf-8"))["casos"]


def build(case: dict, **column: object) -> tuple[pd.DataFrame, Dataset]:
    values = case["valores"]
    every = case.get("cada")
    filler = case.get("relleno", FILLER) if "relleno" in case else FILLER
    tipo = case.get("tipo", "texto")
    if filler is None:
        filler = 1234 if tipo == "entero" else 12.5
    if every == 1:
        cells = [values[i % len(values)] for i in range(ROWS)]
    elif every:
        cells = [values[(i // every) % len(values)] if i % every == 0 else filler for i in range(ROWS)]
    else:
        cells = [filler] * ROWS
        for i, v in enumerate(values):
            cells[7 + 11 * i] = v
    frame = pd.DataFrame({case["columna"]: cells})
    if tipo == "entero":
        frame = frame.astype("Int64")
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    regla = case.get("regla", "publicar")
    data["columnas"] = [{
        "nombre": case["columna"], "tipo": tipo, "descripcion": "Columna del corpus", "clasificacion": "publica",
        "regla": regla, **({"dato_personal": case["dato_personal"]} if case.get("dato_personal") else {}), **column,
    }]
    data["datos_gov_co"] = {"dataset_id": "test-0001"}
    data.pop("microdatos", None)  # one column, no quasi-identifiers
    return frame, Dataset.model_validate(data)


@pytest.mark.parametrize("case", _cases("red_team.yaml"), ids=lambda c: c["nombre"])
def test_red_team_case_is_blocked(case):
    frame, ds = build(case)
    with pytest.raises(DatosPersonalesDetectados) as info:
        scan.scan_frame(frame, ds, NAMES)
    assert info.value.ubicacion.columna == case["columna"]


@pytest.mark.parametrize("case", _cases("falsos_positivos.yaml"), ids=lambda c: c["nombre"])
def test_false_positive_case_passes(case):
    frame, ds = build(case)
    assert scan.scan_frame(frame, ds, NAMES)["estado"] == "sin_hallazgos"


def test_a_column_may_raise_its_weak_threshold_with_a_written_reason_that_reaches_the_report():
    case = {"columna": "observaciones", "cada": 33, "valores": ["1118555123", "74123456"]}
    override = {"umbral": 0.05, "motivo": "Radicados de 8 a 10 dígitos del sistema de correspondencia antiguo."}
    frame, ds = build(case, umbral_datos_personales=override)
    report = scan.scan_frame(frame, ds, NAMES)
    assert report["estado"] == "sin_hallazgos"
    assert report["umbrales_columna"] == {"observaciones": override}
    assert report["advertencias"]["observaciones"]["numero_documento"] == 10
    # Strong signals ignore the override: one e-mail still blocks.
    frame.loc[5, "observaciones"] = "ana@gmail.com"
    with pytest.raises(DatosPersonalesDetectados):
        scan.scan_frame(frame, ds, NAMES)


def test_the_override_needs_a_reason():
    with pytest.raises(ValueError, match="motivo"):
        build({"columna": "x", "valores": ["a"]}, umbral_datos_personales={"umbral": 0.1})


def test_exempt_columns_are_not_scanned_and_are_listed():
    frame, ds = build({"columna": "nit_contratista", "cada": 1, "valores": ["900123456-8"]})
    with pytest.raises(DatosPersonalesDetectados):
        scan.scan_frame(frame, ds, NAMES)
    report = scan.scan_frame(frame, ds, NAMES, exentas={"nit_contratista"})
    assert report["estado"] == "sin_hallazgos" and report["columnas_exentas"] == ["nit_contratista"]
    assert report["columnas_revisadas"] == 0


# The RE2 prefilters must flag every value the exact detectors would find something in.
_pieces = st.sampled_from([
    "3101234567", "310 555 1234", "+57 300 123 4567", "(608) 635 6789", "300-123-4567", "321.456.7890",
    "1.098.765.432", "74123456", "900123456-8", "900.123.456-8", "C.C.", "cédula", "T.I. No.", "NIT", "ana@x.co",
    "Luz Marina", "Rojas Pérez", "Vía", "de la", "2024-T3-2.3.2.02.02.", "$ 1.500.000,00", "CPS-2024-0123",
    "x", "-", "/", ".", " ", "  ", "(", ")", "57", "0", "３００１２３４５６７", "Hospital", "señora",
    "\u2010", "\u00a0", "－", "（", "）", "٣٠٠", "601", "46", "1800", " - ", "ext", "#", "T3", "CÉDULA", "Ñ",
])
_texts = st.lists(_pieces, min_size=1, max_size=8).map("".join) | st.text(max_size=40)


@settings(max_examples=150, deadline=None)
@given(st.lists(_texts, min_size=1, max_size=20))
def test_prefilters_never_drop_a_value_the_exact_detectors_flag(texts):
    import pyarrow as pa

    values = pa.array(texts, type=pa.string())
    candidates = prefilter.strong_candidates(values) | prefilter.weak_candidates(values)
    parts = prefilter.name_parts(NAMES)
    people = prefilter.name_candidates(values, parts, free_text=False)
    runs = prefilter.name_candidates(values, parts, free_text=True)
    for i, text in enumerate(texts):
        if detectors.identifier_spans(text):
            assert candidates[i], text
        if detectors.is_person_name(text, NAMES):
            assert people[i], text
        if detectors.name_spans(text, NAMES):
            assert runs[i], text
