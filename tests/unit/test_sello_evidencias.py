"""Sello de Excelencia evidence workbooks from real evidence, and the checks of the published files."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from casanare.catalog import load_catalog
from casanare.instruments.archivos import verificar_archivos
from casanare.instruments.generar import evidencias_sello
from casanare.instruments.sello import COLUMNAS_SELLO, NIVEL_1
from casanare.publish.website import LocalFolder, publish_site
from casanare.quality.scorecard import build_scorecard, save_scorecard
from casanare.staging import PORTAL_ID_FILE, DatasetArea, RunArea

pytestmark = pytest.mark.unit
WHEN = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
SLUG = "ejecucion_presupuestal_gastos"
ROOT = Path(__file__).resolve().parents[2]


def frame(ds, rows: int = 60) -> pd.DataFrame:
    values = {"texto": lambda i: f"t{i}", "entero": lambda i: i, "decimal": lambda i: i * 1.5,
              "fecha": lambda i: pd.Timestamp(2026, 1, 1) + pd.Timedelta(days=i), "booleano": lambda i: i % 2 == 0,
              "fecha_hora": lambda i: pd.Timestamp(2026, 1, 1, 8) + pd.Timedelta(hours=i)}
    return pd.DataFrame({c.nombre_salida: [values[c.tipo_salida](i) for i in range(rows)]
                         for c in ds.columnas_publicadas})


@pytest.fixture
def published(tmp_path):
    catalog = load_catalog()
    ds = catalog.get(SLUG)
    staging = (tmp_path / "staging").as_uri()
    site = LocalFolder(tmp_path / "sitio")
    df = frame(ds)
    publish_site(df, ds, site, version="20261122T153000", published_at=WHEN)
    run = RunArea(staging, SLUG, "manual__r1")
    run.record_stage("extraer", {"estado": "ok", "filas": 60})
    run.write_manifest(resultado="exito")
    validacion = {"resultados": [{"dimension": "consistencia", "exito": True, "evaluados": None, "inesperados": None}]}
    card = build_scorecard(df, ds, validacion, None, ahora=WHEN, ultima_actualizacion=WHEN, historial=[],
                           sha256="a" * 64, duplicados_origen=0)
    save_scorecard(staging, SLUG, "manual__r1", card)
    # The 4x4 the portal assigned at creation (the catalog may not declare it).
    DatasetArea(staging, SLUG).write_json(PORTAL_ID_FILE, {"dataset_id": "asig-0001"})
    DatasetArea(staging, SLUG).record_success({"ejecucion": "manual__r1", "fecha": WHEN.isoformat(),
                                               "sha256": "a" * 64, "filas_publicadas": 60,
                                               "version_sitio": "20261122T153000"})
    return catalog, staging, site, tmp_path


def test_one_workbook_per_published_dataset_in_the_plan_format(published):
    catalog, staging, site, tmp_path = published
    written = evidencias_sello(catalog, staging, site)
    assert [w["conjunto"] for w in written] == [SLUG]
    assert written[0]["verificaciones_archivos"] == "8/8"  # UTF-8, header, names, rows, widths, integers, xlsx, json
    book = load_workbook(tmp_path / "staging" / "_instrumentos" / "sello" / f"{SLUG}.xlsx", read_only=True)
    assert book.sheetnames == ["Requisitos", "Resumen"]
    rows = list(book["Requisitos"].iter_rows(values_only=True))
    assert list(rows[0][:5]) == ["Requisito", "Etapa", "Criterio", "Evidencia", "Descripción"]
    assert list(rows[0]) == list(COLUMNAS_SELLO.values())
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    level1 = [r for r in body if r["Nivel del Sello que soporta"] == NIVEL_1]
    assert len(level1) == 4 and all(r["Cumple"] == "Sí" for r in level1)
    assert all(r["Evidencia"] and r["Descripción"] and r["Fuente del criterio"] for r in body)
    portal = next(r for r in body if r["Requisito"].startswith("Publicación en el Portal"))
    assert portal["Evidencia"].endswith("/d/asig-0001") and portal["Cumple"] == "Sí"
    summary = dict(book["Resumen"].iter_rows(min_row=2, values_only=True))
    assert summary["Resultado"] == "La evidencia soporta el nivel 1 del Sello de Excelencia."


def test_every_threshold_is_cited_in_docs(published):
    catalog, staging, site, tmp_path = published
    evidencias_sello(catalog, staging, site)
    book = load_workbook(tmp_path / "staging" / "_instrumentos" / "sello" / f"{SLUG}.xlsx", read_only=True)
    rows = list(book["Requisitos"].iter_rows(min_row=2, values_only=True))
    for row in rows:
        fuente = row[-1]
        cited = re.findall(r"docs/[a-z_]+\.md", fuente)
        assert cited or fuente.startswith("Plan de Apertura"), fuente
        assert all((ROOT / c).is_file() for c in cited), cited
        # A threshold number in the criterion only appears where the source is the Sello table.
        if re.search(r"(mayor que|igual a) \d+", row[2] or ""):
            assert "calidad.md" in fuente


def test_published_file_checks_catch_decimals_and_short_files(published):
    catalog, _staging, site, tmp_path = published
    ds = catalog.get(SLUG)
    checks = {c["verificacion"]: c for c in verificar_archivos(ds, site, 60)}
    assert all(c["resultado"] == "cumple" for c in checks.values())
    live = tmp_path / "sitio" / "conjuntos" / ds.casanare_gov_co.ruta / "datos.csv"
    entera = next(c.nombre_salida for c in ds.columnas_publicadas if c.tipo_salida == "entero")
    lines = live.read_text(encoding="utf-8-sig").splitlines()
    idx = lines[0].split(",").index(entera)
    broken = [lines[0]] + [",".join(f"{v}.0" if i == idx else v for i, v in enumerate(line.split(",")))
                           for line in lines[1:30]]
    live.write_text("\n".join(broken) + "\n", encoding="utf-8")
    checks = {c["verificacion"]: c for c in verificar_archivos(ds, site, 60)}
    assert checks["Enteros sin decimales"]["resultado"] == "no cumple"
    assert checks["Enteros sin decimales"]["detalle"].startswith("29 valores")
    assert checks["Filas del CSV"]["resultado"] == "no cumple"
