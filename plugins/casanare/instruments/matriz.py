"""The prioritization matrix (plan 10.2, 10.3) and each dataset's 10.2 action.

Actions (plan 10.2.1): *Abrir* (not yet on datos.gov.co / casanare.gov.co), *Actualizar* (published
but older than its declared frequency), *Mejorar* (published and current but short of the Sello de
Excelencia level-1 requirements), *Usar* (published, current and meeting them: promote its use).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casanare.catalog import Catalog, Dataset
from casanare.instruments.estado import EstadoPublicacion
from casanare.priorizacion import Criterios, Puntaje, ranking

COLUMNAS_MATRIZ: dict[str, str] = {
    "puesto": "Puesto",
    "nombre": "Conjunto de datos",
    "dependencia": "Dependencia",
    "demanda": "Demanda (0-10)",
    "impacto": "Impacto (0-10)",
    "facilidad": "Facilidad (0-10)",
    "alineacion": "Alineación estratégica (0-10)",
    "total": "Puntaje ponderado (0-10)",
    "solicitudes": "Solicitudes registradas",
    "recomendacion": "Recomendación del puntaje",
    "decision": "Decisión (priorizado en el catálogo)",
    "desacuerdo": "Decisión y puntaje",
    "accion": "Acción (plan 10.2)",
    "motivo": "Motivo de la acción",
    "estado": "Información publicada o disponible",
    "conjunto": "Identificador en el catálogo",
}
COLUMNAS_CRITERIOS = {"criterio": "Criterio", "peso": "Peso", "como": "Cómo se calcula"}


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def accion(ds: Dataset, estado: EstadoPublicacion, scorecard: dict[str, Any] | None, ahora: datetime) -> tuple[str, str]:
    """The dataset's 10.2 action and why, from its real state and its latest MinTIC scorecard."""
    if not estado.publicada:
        if ds.priorizado:
            return "Abrir", "Priorizado y aún sin publicar en datos.gov.co ni en casanare.gov.co."
        return "Abrir", "En inventario: aún no priorizado ni publicado; se entrega a solicitud."
    ultima = _parse(estado.ultima_publicacion)
    vencido = ds.vigencia is not None and ultima is not None and ahora - ultima > ds.vigencia
    actualidad = ((scorecard or {}).get("criterios") or {}).get("actualidad") or {}
    if vencido or actualidad.get("puntaje") == 0:
        return "Actualizar", "Los datos publicados son más antiguos que su frecuencia de actualización declarada."
    sello = (scorecard or {}).get("sello_excelencia") or {}
    if scorecard is None:
        return "Mejorar", "Publicado sin evaluación de calidad MinTIC registrada."
    if not sello.get("nivel_1"):
        faltan = [k for k, ok in (sello.get("requisitos") or {}).items() if not ok]
        return "Mejorar", "No cumple los requisitos del Sello de Excelencia nivel 1" + (
            f": {', '.join(faltan)}." if faltan else ".")
    return "Usar", "Publicado, al día y con los requisitos del Sello nivel 1: promover su uso y reutilización."


def matriz(
    catalog: Catalog,
    criterios: Criterios,
    estados: dict[str, EstadoPublicacion],
    scorecards: dict[str, dict[str, Any] | None],
    *,
    ahora: datetime,
    solicitudes: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """One row per catalog entry, in rank order."""
    rows = []
    for p in ranking(catalog.datasets, criterios, solicitudes):
        ds = catalog.get(p.slug)
        que, motivo = accion(ds, estados[p.slug], scorecards.get(p.slug), ahora)
        rows.append(fila(p, que, motivo, estados[p.slug]))
    return rows


def fila(p: Puntaje, que: str, motivo: str, estado: EstadoPublicacion) -> dict[str, Any]:
    return {
        "puesto": p.puesto, "nombre": p.nombre, "dependencia": p.dependencia, "demanda": p.demanda,
        "impacto": p.impacto, "facilidad": p.facilidad, "alineacion": p.alineacion, "total": p.total,
        "solicitudes": p.solicitudes,
        "recomendacion": "Priorizar" if p.recomendado else "No priorizar por ahora",
        "decision": "Priorizado" if p.priorizado else "No priorizado",
        "desacuerdo": (p.desacuerdo or "coinciden").capitalize(),
        "accion": que, "motivo": motivo, "estado": estado.texto, "conjunto": p.slug,
    }


def _n(value: float) -> str:
    """A number as Spanish readers write it (decimal comma)."""
    return f"{value:g}".replace(".", ",")


def filas_criterios(criterios: Criterios) -> list[dict[str, Any]]:
    """The config, as a second sheet and on the page, so the matrix explains itself."""
    c = criterios
    evidencia = ", ".join(f"{k} {_n(v)}" for k, v in c.demanda.evidencia.items())
    return [
        {"criterio": "Demanda", "peso": c.pesos.demanda,
         "como": f"Puntos por demandante declarado en la evidencia de solicitud ({evidencia}) más "
                 f"{_n(c.demanda.por_solicitud_registrada)} por solicitud de apertura registrada; máximo 10."},
        {"criterio": "Impacto", "peso": c.pesos.impacto,
         "como": f"Según la categoría temática del conjunto; {_n(c.impacto.por_defecto)} si no está en la lista."},
        {"criterio": "Facilidad", "peso": c.pesos.facilidad,
         "como": "Promedio del soporte (digital, físico) y del formato de la fuente, menos "
                 f"{_n(c.facilidad.penalizacion_por_dato_personal)} por cada tipo de dato personal que hay que "
                 f"anonimizar (hasta {_n(c.facilidad.penalizacion_maxima)})."},
        {"criterio": "Alineación estratégica", "peso": c.pesos.alineacion,
         "como": f"{_n(c.alineacion.estrategico)} si la categoría o una etiqueta es un tema del Plan de Desarrollo "
                 f"Departamental; si no, {_n(c.alineacion.no_estrategico)}."},
        {"criterio": "Umbral", "peso": "",
         "como": f"Con puntaje ponderado de {_n(c.umbral_priorizar)} o más se recomienda priorizar. La decisión es "
                 "la del catálogo (priorizado); la matriz señala dónde difieren."},
    ]
