"""Local stand-in for a Socrata portal (datos.gov.co): SODA 2.1 + Dataset Management API.

Python use (tests, ``make run``)::

    from standins.soda_portal import start_portal

    with start_portal(tmp_path / "state", "seed.json", app_token="tok") as portal:
        portal.url      # http://127.0.0.1:PORT  (same port also answers https)
        portal.domain   # "127.0.0.1:PORT" -- what sodapy / socrata-py take as domain

CLI::

    python -m standins.soda_portal --port 8765 --seed seed.json --state-dir .state/soda \\
        [--app-token T] [--user U --password P] [--api-key ID:SECRET] \\
        [--fault-rate 0.3 --fault-seed 1 --fault-kinds 429,500,202,drop] [--pid-file F]

See ``docs/soda_standin.md`` for what is implemented and how to point clients at it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from standins.soda.dsmapi import Dsmapi
from standins.soda.server import FAULT_KINDS, AuthConfig, FaultConfig, FaultInjector, PortalServer
from standins.soda.store import Store
from standins.soda.tls import ensure_certificate, server_context

LOG = logging.getLogger("standins.soda")

__all__ = ["FAULT_KINDS", "FaultConfig", "PortalHandle", "load_seed", "main", "start_portal"]


def load_seed(seed: str | Path | dict[str, Any] | None) -> dict[str, Any] | None:
    """Read a seed file (or accept an already-parsed dict).

    Args:
        seed: Path to a JSON file ``{"datasets": [...]}``, the dict itself, or ``None``.

    Returns:
        The seed specification, or ``None``.
    """
    if seed is None or isinstance(seed, dict):
        return seed
    return json.loads(Path(seed).read_text(encoding="utf-8"))


@dataclass
class PortalHandle:
    """A running portal stand-in.

    Attributes:
        url: Base URL over plain HTTP (``http://host:port``).
        https_url: Base URL over HTTPS, or ``None`` if TLS is disabled.
        port: The bound TCP port.
        domain: ``host:port``, the "domain" argument of sodapy and socrata-py.
        cert_path: Self-signed certificate (use as ``REQUESTS_CA_BUNDLE``), or ``None``.
        state_dir: Directory holding the SQLite database and uploads.
    """

    url: str
    https_url: str | None
    port: int
    domain: str
    cert_path: Path | None
    state_dir: Path
    server: PortalServer = field(repr=False)
    thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        """Stop serving, close connections and the database (idempotent)."""
        if not self.thread.is_alive():
            return
        self.server.shutdown()
        self.server.close_open_connections()
        self.server.server_close()
        self.thread.join(10)
        self.server.dsmapi.wait_for_jobs()
        self.server.store.close()

    def set_faults(
        self,
        rate: float,
        kinds: list[str] | None = None,
        seed: int | None = None,
        retry_after: int = 1,
        paths: list[str] | None = None,
        methods: list[str] | None = None,
    ) -> None:
        """Change fault injection at runtime (same as ``POST /__standin/faults``)."""
        self.server.faults.configure(
            FaultConfig(
                rate, kinds or ["429", "500", "202", "drop"], seed, retry_after, paths or [], methods or []
            )
        )

    def stats(self) -> dict[str, Any]:
        """Request/fault counters (same as ``GET /__standin/stats``)."""
        return self.server.stats.snapshot()

    def reset(self) -> None:
        """Drop all data and re-seed (same as ``POST /__standin/reset``)."""
        self.server.store.reset(self.server.seed_spec)
        self.server.stats.reset()

    def __enter__(self) -> PortalHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_portal(
    state_dir: str | Path,
    seed: str | Path | dict[str, Any] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    app_token: str | None = None,
    username: str | None = None,
    password: str | None = None,
    api_keys: dict[str, str] | None = None,
    fault_rate: float = 0.0,
    fault_seed: int | None = None,
    fault_kinds: list[str] | None = None,
    retry_after: int = 1,
    tls: bool = True,
) -> PortalHandle:
    """Start the stand-in in a background thread.

    Args:
        state_dir: Directory for ``portal.sqlite3``, uploads and the TLS certificate.
            Reusing it after a restart keeps every dataset and row.
        seed: Seed file path or dict; datasets missing from the state are created.
        host: Interface to bind.
        port: TCP port (0 picks a free one).
        app_token: If set, writes must send it (``X-App-Token`` or ``$$app_token``);
            reads may omit it but a wrong one answers 403.
        username: With ``password``, HTTP Basic credentials required on writes and on
            every Dataset Management API call.
        password: See ``username``.
        api_keys: Extra ``{key_id: key_secret}`` accepted as Basic credentials.
        fault_rate: Share of requests answered with an injected fault.
        fault_seed: Seed for deterministic fault sequences.
        fault_kinds: Subset of ``FAULT_KINDS`` (default 429, 500, 202, drop).
        retry_after: Seconds sent in ``Retry-After`` with 429 faults.
        tls: Also accept HTTPS on the same port (self-signed certificate).

    Returns:
        A :class:`PortalHandle`; call ``stop()`` (or use it as a context manager).
    """
    state = Path(state_dir)
    state.mkdir(parents=True, exist_ok=True)
    seed_spec = load_seed(seed)
    store = Store(state / "portal.sqlite3")
    if seed_spec:
        store.seed(seed_spec)
    credentials = dict(api_keys or {})
    if username and password:
        credentials[username] = password
    faults = FaultInjector(
        FaultConfig(fault_rate, fault_kinds or ["429", "500", "202", "drop"], fault_seed, retry_after)
    )
    cert = ensure_certificate(state / "tls", host) if tls else None
    context = server_context(*cert) if cert else None
    server = PortalServer(
        (host, port),
        store,
        Dsmapi(store, state / "uploads"),
        AuthConfig(app_token, credentials),
        faults,
        seed_spec,
        context,
    )
    bound_port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="soda-standin", daemon=True
    )
    thread.start()
    domain = f"{host}:{bound_port}"
    return PortalHandle(
        url=f"http://{domain}",
        https_url=f"https://{domain}" if context else None,
        port=bound_port,
        domain=domain,
        cert_path=cert[0] if cert else None,
        state_dir=state,
        server=server,
        thread=thread,
    )


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m standins.soda_portal", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", help='JSON seed file {"datasets": [...]}')
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--app-token")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--api-key", action="append", default=[], help="ID:SECRET accepted as Basic auth")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--fault-seed", type=int)
    parser.add_argument("--fault-kinds", default="429,500,202,drop")
    parser.add_argument("--retry-after", type=int, default=1)
    parser.add_argument("--no-tls", action="store_true", help="plain HTTP only")
    parser.add_argument("--pid-file")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: serve until SIGTERM/SIGINT."""
    args = _parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    api_keys = dict(key.split(":", 1) for key in args.api_key)
    handle = start_portal(
        args.state_dir,
        args.seed,
        host=args.host,
        port=args.port,
        app_token=args.app_token,
        username=args.user,
        password=args.password,
        api_keys=api_keys,
        fault_rate=args.fault_rate,
        fault_seed=args.fault_seed,
        fault_kinds=[k.strip() for k in args.fault_kinds.split(",") if k.strip()],
        retry_after=args.retry_after,
        tls=not args.no_tls,
    )
    if args.pid_file:
        Path(args.pid_file).write_text(str(os.getpid()), encoding="utf-8")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(handle.url, flush=True)
    if handle.cert_path:
        print(f"https on the same port; CA bundle: {handle.cert_path}", file=sys.stderr, flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        handle.stop()
        if args.pid_file:
            Path(args.pid_file).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
