"""CSV/TXT exports: encoding and delimiter detection, streamed in chunks.

Row numbers are record numbers with the header as row 1, which is what a clerk sees when the
file is opened in Excel (a quoted value spanning lines is still one row there).

Two parsers read the records. Python's ``csv`` module (strict) is the reference: it finds the
encoding, delimiter and header, and it is the one that explains a broken file. A file without
NUL bytes whose quotes (if any) are well formed — the archive pass checked every one, see
``comillas`` — is one where the two parsers cannot disagree: it is then streamed by Arrow's native
reader as text columns (about ten times faster on a million rows); if Arrow stops anywhere
(a ragged row, a byte the encoding does not define), the Python reader resumes at the first record
Arrow did not deliver, so rows, numbers and messages are the same whichever parser read them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from casanare.catalog import Dataset, FuenteArchivo
from casanare.errors import ArchivoConErrores, Ubicacion
from casanare.extract.comillas import SIN_COMILLAS, Comillas
from casanare.extract.headers import header_score, known_headers
from casanare.extract.table import ColumnasTexto, RawTable

CHUNK_ROWS = 100_000
ARROW_BLOCK_BYTES = 16 << 20  # ~70,000 records of a typical export per Arrow batch
ENCODINGS = ("utf-8-sig", "cp1252")
DELIMITERS = ",;|\t"
SAMPLE_BYTES = 256 * 1024
TAIL_BYTES = 64 * 1024
HEADER_SCAN_ROWS = 30


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


def detect_delimiter(text: str, known: frozenset[str] = frozenset()) -> str:
    """The candidate whose split of the first records names the most catalog columns in one row,
    then the one that splits them into the most consistent, widest columns.

    The sample is parsed as CSV (not split by lines), so quoted values with newlines or with the
    other candidate characters inside do not confuse the choice; the header test keeps a
    ``;`` file full of decimal commas from being read as comma-separated.
    """
    best, best_score = ",", (-1, -1.0)
    for delimiter in DELIMITERS:
        records = _first_records(text, delimiter)
        counts = [len(r) for r in records if any(cell.strip() for cell in r)]
        if len(counts) > 2:
            counts = counts[:-1]  # the last record of the sample may be cut in half
        if not counts or max(counts) < 2:
            continue
        mode = max(set(counts), key=counts.count)
        named = max((header_score(r, known) for r in records[:HEADER_SCAN_ROWS]), default=0) if known else 0
        score = (named, counts.count(mode) / len(counts) * mode)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _first_records(text: str, delimiter: str, limit: int = 50) -> list[list[str]]:
    records: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            records.append(row)
            if len(records) >= limit:
                break
    except csv.Error:
        pass
    return records


def find_header(records: list[list[str]], known: frozenset[str]) -> int:
    """0-based index of the header among the first records: the row naming most catalog columns,
    else the first non-blank row (title rows such as "GOBERNACIÓN DE CASANARE" name none)."""
    first = next((i for i, r in enumerate(records) if any(c.strip() for c in r)), 0)
    best, best_score = first, 0
    for idx, row in enumerate(records[:HEADER_SCAN_ROWS]):
        score = header_score(row, known)
        if score > best_score:
            best, best_score = idx, score
    return best


def _choose_encoding(declared: str | None, sample: bytes, utf8: bool | None, cp1252: bool) -> str:
    if declared:
        return declared
    if utf8 is None:
        return detect_encoding(sample)
    if utf8:
        return "utf-8-sig"  # also strips a BOM when there is one
    return "cp1252" if cp1252 else "latin-1"


def read_csv(
    path: Path, fuente: FuenteArchivo, *, utf8: bool | None = None, cp1252: bool = True, dataset: Dataset | None = None,
    nativo: bool = False, comillas: Comillas = SIN_COMILLAS,
) -> RawTable:
    """Open a delimited text file and stream its records.

    Args:
        path: the file.
        fuente: catalog source (declared encoding/delimiter/header row win over detection).
        utf8: whether the whole file is valid UTF-8 (known from the archive pass); None = sniff.
        cp1252: whether the file has no byte that cp1252 leaves undefined (else latin-1).
        dataset: the catalog entry, whose column names locate the header and the delimiter.
        nativo: the file has no NUL byte (known from the archive pass), so Arrow's reader may
            stream it if its quotes allow (see the module docstring).
        comillas: where the file's quotes sit (from the archive pass).

    Raises:
        ArchivoConErrores: empty, not delimited text, wrong separator, or truncated.
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
            "hoja de cálculo entréguela con su extensión (.xlsx) y avise al equipo de datos abiertos.",
        )
    encoding = _choose_encoding(fuente.codificacion, sample, utf8, cp1252)
    if encoding.replace("_", "-").lower() in {"utf-8", "utf8"}:
        encoding = "utf-8-sig"
    text_sample = sample.decode(encoding, errors="replace")
    known = known_headers(dataset) if dataset is not None else frozenset()
    detected = detect_delimiter(text_sample, known)
    delimiter = fuente.delimitador or detected
    if fuente.delimitador and known:
        _check_declared_delimiter(path, text_sample, fuente.delimitador, detected, known)
    handle = io.TextIOWrapper(path.open("rb"), encoding=encoding, errors="strict", newline="")
    reader = csv.reader(handle, delimiter=delimiter, strict=True)
    head: list[list[str]] = []
    try:
        for row in reader:
            head.append(row)
            if len(head) >= HEADER_SCAN_ROWS:
                break
    except (csv.Error, UnicodeDecodeError) as exc:
        handle.close()
        row = locate_bad_record(path, encoding, delimiter) if isinstance(exc, UnicodeDecodeError) else len(head) + 1
        raise _bad_text(path, row, exc, fuente, delimiter=delimiter, at_end=_cut_inside_quotes(exc, path)) from None
    if not any(any(h.strip() for h in r) for r in head):
        handle.close()
        raise ArchivoConErrores(
            "El archivo está vacío.", ubicacion=where,
            como_corregir="Exporte de nuevo los datos desde el sistema de origen.",
        )
    if fuente.fila_encabezado:
        index = fuente.fila_encabezado - 1
        if index >= len(head) or not any(c.strip() for c in head[index]):
            handle.close()
            raise ArchivoConErrores(
                "No se encontró el encabezado en la fila indicada.",
                ubicacion=Ubicacion(archivo=path.name, filas=[fuente.fila_encabezado]),
                como_corregir="El encabezado de la tabla debe estar en la fila acordada con el equipo de datos "
                "abiertos; si cambió de lugar, avíseles.",
            )
    else:
        index = find_header(head, known)
    detalles: dict[str, Any] = {"codificacion": encoding, "delimitador": delimiter}
    probable = find_header(head, known)
    if known and probable != index and header_score(head[probable], known) > header_score(head[index], known):
        # Title rows were added above the agreed header row: the row that names the catalog's
        # columns is the header (reported as a warning, and in any error).
        detalles["advertencia_encabezado"] = (f"El encabezado está en la fila {probable + 1}, no en la fila "
                                              f"{index + 1} acordada; se leyó desde la fila {probable + 1}.")
        index = probable
    detalles["fila_encabezado"] = index + 1
    headers = list(head[index])
    # Trailing separators leave empty header cells; they are dropped (the data cells under them too).
    while headers and not headers[-1].strip():
        headers.pop()
    if nativo and comillas.legibles_por_arrow(delimiter):
        handle.close()  # Arrow reads the file again from the header on
        chunks = _native_chunks(path, fuente, encoding, delimiter, head, index, len(headers), quoted=comillas.hay)
    else:
        chunks = _chunks(head[index + 1:], index + 1, reader, handle, path, fuente, len(headers))
    return RawTable(
        headers=[h.strip() for h in headers],
        chunks=chunks,
        first_data_row=index + 2,
        archivo=path.name,
        detalles=detalles,
        cerrar=handle.close,
    )


