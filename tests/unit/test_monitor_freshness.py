"""Freshness on new data, every frequency, the grace period, edge dates and overdue periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from casanare.catalog import VIGENCIA_POR_FRECUENCIA, Dataset
from casanare.monitor.freshness import first_scheduled_run, freshness, last_new_data, overdue_period
from casanare.overdue import check, overdue_message

pytestmark = pytest.mark.unit

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "catalogo_valido.yaml"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)
PERIODIC = [f for f, v in VIGENCIA_POR_FRECUENCIA.items() if v is not None]


def dataset(**changes) -> Dataset:
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    data.update(changes)
    return Dataset.model_validate(data)


def run(when: datetime, sha: str = "a") -> dict:
    return {"fecha": when.isoformat(), "sha256": sha}


@pytest.mark.parametrize("frecuencia", PERIODIC)
def test_every_frequency_at_its_edges(frecuencia):
    ds = dataset(frecuencia_actualizacion=frecuencia)
    vigencia = VIGENCIA_POR_FRECUENCIA[frecuencia]
    at = {
        "just_published": NOW,
        "before_warning": NOW - vigencia * 0.75 + timedelta(seconds=1),
        "warning": NOW - vigencia * 0.75,
        "exactly_due": NOW - vigencia,
        "one_second_late": NOW - vigencia - timedelta(seconds=1),
    }
    states = {k: freshness(ds, [run(v)], NOW, alta=LONG_AGO).estado for k, v in at.items()}
    assert states == {"just_published": "al_dia", "before_warning": "al_dia", "warning": "por_vencer",
                      "exactly_due": "por_vencer", "one_second_late": "vencido"}
    late = freshness(ds, [run(at["one_second_late"])], NOW, alta=LONG_AGO)
    assert late.vence == at["one_second_late"] + vigencia


def test_eventual_is_never_late_and_unpublished_without_data():
    ds = dataset(frecuencia_actualizacion="eventual")
    old = freshness(ds, [run(NOW - timedelta(days=900))], NOW, alta=LONG_AGO)
    assert (old.estado, old.vence, old.en_gracia) == ("al_dia", None, False)
    never = freshness(ds, [], NOW, alta=LONG_AGO)
    assert (never.estado, never.en_gracia) == ("sin_publicar", False)
    assert overdue_period(never, ds, NOW) is None
    assert check(ds, [], NOW, alta=LONG_AGO) is None


def test_runs_without_new_data_do_not_refresh():
    """Monthly source re-published unchanged every month: vencido, "sin datos nuevos"."""
    ds = dataset()  # mensual
    history = [run(NOW - timedelta(days=d), "same") for d in (95, 64, 33, 2)]
    assert last_new_data(history) == NOW - timedelta(days=95)
    f = freshness(ds, history, NOW, alta=LONG_AGO)
    assert (f.estado, f.sin_datos_nuevos) == ("vencido", True)
    assert f.etiqueta == "Vencido (sin datos nuevos)"
    assert f.ultima_ejecucion == NOW - timedelta(days=2)
    # A change in between counts from that change.
    changed = [run(NOW - timedelta(days=95), "a"), run(NOW - timedelta(days=10), "b"), run(NOW - timedelta(days=2), "b")]
    assert freshness(ds, changed, NOW, alta=LONG_AGO).estado == "al_dia"
    # Without hashes nothing proves the data were equal: every success counts as new.
    assert last_new_data([{"fecha": (NOW - timedelta(days=95)).isoformat()},
                          {"fecha": (NOW - timedelta(days=2)).isoformat()}]) == NOW - timedelta(days=2)


def test_late_because_runs_stopped_is_not_sin_datos_nuevos():
    f = freshness(dataset(), [run(NOW - timedelta(days=40))], NOW, alta=LONG_AGO)
    assert (f.estado, f.sin_datos_nuevos) == ("vencido", False)


def test_grace_until_first_scheduled_run():
    ds = dataset()  # mensual, cron 0 5 1 * * America/Bogota
    alta = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    first = first_scheduled_run("mensual", alta)
    assert first == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 05:00 in Bogotá
    in_grace = freshness(ds, [], NOW, alta=alta)
    assert (in_grace.estado, in_grace.en_gracia) == ("sin_publicar", True)
    assert overdue_period(in_grace, ds, NOW) is None and check(ds, [], NOW, alta=alta) is None
    # Grace ends 12 hours after the first scheduled run.
    edge = first + timedelta(hours=12)
    assert freshness(ds, [], edge - timedelta(seconds=1), alta=alta).en_gracia
    after = freshness(ds, [], edge, alta=alta)
    assert (after.estado, after.en_gracia) == ("sin_publicar", False)
    notice = check(ds, [], edge, alta=alta)
    assert notice is not None and notice.ultima is None and notice.episodio == "sin_publicar#0"


def test_portal_rows_updated_only_for_datasets_published_before_the_platform():
    ds = dataset(publicada=True)  # the inventory says it was already on the portal
    epoch = int((NOW - timedelta(days=5)).timestamp())
    assert freshness(ds, [], NOW, alta=NOW, portal_rows_updated=epoch).estado == "al_dia"
    local = [run(NOW - timedelta(days=50))]
    assert freshness(ds, local, NOW, alta=LONG_AGO, portal_rows_updated=epoch).estado == "vencido"
    # Created on the portal but never loaded: its rowsUpdatedAt is not data.
    assert freshness(dataset(publicada=False), [], NOW, alta=NOW, portal_rows_updated=epoch).estado == "sin_publicar"


def test_naive_dates_are_utc_and_leap_day_edges():
    ds = dataset(frecuencia_actualizacion="anual")  # 367 days
    leap = datetime(2028, 2, 29, 12, 0)
    f = freshness(ds, [{"fecha": leap.isoformat(), "sha256": "x"}], datetime(2029, 3, 1, 12, 0, tzinfo=UTC),
                  alta=LONG_AGO)
    assert f.ultimo_dato_nuevo == leap.replace(tzinfo=UTC)
    assert f.estado == "por_vencer"  # 366 days later: still within 367
    assert freshness(ds, [{"fecha": leap.isoformat(), "sha256": "x"}], datetime(2029, 3, 2, 12, 0, 1, tzinfo=UTC),
                     alta=LONG_AGO).estado == "vencido"


def test_one_notice_per_period_and_a_new_one_with_new_data():
    ds = dataset()  # mensual: 32 days
    history = [run(NOW - timedelta(days=40))]
    first = check(ds, history, NOW, alta=LONG_AGO)
    same_period = check(ds, history, NOW + timedelta(days=20), alta=LONG_AGO)
    next_period = check(ds, history, NOW + timedelta(days=33), alta=LONG_AGO)
    assert first.episodio == same_period.episodio != next_period.episodio
    assert first.atraso.days == 8
    renewed = [*history, run(NOW + timedelta(days=1), "b")]
    assert check(ds, renewed, NOW + timedelta(days=2), alta=LONG_AGO) is None
    again = check(ds, renewed, NOW + timedelta(days=40), alta=LONG_AGO)
    assert again is not None and again.episodio != first.episodio


def test_sin_datos_nuevos_message():
    ds = dataset()
    history = [run(NOW - timedelta(days=d), "same") for d in (64, 33, 2)]
    notice = check(ds, history, NOW, alta=LONG_AGO)
    msg = overdue_message(ds, notice, sender="datos@casanare.gov.co", cc=["equipo@casanare.gov.co"], links=[])
    assert msg["Subject"] == "[Datos Abiertos Casanare] Conjunto de prueba: sin datos nuevos"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "NO TIENE DATOS NUEVOS" in text
    assert f"Últimos datos nuevos: {(NOW - timedelta(days=64)):%Y-%m-%d %H:%M}." in text
    assert f"Última ejecución exitosa: {(NOW - timedelta(days=2)):%Y-%m-%d %H:%M}." in text
