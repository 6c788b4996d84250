"""The public control dashboard ("tablero de control", CONPES 3920) on the website's open-data section.

Static files only, rendered server-side: ``tablero/index.html`` with four SVG charts (each with
its data table), ``tablero/monitoreo.json`` (the same numbers as open data), per dataset a small
panel page (``tablero/conjuntos/<ruta>.html``, embedded in the dataset's page) and its JSON, and
the quarterly report under ``tablero/seguimiento/``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from casanare.monitor.freshness import ETIQUETAS
from casanare.monitor.indicators import NOMBRES_INDICADORES
from casanare.monitor.registries import Registros
from casanare.publish.site import charts
from casanare.publish.site.monitor_panel import report_mailto

CARPETA = "tablero"
ESTADOS = ("al_dia", "por_vencer", "vencido", "sin_publicar")
TIPOS_USO = {"aplicacion": "Aplicación", "articulo": "Artículo o investigación", "noticia": "Noticia",
             "visualizacion": "Visualización"}


def _num(value: Any) -> str:
    if value is None:
        return "—"
    return charts.format_number(value)


def _date_text(value: str | None) -> str:
    if not value:
        return "—"
    from casanare.publish.site.schedule import fecha_larga

    return fecha_larga(datetime.fromisoformat(value))


def freshness_chart(snapshot: dict[str, Any]) -> charts.Chart:
    items = [(r["dependencia"], [r[e] for e in ESTADOS]) for r in snapshot["frescura_por_dependencia"]]
    return charts.stacked_bar_chart(
        items, series=[ETIQUETAS[e] for e in ESTADOS], label_header="Dependencia",
        title="Frescura de los conjuntos priorizados por dependencia",
        description="Cuántos conjuntos de cada dependencia están al día, por vencer, vencidos o sin publicar, "
        "según la llegada de datos nuevos frente a su frecuencia declarada.",
    )


def use_series(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Views and downloads of all datasets per day (cumulative portal + website totals)."""
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: {"vistas": 0, "descargas": 0})
    for r in rows:
        day = per_day[r["fecha"]]
        day["vistas"] += sum(v for v in (r.get("vistas_portal"), r.get("vistas_sitio")) if isinstance(v, int))
        day["descargas"] += sum(v for v in (r.get("descargas_portal"), r.get("descargas_sitio")) if isinstance(v, int))
    return [{"fecha": d, **per_day[d]} for d in sorted(per_day)]


def use_chart(series: list[dict[str, Any]]) -> charts.Chart:
    return charts.line_chart(
        [(s["fecha"].isoformat(), s["descargas"]) for s in series],
        title="Uso en el tiempo: descargas acumuladas", label_header="Fecha", value_header="Descargas acumuladas",
        description="Descargas acumuladas de todos los conjuntos (portal datos.gov.co y sitio web) en cada "
        "día de monitoreo.",
    )


def score_chart(snapshot: dict[str, Any]) -> charts.Chart:
    scored = sorted(((r["nombre"], r["puntaje_mintic"]) for r in snapshot["conjuntos"].values()
                     if isinstance(r.get("puntaje_mintic"), int | float)), key=lambda p: (-p[1], p[0]))
    return charts.bar_chart(
        scored, title="Puntaje de calidad MinTIC por conjunto", label_header="Conjunto",
        value_header="Puntaje (0 a 10)",
        description="Promedio de los criterios de la Guía de calidad de MinTIC medidos en la última publicación "
        "de cada conjunto, de 0 a 10.",
    )


def published_chart(snapshot: dict[str, Any]) -> charts.Chart:
    items = [(r["valor"], [r["publicados"], r["inventario"] - r["publicados"]])
             for r in snapshot["desgloses"]["dependencia"]]
    return charts.stacked_bar_chart(
        items, series=["Publicados", "En inventario sin publicar"], label_header="Dependencia",
        title="Conjuntos publicados frente al inventario, por dependencia",
        description="De los conjuntos del inventario de activos de información de cada dependencia, cuántos "
        "están publicados como datos abiertos.",
    )


