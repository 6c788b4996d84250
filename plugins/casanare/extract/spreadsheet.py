"""Spreadsheets (.xlsx, .xls, .ods) read with python-calamine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from casanare.catalog import Dataset, FuenteArchivo
from casanare.errors import ArchivoConErrores, Ubicacion
from casanare.extract.headers import normalize
from casanare.extract.table import RawTable

HEADER_SCAN_ROWS = 30


def read_spreadsheet(path: Path, fuente: FuenteArchivo, dataset: Dataset) -> RawTable:
    """Read the declared sheet, locate its header and flatten a two-row header.

    Raises:
        ArchivoConErrores: corrupt or locked file, missing sheet, or no recognisable header.
    """
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise ArchivoConErrores(
            "No se pudo abrir la hoja de cálculo: el archivo está dañado, protegido o no es del formato esperado.",
            ubicacion=Ubicacion(archivo=path.name),
            como_corregir="Abra el archivo en Excel o LibreOffice, guárdelo de nuevo como .xlsx y vuelva a cargarlo.",
            detalles={"error": type(exc).__name__},
        ) from None
    sheet_name = _sheet_name(workbook, fuente.hoja, path)
    try:
        sheet = workbook.get_sheet_by_name(sheet_name)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises several unrelated classes for broken sheets
        raise ArchivoConErrores(
            "La hoja no se pudo leer: el archivo parece dañado.",
            ubicacion=Ubicacion(archivo=path.name, hoja=sheet_name),
            como_corregir="Guarde el archivo de nuevo desde Excel o LibreOffice y vuelva a cargarlo.",
            detalles={"error": type(exc).__name__},
        ) from None
    rows = _trim(rows)
    if not rows:
        raise ArchivoConErrores(
            "La hoja está vacía.",
            ubicacion=Ubicacion(archivo=path.name, hoja=sheet_name),
            como_corregir="Verifique que cargó el archivo correcto y que los datos están en esta hoja.",
        )
    header_idx = (fuente.fila_encabezado - 1) if fuente.fila_encabezado else _detect_header(rows, dataset)
    depth = fuente.filas_encabezado
    if header_idx + depth > len(rows):
        raise ArchivoConErrores(
            "No se encontró el encabezado en la fila indicada.",
            ubicacion=Ubicacion(archivo=path.name, hoja=sheet_name, filas=[header_idx + 1]),
            como_corregir="Revise que el encabezado de la tabla esté en la fila configurada en el catálogo.",
        )
    headers = flatten_headers(rows[header_idx : header_idx + depth])
    body = rows[header_idx + depth :]
    return RawTable(
        headers=headers,
        chunks=iter([body]),
        first_data_row=header_idx + depth + 1,
        archivo=path.name,
        hoja=sheet_name,
    )


def _sheet_name(workbook: Any, wanted: str | int | None, path: Path) -> str:
    names = list(workbook.sheet_names)
    if wanted is None:
        return names[0]
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
        como_corregir=f"Las hojas del archivo son: {disponibles}. Renombre la hoja o corrija el catálogo.",
    )


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    """Drop trailing empty rows and trailing empty columns."""
    def empty(v: Any) -> bool:
        return v is None or (isinstance(v, str) and not v.strip())

    while rows and all(empty(v) for v in rows[-1]):
        rows = rows[:-1]
    width = max((max((i + 1 for i, v in enumerate(r) if not empty(v)), default=0) for r in rows), default=0)
    return [list(r[:width]) + [""] * (width - len(r)) for r in rows]


def flatten_headers(header_rows: list[list[Any]]) -> list[str]:
    """Flatten a merged two-row header into ``"grupo / sub"`` labels.

    A merged group label appears only in its first cell; it is carried right while the
    lower row has labels. A label merged vertically keeps the upper text alone.
    """
    top = ["" if v is None else str(v).strip() for v in header_rows[0]]
    if len(header_rows) == 1:
        return top
    bottom = ["" if v is None else str(v).strip() for v in header_rows[1]]
    result: list[str] = []
    group = ""
    for upper, lower in zip(top, bottom, strict=False):
        if upper:
            group = upper
        if lower:
            result.append(f"{group} / {lower}" if group else lower)
        else:
            result.append(upper)
            group = ""
    return result


def _detect_header(rows: list[list[Any]], dataset: Dataset) -> int:
    """Pick the row among the first ones that matches the most catalog names or aliases."""
    known = set()
    for col in dataset.columnas:
        for name in (col.nombre, col.nombre.replace("_", " "), col.titulo_visible, *col.alias):
            known.add(normalize(name))
    best, best_score = 0, 0
    for idx, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = sum(1 for v in row if v is not None and normalize(v) in known)
        if score > best_score:
            best, best_score = idx, score
    return best
