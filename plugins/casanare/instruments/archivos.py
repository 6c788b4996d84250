"""Checks of the published files themselves: what a citizen downloads from casanare.gov.co.

The scorecard measures the table before it is written; these checks read back ``datos.csv``,
``datos.xlsx`` and ``datos.json`` of the live version and compare them with the catalog and the
site state: encoding, header, row count, integer columns without ``21.0``. Counts only.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from casanare.catalog import Dataset
from casanare.publish.site.transport import Transport

_DECIMAL_CERO = re.compile(r"-?\d+\.0+")


def _check(nombre: str, ok: bool, detalle: str) -> dict[str, Any]:
    return {"verificacion": nombre, "resultado": "cumple" if ok else "no cumple", "detalle": detalle}


def verificar_archivos(ds: Dataset, transport: Transport, filas_esperadas: int | None) -> list[dict[str, Any]]:
    """Read back the live downloads of ``ds`` and check them; [] if the dataset has no page."""
    if ds.casanare_gov_co is None:
        return []
    base = f"conjuntos/{ds.casanare_gov_co.ruta}"
    esperadas = [c.nombre_salida for c in ds.columnas_publicadas]
    enteras = {c.nombre_salida for c in ds.columnas_publicadas if c.tipo_salida == "entero"}
    checks: list[dict[str, Any]] = []
    raw = transport.read_file(f"{base}/datos.csv")
    if raw is None:
        return [_check("CSV publicado", False, "no existe datos.csv en la versión publicada")]
    try:
        text = raw.decode("utf-8-sig")
        checks.append(_check("CSV en UTF-8", True, "se lee como UTF-8" + (" con BOM" if raw.startswith(b"\xef\xbb\xbf") else "")))
    except UnicodeDecodeError:
        return [_check("CSV en UTF-8", False, "el archivo no es UTF-8 válido")]
    rows = list(csv.reader(io.StringIO(text)))
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    checks.append(_check("Encabezado del CSV", header == esperadas,
                         f"{len(header)} columnas; " + ("coinciden con el catálogo" if header == esperadas
                                                        else f"se esperaban {len(esperadas)} del catálogo")))
    genericos = [h for h in header if not h.strip() or h.lower().startswith("unnamed")]
    checks.append(_check("Nombres de columna", not genericos, f"{len(genericos)} columnas sin nombre o «Unnamed»"))
    if filas_esperadas is not None:
        checks.append(_check("Filas del CSV", len(body) == filas_esperadas,
                             f"{len(body)} filas; el sitio declara {filas_esperadas}"))
    anchos = sum(1 for r in body if len(r) != len(header))
    checks.append(_check("Filas completas", anchos == 0, f"{anchos} filas con un número distinto de campos"))
    indices = [i for i, h in enumerate(header) if h in enteras]
    decimales = sum(1 for r in body for i in indices if i < len(r) and _DECIMAL_CERO.fullmatch(r[i]))
    checks.append(_check("Enteros sin decimales", decimales == 0,
                         f"{decimales} valores de columnas enteras escritos como decimal (p. ej. «21.0»)"))
    xlsx = transport.read_file(f"{base}/datos.xlsx")
    if xlsx is not None:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(xlsx), read_only=True).worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        encabezado = [str(v) for v in values[0]] if values else []
        ok = encabezado == esperadas and (filas_esperadas is None or len(values) - 1 == filas_esperadas)
        checks.append(_check("Excel publicado", ok, f"{max(len(values) - 1, 0)} filas, {len(encabezado)} columnas"))
    data = transport.read_file(f"{base}/datos.json")
    if data is not None:
        try:
            items = json.loads(data)
            ok = isinstance(items, list) and (filas_esperadas is None or len(items) == filas_esperadas)
            checks.append(_check("JSON publicado", ok, f"{len(items) if isinstance(items, list) else 0} registros"))
        except ValueError:
            checks.append(_check("JSON publicado", False, "no es JSON válido"))
    return checks
