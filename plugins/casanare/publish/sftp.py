"""SFTP transport for the production website (asyncssh client behind a synchronous API).

Atomicity on the server: each file is uploaded under a hidden temporary name in its final folder
and then renamed with ``posix-rename@openssh.com`` (OpenSSH's extension: replaces the target in one
``rename(2)``). The live ``conjuntos/<ruta>`` is a symbolic link created under a temporary name and
renamed over the old link the same way. Servers without the extension fall back to plain SFTP
``rename`` after removing the target (a short window, documented in docs/sitio_web.md).

The server's host key is always checked (a ``known_hosts`` file or the key itself in the
connection), unless the connection explicitly says ``no_host_key_check: true``.
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from casanare.errors import ErrorDeConfiguracion, PortalNoDisponible
from casanare.publish.site.paths import safe_relative
from casanare.publish.site.transport import temp_name

log = logging.getLogger(__name__)
T = TypeVar("T")
TIMEOUT_S = 120.0


@dataclass
class SftpFolder:
    """The website root folder on an SFTP server.

    Attributes:
        host: server name or address.
        port: SSH port.
        username: SSH user.
        root: remote folder of the open-data section (relative to the login folder or absolute).
        password: password, if the account uses one.
        client_keys: private key files or key objects (asyncssh ``client_keys``).
        known_hosts: asyncssh ``known_hosts`` argument (a file path, key text) or None to skip the
            check (only when the connection says ``no_host_key_check``).
    """

    host: str
    port: int
    username: str
    root: str = "."
    password: str | None = None
    client_keys: list[Any] | None = None
    known_hosts: Any = ()
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _conn: Any = field(default=None, init=False, repr=False)
    _sftp: Any = field(default=None, init=False, repr=False)

    @classmethod
    def from_connection(cls, conn: Any) -> SftpFolder:
        """Build from the Airflow connection ``casanare_gov_co`` (conn_type ``sftp``).

        Extras: ``path`` (remote folder), ``key_file`` or ``private_key`` (PEM/OpenSSH text),
        ``known_hosts`` (file) or ``host_key`` (``"ssh-ed25519 AAAA…"``), ``no_host_key_check``.
        """
        import asyncssh

        extra = conn.extra_dejson or {}
        if not conn.host or not conn.login:
            raise ErrorDeConfiguracion("La conexión casanare_gov_co (sftp) necesita host y usuario.")
        keys: list[Any] | None = None
        if extra.get("private_key"):
            keys = [asyncssh.import_private_key(extra["private_key"], extra.get("private_key_passphrase"))]
        elif extra.get("key_file"):
            keys = [extra["key_file"]]
        if str(extra.get("no_host_key_check", "")).lower() in {"true", "1", "yes", "si", "sí"}:
            known: Any = None
        elif extra.get("known_hosts"):
            known = extra["known_hosts"]
        elif extra.get("host_key"):
            known = asyncssh.import_known_hosts(f"{conn.host} {extra['host_key']}\n"
                                                f"[{conn.host}]:{conn.port or 22} {extra['host_key']}\n")
        else:
            raise ErrorDeConfiguracion(
                "La conexión casanare_gov_co (sftp) debe indicar 'known_hosts' o 'host_key' para verificar "
                "el servidor (o 'no_host_key_check': true, no recomendado)."
            )
        return cls(
            host=conn.host,
            port=int(conn.port or 22),
            username=conn.login,
            root=extra.get("path") or conn.schema or ".",
            password=conn.password or None,
            client_keys=keys,
            known_hosts=known,
        )

    # Event loop plumbing: asyncssh is asynchronous, tasks are not. -----------------------------

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = TIMEOUT_S) -> T:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="sftp-sitio", daemon=True)
            self._thread.start()
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _client(self) -> Any:
        if self._sftp is None:
            import asyncssh

            try:
                self._conn = await asyncssh.connect(
                    self.host, port=self.port, username=self.username, password=self.password,
                    client_keys=self.client_keys, known_hosts=self.known_hosts, connect_timeout=30,
                    agent_path=None,
                )
                self._sftp = await self._conn.start_sftp_client()
            except (OSError, asyncssh.Error) as exc:
                raise PortalNoDisponible(
                    f"No se pudo conectar por SFTP al servidor del sitio web ({self.host}:{self.port}): "
                    f"{type(exc).__name__}.",
                    como_corregir="Verifique que el servidor de casanare.gov.co esté disponible y que la "
                    "conexión casanare_gov_co tenga el usuario, la clave y la llave del servidor correctos.",
                ) from exc
        return self._sftp

    def _remote(self, relative: str) -> str:
        safe_relative(relative)
        return posixpath.join(self.root, relative) if self.root not in ("", ".") else relative

    async def _replace(self, sftp: Any, source: str, target: str) -> None:
        import asyncssh

        try:
            await sftp.posix_rename(source, target)
        except asyncssh.SFTPOpUnsupported:
            # Plain SFTP v3 rename refuses an existing target: remove it first (not atomic).
            if await sftp.exists(target) or await _is_link(sftp, target):
                await sftp.remove(target)
            await sftp.rename(source, target)

    @staticmethod
    async def _temp_beside(sftp: Any, remote: str) -> str:
        """Create ``remote``'s folder and return a temporary name in it, for a rename into place."""
        folder, name = posixpath.split(remote)
        if folder:
            await sftp.makedirs(folder, exist_ok=True)
        return posixpath.join(folder, temp_name(name))

    # Transport API ----------------------------------------------------------------------------

    def write_file(self, relative: str, data: bytes) -> None:
        async def send(sftp: Any, tmp: str) -> None:
            async with sftp.open(tmp, "wb") as fh:
                await fh.write(data)

        self._upload(relative, send)

    def write_path(self, relative: str, source: Path) -> None:
        """Like :meth:`write_file` from a local file, streamed by asyncssh (a 400 MB download is
        never held in memory); the time allowed grows with the file (at least 1 MB/s)."""
        async def send(sftp: Any, tmp: str) -> None:
            await sftp.put(str(source), tmp)

        self._upload(relative, send, timeout=TIMEOUT_S + source.stat().st_size / 1e6)

    def _upload(self, relative: str, send: Callable[[Any, str], Awaitable[None]], timeout: float = TIMEOUT_S) -> None:
        """``send`` the content to a temporary name beside the target, then rename it into place."""
        remote = self._remote(relative)

        async def go() -> None:
            sftp = await self._client()
            tmp = await self._temp_beside(sftp, remote)
            try:
                await send(sftp, tmp)
                await sftp.chmod(tmp, 0o644)
                await self._replace(sftp, tmp, remote)
            except BaseException:
                if await sftp.exists(tmp):
                    await sftp.remove(tmp)
                raise

        self._run(go(), timeout=timeout)

    def read_file(self, relative: str) -> bytes | None:
        remote = self._remote(relative)

        async def go() -> bytes | None:
            import asyncssh

            sftp = await self._client()
            try:
                async with sftp.open(remote, "rb") as fh:
                    return await fh.read()
            except asyncssh.SFTPNoSuchFile:
                return None

        return self._run(go())

    def list_files(self, folder: str) -> list[str]:
        return self._list(folder, directories=False)

    def list_dirs(self, folder: str) -> list[str]:
        return self._list(folder, directories=True)

    def _list(self, folder: str, *, directories: bool) -> list[str]:
        """Visible regular files (or folders) of ``folder``, sorted; none if it does not exist."""
        remote = self._remote(folder)

        async def go() -> list[str]:
            import asyncssh

            kind = asyncssh.FILEXFER_TYPE_DIRECTORY if directories else asyncssh.FILEXFER_TYPE_REGULAR
            sftp = await self._client()
            try:
                entries = await sftp.readdir(remote)
            except asyncssh.SFTPNoSuchFile:
                return []
            return sorted(e.filename for e in entries if e.attrs.type == kind and not e.filename.startswith("."))

        return self._run(go())

    def switch(self, link: str, target: str) -> None:
        remote = self._remote(link)

        async def go() -> None:
            sftp = await self._client()
            tmp = await self._temp_beside(sftp, remote)
            # The link's text stays relative so the site can be moved or served from any prefix.
            await sftp.symlink(target, tmp)
            try:
                await self._replace(sftp, tmp, remote)
            except BaseException:
                await sftp.remove(tmp)
                raise

        self._run(go())

    def remove_tree(self, relative: str) -> None:
        remote = self._remote(relative)

        async def go() -> None:
            sftp = await self._client()
            if await sftp.isdir(remote) and not await _is_link(sftp, remote):
                await sftp.rmtree(remote)

        self._run(go())

    def close(self) -> None:
        if self._loop is None:
            return

        async def go() -> None:
            if self._sftp is not None:
                self._sftp.exit()
            if self._conn is not None:
                self._conn.close()
                await self._conn.wait_closed()

        try:
            self._run(go())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._loop.close()
            self._loop = self._thread = self._conn = self._sftp = None

    def __enter__(self) -> SftpFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _is_link(sftp: Any, path: str) -> bool:
    import asyncssh

    try:
        return (await sftp.lstat(path)).type == asyncssh.FILEXFER_TYPE_SYMLINK
    except asyncssh.SFTPNoSuchFile:
        return False
