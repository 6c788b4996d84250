"""Metadata as code against the stand-in: push, no-op rerun, hand-edit drift reported then fixed."""

from __future__ import annotations

import pytest
import requests

from casanare.publish.portal.client import PortalClient, PortalConfig
from casanare.publish.portal.metadata import STATE_FILE, sync_metadata
from casanare.staging import DatasetArea
from scripts.bench_publicacion import create_dataset, sample_dataset
from standins.soda_portal import start_portal

pytestmark = pytest.mark.integration


def test_metadata_is_pushed_and_hand_edits_are_reported_then_overwritten(tmp_path, caplog) -> None:
    ds = sample_dataset()
    portal = start_portal(tmp_path / "soda", tls=False)
    state = DatasetArea(f"file://{tmp_path}/staging", ds.slug)
    try:
        cfg = PortalConfig(base_url=portal.url, app_token="prueba")
        # Created with its metadata in the first revision, then synced (state recorded).
        ff = create_dataset(cfg, ds, state)
        with PortalClient(cfg) as client:
            first = sync_metadata(client, ds, ff, state)
            assert not first["actualizado"] and first["verificado"] and first["cambios_manuales"] == []
            view = requests.get(f"{portal.url}/api/views/{ff}.json", timeout=30).json()
            custom = view["metadata"]["custom_fields"]
            assert custom["Información de la Entidad"]["Departamento"] == "Casanare"
            assert custom["Información de la Entidad"]["Orden"] == "Territorial"
            assert custom["Información de Datos"]["Frecuencia de Actualización"] == "Mensual"
            assert view["license"]["name"] == "CC BY-SA 4.0" and view["attribution"] == "Gobernación de Casanare"
            assert view["privateMetadata"]["contactEmail"] == "datosabiertos@casanare.gov.co"
            described = {c["fieldName"]: c["description"] for c in view["columns"]}
            assert described["valor"] == "Valor en pesos"
            assert state.read_json(STATE_FILE)["category"] == "Función pública"

            # Second run with nothing changed: nothing is written.
            modified = view["viewLastModified"]
            again = sync_metadata(client, ds, ff, state)
            assert not again["actualizado"] and again["cambios_manuales"] == [] and again["cambios_catalogo"] == []

            # Someone edits the dataset by hand on the portal.
            edited = dict(custom)
            edited["Información de Datos"] = {**custom["Información de Datos"], "Frecuencia de Actualización": "Anual"}
            requests.put(f"{portal.url}/api/views/{ff}.json", timeout=30, json={
                "description": "Editada a mano", "metadata": {"custom_fields": edited},
                "columns": [{"fieldName": "valor", "description": "otra"}]})
            caplog.set_level("WARNING")
            drift = sync_metadata(client, ds, ff, state)
            fields = {d["campo"]: d for d in drift["cambios_manuales"]}
            assert set(fields) == {"description", "Información de Datos.Frecuencia de Actualización",
                                   "columna.valor.description"}
            assert fields["Información de Datos.Frecuencia de Actualización"]["portal"] == "Anual"
            assert fields["Información de Datos.Frecuencia de Actualización"]["esperado"] == "Mensual"
            assert drift["actualizado"] and drift["verificado"]
            assert "editados a mano" in caplog.text and "Frecuencia de Actualización" in caplog.text
            view = requests.get(f"{portal.url}/api/views/{ff}.json", timeout=30).json()
            assert view["description"] == ds.descripcion
            assert view["metadata"]["custom_fields"]["Información de Datos"]["Frecuencia de Actualización"] == "Mensual"
            assert view["viewLastModified"] >= modified

            # A catalog change is not a hand edit.
            changed = ds.model_copy(update={"etiquetas": ["prueba", "casanare", "nueva"]})
            result = sync_metadata(client, changed, ff, state)
            assert result["cambios_manuales"] == [] and [d["campo"] for d in result["cambios_catalogo"]] == ["tags"]
    finally:
        portal.stop()
