"""Quarterly follow-up of the plan (section 5) as ``.xlsx`` for the Comité Institucional de Gestión y Desempeño.

Sheets: ``Indicadores`` (this quarter, the previous one and the change), ``Estado de conjuntos``,
``Acciones pendientes`` (Abrir, Actualizar, Mejorar, Usar: section 10.2.1) and ``Hallazgos abiertos``.
Indicator values are the last ones stored in each quarter of the history database.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from casanare.monitor.indicators import NOMBRES_INDICADORES
from casanare.monitor.registries import Registros
from casanare.publish.site.downloads import neutralize_cell

HOJAS = ("Indicadores", "Estado de conjuntos", "Acciones pendientes", "Hallazgos abiertos")
ETIQUETAS_ESTADO = {"al_dia": "Al día", "por_vencer": "Por vencer", "vencido": "Vencido", "sin_publicar": "Sin publicar"}


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def report_name(day: date) -> str:
    year, quarter = quarter_of(day)
    return f"seguimiento-{year}-T{quarter}.xlsx"


def quarter_values(indicator_rows: list[dict[str, Any]], year: int, quarter: int) -> dict[str, float | None]:
    """Last stored value of each indicator within the quarter."""
    values: dict[str, float | None] = {}
    for row in sorted(indicator_rows, key=lambda r: r["fecha"]):
        if quarter_of(row["fecha"]) == (year, quarter):
            values[row["indicador"]] = row["valor"]
    return values


def indicator_table(indicator_rows: list[dict[str, Any]], day: date) -> list[dict[str, Any]]:
    """One line per indicator: current quarter, previous quarter, absolute and relative change."""
    year, quarter = quarter_of(day)
    now = quarter_values(indicator_rows, year, quarter)
    before = quarter_values(indicator_rows, *previous_quarter(year, quarter))
    lines = []
    for key in sorted(set(now) | set(before), key=lambda k: (list(NOMBRES_INDICADORES).index(k)
                                                          if k in NOMBRES_INDICADORES else 999, k)):
        current, previous = now.get(key), before.get(key)
        change = current - previous if current is not None and previous is not None else None
        pct = round(change / previous * 100, 1) if change is not None and previous else None
        lines.append({
            "clave": key,
            "indicador": NOMBRES_INDICADORES.get(key, key.replace("_", " ").capitalize()),
            "actual": current, "anterior": previous, "variacion": change, "variacion_pct": pct,
        })
    return lines


def build_report(snapshot: dict[str, Any], indicator_rows: list[dict[str, Any]], registros: Registros,
                 day: date) -> bytes:
    """The workbook's bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    year, quarter = quarter_of(day)
    prev_year, prev_quarter = previous_quarter(year, quarter)
    wb = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, headers: list[str], rows: list[list[Any]], first: bool = False) -> None:
        ws = wb.active if first else wb.create_sheet()
        ws.title = title
        ws.append(headers)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append([neutralize_cell(v) for v in row])
        ws.freeze_panes = "A2"
        for index, header in enumerate(headers, start=1):
            width = max([len(str(header))] + [len(str(r[index - 1])) for r in rows if r[index - 1] is not None])
            ws.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 10), 80)

    sheet(HOJAS[0],
          ["Indicador", f"{year}-T{quarter}", f"{prev_year}-T{prev_quarter}", "Variación", "Variación (%)"],
          [[r["indicador"], r["actual"], r["anterior"], r["variacion"], r["variacion_pct"]]
           for r in indicator_table(indicator_rows, day)], first=True)
    conjuntos = sorted(snapshot.get("conjuntos", {}).values(), key=lambda r: (r["dependencia"], r["nombre"]))
    sheet(HOJAS[1],
          ["Conjunto", "Dependencia", "Frecuencia", "Estado", "Último dato nuevo", "Vistas", "Descargas",
           "Descargas por vista", "Puntaje MinTIC", "Sello nivel 1", "Hallazgos abiertos"],
          [[r["nombre"], r["dependencia"], r["frecuencia"], r.get("etiqueta_estado") or ETIQUETAS_ESTADO[r["estado"]],
            (r.get("ultimo_dato_nuevo") or "")[:10] or None, r.get("vistas"), r.get("descargas"),
            (r.get("uso") or {}).get("descargas_por_vista"), r.get("puntaje_mintic"),
            {True: "Sí", False: "No"}.get(r.get("sello_nivel_1"), "Sin evaluar"), r.get("hallazgos_abiertos")]
           for r in conjuntos])
    sheet(HOJAS[2], ["Conjunto", "Dependencia", "Acción", "Motivo"],
          [[r["nombre"], r["dependencia"], a["accion"], a["motivo"]] for r in conjuntos for a in r.get("acciones", [])])
    names = {r["conjunto"]: r["nombre"] for r in conjuntos}
    sheet(HOJAS[3], ["Conjunto", "Fecha", "Descripción", "Estado", "Reportado por"],
          [[names.get(h.conjunto, h.conjunto), h.fecha.isoformat(), h.descripcion, h.estado.replace("_", " "), h.fuente]
           for h in sorted(registros.hallazgos, key=lambda h: (h.fecha, h.conjunto)) if h.abierto])
    wb.properties.title = f"Seguimiento trimestral del Plan de Datos Abiertos {year}-T{quarter}"
    wb.properties.creator = "Gobernación de Casanare - Plataforma de datos abiertos"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
