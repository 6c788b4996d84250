"""HTTP layer of the SODA stand-in: routing, auth, fault injection and rendering."""

from __future__ import annotations

import base64
import contextlib
import csv
import email.utils
import hmac
import io
import json
import logging
import random
import re
import socket
import ssl
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standins.soda import types as t
from standins.soda.dsmapi import PREFIX, Dsmapi
from standins.soda.store import PortalError, Store, not_found

LOG = logging.getLogger("standins.soda")
FAULT_KINDS = ("429", "500", "202", "drop", "drop_after_commit")
_ADMIN = "/__standin/"


@dataclass
class FaultConfig:
    """Runtime fault-injection settings.

    Attributes:
        rate: Share of eligible requests that get a fault (0..1).
        kinds: Fault kinds to choose from (see ``FAULT_KINDS``).
        seed: Seed of the random generator (deterministic sequences for tests).
        retry_after: Seconds announced in ``Retry-After`` for 429 answers.
        paths: Path prefixes eligible for faults (empty = every non-admin path).
        methods: HTTP methods eligible for faults (empty = all).
    """

    rate: float = 0.0
    kinds: list[str] = field(default_factory=lambda: ["429", "500", "202", "drop"])
    seed: int | None = None
    retry_after: int = 1
    paths: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)


class FaultInjector:
    """Decides, per request, whether to inject a fault (thread-safe, seeded)."""

    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self.configure(config)

    def configure(self, config: FaultConfig) -> None:
        """Replace the settings and reseed the generator.

        Raises:
            ValueError: For unknown kinds or a rate outside 0..1.
        """
        unknown = [k for k in config.kinds if k not in FAULT_KINDS]
        if unknown or not 0.0 <= config.rate <= 1.0:
            raise ValueError(f"Invalid fault config (kinds must be among {FAULT_KINDS}, rate in 0..1)")
        with self._lock:
            self.config = config
            self._random = random.Random(config.seed)

    def pick(self, method: str, path: str) -> str | None:
        """Return the fault kind for this request, or ``None``."""
        with self._lock:
            config = self.config
            if config.rate <= 0 or not config.kinds:
                return None
            if config.paths and not any(path.startswith(p) for p in config.paths):
                return None
            if config.methods and method not in config.methods:
                return None
            if self._random.random() >= config.rate:
                return None
            return self._random.choice(config.kinds)


@dataclass
class AuthConfig:
    """Credentials the server enforces (``None`` = not enforced)."""

    app_token: str | None = None
    credentials: dict[str, str] = field(default_factory=dict)  # user or API key id -> secret


