"""Volume guard: a run whose row count moves far from the last publication does not publish.

A truncated export cut cleanly at a row boundary is a perfectly valid CSV; only its size gives it
away. Each run is compared with the last successful one (the whole table for full loads, the
delta for incremental sources), against the dataset's thresholds (``calidad.volumen``). An
operator who knows the change is real accepts it from the trigger form; the acceptance is
recorded with who and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from casanare.catalog import Dataset
from casanare.errors import CambioDeVolumen, Ubicacion

PARAM_ACEPTAR = "aceptar_cambio_de_volumen"
# A delta of 3 rows after one of 1 is +200 %: incremental deltas are compared from this size up.
MIN_INCREMENTO_COMPARABLE = 20


@dataclass(frozen=True)
class Aceptacion:
    """An operator's acceptance of this run's volume change (from the DAG's trigger form)."""

    aceptado: bool = False
    usuario: str | None = None


def _pct(value: float) -> str:
    return f"{value:+.1f} %".replace(".", ",").replace("-", "−")


def check_volume(
    dataset: Dataset,
    filas: int,
    anterior: dict[str, Any] | None,
    *,
    incremento: int | None = None,
    aceptacion: Aceptacion = Aceptacion(),
    archivo: str | None = None,
) -> dict[str, Any]:
    """Compare this run's rows (or delta) with the last successful run's.

    Args:
        dataset: catalog entry (thresholds in ``calidad.volumen``).
        filas: rows in the full table this run would publish.
        anterior: the last successful run's summary (``filas_extraidas``, ``filas_incremento``).
        incremento: size of this run's delta for incremental sources, else None.
        aceptacion: the operator's acceptance from the trigger form.
        archivo: the source as the dependencia names it, for the e-mail.

    Returns:
        A JSON-safe report for the manifest (counts, variation, whether it was accepted and by whom).

    Raises:
        CambioDeVolumen: the change exceeds the thresholds and nobody accepted it.
    """
    umbral = dataset.calidad.volumen
    incremental = incremento is not None
    actual = incremento if incremental else filas
    previo = (anterior or {}).get("filas_incremento" if incremental else "filas_extraidas")
    report: dict[str, Any] = {
        "filas": actual, "filas_anteriores": previo, "medida": "incremento" if incremental else "tabla completa",
        "caida_maxima_pct": umbral.caida_maxima_pct, "aumento_maximo_pct": umbral.aumento_maximo_pct,
    }
    if previo is None or not int(previo) or (incremental and int(previo) < MIN_INCREMENTO_COMPARABLE):
        # First publication, or a previous delta too small for a percentage to mean anything.
        return {**report, "estado": "sin_referencia"}
    previo = int(previo)
    variacion = (actual - previo) / previo * 100
    report["variacion_pct"] = round(variacion, 2)
    drop = incremental is False and variacion < -umbral.caida_maxima_pct
    jump = variacion > umbral.aumento_maximo_pct
    if not (drop or jump):
        return {**report, "estado": "ok"}
    if aceptacion.aceptado:
        return {**report, "estado": "aceptado", "aceptado_por": aceptacion.usuario or "desconocido",
                "aceptado_en": datetime.now(UTC).isoformat(timespec="seconds")}
    que = "El incremento" if incremental else "La fuente"
    ultima = "el incremento de la última ejecución exitosa tenía" if incremental else "la última publicación tenía"
    limite = (f"una caída de hasta {umbral.caida_maxima_pct:g} % o un aumento de hasta "
              f"{umbral.aumento_maximo_pct:g} %") if not incremental else (
              f"un aumento de hasta {umbral.aumento_maximo_pct:g} %")
    revisar = ("que el archivo esté completo (que la exportación no se cortó y trae todo el periodo) y que es el "
               "archivo correcto" if drop else
               "que el archivo no repite filas ni mezcla periodos y que es el archivo correcto")
    raise CambioDeVolumen(
        f"{que} trae {actual} filas; {ultima} {previo} ({_pct(variacion)}). El límite acordado para este "
        f"conjunto es {limite}, así que no se publicó nada.",
        ubicacion=Ubicacion(archivo=archivo),
        como_corregir=f"Verifique {revisar}, y cargue de nuevo el archivo corregido. Si el cambio es real, "
        "responda a este correo confirmándolo: el equipo de datos abiertos aceptará el cambio y publicará.",
        detalles={**report, "variacion_pct": round(variacion, 2)},
    )
