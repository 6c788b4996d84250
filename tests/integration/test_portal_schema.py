"""The portal's schema follows the catalog: columns added, types changed, row identifier set, drops guarded.

Every change goes through the production path against an empty stand-in: the dataset is created by
DSMAPI, then a changed catalog entry is published and the portal must match it after ONE revision.
"""

from __future__ import annotations

import pytest
import requests

from casanare.catalog import Dataset
from casanare.publish.portal.client import PortalConfig
from casanare.publish.portal.errors import EsquemaIncompatible
from casanare.publish.portal.publish import publish
from casanare.staging import DatasetArea
from scripts.bench_publicacion import make_frame, portal_frame, same_table, sample_dataset
from standins.soda_portal import start_portal

pytestmark = pytest.mark.integration


@pytest.fixture()
def portal(tmp_path):
    handle = start_portal(tmp_path / "soda", tls=False, username="u", password="p", app_token="t")
    yield handle
    handle.stop()


def _cfg(portal) -> PortalConfig:
    return PortalConfig(base_url=portal.url, username="u", password="p", app_token="t", backoff_base=0.01)


def _schema(portal, ff: str) -> tuple[dict[str, str], str | None]:
    view = requests.get(f"{portal.url}/api/views/{ff}.json", timeout=30).json()
    return {c["fieldName"]: c["dataTypeName"] for c in view["columns"]}, view["metadata"].get("rowIdentifier")


def _without(ds: Dataset, name: str) -> Dataset:
    return ds.model_copy(update={"columnas": [c for c in ds.columnas if c.nombre != name]})


def _retyped(ds: Dataset, name: str, tipo: str) -> Dataset:
    return ds.model_copy(update={"columnas": [c.model_copy(update={"tipo": tipo}) if c.nombre == name else c
                                              for c in ds.columnas]})


def test_created_with_the_catalog_schema_then_a_new_column_arrives_by_revision(portal, tmp_path) -> None:
    full = sample_dataset()
    state = DatasetArea(f"file://{tmp_path}/staging", full.slug)
    frame = make_frame(2_000)
    older = _without(full, "observacion")
    report = publish(frame.drop(columns=["observacion"]), older, _cfg(portal), state=state, version="v1")
    ff = report["dataset_id"]
    assert _schema(portal, ff) == ({"id_registro": "number", "municipio": "text", "valor": "number",
                                    "cantidad": "number", "fecha": "calendar_date", "activo": "checkbox"},
                                   "id_registro")
    view = requests.get(f"{portal.url}/api/views/{ff}.json", timeout=30).json()
    assert {c["fieldName"]: c["name"] for c in view["columns"]}["id_registro"] == "Id registro"
    assert {c["fieldName"]: c["description"] for c in view["columns"]}["valor"] == "Valor en pesos"
    # The catalog now publishes one more column: a revision adds it, with the data, in one step.
    revisions = len(requests.get(f"{portal.url}/api/publishing/v1/revision/{ff}", auth=("u", "p"), timeout=30).json())
    report = publish(frame, full, _cfg(portal), state=state, version="v2")
    assert report["esquema"]["plan"]["agregar"] == ["observacion"]
    assert report["esquema"]["resultado"] == "alineado_por_revision"
    assert report["diff"]["metodo"].startswith("revision_replace")
    after = requests.get(f"{portal.url}/api/publishing/v1/revision/{ff}", auth=("u", "p"), timeout=30).json()
    assert len(after) == revisions + 1
    assert _schema(portal, ff)[0]["observacion"] == "text"
    assert same_table(full, frame, portal_frame(portal.url, ff, list(frame.columns)))
    # In line now: the next run changes nothing in the schema.
    again = publish(frame, full, _cfg(portal), state=state, version="v3")
    assert again["esquema"] == {"plan": {"agregar": [], "cambiar_tipo": [], "retirar": [],
                                         "identificador_fila": None}, "resultado": "sin_cambios"}
    assert again["filas_enviadas"] == 0


