"""A real dataset DAG fed a malformed source: extraer fails, nothing downstream runs, nothing is published.

The unit-level corpus (tests/malformed_corpus.py, tests/unit/test_extract_malformados.py) covers
every kind of bad input precisely; this one run proves the whole chain stops at the first stage.
The shared generated sources are never modified: the DAG reads a private copy through
``CASANARE_SOURCE_BASE``.
"""

from __future__ import annotations

import csv
import shutil

import pytest
import requests

from casanare.catalog import FuenteArchivo, load_catalog
from casanare.publish.portal import portal_dataset_id
from casanare.staging import RunArea
from tests.conftest import run_dag

pytestmark = pytest.mark.e2e
SLUG = "pqrsd_atencion_ciudadano"  # CSV source with personal data
DOWNSTREAM = ("anonimizar", "validar", "publicar_datos_gov_co", "publicar_casanare_gov_co", "cerrar")


def portal_count(env, dataset_id: str | None) -> int:
    if dataset_id is None:  # not created on the portal yet
        return 0
    response = requests.get(f"{env.portal.url}/resource/{dataset_id}.json",
                            params={"$select": "count(*) AS n"}, timeout=30)
    if response.status_code == 404:
        return 0
    response.raise_for_status()
    return int(response.json()[0]["n"])


def test_malformed_source_stops_the_dag(local_env, tmp_path, monkeypatch):
    from casanare.extract.csvfile import detect_delimiter, detect_encoding

    ds = load_catalog().get(SLUG)
    assert isinstance(ds.fuente, FuenteArchivo)
    fuentes = tmp_path / "fuentes"
    shutil.copytree(local_env.fuentes, fuentes)
    monkeypatch.setenv("CASANARE_SOURCE_BASE", str(fuentes))
    staging = (tmp_path / "staging").as_uri()
    monkeypatch.setenv("CASANARE_STAGING_URL", staging)
    source = ds.fuente.ruta_absoluta()
    assert source.is_relative_to(fuentes)

    # Rename the header of the first required column: the most common real-world breakage.
    raw = source.read_bytes()
    encoding = ds.fuente.codificacion or detect_encoding(raw[:65536])
    text = raw.decode(encoding)
    delimiter = ds.fuente.delimitador or detect_delimiter(text[:65536])
    rows = list(csv.reader(text.splitlines(keepends=True), delimiter=delimiter))
    required = next(c for c in ds.columnas if c.requerido)
    from casanare.extract.headers import normalize

    names = {normalize(n) for n in (required.nombre, required.nombre.replace("_", " "), required.titulo_visible,
                                    *required.alias)}
    position = next(i for i, h in enumerate(rows[0]) if normalize(h) in names)
    rows[0][position] = "COLUMNA RENOMBRADA"
    with source.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)

    dataset_id = portal_dataset_id(ds)
    rows_before = portal_count(local_env, dataset_id)
    writes_before = local_env.portal.stats()["writes_applied"]
    mails_before = len(local_env.smtp.messages())

    states = run_dag(SLUG)

    assert states["extraer"] == "failed", states
    for task_id in DOWNSTREAM:
        assert states[task_id] == "upstream_failed", (task_id, states)
    assert portal_count(local_env, dataset_id) == rows_before
    assert local_env.portal.stats()["writes_applied"] == writes_before
    # The run's manifest records the typed failure, naming file, row and column.
    runs = list((tmp_path / "staging" / SLUG / "ejecuciones").iterdir())
    assert len(runs) == 1
    area = RunArea(staging, SLUG, runs[0].name)
    error = area.stage("extraer")["error"]
    assert error["tipo"] == "ArchivoConErrores"
    assert error["ubicacion"] == {"archivo": source.name, "hoja": None, "filas": [1], "columna": required.nombre}
    assert f"Falta la columna obligatoria {required.nombre}" in error["mensaje"]
    assert not area.exists("anonimizado.parquet")
    assert area.read_bytes(f"original/{source.name}") == source.read_bytes()  # kept as evidence
    # A Spanish failure e-mail that names the file and never carries the data.
    new = local_env.smtp.messages()[mails_before:]
    assert any("archivo con errores" in str(m["Subject"]).lower() for m in new), [m["Subject"] for m in new]
    body = "\n".join(part.get_content() for m in new for part in m.walk() if part.get_content_type() == "text/plain")
    assert source.name in body
