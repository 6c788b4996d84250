"""`make run` proof: the embedded driver exits 0 and every prioritized dataset publishes rows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from casanare.catalog import load_catalog

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(1800)  # every dataset DAG plus the platform DAGs (instrumentos, monitoreo), one by one
def test_embedded_run_publishes_every_prioritized_dataset(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CASANARE_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "plugins"), str(ROOT)])
    result = subprocess.run(
        # Default size, exactly as `make run` (k-anonymity of the microdata needs a few hundred rows).
        [sys.executable, "-m", "scripts.ejecutar_local", "--datos", str(tmp_path / "data")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    lines = result.stdout.splitlines()
    created = set()
    for ds in load_catalog().priorizados:
        row = next(line for line in lines if line.startswith(ds.slug + " "))
        assert "éxito" in row, row
        published = int(row.split()[3])
        assert published > 0, row
        created.add(row.split()[4])  # the 4x4 the empty local portal assigned on creation
    assert len(created) == len(load_catalog().priorizados)
    assert all(re.fullmatch(r"[a-z0-9]{4}-[a-z0-9]{4}", ff) for ff in created), created
    assert "Dónde mirar" in result.stdout
    assert_instruments(tmp_path / "data", result.stdout)
    assert_monitoring(tmp_path / "data")


def assert_instruments(data: Path, stdout: str) -> None:
    """The platform DAG ran last: transparency pages, Sello evidence and Fase III texts exist."""
    from openpyxl import load_workbook

    catalog = load_catalog()
    site = data / "sitio" / "transparencia"
    registro = load_workbook(site / "registro-activos.xlsx", read_only=True).worksheets[0]
    rows = list(registro.iter_rows(values_only=True))
    state = rows[0].index("Información publicada o disponible")
    slug = rows[0].index("Identificador en el catálogo")
    by_slug = {r[slug]: r[state] for r in rows[1:]}
    assert set(by_slug) == {d.slug for d in catalog.datasets}
    for ds in catalog.datasets:
        expected = "Publicada en datos.gov.co y casanare.gov.co" if ds.priorizado else "Disponible a solicitud"
        assert by_slug[ds.slug] == expected, (ds.slug, by_slug[ds.slug])
    for name in ("indice-clasificada-reservada.html", "indice-clasificada-reservada.csv", "priorizacion.xlsx",
                 "priorizacion.html", "registro-activos.csv", "index.html"):
        assert (site / name).is_file(), name
    index = (data / "sitio" / "index.html").read_text(encoding="utf-8")
    assert 'id="tabla-inventario"' in index
    instrumentos = data / "staging" / "_instrumentos"
    assert sorted(p.stem for p in (instrumentos / "sello").glob("*.xlsx")) == sorted(d.slug for d in catalog.priorizados)
    anuncios = [p.name for p in (instrumentos / "anuncios").iterdir()]
    assert len(anuncios) == len(catalog.priorizados)
    assert all((instrumentos / "anuncios" / a / "x.txt").is_file() for a in anuncios)
    assert "Instrumentos de transparencia" in stdout


def assert_monitoring(data: Path) -> None:
    """The monitoring DAG ran after the datasets: dashboard published, one history row per dataset,
    and the example visits were counted by the portal and the website's access log."""
    import sqlalchemy as sa

    assert (data / "sitio" / "tablero" / "index.html").is_file()
    eng = sa.create_engine(f"sqlite:///{data / 'monitoreo.sqlite'}")
    with eng.connect() as conn:
        rows = conn.execute(sa.text("SELECT conjunto, vistas_portal, descargas_sitio, vistas_sitio "
                                    "FROM monitoreo_conjunto_diario")).all()
    eng.dispose()
    assert sorted(r[0] for r in rows) == sorted(d.slug for d in load_catalog().priorizados)
    assert sum(r[1] or 0 for r in rows) > 0 and sum(r[3] or 0 for r in rows) > 0
