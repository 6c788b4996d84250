"""Índice de Información Clasificada y Reservada (Ley 1712 de 2014 art. 20, Decreto 103 de 2015).

One row per column classified ``clasificada`` or ``reservada`` and per dataset classified as a
whole, with every field Decreto 103 sets. The exception fields come from the catalog, completed
by the defaults by kind of personal data (``casanare.excepciones``); the loader has already
refused entries that leave one undetermined.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from casanare.catalog import Catalog, Columna, Dataset
from casanare.excepciones import resolve
from casanare.instruments.registro import SOPORTE_TEXTO

COLUMNAS_INDICE: dict[str, str] = {
    "categoria": "Nombre o título de la categoría de información",
    "nombre": "Nombre o título de la información",
    "idioma": "Idioma",
    "soporte": "Medio de conservación o soporte",
    "fecha_generacion": "Fecha de generación de la información",
    "responsable_produccion": "Nombre del responsable de la producción de la información",
    "responsable_informacion": "Nombre del responsable de la información",
    "objetivo_legitimo": "Objetivo legítimo de la excepción",
    "fundamento_constitucional_legal": "Fundamento constitucional o legal",
    "fundamento_juridico": "Fundamento jurídico de la excepción",
    "alcance": "Excepción total o parcial",
    "fecha_calificacion": "Fecha de la calificación",
    "plazo": "Plazo de la clasificación o reserva",
    "clasificacion": "Calificación",
    "conjunto": "Identificador en el catálogo",
}
CAMPOS_DECRETO_103 = tuple(k for k in COLUMNAS_INDICE if k not in ("clasificacion", "conjunto"))
CLASIFICACION_TEXTO = {"clasificada": "Clasificada (Ley 1712 de 2014, art. 18)",
                       "reservada": "Reservada (Ley 1712 de 2014, art. 19)"}


def _text(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return str(value) if value is not None else ""


def fila_indice(ds: Dataset, col: Columna | None) -> dict[str, str]:
    """The Índice row of a classified column (or of the whole dataset when ``col`` is None)."""
    values = resolve(ds, col)
    clasificacion = col.clasificacion if col is not None else ds.clasificacion
    nombre = f"{col.titulo_visible} (columna «{col.nombre}»)" if col is not None else ds.nombre
    row = {
        "categoria": ds.nombre,
        "nombre": nombre,
        "idioma": ds.idioma,
        "soporte": SOPORTE_TEXTO[ds.soporte],
        **{k: _text(values.get(k)) for k in CAMPOS_DECRETO_103 if k not in ("categoria", "nombre", "idioma", "soporte")},
        "clasificacion": CLASIFICACION_TEXTO[clasificacion],
        "conjunto": ds.slug,
    }
    row["alcance"] = {"total": "Total", "parcial": "Parcial"}.get(row["alcance"], row["alcance"])
    return row


def indice_clasificada(catalog: Catalog) -> list[dict[str, str]]:
    """Every classified or reserved dataset and column of the catalog."""
    rows = []
    for ds in catalog.datasets:
        if ds.clasificacion != "publica":
            rows.append(fila_indice(ds, None))
        rows.extend(fila_indice(ds, c) for c in ds.columnas if c.clasificacion != "publica")
    return rows


COLUMNAS_POR_LEY: dict[str, str] = {
    "categoria": "Nombre o título de la categoría de información",
    "nombre": "Nombre o título de la información",
    "dato_personal": "Tipo de dato personal",
    "fundamento": "Norma que la hace pública",
    "descripcion": "Por qué es pública",
    "conjunto": "Identificador en el catálogo",
}


def _fundamento_texto(fundamento: object) -> str:
    texto = getattr(fundamento, "texto", None)
    return str(texto if texto is not None else fundamento)


def publicos_por_ley(catalog: Catalog) -> list[dict[str, str]]:
    """Columns with personal data published because a law makes them public (``fundamento_legal``).

    They are not exceptions, so they are not rows of the Índice proper; the Índice lists them
    apart so a reader sees every personal column and why it is (or is not) withheld.
    """
    rows = []
    for ds in catalog.datasets:
        for col in ds.columnas:
            fundamento = getattr(col, "fundamento_legal", None)
            if fundamento is None or col.clasificacion != "publica":
                continue
            rows.append({
                "categoria": ds.nombre,
                "nombre": f"{col.titulo_visible} (columna «{col.nombre}»)",
                "dato_personal": col.dato_personal or "—",
                "fundamento": _fundamento_texto(fundamento),
                "descripcion": getattr(fundamento, "descripcion", None) or col.descripcion,
                "conjunto": ds.slug,
            })
    return rows