def dataset_rows(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-dataset table of the dashboard, formatted for reading."""
    out = []
    for r in sorted(snapshot["conjuntos"].values(), key=lambda r: (r["dependencia"].casefold(), r["nombre"].casefold())):
        uso = r.get("uso") or {}
        tendencia = uso.get("tendencia_30d")
        out.append({
            **r,
            "ultimo_dato_texto": _date_text(r.get("ultimo_dato_nuevo")),
            "vence_texto": _date_text(r.get("vence")),
            "vistas_texto": _num(r.get("vistas")),
            "descargas_texto": _num(r.get("descargas")),
            "por_vista_texto": _num(uso.get("descargas_por_vista")),
            "descargas_30d_texto": _num(uso.get("descargas_30d")),
            "tendencia_texto": "—" if tendencia is None else f"{tendencia:+.1f} %".replace(".", ","),
            "puntaje_texto": _num(r.get("puntaje_mintic")),
            "sello_texto": {True: "Cumple", False: "No cumple"}.get(r.get("sello_nivel_1"), "Sin evaluar"),
            "pagina": f"../conjuntos/{r['ruta']}/" if r.get("ruta") and r.get("ultimo_dato_nuevo") else None,
        })
    return out


def panel_entry(row: dict[str, Any], snapshot: dict[str, Any]) -> dict[str, Any]:
    """What the dataset page's small use and freshness panel shows (no personal data, no values)."""
    uso = row.get("uso") or {}
    return {
        "conjunto": row["conjunto"],
        "fecha_monitoreo": snapshot["fecha"],
        "estado": row["estado"],
        "etiqueta_estado": row["etiqueta_estado"],
        "ultimo_dato_nuevo": row.get("ultimo_dato_nuevo"),
        "vistas": row.get("vistas"),
        "descargas": row.get("descargas"),
        "descargas_30d": uso.get("descargas_30d"),
        "descargas_por_vista": uso.get("descargas_por_vista"),
        "tendencia_30d": uso.get("tendencia_30d"),
        "vistas_pagina_portal": row.get("vistas_pagina_portal"),
    }


def render_dashboard(env: Any, snapshot: dict[str, Any], history_rows: list[dict[str, Any]], registros: Registros,
                     *, reports: list[str]) -> dict[str, bytes]:
    """Every dashboard file, keyed by its path relative to the site root."""
    series = use_series(history_rows)
    values = snapshot["indicadores"]
    indicadores = [{"clave": k, "nombre": NOMBRES_INDICADORES[k], "valor": _num(values.get(k))}
                   for k in NOMBRES_INDICADORES if k in values]
    sellos = [{"nivel": k.removeprefix("sello_").replace("_", " "), "valor": _num(v)}
              for k, v in sorted(values.items()) if k.startswith("sello_")]
    solicitudes: dict[str, int] = defaultdict(int)
    for s in registros.solicitudes:
        solicitudes[s.tipo_solicitante.replace("_", " ")] += 1
    rows = dataset_rows(snapshot)
    names = {r["conjunto"]: r["nombre"] for r in rows}
    html = env.get_template("tablero.html").render(
        raiz="../",
        fecha=snapshot["fecha"],
        generado=_date_text(snapshot["generado"]),
        indicadores=indicadores,
        sellos=sellos,
        graficos={
            "frescura": freshness_chart(snapshot),
            "uso": use_chart(series),
            "calidad": score_chart(snapshot),
            "publicados": published_chart(snapshot),
        },
        frescura=snapshot["frescura_por_dependencia"],
        etiquetas=ETIQUETAS,
        estados=ESTADOS,
        serie_uso=[{"fecha": s["fecha"].isoformat(), "vistas": _num(s["vistas"]), "descargas": _num(s["descargas"])}
                   for s in series],
        publicados=snapshot["desgloses"]["dependencia"],
        categorias=snapshot["desgloses"]["categoria"],
        conjuntos=rows,
        deriva=[r for r in rows if r.get("deriva")],
        hallazgos=[{"conjunto": names.get(h.conjunto, h.conjunto), "fecha": h.fecha.isoformat(),
                    "descripcion": h.descripcion, "estado": h.estado.replace("_", " ")}
                   for h in sorted(registros.hallazgos, key=lambda h: h.fecha, reverse=True) if h.abierto],
        usos=[{"nombre": u.nombre, "url": str(u.url), "tipo": TIPOS_USO[u.tipo],
               "conjuntos": ", ".join(names.get(c, c) for c in u.conjuntos)} for u in registros.usos],
        solicitudes=sorted(solicitudes.items()),
        total_solicitudes=len(registros.solicitudes),
        registro_acceso=snapshot.get("registro_acceso"),
        informes=sorted(reports, reverse=True),
        reportar=report_mailto("Tablero de control", "tablero"),
    ).encode("utf-8")
    files = {f"{CARPETA}/index.html": html}
    open_data = {k: snapshot[k] for k in ("fecha", "generado", "indicadores", "desgloses", "frescura_por_dependencia")}
    open_data["conjuntos"] = [panel_entry(r, snapshot) | {"nombre": r["nombre"], "dependencia": r["dependencia"],
                                                          "puntaje_mintic": r.get("puntaje_mintic")}
                              for r in rows]
    files[f"{CARPETA}/monitoreo.json"] = json.dumps(open_data, ensure_ascii=False, indent=1).encode("utf-8")
    panel = env.get_template("panel_conjunto.html")
    for r in rows:
        if r.get("ruta"):
            files[f"{CARPETA}/conjuntos/{r['ruta']}.json"] = json.dumps(
                panel_entry(r, snapshot), ensure_ascii=False).encode("utf-8")
            files[f"{CARPETA}/conjuntos/{r['ruta']}.html"] = panel.render(
                c=r, fecha=snapshot["fecha"], registro_acceso=snapshot.get("registro_acceso")).encode("utf-8")
    return files
