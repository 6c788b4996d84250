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
