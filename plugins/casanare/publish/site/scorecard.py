"""The quality scorecard shown on a dataset page, read defensively.

Two sources, both optional: ``casanare.quality.scorecard.latest_scorecard(staging_url, slug)``
(the MinTIC criteria scorecard) and the run manifest's ``validar`` stage (the GX suite results).
Whatever is missing or malformed becomes "sin evaluación" instead of failing the publication.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

_SCORE_KEYS = ("promedio", "puntaje_total", "puntaje", "calificacion", "porcentaje", "score")
# MinTIC criteria names (casanare.quality.scorecard) as citizens read them.
NOMBRES_CRITERIOS = {
    "accesibilidad": "Accesibilidad", "actualidad": "Actualidad", "completitud": "Completitud",
    "comprensibilidad": "Comprensibilidad", "confidencialidad": "Confidencialidad", "conformidad": "Conformidad",
    "consistencia": "Consistencia", "credibilidad": "Credibilidad", "disponibilidad": "Disponibilidad",
    "eficiencia": "Eficiencia", "exactitud": "Exactitud", "portabilidad": "Portabilidad", "precision": "Precisión",
    "recuperabilidad": "Recuperabilidad", "relevancia": "Relevancia", "trazabilidad": "Trazabilidad",
    "unicidad": "Unicidad",
}
# The MinTIC scorecard grades every criterion from 0 to 10.
ESCALA_MINTIC = 10
_NAME_KEYS = ("nombre", "criterio", "titulo", "descripcion", "id")
_VALUE_KEYS = ("puntaje", "valor", "resultado", "calificacion", "cumple", "exito", "score")


def latest_scorecard(staging_url: str, slug: str) -> dict[str, Any] | None:
    """The quality module's latest scorecard, or None if the module, function or data is absent."""
    try:
        from casanare.quality import scorecard as module
    except Exception:
        return None
    reader = getattr(module, "latest_scorecard", None)
    if not callable(reader):
        return None
    try:
        result = reader(staging_url, slug)
    except Exception as exc:
        log.warning("No se pudo leer la evaluación de calidad de %s: %s", slug, type(exc).__name__)
        return None
    if hasattr(result, "model_dump"):
        result = result.model_dump(mode="json")
    return result if isinstance(result, dict) else None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "Cumple" if value else "No cumple"
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    return str(value)


def _outcome(value: Any) -> str | None:
    if isinstance(value, dict):
        if value.get("estado") == "no_medible":
            return "No medible aquí" + (f": {value['motivo']}" if value.get("motivo") else "")
        value = next((value[k] for k in _VALUE_KEYS if k in value and value[k] is not None), None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{_text(value)} de {ESCALA_MINTIC}"
    if value is None or isinstance(value, list | dict):
        return None
    return _text(value)


def _criteria(raw: Any) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    if isinstance(raw, dict):
        for name, value in raw.items():
            outcome = _outcome(value)
            if outcome is not None:
                label = NOMBRES_CRITERIOS.get(str(name), str(name).replace("_", " ").capitalize())
                rows.append({"criterio": label, "resultado": outcome})
    elif isinstance(raw, list):
        for item in raw:
            if not isinstance(item, dict):
                continue
            name = next((item[k] for k in _NAME_KEYS if item.get(k) not in (None, "")), None)
            value = next((item[k] for k in _VALUE_KEYS if k in item and item[k] is not None), None)
            if name is None or value is None or isinstance(value, list | dict):
                continue
            rows.append({"criterio": str(name), "resultado": _text(value)})
    return rows


def scorecard_view(scorecard: dict[str, Any] | None, validation: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the page shows: a headline, criterion rows and the validation rules' summary.

    Returns None when neither source has anything usable (the page says "sin evaluación").
    """
    view: dict[str, Any] = {"puntaje": None, "criterios": [], "reglas": None, "sello": None, "fecha": None}
    from casanare.publish.site.perfil import perfil_view

    # This run's scorecard (validar stage) is newer than the last stored one.
    if isinstance(validation, dict) and isinstance(validation.get("puntaje_mintic"), dict):
        scorecard = validation["puntaje_mintic"]
    if isinstance(scorecard, dict):
        key = next((k for k in _SCORE_KEYS if isinstance(scorecard.get(k), int | float)
                    and not isinstance(scorecard.get(k), bool)), None)
        if key is not None:
            view["puntaje"] = _text(scorecard[key])
            maximum = scorecard.get("puntaje_maximo") or scorecard.get("maximo")
            if key == "promedio" and maximum is None:
                maximum = ESCALA_MINTIC
            if isinstance(maximum, int | float) and not isinstance(maximum, bool):
                view["puntaje"] += f" de {_text(maximum)}"
        view["criterios"] = _criteria(scorecard.get("criterios") or scorecard.get("criteria"))
        seal = scorecard.get("sello_excelencia")
        if isinstance(seal, dict) and isinstance(seal.get("nivel_1"), bool):
            view["sello"] = seal["nivel_1"]
        if isinstance(scorecard.get("fecha"), str):
            view["fecha"] = scorecard["fecha"]
        view["perfil"] = perfil_view(scorecard)
    if isinstance(validation, dict) and isinstance(validation.get("evaluadas"), int):
        evaluated = validation["evaluadas"]
        failed = validation.get("fallidas") if isinstance(validation.get("fallidas"), int) else 0
        rules = []
        for row in validation.get("resultados") or []:
            if isinstance(row, dict) and row.get("descripcion"):
                ok = bool(row.get("exito"))
                outcome = "Cumple" if ok else (
                    "No cumple (crítica)" if row.get("severidad") == "critical" else "No cumple (advertencia)"
                )
                rules.append({"regla": str(row["descripcion"]), "columna": row.get("columna") or "",
                              "resultado": outcome})
        view["reglas"] = {"evaluadas": evaluated, "cumplidas": max(evaluated - failed, 0), "detalle": rules}
    if view["puntaje"] is None and not view["criterios"] and view["reglas"] is None and view["sello"] is None:
        return None
    return view
