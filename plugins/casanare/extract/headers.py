"""Map source headers to catalog column names (declared aliases, case- and accent-insensitive)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from casanare.catalog import Dataset
from casanare.errors import ArchivoConErrores, Ubicacion


def normalize(text: object) -> str:
    """``"  Número de  Documento "`` → ``"numero de documento"``."""
    raw = unicodedata.normalize("NFKD", str(text or ""))
    raw = "".join(ch for ch in raw if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", " ", raw).strip()


@dataclass
class HeaderMapping:
    """Which source position feeds each catalog column, and what was left over."""

    positions: dict[str, int]
    extra: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)


def map_headers(headers: Sequence[str], dataset: Dataset, ubicacion: Ubicacion) -> HeaderMapping:
    """Match each catalog column to one source header.

    A two-row header arrives flattened as ``"grupo / sub"``; both the full text and the last part
    are tried, so an alias may name either.

    Raises:
        ArchivoConErrores: duplicated header, or a required column that is missing.
    """
    normalized = [normalize(h) for h in headers]
    seen: dict[str, int] = {}
    for idx, name in enumerate(normalized):
        if not name:
            continue
        if name in seen:
            raise ArchivoConErrores(
                f'El encabezado "{headers[idx]}" aparece dos veces.',
                ubicacion=Ubicacion(ubicacion.archivo, ubicacion.hoja, ubicacion.filas, str(headers[idx])),
                como_corregir="Cambie el nombre de una de las dos columnas o elimine la copia.",
            )
        seen[name] = idx
    lookup: dict[str, int] = {}
    for idx, full in enumerate(normalized):
        if not full:
            continue
        lookup.setdefault(full, idx)
        last = normalize(str(headers[idx]).split("/")[-1])
        lookup.setdefault(last, idx)
    positions: dict[str, int] = {}
    missing_required: list[str] = []
    missing_optional: list[str] = []
    for col in dataset.columnas:
        candidates = [col.nombre, col.nombre.replace("_", " "), col.titulo_visible, *col.alias]
        match = next((lookup[normalize(c)] for c in candidates if normalize(c) in lookup), None)
        if match is None:
            (missing_required if col.requerido else missing_optional).append(col.nombre)
        else:
            positions[col.nombre] = match
    if missing_required:
        col = next(c for c in dataset.columnas if c.nombre == missing_required[0])
        esperado = ", ".join(f'"{a}"' for a in [col.titulo_visible, *col.alias][:4])
        raise ArchivoConErrores(
            f"Falta la columna obligatoria {', '.join(missing_required)} (o fue renombrada).",
            ubicacion=Ubicacion(ubicacion.archivo, ubicacion.hoja, ubicacion.filas, missing_required[0]),
            como_corregir=f"Agregue la columna con uno de estos encabezados: {esperado}.",
            detalles={"columnas_faltantes": missing_required},
        )
    used = set(positions.values())
    extra = [str(h) for i, h in enumerate(headers) if normalized[i] and i not in used]
    return HeaderMapping(positions=positions, extra=extra, missing_optional=missing_optional)
