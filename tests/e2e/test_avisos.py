"""The ``avisos`` platform DAG against the loopback SMTP server: overdue notices and the digest."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import restored_environ, run_dag

pytestmark = pytest.mark.e2e

TEAM = "equipo.plataforma@casanare.gov.co"


@pytest.fixture
def avisos_env(local_env, tmp_path) -> Iterator[Path]:
    """Private staging and a catalog copy with the weekly digest on for vacunacion_pai."""
    from casanare import settings

    catalog = tmp_path / "catalogo"
    shutil.copytree(settings.catalog_dir(), catalog)
    yaml_path = catalog / "vacunacion_pai.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8") + "resumen_exitos: semanal\n", encoding="utf-8")
    local_env.smtp.clear()
    with restored_environ(
        CASANARE_CATALOG_DIR=str(catalog),
        CASANARE_STAGING_URL=(tmp_path / "staging").as_uri(),
        CASANARE_PLATFORM_EMAILS=TEAM,
    ):
        yield tmp_path
    local_env.smtp.clear()


def test_overdue_once_per_delay_and_weekly_digest(local_env, avisos_env):
    from casanare import settings
    from casanare.catalog import load_catalog
    from casanare.staging import DatasetArea

    catalog = load_catalog()
    now = datetime.now(UTC)
    late, fresh = catalog.get("vacunacion_pai"), catalog.get("contratos_gobernacion")
    DatasetArea(settings.staging_url(), late.slug).record_success(
        {"fecha": (now - timedelta(days=40)).isoformat(), "filas_publicadas": 300})
    DatasetArea(settings.staging_url(), fresh.slug).record_success(
        {"fecha": (now - timedelta(hours=2)).isoformat(), "filas_publicadas": 50})

    states = run_dag("avisos", resumen=True)
    assert states == {"revisar_vigencia": "success", "resumen_semanal": "success"}
    messages = local_env.smtp.messages()
    overdue = {m["Subject"]: m for m in messages if m["Subject"].endswith(": publicación vencida")}
    # Only the late one: the datasets that never ran are in their grace period (first scheduled
    # run still ahead), so unpausing ``avisos`` does not e-mail every dependencia on day one.
    assert set(overdue) == {f"[Datos Abiertos Casanare] {late.nombre}: publicación vencida"}
    assert len(overdue) == len([m for m in messages if m["Subject"].endswith(": publicación vencida")])
    notice = overdue[f"[Datos Abiertos Casanare] {late.nombre}: publicación vencida"]
    assert [a.addr_spec for a in notice["To"].addresses] == [str(c) for c in late.contactos]
    assert notice["Cc"] == TEAM
    body = notice.get_body(preferencelist=("plain",)).get_content()
    assert "Días de atraso: 8." in body
    assert "mensual (se publica al menos cada 32 días)" in body

    digests = [m for m in messages if "Resumen semanal" in m["Subject"]]
    assert [m["Subject"] for m in digests] == ["[Datos Abiertos Casanare] Resumen semanal de Secretaría de Salud"]
    digest = digests[0].get_body(preferencelist=("plain",)).get_content()
    assert late.nombre in digest and "Sin publicaciones esta semana" in digest

    # The next day's run does not repeat the notices: one per delay, not one per day.
    local_env.smtp.clear()
    assert run_dag("avisos") == {"revisar_vigencia": "success", "resumen_semanal": "success"}
    assert [m for m in local_env.smtp.messages() if "publicación vencida" in m["Subject"]] == []