class Stats:
    """Request counters exposed at ``GET /__standin/stats``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.by_status: Counter[str] = Counter()
            self.by_method: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()
            self.writes_applied = 0
            self.requests = 0

    def record(self, method: str, status: str) -> None:
        with self._lock:
            self.requests += 1
            self.by_status[status] += 1
            self.by_method[method] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def applied(self) -> None:
        with self._lock:
            self.writes_applied += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "by_status": dict(self.by_status),
                "by_method": dict(self.by_method),
                "faults": dict(self.faults),
                "faults_total": sum(self.faults.values()),
                "writes_applied": self.writes_applied,
            }


class PortalServer(ThreadingHTTPServer):
    """Threaded HTTP server that also speaks TLS on the same port when configured.

    The first byte of a connection tells TLS (0x16, a handshake record) from plain
    HTTP, so ``http://`` clients (sodapy with a session adapter) and ``https://``
    clients (socrata-py, which hard-codes https) share one port.
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(
        self,
        address: tuple[str, int],
        store: Store,
        dsmapi: Dsmapi,
        auth: AuthConfig,
        faults: FaultInjector,
        seed_spec: dict[str, Any] | None,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        super().__init__(address, Handler)
        self.store = store
        self.dsmapi = dsmapi
        self.auth = auth
        self.faults = faults
        self.seed_spec = seed_spec
        self.ssl_context = ssl_context
        self.stats = Stats()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Optionally wrap the socket in TLS, then serve it; track it for shutdown."""
        conn = request
        try:
            if self.ssl_context is not None:
                request.settimeout(30)
                first = request.recv(1, socket.MSG_PEEK)
                if first == b"\x16":
                    conn = self.ssl_context.wrap_socket(request, server_side=True)
                conn.settimeout(None)
            with self._open_lock:
                self._open.add(conn)
            self.RequestHandlerClass(conn, client_address, self)
        except (OSError, ssl.SSLError):
            pass  # clients hanging up mid-handshake are normal (and tests kill clients)
        finally:
            with self._open_lock:
                self._open.discard(conn)
            if conn is not request:
                with contextlib.suppress(OSError):
                    conn.close()

    def close_open_connections(self) -> None:
        """Shut down keep-alive connections so ``stop()`` really frees the port."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


Route = tuple[str, re.Pattern[str], str]
_FF = r"(?P<ff>[a-z0-9]{4}-[a-z0-9]{4})"
_ROUTES: list[Route] = [
    (m, re.compile(p), h)
    for m, p, h in [
        ("GET", r"^/resource/" + _FF + r"(?:\.(?P<fmt>json|csv))?$", "resource_read"),
        ("POST", r"^/resource/" + _FF + r"(?:\.(?P<fmt>json|csv))?$", "resource_upsert"),
        ("PUT", r"^/resource/" + _FF + r"(?:\.(?P<fmt>json|csv))?$", "resource_replace"),
        ("DELETE", r"^/resource/" + _FF + r"/(?P<row>[^/]+?)(?:\.json)?$", "resource_delete_row"),
        ("POST", r"^/api/views(?:\.json)?$", "view_create"),
        ("GET", r"^/api/views/" + _FF + r"(?:\.json)?$", "view_get"),
        ("PUT", r"^/api/views/" + _FF + r"(?:\.json)?$", "view_put"),
        ("DELETE", r"^/api/views/" + _FF + r"(?:\.json)?$", "view_delete"),
        ("POST", r"^/api/views/" + _FF + r"/publication(?:\.json)?$", "view_publish"),
        ("GET", r"^/api/views/" + _FF + r"/rows\.(?P<fmt>json|csv)$", "view_rows"),
        ("GET", r"^/api/catalog/v1$", "catalog"),
        ("POST", r"^" + PREFIX + r"/revision$", "rev_new"),
        ("POST", r"^" + PREFIX + r"/revision/" + _FF + r"$", "rev_create"),
        ("GET", r"^" + PREFIX + r"/revision/" + _FF + r"$", "rev_list"),
        ("GET", r"^" + PREFIX + r"/revision/" + _FF + r"/(?P<seq>\d+)$", "rev_show"),
        ("PUT", r"^" + PREFIX + r"/revision/" + _FF + r"/(?P<seq>\d+)$", "rev_update"),
        ("DELETE", r"^" + PREFIX + r"/revision/" + _FF + r"/(?P<seq>\d+)$", "rev_discard"),
        ("POST", r"^" + PREFIX + r"/revision/" + _FF + r"/(?P<seq>\d+)/source$", "rev_source_create"),
        ("GET", r"^" + PREFIX + r"/revision/" + _FF + r"/(?P<seq>\d+)/source$", "rev_source_list"),
        ("PUT", r"^" + PREFIX + r"/revision/" + _FF + r"/(?P<seq>\d+)/apply$", "rev_apply"),
        ("GET", r"^" + PREFIX + r"/revision/" + _FF + r"/(?P<seq>\d+)/plan$", "rev_plan"),
        ("GET", r"^" + PREFIX + r"/revision/" + _FF + r"/(?P<seq>\d+)/task_set/(?P<job>\d+)$", "job_show"),
        ("POST", r"^" + PREFIX + r"/source$", "source_create"),
        ("GET", r"^" + PREFIX + r"/source/(?P<sid>\d+)$", "source_show"),
        ("POST", r"^" + PREFIX + r"/source/(?P<sid>\d+)$", "source_update"),
        ("PATCH", r"^" + PREFIX + r"/source/(?P<sid>\d+)$", "source_add_to_revision"),
        ("POST", r"^" + PREFIX + r"/source/(?P<sid>\d+)/initiate$", "source_initiate"),
        ("POST", r"^" + PREFIX + r"/source/(?P<sid>\d+)/chunk/(?P<seq>\d+)/(?P<off>\d+)$", "source_chunk"),
        ("POST", r"^" + PREFIX + r"/source/(?P<sid>\d+)/commit/(?P<seq>\d+)/(?P<off>\d+)$", "source_commit"),
        ("GET", r"^" + PREFIX + r"/source/(?P<sid>\d+)/schema/(?P<iid>\d+)$", "input_show"),
        ("POST", r"^" + PREFIX + r"/source/(?P<sid>\d+)/schema/(?P<iid>\d+)$", "input_transform"),
        (
            "GET",
            r"^" + PREFIX + r"/source/(?P<sid>\d+)/schema/(?P<iid>\d+)/output/(?P<oid>\d+|latest)$",
            "output_show",
        ),
        (
            "GET",
            r"^" + PREFIX + r"/source/(?P<sid>\d+)/schema/(?P<iid>\d+)/output/(?P<oid>\d+)/rows$",
            "output_rows",
        ),
        (
            "GET",
            r"^" + PREFIX + r"/source/(?P<sid>\d+)/schema/(?P<iid>\d+)/output/(?P<oid>\d+)/errors$",
            "output_errors",
        ),
        (
            "GET",
            r"^"
            + PREFIX
            + r"/source/(?P<sid>\d+)/schema/(?P<iid>\d+)/output/(?P<oid>\d+)/validate_row_id/(?P<tid>\d+)$",
            "output_validate",
        ),
        # Human pages (standins/soda/pagina.py): /d/<4x4> redirects to /<categoría>/<nombre>/<4x4>.
        ("GET", r"^/d/" + _FF + r"$", "page_redirect"),
        ("GET", r"^/(?!api/|resource/|__standin/)[^/]+/[^/]+/" + _FF + r"$", "page_show"),
        ("GET", r"^/__standin/stats$", "admin_stats"),
        ("GET", r"^/__standin/health$", "admin_health"),
        ("POST", r"^/__standin/faults$", "admin_faults"),
        ("POST", r"^/__standin/reset$", "admin_reset"),
    ]
]


class DropConnection(Exception):
    """Raised to close the connection without answering (a ``drop`` fault)."""


class Handler(BaseHTTPRequestHandler):
    """One HTTP request. Handlers named in ``_ROUTES`` return ``(status, body)``."""

    server: PortalServer
    protocol_version = "HTTP/1.1"
    server_version = "SodaStandin/1.0"
    timeout = 120

    # -- plumbing ----------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr log (it would print query strings with values)."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        started = time.monotonic()
        parsed = urllib.parse.urlsplit(self.path)
        self.route_path = parsed.path.rstrip("/") or "/"
        self.query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        self.status_sent = "000"
        try:
            self.body = self._read_body()
            self._handle(method)
        except DropConnection:
            self.status_sent = "drop"
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        except PortalError as exc:
            self._send_json(exc.status, exc.body())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            LOG.exception("unhandled error on %s %s", method, self.route_path)
            with contextlib.suppress(OSError):
                self._send_json(500, {"code": "internal_error", "error": True, "message": "Internal error"})
        finally:
            if not self.route_path.startswith(_ADMIN):
                self.server.stats.record(method, self.status_sent)
            # Only method, path (no query string: it may hold values) and status are logged.
            LOG.info(
                "%s %s -> %s (%.0f ms)",
                method,
                self.route_path,
                self.status_sent,
                (time.monotonic() - started) * 1000,
            )

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self, method: str) -> None:
        name, params = self._route(method)
        is_admin = self.route_path.startswith(_ADMIN)
        fault = None if is_admin else self.server.faults.pick(method, self.route_path)
        if fault and fault != "drop_after_commit":
            self._inject(fault)
            return
        if not is_admin:
            self._check_auth(method)
        status, body = getattr(self, "h_" + name)(**params)
        if method in ("POST", "PUT", "PATCH", "DELETE") and status < 300 and not is_admin:
            self.server.stats.applied()
        if fault == "drop_after_commit":
            self.server.stats.fault(fault)
            raise DropConnection
        if body is not None:
            self._send_body(status, body)

    def _route(self, method: str) -> tuple[str, dict[str, str]]:
        matched_path = False
        for route_method, pattern, name in _ROUTES:
            match = pattern.match(self.route_path)
            if match:
                matched_path = True
                if route_method == method:
                    return name, {k: v for k, v in match.groupdict().items() if v is not None}
        if matched_path:
            raise PortalError(405, "method_not_allowed", f"{method} is not allowed on this path")
        raise PortalError(404, "not_found", "No such endpoint")

    def _inject(self, kind: str) -> None:
        self.server.stats.fault(kind)
        if kind == "drop":
            raise DropConnection
        if kind == "429":
            retry = str(self.server.faults.config.retry_after)
            self._send_json(
                429,
                {"code": "too_many_requests", "error": True, "message": "Too many requests, slow down"},
                {"Retry-After": retry},
            )
        elif kind == "500":
            self._send_json(
                500, {"code": "internal_error", "error": True, "message": "Internal server error"}
            )
        elif kind == "202":
            # Like SODA while a request is still being processed: nothing was applied yet.
            self._send_json(202, {"message": "processing", "status": "processing"})

    # -- auth ------------------------------------------------------------------------
    def _param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def _check_auth(self, method: str) -> None:
        auth = self.server.auth
        is_write = method in ("POST", "PUT", "PATCH", "DELETE")
        is_dsmapi = self.route_path.startswith(PREFIX)
        if auth.app_token:
            token = self.headers.get("X-App-Token") or self._param("$$app_token")
            if (is_write and not is_dsmapi and token is None) or (
                token is not None and not _same(token, auth.app_token)
            ):
                raise PortalError(403, "permission_denied", "Invalid or missing app token (X-App-Token)")
        if auth.credentials and (is_write or is_dsmapi):
            user = self._basic_user()
            if user is None:
                raise PortalError(
                    401, "authentication_required", "You must be logged in to perform this action"
                )

    def _basic_user(self) -> str | None:
        header = self.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            user, _, secret = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        expected = self.server.auth.credentials.get(user)
        return user if expected is not None and _same(secret, expected) else None

    # -- responses ---------------------------------------------------------------------
    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self._send_bytes(status, data, "application/json; charset=utf-8", headers)

    def _send_bytes(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.status_sent = str(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_body(self, status: int, body: Any) -> None:
        if isinstance(body, Streamed):
            self._send_stream(status, body)
        else:
            self._send_json(status, body)

    def _send_stream(self, status: int, body: Streamed) -> None:
        """Send small bodies with Content-Length and large ones chunked (bounded memory)."""
        buffered: list[bytes] = []
        size = 0
        pieces = iter(body.pieces)
        for piece in pieces:
            buffered.append(piece)
            size += len(piece)
            if size > 8 * 1024 * 1024:
                break
        else:
            self._send_bytes(status, b"".join(buffered), body.content_type, body.headers)
            return
        self.status_sent = str(status)
        self.send_response(status)
        self.send_header("Content-Type", body.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        for key, value in body.headers.items():
            self.send_header(key, value)
        self.end_headers()
        for piece in _chain(buffered, pieces):
            if piece:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    def _json_body(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PortalError(400, "invalid_request", "Request body is not valid JSON") from exc

    def _rows_body(self) -> Any:
        content_type = self.headers.get("Content-Type", "").lower()
        if "text/csv" in content_type:
            return _csv_rows(self.body)
        return self._json_body()

    def _soda_params(self) -> dict[str, str]:
        return {k: v[-1] for k, v in self.query.items() if k != "$$app_token"}

    # -- SODA resource -----------------------------------------------------------------
    def h_resource_read(self, ff: str, fmt: str = "json") -> tuple[int, Any]:
        params = self._soda_params()
        dataset = self.server.store.dataset(ff)
        plan, batches = self.server.store.run_query(ff, params)
        if fmt == "csv" and int(params.get("$offset") or 0) == 0:
            self.server.store.bump(ff, "download_count")
        headers = {
            "X-SODA2-Fields": json.dumps(plan.names),
            "X-SODA2-Types": json.dumps(plan.type_names),
            "X-SODA2-Truth-Last-Modified": email.utils.formatdate(dataset.rows_updated_at, usegmt=True),
            "Last-Modified": email.utils.formatdate(dataset.rows_updated_at, usegmt=True),
        }
        headers = {k: v.encode("ascii", "backslashreplace").decode("ascii") for k, v in headers.items()}
        if fmt == "csv":
            return 200, Streamed(
                _render_csv(plan.names, plan.kinds, batches), "text/csv; charset=utf-8", headers
            )
        return 200, Streamed(
            _render_json(plan.names, plan.kinds, batches), "application/json; charset=utf-8", headers
        )

    def h_resource_upsert(self, ff: str, fmt: str = "json") -> tuple[int, Any]:
        self.server.store.dataset(ff)  # unknown ids answer 404 before body validation
        return 200, self.server.store.upsert(ff, self._rows_body())

    def h_resource_replace(self, ff: str, fmt: str = "json") -> tuple[int, Any]:
        self.server.store.dataset(ff)
        return 200, self.server.store.replace(ff, self._rows_body())

    def h_resource_delete_row(self, ff: str, row: str) -> tuple[int, Any]:
        return 200, self.server.store.delete_row(ff, urllib.parse.unquote(row))

    # -- views ---------------------------------------------------------------------
    def h_page_redirect(self, ff: str) -> tuple[int, Any]:
        from standins.soda.pagina import page_path

        self._send_bytes(302, b"", "text/html; charset=utf-8",
                         {"Location": page_path(self.server.store.view_json(ff))})
        return 302, None

    def h_page_show(self, ff: str) -> tuple[int, Any]:
        from standins.soda.pagina import page_path, render

        view = self.server.store.view_json(ff)
        if self.route_path != page_path(view):  # an old name or category: send to the current page
            return self.h_page_redirect(ff)
        self._send_bytes(200, render(view), "text/html; charset=utf-8")
        return 200, None

    def h_view_get(self, ff: str) -> tuple[int, Any]:
        if (self._param("read") or "").lower() == "true":
            self.server.store.bump(ff, "view_count")
        return 200, self.server.store.view_json(ff)

    def h_view_put(self, ff: str) -> tuple[int, Any]:
        if self._param("method"):
            self.server.store.dataset(ff)  # e.g. sodapy set_permission: accepted, no-op
            return 200, self.server.store.view_json(ff)
        return 200, self.server.store.update_view(ff, self._json_body())

    def h_view_delete(self, ff: str) -> tuple[int, Any]:
        self.server.store.delete_dataset(ff)
        return 200, {}

    def h_view_create(self) -> tuple[int, Any]:
        body = self._json_body()
        if not isinstance(body, dict) or not body.get("name"):
            raise PortalError(400, "invalid_request", "A dataset needs a name")
        return 200, self.server.store.create_dataset(body)

    def h_view_publish(self, ff: str) -> tuple[int, Any]:
        return 200, self.server.store.view_json(ff)

    def h_view_rows(self, ff: str, fmt: str) -> tuple[int, Any]:
        """Full export (``/api/views/<id>/rows.csv``), counted as a download."""
        self.query = {"$limit": [str(2**62)]}
        return self.h_resource_read(ff, fmt)

    def h_catalog(self) -> tuple[int, Any]:
        # Like the Discovery API: unpublished drafts are only visible to an authenticated owner.
        return 200, _catalog(self.server.store, self.query, self.headers.get("Host", "localhost"),
                             drafts=self._basic_user() is not None)

    # -- DSMAPI --------------------------------------------------------------------
    def _user(self) -> str:
        return self._basic_user() or "anonymous"

    def h_rev_new(self) -> tuple[int, Any]:
        return 201, self.server.dsmapi.new_dataset(self._json_body(), self._user())

    def h_rev_create(self, ff: str) -> tuple[int, Any]:
        return 201, self.server.dsmapi.create_revision(ff, self._json_body(), self._user())

    def h_rev_list(self, ff: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.list_revisions(ff)

    def h_rev_show(self, ff: str, seq: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.revision_doc(self.server.dsmapi.find_revision(ff, int(seq)))

    def h_rev_update(self, ff: str, seq: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.update_revision(ff, int(seq), self._json_body())

    def h_rev_discard(self, ff: str, seq: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.discard_revision(ff, int(seq))

    def h_rev_source_create(self, ff: str, seq: str) -> tuple[int, Any]:
        revision = self.server.dsmapi.find_revision(ff, int(seq))
        return 201, self.server.dsmapi.create_source(self._json_body(), revision)

    def h_rev_source_list(self, ff: str, seq: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.list_sources(ff, int(seq))

    def h_rev_apply(self, ff: str, seq: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.apply(ff, int(seq), self._json_body())

    def h_rev_plan(self, ff: str, seq: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.plan(ff, int(seq))

    def h_job_show(self, ff: str, seq: str, job: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.job(int(job))

    def h_source_create(self) -> tuple[int, Any]:
        return 201, self.server.dsmapi.create_source(self._json_body(), None)

    def h_source_show(self, sid: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.source_doc(self.server.dsmapi.source(int(sid)))

    def h_source_update(self, sid: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.update_source(int(sid), self._json_body())

    def h_source_add_to_revision(self, sid: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.add_to_revision(int(sid), self._json_body())

    def h_source_initiate(self, sid: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.initiate(int(sid), self._json_body())

    def h_source_chunk(self, sid: str, seq: str, off: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.chunk(int(sid), int(seq), int(off), self.body)

    def h_source_commit(self, sid: str, seq: str, off: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.commit(int(sid), int(seq), int(off))

    def h_input_show(self, sid: str, iid: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.input_doc(int(sid), int(iid))

    def h_input_transform(self, sid: str, iid: str) -> tuple[int, Any]:
        return 201, self.server.dsmapi.transform(int(sid), int(iid), self._json_body())

    def h_output_show(self, sid: str, iid: str, oid: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.output_doc(int(sid), int(iid), oid if oid == "latest" else int(oid))

    def _paging(self) -> tuple[int, int]:
        return int(self._param("offset") or 0), int(self._param("limit") or 500)

    def h_output_rows(self, sid: str, iid: str, oid: str) -> tuple[int, Any]:
        offset, limit = self._paging()
        return 200, self.server.dsmapi.output_rows(int(sid), int(iid), int(oid), offset, limit, errors=False)

    def h_output_errors(self, sid: str, iid: str, oid: str) -> tuple[int, Any]:
        offset, limit = self._paging()
        return 200, self.server.dsmapi.output_rows(int(sid), int(iid), int(oid), offset, limit, errors=True)

    def h_output_validate(self, sid: str, iid: str, oid: str, tid: str) -> tuple[int, Any]:
        return 200, self.server.dsmapi.validate_row_id(int(sid), int(iid), int(oid), int(tid))

    # -- admin (tests only) ------------------------------------------------------------
    def h_admin_stats(self) -> tuple[int, Any]:
        return 200, {**self.server.stats.snapshot(), "fault_config": self.server.faults.config.__dict__}

    def h_admin_health(self) -> tuple[int, Any]:
        return 200, {"status": "ok", "datasets": self.server.store.dataset_ids()}

    def h_admin_faults(self) -> tuple[int, Any]:
        body = self._json_body()
        try:
            config = FaultConfig(
                rate=float(body.get("rate", 0.0)),
                kinds=[str(k) for k in body.get("kinds", ["429", "500", "202", "drop"])],
                seed=body.get("seed"),
                retry_after=int(body.get("retry_after", 1)),
                paths=list(body.get("paths", [])),
                methods=[m.upper() for m in body.get("methods", [])],
            )
            self.server.faults.configure(config)
        except (TypeError, ValueError, AttributeError) as exc:
            raise PortalError(400, "invalid_request", str(exc)) from exc
        if body.get("reset_stats"):
            self.server.stats.reset()
        return 200, {"fault_config": config.__dict__}

    def h_admin_reset(self) -> tuple[int, Any]:
        self.server.store.reset(self.server.seed_spec)
        self.server.stats.reset()
        return 200, {"status": "reset", "datasets": self.server.store.dataset_ids()}


@dataclass
class Streamed:
    """A response body produced piece by piece."""

    pieces: Iterable[bytes]
    content_type: str
    headers: dict[str, str]


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _chain(first: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from first
    yield from rest


def _formatters(kinds: list[str]) -> list[Callable[[Any], Any]]:
    def formatter(kind: str) -> Callable[[Any], Any]:
        if kind == "sid":
            return lambda v: None if v is None else t.encode_sid(v)
        if kind == "fixed":
            return lambda v: None if v is None else t.format_fixed_timestamp(v)
        return lambda v: t.format_json(kind, v)

    return [formatter(k) for k in kinds]


def _render_json(names: list[str], kinds: list[str], batches: Iterator[list[tuple]]) -> Iterator[bytes]:
    """Render rows as a SODA JSON array: strings for numbers, nulls omitted."""
    formatters = _formatters(kinds)
    columns = list(zip(names, formatters, strict=True))
    first = True
    yield b"["
    for batch in batches:
        objects = []
        for row in batch:
            obj = {}
            for (name, fmt), value in zip(columns, row, strict=True):
                shown = fmt(value)
                if shown is not None:
                    obj[name] = shown
            objects.append(obj)
        text = json.dumps(objects, ensure_ascii=False)[1:-1]
        if text:
            yield (b"" if first else b",") + b"\n" + text.encode("utf-8")
            first = False
    yield b"]\n"


def _render_csv(names: list[str], kinds: list[str], batches: Iterator[list[tuple]]) -> Iterator[bytes]:
    formatters = _formatters(kinds)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for batch in batches:
        for row in batch:
            values = []
            for fmt, kind, value in zip(formatters, kinds, row, strict=True):
                shown = fmt(value)
                if kind in ("sid", "fixed"):
                    values.append(shown or "")
                else:
                    values.append(
                        t.format_csv(kind, value)
                        if kind != "json"
                        else (json.dumps(shown) if shown is not None else "")
                    )
            writer.writerow(values)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _csv_rows(body: bytes) -> list[dict[str, Any]]:
    """Parse a CSV upsert body (header row of field names); empty cells are null."""
    try:
        reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""))
        return [{k: (v if v != "" else None) for k, v in row.items() if k is not None} for row in reader]
    except (csv.Error, UnicodeDecodeError) as exc:
        raise PortalError(400, "invalid_request", "Request body is not valid CSV") from exc


def _catalog(store: Store, query: dict[str, list[str]], host: str, drafts: bool = False) -> dict[str, Any]:
    """Minimal Discovery API answer (``/api/catalog/v1``)."""
    ids = query.get("ids") or store.dataset_ids()
    results = []
    for dataset_id in ids:
        try:
            view = store.view_json(dataset_id)
        except PortalError:
            continue
        if not _catalog_match(view, query):
            continue
        if view.get("publicationStage") != "published" and not drafts:
            continue
        results.append(_catalog_entry(view, host))
    offset = int((query.get("offset") or ["0"])[-1])
    limit = int((query.get("limit") or ["100"])[-1])
    return {"results": results[offset : offset + limit], "resultSetSize": len(results), "timings": {}}


def _catalog_match(view: dict[str, Any], query: dict[str, list[str]]) -> bool:
    if query.get("categories") and view.get("category") not in query["categories"]:
        return False
    if query.get("tags") and not set(query["tags"]) & set(view.get("tags") or []):
        return False
    if query.get("q"):
        needle = query["q"][-1].lower()
        if needle not in (view["name"] + " " + (view.get("description") or "")).lower():
            return False
    custom = _custom_pairs(view)
    for key, values in query.items():
        if "_" in key and key in custom and custom[key] not in values:
            return False
    return True


def _custom_pairs(view: dict[str, Any]) -> dict[str, str]:
    """Custom fields as Discovery API keys, e.g. ``Información-de-la-Entidad_Departamento``."""
    pairs = {}
    for fieldset, fields in (view.get("metadata", {}).get("custom_fields") or {}).items():
        if isinstance(fields, dict):
            for name, value in fields.items():
                pairs[f"{fieldset.replace(' ', '-')}_{name}"] = str(value)
    return pairs


def _catalog_entry(view: dict[str, Any], host: str) -> dict[str, Any]:
    def iso(epoch: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))

    columns = view["columns"]
    return {
        "resource": {
            "id": view["id"],
            "name": view["name"],
            "description": view.get("description"),
            "attribution": view.get("attribution"),
            "type": "dataset",
            "updatedAt": iso(max(view["rowsUpdatedAt"], view["viewLastModified"])),
            "createdAt": iso(view["createdAt"]),
            "metadata_updated_at": iso(view["viewLastModified"]),
            "data_updated_at": iso(view["rowsUpdatedAt"]),
            "publication_date": iso(view["publicationDate"]),
            "page_views": {
                "page_views_last_week": 0,
                "page_views_last_month": 0,
                "page_views_total": view["viewCount"],
            },
            "download_count": view["downloadCount"],
            "columns_name": [c["name"] for c in columns],
            "columns_field_name": [c["fieldName"] for c in columns],
            "columns_datatype": [c["dataTypeName"] for c in columns],
            "columns_description": [c["description"] for c in columns],
            "provenance": view.get("provenance"),
        },
        "classification": {
            "domain_category": view.get("category"),
            "domain_tags": view.get("tags") or [],
            "domain_metadata": [{"key": k, "value": v} for k, v in _custom_pairs(view).items()],
        },
        "metadata": {"domain": host.split(":")[0], "license": (view.get("license") or {}).get("name")},
        "permalink": f"https://{host}/d/{view['id']}",
        "link": f"https://{host}/d/{view['id']}",
        "owner": view.get("owner"),
    }


def check_dataset(store: Store, dataset_id: str) -> None:
    """Raise the portal's 404 if a dataset does not exist."""
    if dataset_id not in store.dataset_ids():
        raise not_found(dataset_id)
