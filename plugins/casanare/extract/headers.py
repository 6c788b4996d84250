"""Map source headers to catalog column names (declared aliases, case- and accent-insensitive)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from casanare.catalog import Dataset, normalizar_encabezado
from casanare.errors import ArchivoConErrores, Ubicacion

normalize = normalizar_encabezado


@dataclass
class HeaderMapping:
    """Which source position feeds each catalog column, and what was left over."""

    positions: dict[str, int]
    extra: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)


def known_headers(dataset: Dataset) -> frozenset[str]:
    """Normalized names, titles and aliases (and the last part of ``grupo / sub`` aliases)."""
    known = set()
    for col in dataset.columnas:
        for name in col.encabezados_aceptados:
            known.add(normalize(name))
            known.add(normalize(str(name).split("/")[-1]))
    known.discard("")
    return frozenset(known)


def header_score(labels: Sequence[object], known: frozenset[str]) -> int:
    """How many cells of a candidate header row are catalog names or aliases."""
    score = 0
    for value in labels:
        text = "" if value is None else str(value)
        if text and (normalize(text) in known or normalize(text.split("/")[-1]) in known):
            score += 1
    return score


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
        candidates = col.encabezados_aceptados
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
