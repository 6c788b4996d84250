"""Property: for any generated people, no original identifier survives in the published outputs."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casanare.catalog import Dataset
from casanare.privacy import detectors
from casanare.privacy.kanon import ColumnaSinInformacion, ReidentificacionPosible
from casanare.privacy.stage import anonimizar

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
NAMES_FILE = ROOT / "include" / "reference" / "nombres_colombianos.txt"
NAMES = detectors.load_names(NAMES_FILE)
SECTIONS = NAMES_FILE.read_text(encoding="utf-8").split("# Apellidos")
GIVEN = sorted({ln.strip() for ln in SECTIONS[0].splitlines() if ln.strip() and not ln.startswith("#")})
SURNAMES = sorted({ln.strip() for ln in SECTIONS[-1].splitlines() if ln.strip() and not ln.startswith("#")})
KEY = b"clave-de-prueba-suficientemente-larga-para-hmac"
MUNICIPIOS = ["85001", "85010", "85250", "85440"]


def _dataset() -> Dataset:
    data = yaml.safe_load((ROOT / "tests" / "fixtures" / "catalogo_valido.yaml").read_text(encoding="utf-8"))

    def c(nombre, tipo, regla, clasificacion="publica", **kw):
        return {"nombre": nombre, "tipo": tipo, "descripcion": "Columna de prueba", "clasificacion": clasificacion,
                "regla": regla, **kw}

    data["columnas"] = [
        c("documento", "texto", "seudonimizar", dato_personal="cedula", nombre_publicado="id_persona"),
        c("nombres", "texto", "eliminar", "clasificada", dato_personal="nombre"),
        c("telefono", "texto", {"accion": "enmascarar", "conservar": 2}, dato_personal="telefono"),
        c("correo", "texto", "eliminar", "clasificada", dato_personal="correo"),
        c("direccion", "texto", {"accion": "generalizar", "metodo": "municipio", "columna_municipio": "municipio"},
          dato_personal="direccion", nombre_publicado="municipio_residencia"),
        c("municipio", "texto", "publicar"),
        c("edad", "entero", {"accion": "generalizar", "metodo": "rango_edad"}, dato_personal="edad"),
        c("observacion", "texto", "redactar_texto", dato_personal="texto_libre"),
    ]
    data["microdatos"] = {
        "cuasi_identificadores": ["edad", "municipio"], "k": 2, "max_supresion": 1.0,
        # The person pseudonym makes k count persons over every attribute; these three are what
        # the property is about (identifiers must not leak), not quasi-identifiers.
        "excluir_de_k": {c: "Columna de la prueba de propiedades sobre fugas." for c in
                         ("telefono", "municipio_residencia", "observacion")},
    }
    data["datos_gov_co"] = {"dataset_id": "test-0001"}
    return Dataset.model_validate(data)


DATASET = _dataset()


@st.composite
def person(draw) -> dict[str, str]:
    cedula = str(draw(st.integers(1_000_000, 1_299_999_999)))
    phone = "3" + str(draw(st.integers(0, 2))) + str(draw(st.integers(0, 9))) + f"{draw(st.integers(0, 9_999_999)):07d}"
    given_name = draw(st.sampled_from(GIVEN))
    surname = draw(st.sampled_from(SURNAMES))
    user = detectors.fold(given_name).lower().replace(" ", "") + str(draw(st.integers(0, 999)))
    email = f"{user}@{draw(st.sampled_from(['gmail.com', 'hotmail.com', 'yahoo.es', 'casanare.gov.co']))}"
    address = f"CALLE {draw(st.integers(1, 99))} # {draw(st.integers(1, 99))}-{draw(st.integers(1, 99))}"
    dotted = f"{int(cedula):,}".replace(",", ".")
    spaced_phone = f"{phone[:3]} {phone[3:6]} {phone[6:]}"
    templates = [
        f"El ciudadano identificado con cédula {cedula} solicita información",
        f"Peticionario C.C. {dotted}, celular {spaced_phone}",
        f"Reporta {given_name.title()} {surname.title()} al {phone}",
        f"Notificar al correo {email} o al {phone}",
        f"{given_name} {surname} con documento {cedula}",
        f"Queja de {given_name.title()} {surname.title()} ({cedula})",
    ]
    return {
        "documento": draw(st.sampled_from([cedula, dotted])),
        "cedula": cedula, "dotted": dotted, "phone": phone, "spaced_phone": spaced_phone,
        "nombres": f"{given_name} {surname}", "email": email, "address": address,
        "observacion": draw(st.sampled_from(templates)),
        "municipio": draw(st.sampled_from(MUNICIPIOS)),
        "edad": draw(st.integers(0, 99)),
    }


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(people=st.lists(person(), min_size=1, max_size=25))
def test_no_original_identifier_reaches_the_published_outputs(people):
    frame = pd.DataFrame({
        "documento": [p["documento"] for p in people],
        "nombres": [p["nombres"] for p in people],
        "telefono": [p["phone"] for p in people],
        "correo": [p["email"] for p in people],
        "direccion": [p["address"] for p in people],
        "municipio": [p["municipio"] for p in people],
        "edad": [p["edad"] for p in people],
        "observacion": [p["observacion"] for p in people],
        "columna_no_declarada": [p["cedula"] for p in people],
    })
    try:
        published, report = anonimizar(frame, DATASET, key=KEY, reference=date(2026, 10, 1), names=NAMES)
    except (ReidentificacionPosible, ColumnaSinInformacion) as exc:
        # A refusal publishes nothing; its message and details must not carry identifiers either.
        outputs = [str(exc), json.dumps(exc.as_dict(), ensure_ascii=False, default=str)]
    else:
        outputs = [
            published.to_csv(index=False),
            published.to_json(orient="records", force_ascii=False),
            json.dumps(report, ensure_ascii=False, default=str),
        ]
    folded = [detectors.fold(o) for o in outputs]
    for p in people:
        secrets = [p["cedula"], p["dotted"], p["phone"], p["spaced_phone"], p["email"], p["address"]]
        for secret in secrets:
            assert all(secret not in out for out in outputs), "un identificador original llegó a la salida"
        assert all(detectors.fold(p["nombres"]) not in out for out in folded), "un nombre llegó a la salida"
