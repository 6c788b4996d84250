"""Where the site's files go. Every write is temp-file + rename, so readers never see half a file."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from casanare.publish.site.paths import safe_relative


class Transport(Protocol):
    """Delivery target of the website (a local folder or an SFTP server)."""

    def write_file(self, relative: str, data: bytes) -> None:
        """Write atomically: upload to a temporary name in the same folder, then rename."""

    def read_file(self, relative: str) -> bytes | None:
        """Return the file's bytes, or None if it does not exist."""

    def list_files(self, folder: str) -> list[str]:
        """Names of the regular files directly inside ``folder`` ([] if it does not exist)."""

    def list_dirs(self, folder: str) -> list[str]:
        """Names of the real folders (not links) directly inside ``folder`` ([] if it does not exist)."""

    def switch(self, link: str, target: str) -> None:
        """Point the symbolic link ``link`` at ``target`` in one rename."""

    def remove_tree(self, relative: str) -> None:
        """Delete a folder (used to clean up a version whose upload failed)."""

    def close(self) -> None:
        """Release connections."""


def temp_name(name: str) -> str:
    """Hidden, unique sibling name: two writers never share a temporary file."""
    return f".{name}.{uuid.uuid4().hex[:12]}.tmp"


@dataclass
class LocalFolder:
    """A local folder served by a web server (default for ``make run``)."""

    root: Path

    def _path(self, relative: str) -> Path:
        safe_relative(relative)
        root = self.root.resolve()
        path = root / relative
        # The parent is resolved (it may be the conjuntos/<ruta> link); the leaf is not, so a
        # link can be replaced instead of followed.
        if root != path.parent.resolve() and root not in path.parent.resolve().parents:
            raise ValueError(f"ruta fuera del sitio: {relative!r}")
        return path

    def write_file(self, relative: str, data: bytes) -> None:
        self._install(relative, lambda tmp: tmp.write_bytes(data))

    def write_path(self, relative: str, source: Path) -> None:
        """Like :meth:`write_file` from a local file, copied in chunks (large downloads)."""
        self._install(relative, lambda tmp: shutil.copyfile(source, tmp))

    def move_path(self, relative: str, source: Path) -> None:
        """Hand a finished local file over to the site; ``source`` is gone afterwards.

        On the same disk it is renamed into place (a 700 MB set of downloads costs no copy);
        across disks it is copied like :meth:`write_path`.
        """
        def move(tmp: Path) -> None:
            try:
                os.replace(source, tmp)
            except OSError:  # another disk (EXDEV) or a folder that refuses renames
                shutil.copyfile(source, tmp)
                source.unlink()

        self._install(relative, move)

    def _install(self, relative: str, fill: Callable[[Path], object]) -> None:
        """``fill`` a temporary sibling, flush it to disk, make it readable, rename it into place."""
        path = self._path(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(temp_name(path.name))
        try:
            fill(tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()

    def read_file(self, relative: str) -> bytes | None:
        path = self._path(relative)
        return path.read_bytes() if path.is_file() else None

    def list_files(self, folder: str) -> list[str]:
        path = self._path(folder)
        if not path.is_dir():
            return []
        return sorted(p.name for p in path.iterdir() if p.is_file() and not p.name.startswith("."))

    def list_dirs(self, folder: str) -> list[str]:
        path = self._path(folder)
        if not path.is_dir():
            return []
        return sorted(
            p.name for p in path.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        )

    def switch(self, link: str, target: str) -> None:
        path = self._path(link)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(temp_name(path.name))
        os.symlink(target, tmp)
        try:
            os.replace(tmp, path)
        except OSError:
            tmp.unlink()
            raise

    def remove_tree(self, relative: str) -> None:
        path = self._path(relative)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)

    def close(self) -> None:
        pass
