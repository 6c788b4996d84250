"""Inventory intake on a messy spreadsheet: title rows, merged headers, accents, a repeated asset."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook

from casanare import settings
from casanare.catalog import load_catalog, load_dataset
from casanare.instruments.intake import leer_inventario, slug_de
from scripts.intake_inventario import main

pytestmark = pytest.mark.unit

# Row 4 and 5 form a two-row header: "Frecuencia" is merged over "Generación" / "Actualización";
# the other headers are merged vertically. Headers drop or keep accents and change case.
HEADER_TOP = ["N°", "Nombre de la Información", "DESCRIPCION", "Área responsable", "Tipología de información",
              "Categoría", "Ámbito geográfico", "Fuente primaria", "Evidencia de solicitud", "Soporte",
              "Frecuencia", None, "Información disponible", "Información publicada",
              "Lugar donde se encuentra", "Correo de contacto", "Observaciones"]
HEADER_BOTTOM = [None] * 10 + ["Generación", "Actualización"] + [None] * 5


def asset(n, nombre, **kw):
    row = {
        "descripcion": "Listado de los escenarios deportivos del departamento con su estado y ubicación.",
        "area": "Instituto de Deportes de Casanare (INDERCAS)", "tipologia": "Cultural",
        "categoria": "Deporte y Recreación", "ambito": "departamental", "primaria": "Sí",
        "evidencia": "Ciudadanos; Entidad Publica", "soporte": "Digital", "gen": "Anual", "act": "anualmente",
        "disp": "SI", "pub": "No", "lugar": "Carpeta compartida del INDERCAS", "correo": "indercas@casanare.gov.co",
        "obs": "",
    }
    row.update(kw)
    return [n, nombre, row["descripcion"], row["area"], row["tipologia"], row["categoria"], row["ambito"],
            row["primaria"], row["evidencia"], row["soporte"], row["gen"], row["act"], row["disp"], row["pub"],
            row["lugar"], row["correo"], row["obs"]]


def messy_inventory(path: Path, catalog) -> Path:
    existing = catalog.get("escenarios_deportivos")
    wb = Workbook()
    ws = wb.active
    ws.title = "Inventario 2026"
    ws["A1"] = "GOBERNACIÓN DE CASANARE"
    ws.merge_cells("A1:Q1")
    ws["A2"] = "Inventario de activos de información — Plan de Apertura de Datos Abiertos"
    ws.merge_cells("A2:Q2")
    ws.append([])  # row 3 empty
    ws.append(HEADER_TOP)
    ws.append(HEADER_BOTTOM)
    ws.merge_cells("K4:L4")
    for col in "ABCDEFGHIJMNOPQ":
        ws.merge_cells(f"{col}4:{col}5")
    # An asset already in the catalog, with a different update frequency and support.
    ws.append(asset(1, existing.nombre, descripcion=existing.descripcion, area=existing.dependencia,
                    act="Semestral", soporte="Físico y digital", evidencia="Ciudadanos, Entidad pública, Servicio",
                    correo=", ".join(str(c) for c in existing.contactos), lugar=existing.ubicacion,
                    categoria=existing.categoria, tipologia=existing.tipologia))
    ws.append(asset(2, "Bibliotecas públicas municipales de Casanare", area="Secretaría de Cultura",
                    categoria="Cultura", descripcion="Red de bibliotecas públicas: municipio, dirección, horarios y servicios."))
    ws.append([])  # a blank line in the middle
    ws.append(asset(3, "BIBLIOTECAS PUBLICAS MUNICIPALES DE CASANARE", area="Secretaría de Cultura", categoria="Cultura",
                    descripcion="Red de bibliotecas públicas: municipio, dirección, horarios y servicios.", gen="Mensual"))
    ws.append(asset(4, "Licencias de construcción tramitadas", area="Secretaría de Planeación", categoria="",
                    tipologia="Urbanística", evidencia="Vecinos", correo=""))
    wb.save(path)
    return path


@pytest.fixture
def catalog_copy(tmp_path) -> Path:
    folder = tmp_path / "catalog"
    shutil.copytree(settings.catalog_dir(), folder)
    return folder


def test_reads_the_messy_spreadsheet(tmp_path):
    inv = leer_inventario(messy_inventory(tmp_path / "inv.xlsx", load_catalog()))
    assert inv.hoja == "Inventario 2026" and inv.fila_encabezado == 4
    assert {"nombre", "frecuencia_generacion", "frecuencia_actualizacion", "ambito_geografico"} <= set(inv.campos)
    assert inv.sin_reconocer == ["N°", "Observaciones"]
    assert [f.fila for f in inv.filas] == [6, 7, 10]  # the repeat (row 9) is dropped, blank row skipped
    assert len(inv.duplicados) == 1
    assert "fila 9 repite el activo de la fila 7" in inv.duplicados[0]
    assert inv.duplicados[0].endswith("difiere en: Frecuencia de generación")
    biblio = inv.filas[1].valores
    assert biblio["frecuencia_generacion"] == "anual" and biblio["frecuencia_actualizacion"] == "anual"
    assert biblio["evidencia_solicitud"] == ["Ciudadanos", "Entidad pública"]
    assert biblio["ambito_geografico"] == "Departamental" and biblio["fuente_primaria"] is True
    assert biblio["publicada"] is False and biblio["disponible"] is True


def test_intake_writes_skeletons_and_reports_differences(tmp_path, catalog_copy, capsys):
    path = messy_inventory(tmp_path / "inv.xlsx", load_catalog())
    before = {p.name: p.read_bytes() for p in catalog_copy.iterdir()}
    assert main([str(path), "--catalogo", str(catalog_copy)]) == 0
    out = capsys.readouterr().out
    # Existing asset: differences field by field, its YAML untouched.
    assert "escenarios_deportivos (fila 6) · Frecuencia de actualización: hoja «semestral» ≠ catálogo «anual»" in out
    assert "escenarios_deportivos (fila 6) · Soporte: hoja «física y digital» ≠ catálogo «digital»" in out
    assert "escenarios_deportivos (fila 6) · Evidencia de solicitud" not in out  # same set, other order
    assert all((catalog_copy / name).read_bytes() == data for name, data in before.items())
    # New complete asset: a YAML the loader accepts, not prioritized.
    slug = slug_de("Bibliotecas públicas municipales de Casanare")
    assert slug == "bibliotecas_publicas_municipales_casanare"
    ds = load_dataset(catalog_copy / f"{slug}.yaml")
    assert ds.priorizado is False and ds.categoria == "Cultura" and ds.frecuencia_generacion == "anual"
    assert ds.contactos == ["indercas@casanare.gov.co"]
    # New incomplete asset: a draft the loader ignores, saying what is missing.
    draft = catalog_copy / "licencias_construccion_tramitadas.yaml.borrador"
    assert draft.exists() and not (catalog_copy / "licencias_construccion_tramitadas.yaml").exists()
    assert "falta categoria, contactos, evidencia_solicitud, tipologia" in out
    assert "Tipología: no se reconoce el valor «Urbanística»" in out
    assert out.count("no se reconoce «Vecinos»") == 1
    assert "fila 9 repite el activo de la fila 7" in out
    assert len(load_catalog(catalog_copy).datasets) == len(before) - 1 + 1  # schema.json is not a dataset
    # Never overwrite: a second run changes nothing and says so.
    written = (catalog_copy / f"{slug}.yaml").read_bytes()
    assert main([str(path), "--catalogo", str(catalog_copy)]) == 0
    again = capsys.readouterr().out
    assert "Conjuntos nuevos (YAML escrito): 0" in again
    assert "licencias_construccion_tramitadas.yaml.borrador (fila 10)" in again.split("no se sobrescribieron")[1]
    assert f"{slug} (fila 7)" not in again  # now in the catalog, and the same as the sheet
    assert (catalog_copy / f"{slug}.yaml").read_bytes() == written
    assert yaml.safe_load(written)["slug"] == slug


def test_spreadsheet_without_inventory_header(tmp_path, capsys):
    wb = Workbook()
    wb.active.append(["a", "b", "c"])
    wb.active.append([1, 2, 3])
    wb.save(tmp_path / "otra.xlsx")
    assert main([str(tmp_path / "otra.xlsx")]) == 2
    assert "No se encontró el encabezado del inventario" in capsys.readouterr().err