def _check_declared_delimiter(path: Path, text: str, declared: str, detected: str, known: frozenset[str]) -> None:
    """A file delimited by another character than the agreed one is a separator problem."""
    if detected == declared:
        return
    named_declared = max((header_score(r, known) for r in _first_records(text, declared)[:HEADER_SCAN_ROWS]), default=0)
    named_detected = max((header_score(r, known) for r in _first_records(text, detected)[:HEADER_SCAN_ROWS]), default=0)
    if named_detected > named_declared:
        raise ArchivoConErrores(
            f"El archivo separa las columnas con {_delimiter_name(detected)}, pero este conjunto se entrega "
            f"separado por {_delimiter_name(declared)}.",
            ubicacion=Ubicacion(archivo=path.name, filas=[1]),
            como_corregir=f"Exporte de nuevo el archivo como CSV separado por {_delimiter_name(declared)} "
            "(en Excel: Guardar como → CSV). Si el sistema solo puede exportar con "
            f"{_delimiter_name(detected)}, avise al equipo de datos abiertos.",
            detalles={"separador_esperado": declared, "separador_encontrado": detected},
        )


def _delimiter_name(delimiter: str) -> str:
    return {",": "comas (,)", ";": "punto y coma (;)", "|": "barras (|)", "\t": "tabuladores"}.get(
        delimiter, f"'{delimiter}'")


