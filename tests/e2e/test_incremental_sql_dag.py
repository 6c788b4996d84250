"""An incremental SQL dataset keeps the whole table on the portal across runs."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa

from casanare.catalog import load_catalog
from casanare.publish.portal import portal_dataset_id
from tests.conftest import run_dag

pytestmark = pytest.mark.e2e
SLUG = "contratos_gobernacion"


def portal_rows(env, dataset_id):
    response = requests.get(f"{env.portal.url}/resource/{dataset_id}.json", params={"$limit": 50000}, timeout=30)
    response.raise_for_status()
    return {row["numero_contrato"]: row for row in response.json()}


def test_second_run_sends_the_delta_and_keeps_untouched_rows(local_env):
    ds = load_catalog().get(SLUG)
    assert set(run_dag(SLUG).values()) == {"success"}
    dataset_id = portal_dataset_id(ds)  # assigned when the first publication created the dataset
    before = portal_rows(local_env, dataset_id)
    assert before

    engine = sa.create_engine(local_env.sql_urls[ds.fuente.conexion])
    with engine.begin() as conn:
        ids = [r[0] for r in conn.execute(sa.text("SELECT numero_contrato FROM contrato ORDER BY numero_contrato LIMIT 3"))]
        # What the department's system writes: Colombian wall-clock time, without a zone.
        now = datetime.now(ZoneInfo(ds.fuente.zona_horaria)).replace(tzinfo=None)
        conn.execute(
            sa.text("UPDATE contrato SET estado = 'Liquidado', fecha_actualizacion = :ahora WHERE numero_contrato IN :ids")
            .bindparams(sa.bindparam("ids", expanding=True)),
            {"ahora": now, "ids": ids},
        )
    engine.dispose()

    assert set(run_dag(SLUG).values()) == {"success"}
    after = portal_rows(local_env, dataset_id)
    assert set(after) == set(before), "las filas que no cambiaron deben seguir en el portal"
    assert all(after[i]["estado"] == "Liquidado" for i in ids)
