"""Corpus of malformed departmental sources, generated into a folder on demand.

Each ``Caso`` writes one broken source (or none, for a missing file), declares the catalog
source options it needs and says exactly how ``extraer`` must fail: exception class, location
(archivo / hoja / filas / columna) and a piece of the Spanish message. The bad cell values are
listed in ``secretos`` so tests can check that no message ever repeats them.

Kept as a generator (not committed binaries) so the corpus is reviewable and reproducible.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casanare.catalog import Dataset
from casanare.errors import ArchivoConErrores, DatosAbiertosError, FuenteNoEncontrada

# A small catalog entry in the shape of the real ones: one column of each type, personal data.
COLUMNAS: list[dict[str, Any]] = [
    {"nombre": "id_registro", "tipo": "entero", "descripcion": "Consecutivo", "clasificacion": "publica",
     "regla": "publicar", "requerido": True, "alias": ["ID", "Consecutivo"]},
    {"nombre": "documento", "tipo": "texto", "descripcion": "Documento", "clasificacion": "publica",
     "regla": "seudonimizar", "dato_personal": "cedula", "nombre_publicado": "id_persona",
     "alias": ["Número de documento", "Nro. Documento"]},
    {"nombre": "nombre", "tipo": "texto", "descripcion": "Nombre completo", "clasificacion": "clasificada",
     "regla": "eliminar", "dato_personal": "nombre", "alias": ["Nombres y apellidos"]},
    {"nombre": "municipio", "tipo": "texto", "descripcion": "Municipio", "clasificacion": "publica",
     "regla": "publicar", "requerido": True, "alias": ["Código del municipio", "Cod. DANE"]},
    {"nombre": "valor", "tipo": "decimal", "descripcion": "Valor pagado", "clasificacion": "publica",
     "regla": "publicar", "alias": ["Valor ($)"]},
    {"nombre": "fecha", "tipo": "fecha", "descripcion": "Fecha del registro", "clasificacion": "publica",
     "regla": "publicar", "alias": ["Fecha de atención"]},
    {"nombre": "vacunado", "tipo": "booleano", "descripcion": "Tiene esquema completo", "clasificacion": "publica",
     "regla": "publicar", "alias": ["¿Vacunado?"]},
]
HEADERS = ["ID", "Número de documento", "Nombres y apellidos", "Código del municipio", "Valor ($)",
           "Fecha de atención", "¿Vacunado?"]


def fila(i: int) -> list[Any]:
    """One valid data row in Spanish formats (all values fictitious)."""
    return [str(i), f"10{i:08d}", f"PERSONA FICTICIA {i}", "85001", f"{i}.234,5{i % 10}",
            f"{(i % 28) + 1:02d}/03/2024", "SI" if i % 2 else "No"]


def filas(n: int = 5) -> list[list[Any]]:
    return [fila(i) for i in range(1, n + 1)]


def dataset(**fuente: Any) -> Dataset:
    """A prioritized catalog entry whose source is a file (``ruta`` etc. from ``fuente``)."""
    data = {
        "slug": "prueba_extraccion", "nombre": "Conjunto de prueba de extracción",
        "descripcion": "Conjunto construido en las pruebas de la etapa de extracción.",
        "dependencia": "Secretaría de Salud", "tipologia": "Social", "categoria": "Salud y Protección Social",
        "ambito_geografico": "Departamental", "fuente_primaria": True, "evidencia_solicitud": ["Ciudadanos"],
        "soporte": "digital", "frecuencia_generacion": "mensual", "frecuencia_actualizacion": "mensual",
        "disponible": True, "publicada": False, "ubicacion": "Carpeta compartida", "priorizado": True,
        "contactos": ["salud@casanare.gov.co"],
        "fuente": {"tipo": "archivo", **fuente},
        "columnas": COLUMNAS,
        "datos_gov_co": {"dataset_id": "test-0001", "identificador_fila": "id_registro"},
        "casanare_gov_co": {"ruta": "prueba"},
    }
    return Dataset.model_validate(data)


# Writers --------------------------------------------------------------------------------------

def write_csv(path: Path, rows: list[list[Any]], *, sep: str = ",", encoding: str = "utf-8") -> None:
    import csv

    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=sep).writerows(rows)


def write_xlsx(path: Path, rows: list[list[Any]], *, sheet: str = "Datos", extra_sheets: tuple[str, ...] = (),
               hidden: tuple[str, ...] = ()) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    for letter in hidden:
        ws.column_dimensions[letter].hidden = True
    for name in extra_sheets:
        wb.create_sheet(name)
    wb.save(path)


def write_ods(path: Path, rows: list[list[Any]], *, sheet: str = "Datos") -> None:
    import pandas as pd

    frame = pd.DataFrame(rows[1:], columns=rows[0])
    with pd.ExcelWriter(path, engine="odf") as writer:
        frame.to_excel(writer, sheet_name=sheet, index=False)


def write_xls(path: Path, rows: list[list[Any]], *, sheet: str = "Datos") -> None:
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    wb.save(str(path))


def with_cell(rows: list[list[Any]], row: int, col: int, value: Any) -> list[list[Any]]:
    """Copy of ``rows`` with one cell replaced (``row`` is the 0-based index in ``rows``)."""
    out = [list(r) for r in rows]
    out[row][col] = value
    return out


# The corpus -----------------------------------------------------------------------------------

@dataclass
class Caso:
    """One malformed source and the failure it must produce."""

    id: str
    archivo: str
    escribir: Callable[[Path], None] | None
    error: type[DatosAbiertosError]
    mensaje: str
    hoja: str | None = None
    filas: list[int] = field(default_factory=list)
    columna: str | None = None
    fuente: dict[str, Any] = field(default_factory=dict)
    secretos: list[str] = field(default_factory=list)
    como_corregir: str = ""


def _truncated_xlsx(path: Path) -> None:
    write_xlsx(path, [HEADERS, *filas(50)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _password_like_xlsx(path: Path) -> None:
    # A zip that is not an OOXML package (what a renamed .zip or a half-synced upload looks like).
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("leame.txt", "no es una hoja de cálculo")


def _mixed_encoding_csv(path: Path, rows: list[list[Any]], bad_row: int) -> None:
    """UTF-8 file with one record pasted from a cp1252 (Windows) export."""
    lines = [",".join(r).encode("cp1252" if i == bad_row else "utf-8") for i, r in enumerate(rows)]
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")


def _csv_text(rows: list[list[Any]], sep: str = ",") -> str:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _cut_mid_row_unquoted(path: Path) -> None:
    """A `;` budget export cut in the middle of the last amount (``170.502.583,73`` → ``170``)."""
    text = _csv_text([HEADERS, *filas(9)], sep=";")
    text += ";".join(fila(10)[:4]) + ";170"
    path.write_text(text, encoding="utf-8")


def _cut_mid_row_quoted(path: Path) -> None:
    rows = [HEADERS, *filas(9)]
    text = "\r\n".join(",".join(f'"{c}"' for c in r) for r in rows) + "\r\n"
    path.write_text(text + '"10","1000000010","PERSONA FICTI', encoding="utf-8")


def _fewer_fields_last(path: Path) -> None:
    path.write_text(_csv_text([HEADERS, *filas(9), fila(10)[:3]]), encoding="utf-8")


def _semicolon_utf8_declared_comma(path: Path) -> None:
    """Excel es-CO "CSV UTF-8": BOM, `;`, quoted texts, decimal commas."""
    rows = [HEADERS, *filas(6)]
    text = "\r\n".join(";".join(f'"{c}"' if i == 2 else c for i, c in enumerate(r)) for r in rows) + "\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))


def _mixed_number_formats(path: Path) -> None:
    rows = [HEADERS, *filas(8)]
    rows = with_cell(rows, 3, 4, "1,234.50")
    write_csv(path, rows)


CASOS: list[Caso] = [
    Caso("csv_cortado_a_mitad_de_fila_sin_comillas", "presupuesto.csv", _cut_mid_row_unquoted, ArchivoConErrores,
         "parece cortado", filas=[11], como_corregir="Exporte de nuevo el archivo completo"),
    Caso("csv_cortado_a_mitad_de_fila_con_comillas", "citado.csv", _cut_mid_row_quoted, ArchivoConErrores,
         "parece cortado", filas=[11]),
    Caso("csv_ultima_fila_con_menos_campos", "corto.csv", _fewer_fields_last, ArchivoConErrores,
         "la última fila tiene 3 de los 7 campos", filas=[11]),
    Caso("csv_punto_y_coma_con_coma_declarada", "excel_es_co.csv", _semicolon_utf8_declared_comma,
         ArchivoConErrores, "separa las columnas con punto y coma", filas=[1], fuente={"delimitador": ","}),
    Caso("csv_numero_con_formato_contrario", "formatos.csv", _mixed_number_formats, ArchivoConErrores,
         "formato numérico distinto", filas=[4], columna="valor", secretos=["1,234.50"],
         como_corregir="1.234.567,89"),

    Caso("archivo_inexistente", "no_existe.csv", None, FuenteNoEncontrada, "No se encontró el archivo fuente",
         como_corregir="no_existe.csv"),
    Caso("csv_vacio", "vacio.csv", lambda p: p.write_bytes(b""), ArchivoConErrores, "El archivo está vacío"),
    Caso("csv_solo_espacios", "espacios.csv", lambda p: p.write_bytes(b"  \r\n\r\n \t\n"), ArchivoConErrores,
         "El archivo está vacío"),
    Caso("csv_solo_encabezado", "encabezado.csv", lambda p: write_csv(p, [HEADERS]), ArchivoConErrores,
         "no tiene filas de datos", filas=[1]),
    Caso("csv_falta_columna_requerida", "sin_id.csv",
         lambda p: write_csv(p, [r[1:] for r in [HEADERS, *filas()]]), ArchivoConErrores,
         "Falta la columna obligatoria id_registro", filas=[1], columna="id_registro", como_corregir='"ID"'),
    Caso("csv_columna_renombrada", "renombrada.csv",
         lambda p: write_csv(p, [with_cell([HEADERS], 0, 3, "Mpio")[0], *filas()], sep=";"), ArchivoConErrores,
         "Falta la columna obligatoria municipio", filas=[1], columna="municipio",
         como_corregir='"Código del municipio"'),
    Caso("csv_encabezado_duplicado", "duplicado.csv",
         lambda p: write_csv(p, [[*HEADERS, "valor ($)"], *[[*r, "1"] for r in filas()]]), ArchivoConErrores,
         "aparece dos veces", filas=[1], columna="valor ($)"),
    Caso("csv_entero_invalido", "entero.csv",
         lambda p: write_csv(p, with_cell(with_cell([HEADERS, *filas(8)], 2, 0, "12a"), 4, 0, "tres")),
         ArchivoConErrores, "2 valor(es) que no se pueden leer como entero", filas=[3, 5], columna="id_registro",
         secretos=["12a", "tres"]),
    Caso("csv_fecha_invalida", "fecha.csv",
         lambda p: write_csv(p, with_cell(with_cell([HEADERS, *filas(8)], 3, 5, "31/02/2024"), 7, 5, "ayer")),
         ArchivoConErrores, "como fecha en la columna fecha", filas=[4, 8], columna="fecha",
         secretos=["31/02/2024", "ayer"], como_corregir="15/03/2024"),
    Caso("csv_decimal_invalido", "decimal.csv",
         lambda p: write_csv(p, with_cell([HEADERS, *filas(6)], 6, 4, "$ mil doscientos")),
         ArchivoConErrores, "1 valor(es) que no se pueden leer como decimal", filas=[7], columna="valor",
         secretos=["mil doscientos"]),
    Caso("csv_booleano_invalido", "booleano.csv",
         lambda p: write_csv(p, with_cell([HEADERS, *filas(6)], 2, 6, "TAL VEZ"), sep="|"),
         ArchivoConErrores, "como booleano en la columna vacunado", filas=[3], columna="vacunado",
         secretos=["TAL VEZ"], como_corregir="SI o NO"),
    Caso("csv_filas_en_blanco_no_corren_numeracion", "blancos.csv",
         lambda p: write_csv(p, [HEADERS, fila(1), [], fila(2), ["", ""], with_cell([fila(3)], 0, 0, "x9")[0]]),
         ArchivoConErrores, "como entero", filas=[6], columna="id_registro", secretos=["x9"]),
    Caso("csv_comillas_sin_cerrar", "comillas.csv",
         lambda p: p.write_text(",".join(HEADERS) + "\n" + ",".join(fila(1)).replace("85001", '"85001') + "\n"
                                + ",".join(fila(2)) + "\n", encoding="utf-8"),
         ArchivoConErrores, "comillas sin cerrar", filas=[2]),
    Caso("csv_codificacion_declarada_incorrecta", "codificacion.csv",
         lambda p: _mixed_encoding_csv(p, with_cell([HEADERS, *filas(6)], 4, 2, "MUÑOZ PEÑA"), bad_row=4),
         ArchivoConErrores, "mezcla codificaciones", filas=[5], fuente={"codificacion": "utf-8"},
         secretos=["MUÑOZ", "PEÑA"]),
    Caso("csv_que_es_una_hoja_de_calculo", "exportado.csv", lambda p: write_xlsx(p, [HEADERS, *filas()]),
         ArchivoConErrores, "no es un texto delimitado"),
    Caso("formato_no_soportado", "reporte.pdf", lambda p: p.write_bytes(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n"),
         ArchivoConErrores, "no está soportado"),
    Caso("xlsx_hoja_inexistente", "hoja.xlsx",
         lambda p: write_xlsx(p, [HEADERS, *filas()], sheet="Hoja1", extra_sheets=("Resumen",)),
         ArchivoConErrores, 'No existe la hoja "Datos"', hoja="Datos", fuente={"hoja": "Datos"},
         como_corregir='"Hoja1", "Resumen"'),
    Caso("xlsx_indice_de_hoja_fuera_de_rango", "indice.xlsx", lambda p: write_xlsx(p, [HEADERS, *filas()]),
         ArchivoConErrores, 'No existe la hoja "3"', hoja="3", fuente={"hoja": 3}),
    Caso("xlsx_truncado", "truncado.xlsx", _truncated_xlsx, ArchivoConErrores, "dañado"),
    Caso("xlsx_que_no_es_excel", "falso.xlsx", _password_like_xlsx, ArchivoConErrores, "dañado"),
    Caso("xlsx_texto_con_extension_excel", "texto.xlsx", lambda p: write_csv(p, [HEADERS, *filas()]),
         ArchivoConErrores, "dañado"),
    Caso("xlsx_hoja_vacia", "vacia.xlsx", lambda p: write_xlsx(p, [], extra_sheets=("Otra",)), ArchivoConErrores,
         "La hoja está vacía", hoja="Datos"),
    Caso("xlsx_titulos_y_entero_invalido", "titulos.xlsx",
         lambda p: write_xlsx(p, [["GOBERNACIÓN DE CASANARE"], ["Reporte mensual — corte marzo"], [],
                                  HEADERS, *with_cell(filas(6), 3, 0, "sin número")]),
         ArchivoConErrores, "como entero", hoja="Datos", filas=[8], columna="id_registro", secretos=["sin número"]),
    Caso("xlsx_encabezado_en_fila_vacia", "fila.xlsx", lambda p: write_xlsx(p, [HEADERS, *filas()]),
         ArchivoConErrores, "No se encontró el encabezado", hoja="Datos", filas=[20],
         fuente={"fila_encabezado": 20}),
    Caso("xlsx_dos_filas_falta_requerida", "dos_filas.xlsx",
         lambda p: write_xlsx(p, [["Registro", None, "Persona", None, "Pago", None, None],
                                  ["Consecutivo", "Nro. Documento", "Nombres y apellidos", "Municipio de atención",
                                   "Valor ($)", "Fecha de atención", "¿Vacunado?"], *filas()]),
         ArchivoConErrores, "Falta la columna obligatoria municipio", hoja="Datos", filas=[2], columna="municipio",
         fuente={"filas_encabezado": 2}),
    Caso("xlsx_columna_requerida_oculta", "oculta.xlsx",
         lambda p: write_xlsx(p, [HEADERS, *filas()], hidden=("D",)),
         ArchivoConErrores, "Falta la columna obligatoria municipio", hoja="Datos", filas=[1], columna="municipio"),
    Caso("ods_fecha_invalida", "eventos.ods",
         lambda p: write_ods(p, with_cell([HEADERS, *filas(5)], 5, 5, "mañana")), ArchivoConErrores,
         "como fecha", hoja="Datos", filas=[6], columna="fecha", secretos=["mañana"]),
    Caso("ods_corrupto", "roto.ods", lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00" * 200), ArchivoConErrores,
         "dañado"),
    Caso("xls_corrupto", "roto.xls", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 600),
         ArchivoConErrores, "dañado"),
    Caso("xls_hoja_inexistente", "eva.xls", lambda p: write_xls(p, [HEADERS, *filas()], sheet="EVA 2024"),
         ArchivoConErrores, 'No existe la hoja "EVA"', hoja="EVA", fuente={"hoja": "EVA"},
         como_corregir='"EVA 2024"'),
]


def construir(caso: Caso, carpeta: Path) -> Dataset:
    """Write ``caso``'s source into ``carpeta`` and return the catalog entry that reads it."""
    path = carpeta / caso.archivo
    if caso.escribir is not None:
        caso.escribir(path)
    return dataset(ruta=str(path), **caso.fuente)


if __name__ == "__main__":  # pragma: no cover - python -m tests.malformed_corpus <carpeta>
    import sys

    destino = Path(sys.argv[1] if len(sys.argv) > 1 else "malformados")
    destino.mkdir(parents=True, exist_ok=True)
    for caso in CASOS:
        construir(caso, destino)
    print(f"{len(CASOS)} fuentes malformadas escritas en {destino}")
