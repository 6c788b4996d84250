"""Publish a frame to a Socrata (SODA 2) dataset through sodapy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from casanare.catalog import Dataset
from casanare.errors import PortalNoDisponible, Ubicacion
from casanare.publish.records import to_records


@dataclass(frozen=True)
class PortalConfig:
    """Plain values resolved from the ``datos_gov_co`` connection in the task body."""

    base_url: str
    app_token: str | None = None
    username: str | None = None
    password: str | None = None
    timeout: float = 60.0
    chunk_size: int = 5_000


def make_client(cfg: PortalConfig):
    import requests
    from requests.adapters import HTTPAdapter
    from sodapy import Socrata
    from urllib3.util.retry import Retry

    parts = urlsplit(cfg.base_url)
    retry = Retry(total=6, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504),
                  allowed_methods=None, respect_retry_after_header=True)
    adapter = {"prefix": f"{parts.scheme}://", "adapter": HTTPAdapter(max_retries=retry)}
    client = Socrata(parts.netloc, cfg.app_token, username=cfg.username, password=cfg.password,
                     timeout=cfg.timeout, session_adapter=adapter)
    client.session.headers["Content-Type"] = "application/json"
    _ = requests  # imported for its adapters above
    return client


def publish(df: pd.DataFrame, dataset: Dataset, cfg: PortalConfig) -> dict[str, Any]:
    """Send the rows according to the dataset's mode and read the row count back."""
    import requests

    assert dataset.datos_gov_co is not None
    dataset_id = dataset.datos_gov_co.dataset_id
    mode = dataset.datos_gov_co.modo_efectivo
    client = make_client(cfg)
    records = to_records(df)
    sent = 0
    try:
        for start in range(0, max(len(records), 1), cfg.chunk_size):
            chunk = records[start : start + cfg.chunk_size]
            if mode == "reemplazo" and start == 0:
                client.replace(dataset_id, chunk)
            elif chunk:
                client.upsert(dataset_id, chunk)
            sent += len(chunk)
        count_rows = client.get(dataset_id, select="count(*) AS n")
        on_portal = int(count_rows[0]["n"]) if count_rows else 0
    except (requests.RequestException, OSError) as exc:
        raise PortalNoDisponible(
            "El portal datos.gov.co no respondió o rechazó la publicación.",
            ubicacion=Ubicacion(),
            como_corregir="No requiere acción de la dependencia: la plataforma reintentará. Si persiste, "
            "el equipo de datos abiertos revisará el estado del portal y la conexión datos_gov_co.",
            detalles={"error": type(exc).__name__, "filas_enviadas": sent},
        ) from None
    finally:
        client.close()
    return {"modo": mode, "dataset_id": dataset_id, "filas_enviadas": sent, "filas_en_portal": on_portal}
