"""Safe names for everything written to the website: no path traversal, no hidden files."""

from __future__ import annotations

import re
import unicodedata

_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def safe_relative(relative: str) -> str:
    """Return ``relative`` if it is a plain path inside the site, else raise ``ValueError``.

    Every part must start with a letter or digit and use only letters, digits, ``_ . -``; so
    ``..``, absolute paths, backslashes, empty parts and hidden (dot) files are all refused.
    Transports call it before touching the local disk or the SFTP server.
    """
    parts = relative.split("/")
    if not relative or any(not _PART.fullmatch(p) or ".." in p for p in parts):
        raise ValueError(f"ruta no permitida en el sitio web: {relative!r}")
    return relative


def facet_slug(text: str) -> str:
    """File-name form of a facet value: ``"Función pública"`` → ``"funcion-publica"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80] or "otro"
