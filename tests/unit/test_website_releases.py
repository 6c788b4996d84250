"""Past website versions: bounded, pruned from site, data.json and feed; withdrawn if they fail today."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from casanare.catalog import load_catalog
from casanare.privacy.stage import release_violation
from casanare.publish.website import LocalFolder, publish_site

pytestmark = pytest.mark.unit
START = datetime(2026, 11, 1, 15, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"


def frame(ds, rows: int = 12) -> pd.DataFrame:
    """A k-anonymous vacunación table (classes of 6)."""
    return pd.DataFrame({
        "id_aplicacion": [f"PAI-{i:07d}" for i in range(rows)],
        "rango_edad": ["0-4"] * (rows // 2) + ["5-9"] * (rows - rows // 2),
        "sexo": ["F"] * rows,
        "biologico": ["BCG"] * rows,
        "dosis": ["Única"] * rows,
        "mes_aplicacion": ["2026-01"] * rows,
        "codigo_municipio": ["85001"] * rows,
    })[[c.nombre_salida for c in ds.columnas_publicadas]]


def publish(ds, site, n: int, **kw) -> dict:
    return publish_site(frame(ds), ds, site, version=f"v{n:02d}", published_at=START + timedelta(days=n),
                        release_check=lambda past: release_violation(past, ds), **kw)


def test_only_the_bounded_number_of_past_versions_stays_online(tmp_path):
    ds = load_catalog().get("vacunacion_pai")
    assert ds.versiones_sitio == 3
    site = LocalFolder(tmp_path)
    for n in range(1, 7):
        report = publish(ds, site, n)
    ruta = ds.casanare_gov_co.ruta
    folders = sorted(p.name for p in (tmp_path / "versiones" / ruta).iterdir())
    assert folders == ["v03", "v04", "v05", "v06"]  # the current one and three past ones
    assert report["versiones_anteriores"]["versiones_borradas"] == 1  # v02 went in this run
    # data.json lists the current downloads and the three past CSVs, nothing older.
    catalog = json.loads((tmp_path / "data.json").read_text(encoding="utf-8"))
    item = next(d for d in catalog["dataset"] if d["landingPage"].endswith(f"/conjuntos/{ruta}/"))
    urls = [d.get("downloadURL", "") for d in item["distribution"]]
    past = sorted(u.split("/")[-2] for u in urls if "/versiones/" in u)
    assert past == ["v03", "v04", "v05"]
    # The feed announces only versions still on the site.
    feed = ET.fromstring((tmp_path / "novedades.atom").read_bytes())
    ids = [e.find(f"{ATOM}id").text.rsplit("/", 1)[-1] for e in feed.iter(f"{ATOM}entry")]
    assert sorted(i for i in ids if i.startswith("v")) == ["v03", "v04", "v05", "v06"]
    # The page's history still lists every version but links only the downloadable ones.
    html = (tmp_path / "conjuntos" / ruta / "index.html").read_text(encoding="utf-8")
    for gone in ("v01", "v02"):
        assert f"versiones/{ruta}/{gone}/" not in html and gone in html
    for kept in ("v03", "v04", "v05"):
        assert f"versiones/{ruta}/{kept}/datos.csv" in html


def test_a_release_failing_todays_privacy_policy_is_withdrawn(tmp_path):
    sample = load_catalog().get("vacunacion_pai")
    site = LocalFolder(tmp_path)
    ruta = sample.casanare_gov_co.ruta
    # Yesterday's catalog still published the person pseudonym (the linkable release of the issue).
    from casanare.catalog import Regla

    old = sample.model_copy(update={"columnas": [
        c.model_copy(update={"regla": Regla(accion="seudonimizar"), "nombre_publicado": "id_persona"})
        if c.nombre == "numero_documento" else c for c in sample.columnas]})
    old_frame = frame(sample).assign(id_persona=[f"P{i:024x}" for i in range(12)])
    publish_site(old_frame, old, site, version="v01", published_at=START)
    # A second old release, made when the catalog asked k=2: same columns, a lone 80+ row.
    lax = sample.model_copy(update={"microdatos": sample.microdatos.model_copy(update={"k": 2})})
    thin = frame(sample)
    thin.loc[0, "rango_edad"] = "80+"
    first = publish_site(thin, lax, site, version="v02", published_at=START + timedelta(days=1))
    # Its column is not published any more: v01 is withdrawn by the very next publication.
    assert "id_persona" in first["versiones_anteriores"]["motivos_retiro"]["v01"]
    # A third, fine under today's policy.
    publish_site(frame(sample), sample, site, version="v03", published_at=START + timedelta(days=2))
    report = publish(sample, site, 4)
    folders = sorted(p.name for p in (tmp_path / "versiones" / ruta).iterdir())
    assert folders == ["v03", "v04"]
    motivos = report["versiones_anteriores"]["motivos_retiro"]
    assert list(motivos) == ["v02"] and "k=5" in motivos["v02"]
    state = json.loads((tmp_path / "estado" / f"{ruta}.json").read_text(encoding="utf-8"))
    by_version = {v["version"]: v for v in state["versiones"]}
    assert by_version["v01"]["descargable"] is False and "retirada" in by_version["v01"]
    assert by_version["v03"]["descargable"] is True
    # Withdrawn releases are not linked anywhere public.
    for name in ("data.json", "novedades.atom", f"conjuntos/{ruta}/index.html"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "/v01/" not in text and "/v02/" not in text
