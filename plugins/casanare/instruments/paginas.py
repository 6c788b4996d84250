"""The transparency section of the website: one accessible page plus downloads per instrument."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from casanare.instruments.tablas import Hoja, csv_bytes, xlsx_bytes
from casanare.publish.site.schedule import bogota, fecha_larga

CARPETA = "transparencia"


@dataclass(frozen=True)
class Instrumento:
    """What one instrument page needs; ``archivo`` is the base name of its page and downloads."""

    archivo: str
    titulo: str
    resumen: str
    introduccion: list[str]
    hojas: list[Hoja]
    encabezado_fila: str = "nombre"
    columnas_enlace: tuple[str, ...] = ("enlaces",)
    con_csv: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    plantilla: str = "transparencia/instrumento.html"


def environment():
    """The website's Jinja environment (autoescaped, strict), shared with the dataset pages."""
    from casanare.publish.website import _env

    return _env()


def render_instrumento(env: Any, instrumento: Instrumento, *, generado: datetime) -> dict[str, bytes]:
    """The page and its downloads, keyed by path relative to the site root."""
    principal = instrumento.hojas[0]
    base = f"{CARPETA}/{instrumento.archivo}"
    files: dict[str, bytes] = {f"{base}.xlsx": xlsx_bytes(instrumento.hojas, titulo=instrumento.titulo)}
    descargas = [{"archivo": f"{instrumento.archivo}.xlsx", "etiqueta": "Descargar en Excel (XLSX)"}]
    if instrumento.con_csv:
        files[f"{base}.csv"] = csv_bytes(principal)
        descargas.append({"archivo": f"{instrumento.archivo}.csv", "etiqueta": "Descargar en CSV"})
    files[f"{base}.html"] = env.get_template(instrumento.plantilla).render(
        raiz="../", titulo=instrumento.titulo, introduccion=instrumento.introduccion,
        titulo_tabla=principal.nombre, columnas=principal.columnas, filas=list(principal.filas),
        encabezado_fila=instrumento.encabezado_fila, columnas_enlace=instrumento.columnas_enlace,
        descargas=descargas, generado=fecha_larga(generado),
        generado_iso=bogota(generado).isoformat(timespec="seconds"), **instrumento.extra,
    ).encode("utf-8")
    return files


def render_portada(env: Any, instrumentos: list[Instrumento], *, generado: datetime) -> bytes:
    """``transparencia/index.html``: the list of instruments with their downloads."""
    items = []
    for i in instrumentos:
        descargas = [{"archivo": f"{i.archivo}.xlsx", "etiqueta": "XLSX"}]
        if i.con_csv:
            descargas.append({"archivo": f"{i.archivo}.csv", "etiqueta": "CSV"})
        items.append({"pagina": f"{i.archivo}.html", "titulo": i.titulo, "resumen": i.resumen,
                      "filas": len(i.hojas[0].filas), "descargas": descargas})
    return env.get_template("transparencia/index.html").render(
        raiz="../", instrumentos=items, generado=fecha_larga(generado),
        generado_iso=bogota(generado).isoformat(timespec="seconds"),
    ).encode("utf-8")
