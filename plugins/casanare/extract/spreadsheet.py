"""Spreadsheets (.xlsx, .xls, .ods) read with python-calamine.

Rows are pulled lazily with ``iter_rows`` and handed on in chunks, so Python never holds a second
copy of the whole sheet. Hidden columns are blanked out (see ``hidden.py``), trailing empty rows
are skipped and columns past the last header are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from casanare.catalog import Dataset, FuenteArchivo
from casanare.errors import ArchivoConErrores, Ubicacion
from casanare.extract.headers import header_score, known_headers, normalize
from casanare.extract.hidden import hidden_columns
from casanare.extract.table import RawTable

HEADER_SCAN_ROWS = 30
CHUNK_ROWS = 50_000


def read_spreadsheet(path: Path, fuente: FuenteArchivo, dataset: Dataset) -> RawTable:
    """Read the declared sheet, locate its header and flatten a two-row header.

    Raises:
        ArchivoConErrores: corrupt or protected file, missing sheet, or no recognisable header.
    """
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except PasswordError:
        raise ArchivoConErrores(
            "La hoja de cálculo está protegida con contraseña.",
            ubicacion=Ubicacion(archivo=path.name),
            como_corregir="Quite la contraseña de apertura (Archivo → Información → Proteger libro) y vuelva a cargarlo.",
        ) from None
    except Exception as exc:  # calamine raises several unrelated classes for broken files
        raise ArchivoConErrores(
            "No se pudo abrir la hoja de cálculo: el archivo está dañado, incompleto o no es del formato "
            f"'.{fuente.formato_efectivo}'.",
            ubicacion=Ubicacion(archivo=path.name),
            como_corregir="Abra el archivo en Excel o LibreOffice, guárdelo de nuevo con el formato correcto "
            "y vuelva a cargarlo completo.",
            detalles={"error": type(exc).__name__},
        ) from None
    sheet_name = _sheet_name(workbook, fuente.hoja, path)
    try:
        sheet = workbook.get_sheet_by_name(sheet_name)
        start_col = (sheet.start or (0, 0))[1]
        rows = sheet.iter_rows()
        head = [list(r) for r in islice(rows, HEADER_SCAN_ROWS + fuente.filas_encabezado)]
    except Exception as exc:
        raise ArchivoConErrores(
            "La hoja no se pudo leer: el archivo parece dañado.",
            ubicacion=Ubicacion(archivo=path.name, hoja=sheet_name),
            como_corregir="Guarde el archivo de nuevo desde Excel o LibreOffice y vuelva a cargarlo.",
            detalles={"error": type(exc).__name__},
        ) from None
    # calamine starts each row at the first used column; pad so index 0 is column A.
    head = [[""] * start_col + r for r in head]
    if not any(not _empty(v) for r in head for v in r):
        raise ArchivoConErrores(
            "La hoja está vacía.",
            ubicacion=Ubicacion(archivo=path.name, hoja=sheet_name),
            como_corregir="Verifique que cargó el archivo correcto y que los datos están en esta hoja "
            f"(hojas del archivo: {', '.join(workbook.sheet_names)}).",
        )
    depth = fuente.filas_encabezado
    detected = _detect_header(head, dataset, depth)
    header_idx = (fuente.fila_encabezado - 1) if fuente.fila_encabezado else detected
    detalles: dict[str, Any] = {}
    if header_idx != detected and header_idx + depth <= len(head) and _score(head, header_idx, dataset, depth) < \
            _score(head, detected, dataset, depth):
        # Title rows were added above the agreed header: the row naming the catalog's columns wins.
        detalles["advertencia_encabezado"] = (f"El encabezado está en la fila {detected + 1}, no en la fila "
                                              f"{header_idx + 1} acordada; se leyó desde la fila {detected + 1}.")
        header_idx = detected
    detalles["fila_encabezado"] = header_idx + 1
    if header_idx + depth > len(head) or all(_empty(v) for v in head[header_idx]):
        raise ArchivoConErrores(
            "No se encontró el encabezado en la fila indicada.",
            ubicacion=Ubicacion(archivo=path.name, hoja=sheet_name, filas=[header_idx + 1]),
            como_corregir="Deje el encabezado de la tabla en la fila acordada con el equipo de datos abiertos; "
            "si cambió de lugar, avíseles.",
        )
    headers = flatten_headers(head[header_idx : header_idx + depth])
    hidden = hidden_columns(path, fuente.formato_efectivo, sheet_name)
    ocultas = [headers[i] for i in sorted(hidden) if i < len(headers) and headers[i]]
    for i in hidden:
        if i < len(headers):
            headers[i] = ""  # an empty header is never mapped nor reported as extra
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    first = header_idx + depth
    return RawTable(
        headers=headers,
        chunks=_chunks(head[first:], rows, start_col, width, path, sheet_name, first),
        first_data_row=first + 1,
        archivo=path.name,
        hoja=sheet_name,
        ocultas=ocultas,
        detalles=detalles,
    )


def _chunks(
    buffered: list[list[Any]], rows: Iterator[list[Any]], start_col: int, width: int, path: Path, hoja: str,
    first: int,
) -> Iterator[list[list[Any]]]:
    chunk = [r[:width] for r in buffered]
    read = len(buffered)
    try:
        for row in rows:
            chunk.append(([""] * start_col + list(row))[:width] if start_col else list(row[:width]))
            read += 1
            if len(chunk) >= CHUNK_ROWS:
                yield chunk
                chunk = []
    except Exception as exc:
        raise ArchivoConErrores(
            "La hoja no se pudo leer completa: el archivo parece dañado.",
            ubicacion=Ubicacion(archivo=path.name, hoja=hoja, filas=[first + read + 1]),
            como_corregir="Guarde el archivo de nuevo desde Excel o LibreOffice y vuelva a cargarlo.",
            detalles={"error": type(exc).__name__},
        ) from None
    if chunk:
        yield chunk


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _sheet_name(workbook: Any, wanted: str | int | None, path: Path) -> str:
    names = list(workbook.sheet_names)
    if wanted is None:
        visible = [m.name for m in workbook.sheets_metadata if str(m.visible).endswith("Visible")]
        return visible[0] if visible else names[0]
    if isinstance(wanted, int):
        if 0 <= wanted < len(names):
            return names[wanted]
    else:
        for name in names:
            if normalize(name) == normalize(wanted):
                return name
    disponibles = ", ".join(f'"{n}"' for n in names)
    raise ArchivoConErrores(
        f'No existe la hoja "{wanted}" en el archivo.',
        ubicacion=Ubicacion(archivo=path.name, hoja=str(wanted)),
        como_corregir=f"Las hojas del archivo son: {disponibles}. Renombre la hoja con el nombre acordado o avise al equipo de datos abiertos.",
        detalles={"hojas": names},
    )


def flatten_headers(header_rows: list[list[Any]]) -> list[str]:
    """Flatten a merged two-row header into ``"grupo / sub"`` labels.

    A merged group label appears only in its first cell; it is carried right while the
    lower row has labels. A label merged vertically keeps the upper text alone.
    """
    width = max(len(r) for r in header_rows)
    top = [_label(v) for v in header_rows[0]] + [""] * (width - len(header_rows[0]))
    if len(header_rows) == 1:
        return top
    bottom = [_label(v) for v in header_rows[1]] + [""] * (width - len(header_rows[1]))
    result: list[str] = []
    group = ""
    for upper, lower in zip(top, bottom, strict=True):
        if upper:
            group = upper
        if lower:
            result.append(f"{group} / {lower}" if group else lower)
        else:
            result.append(upper)
            group = ""
    return result


def _label(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _detect_header(rows: list[list[Any]], dataset: Dataset, depth: int = 1) -> int:
    """Pick the row among the first ones that matches the most catalog names or aliases.

    Title rows above the table ("GOBERNACIÓN DE CASANARE", "Corte: marzo") match nothing; a
    two-row header's lower row is matched through its "grupo / sub" flattening by ``map_headers``,
    so here the last part of an alias also counts.
    """
    known = known_headers(dataset)
    best, best_score = 0, 0
    for idx in range(min(HEADER_SCAN_ROWS, len(rows) - depth + 1)):
        score = header_score(flatten_headers(rows[idx : idx + depth]), known)
        if score > best_score:
            best, best_score = idx, score
    return best


def _score(rows: list[list[Any]], idx: int, dataset: Dataset, depth: int) -> int:
    return header_score(flatten_headers(rows[idx : idx + depth]), known_headers(dataset))
