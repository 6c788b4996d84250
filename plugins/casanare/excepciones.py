"""Decreto 103 de 2015 fields of classified and reserved information, with defaults by kind.

The Índice de Información Clasificada y Reservada (Ley 1712 de 2014, art. 20; Decreto 103 de 2015,
compiled in Decreto 1081 de 2015) needs, for every classified or reserved column or dataset, the
legitimate aim of the exception, its constitutional or legal basis, its legal ground, whether it is
total or partial, the date it was qualified and how long it lasts. Personal data (Ley 1581 de 2012)
is "clasificada" under Ley 1712 art. 18 lit. a, so a column that declares its kind of personal data
gets those fields from ``DEFAULTS_POR_DATO``; everything else (reserved information under art. 19,
kinds such as ``otro``) must be written in the catalog. ``resolve`` merges the three levels and
``missing`` lists what is still undetermined, which the catalog loader refuses.

No catalog import at run time: ``casanare.catalog`` imports this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casanare.catalog import Columna, Dataset

# Order and Spanish labels of the Decreto 103 fields the catalog determines (the others -
# categoría, nombre, idioma, soporte - always come from the dataset's inventory fields).
CAMPOS_EXCEPCION: dict[str, str] = {
    "objetivo_legitimo": "Objetivo legítimo de la excepción",
    "fundamento_constitucional_legal": "Fundamento constitucional o legal",
    "fundamento_juridico": "Fundamento jurídico de la excepción",
    "alcance": "Excepción total o parcial",
    "fecha_calificacion": "Fecha de la calificación",
    "plazo": "Plazo de la clasificación o reserva",
}
CAMPOS_CALIFICACION: dict[str, str] = {
    "fecha_generacion": "Fecha de generación de la información",
    "responsable_produccion": "Nombre del responsable de la producción de la información",
    "responsable_informacion": "Nombre del responsable de la información",
}

_INTIMIDAD = {
    "objetivo_legitimo": "Proteger el derecho de las personas a la intimidad y al hábeas data (datos personales).",
    "fundamento_constitucional_legal": "Constitución Política, art. 15; Ley 1581 de 2012; Ley 1712 de 2014, art. 18, lit. a.",
    "fundamento_juridico": (
        "Ley 1712 de 2014, art. 18, lit. a (información pública clasificada: derecho a la intimidad); "
        "Ley 1581 de 2012, art. 4, lit. f (principio de acceso y circulación restringida)."
    ),
    "plazo": "Ilimitado (Ley 1712 de 2014, art. 18, parágrafo).",
}
_MENORES = {
    **_INTIMIDAD,
    "fundamento_constitucional_legal": (
        "Constitución Política, arts. 15 y 44; Ley 1581 de 2012, art. 7 (datos de niños, niñas y adolescentes); "
        "Ley 1712 de 2014, art. 18, lit. a."
    ),
}
_UBICACION = {
    **_INTIMIDAD,
    "objetivo_legitimo": "Proteger la intimidad y la seguridad de las personas: su lugar de residencia o contacto.",
    "fundamento_juridico": (
        "Ley 1712 de 2014, art. 18, lits. a y b (derecho a la intimidad; vida, salud o seguridad); "
        "Ley 1581 de 2012, art. 4, lit. f."
    ),
}

_SENSIBLES = {
    **_INTIMIDAD,
    "objetivo_legitimo": "Proteger datos sensibles de las personas (origen étnico, salud, discapacidad) contra la discriminación.",
    "fundamento_constitucional_legal": "Constitución Política, arts. 13 y 15; Ley 1581 de 2012, arts. 5 y 6 (datos sensibles); "
    "Ley 1712 de 2014, art. 18, lit. a.",
}

# Defaults for a "clasificada" column by its kind of personal data. Kinds without an entry
# (``otro``, ``texto_libre``, ``nit``, ``municipio``) say too little: the catalog must say why.
DEFAULTS_POR_DATO: dict[str, dict[str, str]] = {
    "cedula": _INTIMIDAD,
    "nombre": _INTIMIDAD,
    "correo": _INTIMIDAD,
    "fecha_nacimiento": _INTIMIDAD,
    "edad": _INTIMIDAD,
    "sexo": _INTIMIDAD,
    "tarjeta_identidad": _MENORES,
    "telefono": _UBICACION,
    "direccion": _UBICACION,
    "coordenadas": _UBICACION,
    "lugar": _UBICACION,
    "revela_edad": _INTIMIDAD,
    "nacionalidad": _INTIMIDAD,
    "estado_civil": _INTIMIDAD,
    "ocupacion": _INTIMIDAD,
    "estrato": _INTIMIDAD,
    "etnia": _SENSIBLES,
    "discapacidad": _SENSIBLES,
    "regimen_salud": _SENSIBLES,
}


def _explicit(obj: Any) -> dict[str, Any]:
    excepcion = getattr(obj, "excepcion", None)
    if excepcion is None:
        return {}
    return {k: v for k, v in excepcion.model_dump().items() if v not in (None, "")}


def resolve(dataset: Dataset, columna: Columna | None = None) -> dict[str, Any]:
    """All Decreto 103 exception fields of a classified column (or of the dataset when None).

    Precedence: what the column (or dataset) writes, then the defaults by kind of personal data
    (only for ``clasificada``), then the dataset's ``calificacion`` block (dates, responsables).
    A column's exception is partial (the rest of the dataset is published); a whole dataset's is
    total unless written otherwise. Undetermined fields are None.
    """
    target = columna if columna is not None else dataset
    clasificacion = target.clasificacion
    values: dict[str, Any] = dict.fromkeys([*CAMPOS_EXCEPCION, *CAMPOS_CALIFICACION])
    if clasificacion == "clasificada" and columna is not None and columna.dato_personal in DEFAULTS_POR_DATO:
        values.update(DEFAULTS_POR_DATO[columna.dato_personal])
    values["alcance"] = "parcial" if columna is not None else "total"
    calificacion = dataset.calificacion
    if calificacion is not None:
        values["fecha_calificacion"] = calificacion.fecha_calificacion
        values["fecha_generacion"] = calificacion.fecha_generacion
        values["responsable_produccion"] = calificacion.responsable_produccion
        values["responsable_informacion"] = calificacion.responsable_informacion
    values["fecha_generacion"] = values["fecha_generacion"] or dataset.fecha_emision
    values["responsable_produccion"] = values["responsable_produccion"] or dataset.dependencia
    values["responsable_informacion"] = values["responsable_informacion"] or dataset.dependencia
    # A legal basis written for the column (privacy rules) names the law that applies to it.
    fundamento = getattr(columna, "fundamento_legal", None) if columna is not None else None
    if fundamento and not values.get("fundamento_constitucional_legal"):
        values["fundamento_constitucional_legal"] = str(fundamento)
    values.update(_explicit(target))
    return values


def missing(values: dict[str, Any]) -> list[str]:
    """Fields of ``resolve``'s result still undetermined."""
    return [k for k in [*CAMPOS_EXCEPCION, *CAMPOS_CALIFICACION] if values.get(k) in (None, "")]
