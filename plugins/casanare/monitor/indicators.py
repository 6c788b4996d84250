"""The plan's indicators (section 13) and the pending actions per dataset (section 10.2).

Input is one status row per catalog entry (``status_row``) and the registries; output is plain
numbers (stored daily, so the quarterly report can show quarter-on-quarter change) and the
breakdowns the dashboard draws.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from casanare.catalog import Dataset
from casanare.monitor.registries import Registros

# MinTIC criteria are graded 0–10; below this a dataset needs "Mejorar".
PUNTAJE_MINIMO = 8.0
TIPOS_PUBLICACION = {"articulo", "noticia"}

NOMBRES_INDICADORES: dict[str, str] = {
    "priorizados": "Conjuntos priorizados",
    "priorizados_publicados": "Conjuntos priorizados publicados",
    "priorizados_publicados_pct": "% de conjuntos estratégicos (priorizados) publicados",
    "conjuntos_inventario": "Conjuntos en el inventario",
    "conjuntos_publicados": "Conjuntos publicados",
    "dependencias_inventario": "Dependencias en el inventario",
    "dependencias_publicando": "Dependencias que abren datos",
    "dependencias_publicando_pct": "% de dependencias que abren datos",
    "puntaje_mintic_promedio": "Puntaje de calidad MinTIC promedio (0 a 10)",
    "solicitudes_apertura": "Solicitudes de apertura de datos",
    "solicitudes_atendidas": "Solicitudes de apertura atendidas (publicadas)",
    "conjuntos_descargados": "Conjuntos descargados al menos una vez",
    "descargados_vs_publicados_pct": "% de conjuntos publicados que han sido descargados",
    "descargas_totales": "Descargas totales (portal y sitio web)",
    "vistas_totales": "Vistas totales (portal y sitio web)",
    "usos_aplicaciones": "Aplicaciones generadas a partir de datos abiertos",
    "usos_publicaciones": "Publicaciones que usan los datos (artículos, noticias)",
    "usos_visualizaciones": "Visualizaciones que usan los datos",
    "hallazgos_abiertos": "Hallazgos abiertos",
    "conjuntos_al_dia": "Conjuntos al día",
    "conjuntos_vencidos": "Conjuntos vencidos",
    "conjuntos_con_deriva": "Conjuntos con metadatos distintos en el portal",
}


def _pct(part: int, whole: int) -> float | None:
    return round(part / whole * 100, 1) if whole else None


def is_published(ds: Dataset, row: dict[str, Any]) -> bool:
    """Published when the platform (or the portal) has data; inventory-only entries trust the inventory."""
    if row.get("ultimo_dato_nuevo"):
        return True
    return not ds.priorizado and ds.publicada


def compute(datasets: list[Dataset], rows: dict[str, dict[str, Any]], registros: Registros) -> dict[str, float | None]:
    """Every indicator as a number (None when it cannot be computed, e.g. no scores yet).

    Args:
        datasets: the whole catalog (the inventory), prioritized or not.
        rows: today's status row per slug (see ``status_row``); missing slugs count as unpublished.
        registros: solicitudes, usos and hallazgos.
    """
    published = [d for d in datasets if is_published(d, rows.get(d.slug, {}))]
    prioritized = [d for d in datasets if d.priorizado]
    prioritized_pub = [d for d in prioritized if d in published]
    deps = {d.dependencia for d in datasets}
    deps_pub = {d.dependencia for d in published}
    scores = [r["puntaje_mintic"] for r in rows.values() if isinstance(r.get("puntaje_mintic"), int | float)]
    downloaded = [d for d in published if (rows.get(d.slug, {}).get("descargas") or 0) > 0]
    usos = Counter(u.tipo for u in registros.usos)
    values: dict[str, float | None] = {
        "priorizados": len(prioritized),
        "priorizados_publicados": len(prioritized_pub),
        "priorizados_publicados_pct": _pct(len(prioritized_pub), len(prioritized)),
        "conjuntos_inventario": len(datasets),
        "conjuntos_publicados": len(published),
        "dependencias_inventario": len(deps),
        "dependencias_publicando": len(deps_pub),
        "dependencias_publicando_pct": _pct(len(deps_pub), len(deps)),
        "puntaje_mintic_promedio": round(sum(scores) / len(scores), 2) if scores else None,
        "solicitudes_apertura": len(registros.solicitudes),
        "solicitudes_atendidas": sum(s.estado == "publicada" for s in registros.solicitudes),
        "conjuntos_descargados": len(downloaded),
        "descargados_vs_publicados_pct": _pct(len(downloaded), len(published)),
        "descargas_totales": sum(r.get("descargas") or 0 for r in rows.values()),
        "vistas_totales": sum(r.get("vistas") or 0 for r in rows.values()),
        "usos_aplicaciones": usos["aplicacion"],
        "usos_publicaciones": sum(usos[t] for t in TIPOS_PUBLICACION),
        "usos_visualizaciones": usos["visualizacion"],
        "hallazgos_abiertos": sum(h.abierto for h in registros.hallazgos),
        "conjuntos_al_dia": sum(r.get("estado") == "al_dia" for r in rows.values()),
        "conjuntos_vencidos": sum(r.get("estado") == "vencido" for r in rows.values()),
        "conjuntos_con_deriva": sum(bool(r.get("deriva")) for r in rows.values()),
    }
    for level, count in sello_levels(rows).items():
        values[f"sello_{level}"] = count
    return values


def sello_levels(rows: dict[str, dict[str, Any]]) -> dict[str, int]:
    """How many datasets meet each Sello de Excelencia level found in the scorecards (``nivel_1``…)."""
    counts: Counter[str] = Counter()
    for row in rows.values():
        for level, ok in (row.get("sello") or {}).items():
            if level.startswith("nivel_") and isinstance(ok, bool):
                counts[level] += ok
    return dict(sorted(counts.items()))


def breakdowns(datasets: list[Dataset], rows: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Datasets per dependencia and per category: in the inventory and published."""
    result: dict[str, list[dict[str, Any]]] = {}
    for key in ("dependencia", "categoria"):
        inventory: Counter[str] = Counter()
        published: Counter[str] = Counter()
        for d in datasets:
            value = getattr(d, key)
            inventory[value] += 1
            published[value] += is_published(d, rows.get(d.slug, {}))
        result[key] = [{"valor": v, "inventario": inventory[v], "publicados": published[v]}
                       for v in sorted(inventory, key=str.casefold)]
    return result