def _chunks(
    buffered: list[list[str]], consumed: int, reader: Iterator[list[str]], handle: io.TextIOWrapper, path: Path,
    fuente: FuenteArchivo, width: int, *, skip: int = 0,
) -> Iterator[list[list[Any]]]:
    """Stream the records after the header; the last one is checked for truncation.

    ``skip`` records are read and dropped first (already delivered by Arrow's reader), so that
    ``consumed`` (the record number reached) and the reader's position agree.
    """
    record = consumed
    last: tuple[int, list[str]] | None = None
    before_last = width  # field count of the record before the last one
    try:
        for _ in range(skip):
            next(reader)
        chunk: list[list[Any]] = []
        for row in _chain(buffered, reader):
            record += 1
            if any(cell.strip() for cell in row):
                if last is not None:
                    before_last = len(last[1])
                last = (record, row)
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                yield chunk
                chunk = []
        if last is not None:
            _check_complete(path, last[0], len(last[1]), min(width, before_last))
        if chunk:
            yield chunk
    except (UnicodeDecodeError, csv.Error) as exc:
        handle.close()
        # The decoder works on 8 KB blocks, so the record being parsed is not where the bad byte
        # is: a second, tolerant pass finds the exact record (only on this failure path).
        row = locate_bad_record(path, handle.encoding, reader.dialect.delimiter) if isinstance(
            exc, UnicodeDecodeError) else record + 1
        raise _bad_text(path, row, exc, fuente, delimiter=reader.dialect.delimiter,
                        at_end=_cut_inside_quotes(exc, path)) from None
    finally:
        handle.close()


def _native_chunks(
    path: Path, fuente: FuenteArchivo, encoding: str, delimiter: str, head: list[list[str]], index: int, width: int,
    *, quoted: bool = False,
) -> Iterator[ColumnasTexto | list[list[Any]]]:
    """Stream the records after the header as Arrow text columns; Python's reader takes over
    where Arrow stops (see the module docstring).

    Arrow must first read the header and the records Python already read exactly as Python did;
    otherwise the whole file goes through Python.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    raw_width = len(head[index])
    delivered = 0  # data records handed over by Arrow
    last: int | None = None  # record number of the last non-blank record
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=_arrow_encoding(encoding), skip_rows=index,
                                           autogenerate_column_names=True, block_size=ARROW_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"' if quoted else False,
                                             double_quote=True, newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(raw_width)},
                                                 strings_can_be_null=False),
        )
        first = True
        with reader:
            for batch in reader:
                columns = batch.columns
                if first:
                    first = False
                    if not _same_records(columns, head[index:]):
                        break
                    columns = [c.slice(1) for c in columns]  # the header record
                blank = _blank_records(columns)
                if len(blank):
                    nonblank = (~blank).nonzero()[0]
                    if len(nonblank):
                        last = index + 2 + delivered + int(nonblank[-1])
                    delivered += len(blank)
                    yield ColumnasTexto(columnas=columns, vacias=blank)
            else:
                if last is not None:
                    _check_complete(path, last, width, width)
                return
    except (pa.ArrowException, UnicodeDecodeError, ValueError):
        pass  # Python's reader resumes below and names the record and the problem
    handle = io.TextIOWrapper(path.open("rb"), encoding=encoding, errors="strict", newline="")
    python = csv.reader(handle, delimiter=delimiter, strict=True)
    yield from _chunks([], index + 1 + delivered, python, handle, path, fuente, width, skip=index + 1 + delivered)


def _arrow_encoding(encoding: str) -> str:
    """Arrow reads UTF-8 itself (dropping a BOM) and transcodes anything else through Python."""
    return "utf8" if encoding.replace("_", "-").lower() in {"utf-8", "utf8", "utf-8-sig"} else encoding


def _same_records(columns: list[Any], records: list[list[str]]) -> bool:
    """Whether Arrow's first records are the ones Python read (trailing empty cells aside)."""
    width = len(columns)
    if any(len(r) > width for r in records):
        return False
    shown = min(len(records), len(columns[0]))
    arrow_rows = list(zip(*(c.slice(0, shown).to_pylist() for c in columns), strict=True))
    return all(_trimmed(list(a)) == _trimmed(list(p)) for a, p in zip(arrow_rows, records, strict=False))


def _trimmed(row: list[str]) -> list[str]:
    while row and row[-1] == "":
        row.pop()
    return row


