"""The SFTP transport against real SFTP servers on loopback.

Two servers: an asyncssh SFTP server chrooted in a temporary folder (always available), and
OpenSSH's sshd with ``internal-sftp`` (what a production host runs; skipped only if the Debian
package is not installed — ``.ci/run`` installs it). The client is the production code path:
``SftpFolder`` with host-key verification through a known_hosts file.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from casanare.catalog import load_catalog
from casanare.errors import PortalNoDisponible
from casanare.publish.sftp import SftpFolder
from casanare.publish.website import LocalFolder, publish_site

pytestmark = pytest.mark.integration
SSHD = Path("/usr/sbin/sshd")
WHEN = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)


@dataclass
class SftpServer:
    port: int
    root: Path  # folder the client sees as the site root
    remote_root: str  # what the connection's extra 'path' says
    known_hosts: Path
    client_key: Path
    username: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(port: int, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"sshd terminó: {process.stderr.read().decode(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("el servidor SFTP no empezó a escuchar")


def _keys(folder: Path) -> tuple[Path, Path, str]:
    import asyncssh

    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    host_path, client_path = folder / "host_key", folder / "client_key"
    host_key.write_private_key(str(host_path))
    client_key.write_private_key(str(client_path))
    os.chmod(host_path, 0o600)
    os.chmod(client_path, 0o600)
    (folder / "authorized_keys").write_bytes(client_key.export_public_key())
    return host_path, client_path, host_key.export_public_key().decode().strip()


@pytest.fixture(scope="module")
def asyncssh_server(tmp_path_factory) -> Iterator[SftpServer]:
    import asyncssh

    asyncssh.set_log_level(logging.WARNING)  # connection chatter is not test output
    base = tmp_path_factory.mktemp("sftp_asyncssh")
    root = base / "raiz"
    root.mkdir()
    host_path, client_path, host_pub = _keys(base)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start():
        return await asyncssh.listen(
            "127.0.0.1", 0, server_host_keys=[str(host_path)],
            authorized_client_keys=str(base / "authorized_keys"),
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root)), allow_scp=False,
        )

    server = asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    port = server.sockets[0].getsockname()[1]
    known = base / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_pub}\n")
    yield SftpServer(port, root, "/", known, client_path, "publicador")
    async def stop():
        server.close()
        await server.wait_closed()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(stop(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture(scope="module")
def openssh_server(tmp_path_factory) -> Iterator[SftpServer]:
    if not SSHD.exists():
        pytest.skip("OpenSSH sshd no está instalado (bash .ci/run lo instala)")
    base = tmp_path_factory.mktemp("sftp_openssh")
    root = base / "sitio"
    root.mkdir()
    host_path, client_path, host_pub = _keys(base)
    port = _free_port()
    user = getpass.getuser()
    config = base / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_path}\nPidFile {base / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {base / 'authorized_keys'}\nPubkeyAuthentication yes\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        f"PermitRootLogin prohibit-password\nAllowUsers {user}\nSubsystem sftp internal-sftp\n"
        "LogLevel ERROR\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True) if os.geteuid() == 0 else None
    process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    try:
        _wait_listening(port, process)
        known = base / "known_hosts"
        known.write_text(f"[127.0.0.1]:{port} {host_pub}\n")
        yield SftpServer(port, root, str(root), known, client_path, user)
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(params=["asyncssh", "openssh"])
def server(request) -> SftpServer:
    srv = request.getfixturevalue(f"{request.param}_server")
    for child in srv.root.iterdir():
        shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    return srv


def folder_for(srv: SftpServer, **overrides) -> SftpFolder:
    settings = {
        "host": "127.0.0.1", "port": srv.port, "username": srv.username, "root": srv.remote_root,
        "client_keys": [str(srv.client_key)], "known_hosts": str(srv.known_hosts),
    }
    return SftpFolder(**{**settings, **overrides})


def frame(ds, label: str, rows: int) -> pd.DataFrame:
    return pd.DataFrame({c.nombre_salida: [f"{label} {i}" for i in range(rows)] for c in ds.columnas_publicadas})


def tree(root: Path) -> dict[str, bytes]:
    """Every entry under root: file bytes (cells for XLSX), or '-> target' for symbolic links."""
    result = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            result[rel] = b"-> " + os.readlink(path).encode()
        elif path.suffix == ".xlsx":  # zip timestamps differ; compare the cells
            from openpyxl import load_workbook

            sheet = load_workbook(path, read_only=True).worksheets[0]
            result[rel] = repr(list(sheet.iter_rows(values_only=True))).encode()
        elif path.is_file():
            result[rel] = path.read_bytes()
    return result


def test_publish_over_sftp_switches_the_link_atomically(server, tmp_path):
    catalog = load_catalog()
    ds, other = catalog.get("vacunacion_pai"), catalog.get("red_vial_departamental")
    ruta = ds.casanare_gov_co.ruta
    with folder_for(server) as site:
        publish_site(frame(ds, "primera", 3), ds, site, version="20261101T100000", published_at=WHEN)
        publish_site(frame(other, "otra", 2), other, site, version="20261101T100000", published_at=WHEN)
        report = publish_site(frame(ds, "segunda", 5), ds, site, version="20261122T100000", published_at=WHEN)
    assert report["conjuntos_en_indice"] == 2
    live = server.root / "conjuntos" / ruta
    assert live.is_symlink() and os.readlink(live) == f"../versiones/{ruta}/20261122T100000"
    assert (live / "datos.csv").read_bytes().count(b"segunda") == 5 * len(ds.columnas_publicadas)
    assert (server.root / "versiones" / ruta / "20261101T100000" / "datos.csv").is_file()  # versions kept
    index = (server.root / "index.html").read_text(encoding="utf-8")
    assert ds.nombre in index and other.nombre in index
    assert [p for p in server.root.rglob(".*")] == []  # no temporary file left behind
    # Same inputs through the local transport give a byte-identical site.
    local = LocalFolder(tmp_path / "local")
    publish_site(frame(ds, "primera", 3), ds, local, version="20261101T100000", published_at=WHEN)
    publish_site(frame(other, "otra", 2), other, local, version="20261101T100000", published_at=WHEN)
    publish_site(frame(ds, "segunda", 5), ds, local, version="20261122T100000", published_at=WHEN)
    assert tree(server.root) == tree(tmp_path / "local")


def test_failed_upload_over_sftp_leaves_the_live_site_identical(server):
    ds = load_catalog().get("vacunacion_pai")
    with folder_for(server) as site:
        publish_site(frame(ds, "vigente", 3), ds, site, version="20261101T100000", published_at=WHEN)
    before = tree(server.root)

    class DropsMidUpload(SftpFolder):
        uploads = 0

        def write_file(self, relative: str, data: bytes) -> None:
            if relative.startswith("versiones/") and self.uploads == 2:
                self.close()  # the connection really goes away mid-publication
                raise ConnectionResetError("conexión SFTP perdida")
            self.uploads += 1
            super().write_file(relative, data)

        def write_path(self, relative: str, source: Path) -> None:
            if relative.startswith("versiones/") and self.uploads == 2:
                self.close()
                raise ConnectionResetError("conexión SFTP perdida")
            self.uploads += 1
            super().write_path(relative, source)

    broken = DropsMidUpload(**{k: getattr(folder_for(server), k) for k in
                               ("host", "port", "username", "root", "client_keys", "known_hosts")})
    with pytest.raises(ConnectionResetError):
        publish_site(frame(ds, "nueva", 9), ds, broken, version="20261122T100000", published_at=WHEN)
    after = tree(server.root)
    live = {k: v for k, v in after.items() if not k.startswith("versiones/" + ds.casanare_gov_co.ruta + "/2026112")}
    assert live == before


def test_a_large_download_is_streamed_to_the_server_whole(server, tmp_path):
    """``write_path`` (what the site uses for downloads) streams a file of several MB: the
    server holds exactly its bytes, readable by the web server, and no temporary file."""
    source = tmp_path / "datos.json"
    payload = os.urandom(5 << 20)
    source.write_bytes(payload)
    with folder_for(server) as site:
        site.write_path("versiones/x/1/datos.json", source)
        site.write_path("versiones/x/1/datos.json", source)  # replaces an existing file
    target = server.root / "versiones" / "x" / "1" / "datos.json"
    assert target.read_bytes() == payload
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p for p in server.root.rglob(".*")] == []
    assert source.read_bytes() == payload  # the local file is left as it was


def test_paths_outside_the_site_are_refused(server):
    with folder_for(server) as site:
        for bad in ("../fuera.html", "/etc/passwd", "a/../../b", ".ssh/authorized_keys"):
            with pytest.raises(ValueError):
                site.write_file(bad, b"x")
            with pytest.raises(ValueError):
                site.switch(bad, "x")
        site.write_file("ok/archivo.txt", b"dentro")
        assert site.read_file("ok/archivo.txt") == b"dentro"
        assert site.read_file("ok/no_existe.txt") is None
        assert site.list_files("ok") == ["archivo.txt"] and site.list_files("nada") == []
    assert (server.root / "ok" / "archivo.txt").read_bytes() == b"dentro"
    assert not (server.root.parent / "fuera.html").exists()


def test_unknown_host_key_is_refused(server, tmp_path):
    import asyncssh

    wrong = tmp_path / "known_hosts"
    other_key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    wrong.write_text(f"[127.0.0.1]:{server.port} {other_key}\n")
    site = folder_for(server, known_hosts=str(wrong))
    with pytest.raises(PortalNoDisponible):
        site.write_file("index.html", b"x")
    site.close()
    assert not (server.root / "index.html").exists()


def test_transport_is_chosen_by_the_casanare_gov_co_connection(server, monkeypatch):
    from casanare.connections import website_transport

    extra = {"path": server.remote_root, "key_file": str(server.client_key), "known_hosts": str(server.known_hosts)}
    monkeypatch.setenv("AIRFLOW_CONN_CASANARE_GOV_CO", json.dumps(
        {"conn_type": "sftp", "host": "127.0.0.1", "port": server.port, "login": server.username, "extra": extra}
    ))
    transport = website_transport()
    try:
        assert isinstance(transport, SftpFolder)
        transport.write_file("prueba/conexion.txt", "ñandú".encode())
    finally:
        transport.close()
    assert (server.root / "prueba" / "conexion.txt").read_text(encoding="utf-8") == "ñandú"
