"""Archive the raw source bytes while hashing them, in one streaming pass.

A 1 GB export is copied block by block (never read whole into memory); the same pass computes
the sha256 and tells whether the bytes are valid UTF-8, so the CSV reader does not have to guess
the encoding from a sample and fail half way through a file, whether it holds NUL bytes, and where
its quotes sit (a file without NUL bytes whose quotes are well formed can be parsed by Arrow's
native reader, see ``csvfile`` and ``comillas``).
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from casanare.errors import ArchivoConErrores, FuenteNoEncontrada, Ubicacion
from casanare.extract.comillas import DESCONOCIDAS, Comillas, RevisorComillas
from casanare.staging import Storage

BLOCK = 1 << 20
# Bytes that cp1252 leaves undefined; a non-UTF-8 file containing them is read as latin-1.
CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")


@dataclass(frozen=True)
class Archivado:
    """What the archive pass learned about the source file."""

    url: str
    sha256: str
    bytes: int
    utf8: bool
    cp1252: bool
    comillas: Comillas = DESCONOCIDAS
    nul: bool = True


def source_missing(path: Path, ruta: str) -> FuenteNoEncontrada:
    return FuenteNoEncontrada(
        "No se encontró el archivo fuente del conjunto de datos.",
        ubicacion=Ubicacion(archivo=path.name),
        como_corregir=f"Cargue el archivo '{path.name}' en la carpeta compartida "
        f"'{path.parent.name}' con ese nombre exacto. Si la carpeta o el nombre acordados cambiaron, avise al "
        "equipo de datos abiertos.",
        detalles={"ruta": ruta},
    )


def archive_source(path: Path, area: Storage, ruta: str) -> Archivado:
    """Copy ``path`` to ``original/<name>`` in the run area, hashing and checking it on the way.

    The original is archived before parsing, so even a rejected file is kept as evidence.

    Raises:
        FuenteNoEncontrada: the file does not exist.
        ArchivoConErrores: the file is locked / unreadable, or empty.
    """
    try:
        exists = path.is_file()
    except OSError as exc:  # a shared folder we may not enter is as good as locked
        raise _locked(path, exc) from None
    if not exists:
        raise source_missing(path, ruta)
    try:
        source = path.open("rb")
    except OSError as exc:
        raise _locked(path, exc) from None
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, cp1252, size, meaningful = True, True, 0, False
    quotes = RevisorComillas()
    nul = False
    name = f"original/{path.name}"
    fs = area.fs
    target = area._fs_path(name)
    tmp = f"{target}.tmp-{datetime.now(UTC).strftime('%H%M%S%f')}"
    fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
    try:
        with source, fs.open(tmp, "wb") as sink:
            while block := source.read(BLOCK):
                digest.update(block)
                sink.write(block)
                size += len(block)
                meaningful = meaningful or bool(block.strip())
                quotes.feed(block)
                nul = nul or b"\x00" in block
                if utf8:
                    try:
                        decoder.decode(block)
                    except UnicodeDecodeError:
                        utf8 = False
                if cp1252 and not utf8:
                    cp1252 = not any(b in block for b in CP1252_UNDEFINED)
            if utf8:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    utf8 = False
    except OSError as exc:
        if fs.exists(tmp):
            fs.rm(tmp)
        raise _locked(path, exc) from None
    fs.mv(tmp, target)
    if not meaningful:
        raise ArchivoConErrores(
            "El archivo está vacío.",
            ubicacion=Ubicacion(archivo=path.name),
            como_corregir="Exporte de nuevo los datos desde el sistema de origen y verifique que el "
            "archivo tenga encabezado y filas antes de cargarlo.",
            detalles={"bytes": size},
        )
    return Archivado(url=area.path(name), sha256=digest.hexdigest(), bytes=size, utf8=utf8, cp1252=cp1252,
                     comillas=quotes.resultado(), nul=nul)


def _locked(path: Path, exc: OSError) -> ArchivoConErrores:
    return ArchivoConErrores(
        "El archivo está bloqueado o no se tiene permiso para leerlo.",
        ubicacion=Ubicacion(archivo=path.name),
        como_corregir="Cierre el archivo en Excel (u otro programa que lo tenga abierto), verifique los "
        "permisos de la carpeta compartida y vuelva a ejecutar el DAG.",
        detalles={"error": type(exc).__name__},
    )