def _blank_records(columns: list[Any]) -> Any:
    """True where every cell of the record is blank (whitespace only), computed column by column.

    The first column is tested alone first: in almost every batch it rules every record out.
    """
    import numpy as np
    import pyarrow.compute as pc

    def blank(column: Any) -> Any:
        return pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0)

    mask = blank(columns[0])
    if not pc.any(mask).as_py():
        return np.zeros(len(columns[0]), dtype=bool)
    for column in columns[1:]:
        mask = pc.and_(mask, blank(column))
    return mask.to_numpy(zero_copy_only=False)


def _chain(buffered: list[list[str]], reader: Iterator[list[str]]) -> Iterator[list[str]]:
    yield from buffered
    yield from reader


def _check_complete(path: Path, row_number: int, fields: int, width: int) -> None:
    """A last record with fewer fields than the header (and than the record before it: an export
    that always omits trailing empty fields is ragged, not cut), or an unterminated last line
    without quotes, is an export that was cut: publishing it would silently lose rows or digits."""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - TAIL_BYTES))
        tail = fh.read()
    stripped = tail.rstrip(b" \t")
    unterminated = bool(stripped) and not stripped.endswith((b"\n", b"\r"))
    last_line = stripped.rsplit(b"\n", 1)[-1]
    if fields < width:
        motivo = f"la última fila tiene {fields} de los {width} campos del encabezado"
    elif unterminated and b'"' not in last_line:
        motivo = "la última línea termina sin salto de línea, a mitad de un valor posible"
    else:
        return
    raise _truncated(path, row_number, motivo)


def _truncated(path: Path, row_number: int, motivo: str) -> ArchivoConErrores:
    return ArchivoConErrores(
        f"El archivo parece cortado (exportación o copia incompleta): {motivo}.",
        ubicacion=Ubicacion(archivo=path.name, filas=[row_number]),
        como_corregir="Exporte de nuevo el archivo completo desde el sistema de origen, verifique que la copia "
        "terminó y que la última fila está completa, y vuelva a cargarlo. No se publicó nada.",
        detalles={"causa_archivo": "truncado"},
    )


def _cut_inside_quotes(exc: Exception, path: Path) -> bool:
    """The file ends inside a quoted value without a final line break: cut mid-value.

    (A quote opened earlier and never closed swallows the rest of a complete file, which still
    ends with a line break: that is an unclosed quote, reported at its own row.)
    """
    if not (isinstance(exc, csv.Error) and "unexpected end of data" in str(exc)):
        return False
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 2))
        return not fh.read().endswith((b"\n", b"\r"))


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


def _bad_text(
    path: Path, row: int, exc: Exception, fuente: FuenteArchivo, *, delimiter: str = ",", at_end: bool = False
) -> ArchivoConErrores:
    where = Ubicacion(archivo=path.name, filas=[row])
    if isinstance(exc, UnicodeDecodeError):
        declared = " (el formato acordado para este conjunto es otro)" if fuente.codificacion else ""
        return ArchivoConErrores(
            f"El archivo mezcla codificaciones de texto: hay tildes o eñes ilegibles{declared}.",
            ubicacion=where,
            como_corregir="Guarde el archivo como 'CSV UTF-8' desde Excel y vuelva a cargarlo.",
        )
    if at_end:
        return _truncated(path, row, "la última fila termina dentro de un texto entre comillas")
    other = _other_delimiter(path, delimiter)
    if other:
        return ArchivoConErrores(
            f"El archivo separa las columnas con {_delimiter_name(other)}, no con {_delimiter_name(delimiter)}: "
            "por eso las comillas no coinciden.",
            ubicacion=where,
            como_corregir=f"Exporte de nuevo el archivo como CSV separado por {_delimiter_name(delimiter)}. Si "
            f"el sistema solo puede exportar con {_delimiter_name(other)}, avise al equipo de datos abiertos.",
            detalles={"separador_esperado": delimiter, "separador_encontrado": other},
        )
    return ArchivoConErrores(
        "El CSV está mal formado: hay comillas sin cerrar o un texto pegado a unas comillas.",
        ubicacion=where,
        como_corregir="Revise las comillas de esa fila (cada valor entre comillas debe abrir y cerrar) "
        "o exporte de nuevo el archivo desde el sistema de origen.",
        detalles={"error": str(exc)[:120]},
    )


def _other_delimiter(path: Path, delimiter: str) -> str | None:
    """Another delimiter that reads the first records without a quoting error, consistently."""
    with path.open("rb") as fh:
        text = fh.read(SAMPLE_BYTES).decode("utf-8", errors="replace")
    for candidate in DELIMITERS:
        if candidate == delimiter:
            continue
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=candidate, strict=True))[:-1][:50]
        except csv.Error:
            continue
        widths = {len(r) for r in rows if any(c.strip() for c in r)}
        if len(widths) == 1 and widths.pop() > 1:
            return candidate
    return None
