"""No linkage across datasets: on the `make run` downloads, no pseudonym is shared outside a group.

The sample population is shared on purpose (a contractor also files PQRSD and gets vaccinated),
so the raw sources do link people across datasets. The test builds the real downloads (extract →
anonymize → website files, the production path on the session's `make run` environment) and
harvests every pseudonym from every public file. A positive control applies the same rules to
the four person datasets with their documents pseudonymized: under one linkable group they share
pseudonyms (the matcher would see a leak), with per-dataset keys they share none.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

import pytest

from casanare.catalog import Regla, load_catalog

pytestmark = pytest.mark.e2e
PSEUDONYM = re.compile(r"P[0-9a-f]{24}")
PERSON_DATASETS = {
    "vacunacion_pai": "numero_documento",
    "matricula_escolar": "numero_documento",
    "pqrsd_atencion_ciudadano": "documento_peticionario",
    "contratos_gobernacion": "documento_contratista",
}


@pytest.fixture(scope="module")
def downloads(local_env, tmp_path_factory) -> dict[str, str]:
    """slug → text of every public download of that dataset (CSV, JSON and XLSX cells)."""
    from python_calamine import CalamineWorkbook

    from casanare import tasks
    from casanare.publish.website import LocalFolder, publish_site

    site = tmp_path_factory.mktemp("sitio_vinculacion")
    texts: dict[str, str] = {}
    for ds in load_catalog().priorizados:
        run_id = f"vinculacion__{ds.slug}"
        tasks.run_extract(ds.slug, run_id, None)
        tasks.run_anonymize(ds.slug, run_id, None)
        area, _ = tasks.areas(ds.slug, run_id)
        publish_site(area.read_parquet("anonimizado.parquet"), ds, LocalFolder(site), version="v1",
                     published_at=datetime.now(UTC), privacidad=area.stage("anonimizar"))
        folder = site / "versiones" / ds.casanare_gov_co.ruta / "v1"
        parts = [(folder / name).read_text(encoding="utf-8-sig") for name in ("datos.csv", "datos.json")]
        if (folder / "datos.xlsx").exists():
            book = CalamineWorkbook.from_path(str(folder / "datos.xlsx"))
            parts += [str(book.get_sheet_by_name(n).to_python()) for n in book.sheet_names]
        texts[ds.slug] = "\n".join(parts)
    return texts


def test_no_pseudonym_appears_in_two_datasets_outside_a_declared_group(downloads):
    catalog = load_catalog()
    harvested = {slug: set(PSEUDONYM.findall(text)) for slug, text in downloads.items()}
    assert harvested["contratos_gobernacion"], "el contratista se publica con seudónimo: debe haber seudónimos"
    for a, b in combinations(sorted(harvested), 2):
        shared = harvested[a] & harvested[b]
        group_a, group_b = catalog.get(a).grupo_seudonimos, catalog.get(b).grupo_seudonimos
        if group_a is None or group_a != group_b:
            assert not shared, f"{len(shared)} seudónimos compartidos entre {a} y {b} sin grupo declarado"


def _raw_documents(slug: str, column: str) -> set[str]:
    from casanare import tasks
    from casanare.privacy.pseudonym import normalize_identifier

    area, _ = tasks.areas(slug, f"vinculacion__{slug}")
    values = area.read_parquet("extraido.parquet")[column].dropna()
    return {normalize_identifier(v) for v in values}


def _pseudonyms_with(slug: str, column: str, grupo: str | None) -> set[str]:
    """The dataset's rules with its document published as a pseudonym (and an optional group)."""
    from casanare import tasks
    from casanare.privacy.rules import apply_rules
    from casanare.privacy.stage import reference_names

    ds = load_catalog().get(slug)
    ds = ds.model_copy(update={"grupo_seudonimos": grupo, "columnas": [
        c.model_copy(update={"regla": Regla(accion="seudonimizar"), "clasificacion": "publica"})
        if c.nombre == column else c for c in ds.columnas]})
    area, _ = tasks.areas(slug, f"vinculacion__{slug}")
    key = os.environ["AIRFLOW_CONN_CLAVE_SEUDONIMIZACION"]
    import json

    out, _ = apply_rules(area.read_parquet("extraido.parquet"), ds, key=json.loads(key)["password"],
                         reference=datetime.now(UTC).date(), names=reference_names())
    name = next(c.nombre_salida for c in ds.columnas if c.nombre == column)
    return set(out[name].dropna())


def test_positive_control_the_sources_link_people_and_a_group_would_show_it(downloads):
    raw = {slug: _raw_documents(slug, col) for slug, col in PERSON_DATASETS.items()}
    linked_pairs = [(a, b) for a, b in combinations(sorted(raw), 2) if raw[a] & raw[b]]
    assert linked_pairs, "la población de ejemplo debe compartir personas entre conjuntos"
    own = {slug: _pseudonyms_with(slug, col, None) for slug, col in PERSON_DATASETS.items()}
    grouped = {slug: _pseudonyms_with(slug, col, "todos") for slug, col in PERSON_DATASETS.items()}
    for a, b in linked_pairs:
        assert grouped[a] & grouped[b], (a, b)  # the harvest would catch a linkable release
        assert not own[a] & own[b], (a, b)  # per-dataset keys: nothing to join on


def test_each_run_has_a_numbers_only_privacy_report(downloads):
    from casanare import settings, tasks

    for ds in load_catalog().priorizados:
        area, _ = tasks.areas(ds.slug, f"vinculacion__{ds.slug}")
        informe = area.read_json("manifest.json")["etapas"]["anonimizar"]["informe_privacidad"]
        assert informe["umbrales"]["retencion_dias"] == 30
        page = Path(informe["pagina"])
        assert page.is_file() and page.parent.parent == settings.data_docs_dir() / ds.slug
        html = page.read_text(encoding="utf-8")
        assert "Informe de privacidad" in html
        if ds.microdatos:
            kanon = informe["k_anonimato"]
            assert kanon["k_logrado"] >= ds.microdatos.k and "Clases menores que k" in html
            assert 0 <= kanon["proporcion_clases_menores_k"] <= 1
        # Numbers only: no published value of the dataset appears in the report.
        published = area.read_parquet("anonimizado.parquet")
        long_values = {str(v) for col in published.columns for v in published[col].dropna().unique()
                       if len(str(v)) >= 8}
        assert not [v for v in long_values if v in html]
