"""Describe the catalog's datasets as the portal stand-in's seed (datasets exist before publishing).

On datos.gov.co a dataset is created once by the platform team and then only updated; the
stand-in mirrors that by starting with these datasets already created (empty).
"""

from __future__ import annotations

from typing import Any

from casanare.catalog import Catalog

SODA_TYPES = {
    "texto": "text",
    "entero": "number",
    "decimal": "number",
    "fecha": "calendar_date",
    "fecha_hora": "calendar_date",
    "booleano": "checkbox",
}


def portal_seed(catalog: Catalog) -> dict[str, Any]:
    datasets = []
    for ds in catalog.priorizados:
        assert ds.datos_gov_co is not None
        datasets.append(
            {
                "id": ds.datos_gov_co.dataset_id,
                "name": ds.nombre,
                "description": ds.descripcion,
                "category": ds.categoria,
                "rowIdentifier": ds.datos_gov_co.identificador_fila,
                "columns": [
                    {
                        "fieldName": c.nombre_salida,
                        "name": c.titulo_visible,
                        "dataTypeName": SODA_TYPES[c.tipo_salida],
                        "description": c.descripcion,
                    }
                    for c in ds.columnas_publicadas
                ],
                "tags": ds.etiquetas,
            }
        )
    return {"datasets": datasets}
