"""The portal's columns and row identifier, kept in line with the catalog.

The catalog says what each published column is called (field name and display name), its type,
its description and which column identifies a row. :func:`plan` compares that with the
portal's ``/api/views/<id>.json`` and lists what a revision must change; :func:`output_columns`
is the DSMAPI output schema that makes the portal match (the same one a new dataset starts with).
Dropping a column that still holds data is never decided here alone: the catalog must name it in
``datos_gov_co.columnas_retiradas``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casanare.catalog import Dataset

#: Catalog ``tipo_salida`` → SODA ``dataTypeName``.
SODA_TYPES: dict[str, str] = {
    "texto": "text",
    "entero": "number",
    "decimal": "number",
    "fecha": "calendar_date",
    "fecha_hora": "calendar_date",
    "booleano": "checkbox",
}
#: SODA type → DSMAPI transform that casts the uploaded CSV text (dev.socrata.com, SoQL functions).
TRANSFORMS: dict[str, str] = {
    "text": "to_text",
    "number": "to_number",
    "calendar_date": "to_floating_timestamp",
    "checkbox": "to_boolean",
}


@dataclass(frozen=True)
class Columna:
    """One column as the catalog wants it on the portal."""

    campo: str
    nombre: str
    tipo: str
    descripcion: str


def desired_columns(ds: Dataset) -> list[Columna]:
    """The published columns of a catalog entry, in catalog order."""
    return [Columna(c.nombre_salida, c.titulo_visible, SODA_TYPES[c.tipo_salida], c.descripcion or "")
            for c in ds.columnas_publicadas]


def row_identifier(ds: Dataset) -> str | None:
    return ds.datos_gov_co.identificador_fila if ds.datos_gov_co else None


def output_columns(ds: Dataset, uploaded: list[str]) -> list[dict[str, Any]]:
    """DSMAPI ``output_columns`` for an upload whose CSV header is ``uploaded``.

    Every catalog column is cast from the uploaded column of the same field name; a catalog
    column missing from the upload would be refused by the portal (unknown input column).
    """
    rid = row_identifier(ds)
    missing = [c.campo for c in desired_columns(ds) if c.campo not in uploaded]
    if missing:
        raise ValueError(f"faltan en los datos las columnas del catálogo: {', '.join(missing)}")
    return [
        {
            "field_name": c.campo,
            "display_name": c.nombre,
            "description": c.descripcion,
            "position": position,
            "is_primary_key": c.campo == rid,
            "transform": {"transform_expr": f"{TRANSFORMS[c.tipo]}(`{c.campo}`)"},
        }
        for position, c in enumerate(desired_columns(ds), start=1)
    ]


def is_catalog_output(output: dict[str, Any], ds: Dataset) -> bool:
    """Whether an output schema the portal made by itself already is :func:`output_columns`.

    A revision of a dataset whose columns already match the catalog gets such a schema from the
    portal: each uploaded column cast to the dataset's type, with its names, description and row
    identifier. Then no transform is posted, and the portal does not convert every row once more
    only to arrive at the same schema. Any difference (a renamed column, a new description, a
    type, the order, the row identifier) keeps the transform.
    """
    rid = row_identifier(ds)
    have = sorted(output.get("output_columns") or [], key=lambda c: c.get("position", 0))
    want = desired_columns(ds)
    if len(have) != len(want):
        return False
    for column, wanted in zip(have, want, strict=True):
        transform = column.get("transform") or {}
        if (column.get("field_name") != wanted.campo or (column.get("display_name") or "") != wanted.nombre
                or (column.get("description") or "") != wanted.descripcion
                or bool(column.get("is_primary_key")) != (wanted.campo == rid)
                or transform.get("output_soql_type") != wanted.tipo
                or f"`{wanted.campo}`" not in (transform.get("transform_expr") or "")):
            return False
    return True


@dataclass
class SchemaPlan:
    """Differences between the portal and the catalog (empty = nothing to do)."""

    agregar: list[str] = field(default_factory=list)
    cambiar_tipo: list[dict[str, str]] = field(default_factory=list)
    retirar: list[str] = field(default_factory=list)
    identificador: dict[str, str | None] | None = None

    @property
    def cambios(self) -> bool:
        return bool(self.agregar or self.cambiar_tipo or self.retirar or self.identificador)

    def as_dict(self) -> dict[str, Any]:
        return {"agregar": self.agregar, "cambiar_tipo": self.cambiar_tipo, "retirar": self.retirar,
                "identificador_fila": self.identificador}


def plan(view: dict[str, Any], ds: Dataset) -> SchemaPlan:
    """What a revision must change so the portal's columns and row identifier match the catalog."""
    portal = {c["fieldName"]: c for c in view.get("columns") or [] if not c["fieldName"].startswith(":")}
    wanted = desired_columns(ds)
    result = SchemaPlan()
    for col in wanted:
        have = portal.get(col.campo)
        if have is None:
            result.agregar.append(col.campo)
        elif have.get("dataTypeName") != col.tipo:
            result.cambiar_tipo.append({"campo": col.campo, "portal": have.get("dataTypeName"), "catalogo": col.tipo})
    names = {c.campo for c in wanted}
    result.retirar = [name for name in portal if name not in names]
    current = (view.get("metadata") or {}).get("rowIdentifier") or None
    if current != row_identifier(ds):
        result.identificador = {"portal": current, "catalogo": row_identifier(ds)}
    return result
