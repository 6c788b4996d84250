"""Prioritization (plan 10.2, 10.3) on a small inventory whose scores are known by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from casanare.catalog import CatalogError, Dataset, load_catalog
from casanare.instruments.estado import estado_publicacion
from casanare.instruments.matriz import accion, matriz
from casanare.priorizacion import Criterios, desacuerdos, load_criterios, ranking

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
CONFIG = {
    "pesos": {"demanda": 0.4, "impacto": 0.2, "facilidad": 0.2, "alineacion": 0.2},
    "umbral_priorizar": 6,
    "demanda": {"evidencia": {"Ciudadanos": 4, "PQR": 3, "Uso interno": 0}, "por_solicitud_registrada": 2},
    "impacto": {"por_defecto": 4, "categorias": {"Salud y Protección Social": 10}},
    "facilidad": {"soporte": {"digital": 10, "física": 2, "física y digital": 6},
                  "fuente": {"csv": 10, "sin_fuente": 4}, "penalizacion_por_dato_personal": 1,
                  "penalizacion_maxima": 2},
    "alineacion": {"estrategico": 10, "no_estrategico": 0, "categorias": ["Salud y Protección Social"],
                   "etiquetas": ["vías"]},
}


def entry(slug: str, **overrides) -> Dataset:
    data = {
        "slug": slug, "nombre": f"Conjunto {slug}", "descripcion": "Descripción suficientemente larga del conjunto.",
        "dependencia": "Secretaría de Prueba", "tipologia": "Social", "categoria": "Cultura",
        "ambito_geografico": "Departamental", "fuente_primaria": True, "evidencia_solicitud": ["Uso interno"],
        "soporte": "digital", "frecuencia_generacion": "mensual", "frecuencia_actualizacion": "mensual",
        "disponible": True, "publicada": False, "ubicacion": "Carpeta compartida", "priorizado": False,
        "contactos": ["prueba@casanare.gov.co"],
    }
    data.update(overrides)
    return Dataset.model_validate(data)


@pytest.fixture
def criterios() -> Criterios:
    return Criterios.model_validate(CONFIG)


def test_known_inventory_scores_and_ranks(criterios):
    salud = entry("salud_demandada", categoria="Salud y Protección Social", evidencia_solicitud=["Ciudadanos", "PQR"])
    # A prioritized entry needs a source and columns; the score only reads the decision flag.
    vias = entry("vias_fisicas", soporte="física", etiquetas=["Vías"]).model_copy(update={"priorizado": True})
    interno = entry("uso_interno")
    result = ranking([interno, vias, salud], criterios, solicitudes={"uso_interno": 2})
    by_slug = {p.slug: p for p in result}
    # salud: demanda 4+3=7, impacto 10, facilidad (10+4)/2=7, alineación 10 -> 0.4*7+2+1.4+2 = 8.2
    assert (by_slug["salud_demandada"].demanda, by_slug["salud_demandada"].facilidad) == (7, 7)
    assert by_slug["salud_demandada"].total == 8.2
    # vías: demanda 0, impacto 4, facilidad (2+4)/2=3, alineación 10 (tag, case-insensitive) -> 0.8+0.6+2 = 3.4
    assert by_slug["vias_fisicas"].total == 3.4
    # uso interno: demanda 0 + 2 requests * 2 = 4, impacto 4, facilidad 7, alineación 0 -> 1.6+0.8+1.4 = 3.8
    assert by_slug["uso_interno"].total == 3.8 and by_slug["uso_interno"].solicitudes == 2
    assert [p.slug for p in result] == ["salud_demandada", "uso_interno", "vias_fisicas"]
    assert [p.puesto for p in result] == [1, 2, 3]
    lines = desacuerdos(result)
    assert lines == [
        "salud_demandada: no priorizado, pero su puntaje supera el umbral (puntaje 8.2, puesto 1)",
        "vias_fisicas: priorizado, pero su puntaje queda por debajo del umbral (puntaje 3.4, puesto 3)",
    ]


def test_personal_data_lowers_ease_up_to_the_cap(criterios):
    columnas = [
        {"nombre": n, "tipo": "texto", "descripcion": "Dato personal", "clasificacion": "clasificada",
         "regla": "eliminar", "dato_personal": k}
        for n, k in (("a", "cedula"), ("b", "nombre"), ("c", "telefono"))
    ]
    plain = ranking([entry("sin_personales")], criterios)[0]
    personal = ranking([entry("con_personales", columnas=columnas)], criterios)[0]
    assert plain.facilidad - personal.facilidad == 2  # 3 kinds x 1, capped at 2


def test_the_sample_catalog_decisions_agree_with_its_ranking():
    catalog = load_catalog()
    assert catalog.avisos_priorizacion == []
    result = ranking(catalog.datasets, load_criterios())
    assert len(result) == len(catalog.datasets)
    assert all(p.recomendado == p.priorizado for p in result)


def test_loader_reports_disagreement(tmp_path, monkeypatch, caplog):
    include = Path(__file__).resolve().parents[2] / "include"
    config = yaml.safe_load((include / "instrumentos" / "priorizacion.yaml").read_text(encoding="utf-8"))
    config["umbral_priorizar"] = 9.9
    custom = tmp_path / "include"
    (custom / "instrumentos").mkdir(parents=True)
    (custom / "instrumentos" / "priorizacion.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    for folder in ("catalog", "expectations", "sql"):
        (custom / folder).symlink_to(include / folder)
    monkeypatch.setenv("CASANARE_INCLUDE_DIR", str(custom))
    with caplog.at_level("WARNING", logger="casanare.priorizacion"):
        catalog = load_catalog()
    assert len(catalog.avisos_priorizacion) == len(catalog.priorizados)
    assert "priorizado, pero su puntaje queda por debajo del umbral" in caplog.text


def test_config_errors_name_file_field_and_line(tmp_path):
    bad = dict(CONFIG, pesos={"demanda": 0.5, "impacto": 0.5, "facilidad": 0.5, "alineacion": 0.5})
    path = tmp_path / "priorizacion.yaml"
    path.write_text(yaml.safe_dump(bad, sort_keys=False))
    with pytest.raises(CatalogError) as err:
        load_criterios(path)
    assert "priorizacion.yaml" in str(err.value) and "campo 'pesos' (línea 1)" in str(err.value)
    assert "deben sumar 1" in str(err.value)


def _state(ds, fecha: datetime | None):
    history = [{"fecha": fecha.isoformat(), "filas_publicadas": 10, "version_sitio": "v"}] if fecha else []
    return estado_publicacion(ds, history, None, url_portal="https://p/d/x", url_sitio="https://s/c/x/")


def test_actions_of_plan_10_2():
    ds = entry("accion_prueba", priorizado=False)
    good = {"criterios": {"actualidad": {"puntaje": 10}}, "sello_excelencia": {"nivel_1": True, "requisitos": {}}}
    weak = {"criterios": {"actualidad": {"puntaje": 10}},
            "sello_excelencia": {"nivel_1": False, "requisitos": {"completitud_mayor_8": False, "actualidad_10": True}}}
    assert accion(ds, _state(ds, None), None, NOW)[0] == "Abrir"
    assert accion(ds, _state(ds, NOW - timedelta(days=40)), good, NOW)[0] == "Actualizar"  # mensual: 32 days
    que, motivo = accion(ds, _state(ds, NOW - timedelta(days=3)), weak, NOW)
    assert que == "Mejorar" and "completitud_mayor_8" in motivo and "actualidad_10" not in motivo
    assert accion(ds, _state(ds, NOW - timedelta(days=3)), good, NOW)[0] == "Usar"


def test_matrix_has_every_entry_in_rank_order(criterios):
    catalog = load_catalog()
    estados = {d.slug: _state(d, None) for d in catalog.datasets}
    rows = matriz(catalog, load_criterios(), estados, {}, ahora=NOW)
    assert [r["puesto"] for r in rows] == list(range(1, len(catalog.datasets) + 1))
    assert {r["conjunto"] for r in rows} == {d.slug for d in catalog.datasets}
    assert all(r["accion"] == "Abrir" for r in rows)
    assert [r["total"] for r in rows] == sorted((r["total"] for r in rows), reverse=True)
