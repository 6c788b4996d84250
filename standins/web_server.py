"""Serve the website folder over HTTP (the casanare.gov.co stand-in for ``make run``)."""

from __future__ import annotations

import argparse
import functools
import threading
import time
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietHandler(SimpleHTTPRequestHandler):
    # The site is UTF-8; say so, as casanare.gov.co's server must, so clients don't guess Latin-1.
    extensions_map = {  # noqa: RUF012 - stdlib attribute
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".csv": "text/csv; charset=utf-8",
        ".json": "application/json; charset=utf-8",
        ".atom": "application/atom+xml; charset=utf-8",
        ".xml": "application/xml; charset=utf-8",
    }

    # URL prefix → folder served under it (e.g. "/data-docs" → the Data Docs site).
    mounts: dict[str, str] = {}  # noqa: RUF012 - set per server through functools.partial

    def __init__(self, *args, mounts: dict[str, str] | None = None, **kwargs) -> None:
        self.mounts = mounts or {}
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        for prefix, folder in self.mounts.items():
            if path == prefix or path.startswith(prefix + "/"):
                rest = path[len(prefix):] or "/"
                original, self.directory = self.directory, folder
                try:
                    return super().translate_path(rest)
                finally:
                    self.directory = original
        return super().translate_path(path)
    access_log: Path | None = None
    _log_lock = threading.Lock()

    def log_message(self, format: str, *args) -> None:
        pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Common Log Format, like casanare.gov.co's server: the monitoring DAG counts use from it."""
        if self.access_log is None:
            return
        when = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
        status = getattr(code, "value", code)
        line = f'{self.client_address[0]} - - [{when}] "{self.requestline}" {status} {size}\n'
        with self._log_lock, self.access_log.open("a", encoding="utf-8") as fh:
            fh.write(line)


@dataclass
class WebHandle:
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_web(root: Path, host: str = "127.0.0.1", port: int = 0, access_log: Path | None = None,
              mounts: dict[str, Path] | None = None) -> WebHandle:
    """Serve ``root`` at ``/`` and each of ``mounts`` (URL prefix → folder) under its prefix; with
    ``access_log`` every request is appended to it (kept outside the site)."""
    root.mkdir(parents=True, exist_ok=True)
    for folder in (mounts or {}).values():
        folder.mkdir(parents=True, exist_ok=True)
    handler_class = _QuietHandler
    if access_log is not None:
        access_log.parent.mkdir(parents=True, exist_ok=True)
        handler_class = type("_LoggingHandler", (_QuietHandler,), {"access_log": access_log})
    handler = functools.partial(handler_class, directory=str(root),
                                mounts={k.rstrip("/"): str(v) for k, v in (mounts or {}).items()})
    server = ThreadingHTTPServer((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return WebHandle(server, thread)


def main() -> None:
    parser = argparse.ArgumentParser(description="Sirve la carpeta del sitio web por HTTP")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--carpeta", type=Path, required=True)
    args = parser.parse_args()
    handle = start_web(args.carpeta, args.host, args.port)
    print(f"Sitio web local en {handle.url}", flush=True)
    handle.thread.join()


if __name__ == "__main__":
    main()
