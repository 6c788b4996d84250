"""Benchmark: monthly re-run of a 1M-row dataset with 1% changed rows, incremental vs naive.

Run: ``python -m scripts.bench_publicacion [--filas 1000000] [--cambio 0.01]``.

Both ways run side by side in one process against the local SODA stand-in (fresh state each):

- **ingenuo**: sodapy ``replace`` of the whole table (first 10k-row chunk with PUT, the rest
  with ``upsert`` in 10k-row chunks), as the spine did before.
- **incremental**: ``casanare.publish.portal.publish.publish`` — diff against the last snapshot,
  send only new/changed/vanished rows atomically (one SODA request or one DSMAPI revision), reconcile.

Both portals start empty: the dataset is created through the production path (DSMAPI).

The helpers at the top (sample dataset, frames, mutations) are also used by the publish tests.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casanare.catalog import Dataset

KEY = "id_registro"
MUNICIPIOS = ["Yopal", "Aguazul", "Maní", "Tauramena", "Villanueva", "Paz de Ariporo", "Orocué", "Monterrey"]


def sample_dataset(dataset_id: str | None = None, modo: str = "incremental", key: str | None = KEY,
                   slug: str = "prueba_publicacion") -> Dataset:
    """A catalog entry with one column of each type (the frames below match it)."""
    columnas = [
        {"nombre": "id_registro", "tipo": "entero", "descripcion": "Consecutivo del registro"},
        {"nombre": "municipio", "tipo": "texto", "descripcion": "Municipio de Casanare"},
        {"nombre": "valor", "tipo": "decimal", "descripcion": "Valor en pesos"},
        {"nombre": "cantidad", "tipo": "entero", "descripcion": "Cantidad atendida"},
        {"nombre": "fecha", "tipo": "fecha", "descripcion": "Fecha del registro"},
        {"nombre": "activo", "tipo": "booleano", "descripcion": "Si el registro está activo"},
        {"nombre": "observacion", "tipo": "texto", "descripcion": "Observación pública"},
    ]
    for c in columnas:
        c.update(clasificacion="publica", regla="publicar")
    data: dict[str, Any] = {
        "slug": slug, "nombre": "Conjunto de prueba de publicación",
        "descripcion": "Conjunto sintético para probar la publicación en datos.gov.co.",
        "dependencia": "Secretaría TIC", "tipologia": "Social", "categoria": "Función pública",
        "ambito_geografico": "Departamental", "fuente_primaria": True, "evidencia_solicitud": ["Ciudadanos"],
        "soporte": "digital", "frecuencia_generacion": "mensual", "frecuencia_actualizacion": "mensual",
        "disponible": True, "publicada": False, "ubicacion": "Servidor de la Secretaría TIC",
        "priorizado": False, "contactos": ["datosabiertos@casanare.gov.co"], "etiquetas": ["prueba", "casanare"],
        "columnas": columnas,
        "datos_gov_co": {"modo": modo, **({"dataset_id": dataset_id} if dataset_id else {}),
                         **({"identificador_fila": key} if key else {})},
    }
    return Dataset.model_validate(data)


def create_dataset(cfg: Any, ds: Dataset, state: Any, frame: pd.DataFrame | None = None) -> str:
    """Create ``ds`` on an empty portal through the production path and return its 4x4."""
    from casanare.publish.portal.publish import publish

    frame = frame if frame is not None else make_frame(0)
    columns = [c.nombre_salida for c in ds.columnas_publicadas]
    return publish(frame[columns], ds, cfg, state=state, version="creacion")["dataset_id"]


def make_frame(filas: int, semilla: int = 1) -> pd.DataFrame:
    """Deterministic frame with nulls in every non-key column."""
    rng = np.random.default_rng(semilla)
    ids = np.arange(1, filas + 1, dtype="int64")
    frame = pd.DataFrame({
        "id_registro": ids,
        "municipio": pd.Series(rng.choice(MUNICIPIOS, filas), dtype=object),
        "valor": np.round(rng.uniform(0, 5_000_000, filas), 2),
        "cantidad": pd.array(rng.integers(0, 500, filas), dtype="Int64"),
        "fecha": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 2000, filas), unit="D"),
        "activo": rng.random(filas) < 0.7,
        "observacion": pd.Series([f"obs {i % 97}" for i in range(filas)], dtype=object),
    })
    for col, frac in (("valor", 0.02), ("cantidad", 0.02), ("fecha", 0.01), ("observacion", 0.05)):
        frame.loc[rng.random(filas) < frac, col] = None
    frame["activo"] = frame["activo"].astype(object)
    frame.loc[rng.random(filas) < 0.01, "activo"] = None
    return frame


def mutate(frame: pd.DataFrame, cambio: float, borrado: float, nuevas: int = 0, semilla: int = 2
           ) -> tuple[pd.DataFrame, dict[str, int]]:
    """Change ``cambio`` of the rows (one value each), delete ``borrado`` of them, add ``nuevas``."""
    rng = np.random.default_rng(semilla)
    out = frame.copy()
    n = len(out)
    changed = rng.choice(n, round(n * cambio), replace=False)
    out.loc[changed, "valor"] = np.round(rng.uniform(0, 5_000_000, len(changed)), 2) + 0.01
    rest = np.setdiff1d(np.arange(n), changed)
    deleted = rng.choice(rest, round(n * borrado), replace=False)
    out = out.drop(index=deleted)
    if nuevas:
        start = int(frame["id_registro"].max()) + 1
        extra = make_frame(nuevas, semilla + 100)
        extra["id_registro"] = np.arange(start, start + nuevas, dtype="int64")
        out = pd.concat([out, extra], ignore_index=True)
    return out.reset_index(drop=True), {"cambiadas": len(changed), "borradas": len(deleted), "nuevas": nuevas}


def portal_frame(url: str, dataset_id: str, columns: list[str]) -> pd.DataFrame:
    """Every row the portal serves (plain HTTP reads, independent of the publisher)."""
    import requests

    frames, offset = [], 0
    while True:
        page = requests.get(f"{url}/resource/{dataset_id}.json", timeout=120,
                            params={"$limit": 50_000, "$offset": offset, "$order": ":id"}).json()
        if not page:
            break
        frames.append(pd.DataFrame.from_records(page, columns=columns))
        offset += len(page)
        if len(page) < 50_000:
            break
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def same_table(ds: Dataset, expected: pd.DataFrame, portal: pd.DataFrame) -> bool:
    """Multiset equality of normalized rows (no duplicates, nothing lost, values equal)."""
    from casanare.publish.portal.diff import dataset_kinds, row_hashes

    kinds = dataset_kinds(ds)
    cols = list(expected.columns)
    if len(expected) != len(portal):
        return False
    a = np.sort(row_hashes(expected, cols, kinds))
    b = np.sort(row_hashes(portal, cols, kinds))
    return bool((a == b).all())


def _naive(url: str, domain: str, dataset_id: str, frame: pd.DataFrame, chunk: int = 10_000) -> float:
    """The old way: sodapy replace of the first chunk, then upsert of the rest."""
    import requests
    from sodapy import Socrata

    from casanare.publish.records import to_records

    client = Socrata(domain, "bench", timeout=600,
                     session_adapter={"prefix": "http://", "adapter": requests.adapters.HTTPAdapter()})
    started = time.perf_counter()
    records = to_records(frame)
    for start in range(0, len(records), chunk):
        part = records[start : start + chunk]
        if start == 0:
            client.replace(dataset_id, part)
        else:
            client.upsert(dataset_id, part)
    client.close()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    from casanare.publish.portal.client import PortalConfig
    from casanare.publish.portal.publish import publish
    from casanare.staging import DatasetArea
    from standins.soda_portal import start_portal

    parser = argparse.ArgumentParser(description="Compara publicación incremental e ingenua en datos.gov.co")
    parser.add_argument("--filas", type=int, default=1_000_000)
    parser.add_argument("--cambio", type=float, default=0.01)
    args = parser.parse_args(argv)
    ds = sample_dataset()
    print(f"Preparando {args.filas:,} filas y su versión del mes siguiente ({args.cambio:.1%} cambiadas)…")
    first = make_frame(args.filas)
    second, info = mutate(first, args.cambio, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        results: dict[str, dict[str, float]] = {}
        # Naive: the whole table every month.
        portal = start_portal(Path(tmp) / "ingenuo", tls=False)
        try:
            cfg = PortalConfig(base_url=portal.url, app_token="bench", chunk_size=10_000, timeout=600)
            naive_id = create_dataset(cfg, ds, DatasetArea(f"file://{tmp}/staging_ingenuo", ds.slug))
            _naive(portal.url, portal.domain, naive_id, first)
            before = portal.stats()["requests"]
            seconds = _naive(portal.url, portal.domain, naive_id, second)
            results["ingenuo"] = {"segundos": seconds, "filas": len(second),
                                  "peticiones": portal.stats()["requests"] - before}
        finally:
            portal.stop()
        # Incremental: first load, then the monthly re-run.
        portal = start_portal(Path(tmp) / "incremental", tls=False)
        try:
            cfg = PortalConfig(base_url=portal.url, app_token="bench", chunk_size=10_000, timeout=600)
            state = DatasetArea(f"file://{tmp}/staging", ds.slug)
            dataset_id = publish(first, ds, cfg, state=state, version="v1")["dataset_id"]
            before = portal.stats()["requests"]
            started = time.perf_counter()
            report = publish(second, ds, cfg, state=state, version="v2")
            seconds = time.perf_counter() - started
            results["incremental"] = {"segundos": seconds, "filas": report["filas_enviadas"],
                                      "peticiones": portal.stats()["requests"] - before}
            exact = same_table(ds, second, portal_frame(portal.url, dataset_id, list(second.columns)))
        finally:
            portal.stop()
    ratio_rows = results["incremental"]["filas"] / len(second)
    ratio_time = results["incremental"]["segundos"] / results["ingenuo"]["segundos"]
    print(f"Filas cambiadas en la fuente: {info['cambiadas']:,}")
    for name, r in results.items():
        print(f"  {name:12s} {r['segundos']:8.1f} s  {int(r['filas']):>10,} filas enviadas  "
              f"{int(r['peticiones']):>5} peticiones")
    print(f"Filas enviadas: {ratio_rows:.2%} del total (límite 1,5 %) → {'CUMPLE' if ratio_rows <= 0.015 else 'NO CUMPLE'}")
    print(f"Tiempo: {ratio_time:.2f}× el ingenuo (límite 0,3×) → {'CUMPLE' if ratio_time <= 0.3 else 'NO CUMPLE'}")
    print(f"El portal quedó idéntico a la fuente: {'sí' if exact else 'NO'}")


if __name__ == "__main__":
    main()
