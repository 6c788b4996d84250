"""CSV/TXT exports: encoding and delimiter detection, streamed in chunks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from casanare.catalog import FuenteArchivo
from casanare.errors import ArchivoConErrores, Ubicacion
from casanare.extract.table import RawTable

CHUNK_ROWS = 200_000
ENCODINGS = ("utf-8-sig", "cp1252")
DELIMITERS = ",;|\t"


def detect_encoding(sample: bytes) -> str:
    """utf-8 (with or without BOM) when it decodes, else cp1252 (a superset of latin-1 in practice)."""
    for encoding in ENCODINGS:
        try:
            sample.decode(encoding)
            return encoding
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the sample is still valid UTF-8.
            if encoding.startswith("utf-8") and exc.start >= len(sample) - 3:
                return encoding
    return "cp1252"


def detect_delimiter(text: str) -> str:
    """The candidate that splits the first lines into the most consistent, widest columns."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not counts or max(counts) < 2:
            continue
        mode = max(set(counts), key=counts.count)
        score = counts.count(mode) / len(counts) * mode
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv(path: Path, fuente: FuenteArchivo) -> RawTable:
    """Open a delimited text file and stream its records.

    Raises:
        ArchivoConErrores: empty file or a file that is not delimited text.
    """
    with path.open("rb") as fh:
        sample = fh.read(256 * 1024)
    if not sample.strip():
        raise ArchivoConErrores(
            "El archivo está vacío.",
            ubicacion=Ubicacion(archivo=path.name),
            como_corregir="Exporte de nuevo los datos desde el sistema de origen y verifique que tengan filas.",
        )
    if b"\x00" in sample[:4096]:
        raise ArchivoConErrores(
            "El archivo no es un texto delimitado (CSV): parece binario o dañado.",
            ubicacion=Ubicacion(archivo=path.name),
            como_corregir="Exporte los datos como CSV (delimitado por comas o punto y coma).",
        )
    encoding = fuente.codificacion or detect_encoding(sample)
    text_sample = sample.decode(encoding, errors="replace")
    delimiter = fuente.delimitador or detect_delimiter(text_sample)
    handle = io.TextIOWrapper(path.open("rb"), encoding=encoding, errors="strict", newline="")
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        handle.close()
        raise ArchivoConErrores(
            "El archivo está vacío.", ubicacion=Ubicacion(archivo=path.name),
            como_corregir="Exporte de nuevo los datos desde el sistema de origen.",
        ) from None
    return RawTable(
        headers=[h.strip() for h in headers],
        chunks=_chunks(reader, handle, path),
        first_data_row=2,
        archivo=path.name,
        detalles={"codificacion": encoding, "delimitador": delimiter},
    )


def _chunks(reader: Iterator[list[str]], handle: io.TextIOWrapper, path: Path) -> Iterator[list[list[Any]]]:
    try:
        chunk: list[list[Any]] = []
        for row in reader:
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
    except UnicodeDecodeError:
        raise ArchivoConErrores(
            "El archivo mezcla codificaciones de texto (tildes o eñes ilegibles).",
            ubicacion=Ubicacion(archivo=path.name),
            como_corregir="Guarde el archivo como 'CSV UTF-8' desde Excel y vuelva a cargarlo.",
        ) from None
    except csv.Error:
        raise ArchivoConErrores(
            "El CSV está mal formado (comillas sin cerrar o separadores inconsistentes).",
            ubicacion=Ubicacion(archivo=path.name),
            como_corregir="Exporte de nuevo el archivo desde el sistema de origen.",
        ) from None
    finally:
        handle.close()
