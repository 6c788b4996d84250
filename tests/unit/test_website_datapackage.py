"""Typed downloads: datapackage.json from the catalog, and what a blank cell means."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from casanare.catalog import load_catalog
from casanare.publish.site.datapackage import datapackage, datapackage_bytes

pytestmark = pytest.mark.unit

TO_PANDAS = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean"}


def fields(slug: str) -> dict[str, dict]:
    ds = load_catalog().get(slug)
    package = datapackage(ds, version="20260101T000000", rows=3, formats=["csv", "xlsx", "json"])
    assert package["profile"] == "tabular-data-package"
    assert [r["path"] for r in package["resources"]] == ["datos.csv", "datos.xlsx", "datos.json"]
    schema = package["resources"][0]["schema"]
    assert [f["name"] for f in schema["fields"]] == [c.nombre_salida for c in ds.columnas_publicadas]
    return {f["name"]: f for f in schema["fields"]}


def test_codes_are_text_integers_integers_and_dates_dates():
    pqrsd = fields("pqrsd_atencion_ciudadano")
    assert pqrsd["codigo_municipio"]["type"] == "string"
    assert pqrsd["dias_respuesta"]["type"] == "integer"
    assert pqrsd["dias_respuesta"]["constraints"]["minimum"] == 0
    kinds = {f["type"] for f in fields("ejecucion_presupuestal_gastos").values()}
    assert "number" in kinds
    ds = load_catalog().get("vacunacion_pai")
    declared = {c.nombre_salida: c.tipo_salida for c in ds.columnas_publicadas}
    for name, field in fields("vacunacion_pai").items():
        if declared[name] == "fecha":
            assert (field["type"], field["format"]) == ("date", "%Y-%m-%d")
        if declared[name] == "fecha_hora":
            assert field["type"] == "datetime"


def test_blank_cells_say_suppression_unknown_or_never():
    vacunacion = fields("vacunacion_pai")
    assert "suprimido por protección" in vacunacion["codigo_municipio"]["casanare:vacio"]
    assert "required" not in vacunacion["codigo_municipio"].get("constraints", {})
    pqrsd = fields("pqrsd_atencion_ciudadano")
    assert "aún no conocido" in pqrsd["dias_respuesta"]["casanare:vacio"]
    assert "obligatorio" in pqrsd["radicado"]["casanare:vacio"]


def test_a_reader_following_the_package_keeps_codes_as_text():
    from casanare.publish.site.downloads import csv_bytes

    ds = load_catalog().get("pqrsd_atencion_ciudadano")
    package = json.loads(datapackage_bytes(ds, version="v", rows=2, formats=["csv"]))
    schema = package["resources"][0]["schema"]
    frame = pd.DataFrame({"codigo_municipio": pd.Series(["85001", "08001"], dtype="string"),
                          "dias_respuesta": pd.Series([21, None], dtype="Int64")})
    text = csv_bytes(frame).decode("utf-8-sig")
    assert "21.0" not in text
    dtypes = {f["name"]: TO_PANDAS[f["type"]] for f in schema["fields"] if f["name"] in frame.columns}
    read = pd.read_csv(io.StringIO(text), dtype=dtypes, keep_default_na=False, na_values=schema["missingValues"])
    assert list(read["codigo_municipio"]) == ["85001", "08001"]
    assert read["dias_respuesta"].iloc[0] == 21 and pd.isna(read["dias_respuesta"].iloc[1])


def test_the_page_explains_blanks_and_links_the_package(tmp_path):
    from datetime import UTC, datetime

    from casanare.publish.site.transport import LocalFolder
    from casanare.publish.website import publish_site

    ds = load_catalog().get("vacunacion_pai")
    frame = pd.DataFrame({c.nombre_salida: pd.Series([None], dtype="object") for c in ds.columnas_publicadas})
    transport = LocalFolder(tmp_path)
    report = publish_site(frame, ds, transport, version="20260101T000000", published_at=datetime.now(UTC))
    assert "datapackage.json" in report["archivos"]
    page = (tmp_path / "versiones" / ds.casanare_gov_co.ruta / "20260101T000000" / "index.html").read_text()
    assert "Qué significa una celda vacía" in page and 'href="datapackage.json"' in page
    package = json.loads((tmp_path / "versiones" / ds.casanare_gov_co.ruta / "20260101T000000"
                          / "datapackage.json").read_text())
    assert package["version"] == "20260101T000000"
