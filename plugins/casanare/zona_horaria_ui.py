"""The Airflow UI shows times in Colombian time by default (America/Bogota).

Airflow 3 dropped ``[webserver] default_ui_timezone``: the React UI takes the browser's zone
and keeps the user's choice in ``localStorage["timezone"]`` (JSON). An operator whose browser
or VM runs in UTC saw the 5:00 a. m. Bogotá run as 10:00. This ASGI middleware, registered by
the ``casanare_enlaces`` plugin, adds one inline script to the UI's HTML page that sets the
stored zone to ``CASANARE_UI_TIMEZONE`` (default America/Bogota) only when the user has not
chosen one; the user menu can still change it. API and log responses are not touched.
"""

from __future__ import annotations

import json
import os
from typing import Any

DEFAULT = "America/Bogota"


def script(zone: str) -> bytes:
    value = json.dumps(json.dumps(zone))  # localStorage holds the JSON text of the zone name
    return (f"<script>try{{if(!localStorage.getItem(\"timezone\"))localStorage.setItem(\"timezone\",{value})}}"
            f"catch(e){{}}</script>").encode()


class ZonaHorariaPorDefecto:
    """Pure ASGI middleware: inject :func:`script` into ``text/html`` GET responses."""

    def __init__(self, app: Any, zone: str | None = None) -> None:
        self.app = app
        self.snippet = script(zone or os.environ.get("CASANARE_UI_TIMEZONE", DEFAULT))

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method") != "GET" or \
                scope.get("path", "").startswith(("/api/", "/execution/", "/auth/token")):
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if not headers.get(b"content-type", b"").startswith(b"text/html"):
                    start = None
                    await send(message)
                    capture.passthrough = True  # type: ignore[attr-defined]
                    return
                start = message
                return
            if getattr(capture, "passthrough", False):
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                body = b"".join(chunks).replace(b"<head>", b"<head>" + self.snippet, 1)
                assert start is not None
                headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)