def test_a_type_change_and_a_new_row_identifier_reach_the_portal(portal, tmp_path) -> None:
    ds = sample_dataset(key=None, modo="reemplazo")
    state = DatasetArea(f"file://{tmp_path}/staging", ds.slug)
    frame = make_frame(1_000)
    as_text = _retyped(ds, "cantidad", "texto")
    ff = publish(frame.assign(cantidad=frame["cantidad"].astype("string").astype(object)), as_text, _cfg(portal),
                 state=state, version="v1")["dataset_id"]
    assert _schema(portal, ff) == ({**_schema(portal, ff)[0], "cantidad": "text"}, None)
    keyed = sample_dataset(modo="incremental")
    report = publish(frame, keyed, _cfg(portal), state=state, version="v2")
    assert report["esquema"]["plan"]["cambiar_tipo"] == [{"campo": "cantidad", "portal": "text",
                                                         "catalogo": "number"}]
    assert report["esquema"]["plan"]["identificador_fila"] == {"portal": None, "catalogo": "id_registro"}
    assert _schema(portal, ff) == ({**_schema(portal, ff)[0], "cantidad": "number"}, "id_registro")
    rows = requests.get(f"{portal.url}/resource/{ff}.json", timeout=30,
                        params={"$select": "sum(cantidad) AS s"}).json()
    assert int(float(rows[0]["s"])) == int(frame["cantidad"].sum())  # numbers again, summable
    # With the row identifier set, the next change is an upsert by id, not an append.
    changed = frame.assign(valor=frame["valor"].fillna(0) + 1)
    report = publish(changed, keyed, _cfg(portal), state=state, version="v3")
    assert report["diff"]["cambiadas"] == len(frame) and report["filas_en_portal"] == len(frame)


def test_a_column_with_data_is_only_dropped_with_the_catalog_flag(portal, tmp_path) -> None:
    full = sample_dataset()
    state = DatasetArea(f"file://{tmp_path}/staging", full.slug)
    frame = make_frame(500)
    ff = publish(frame, full, _cfg(portal), state=state, version="v1")["dataset_id"]
    writes = portal.stats()["writes_applied"]
    smaller = _without(full, "observacion")
    with pytest.raises(EsquemaIncompatible) as err:
        publish(frame.drop(columns=["observacion"]), smaller, _cfg(portal), state=state, version="v2")
    assert err.value.destinatario == "plataforma" and "columnas_retiradas" in err.value.como_corregir
    assert err.value.detalles["columnas"] == ["observacion"] and err.value.detalles["filas_con_datos"]["observacion"]
    assert portal.stats()["writes_applied"] == writes and "observacion" in _schema(portal, ff)[0]  # untouched
    allowed = smaller.model_copy(update={"datos_gov_co": smaller.datos_gov_co.model_copy(
        update={"columnas_retiradas": ["observacion"]})})
    report = publish(frame.drop(columns=["observacion"]), allowed, _cfg(portal), state=state, version="v3")
    assert report["esquema"]["plan"]["retirar"] == ["observacion"]
    assert "observacion" not in _schema(portal, ff)[0]
    assert same_table(allowed, frame.drop(columns=["observacion"]),
                      portal_frame(portal.url, ff, [c for c in frame.columns if c != "observacion"]))


def test_wrong_credentials_are_for_the_platform_and_nothing_is_created(portal, tmp_path) -> None:
    from casanare.publish.portal.errors import CredencialesRechazadas

    ds = sample_dataset()
    state = DatasetArea(f"file://{tmp_path}/staging", ds.slug)
    cfg = PortalConfig(base_url=portal.url, username="u", password="otra", app_token="t")
    with pytest.raises(CredencialesRechazadas) as err:
        publish(make_frame(10), ds, cfg, state=state, version="v1")
    assert err.value.destinatario == "plataforma" and err.value.detalles["estado_http"] == 401
    assert portal.server.store.dataset_ids() == [] and state.portal_id() is None
