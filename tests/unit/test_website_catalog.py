"""Site-wide outputs: index, static facet pages, data.json (DCAT-US) and the Atom feed."""

from __future__ import annotations

import json
import re
import threading
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from casanare.catalog import load_catalog
from casanare.publish.portal import portal_dataset_id
from casanare.publish.site.catalog_pages import facet_value, facets
from casanare.publish.site.schedule import FRECUENCIA_TEXTO
from casanare.publish.website import LocalFolder, publish_site

pytestmark = pytest.mark.unit
ATOM = "{http://www.w3.org/2005/Atom}"
WHEN = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
POD_REQUIRED = {"title", "description", "keyword", "modified", "publisher", "contactPoint", "identifier",
                "accessLevel"}


def tiny_frame(ds, rows: int = 2) -> pd.DataFrame:
    return pd.DataFrame({c.nombre_salida: [f"v{i}" for i in range(rows)] for c in ds.columnas_publicadas})


@pytest.fixture
def site(tmp_path, monkeypatch):
    from casanare.publish.portal.ids import STATE_FILE
    from casanare.staging import DatasetArea

    datasets = load_catalog().priorizados
    # The 4x4 each dataset got when the portal created it (kept in staging by the first publication).
    monkeypatch.setenv("CASANARE_STAGING_URL", (tmp_path / "staging").as_uri())
    for i, ds in enumerate(datasets):
        DatasetArea((tmp_path / "staging").as_uri(), ds.slug).write_json(STATE_FILE, {"dataset_id": f"ab{i:02d}-cd34"})
    tmp_path = tmp_path / "sitio"
    folder = LocalFolder(tmp_path)
    for i, ds in enumerate(datasets):
        publish_site(tiny_frame(ds), ds, folder, version=f"2026112{i}T100000", published_at=WHEN + timedelta(hours=i))
    return datasets, tmp_path


def listed(html: str) -> set[str]:
    return set(re.findall(r'href="(?:\.\./\.\./)?conjuntos/([a-z0-9-]+)/index\.html"', html))


def test_index_lists_every_published_dataset(site):
    datasets, root = site
    html = (root / "index.html").read_text(encoding="utf-8")
    assert listed(html) == {d.casanare_gov_co.ruta for d in datasets}
    assert f"{len(datasets)} conjunto(s)." in html


def test_static_facet_pages_filter_without_javascript(site):
    datasets, root = site
    html = (root / "index.html").read_text(encoding="utf-8")
    entries = [json.loads(p.read_text()) for p in (root / "estado").glob("*.json")]
    for facet, values in facets(entries).items():
        assert {v["valor"] for v in values} == {facet_value(e, facet) for e in entries}
        for item in values:
            assert f'href="{item["archivo"]}"' in html
            page = (root / item["archivo"]).read_text(encoding="utf-8")
            expected = {e["ruta"] for e in entries if facet_value(e, facet) == item["valor"]}
            assert listed(page) == expected and len(expected) == item["cantidad"]
    frequencies = {FRECUENCIA_TEXTO[d.frecuencia_actualizacion] for d in datasets}
    assert {v["valor"] for v in facets(entries)["frecuencia"]} == frequencies


def test_data_json_is_dcat_us(site):
    datasets, root = site
    catalog = json.loads((root / "data.json").read_bytes())
    assert catalog["conformsTo"] == "https://project-open-data.cio.gov/v1.1/schema"
    assert catalog["@type"] == "dcat:Catalog"
    assert len(catalog["dataset"]) == len(datasets)
    by_title = {d["title"]: d for d in catalog["dataset"]}
    for ds in datasets:
        item = by_title[ds.nombre]
        assert item.keys() >= POD_REQUIRED
        assert item["accessLevel"] == "public" and item["contactPoint"]["hasEmail"].startswith("mailto:")
        assert item["publisher"]["name"].endswith(ds.dependencia)
        datetime.fromisoformat(item["modified"])
        assert item["accrualPeriodicity"] in {"R/P1D", "R/P1W", "R/P1M", "R/P3M", "R/P6M", "R/P1Y", "irregular"}
        downloads = {d.get("mediaType"): d.get("downloadURL") for d in item["distribution"]}
        assert downloads["text/csv"].endswith(f"/conjuntos/{ds.casanare_gov_co.ruta}/datos.csv")
        assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in downloads
        assert any(portal_dataset_id(ds) in (d.get("accessURL") or "") for d in item["distribution"])


def feed(root):
    tree = ET.fromstring((root / "novedades.atom").read_bytes())
    assert tree.tag == f"{ATOM}feed"
    return tree


def test_atom_feed_is_valid_and_ids_are_stable(site):
    datasets, root = site
    first = feed(root)
    assert (root / "feed.xml").read_bytes() == (root / "novedades.atom").read_bytes()
    for tag in ("id", "title", "updated"):
        assert first.find(f"{ATOM}{tag}").text
    entries = first.findall(f"{ATOM}entry")
    assert len(entries) == len(datasets)
    for e in entries:
        assert e.find(f"{ATOM}id").text.startswith("tag:casanare.gov.co,2024:")
        datetime.fromisoformat(e.find(f"{ATOM}updated").text)
        assert e.find(f"{ATOM}link").get("href").startswith("http")
        assert e.find(f"{ATOM}title").text.startswith("Nuevo conjunto: ")
    ids_before = {e.find(f"{ATOM}id").text for e in entries}
    # A new version of one dataset adds one entry ("Actualización") and keeps the old ids.
    ds = datasets[0]
    publish_site(tiny_frame(ds, 3), ds, LocalFolder(root), version="20261201T100000",
                 published_at=WHEN + timedelta(days=9))
    second = feed(root)
    entries2 = second.findall(f"{ATOM}entry")
    ids_after = [e.find(f"{ATOM}id").text for e in entries2]
    assert ids_before < set(ids_after) and len(ids_after) == len(set(ids_after))
    newest = entries2[0]
    assert newest.find(f"{ATOM}title").text == f"Actualización: {ds.nombre}"
    assert second.find(f"{ATOM}updated").text == newest.find(f"{ATOM}updated").text


def test_concurrent_publications_keep_every_index_entry(tmp_path):
    """Several DAGs publishing at once: nobody's entry is lost from the index, feed or data.json."""
    datasets = load_catalog().priorizados
    folder = LocalFolder(tmp_path)
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(datasets))

    def publish(ds):
        try:
            barrier.wait()
            for round_ in range(2):
                publish_site(tiny_frame(ds), ds, folder, version=f"2026112{round_}T100000", published_at=WHEN)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(ds,)) for ds in datasets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    expected = {d.casanare_gov_co.ruta for d in datasets}
    assert listed((tmp_path / "index.html").read_text(encoding="utf-8")) == expected
    assert len(json.loads((tmp_path / "data.json").read_bytes())["dataset"]) == len(datasets)
    assert len(feed(tmp_path).findall(f"{ATOM}entry")) == 2 * len(datasets)
    leftovers = [p for p in tmp_path.rglob(".*")]
    assert leftovers == []
