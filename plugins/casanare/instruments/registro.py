"""Registro de Activos de Información (Ley 1712 de 2014 art. 13, Decreto 103 de 2015).

One row per catalog entry, prioritized or not, with the fields Decreto 103 sets plus the
plan's 10.1 inventory fields. "Información publicada o disponible" comes from the real state
(``estado.EstadoPublicacion``), never from the YAML's ``publicada``.
"""

from __future__ import annotations

from typing import Any

from casanare.catalog import Catalog, Dataset, FuenteArchivo, FuenteSQL
from casanare.instruments.estado import EstadoPublicacion

# Column key -> header people read (the first seven are Decreto 103's fields).
COLUMNAS_REGISTRO: dict[str, str] = {
    "categoria": "Nombre o título de la categoría de información",
    "nombre": "Nombre o título de la información",
    "descripcion": "Descripción del contenido",
    "idioma": "Idioma",
    "soporte": "Medio de conservación o soporte",
    "formato": "Formato",
    "publicada_o_disponible": "Información publicada o disponible",
    "enlaces": "Enlaces de consulta",
    "dependencia": "Dependencia responsable",
    "tipologia": "Tipología de la información",
    "ambito": "Ámbito geográfico",
    "fuente_primaria": "Fuente primaria",
    "evidencia_solicitud": "Evidencia de solicitud",
    "frecuencia_generacion": "Frecuencia de generación",
    "frecuencia_actualizacion": "Frecuencia de actualización",
    "ubicacion": "Lugar donde se encuentra",
    "ultima_publicacion": "Última publicación",
    "priorizado": "Priorizado para apertura",
    "contacto": "Contacto",
    "conjunto": "Identificador en el catálogo",
}
CAMPOS_DECRETO_103 = ("categoria", "nombre", "descripcion", "idioma", "soporte", "formato", "publicada_o_disponible")
SOPORTE_TEXTO = {"digital": "Digital", "física": "Físico", "física y digital": "Físico y digital"}
FRECUENCIA = {
    "diaria": "Diaria", "semanal": "Semanal", "mensual": "Mensual", "trimestral": "Trimestral",
    "semestral": "Semestral", "anual": "Anual", "eventual": "Eventual",
}
FORMATO_FUENTE = {
    "xlsx": "Hoja de cálculo (XLSX)", "xls": "Hoja de cálculo (XLS)", "ods": "Hoja de cálculo (ODS)",
    "csv": "Texto delimitado (CSV)", "txt": "Texto delimitado (TXT)",
}


def si_no(value: bool) -> str:
    return "Sí" if value else "No"


def formato(ds: Dataset, estado: EstadoPublicacion) -> str:
    """Formats of the asset: what is published (open formats) and how the source is kept."""
    partes = []
    if estado.en_portal:
        partes.append("CSV, JSON y XML en datos.gov.co")
    if estado.en_sitio:
        partes.append("CSV, XLSX y JSON en casanare.gov.co")
    if ds.formato:
        fuente = ds.formato
    elif isinstance(ds.fuente, FuenteArchivo):
        fuente = FORMATO_FUENTE.get(ds.fuente.formato_efectivo, ds.fuente.formato_efectivo.upper())
    elif isinstance(ds.fuente, FuenteSQL):
        fuente = "Base de datos relacional"
    else:
        fuente = {"física": "Papel"}.get(ds.soporte, "Digital (formato por confirmar con la dependencia)")
    partes.append(f"original: {fuente}")
    return "; ".join(partes)


def fila_registro(ds: Dataset, estado: EstadoPublicacion) -> dict[str, Any]:
    """One row of the Registro, every value a plain string."""
    return {
        "categoria": ds.categoria,
        "nombre": ds.nombre,
        "descripcion": ds.descripcion,
        "idioma": ds.idioma,
        "soporte": SOPORTE_TEXTO[ds.soporte],
        "formato": formato(ds, estado),
        "publicada_o_disponible": estado.texto,
        "enlaces": " ".join(estado.enlaces) or (
            f"Solicítela a {', '.join(estado.contactos)}" if ds.disponible else "No aplica"
        ),
        "dependencia": ds.dependencia,
        "tipologia": ds.tipologia,
        "ambito": ds.ambito_geografico,
        "fuente_primaria": si_no(ds.fuente_primaria),
        "evidencia_solicitud": ", ".join(ds.evidencia_solicitud),
        "frecuencia_generacion": FRECUENCIA[ds.frecuencia_generacion],
        "frecuencia_actualizacion": FRECUENCIA[ds.frecuencia_actualizacion],
        "ubicacion": ds.ubicacion,
        "ultima_publicacion": (estado.ultima_publicacion or "")[:10] or "Sin publicar",
        "priorizado": si_no(ds.priorizado),
        "contacto": ", ".join(str(c) for c in ds.contactos),
        "conjunto": ds.slug,
    }


def registro_activos(catalog: Catalog, estados: dict[str, EstadoPublicacion]) -> list[dict[str, Any]]:
    """Every catalog entry, ordered by category and name."""
    rows = [fila_registro(ds, estados[ds.slug]) for ds in catalog.datasets]
    return sorted(rows, key=lambda r: (r["categoria"].casefold(), r["nombre"].casefold()))
