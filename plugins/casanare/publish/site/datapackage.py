"""Machine-readable column types beside each download: a Frictionless Data Package.

Every CSV reader guesses types: ``codigo_municipio`` (``85001``) becomes an integer, a
``fecha`` a timestamp. ``datapackage.json`` (Frictionless Data Package v1, Table Schema) says
what each column is, generated from the catalog: codes stay ``string``, ``entero`` is
``integer``, ``fecha`` is ``date`` and only ``fecha_hora`` is ``datetime``. It also says what a
blank cell means in each column (a privacy suppression, a value not known at the source, or a
protected value), and that a blank is written as an empty CSV cell, ``null`` in JSON and an
empty cell in the XLSX.

Spec: https://specs.frictionlessdata.io/data-package/ and /table-schema/.
"""

from __future__ import annotations

import json
from typing import Any

from casanare.catalog import Columna, Dataset

TIPOS_TABLE_SCHEMA = {
    "texto": "string",
    "entero": "integer",
    "decimal": "number",
    "fecha": "date",
    "fecha_hora": "datetime",
    "booleano": "boolean",
}
# How the downloads write each type (publish/site/downloads.py), as Table Schema formats.
FORMATOS = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%dT%H:%M:%S.000"}
MEDIA = {"csv": "text/csv", "json": "application/json",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
COMO_SE_ESCRIBE_VACIO = "celda vacía en CSV y XLSX; null en JSON"


def blank_meaning(col: Columna, dataset: Dataset) -> str:
    """What an empty cell of a published column means, in plain Spanish."""
    quasi = set(dataset.microdatos.cuasi_identificadores) if dataset.microdatos else set()
    reasons = []
    if col.nombre_salida in quasi:
        reasons.append("suprimido por protección de datos personales (k-anonimato: el valor identificaría a "
                       "pocas personas)")
    if col.regla.accion == "generalizar" and col.regla.metodo == "tope":
        reasons.append("nunca: los valores extremos se publican topados, no vacíos")
    elif col.regla.accion in {"seudonimizar", "enmascarar", "redactar_texto"} or (
            col.regla.accion == "generalizar" and col.nombre_salida not in quasi):
        reasons.append("el dato no existe en la fuente (el valor protegido se publica transformado, nunca vacío)")
    if not col.requerido:
        reasons.append("dato aún no conocido o no registrado en la fuente")
    if not reasons:
        return "no debería haber celdas vacías: es un dato obligatorio"
    return "; o ".join(dict.fromkeys(reasons))


def _field(col: Columna, dataset: Dataset) -> dict[str, Any]:
    kind = TIPOS_TABLE_SCHEMA[col.tipo_salida]
    field: dict[str, Any] = {
        "name": col.nombre_salida,
        "title": col.titulo_visible,
        "type": kind,
        "description": col.descripcion,
        "casanare:vacio": blank_meaning(col, dataset),
    }
    if kind in FORMATOS:
        field["format"] = FORMATOS[kind]
    if kind == "number":
        field.update(decimalChar=".", groupChar="")
    if kind == "boolean":
        field.update(trueValues=["true"], falseValues=["false"])
    constraints: dict[str, Any] = {}
    if col.requerido and col.nombre_salida not in (
            set(dataset.microdatos.cuasi_identificadores) if dataset.microdatos else set()):
        constraints["required"] = True
    if kind in {"integer", "number"}:
        if isinstance(col.minimo, int | float):
            constraints["minimum"] = col.minimo
        if isinstance(col.maximo, int | float):
            constraints["maximum"] = col.maximo
    if constraints:
        field["constraints"] = constraints
    return field


def datapackage(dataset: Dataset, *, version: str, rows: int, formats: list[str]) -> dict[str, Any]:
    """The Data Package descriptor of one published version (one resource per download)."""
    fields = [_field(c, dataset) for c in dataset.columnas_publicadas]
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    row_id = dataset.datos_gov_co.identificador_fila if dataset.datos_gov_co else None
    if row_id:
        schema["primaryKey"] = [row_id]
    resources = []
    for fmt in formats:
        resource: dict[str, Any] = {
            "name": f"{dataset.slug}-{fmt}",
            "path": f"datos.{fmt}",
            "profile": "tabular-data-resource" if fmt == "csv" else "data-resource",
            "format": fmt,
            "mediatype": MEDIA[fmt],
            "schema": schema,
        }
        if fmt == "csv":
            resource.update(encoding="utf-8-sig", dialect={"delimiter": ",", "lineTerminator": "\r\n",
                                                           "quoteChar": '"', "header": True})
        resources.append(resource)
    return {
        "profile": "tabular-data-package",
        "name": dataset.slug.replace("_", "-"),
        "title": dataset.nombre,
        "description": dataset.descripcion,
        "version": version,
        "licenses": [{"name": dataset.licencia, "title": dataset.licencia}],
        "contributors": [{"title": dataset.dependencia, "role": "publisher"}],
        "keywords": list(dataset.etiquetas),
        "casanare:filas": rows,
        "casanare:vacios": f"Cómo se escribe un dato vacío: {COMO_SE_ESCRIBE_VACIO}. Qué significa: ver "
                           "'casanare:vacio' de cada campo.",
        "resources": resources,
    }


def datapackage_bytes(dataset: Dataset, *, version: str, rows: int, formats: list[str]) -> bytes:
    return json.dumps(datapackage(dataset, version=version, rows=rows, formats=formats), ensure_ascii=False,
                      indent=1).encode("utf-8")
