"""Hidden columns of a spreadsheet, which calamine does not expose.

* .xlsx: ``<col min=".." max=".." hidden="1">`` in the sheet's XML, found through the workbook's
  relationships (the sheet file name does not always follow the sheet order).
* .ods: ``<table:table-column table:visibility="collapse">`` (with ``number-columns-repeated``) in
  ``content.xml``; the stream is parsed incrementally and stops at the first row of data.
* .xls (Excel 97, BIFF): not supported; the column info records would need a BIFF parser.
  Documented in docs/extraccion.md: hide nothing in .xls sources, or delete the column.

Only the XML before the cell data is read, so this is cheap even for a very large sheet.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"


def hidden_columns(path: Path, kind: str, sheet: str) -> set[int]:
    """0-based indexes (A = 0) of the hidden columns of ``sheet``; empty when unknown."""
    try:
        if kind in {"xlsx", "xlsm"}:
            return _xlsx(path, sheet)
        if kind == "ods":
            return _ods(path, sheet)
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError, ValueError):
        # Reading the data itself is what reports a corrupt file; here we just know nothing.
        return set()
    return set()


def _xlsx(path: Path, sheet: str) -> set[int]:
    with zipfile.ZipFile(path) as zf:
        workbook = ET.fromstring(zf.read("xl/workbook.xml"))
        rid = None
        for node in workbook.iter(f"{MAIN}sheet"):
            if node.get("name") == sheet:
                rid = node.get(f"{REL}id")
                break
        if rid is None:
            return set()
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        target = next((r.get("Target") for r in rels.iter(f"{PKG_REL}Relationship") if r.get("Id") == rid), None)
        if not target:
            return set()
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        hidden: set[int] = set()
        with zf.open(member) as fh:
            for event, node in ET.iterparse(fh, events=("start", "end")):
                if event == "end" and node.tag == f"{MAIN}col" and node.get("hidden") in {"1", "true"}:
                    hidden.update(range(int(node.get("min", "1")) - 1, min(int(node.get("max", "1")), 16384)))
                elif (event == "end" and node.tag == f"{MAIN}cols") or node.tag == f"{MAIN}sheetData":
                    # <cols> comes before <sheetData>: nothing after it matters.
                    break
        return hidden


def _ods(path: Path, sheet: str) -> set[int]:
    with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
        inside = False
        position = 0
        hidden: set[int] = set()
        for event, node in ET.iterparse(fh, events=("start", "end")):
            if node.tag == f"{TABLE}table" and event == "start":
                inside = node.get(f"{TABLE}name") == sheet
                position = 0
            elif inside and event == "start" and node.tag == f"{TABLE}table-column":
                repeated = int(node.get(f"{TABLE}number-columns-repeated", "1"))
                if node.get(f"{TABLE}visibility") in {"collapse", "filter"}:
                    hidden.update(range(position, position + min(repeated, 16384)))
                position += repeated
            elif inside and event == "start" and node.tag == f"{TABLE}table-row":
                return hidden
            if event == "end":
                node.clear()
        return hidden
