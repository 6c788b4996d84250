"""Overdue notices and the weekly digest: pure builders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import yaml

from casanare.catalog import Dataset
from casanare.digest import by_dependencia, digest_message, week_summary
from casanare.overdue import check, overdue_message

pytestmark = pytest.mark.unit

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "catalogo_valido.yaml"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def dataset(**changes) -> Dataset:
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    data.update(changes)
    return Dataset.model_validate(data)


def text_of(msg) -> str:
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    return parsed.get_body(preferencelist=("plain",)).get_content()


LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


def test_monthly_dataset_is_overdue_after_its_vigencia():
    ds = dataset()  # mensual: 32 days
    assert check(ds, [{"fecha": (NOW - timedelta(days=31)).isoformat()}], NOW, alta=LONG_AGO) is None
    late = check(ds, [{"fecha": (NOW - timedelta(days=40)).isoformat()}], NOW, alta=LONG_AGO)
    assert late is not None and late.atraso.days == 8
    assert late.episodio == f"{(NOW - timedelta(days=8)).isoformat()}#0"


def test_never_published_is_overdue_after_grace_and_eventual_never_is():
    never = check(dataset(), [], NOW, alta=LONG_AGO)
    assert never is not None and never.ultima is None and never.episodio.startswith("sin_publicar#")
    assert check(dataset(), [], NOW, alta=NOW) is None  # grace: first scheduled run still ahead
    assert check(dataset(frecuencia_actualizacion="eventual"), [], NOW, alta=LONG_AGO) is None


def test_naive_dates_are_read_as_utc():
    naive = (NOW - timedelta(days=40)).replace(tzinfo=None).isoformat()
    assert check(dataset(), [{"fecha": naive}], NOW, alta=LONG_AGO).atraso.days == 8


def test_overdue_message_in_spanish_to_contacts_with_team_in_copy():
    ds = dataset()
    late = check(ds, [{"fecha": "2026-10-01T05:00:00+00:00"}], NOW, alta=LONG_AGO)
    msg = overdue_message(ds, late, sender="datos@casanare.gov.co", cc=["equipo@casanare.gov.co"],
                          links=[{"etiqueta": "Ver en datos.gov.co", "url": "https://www.datos.gov.co/d/test-0001"}])
    assert msg["Subject"] == "[Datos Abiertos Casanare] Conjunto de prueba: publicación vencida"
    assert (msg["To"], msg["Cc"]) == ("salud@casanare.gov.co", "equipo@casanare.gov.co")
    text = text_of(msg)
    assert "Últimos datos nuevos: 2026-10-01 05:00." in text
    assert "Días de atraso: 21." in text
    assert "https://www.datos.gov.co/d/test-0001" in text


def test_digest_counts_the_week_and_groups_by_dependencia():
    on = dataset(resumen_exitos="semanal")
    off = dataset(slug="otro_conjunto", nombre="Otro conjunto de prueba")
    assert by_dependencia([on, off]) == {"Secretaría de Salud": [on]}
    history = [
        {"fecha": "2026-11-10T05:00:00+00:00", "filas_publicadas": 100},
        {"fecha": "2026-11-17T05:00:00+00:00", "filas_publicadas": 120},
        {"fecha": "2026-11-20T05:00:00+00:00", "filas_publicadas": 130},
    ]
    desde = NOW - timedelta(days=7)
    item = week_summary(on, history, desde, NOW, {"portal": "https://p/d/x", "sitio": "https://s/x/"})
    assert (item["publicaciones"], item["ultima"], item["filas"]) == (2, "2026-11-20", 130)
    msg = digest_message("Secretaría de Salud", [on], [item], desde, NOW, sender="d@casanare.gov.co", cc=["e@x.co"])
    assert msg["Subject"] == "[Datos Abiertos Casanare] Resumen semanal de Secretaría de Salud"
    text = text_of(msg)
    assert "Publicaciones exitosas: 2 (la última el 2026-11-20, 130 filas publicadas)." in text
    assert "Del 2026-11-16 al 2026-11-23" in text
