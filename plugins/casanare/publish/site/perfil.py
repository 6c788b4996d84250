"""The LEILA-level column profile of the scorecard as the dataset page shows it (counts only)."""

from __future__ import annotations

from typing import Any


def _pct(value: Any) -> str:
    return f"{value:.1f} %".replace(".", ",") if isinstance(value, int | float) else "—"


def perfil_view(scorecard: dict[str, Any] | None) -> dict[str, Any] | None:
    """Rows per published column and the duplicates summary; None when the scorecard has no profile."""
    perfil = (scorecard or {}).get("perfil_columnas")
    if not isinstance(perfil, dict) or not perfil:
        return None
    filas = []
    for columna, p in perfil.items():
        if not isinstance(p, dict):
            continue
        mezcla = p.get("mezcla_tipos") or {}
        avisos = []
        if p.get("constante"):
            avisos.append("un solo valor")
        elif p.get("casi_constante"):
            avisos.append("casi constante")
        if p.get("valores_fuera_de_tipo"):
            avisos.append(f"{p['valores_fuera_de_tipo']} valores fuera del tipo declarado")
        filas.append({
            "columna": str(columna),
            "faltantes": _pct(p.get("faltantes_pct")),
            "distintos": p.get("distintos", "—"),
            "tipo": p.get("tipo_inferido", "—"),
            "mezcla": ", ".join(f"{k}: {v}" for k, v in mezcla.items()) or "—",
            "atipicos": p["atipicos_iqr"] if isinstance(p.get("atipicos_iqr"), int) else "—",
            "avisos": "; ".join(avisos) or "—",
        })
    dup = (scorecard or {}).get("duplicados") or {}
    return {"filas": filas, "duplicados": dup if isinstance(dup, dict) else {}}
