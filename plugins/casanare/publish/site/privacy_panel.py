"""The dataset page's privacy section: what protects the people in the data, in numbers only."""

from __future__ import annotations

from typing import Any

from casanare.catalog import Catalog, Dataset, load_catalog

UNIDAD = {"filas": "registros", "personas": "personas"}


def _pct(value: Any) -> str:
    return f"{float(value) * 100:.0f} %" if isinstance(value, int | float) else "—"


def privacy_view(
    dataset: Dataset, privacidad: dict[str, Any] | None, catalog: Catalog | None = None
) -> dict[str, Any]:
    """Template data for ``_privacidad.html`` from the catalog and the run's privacy stage."""
    kanon = (privacidad or {}).get("k_anonimato") or None
    grupo = []
    if dataset.grupo_seudonimos:
        grupo = [
            {"nombre": d.nombre, "ruta": d.casanare_gov_co.ruta if d.casanare_gov_co else None}
            for d in (catalog or load_catalog()).datasets
            if d.grupo_seudonimos == dataset.grupo_seudonimos and d.slug != dataset.slug
        ]
    view: dict[str, Any] = {
        "seudonimos": [c.nombre_salida for c in dataset.columnas_publicadas if c.regla.accion == "seudonimizar"],
        "grupo": dataset.grupo_seudonimos,
        "grupo_conjuntos": grupo,
        "fundamentos": [
            {"columna": c.nombre_salida, "norma": c.fundamento_legal.norma, "articulo": c.fundamento_legal.articulo,
             "descripcion": c.fundamento_legal.descripcion}
            for c in dataset.columnas_con_fundamento_legal
        ],
        "versiones_sitio": dataset.versiones_sitio,
        "k": None,
    }
    if kanon:
        view["k"] = {
            "k": kanon.get("k"),
            "logrado": kanon.get("k_logrado"),
            "unidad": UNIDAD.get(kanon.get("unidad"), "registros"),
            "columnas": ", ".join(kanon.get("cuasi_identificadores") or []),
            "clases_pequenas": _pct(kanon.get("proporcion_clases_menores_k")),
            "celdas": kanon.get("celdas_suprimidas"),
            "eliminadas": kanon.get("filas_eliminadas"),
            "suprimida": _pct(kanon.get("proporcion_suprimida")),
            "perdida": _pct(kanon.get("perdida_informacion")),
            "niveles": [
                {"columna": col, "nivel": n.get("nombre"), "perdida": _pct(n.get("perdida"))}
                for col, n in (kanon.get("niveles") or {}).items()
            ],
        }
    return view
