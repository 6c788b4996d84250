"""CSV and XLSX downloads of an instrument: header row first, one row per item, texts only.

Cells a spreadsheet would run as formulas are neutralized like the dataset downloads.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from casanare.publish.site.downloads import neutralize_cell


@dataclass(frozen=True)
class Hoja:
    """One worksheet: its name, column key -> header, and rows keyed by column."""

    nombre: str
    columnas: dict[str, str]
    filas: Sequence[dict[str, Any]]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if isinstance(value, int | float):
        return value
    return neutralize_cell(str(value))


def csv_bytes(hoja: Hoja) -> bytes:
    """UTF-8 with BOM (Excel shows accents), CRLF line ends as RFC 4180 sets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(list(hoja.columnas.values()))
    for fila in hoja.filas:
        writer.writerow([_cell(fila.get(k)) for k in hoja.columnas])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(hojas: Sequence[Hoja], *, titulo: str | None = None) -> bytes:
    """A workbook with one sheet per ``Hoja``: bold wrapped header, frozen, with filters."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    if titulo:
        workbook.properties.title = titulo
    workbook.properties.creator = "Gobernación de Casanare - Plataforma de datos abiertos"
    for hoja in hojas:
        sheet = workbook.create_sheet(hoja.nombre[:31])
        sheet.append(list(hoja.columnas.values()))
        for fila in hoja.filas:
            sheet.append([_cell(fila.get(k)) for k in hoja.columnas])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="EEF5EE")
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for idx, key in enumerate(hoja.columnas, start=1):
            longest = max([len(str(hoja.columnas[key]))] + [len(str(f.get(key) or "")) for f in hoja.filas])
            sheet.column_dimensions[get_column_letter(idx)].width = min(max(12, longest * 0.9), 60)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2"
        if hoja.filas:
            sheet.auto_filter.ref = sheet.dimensions
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
