"""PII scan gate: finds Colombian identifiers per column, spares legitimate public columns."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest
import yaml
from stdnum.co import nit

from casanare.catalog import Dataset
from casanare.errors import DatosPersonalesDetectados
from casanare.privacy import detectors
from casanare.privacy.pseudonym import pseudonym
from casanare.privacy.scan import UMBRAL_DEBIL, scan_frame

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "catalogo_valido.yaml"
NAMES = detectors.load_names(ROOT / "include" / "reference" / "nombres_colombianos.txt")
KEY = b"clave-de-prueba-suficientemente-larga-para-hmac"
N = 200


def dataset(columnas: dict[str, tuple[str, str | dict]]) -> Dataset:
    """``{nombre: (tipo, regla)}`` → a dataset publishing those columns."""
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    data["columnas"] = [
        {"nombre": n, "tipo": t, "descripcion": "Columna de prueba", "clasificacion": "publica", "regla": r,
         **({"dato_personal": "texto_libre"} if r == "redactar_texto" else {})}
        for n, (t, r) in columnas.items()
    ]
    data["datos_gov_co"] = {"dataset_id": "test-0001"}
    data.pop("microdatos", None)  # the fixture's quasi-identifiers are not among these columns
    return Dataset.model_validate(data)


def cedulas(n: int, seed: int = 1) -> list[str]:
    rnd = random.Random(seed)
    return [str(rnd.randint(1_000_000, 1_199_999_999)) for _ in range(n)]


def legit_frame(n: int = N) -> tuple[pd.DataFrame, Dataset]:
    rnd = random.Random(3)
    frame = pd.DataFrame({
        "codigo_municipio": [rnd.choice(["85001", "85010", "85250", "85440"]) for _ in range(n)],
        "radicado": [f"PQRSD-2025-{i:06d}" for i in range(n)],
        "numero_contrato": [f"{2024000000 + rnd.randint(1, 999_999)}" for _ in range(n)],
        "valor": [round(rnd.uniform(1e6, 4e9), 2) for _ in range(n)],
        "valor_entero": [rnd.randint(1_000_000, 3_999_999_999) for _ in range(n)],
        "vigencia": [rnd.choice([2024, 2025, 2026]) for _ in range(n)],
        "id_persona": [pseudonym(c, KEY) for c in cedulas(n)],
        "celular_enmascarado": ["******" + c[-4:] for c in cedulas(n)],
        "ips": [rnd.choice(["HOSPITAL JUAN HERNANDO URREGO", "E.S.E. SALUD YOPAL", "IPS SAN JOSÉ"]) for _ in range(n)],
        "municipio": [rnd.choice(["Yopal", "Paz de Ariporo", "San Luis de Palenque", "Villanueva"]) for _ in range(n)],
        "objeto": [f"Prestación de servicios profesionales para apoyar la Secretaría, valor $ {i},000,000"
                   for i in range(n)],
    })
    ds = dataset({
        "codigo_municipio": ("texto", "publicar"), "radicado": ("texto", "publicar"),
        "numero_contrato": ("texto", "publicar"), "valor": ("decimal", "publicar"),
        "valor_entero": ("entero", "publicar"), "vigencia": ("entero", "publicar"),
        "id_persona": ("texto", "seudonimizar"),
        "celular_enmascarado": ("texto", {"accion": "enmascarar", "conservar": 4}),
        "ips": ("texto", "publicar"), "municipio": ("texto", "publicar"), "objeto": ("texto", "redactar_texto"),
    })
    return frame, ds


def test_legitimate_public_columns_pass():
    frame, ds = legit_frame()
    report = scan_frame(frame, ds, NAMES)
    assert report["estado"] == "sin_hallazgos" and report["columnas_revisadas"] == len(frame.columns)


def blocked(frame: pd.DataFrame, ds: Dataset) -> DatosPersonalesDetectados:
    with pytest.raises(DatosPersonalesDetectados) as info:
        scan_frame(frame, ds, NAMES)
    return info.value


def assert_no_values(exc: DatosPersonalesDetectados, values: list[str]) -> None:
    text = str(exc) + json.dumps(exc.as_dict(), ensure_ascii=False)
    for v in values:
        assert v not in text


@pytest.mark.parametrize(
    ("values", "tipo"),
    [
        (cedulas(N), "numero_documento"),
        ([f"{int(c):,}".replace(",", ".") for c in cedulas(N)], "numero_documento"),  # 1.098.765.432
        ([f"1{random.Random(i).randint(0, 10**9):09d}" for i in range(N)], "numero_documento"),  # TI 10 digits
        ([f"3{random.Random(i).randint(0, 2):01d}{random.Random(i).randint(0, 10**8 - 1):08d}" for i in range(N)],
         "telefono"),
    ],
)
def test_whole_column_of_identifiers_is_blocked(values, tipo):
    frame, ds = legit_frame()
    frame["observaciones"] = values
    ds = dataset({**{c.nombre: (c.tipo, c.regla.model_dump(exclude_none=True)) for c in ds.columnas},
                  "observaciones": ("texto", "publicar")})
    exc = blocked(frame, ds)
    assert exc.ubicacion.columna == "observaciones"
    assert exc.detalles["hallazgos"][0]["tipo"] == tipo
    # Addressed to the dependencia: it names the column and never asks to edit the catalog.
    assert "observaciones" in exc.como_corregir and "catalog" not in exc.como_corregir
    assert_no_values(exc, values)


@pytest.mark.parametrize(
    "hidden",
    [
        "escribir a maria.gomez@gmail.com",
        "NIT 900123456-8",
        "C.C. 1.098.765.432",
        "celular 3101234567",
    ],
)
def test_a_single_strong_identifier_in_a_text_column_is_enough(hidden):
    frame, ds = legit_frame()
    frame.loc[17, "municipio"] = f"Yopal, {hidden}"
    exc = blocked(frame, ds)
    assert exc.ubicacion.columna == "municipio"
    assert_no_values(exc, [hidden.split()[-1]])


def test_nit_needs_a_valid_check_digit():
    assert nit.is_valid("9001234568") and not nit.is_valid("9001234567")
    frame, ds = legit_frame()
    frame.loc[3, "municipio"] = "Proveedor 900123456-7"
    assert scan_frame(frame, ds, NAMES)["estado"] == "sin_hallazgos"


def test_weak_findings_below_the_threshold_only_warn():
    frame, ds = legit_frame()
    few = int(N * UMBRAL_DEBIL) - 1
    frame.loc[: few - 1, "municipio"] = cedulas(few)
    report = scan_frame(frame, ds, NAMES)
    assert report["advertencias"]["municipio"]["numero_documento"] == few
    frame.loc[: few + 1, "municipio"] = cedulas(few + 2)
    assert blocked(frame, ds).ubicacion.columna == "municipio"


def test_person_names_in_a_column_not_declared_as_names_are_blocked():
    frame, ds = legit_frame()
    people = ["LUZ MARINA ROJAS PÉREZ", "JUAN CARLOS GÓMEZ", "ANA SOFÍA CHAPARRO DE LA CRUZ"]
    frame["ips"] = [people[i % 3] if i % 4 == 0 else "E.S.E. SALUD YOPAL" for i in range(N)]
    exc = blocked(frame, ds)
    assert exc.ubicacion.columna == "ips" and exc.detalles["hallazgos"][0]["tipo"] == "nombre"
    assert_no_values(exc, people)


def test_names_embedded_in_a_free_text_column_are_blocked():
    frame, ds = legit_frame()
    frame["objeto"] = [f"Contrato con el señor Juan Carlos Gómez Chaparro número {i}" for i in range(N)]
    assert blocked(frame, ds).ubicacion.columna == "objeto"


def test_pseudonym_column_must_only_hold_pseudonyms():
    frame, ds = legit_frame()
    frame.loc[5, "id_persona"] = "1098765432"
    exc = blocked(frame, ds)
    assert exc.ubicacion.columna == "id_persona" and exc.detalles["hallazgos"][0]["tipo"] == "seudonimo_invalido"


def test_identifier_named_numeric_column_is_blocked_but_money_is_not():
    frame, ds = legit_frame()
    frame["documento_beneficiario"] = [int(c) for c in cedulas(N)]
    ds = dataset({**{c.nombre: (c.tipo, c.regla.model_dump(exclude_none=True)) for c in ds.columnas},
                  "documento_beneficiario": ("entero", "publicar")})
    assert blocked(frame, ds).ubicacion.columna == "documento_beneficiario"


def test_phones_stored_as_integers_are_blocked():
    frame, ds = legit_frame()
    frame["contacto"] = [3_100_000_000 + i * 7919 + 1 for i in range(N)]
    ds = dataset({**{c.nombre: (c.tipo, c.regla.model_dump(exclude_none=True)) for c in ds.columnas},
                  "contacto": ("entero", "publicar")})
    exc = blocked(frame, ds)
    assert exc.ubicacion.columna == "contacto" and exc.detalles["hallazgos"][0]["tipo"] == "telefono"


def test_amounts_that_look_like_mobile_numbers_do_not_block_a_money_column():
    frame, ds = legit_frame()
    rnd = random.Random(9)
    # 40 % of the contracts between 3,000 and 3,599 million pesos: still money, not phones.
    frame["valor_entero"] = [rnd.randint(3_000_000_001, 3_599_999_999) if i % 5 < 2 else rnd.randint(10**6, 10**9)
                             for i in range(N)]
    report = scan_frame(frame, ds, NAMES)
    assert report["estado"] == "sin_hallazgos"
    assert report["advertencias"]["valor_entero"]["telefono"] > 0


def test_a_column_scanned_in_pieces_has_the_same_counts(monkeypatch):
    """Every count is a sum over values: pieces of 7 rows give the whole column's counts."""
    from casanare.privacy import scan

    frame, ds = legit_frame()
    people = ["LUZ MARINA ROJAS PÉREZ", "JUAN CARLOS GÓMEZ", None, "Yopal"]
    frame["ips"] = [people[i % 4] if i % 3 == 0 else "E.S.E. SALUD YOPAL" for i in range(N)]
    frame.loc[::9, "municipio"] = cedulas(len(frame.loc[::9]))
    frame.loc[5, "municipio"] = "C.C. 1.098.765.432"
    frame.loc[::11, "id_persona"] = "1098765432"  # raw ids among pseudonyms
    frame.loc[::13, "objeto"] = "Contrato con el señor Juan Carlos Gómez Chaparro"
    by_output = {c.nombre_salida: c for c in ds.columnas if c.publicada}

    def results() -> list[scan.ColumnResult]:
        return [scan._scan_column(frame[name], name, by_output.get(name), NAMES) for name in frame.columns]

    whole = results()
    assert any(r.fuertes for r in whole) and any(r.debiles for r in whole)
    pieces = []
    counting = scan.value_counts
    monkeypatch.setattr(scan, "value_counts", lambda values: pieces.append(len(values)) or counting(values))
    monkeypatch.setattr(scan, "FILAS_POR_PIEZA", 7)
    assert results() == whole
    assert pieces and max(pieces) == 7
