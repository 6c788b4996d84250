"""No path traversal, and a failed publication leaves the live site byte-identical."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from casanare.catalog import load_catalog
from casanare.publish.site.paths import facet_slug, safe_relative
from casanare.publish.website import LocalFolder, publish_site

pytestmark = pytest.mark.unit
WHEN = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
BAD_PATHS = ["../x", "a/../../b", "/etc/passwd", "a//b", ".oculto", "a/.ssh/authorized_keys", "a\\b", "", "a/",
             "con espacio", "a/..", "x/\x00"]


@pytest.mark.parametrize("bad", BAD_PATHS)
def test_unsafe_paths_are_refused(bad, tmp_path):
    with pytest.raises(ValueError):
        safe_relative(bad)
    site = LocalFolder(tmp_path / "sitio")
    with pytest.raises(ValueError):
        site.write_file(bad, b"x")
    with pytest.raises(ValueError):
        site.switch(bad, "destino")
    assert not (tmp_path / "x").exists() and not (tmp_path / "b").exists()


def test_links_leaving_the_site_are_not_followed(tmp_path):
    outside = tmp_path / "fuera"
    outside.mkdir()
    root = tmp_path / "sitio"
    root.mkdir()
    (root / "trampa").symlink_to(outside)
    with pytest.raises(ValueError):
        LocalFolder(root).write_file("trampa/index.html", b"x")
    assert list(outside.iterdir()) == []


def test_bad_version_is_refused_before_writing(tmp_path):
    ds = load_catalog().get("vacunacion_pai")
    frame = pd.DataFrame({c.nombre_salida: ["a"] for c in ds.columnas_publicadas})
    with pytest.raises(ValueError):
        publish_site(frame, ds, LocalFolder(tmp_path), version="../../etc", published_at=WHEN)
    assert list(tmp_path.iterdir()) == []


def test_facet_file_names_are_plain():
    assert facet_slug("Función pública") == "funcion-publica"
    assert facet_slug("../../<script>") == "script"
    assert safe_relative(f"filtros/dependencia/{facet_slug('Secretaría de Salud / ../')}.html")


class FailingFolder(LocalFolder):
    """A real local folder whose connection "drops" at a chosen operation."""

    def __init__(self, root: Path, *, fail_on: str, after: int = 0) -> None:
        super().__init__(root)
        self.fail_on = fail_on
        self.after = after

    def _maybe_fail(self, operation: str, relative: str) -> None:
        if operation == self.fail_on and relative.startswith(("versiones/", "conjuntos/")):
            if self.after == 0:
                raise ConnectionError("conexión perdida a mitad de la subida")
            self.after -= 1

    def write_file(self, relative: str, data: bytes) -> None:
        self._maybe_fail("write", relative)
        super().write_file(relative, data)

    def write_path(self, relative: str, source: Path) -> None:
        self._maybe_fail("write", relative)
        super().write_path(relative, source)

    def move_path(self, relative: str, source: Path) -> None:
        self._maybe_fail("write", relative)
        super().move_path(relative, source)

    def switch(self, link: str, target: str) -> None:
        self._maybe_fail("switch", link)
        super().switch(link, target)


def live_snapshot(root: Path) -> dict[str, bytes]:
    """Every file a visitor can reach, read through the conjuntos/ links, plus the links' targets."""
    files: dict[str, bytes] = {}
    for dirpath, _dirs, names in os.walk(root, followlinks=False):
        for name in names:
            path = Path(dirpath) / name
            files[str(path.relative_to(root))] = path.read_bytes() if not path.is_symlink() else b""
    for link in (root / "conjuntos").iterdir():
        files[f"enlace:{link.name}"] = os.readlink(link).encode()
        for inner in sorted(link.iterdir()):
            files[f"vivo:{link.name}/{inner.name}"] = inner.read_bytes()
    return files


@pytest.mark.parametrize(("fail_on", "after"), [("write", 0), ("write", 2), ("switch", 0)])
def test_failed_publication_leaves_the_live_site_byte_identical(tmp_path, fail_on, after):
    catalog = load_catalog()
    ds, other = catalog.get("vacunacion_pai"), catalog.get("matricula_escolar")
    root = tmp_path / "sitio"
    old = pd.DataFrame({c.nombre_salida: ["viejo", "=1"] for c in ds.columnas_publicadas})
    publish_site(old, ds, LocalFolder(root), version="20261101T100000", published_at=WHEN)
    publish_site(old, other, LocalFolder(root), version="20261101T100000", published_at=WHEN)
    before = live_snapshot(root)
    new = pd.DataFrame({c.nombre_salida: ["nuevo"] * 50 for c in ds.columnas_publicadas})
    with pytest.raises(ConnectionError):
        publish_site(new, ds, FailingFolder(root, fail_on=fail_on, after=after), version="20261122T100000",
                     published_at=WHEN)
    after_failure = live_snapshot(root)
    assert after_failure.keys() == before.keys()
    assert all(after_failure[k] == before[k] for k in before)
    # The half-uploaded version was cleaned up (nothing new under versiones/).
    assert not (root / "versiones" / ds.casanare_gov_co.ruta / "20261122T100000").exists()
    # A later successful run publishes normally.
    publish_site(new, ds, LocalFolder(root), version="20261122T100001", published_at=WHEN)
    live = root / "conjuntos" / ds.casanare_gov_co.ruta
    assert os.readlink(live) == f"../versiones/{ds.casanare_gov_co.ruta}/20261122T100001"
    assert (live / "datos.csv").read_bytes().count(b"nuevo") == 50 * len(ds.columnas_publicadas)


def test_a_download_is_moved_into_the_site_without_a_copy(tmp_path):
    """Same disk: the finished file is renamed into place (same inode), readable by the web server."""
    root, source = tmp_path / "sitio", tmp_path / "descargas" / "datos.csv"
    source.parent.mkdir()
    source.write_bytes(b"a,b\r\n1,2\r\n")
    inode = source.stat().st_ino
    LocalFolder(root).move_path("versiones/x/1/datos.csv", source)
    target = root / "versiones" / "x" / "1" / "datos.csv"
    assert target.read_bytes() == b"a,b\r\n1,2\r\n"
    assert target.stat().st_ino == inode
    assert target.stat().st_mode & 0o777 == 0o644
    assert not source.exists()
    assert not [p.name for p in target.parent.iterdir() if p.name.startswith(".")]


def test_a_download_on_another_disk_is_copied_whole(tmp_path, monkeypatch):
    """A rename across disks fails with EXDEV: the file is copied instead, then the source removed."""
    import errno

    root, source = tmp_path / "sitio", tmp_path / "datos.json"
    payload = os.urandom(3 << 20)  # several copy chunks
    source.write_bytes(payload)
    inode = source.stat().st_ino
    real_replace = os.replace

    def replace(src, dst):
        if Path(src) == source:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    LocalFolder(root).move_path("versiones/x/1/datos.json", source)
    target = root / "versiones" / "x" / "1" / "datos.json"
    assert target.read_bytes() == payload
    assert target.stat().st_ino != inode  # a copy, since the rename was refused
    assert not source.exists()
    assert not [p.name for p in target.parent.iterdir() if p.name.startswith(".")]
