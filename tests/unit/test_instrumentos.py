"""Registro de Activos, Índice de Información Clasificada y Reservada and their downloads."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from casanare.catalog import CatalogError, load_catalog, load_dataset
from casanare.instruments.generar import (
    actualizar_transparencia,
    estados_catalogo,
    instrumentos_transparencia,
)
from casanare.instruments.indice import CAMPOS_DECRETO_103 as CAMPOS_INDICE
from casanare.instruments.indice import COLUMNAS_INDICE, indice_clasificada
from casanare.instruments.registro import CAMPOS_DECRETO_103 as CAMPOS_REGISTRO
from casanare.instruments.registro import COLUMNAS_REGISTRO, registro_activos
from casanare.publish.website import LocalFolder, publish_site
from casanare.staging import PORTAL_ID_FILE, DatasetArea

pytestmark = pytest.mark.unit
WHEN = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
PUBLISHED = "vacunacion_pai"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "catalogo_valido.yaml"


def tiny_frame(ds, rows: int = 3) -> pd.DataFrame:
    return pd.DataFrame({c.nombre_salida: [f"v{i}" for i in range(rows)] for c in ds.columnas_publicadas})


@pytest.fixture
def published(tmp_path):
    """One dataset really published: a success in the staging history and a page on the site."""
    catalog = load_catalog()
    ds = catalog.get(PUBLISHED)
    staging = (tmp_path / "staging").as_uri()
    site = LocalFolder(tmp_path / "sitio")
    publish_site(tiny_frame(ds), ds, site, version="20261122T153000", published_at=WHEN)
    # The 4x4 the portal assigned when the first publication created the dataset.
    DatasetArea(staging, ds.slug).write_json(PORTAL_ID_FILE, {"dataset_id": "cas1-vac1"})
    DatasetArea(staging, ds.slug).record_success({
        "ejecucion": "manual__1", "fecha": WHEN.isoformat(), "sha256": "a" * 64, "filas_extraidas": 3,
        "filas_publicadas": 3, "version_sitio": "20261122T153000",
    })
    return catalog, staging, site


def test_registro_has_every_entry_with_every_decreto_103_field(published):
    catalog, staging, site = published
    rows = registro_activos(catalog, estados_catalogo(catalog, staging, site))
    assert sorted(r["conjunto"] for r in rows) == sorted(d.slug for d in catalog.datasets)
    assert any(not d.priorizado for d in catalog.datasets)  # inventory-only entries are included
    for row in rows:
        assert set(row) == set(COLUMNAS_REGISTRO)
        for field in (*CAMPOS_REGISTRO, "dependencia", "tipologia", "ambito", "fuente_primaria",
                      "frecuencia_generacion", "frecuencia_actualizacion", "ubicacion"):
            assert str(row[field]).strip(), (row["conjunto"], field)


def test_publicada_is_derived_from_the_real_state_not_the_yaml(published):
    catalog, staging, site = published
    assert catalog.get(PUBLISHED).publicada is False  # what the YAML still says
    rows = {r["conjunto"]: r for r in registro_activos(catalog, estados_catalogo(catalog, staging, site))}
    row = rows[PUBLISHED]
    assert row["publicada_o_disponible"] == "Publicada en datos.gov.co y casanare.gov.co"
    assert "/d/cas1-vac1" in row["enlaces"] and "/conjuntos/vacunacion-pai/" in row["enlaces"]
    assert row["ultima_publicacion"] == "2026-11-22"
    other = rows["matricula_escolar"]
    assert other["publicada_o_disponible"] == "Disponible a solicitud"
    assert "educacion@casanare.gov.co" in other["enlaces"]
    assert other["ultima_publicacion"] == "Sin publicar"


def test_indice_has_every_classified_column_with_every_field(published):
    catalog, *_ = published
    rows = indice_clasificada(catalog)
    expected = {(d.slug, c.nombre) for d in catalog.datasets for c in d.columnas if c.clasificacion != "publica"}
    assert len(rows) == len(expected) > 10
    assert {(r["conjunto"], r["nombre"].split("«")[1].rstrip("»)")) for r in rows} == expected
    for row in rows:
        for field in CAMPOS_INDICE:
            assert str(row[field]).strip(), (row["conjunto"], row["nombre"], field)
        assert row["alcance"] == "Parcial"
    cedula_like = next(r for r in rows if r["conjunto"] == "vacunacion_pai" and "nombres" in r["nombre"])
    assert "Ley 1581 de 2012" in cedula_like["fundamento_constitucional_legal"]
    assert "art. 18, lit. a" in cedula_like["fundamento_juridico"]
    assert cedula_like["responsable_produccion"] == "Secretaría de Salud"
    assert cedula_like["fecha_calificacion"] == "2026-03-16"
    explicit = next(r for r in rows if "id_matricula" in r["nombre"])
    assert explicit["objetivo_legitimo"].startswith("Evitar que la llave interna")


def test_downloads_open_with_the_expected_headers(published, tmp_path):
    catalog, staging, site = published
    report = actualizar_transparencia(catalog, staging, site, ahora=WHEN)
    root = tmp_path / "sitio" / "transparencia"
    for name, columns, rows in (("registro-activos", COLUMNAS_REGISTRO, len(catalog.datasets)),
                                ("indice-clasificada-reservada", COLUMNAS_INDICE, report["filas"]["indice-clasificada-reservada"])):
        sheet = load_workbook(root / f"{name}.xlsx", read_only=True).worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        assert list(values[0]) == list(columns.values())
        assert len(values) == rows + 1
        assert all(all(cell not in (None, "") for cell in row[: len(columns) - 1]) for row in values[1:])
        text = (root / f"{name}.csv").read_bytes().decode("utf-8-sig")
        parsed = list(csv.reader(io.StringIO(text)))
        assert parsed[0] == list(columns.values()) and len(parsed) == rows + 1
    matrix = load_workbook(root / "priorizacion.xlsx", read_only=True)
    assert matrix.sheetnames == ["Matriz de priorización", "Criterios"]
    html = (root / "registro-activos.html").read_text(encoding="utf-8")
    assert '<th scope="col">Información publicada o disponible</th>' in html
    assert 'href="registro-activos.xlsx"' in html and 'href="registro-activos.csv"' in html


def test_index_lists_inventory_only_entries_with_how_to_request(published, tmp_path):
    catalog, staging, site = published
    actualizar_transparencia(catalog, staging, site, ahora=WHEN)
    html = (tmp_path / "sitio" / "index.html").read_text(encoding="utf-8")
    inventario = html.split('id="tabla-inventario"')[1]
    for ds in catalog.datasets:
        assert (ds.nombre in inventario) == (ds.slug != PUBLISHED)
    assert "mailto:secretariageneral@casanare.gov.co" in inventario
    assert "derecho de petición" in html


# The loader refuses a classified entry that leaves a Decreto 103 field undetermined ----------

@pytest.fixture
def include(tmp_path, monkeypatch):
    inc = tmp_path / "include"
    (inc / "catalog").mkdir(parents=True)
    (inc / "expectations").mkdir()
    (inc / "expectations" / "prueba_csv.json").write_text('{"name": "prueba_csv", "expectations": []}')
    monkeypatch.setenv("CASANARE_INCLUDE_DIR", str(inc))
    return inc


def write(include: Path, data: dict) -> Path:
    path = include / "catalog" / "prueba_csv.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def base() -> dict:
    return yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))


def test_defaults_by_kind_keep_the_yaml_short(include):
    ds = load_dataset(write(include, base()))
    col = next(c for c in ds.columnas if c.clasificacion == "clasificada")
    assert col.excepcion is None  # nothing written: the defaults for "nombre" apply


def test_kind_without_default_needs_the_fields_written(include):
    data = base()
    data["columnas"][2]["dato_personal"] = "otro"
    with pytest.raises(CatalogError) as err:
        load_dataset(write(include, data))
    text = str(err.value)
    assert "prueba_csv.yaml" in text
    assert "campo 'columnas[nombre].excepcion.objetivo_legitimo' (línea " in text
    assert "Objetivo legítimo de la excepción" in text and "fundamento_juridico" in text
    data["columnas"][2]["excepcion"] = {
        "objetivo_legitimo": "Proteger la intimidad de los usuarios del servicio.",
        "fundamento_constitucional_legal": "Ley 1581 de 2012",
        "fundamento_juridico": "Ley 1712 de 2014, art. 18, lit. a",
        "plazo": "Ilimitado",
    }
    assert load_dataset(write(include, data)).columnas[2].excepcion.plazo == "Ilimitado"


def test_reserved_column_and_missing_dates_are_refused(include):
    data = base()
    del data["calificacion"]
    data["columnas"][2]["clasificacion"] = "reservada"
    with pytest.raises(CatalogError) as err:
        load_dataset(write(include, data))
    problems = [p[0] for p in err.value.problems]
    # Reserved information (art. 19) has no default: aim, grounds and term must be written.
    assert {"columnas[nombre].excepcion.objetivo_legitimo", "columnas[nombre].excepcion.plazo",
            "calificacion.fecha_calificacion", "calificacion.fecha_generacion"} <= set(problems)
    assert problems.count("calificacion.fecha_calificacion") == 1


def test_excepcion_on_a_public_column_is_refused(include):
    data = base()
    data["columnas"][0]["excepcion"] = {"plazo": "Ilimitado"}
    with pytest.raises(CatalogError, match="es pública"):
        load_dataset(write(include, data))


def test_state_without_history_is_not_published(tmp_path):
    catalog = load_catalog()
    estados = estados_catalogo(catalog, (tmp_path / "vacio").as_uri(), LocalFolder(tmp_path / "sitio"))
    assert not any(e.publicada for e in estados.values())
    titles = [i.titulo for i in instrumentos_transparencia(catalog, estados)]
    assert titles == ["Registro de Activos de Información", "Índice de Información Clasificada y Reservada"]


def test_indice_lists_personal_columns_public_by_law_apart(published, tmp_path):
    catalog, staging, site = published
    with_basis = [(d.slug, c.nombre) for d in catalog.datasets for c in d.columnas
                  if c.clasificacion == "publica" and c.fundamento_legal is not None]
    assert with_basis  # the sample catalog has some (contract identification, SECOP)
    actualizar_transparencia(catalog, staging, site, ahora=WHEN)
    book = load_workbook(tmp_path / "sitio" / "transparencia" / "indice-clasificada-reservada.xlsx", read_only=True)
    assert book.sheetnames == ["Índice", "Públicos por ley"]  # Excel caps sheet names at 31 characters
    rows = list(book["Públicos por ley"].iter_rows(min_row=2, values_only=True))
    assert sorted((r[-1], r[1].split("«")[1].rstrip("»)")) for r in rows) == sorted(with_basis)
    assert all("Ley 1712 de 2014" in r[3] for r in rows)
    html = (tmp_path / "sitio" / "transparencia" / "indice-clasificada-reservada.html").read_text(encoding="utf-8")
    assert html.count("<tr>", html.index('id="tabla-por-ley"')) == len(with_basis) + 1
