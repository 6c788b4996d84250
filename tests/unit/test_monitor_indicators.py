"""The plan's indicators, pending actions, use trends, drift, registries and the quarterly report
on a small known catalog and registries."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from casanare.catalog import CatalogError, Dataset
from casanare.monitor import indicators as ind
from casanare.monitor.collect import status_row
from casanare.monitor.portal import metadata_drift
from casanare.monitor.registries import Registros, load_registries
from casanare.monitor.report import HOJAS, build_report, indicator_table, report_name
from casanare.monitor.usage import parse_access_log, use_summary

pytestmark = pytest.mark.unit

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "catalogo_valido.yaml"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


def dataset(**changes) -> Dataset:
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    data.update(changes)
    return Dataset.model_validate(data)


def catalog() -> list[Dataset]:
    """Salud: fresh + stale (prioritized); Educación: never published (prioritized), one inventory-only
    item published by hand, one inventory-only item not published."""
    return [
        dataset(slug="salud_fresco", nombre="Salud al día", datos_gov_co={"dataset_id": "aaaa-0001"},
                casanare_gov_co={"ruta": "salud-fresco"}),
        dataset(slug="salud_viejo", nombre="Salud vencido", datos_gov_co={"dataset_id": "aaaa-0002"},
                casanare_gov_co={"ruta": "salud-viejo"}),
        dataset(slug="educ_nuevo", nombre="Educación nuevo", dependencia="Secretaría de Educación",
                categoria="Educación", datos_gov_co={"dataset_id": "aaaa-0003"}, casanare_gov_co={"ruta": "educ-nuevo"}),
        dataset(slug="educ_manual", nombre="Educación manual", dependencia="Secretaría de Educación",
                categoria="Educación", priorizado=False, publicada=True, fuente=None, datos_gov_co=None,
                casanare_gov_co=None),
        dataset(slug="hacienda_inv", nombre="Hacienda inventario", dependencia="Secretaría de Hacienda",
                categoria="Hacienda y Crédito Público", priorizado=False, fuente=None, datos_gov_co=None,
                casanare_gov_co=None),
    ]


REGISTROS = Registros.model_validate({
    "solicitudes": [
        {"fecha": "2026-10-01", "tipo_solicitante": "ciudadano", "conjunto": "salud_fresco", "estado": "publicada"},
        {"fecha": "2026-10-05", "tipo_solicitante": "academia", "tema": "Calidad del agua"},
        {"fecha": "2026-11-01", "tipo_solicitante": "empresa", "tema": "Licencias de construcción"},
    ],
    "usos": [
        {"nombre": "App de vacunación", "url": "https://app.example.org", "tipo": "aplicacion",
         "conjuntos": ["salud_fresco"]},
        {"nombre": "Nota de prensa", "url": "https://news.example.org/x", "tipo": "noticia", "conjuntos": ["salud_fresco"]},
        {"nombre": "Paper", "url": "https://paper.example.org", "tipo": "articulo", "conjuntos": ["salud_viejo"]},
    ],
    "hallazgos": [
        {"conjunto": "salud_viejo", "fecha": "2026-11-10", "descripcion": "Faltan los datos de octubre de Yopal."},
        {"conjunto": "salud_fresco", "fecha": "2026-11-11", "descripcion": "Ya corregido el encabezado.",
         "estado": "resuelto"},
    ],
})


def rows() -> dict[str, dict]:
    cat = catalog()
    histories = {
        "salud_fresco": [{"fecha": (NOW - timedelta(days=3)).isoformat(), "sha256": "a", "filas_publicadas": 10}],
        "salud_viejo": [{"fecha": (NOW - timedelta(days=d)).isoformat(), "sha256": "b"} for d in (70, 38, 5)],
        "educ_nuevo": [],
    }
    views = {
        "salud_fresco": {"viewCount": 40, "downloadCount": 8, "name": "Salud al día"},
        "salud_viejo": {"viewCount": 10, "downloadCount": 0},
        "educ_nuevo": None,
    }
    scorecards = {
        "salud_fresco": {"promedio": 9.1, "sello_excelencia": {"nivel_1": True, "requisitos": {}}},
        "salud_viejo": {"promedio": 6.5, "sello_excelencia": {"nivel_1": False}},
        "educ_nuevo": None,
    }
    site = parse_access_log([
        '1.2.3.4 - - [23/Nov/2026:10:00:00 +0000] "GET /conjuntos/salud-fresco/ HTTP/1.1" 200 100',
        '1.2.3.4 - - [23/Nov/2026:10:00:01 +0000] "GET /conjuntos/salud-fresco/datos.csv HTTP/1.1" 200 100',
        '1.2.3.4 - - [23/Nov/2026:10:00:02 +0000] "GET /versiones/salud-fresco/20261101T1/datos.xlsx HTTP/1.1" 200 9',
    ])
    out = {}
    for ds in cat:
        if not ds.priorizado:
            continue
        alta = NOW - timedelta(days=1) if ds.slug == "educ_nuevo" else LONG_AGO
        row = status_row(ds, now=NOW, alta=alta, history=histories[ds.slug], scorecard=scorecards[ds.slug],
                         view=views[ds.slug], site=site, registros=REGISTROS)
        row["uso"] = use_summary([{**row, "fecha": NOW.date()}], NOW.date())
        row.update(vistas=row["uso"]["vistas"], descargas=row["uso"]["descargas"], descargas_30d=row["uso"]["descargas_30d"])
        out[ds.slug] = row
    return out


def test_status_rows_combine_sources():
    r = rows()
    assert {k: v["estado"] for k, v in r.items()} == {
        "salud_fresco": "al_dia", "salud_viejo": "vencido", "educ_nuevo": "sin_publicar"}
    assert r["salud_viejo"]["sin_datos_nuevos"] and r["educ_nuevo"]["en_gracia"]
    fresh = r["salud_fresco"]
    assert (fresh["vistas_portal"], fresh["descargas_portal"], fresh["vistas_sitio"], fresh["descargas_sitio"]) == (40, 8, 1, 2)
    assert (fresh["vistas"], fresh["descargas"], fresh["uso"]["descargas_por_vista"]) == (41, 10, 0.244)
    assert r["salud_viejo"]["hallazgos_abiertos"] == 1 and fresh["hallazgos_abiertos"] == 0


def test_every_indicator_on_a_known_catalog():
    values = ind.compute(catalog(), rows(), REGISTROS)
    assert values == {
        "priorizados": 3,
        "priorizados_publicados": 2,
        "priorizados_publicados_pct": 66.7,
        "conjuntos_inventario": 5,
        "conjuntos_publicados": 3,  # two by the platform, one by hand per the inventory
        "dependencias_inventario": 3,
        "dependencias_publicando": 2,
        "dependencias_publicando_pct": 66.7,
        "puntaje_mintic_promedio": 7.8,
        "solicitudes_apertura": 3,
        "solicitudes_atendidas": 1,
        "conjuntos_descargados": 1,  # salud_fresco; salud_viejo has 0; educ_manual has no measurement
        "descargados_vs_publicados_pct": 33.3,
        "descargas_totales": 10,
        "vistas_totales": 51,
        "usos_aplicaciones": 1,
        "usos_publicaciones": 2,
        "usos_visualizaciones": 0,
        "hallazgos_abiertos": 1,
        "conjuntos_al_dia": 1,
        "conjuntos_vencidos": 1,
        "conjuntos_con_deriva": 2,  # both portal views in this fixture lack most metadata
        "sello_nivel_1": 1,
    }


def test_breakdowns_and_freshness_by_dependencia():
    b = ind.breakdowns(catalog(), rows())
    assert b["dependencia"] == [
        {"valor": "Secretaría de Educación", "inventario": 2, "publicados": 1},
        {"valor": "Secretaría de Hacienda", "inventario": 1, "publicados": 0},
        {"valor": "Secretaría de Salud", "inventario": 2, "publicados": 2},
    ]
    assert {x["valor"]: x["inventario"] for x in b["categoria"]} == {
        "Educación": 2, "Hacienda y Crédito Público": 1, "Salud y Protección Social": 2}
    assert ind.freshness_by_dependencia(catalog(), rows()) == [
        {"dependencia": "Secretaría de Educación", "al_dia": 0, "por_vencer": 0, "vencido": 0, "sin_publicar": 1},
        {"dependencia": "Secretaría de Salud", "al_dia": 1, "por_vencer": 0, "vencido": 1, "sin_publicar": 0},
    ]


def test_pending_actions_abrir_actualizar_mejorar_usar():
    cat = {d.slug: d for d in catalog()}
    r = rows()
    actions = {slug: [a["accion"] for a in ind.pending_actions(cat[slug], r[slug], REGISTROS)] for slug in r}
    assert actions == {"salud_fresco": ["Mejorar"], "salud_viejo": ["Actualizar", "Mejorar"], "educ_nuevo": ["Abrir"]}
    viejo = {a["accion"]: a["motivo"] for a in ind.pending_actions(cat["salud_viejo"], r["salud_viejo"], REGISTROS)}
    assert "no tiene datos nuevos" in viejo["Actualizar"] or "fuente no tiene datos nuevos" in viejo["Actualizar"]
    assert "6,5 de 10" in viejo["Mejorar"] and "1 hallazgo" in viejo["Mejorar"]
    # Usar: published, no reuse registered and no downloads.
    lonely = Registros()
    assert "Usar" in [a["accion"] for a in ind.pending_actions(cat["salud_viejo"], r["salud_viejo"], lonely)]


def test_drift_names_fields_that_differ():
    ds = catalog()[0]
    view = {"name": ds.nombre, "description": ds.descripcion + "  ", "category": "Educación", "tags": [],
            "license": {"name": ds.licencia},
            "metadata": {"custom_fields": {"Información de Datos": {"Frecuencia de Actualización": "Mensual"},
                                           "Información de la Entidad": {"Área o dependencia": ds.dependencia}}}}
    assert metadata_drift(ds, view) == [{"campo": "categoria", "catalogo": ds.categoria, "portal": "Educación"}]
    assert metadata_drift(ds, None) == []


def test_access_log_counts_only_successful_gets_of_pages_and_files():
    counts = parse_access_log([
        '10.0.0.1 - - [23/Nov/2026:10:00:00 +0000] "GET /transparencia/conjuntos/x-y/index.html HTTP/1.1" 200 5',
        '10.0.0.1 - - [23/Nov/2026:10:00:00 +0000] "GET /conjuntos/x-y/datos.json?dl=1 HTTP/1.1" 200 5 "-" "Mozilla"',
        '10.0.0.1 - - [23/Nov/2026:10:00:00 +0000] "HEAD /conjuntos/x-y/datos.csv HTTP/1.1" 200 -',
        '10.0.0.1 - - [23/Nov/2026:10:00:00 +0000] "GET /conjuntos/x-y/datos.csv HTTP/1.1" 404 5',
        '10.0.0.1 - - [23/Nov/2026:10:00:00 +0000] "GET /index.html HTTP/1.1" 200 5',
        "basura",
    ])
    assert (dict(counts.vistas), dict(counts.descargas), counts.lineas_ilegibles) == ({"x-y": 1}, {"x-y": 1}, 1)


def test_use_trends_over_30_and_90_days():
    today = date(2026, 11, 23)

    def day(offset: int, downloads: int) -> dict:
        return {"fecha": today - timedelta(days=offset), "descargas_portal": downloads, "vistas_portal": downloads * 4,
                "descargas_sitio": None, "vistas_sitio": None}

    history = [day(200, 0), day(180, 10), day(90, 100), day(60, 130), day(30, 150), day(0, 210)]
    s = use_summary(history, today)
    assert (s["descargas"], s["vistas"], s["descargas_por_vista"]) == (210, 840, 0.25)
    assert (s["descargas_30d"], s["tendencia_30d"]) == (60, 200.0)  # 60 vs 20 the 30 days before
    assert (s["descargas_90d"], s["tendencia_90d"]) == (110, 22.2)  # 110 vs 90
    short = use_summary(history[-2:], today)
    assert (short["descargas_30d"], short["tendencia_30d"], short["ventana_90d_completa"]) == (60, None, False)


def test_registry_errors_name_file_entry_field_and_line(tmp_path):
    (tmp_path / "usos.yaml").write_text(
        "usos:\n"
        "  - nombre: Buena\n    url: https://ok.example.org\n    tipo: aplicacion\n    conjuntos: [salud_fresco]\n"
        "  - nombre: Mala\n    url: https://ok.example.org\n    tipo: podcast\n    conjuntos: [salud_fresco]\n"
        "    color: rojo\n", encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_registries(tmp_path, slugs={"salud_fresco"})
    text = str(err.value)
    assert "usos.yaml" in text
    assert "usos[2].tipo' (línea 8)" in text and "aplicacion" in text
    assert "usos[2].color' (línea 10)" in text and "no permitido" in text
    (tmp_path / "usos.yaml").write_text("usos: []\n", encoding="utf-8")
    (tmp_path / "solicitudes.yaml").write_text(
        "solicitudes:\n  - fecha: 31/12/2026\n    tipo_solicitante: ciudadano\n    tema: Agua potable\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"solicitudes\[1\]\.fecha' \(línea 2\): fecha inválida; use aaaa-mm-dd"):
        load_registries(tmp_path)
    (tmp_path / "solicitudes.yaml").unlink()
    (tmp_path / "hallazgos.yaml").write_text(
        "hallazgos:\n  - conjunto: no_existe\n    fecha: 2026-01-01\n    descripcion: Algo está mal aquí.\n",
        encoding="utf-8")
    with pytest.raises(CatalogError, match=r"hallazgos\[1\]' \(línea 2\): conjunto\(s\) que no están en el catálogo"):
        load_registries(tmp_path, slugs={"salud_fresco"})


def test_shipped_registries_are_valid():
    from casanare.catalog import load_catalog

    load_registries(slugs={d.slug for d in load_catalog().datasets})


def test_quarterly_report_sheets_and_quarter_change():
    from openpyxl import load_workbook

    r = rows()
    snapshot = {"fecha": "2026-11-23", "conjuntos": {k: {**v, "ultimo_dato_nuevo": v["ultimo_dato_nuevo"] and
                                                          v["ultimo_dato_nuevo"].isoformat(),
                                                          "acciones": ind.pending_actions(
                                                              {d.slug: d for d in catalog()}[k], v, REGISTROS)}
                                                     for k, v in r.items()}}
    history = [
        {"fecha": date(2026, 8, 1), "indicador": "solicitudes_apertura", "valor": 1.0},
        {"fecha": date(2026, 9, 30), "indicador": "solicitudes_apertura", "valor": 2.0},
        {"fecha": date(2026, 11, 23), "indicador": "solicitudes_apertura", "valor": 3.0},
        {"fecha": date(2026, 11, 23), "indicador": "priorizados_publicados_pct", "valor": 66.7},
    ]
    table = {t["clave"]: t for t in indicator_table(history, date(2026, 11, 23))}
    assert (table["solicitudes_apertura"]["actual"], table["solicitudes_apertura"]["anterior"],
            table["solicitudes_apertura"]["variacion"], table["solicitudes_apertura"]["variacion_pct"]) == (3.0, 2.0, 1.0, 50.0)
    assert table["priorizados_publicados_pct"]["anterior"] is None
    assert report_name(date(2026, 11, 23)) == "seguimiento-2026-T4.xlsx"
    wb = load_workbook(io.BytesIO(build_report(snapshot, history, REGISTROS, date(2026, 11, 23))))
    assert wb.sheetnames == list(HOJAS)
    ind_rows = list(wb["Indicadores"].iter_rows(values_only=True))
    assert ind_rows[0] == ("Indicador", "2026-T4", "2026-T3", "Variación", "Variación (%)")
    assert ("Solicitudes de apertura de datos", 3, 2, 1, 50) in ind_rows
    estado = list(wb["Estado de conjuntos"].iter_rows(values_only=True))
    assert len(estado) == 4 and {e[3] for e in estado[1:]} == {
        "Al día", "Vencido (sin datos nuevos)", "Sin publicar (en periodo de gracia)"}
    acciones = list(wb["Acciones pendientes"].iter_rows(values_only=True))[1:]
    assert sorted(a[2] for a in acciones) == ["Abrir", "Actualizar", "Mejorar", "Mejorar"]
    hallazgos = list(wb["Hallazgos abiertos"].iter_rows(values_only=True))[1:]
    assert hallazgos == [("Salud vencido", "2026-11-10", "Faltan los datos de octubre de Yopal.", "abierto", "ciudadano")]
