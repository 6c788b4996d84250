"""The ``instrumentos`` platform DAG after a real dataset run: instruments, Sello, Fase III.

A dataset DAG publishes (new → one set of announcements); a rerun on the same source publishes
nothing new (no announcement, no Atom entry); the Monday digest reaches the communications team.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import restored_environ, run_dag

pytestmark = pytest.mark.e2e
SLUG = "red_vial_departamental"
COMMS = "prensa@casanare.gov.co"
TASKS = {"transparencia", "evidencias_sello", "anuncios", "resumen_comunicaciones"}
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def private(local_env, tmp_path) -> Iterator[Path]:
    local_env.smtp.clear()
    site = {"conn_type": "fs", "extra": {"path": str(tmp_path / "sitio")}}
    with restored_environ(CASANARE_STAGING_URL=(tmp_path / "staging").as_uri(),
                          AIRFLOW_CONN_CASANARE_GOV_CO=json.dumps(site), CASANARE_COMUNICACIONES_EMAILS=COMMS):
        yield tmp_path
    local_env.smtp.clear()


def test_instruments_follow_the_real_state(local_env, private):
    from casanare.catalog import load_catalog

    catalog = load_catalog()
    assert set(run_dag(SLUG).values()) == {"success"}
    states = run_dag("instrumentos", resumen=True)
    assert set(states) == TASKS and set(states.values()) == {"success"}

    site = private / "sitio"
    html = (site / "transparencia" / "registro-activos.html").read_text(encoding="utf-8")
    row = html.split(catalog.get(SLUG).nombre, 1)[1].split("</tr>", 1)[0]
    assert "Publicada en datos.gov.co y casanare.gov.co" in row
    assert (private / "staging" / "_instrumentos" / "sello" / f"{SLUG}.xlsx").is_file()
    anuncios = private / "staging" / "_instrumentos" / "anuncios"
    (first,) = list(anuncios.iterdir())
    meta = json.loads((first / "anuncio.json").read_text(encoding="utf-8"))
    assert meta["tipo"] == "nuevo" and meta["longitud_x"] <= 280
    mails = [m for m in local_env.smtp.messages() if "Anuncios de datos abiertos" in m["Subject"]]
    assert len(mails) == 1 and mails[0]["To"] == COMMS

    # Same source again: the dataset republishes, but nothing is news.
    assert set(run_dag(SLUG).values()) == {"success"}
    assert set(run_dag("instrumentos").values()) == {"success"}
    assert list(anuncios.iterdir()) == [first]
    feed = ET.fromstring((site / "novedades.atom").read_bytes())
    titles = [e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")]
    assert titles == [f"Nuevo conjunto: {catalog.get(SLUG).nombre}"]
