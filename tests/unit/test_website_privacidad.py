"""The dataset page's privacy section: k and loss in numbers, legal basis, linkage group."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from casanare import settings
from casanare.catalog import Catalog, load_catalog
from casanare.privacy.stage import anonimizar
from casanare.publish.site.privacy_panel import privacy_view
from casanare.publish.website import LocalFolder, publish_site

pytestmark = pytest.mark.unit
WHEN = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)


def _env():
    return Environment(loader=FileSystemLoader(str(settings.include_dir() / "templates" / "sitio")),
                       autoescape=select_autoescape(default=True, default_for_string=True), undefined=StrictUndefined)


def test_page_reports_k_levels_and_information_loss(tmp_path):
    ds = load_catalog().get("vacunacion_pai")
    n = 120
    source = pd.DataFrame({
        "id_aplicacion": [f"PAI-{i:07d}" for i in range(n)], "tipo_documento": ["RC"] * n,
        "numero_documento": [str(1_000_000 + i) for i in range(n)], "nombres": ["ANA"] * n, "apellidos": ["RUIZ"] * n,
        "fecha_nacimiento": pd.to_datetime(["2024-01-01"] * n), "edad": [1] * 108 + [23, 27, 31, 36] * 3,
        "sexo": ["F", "M"] * 60, "telefono": ["3101234567"] * n, "direccion": ["CALLE 1"] * n,
        "biologico": ["BCG"] * n, "dosis": ["Única"] * n, "fecha_aplicacion": pd.to_datetime(["2026-01-15"] * n),
        "ips_vacunadora": ["IPS"] * n, "codigo_municipio": ["85001"] * n, "municipio": ["Yopal"] * n,
    })
    published, report = anonimizar(source, ds, key=None, reference=WHEN.date())
    # 23, 27, 31 and 36 are classes of 3 (< 5); suppression alone would leave only "0-4".
    assert report["k_anonimato"]["niveles"]["rango_edad"]["nivel"] >= 1
    assert published["rango_edad"].nunique() >= 2
    publish_site(published, ds, LocalFolder(tmp_path), version="v1", published_at=WHEN,
                 privacidad={"estado": "ok", **report})
    html = (tmp_path / "conjuntos" / ds.casanare_gov_co.ruta / "index.html").read_text(encoding="utf-8")
    section = html.split('id="privacidad"', 1)[1].split("<h2", 1)[0]
    assert "k-anonimato" in section and "Pérdida de información" in section
    assert "rango de 10 años" in section or "etapa de vida" in section
    assert "1000000" not in html  # numbers only, never a value


def test_legal_basis_is_shown_on_the_page(tmp_path):
    ds = load_catalog().get("contratos_gobernacion")
    view = privacy_view(ds, None)
    assert {f["columna"] for f in view["fundamentos"]} == {"tipo_documento_contratista", "id_contratista"}
    html = _env().get_template("_privacidad.html").render(privacidad=view)
    assert "Ley 1150 de 2007" in html and "mandato legal" in html
    assert "seudónimos propios de este conjunto" in html


def test_a_linkable_group_is_documented_on_both_pages():
    catalog = load_catalog()
    a = catalog.get("vacunacion_pai").model_copy(update={"grupo_seudonimos": "salud_escolar"})
    b = catalog.get("matricula_escolar").model_copy(update={"grupo_seudonimos": "salud_escolar"})
    both = Catalog([a, b])
    from casanare.catalog import Regla

    def with_pseudonym(ds):
        return ds.model_copy(update={"columnas": [
            c.model_copy(update={"regla": Regla(accion="seudonimizar")}) if c.nombre == "numero_documento" else c
            for c in ds.columnas]})

    for here, there in ((a, b), (b, a)):
        html = _env().get_template("_privacidad.html").render(privacidad=privacy_view(with_pseudonym(here), None, both))
        assert "salud_escolar" in html and there.nombre in html and "a propósito" in html
        assert f"../{there.casanare_gov_co.ruta}/index.html" in html
