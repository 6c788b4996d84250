"""Socrata (datos.gov.co) client behind our own interface, plus the thin Airflow hook.

sodapy is archived (2022): we only use it to build the authenticated ``requests`` session
(app token, basic auth / API key, transport adapter) and do every call ourselves, because
sodapy serializes with ``json.dumps`` (NaN → invalid JSON, dates raise), has no retries and
treats ``202 Accepted`` (still processing, nothing guaranteed) as success.

``SocrataClient`` has no Airflow import (unit-testable, used by the stages);
``SocrataHook`` is the Airflow-facing wrapper that owns the ``datos_gov_co`` connection.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from casanare.errors import DatosAbiertosError, PortalNoDisponible

log = logging.getLogger(__name__)

#: Statuses after which the request was certainly NOT applied and may simply be sent again.
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class PublicacionRechazada(DatosAbiertosError):
    """The portal refused the request (4xx other than 429): retrying will not help."""

    causa = "error_interno"


class ReconciliacionFallida(DatosAbiertosError):
    """What the portal serves after a publish differs from what was sent.

    Transient on purpose: the publish snapshot did not advance, so the retry diffs against the
    portal's real rows and repairs the difference; if it persists, the e-mail says the portal
    is not serving the expected data (cause ``portal_no_disponible``).
    """

    causa = "portal_no_disponible"
    transitoria = True


@dataclass(frozen=True)
class PortalConfig:
    """Plain values resolved from the ``datos_gov_co`` connection in the task body.

    Attributes:
        base_url: ``https://www.datos.gov.co`` (or ``http://127.0.0.1:PORT`` for the stand-in).
        app_token: Socrata app token (``X-App-Token``).
        username: user name, or the API key id (API keys are sent as basic auth).
        password: password, or the API key secret.
        timeout: seconds per HTTP request (connect and read).
        chunk_size: rows per write request.
        max_attempts: attempts per request before giving up (transient failures only).
        backoff_base: first backoff delay in seconds; doubles every attempt, with full jitter.
        backoff_max: cap of one backoff delay.
        retry_after_max: cap applied to a 429 ``Retry-After`` (seconds).
        verify: TLS verification for the revision API: True, False or a CA bundle path.
        revisiones: use the Dataset Management API (socrata-py revisions) for ``reemplazo``;
            None = only when the portal is reached over https (the real portal).
        page_size: rows per read page.
        sample_size: rows checked by checksum during reconciliation.
    """

    base_url: str
    app_token: str | None = None
    username: str | None = None
    password: str | None = None
    timeout: float = 60.0
    chunk_size: int = 5_000
    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0
    verify: bool | str = True
    revisiones: bool | None = None
    page_size: int = 50_000
    sample_size: int = 500

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def scheme(self) -> str:
        return urlsplit(self.base_url).scheme or "https"

    @property
    def usa_revisiones(self) -> bool:
        wanted = self.scheme == "https" if self.revisiones is None else self.revisiones
        return bool(wanted and self.username and self.password)


def dumps(rows: Any) -> bytes:
    """Strict JSON (no NaN/Infinity: the caller converted them to null) encoded as UTF-8."""
    return json.dumps(rows, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


@dataclass
class WriteReport:
    """Server-reported counts of the write requests of one publish."""

    peticiones: int = 0
    filas_enviadas: int = 0
    creadas: int = 0
    actualizadas: int = 0
    borradas: int = 0
    reintentos: int = 0
    errores: list[Any] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "peticiones": self.peticiones, "filas_enviadas": self.filas_enviadas, "creadas": self.creadas,
            "actualizadas": self.actualizadas, "borradas": self.borradas, "reintentos": self.reintentos,
        }


class _Ambiguous(Exception):
    """The request may or may not have been applied (dropped connection, timeout, 202, 5xx)."""


class SocrataClient:
    """SODA 2 client with retries, strict JSON and chunked writes (no Airflow import)."""

    def __init__(self, cfg: PortalConfig, *, sleep: Callable[[float], None] = time.sleep) -> None:
        from requests.adapters import HTTPAdapter
        from sodapy import Socrata

        self.cfg = cfg
        self._sleep = sleep
        # pool_block avoids opening a socket per request; retries are ours (max_retries=0).
        adapter = {"prefix": f"{cfg.scheme}://", "adapter": HTTPAdapter(max_retries=0)}
        self.soda = Socrata(cfg.domain, cfg.app_token, username=cfg.username, password=cfg.password,
                            timeout=cfg.timeout, session_adapter=adapter)
        self.session = self.soda.session
        self.session.headers["Content-Type"] = "application/json"
        self.session.verify = cfg.verify
        self.retries = 0

    # -- plumbing --------------------------------------------------------------------------
    def close(self) -> None:
        self.soda.close()

    def __enter__(self) -> SocrataClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        return f"{self.cfg.scheme}://{self.cfg.domain}{path}"

    def _delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Exponential backoff with full jitter; a 429 ``Retry-After`` is a floor (capped)."""
        ceiling = min(self.cfg.backoff_max, self.cfg.backoff_base * (2 ** attempt))
        delay = random.uniform(0, ceiling)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.cfg.retry_after_max))
        return delay

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: bytes | None = None,
        applied: Callable[[], bool] | None = None,
    ):
        """Send one request, retrying transient failures.

        Args:
            method: HTTP method.
            path: path on the portal (``/resource/abcd-1234.json``).
            params: query string.
            body: JSON body already serialized with :func:`dumps`.
            applied: for NON-idempotent writes (appends): called after an ambiguous failure to
                ask whether the request was applied anyway; if True the request is not resent.

        Returns:
            The ``requests.Response`` (2xx other than 202), or None if ``applied`` said the
            write had landed.

        Raises:
            PortalNoDisponible: attempts exhausted.
            PublicacionRechazada: the portal refused the request (4xx).
        """
        import requests

        last = "desconocido"
        for attempt in range(self.cfg.max_attempts):
            retry_after: float | None = None
            try:
                response = self.session.request(method, self.url(path), params=params, data=body,
                                                timeout=self.cfg.timeout)
                status = response.status_code
                if status == 202:
                    # Socrata is still processing: nothing is guaranteed yet.
                    raise _Ambiguous("202")
                if status == 429:
                    retry_after = _retry_after(response.headers.get("Retry-After"))
                    last = "429"
                elif status >= 500:
                    raise _Ambiguous(str(status))
                elif status >= 400:
                    raise PublicacionRechazada(
                        "El portal datos.gov.co rechazó la petición.",
                        como_corregir="Revise que las columnas y tipos del catálogo coincidan con el "
                        "conjunto en datos.gov.co y que la conexión datos_gov_co tenga permisos de escritura.",
                        detalles={"estado_http": status, "ruta": path, "codigo": _error_code(response)},
                    )
                else:
                    return response
            except (_Ambiguous, requests.ConnectionError, requests.Timeout) as exc:
                last = str(exc) if isinstance(exc, _Ambiguous) else type(exc).__name__
                if method != "GET" and applied is not None and applied():
                    return None
            self.retries += 1
            delay = self._delay(attempt, retry_after)
            log.warning("Portal: %s %s falló (%s); reintento %s en %.2f s", method, path, last, attempt + 1, delay)
            self._sleep(delay)
        raise PortalNoDisponible(
            "El portal datos.gov.co no respondió después de varios intentos.",
            como_corregir="No requiere acción de la dependencia: la plataforma reintentará. Si persiste, el "
            "equipo de datos abiertos revisará el estado del portal y la conexión datos_gov_co.",
            detalles={"ruta": path, "ultimo_error": last, "intentos": self.cfg.max_attempts},
        )

    # -- SODA reads ------------------------------------------------------------------------
    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = self.request("GET", path, params=params)
        return response.json()

    def count(self, dataset_id: str, where: str | None = None) -> int:
        params = {"$select": "count(*) AS n"}
        if where:
            params["$where"] = where
        rows = self.get_json(f"/resource/{dataset_id}.json", params)
        return int(rows[0]["n"]) if rows else 0

    def query(self, dataset_id: str, **params: Any) -> list[dict[str, Any]]:
        return self.get_json(f"/resource/{dataset_id}.json", {f"${k}": v for k, v in params.items()})

    def iter_rows(self, dataset_id: str, select: Sequence[str] | None = None) -> Iterator[list[dict[str, Any]]]:
        """All rows, page by page, ordered by ``:id`` (stable paging)."""
        offset = 0
        while True:
            params: dict[str, Any] = {"$limit": self.cfg.page_size, "$offset": offset, "$order": ":id"}
            if select:
                params["$select"] = ",".join(select)
            page = self.get_json(f"/resource/{dataset_id}.json", params)
            if not page:
                return
            yield page
            if len(page) < self.cfg.page_size:
                return
            offset += len(page)

    # -- SODA writes -----------------------------------------------------------------------
    def upsert(
        self,
        dataset_id: str,
        rows: Sequence[dict[str, Any]],
        report: WriteReport | None = None,
        *,
        append: bool = False,
        on_chunk: Callable[[int], None] | None = None,
    ) -> WriteReport:
        """POST rows in chunks (upsert by row identifier, ``:deleted`` deletes).

        Args:
            append: the dataset has no row identifier, so a resent chunk would duplicate rows.
                Before resending after an ambiguous failure the row count is read back: one
                request is one transaction, so the count tells whether the chunk landed.
            on_chunk: called with the number of rows accepted so far (progress/logging).
        """
        report = report or WriteReport()
        path = f"/resource/{dataset_id}.json"
        size = max(1, self.cfg.chunk_size)
        before = self.count(dataset_id) if append else 0
        for start in range(0, len(rows), size):
            chunk = list(rows[start : start + size])
            expected = before + len(chunk)
            applied = (lambda e=expected: self._landed(dataset_id, e)) if append else None
            retries = self.retries
            response = self.request("POST", path, body=dumps(chunk), applied=applied)
            report.reintentos += self.retries - retries
            report.peticiones += 1
            report.filas_enviadas += len(chunk)
            if response is not None:
                result = response.json()
                report.creadas += int(result.get("Rows Created", 0))
                report.actualizadas += int(result.get("Rows Updated", 0))
                report.borradas += int(result.get("Rows Deleted", 0))
                if result.get("Errors"):
                    report.errores.append(result.get("Errors"))
            else:
                report.creadas += len(chunk)
            before = expected
            if on_chunk:
                on_chunk(start + len(chunk))
        return report

    def _landed(self, dataset_id: str, expected: int, polls: int = 3) -> bool:
        """Whether an ambiguous append landed: the count reaches ``expected``.

        Polled a few times because a real 202 means "queued": the rows may still arrive.
        """
        for attempt in range(polls):
            if self.count(dataset_id) >= expected:
                return True
            if attempt < polls - 1:
                self._sleep(self._delay(attempt))
        return False

    def replace(self, dataset_id: str, rows: Sequence[dict[str, Any]]) -> Any:
        """PUT the whole dataset in ONE request (one transaction on SODA)."""
        return self.request("PUT", f"/resource/{dataset_id}.json", body=dumps(list(rows))).json()

    # -- metadata --------------------------------------------------------------------------
    def view(self, dataset_id: str) -> dict[str, Any]:
        return self.get_json(f"/api/views/{dataset_id}.json")

    def update_view(self, dataset_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        # A metadata PUT is idempotent (same patch, same result), so plain retries are safe.
        return self.request("PUT", f"/api/views/{dataset_id}.json", body=dumps(patch)).json()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _error_code(response: Any) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def config_from_connection(conn: Any, **overrides: Any) -> PortalConfig:
    """Build a :class:`PortalConfig` from an Airflow connection object (duck-typed).

    Connection fields: host (``www.datos.gov.co``), port, schema (``https``/``http``), login +
    password (user, or API key id + secret). Extra: ``app_token``, ``timeout``, ``chunk_size``,
    ``max_attempts``, ``backoff_base``, ``backoff_max``, ``retry_after_max``, ``verify``
    (true/false or a CA bundle path), ``revisiones`` (use the revision API for ``reemplazo``),
    ``page_size``, ``sample_size``, ``api_key_id``/``api_key_secret`` (instead of login/password).
    """
    extra = conn.extra_dejson or {}
    scheme = (conn.schema or extra.get("scheme") or "https").rstrip(":/")
    port = f":{conn.port}" if conn.port else ""
    verify: bool | str = extra.get("ca_bundle") or extra.get("verify", True)
    if isinstance(verify, str) and verify.lower() in {"true", "false"}:
        verify = verify.lower() == "true"
    values: dict[str, Any] = {
        "base_url": f"{scheme}://{conn.host}{port}",
        "app_token": extra.get("app_token"),
        "username": extra.get("api_key_id") or conn.login or None,
        "password": extra.get("api_key_secret") or conn.password or None,
        "verify": verify,
    }
    for name, kind in (("timeout", float), ("chunk_size", int), ("max_attempts", int), ("backoff_base", float),
                       ("backoff_max", float), ("retry_after_max", float), ("page_size", int),
                       ("sample_size", int)):
        if extra.get(name) is not None:
            values[name] = kind(extra[name])
    if extra.get("revisiones") is not None:
        values["revisiones"] = str(extra["revisiones"]).lower() in {"1", "true", "si", "sí", "yes"}
    values.update(overrides)
    return PortalConfig(**values)


def _airflow_base_hook():
    from airflow.sdk import BaseHook

    return BaseHook


def get_hook_class():
    """The Airflow hook class, built on first use so importing this module never imports Airflow."""
    global _HOOK_CLASS
    if _HOOK_CLASS is None:
        base = _airflow_base_hook()

        class SocrataDatosGovCoHook(base):  # type: ignore[misc, valid-type]
            """Airflow hook owning the ``datos_gov_co`` connection; hands out a :class:`SocrataClient`."""

            conn_name_attr = "socrata_conn_id"
            default_conn_name = "datos_gov_co"
            conn_type = "http"
            hook_name = "Socrata (datos.gov.co)"

            def __init__(self, socrata_conn_id: str = default_conn_name, **overrides: Any) -> None:
                super().__init__()
                self.socrata_conn_id = socrata_conn_id
                self.overrides = overrides

            def get_config(self) -> PortalConfig:
                return config_from_connection(self.get_connection(self.socrata_conn_id), **self.overrides)

            def get_conn(self) -> SocrataClient:
                return SocrataClient(self.get_config())

        _HOOK_CLASS = SocrataDatosGovCoHook
    return _HOOK_CLASS


_HOOK_CLASS = None
