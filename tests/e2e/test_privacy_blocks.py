"""Each privacy safeguard blocks publication for real: DAG runs against the stand-ins.

* a ``reservada`` column that tries to publish → the catalog refuses the dataset (no DAG at all);
* an undeclared source column full of cédulas → dropped before staging, the run publishes;
* identifiers hidden in a ``redactar_texto`` column → replaced, the run publishes;
* identifiers in a ``publicar`` text column → the final scan fails ``anonimizar``: nothing on the
  portal or the website, a "datos personales detectados" e-mail without the values.

Runs use the session deployment (``local_env``) with a private copy of the PQRSD CSV source and,
when the catalog must change, a private catalog folder; ``os.environ`` is restored afterwards.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from casanare.catalog import CatalogError, load_catalog
from casanare.publish.portal import portal_dataset_id
from casanare.staging import RunArea
from tests.conftest import last_run_area, restored_environ, run_dag

pytestmark = pytest.mark.e2e

SLUG = "pqrsd_atencion_ciudadano"
SOURCE = Path("atencion_ciudadano/pqrsd.csv")
ROOT = Path(__file__).resolve().parents[2]
# Made-up identifiers injected by the tests (valid shapes: cédula, mobile, NIT with its check digit).
CEDULA = "1087654329"
CELULAR = "3157654321"
CORREO = "peticionario.prueba77@gmail.com"
NIT = "900123456-8"
INJECTED = [CEDULA, CELULAR, CORREO, NIT]


@pytest.fixture
def env(local_env, tmp_path) -> Iterator:
    """The session deployment with private sources and catalog; os.environ restored afterwards."""
    sources = tmp_path / "fuentes"
    shutil.copytree(local_env.fuentes, sources)
    catalog = tmp_path / "catalogo"
    shutil.copytree(ROOT / "include" / "catalog", catalog)
    local_env.smtp.clear()
    with restored_environ(CASANARE_SOURCE_BASE=str(sources), CASANARE_CATALOG_DIR=str(catalog)):
        yield local_env, sources, catalog
    local_env.smtp.clear()


def edit_csv(sources: Path, change) -> None:
    """Rewrite the PQRSD CSV copy through ``change(header, rows)``."""
    path = sources / SOURCE
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    change(header, body)
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL).writerows([header, *body])


def edit_catalog(catalog: Path, change) -> None:
    path = catalog / f"{SLUG}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def portal_dump(local_env) -> tuple[int, str]:
    ds = load_catalog(ROOT / "include" / "catalog").get(SLUG)
    if portal_dataset_id(ds) is None:  # not created on the portal yet: nothing published
        return 0, "[]"
    response = requests.get(f"{local_env.portal.url}/resource/{portal_dataset_id(ds)}.json",
                            params={"$limit": 1_000_000}, timeout=60)
    response.raise_for_status()
    rows = response.json()
    return len(rows), json.dumps(rows, ensure_ascii=False)


# Every run, blocked or not, rewrites its status page and quality report (that is what tells the
# dependencia about the blocked attempt); everything else on the site must stay as it was.
RUN_STATUS_FOLDERS = {"seguimiento", "calidad"}


def website_dump(local_env) -> str:
    texts = []
    for path in sorted(local_env.web_dir.rglob("*")):
        if path.relative_to(local_env.web_dir).parts[0] in RUN_STATUS_FOLDERS:
            continue
        if path.is_file() and path.suffix in {".html", ".csv", ".json", ".txt", ".xml"}:
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


def last_run(local_env) -> RunArea:
    return last_run_area(local_env.staging_url, SLUG)


def test_reservada_column_that_publishes_is_refused_by_the_catalog(env):
    _, _, catalog = env

    def publish_reserved(data):
        asunto = next(c for c in data["columnas"] if c["nombre"] == "asunto")
        asunto["clasificacion"] = "reservada"  # rule stays redactar_texto: it would publish something

    edit_catalog(catalog, publish_reserved)
    with pytest.raises(CatalogError) as info:
        load_catalog()
    message = str(info.value)
    assert f"{SLUG}.yaml" in message and "reservada" in message and "asunto" in message
    # No DAG can be built from it: the DAG file fails to import instead of publishing anything.
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.get_dag(SLUG) is None and bag.import_errors


def test_undeclared_column_is_dropped_and_identifiers_in_free_text_are_redacted(env):
    local_env, sources, _ = env

    def inject(header, rows):
        header.append("Cédula del funcionario que atendió")
        for i, row in enumerate(rows):
            row.append(str(int(CEDULA) + i))
            if i % 10 == 0:
                row[header.index("Asunto")] += (
                    f". Peticionario identificado con cédula {CEDULA}, celular {CELULAR}, correo {CORREO}, "
                    f"empresa NIT {NIT}"
                )

    edit_csv(sources, inject)
    states = run_dag(SLUG)
    assert set(states.values()) == {"success"}, states
    run = last_run(local_env)
    published = run.read_parquet("anonimizado.parquet")
    declared = {c.nombre_salida for c in load_catalog().get(SLUG).columnas_publicadas}
    assert set(published.columns) <= declared
    report = run.stage("anonimizar")
    assert report["reglas"]["asunto"]["reemplazos"] >= 4 * ((len(published) + 9) // 10)
    assert report["revision_datos_personales"]["estado"] == "sin_hallazgos"
    assert published["asunto"].str.contains("[DATO PROTEGIDO]", regex=False).sum() >= len(published) // 10
    count, portal = portal_dump(local_env)
    assert count > 0 and "[DATO PROTEGIDO]" in portal
    site = website_dump(local_env)
    staging_text = published.to_csv(index=False)
    for value in [*INJECTED, str(int(CEDULA) + 5)]:
        assert value not in portal and value not in site and value not in staging_text


def test_identifiers_in_a_publicar_column_block_the_run_before_anything_is_published(env):
    local_env, sources, catalog = env

    def publish_as_is(data):
        asunto = next(c for c in data["columnas"] if c["nombre"] == "asunto")
        asunto["regla"] = "publicar"
        asunto.pop("dato_personal", None)  # the catalog would refuse free text published as is

    def inject(header, rows):
        rows[3][header.index("Asunto")] += f". Escribir a {CORREO}"
        rows[7][header.index("Asunto")] += f". Identificado con C.C. {CEDULA}"

    edit_catalog(catalog, publish_as_is)
    edit_csv(sources, inject)
    before_count, before_portal = portal_dump(local_env)
    before_site = website_dump(local_env)
    states = run_dag(SLUG)
    assert states["anonimizar"] == "failed", states
    assert states["publicar_datos_gov_co"] == "upstream_failed"
    assert states["publicar_casanare_gov_co"] == "upstream_failed"
    after_count, after_portal = portal_dump(local_env)
    assert (after_count, after_portal) == (before_count, before_portal)
    assert website_dump(local_env) == before_site
    run = last_run(local_env)
    assert not run.exists("anonimizado.parquet")
    error = run.stage("anonimizar")["error"]
    assert error["causa"] == "datos_personales_detectados"
    assert error["ubicacion"]["columna"] == "asunto" and error["ubicacion"]["archivo"] == "pqrsd.csv"
    assert "asunto" in error["como_corregir"] and "redactar_texto" in error["como_corregir"]
    manifest = json.dumps(run.read_json("manifest.json", {}), ensure_ascii=False)
    messages = local_env.smtp.messages()
    assert messages and "datos personales" in messages[0]["Subject"].lower()
    mails = "\n".join(
        [m["Subject"] for m in messages]
        + [part.get_content() for m in messages for part in m.walk() if part.get_content_maintype() == "text"]
    )
    for value in (CORREO, CEDULA):
        assert value not in manifest and value not in mails and value not in after_portal
