"""CSV/TXT exports: encoding and delimiter detection, streamed in chunks.

Row numbers are record numbers with the header as row 1, which is what a clerk sees when the
file is opened in Excel (a quoted value spanning lines is still one row there).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from casanare.catalog import FuenteArchivo
from casanare.errors import ArchivoConErrores, Ubicacion
from casanare.extract.table import RawTable

CHUNK_ROWS = 100_000
ENCODINGS = ("utf-8-sig", "cp1252")
DELIMITERS = ",;|\t"
SAMPLE_BYTES = 256 * 1024


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
    """The candidate that splits the first records into the most consistent, widest columns.

    The sample is parsed as CSV (not split by lines), so quoted values with newlines or with the
    other candidate characters inside do not confuse the choice.
    """
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        counts: list[int] = []
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    counts.append(len(row))
                if len(counts) >= 50:
                    break
        except csv.Error:
            pass
        if len(counts) > 2:
            counts = counts[:-1]  # the last record of the sample may be cut in half
        if not counts or max(counts) < 2:
            continue
        mode = max(set(counts), key=counts.count)
        score = counts.count(mode) / len(counts) * mode
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _choose_encoding(declared: str | None, sample: bytes, utf8: bool | None, cp1252: bool) -> str:
    if declared:
        return declared
    if utf8 is None:
        return detect_encoding(sample)
    if utf8:
        return "utf-8-sig"  # also strips a BOM when there is one
    return "cp1252" if cp1252 else "latin-1"


def read_csv(path: Path, fuente: FuenteArchivo, *, utf8: bool | None = None, cp1252: bool = True) -> RawTable:
    """Open a delimited text file and stream its records.

    Args:
        path: the file.
        fuente: catalog source (declared encoding/delimiter win over detection).
        utf8: whether the whole file is valid UTF-8 (known from the archive pass); None = sniff.
        cp1252: whether the file has no byte that cp1252 leaves undefined (else latin-1).

    Raises:
        ArchivoConErrores: empty file or a file that is not delimited text.
    """
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    where = Ubicacion(archivo=path.name)
    if not sample.strip():
        raise ArchivoConErrores(
            "El archivo está vacío.", ubicacion=where,
            como_corregir="Exporte de nuevo los datos desde el sistema de origen y verifique que tengan filas.",
        )
    if b"\x00" in sample[:4096] or sample[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):
        raise ArchivoConErrores(
            "El archivo no es un texto delimitado (CSV): parece una hoja de cálculo, un binario o está dañado.",
            ubicacion=where,
            como_corregir="Exporte los datos como CSV (delimitado por comas o punto y coma), o si es una "
            "hoja de cálculo cambie la extensión y el 'formato' en el catálogo.",
        )
    encoding = _choose_encoding(fuente.codificacion, sample, utf8, cp1252)
    if encoding.replace("_", "-").lower() in {"utf-8", "utf8"}:
        encoding = "utf-8-sig"
    text_sample = sample.decode(encoding, errors="replace")
    delimiter = fuente.delimitador or detect_delimiter(text_sample)
    handle = io.TextIOWrapper(path.open("rb"), encoding=encoding, errors="strict", newline="")
    reader = csv.reader(handle, delimiter=delimiter, strict=True)
    try:
        headers = next(reader)
        while not any(h.strip() for h in headers):  # blank lines before the header
            headers = next(reader)
    except StopIteration:
        handle.close()
        raise ArchivoConErrores(
            "El archivo está vacío.", ubicacion=where,
            como_corregir="Exporte de nuevo los datos desde el sistema de origen.",
        ) from None
    except (csv.Error, UnicodeDecodeError) as exc:
        handle.close()
        row = locate_bad_record(path, encoding, delimiter) if isinstance(exc, UnicodeDecodeError) else 1
        raise _bad_text(path, row, exc, fuente) from None
    # Trailing separators leave empty header cells; they are dropped (the data cells under them too).
    while headers and not headers[-1].strip():
        headers.pop()
    return RawTable(
        headers=[h.strip() for h in headers],
        chunks=_chunks(reader, handle, path, fuente),
        first_data_row=2,
        archivo=path.name,
        detalles={"codificacion": encoding, "delimitador": delimiter},
        cerrar=handle.close,
    )


def _chunks(
    reader: Iterator[list[str]], handle: io.TextIOWrapper, path: Path, fuente: FuenteArchivo
) -> Iterator[list[list[Any]]]:
    record = 1
    try:
        chunk: list[list[Any]] = []
        for row in reader:
            record += 1
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
    except (UnicodeDecodeError, csv.Error) as exc:
        handle.close()
        # The decoder works on 8 KB blocks, so the record being parsed is not where the bad byte
        # is: a second, tolerant pass finds the exact record (only on this failure path).
        row = locate_bad_record(path, handle.encoding, reader.dialect.delimiter) if isinstance(
            exc, UnicodeDecodeError) else record + 1
        raise _bad_text(path, row, exc, fuente) from None
    finally:
        handle.close()


def locate_bad_record(path: Path, encoding: str, delimiter: str) -> int:
    """1-based record number (header = 1) of the first record with bytes invalid in ``encoding``."""
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")
        for number, row in enumerate(csv.reader(text, delimiter=delimiter), start=1):
            if any(_has_surrogate(cell) for cell in row):
                return number
    return 1


def _has_surrogate(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _bad_text(path: Path, row: int, exc: Exception, fuente: FuenteArchivo) -> ArchivoConErrores:
    where = Ubicacion(archivo=path.name, filas=[row])
    if isinstance(exc, UnicodeDecodeError):
        declared = f" (el catálogo declara '{fuente.codificacion}')" if fuente.codificacion else ""
        return ArchivoConErrores(
            f"El archivo mezcla codificaciones de texto: hay tildes o eñes ilegibles{declared}.",
            ubicacion=where,
            como_corregir="Guarde el archivo como 'CSV UTF-8' desde Excel (o corrija 'codificacion' en el "
            "catálogo) y vuelva a cargarlo.",
        )
    return ArchivoConErrores(
        "El CSV está mal formado: hay comillas sin cerrar o un texto pegado a unas comillas.",
        ubicacion=where,
        como_corregir="Revise las comillas de esa fila (cada valor entre comillas debe abrir y cerrar) "
        "o exporte de nuevo el archivo desde el sistema de origen.",
        detalles={"error": str(exc)[:120]},
    )
