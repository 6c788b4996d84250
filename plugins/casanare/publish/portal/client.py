"""HTTP to datos.gov.co: SODA 2 and the Dataset Management API over ONE retrying session.

Retries live in the transport, through sodapy's supported extension point
(``session_adapter``): an ``HTTPAdapter`` whose urllib3 ``Retry`` policy resends what is
certainly safe to resend (connection refused, 429 on any method — the portal did not apply it —
and 5xx/dropped answers on idempotent methods), with exponential backoff, jitter and a capped
``Retry-After``. socrata-py offers no such hook (it calls ``requests.post`` module functions), so
the DSMAPI endpoints it uses are called here, on the same session; neither library is patched.

What the transport must not resend (a POST whose answer was lost or a 202 "still processing")
is handled by :meth:`PortalClient.request`, which asks the caller whether the write landed.
Status codes become typed errors routed by cause (see ``errors``).
"""

from __future__ import annotations

import io
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from casanare.errors import PortalNoDisponible
from casanare.publish.portal.errors import CredencialesRechazadas, PublicacionRechazada

log = logging.getLogger(__name__)

DSMAPI = "/api/publishing/v1"
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class PortalConfig:
    """Plain values resolved from the ``datos_gov_co`` connection in the task body.

    Attributes:
        base_url: ``https://www.datos.gov.co`` (or ``http://127.0.0.1:PORT`` for the stand-in).
        app_token: Socrata app token (``X-App-Token``).
        username: user name, or the API key id (API keys are sent as basic auth).
        password: password, or the API key secret.
        timeout: seconds per HTTP request (connect and read).
        chunk_size: rows per SODA write request.
        max_attempts: attempts per request before giving up (transient failures only).
        backoff_base: first backoff delay in seconds; doubles every attempt, with jitter.
        backoff_max: cap of one backoff delay.
        retry_after_max: cap applied to a 429 ``Retry-After`` (seconds).
        verify: TLS verification: True, False or a CA bundle path.
        page_size: rows per read page.
        sample_size: rows checked by checksum during reconciliation.
        soda_max_filas: diffs up to this many rows go as ONE plain SODA upsert (one request is
            one transaction, so still all-or-nothing); larger ones as a DSMAPI revision.
        revision_timeout: seconds to wait for a revision's schema or apply job.
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
    page_size: int = 50_000
    sample_size: int = 500
    soda_max_filas: int = 5_000
    revision_timeout: float = 3_600.0

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def scheme(self) -> str:
        return urlsplit(self.base_url).scheme or "https"


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


def retry_policy(cfg: PortalConfig):
    """The urllib3 ``Retry`` mounted on the session (429 on every method, 5xx on idempotent ones)."""
    from urllib3.util.retry import Retry

    class _PortalRetry(Retry):
        def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
            if status_code == 429:  # throttled: the portal applied nothing, any method may go again
                return bool(self.total)
            return super().is_retry(method, status_code, has_retry_after)

    return _PortalRetry(
        total=max(0, cfg.max_attempts - 1),
        allowed_methods=_IDEMPOTENT,
        status_forcelist=(429, 500, 502, 503, 504),
        backoff_factor=cfg.backoff_base,
        backoff_max=cfg.backoff_max,
        backoff_jitter=cfg.backoff_base,
        retry_after_max=cfg.retry_after_max,
        respect_retry_after_header=True,
        raise_on_status=False,  # the last answer reaches request(), which types it
    )


class _Ambiguous(Exception):
    """The write may or may not have been applied (dropped connection, 202, 5xx on a POST)."""


class PortalClient:
    """SODA 2 + DSMAPI client on one retrying ``requests.Session`` (no Airflow import)."""

    def __init__(self, cfg: PortalConfig, *, sleep: Callable[[float], None] = time.sleep) -> None:
        from requests.adapters import HTTPAdapter
        from sodapy import Socrata

        self.cfg = cfg
        self._sleep = sleep
        adapter = HTTPAdapter(max_retries=retry_policy(cfg))
        self.soda = Socrata(cfg.domain, cfg.app_token, username=cfg.username, password=cfg.password,
                            timeout=cfg.timeout, session_adapter={"prefix": f"{cfg.scheme}://", "adapter": adapter})
        self.session = self.soda.session
        self.session.headers["Content-Type"] = "application/json"
        self.session.verify = cfg.verify
        self.retries = 0

    # -- plumbing --------------------------------------------------------------------------
    def close(self) -> None:
        self.soda.close()

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.cfg.scheme}://{self.cfg.domain}{path}"

    def _delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cfg.backoff_max, self.cfg.backoff_base * (2 ** attempt)))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        resend: bool = True,
        applied: Callable[[], bool] | None = None,
    ):
        """Send one request; safe retries already happened in the transport.

        Args:
            resend: a write whose outcome is unknown (lost answer, 202, 5xx on POST) may be sent
                again (upserts by row identifier, chunk uploads). False = raise at once.
            applied: for non-idempotent writes, asked after an ambiguous failure whether the
                write landed anyway; True means "do not resend" (returns None).

        Raises:
            PortalNoDisponible: the portal kept failing (transient; Airflow retries the task).
            CredencialesRechazadas: 401/403.
            PublicacionRechazada: any other 4xx, with the portal's message.
        """
        import requests

        headers = {"Content-Type": content_type} if content_type else None
        last = "desconocido"
        for attempt in range(self.cfg.max_attempts):
            try:
                response = self.session.request(method, self.url(path), params=params, data=body,
                                                headers=headers, timeout=self.cfg.timeout)
                status = response.status_code
                if status == 202:
                    raise _Ambiguous("202")  # still processing: nothing guaranteed yet
                if status == 429 or status >= 500:
                    if method in _IDEMPOTENT or status == 429:  # the transport already retried it
                        last = str(status)
                        break
                    raise _Ambiguous(str(status))
                if status >= 400:
                    raise _refused(response, method, path)
                return response
            except (_Ambiguous, requests.ConnectionError, requests.Timeout) as exc:
                last = str(exc) if isinstance(exc, _Ambiguous) else type(exc).__name__
                if method in _IDEMPOTENT and not isinstance(exc, _Ambiguous):
                    break  # the transport's retries are spent
                if applied is not None and applied():
                    return None
                if not resend:
                    break
            self.retries += 1
            delay = self._delay(attempt)
            log.warning("Portal: %s %s sin respuesta segura (%s); reintento %s en %.2f s", method, path, last,
                        attempt + 1, delay)
            self._sleep(delay)
        raise PortalNoDisponible(
            "El portal datos.gov.co no respondió después de varios intentos.",
            como_corregir="No requiere acción de la dependencia: la plataforma reintentará. Si persiste, el "
            "equipo de datos abiertos revisará el estado del portal y la conexión datos_gov_co.",
            detalles={"ruta": path, "ultimo_error": last, "intentos": self.cfg.max_attempts},
        )

    # -- SODA reads ------------------------------------------------------------------------
    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).json()

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
        chunk_size: int | None = None,
    ) -> WriteReport:
        """POST rows in chunks (upsert by row identifier, ``:deleted`` deletes).

        Args:
            append: the dataset has no row identifier, so a resent chunk would duplicate rows:
                after an ambiguous failure the row count tells whether the chunk landed (one
                request is one transaction).
        """
        report = report or WriteReport()
        path = f"/resource/{dataset_id}.json"
        size = max(1, chunk_size or self.cfg.chunk_size)
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
        """Whether an ambiguous append landed: the count reaches ``expected`` (polled: 202 = queued)."""
        for attempt in range(polls):
            if self.count(dataset_id) >= expected:
                return True
            if attempt < polls - 1:
                self._sleep(self._delay(attempt))
        return False

    # -- metadata and discovery --------------------------------------------------------------
    def view(self, dataset_id: str) -> dict[str, Any]:
        return self.get_json(f"/api/views/{dataset_id}.json")

    def update_view(self, dataset_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        # A metadata PUT is idempotent (same patch, same result), so plain retries are safe.
        return self.request("PUT", f"/api/views/{dataset_id}.json", body=dumps(patch)).json()

    def find_by_tag(self, tag: str) -> list[str]:
        """4x4s of the datasets (drafts included, we ask authenticated) carrying ``tag``."""
        answer = self.get_json("/api/catalog/v1", {"domains": self.cfg.domain.split(":")[0], "tags": tag,
                                                   "only": "dataset", "limit": 100})
        return [r["resource"]["id"] for r in answer.get("results") or []
                if tag in ((r.get("classification") or {}).get("domain_tags") or [])]

    # -- Dataset Management API (the endpoints socrata-py calls) -----------------------------
    def dsmapi(self, method: str, path: str, body: Any = None, *, resend: bool = True,
               applied: Callable[[], bool] | None = None) -> dict[str, Any] | None:
        """One DSMAPI call; ``path`` is absolute or relative to ``/api/publishing/v1``.

        Returns None only when ``applied`` said a write with a lost answer landed anyway.
        """
        full = path if path.startswith(DSMAPI) else DSMAPI + path
        data = dumps(body) if body is not None else None
        response = self.request(method, full, body=data, resend=resend, applied=applied)
        if response is None:
            return None
        return response.json() if response.content else {}

    def new_dataset(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """``POST /revision`` (socrata-py ``Socrata.new``): a new view and its first revision.

        Never resent blindly: a lost answer may have created the view, which the caller finds
        again by its stable tag instead of creating a second one.
        """
        return self.dsmapi("POST", "/revision", {"action": {"type": "update"}, "metadata": metadata}, resend=False)

    def open_revision(self, dataset_id: str, action: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        """``POST /revision/<4x4>`` with ``action.type`` replace/update (socrata-py ``create_*_revision``)."""
        return self.dsmapi("POST", f"/revision/{dataset_id}",
                           {"metadata": metadata or {}, "action": {"type": action, "permission": "public"}})

    def upload_csv(self, revision: dict[str, Any], filename: str, data: bytes | Path) -> dict[str, Any]:
        """Create an upload source on the revision, send the bytes in chunks and commit them.

        ``data`` is the CSV itself or a file holding it (read one chunk at a time, so a large
        upload is never in memory whole).
        """
        source = self.dsmapi("POST", revision["links"]["create_source"],
                             {"source_type": {"type": "upload", "filename": filename}, "parse_options": {}})
        links = source["links"]
        prefs = self.dsmapi("POST", links["initiate"], {"content_type": "text/csv"})
        size = int(prefs.get("preferred_chunk_size") or 4 * 1024 * 1024)
        total = data.stat().st_size if isinstance(data, Path) else len(data)
        seq = offset = 0
        with data.open("rb") if isinstance(data, Path) else io.BytesIO(data) as reader:
            for seq, offset in enumerate(range(0, max(total, 1), size)):
                reader.seek(offset)
                piece = reader.read(size)
                path = links["chunk"].format(seq_num=seq, byte_offset=offset)
                # A chunk is stored under (seq, offset): resending it overwrites, so it is idempotent.
                self.request("POST", path, body=piece, content_type="application/octet-stream")
        # A commit whose answer was lost may have been parsed already: look before committing again.
        committed = self.dsmapi("POST", links["commit"].format(seq_num=seq, byte_offset=total),
                                applied=lambda: bool(self.get(links["show"]).get("resource", {}).get("schemas")))
        return committed if committed is not None else self.get(links["show"])

    def get(self, path: str) -> dict[str, Any]:
        return self.dsmapi("GET", path)


def _refused(response: Any, method: str, path: str) -> PublicacionRechazada:
    """A 4xx as a typed error carrying the portal's own message (never row values)."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    message = str(body.get("message") or body.get("error") or "")[:500]
    detalles = {"estado_http": status, "metodo": method, "ruta": path, "codigo": body.get("code"),
                "mensaje_portal": message}
    if status in (401, 403):
        return CredencialesRechazadas(
            "datos.gov.co rechazó las credenciales de la plataforma.",
            como_corregir="Equipo de plataforma: revise usuario, contraseña (o API key) y app token de la "
            "conexión datos_gov_co en Airflow, y que ese usuario pueda editar el conjunto en datos.gov.co. "
            f"Respuesta del portal: {message or status}.",
            detalles=detalles,
        )
    return PublicacionRechazada(
        "datos.gov.co rechazó la petición de publicación.",
        como_corregir="Equipo de plataforma: revise que los nombres de campo, tipos e identificador de fila del "
        "catálogo sean válidos para el portal y que el identificador del conjunto exista. "
        f"Respuesta del portal: {message or status}.",
        detalles=detalles,
    )
