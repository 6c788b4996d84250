"""What operators see in the Airflow UI: Spanish doc_md, tags, owner, task names, assets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from casanare.catalog import Dataset, load_catalog
from casanare.dag_docs import doc_md, portal_page_url, public_data_docs_url, website_page_url

pytestmark = pytest.mark.unit

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "catalogo_valido.yaml"


def fixture_dataset(**changes) -> Dataset:
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    data.update(changes)
    return Dataset.model_validate(data)


@pytest.mark.parametrize("ds", load_catalog().priorizados, ids=lambda d: d.slug)
def test_every_dataset_doc_explains_itself(ds):
    text = doc_md(ds)
    assert text.startswith(f"# {ds.nombre}\n")
    for needed in (ds.dependencia, ds.categoria, "Frecuencia de actualización", "Suite de calidad",
                   "Reglas de privacidad vigentes", "[Data Docs]("):
        assert needed in text
    if ds.datos_gov_co.dataset_id:
        assert f"]({portal_page_url(ds)})" in text
    else:  # created on its first publication: parse time reads no staging, the task has the link
        assert portal_page_url(ds) is None and "se crea en la primera publicación" in text
    assert f"]({website_page_url(ds)})" in text
    for col in ds.columnas:
        assert f"| `{col.nombre}` |" in text
    assert ("**datos personales** (Ley 1581 de 2012)" in text) == ds.tiene_datos_personales
    # Every table row has the same number of cells: no value broke the Markdown table.
    privacy = [line for line in text.splitlines() if line.startswith("| `")]
    assert all(line.count(" | ") == 4 for line in privacy)


def test_portal_link_uses_the_assigned_id_when_the_catalog_has_none(monkeypatch):
    monkeypatch.setenv("CASANARE_PORTAL_PUBLIC_URL", "https://www.datos.gov.co")
    ds = fixture_dataset(datos_gov_co={"identificador_fila": "id_persona"})
    assert portal_page_url(ds) is None
    assert portal_page_url(ds, "ab12-cd34") == "https://www.datos.gov.co/d/ab12-cd34"
    from casanare.factory import portal_asset

    assert portal_asset(ds).uri == f"socrata://www.datos.gov.co/casanare/{ds.slug}"  # stable before creation


def test_doc_shows_rules_and_what_is_published():
    text = doc_md(fixture_dataset())
    assert "| `cedula` | cedula | pública | se reemplaza por un seudónimo (HMAC-SHA256 con clave) | `id_persona` |" in text
    assert "| `nombre` | nombre | clasificada | no se publica | no se publica |" in text
    assert "| `edad` | edad | pública | se generaliza (rango_edad) |" in text
    assert "desactualizado si pasan más de 32 días" in text


def test_pipes_and_line_breaks_do_not_break_tables():
    text = doc_md(fixture_dataset(dependencia="Secretaría | Hacienda", ubicacion="Carpeta\ncompartida | B"))
    assert "| **Dependencia responsable** | Secretaría \\| Hacienda |" in text
    assert "| **Ubicación de la fuente** | Carpeta compartida \\| B |" in text


def test_public_data_docs_url_maps_the_build_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("CASANARE_DATA_DOCS_DIR", str(tmp_path))
    monkeypatch.setenv("CASANARE_DATA_DOCS_URL", "https://calidad.casanare.gov.co/docs/")
    page = (tmp_path / "x" / "index.html").as_uri()
    assert public_data_docs_url(page) == "https://calidad.casanare.gov.co/docs/x/index.html"
    assert public_data_docs_url("https://otro/y.html") == "https://otro/y.html"
    assert public_data_docs_url(None) is None


def test_built_dag_carries_tags_owner_doc_and_assets():
    from casanare.factory import build_dag

    ds = fixture_dataset()
    dag = build_dag(ds)
    assert dag.doc_md == doc_md(ds)
    assert set(dag.tags) == {"Secretaría de Salud", "frecuencia:mensual", "Salud y Protección Social",
                             "datos-personales"}
    assert {t.owner for t in dag.tasks} == {"Secretaría de Salud"}
    assert [t.task_id for t in dag.topological_sort()][:3] == ["extraer", "anonimizar", "validar"]
    assert all(t.doc_md for t in dag.tasks)
    outlets = {t.task_id: [a.uri for a in t.outlets] for t in dag.tasks if t.outlets}
    assert outlets == {
        "publicar_datos_gov_co": ["socrata://www.datos.gov.co/test-0001"],
        "publicar_casanare_gov_co": ["https://www.casanare.gov.co/datos-abiertos/prueba"],
    }