def freshness_by_dependencia(datasets: list[Dataset], rows: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Prioritized datasets per dependencia and freshness state."""
    table: dict[str, Counter[str]] = {}
    for d in datasets:
        if d.priorizado:
            table.setdefault(d.dependencia, Counter())[rows.get(d.slug, {}).get("estado", "sin_publicar")] += 1
    return [{"dependencia": dep, **{e: table[dep][e] for e in ("al_dia", "por_vencer", "vencido", "sin_publicar")}}
            for dep in sorted(table, key=str.casefold)]


def pending_actions(ds: Dataset, row: dict[str, Any], registros: Registros) -> list[dict[str, str]]:
    """The plan's actions (10.2.1) still pending for one dataset, each with its reason."""
    actions: list[dict[str, str]] = []
    published = is_published(ds, row)
    if ds.priorizado and not published:
        motivo = "Priorizado y aún sin publicar"
        if row.get("en_gracia"):
            motivo += " (en periodo de gracia hasta su primera ejecución programada)"
        actions.append({"accion": "Abrir", "motivo": motivo + "."})
    if row.get("estado") == "vencido":
        motivo = ("Las ejecuciones funcionan pero la fuente no tiene datos nuevos desde hace más que su frecuencia."
                  if row.get("sin_datos_nuevos") else "Los datos superaron su frecuencia de actualización.")
        actions.append({"accion": "Actualizar", "motivo": motivo})
    elif row.get("estado") == "por_vencer":
        actions.append({"accion": "Actualizar", "motivo": "Los datos están por vencer: prepare la próxima entrega."})
    mejoras = []
    score = row.get("puntaje_mintic")
    if isinstance(score, int | float) and score < PUNTAJE_MINIMO:
        mejoras.append(f"puntaje de calidad {score:.1f} de 10 (meta {PUNTAJE_MINIMO:.0f})".replace(".", ","))
    if published and row.get("sello") and row["sello"].get("nivel_1") is False:
        mejoras.append("no cumple el nivel 1 del Sello de Excelencia")
    abiertos = sum(h.abierto and h.conjunto == ds.slug for h in registros.hallazgos)
    if abiertos:
        mejoras.append(f"{abiertos} hallazgo(s) abierto(s)")
    if row.get("deriva"):
        mejoras.append("metadatos del portal distintos del catálogo: " + ", ".join(x["campo"] for x in row["deriva"]))
    if mejoras:
        actions.append({"accion": "Mejorar", "motivo": "; ".join(mejoras).capitalize() + "."})
    if published:
        usos = sum(ds.slug in u.conjuntos for u in registros.usos)
        if not usos and not row.get("descargas_30d"):
            actions.append({"accion": "Usar", "motivo": "Sin usos registrados ni descargas en los últimos 30 días: "
                            "promuévalo (sección 12 del plan)."})
        elif not usos:
            actions.append({"accion": "Usar", "motivo": "Sin usos registrados (aplicaciones o publicaciones)."})
    return actions
