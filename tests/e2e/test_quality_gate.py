"""Quality gate end to end: real DAG runs of pqrsd_atencion_ciudadano against the stand-ins.

- a critical failure (a duplicated ``radicado``, the portal's row identifier) stops the run
  before any publish task and leaves the portal and the website untouched;
- a warning-only failure still publishes and leaves the warning in the manifest;
- the Data Docs built for these runs contain no original personal value of the sources.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
import requests

from casanare.catalog import load_catalog
from casanare.publish.portal import portal_dataset_id
from casanare.quality.scorecard import latest_scorecard, scorecard_history
from casanare.staging import RunArea, safe_run_id
from tests.conftest import run_dag

pytestmark = pytest.mark.e2e
SLUG = "pqrsd_atencion_ciudadano"  # CSV with names, cédulas, phones and e-mails of citizens
PUBLISH_TASKS = ("publicar_datos_gov_co", "publicar_casanare_gov_co")


def _runs(env) -> set[str]:
    folder = Path(env.staging_url.removeprefix("file://")) / SLUG / "ejecuciones"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _new_run(env, before: set[str]) -> RunArea:
    (name,) = _runs(env) - before
    return RunArea(env.staging_url, SLUG, name)


def _portal_count(env, dataset_id: str | None) -> int:
    if dataset_id is None:  # not created on the portal yet
        return 0
    response = requests.get(
        f"{env.portal.url}/resource/{dataset_id}.json", params={"$select": "count(*) AS n"}, timeout=30
    )
    response.raise_for_status()
    return int(response.json()[0]["n"])


# Per-run follow-up pages: every run, failed or not, reports its own attempt there (not published data).
RUN_STATUS_FOLDERS = {"seguimiento", "calidad"}


def _tree_state(folder: Path) -> dict[str, float]:
    """Every published file and folder of the website (data, pages, downloads, data.json, Atom)."""
    if not folder.exists():
        return {}
    return {str(p): p.stat().st_mtime for p in folder.rglob("*")
            if p.relative_to(folder).parts[0] not in RUN_STATUS_FOLDERS}


@pytest.fixture(scope="module")
def dataset():
    return load_catalog().get(SLUG)


@pytest.fixture(scope="module")
def critical_run(local_env, dataset, tmp_path_factory):
    """Run the DAG on a copy of the sources where one radicado appears twice."""
    sources = tmp_path_factory.mktemp("fuentes_duplicadas")
    shutil.copytree(local_env.fuentes, sources, dirs_exist_ok=True)
    path = sources / dataset.fuente.ruta
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows.append(list(rows[-1]))  # same radicado again: the row identifier is no longer unique
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL).writerows(rows)

    site_folder = local_env.web_dir
    before = {
        "runs": _runs(local_env),
        "portal_rows": _portal_count(local_env, portal_dataset_id(dataset)),
        "writes": local_env.portal.stats()["writes_applied"],
        "site": _tree_state(site_folder),
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CASANARE_SOURCE_BASE", str(sources))
        states = run_dag(SLUG)
    return {"states": states, "before": before, "area": _new_run(local_env, before["runs"]), "sources": sources}


@pytest.fixture(scope="module")
def warning_run(local_env, dataset, tmp_path_factory, critical_run):
    """Run the DAG with a copy of include/ whose suite adds a warning that always fails."""
    from casanare import settings

    include = tmp_path_factory.mktemp("include_advertencia")
    shutil.copytree(settings.include_dir(), include, dirs_exist_ok=True)
    suite_path = include / "expectations" / dataset.ruta_suite().name
    suite = json.loads(suite_path.read_text(encoding="utf-8"))
    suite["expectations"].append(
        {
            "type": "expect_table_row_count_to_be_between",
            "kwargs": {"min_value": 1, "max_value": 2},
            "meta": {"notas": "Regla de prueba: siempre falla, solo advierte."},
            "severity": "warning",
        }
    )
    suite_path.write_text(json.dumps(suite, ensure_ascii=False), encoding="utf-8")
    # One valid change to the source, so the run has something new to publish (an unchanged run
    # publishes nothing: see test_exportaciones_hostiles).
    sources = tmp_path_factory.mktemp("fuentes_cambio")
    shutil.copytree(local_env.fuentes, sources, dirs_exist_ok=True)
    path = sources / dataset.fuente.ruta
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    estado = rows[0].index("Estado")
    rows[1][estado] = "Cerrada" if rows[1][estado] != "Cerrada" else "Respondida"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL).writerows(rows)
    before = {"runs": _runs(local_env), "writes": local_env.portal.stats()["writes_applied"]}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CASANARE_INCLUDE_DIR", str(include))
        mp.setenv("CASANARE_SOURCE_BASE", str(sources))
        states = run_dag(SLUG)
    return {"states": states, "before": before, "area": _new_run(local_env, before["runs"])}


def test_critical_failure_stops_before_publishing(critical_run):
    states = critical_run["states"]
    assert states["extraer"] == "success" and states["anonimizar"] == "success", states
    assert states["validar"] == "failed", states
    for task in PUBLISH_TASKS:
        assert states[task] != "success", states
    assert states["cerrar"] != "success", states


def test_critical_failure_leaves_the_targets_untouched(local_env, dataset, critical_run):
    before = critical_run["before"]
    assert local_env.portal.stats()["writes_applied"] == before["writes"]
    assert _portal_count(local_env, portal_dataset_id(dataset)) == before["portal_rows"]
    assert _tree_state(local_env.web_dir) == before["site"]
    area = critical_run["area"]
    # Only the follow-up pages changed: the failed attempt has its own quality report.
    assert list((local_env.web_dir / "calidad").rglob(f"{area.run_id}/*.html"))
    assert area.stage("publicar_datos_gov_co") is None and area.stage("publicar_casanare_gov_co") is None


def test_critical_failure_is_in_the_manifest_with_the_data_docs_link(local_env, critical_run):
    manifest = critical_run["area"].read_json("manifest.json")
    validar = manifest["etapas"]["validar"]
    assert validar["estado"] == "fallido"
    error = validar["error"]
    assert error["tipo"] == "CalidadDeDatos", error
    failed_rules = {f["regla"] for f in error["detalles"]["fallas_criticas"]}
    assert "unico:radicado" in failed_rules
    link = error["detalles"]["data_docs"]
    assert manifest["calidad"]["data_docs"] == link and manifest["calidad"]["fallas_criticas"] >= 1
    # The link is for people (file:// or http://); the page's place under the docs root is recorded too.
    relative = error["detalles"]["data_docs_ruta"]
    assert manifest["calidad"]["data_docs_ruta"] == relative
    assert link.endswith("/" + relative)
    page = local_env.docs_dir / relative
    assert page.is_file() and page.suffix == ".html" and "validations" in page.parts
    # The scorecard is kept for the failed run too (unicidad sees the duplicated row).
    assert manifest["puntaje_mintic"]["criterios"]["unicidad"]["puntaje"] < 10


def test_warning_only_run_publishes_and_records_the_warning(local_env, warning_run):
    states = warning_run["states"]
    assert set(states.values()) == {"success"}, states
    manifest = warning_run["area"].read_json("manifest.json")
    # Published and verified on the portal (an earlier test may already have sent the same rows,
    # so the run may have had nothing new to write: the reconciled count is what must hold).
    portal = manifest["etapas"]["publicar_datos_gov_co"]
    assert portal["reconciliacion"][-1]["diferentes"] == 0
    assert _portal_count(local_env, portal["dataset_id"]) == portal["filas_en_portal"] > 0
    calidad = manifest["calidad"]
    assert calidad["exito"] is True and calidad["fallas_criticas"] == 0
    assert [w["tipo"] for w in calidad["advertencias"]] == ["expect_table_row_count_to_be_between"]
    assert calidad["aviso"] and "advertencia" in calidad["aviso"]
    assert manifest["etapas"]["publicar_datos_gov_co"]["estado"] == "ok"
    assert manifest["resultado"] == "exito"


def test_data_docs_index_keeps_every_run(local_env, critical_run, warning_run):
    index = (local_env.docs_dir / SLUG / "index.html").read_text(encoding="utf-8")
    for run in (critical_run, warning_run):
        name = run["area"].run_id
        assert name in index
        assert list((local_env.docs_dir / SLUG / "validations" / SLUG / name).rglob("*.html"))
    link = warning_run["area"].read_json("manifest.json")["calidad"]["data_docs_indice"]
    assert link.endswith(f"/{SLUG}/index.html")


def test_scorecard_history_is_stored_for_successful_runs(local_env, critical_run, warning_run):
    latest = latest_scorecard(local_env.staging_url, SLUG)
    assert latest is not None and safe_run_id(latest["ejecucion"]) == warning_run["area"].run_id
    history = scorecard_history(local_env.staging_url, SLUG)
    assert history and history[-1]["ejecucion"] == latest["ejecucion"]
    # Failed runs are not part of the published history.
    assert all(safe_run_id(h["ejecucion"]) != critical_run["area"].run_id for h in history)
    assert latest["criterios"]["accesibilidad"]["estado"] == "no_medible"
    assert 0 <= latest["promedio"] <= 10


def _personal_values(dataset, csv_path: Path) -> set[str]:
    """Names, documents, e-mails and phones of the source file, found by the catalog's headers."""
    kinds = {"nombre", "cedula", "tarjeta_identidad", "correo", "telefono", "direccion"}
    with csv_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    values: set[str] = set()
    for col in dataset.columnas:
        if col.dato_personal not in kinds:
            continue
        names = {col.nombre, *col.alias}
        (position,) = [i for i, h in enumerate(header) if h in names]
        values |= {r[position].strip() for r in rows[1:] if len(r[position].strip()) >= 5}
    return values


def test_data_docs_hold_no_original_personal_value(local_env, dataset, critical_run, warning_run):
    originals = _personal_values(dataset, local_env.fuentes / dataset.fuente.ruta)
    originals |= _personal_values(dataset, critical_run["sources"] / dataset.fuente.ruta)
    assert len(originals) > 100, "the source must hold names and documents to look for"
    pages = [p for p in local_env.docs_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" and SLUG in p.parts for p in pages)
    text = "\n".join(p.read_text(encoding="utf-8", errors="ignore") for p in pages).upper()
    tokens = set(re.findall(r"[0-9A-ZÁÉÍÓÚÑÜ@._+-]+", text))
    leaked = [v for v in originals if v.upper() in tokens or (" " in v and v.upper() in text)]
    assert leaked == []
