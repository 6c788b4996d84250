"""Local SMTP server (aiosmtpd) that stores each received message as an ``.eml`` file.

Speaks real SMTP on loopback, so the pipeline sends through the same ``smtp_default`` code path
as in production. Use ``start_smtp(folder)`` in tests or ``python -m standins.smtp_server``.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


class _Mailbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._count = len(list(folder.glob("*.eml")))

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            self._count += 1
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{self._count:05d}.eml"
        header = f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        (self.folder / name).write_bytes(header.encode() + envelope.original_content)
        return "250 Message accepted for delivery"


@dataclass
class SmtpHandle:
    controller: Controller
    folder: Path

    @property
    def port(self) -> int:
        return self.controller.port

    def messages(self) -> list[EmailMessage]:
        return [
            message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for p in sorted(self.folder.glob("*.eml"))
        ]

    def clear(self) -> None:
        for p in self.folder.glob("*.eml"):
            p.unlink()

    def stop(self) -> None:
        self.controller.stop()


def start_smtp(folder: Path, host: str = "127.0.0.1", port: int = 0) -> SmtpHandle:
    if port == 0:
        import socket

        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
    controller = Controller(_Mailbox(folder), hostname=host, port=port)
    controller.start()
    return SmtpHandle(controller, folder)


def main() -> None:
    parser = argparse.ArgumentParser(description="Servidor SMTP local que guarda cada correo como .eml")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--carpeta", type=Path, required=True)
    args = parser.parse_args()
    handle = start_smtp(args.carpeta, args.host, args.port)
    print(f"SMTP local escuchando en {args.host}:{handle.port}; correos en {args.carpeta}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    handle.stop()


if __name__ == "__main__":
    main()
