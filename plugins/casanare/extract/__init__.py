"""Extract stage: read the departmental source, type every column, archive the original.

``extraer`` writes ``extraido.parquet`` (catalog column names, declared types) into the run
area, streaming chunk by chunk so a large CSV or SQL table is never held in memory whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from casanare.catalog import Dataset, FuenteArchivo, FuenteSQL
from casanare.errors import ArchivoConErrores, ErrorDeConfiguracion, Ubicacion
from casanare.extract.table import RawTable
from casanare.staging import Storage

SPREADSHEETS = {"xlsx", "xls", "ods", "xlsm"}
MAX_ROWS_REPORTED = 10
EXPECTED = {
    "entero": "un número entero (por ejemplo 1234 o 1.234)",
    "decimal": "un número (por ejemplo 1.234,56)",
    "fecha": "una fecha (por ejemplo 15/03/2024 o 15 de marzo de 2024)",
    "fecha_hora": "una fecha y hora (por ejemplo 15/03/2024 14:30)",
    "booleano": "SI o NO",
}


def extraer(
    dataset: Dataset,
    area: Storage,
    *,
    sql_url: str | None = None,
    desde: datetime | None = None,
    hasta: datetime | None = None,
    hash_anterior: str | None = None,
) -> dict[str, Any]:
    """Run the extract stage for one dataset.

    Args:
        dataset: catalog entry.
        area: the run's staging folder.
        sql_url: SQLAlchemy URL of the source database (SQL sources only).
        desde: start of the run's data interval, bound as ``:desde`` in incremental queries.
        hasta: end of the run's data interval, bound as ``:hasta``.
        hash_anterior: sha256 of the source in the last successful run, to flag "sin cambios".

    Returns:
        A JSON-safe report: rows, sha256, archived original, warnings. No data values.

    Raises:
        FuenteNoEncontrada, ArchivoConErrores, BaseDeDatosNoDisponible, ErrorDeConfiguracion.
    """
    fuente = dataset.fuente
    report: dict[str, Any] = {"advertencias": []}
    content_hash = None
    if isinstance(fuente, FuenteArchivo):
        table, digest, original = _open_file(fuente, dataset, area)
        report.update(original=original, sha256=digest, formato=fuente.formato_efectivo)
    elif isinstance(fuente, FuenteSQL):
        from casanare.extract.sql import read_sql

        query = dataset.ruta_sql()
        assert query is not None
        if not sql_url:
            raise ErrorDeConfiguracion(
                f"No hay conexión configurada para la fuente SQL '{fuente.conexion}'.",
                ubicacion=Ubicacion(archivo=query.name),
                como_corregir=f"Cree la conexión '{fuente.conexion}' en Airflow (Admin → Connections).",
            )
        incremental = fuente.incremental
        table = read_sql(
            sql_url, query, desde=desde if incremental else None, hasta=hasta if incremental else None,
            chunk_rows=fuente.tamano_lote,
        )
        # The result is hashed as it streams (headers + row values), so "sin cambios" does not
        # depend on Parquet writer details.
        content_hash = hashlib.sha256(repr(table.headers).encode())
        table.chunks = _hashing(table.chunks, content_hash)
        report.update(formato="sql", consulta=query.name, incremental=incremental)
    else:  # pragma: no cover - the catalog guarantees a source for prioritized datasets
        raise ValueError("el conjunto no tiene fuente")

    # An incremental window with no new rows is normal (nothing changed); an empty full load is not.
    allow_empty = isinstance(fuente, FuenteSQL) and fuente.incremental
    try:
        rows = _write_typed(table, dataset, area, report, allow_empty=allow_empty)
    finally:
        table.close()
    if content_hash is not None:
        report["sha256"] = content_hash.hexdigest()
        report["original"] = area.path("extraido.parquet")
    report.update(filas=rows, hoja=table.hoja, **table.detalles)
    report["sin_cambios"] = bool(hash_anterior) and hash_anterior == report["sha256"]
    return report


def _hashing(chunks: Iterator[list[list[Any]]], digest: Any) -> Iterator[list[list[Any]]]:
    """Pass the chunks through, feeding every row's values into ``digest`` on the way."""
    for chunk in chunks:
        for row in chunk:
            digest.update(repr(tuple(row)).encode("utf-8", "surrogatepass"))
        yield chunk


def _open_file(fuente: FuenteArchivo, dataset: Dataset, area: Storage) -> tuple[RawTable, str, str]:
    from casanare.extract.archive import archive_source
    from casanare.extract.csvfile import read_csv
    from casanare.extract.spreadsheet import read_spreadsheet

    path = fuente.ruta_absoluta()
    archived = archive_source(path, area, fuente.ruta)
    # Parse the archived copy when staging is local: what is typed is exactly what was hashed,
    # even if someone overwrites the shared file meanwhile.
    local = area.local_path(f"original/{path.name}")
    if local:
        path = Path(local)
    kind = fuente.formato_efectivo
    if kind in SPREADSHEETS:
        return read_spreadsheet(path, fuente, dataset), archived.sha256, archived.url
    if kind not in {"csv", "txt"}:
        raise ArchivoConErrores(
            f"El formato de archivo '.{kind}' no está soportado.",
            ubicacion=Ubicacion(archivo=path.name),
            como_corregir="Entregue la fuente como .xlsx, .xls, .ods, .csv o .txt, o declare 'formato' en el catálogo.",
        )
    return read_csv(path, fuente, utf8=archived.utf8, cp1252=archived.cp1252), archived.sha256, archived.url


def _blank(row: list[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _write_typed(
    table: RawTable, dataset: Dataset, area: Storage, report: dict[str, Any], *, allow_empty: bool = False
) -> int:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from casanare.extract.coerce import coerce_series
    from casanare.extract.headers import map_headers

    # A query result has no header row to point at; a file's header is the row above the data.
    header_rows = [table.first_data_row - 1] if table.first_data_row > 1 else []
    where = Ubicacion(archivo=table.archivo, hoja=table.hoja, filas=header_rows)
    mapping = map_headers(table.headers, dataset, where)
    if mapping.extra:
        report["columnas_extra"] = mapping.extra
        report["advertencias"].append(
            f"Se ignoraron {len(mapping.extra)} columna(s) que no están en el catálogo: "
            + ", ".join(f'"{h}"' for h in mapping.extra[:10])
        )
    for name in mapping.missing_optional:
        report["advertencias"].append(f"La columna opcional {name} no está en la fuente; queda vacía.")
    sources = {name: str(table.headers[pos]) for name, pos in mapping.positions.items()}
    if table.ocultas:
        report["columnas_ocultas_ignoradas"] = table.ocultas
    schema = arrow_schema(dataset)
    nulls = frozenset(v.strip().upper() for v in getattr(dataset.fuente, "valores_nulos", ["", "NULL"]))
    bad: dict[str, list[int]] = {}
    bad_counts: dict[str, int] = {}
    total = 0
    consumed = 0  # source rows seen so far, blank ones included, so row numbers match the file
    with area.open("extraido.parquet", "wb") as sink, pq.ParquetWriter(sink, schema) as writer:
        for chunk in table.chunks:
            numbers = [table.first_data_row + consumed + i for i, r in enumerate(chunk) if not _blank(r)]
            consumed += len(chunk)
            kept = [r for r in chunk if not _blank(r)]
            if not kept:
                continue
            frame = pd.DataFrame(kept, dtype="object")
            del kept
            columns = {}
            for col in dataset.columnas:
                pos = mapping.positions.get(col.nombre)
                raw = frame[pos] if pos is not None and pos in frame.columns else pd.Series([None] * len(frame))
                typed, bad_mask = coerce_series(raw, col.tipo, nulls)
                if bad_mask.any():
                    positions = bad_mask.to_numpy().nonzero()[0]
                    bad_counts[col.nombre] = bad_counts.get(col.nombre, 0) + len(positions)
                    rows = bad.setdefault(col.nombre, [])
                    room = MAX_ROWS_REPORTED - len(rows)
                    rows.extend(numbers[i] for i in positions[: max(room, 0)])
                columns[col.nombre] = typed.reset_index(drop=True)
            typed_frame = pd.DataFrame(columns)
            writer.write_table(pa.Table.from_pandas(typed_frame, schema=schema, preserve_index=False))
            total += len(frame)
            del frame, typed_frame, columns
    if bad:
        _raise_unparseable(dataset, table, bad, bad_counts, sources)
    if total == 0 and allow_empty:
        report["advertencias"].append("El intervalo de esta ejecución no trae filas nuevas ni modificadas.")
    elif total == 0:
        raise ArchivoConErrores(
            "La fuente no tiene filas de datos (solo encabezado).",
            ubicacion=Ubicacion(archivo=table.archivo, hoja=table.hoja, filas=header_rows),
            como_corregir="Verifique que exportó o diligenció los datos del periodo debajo del encabezado.",
        )
    return total


def _raise_unparseable(
    dataset: Dataset, table: RawTable, bad: dict[str, list[int]], counts: dict[str, int], sources: dict[str, str]
) -> None:
    """One failure naming the first bad column, its first rows and how many: never the values."""
    column = next(iter(bad))
    col = next(c for c in dataset.columnas if c.nombre == column)
    total = sum(counts.values())
    source = sources.get(column)
    shown = f'{column} (encabezado "{source}")' if source and source != column else column
    raise ArchivoConErrores(
        f"Hay {counts[column]} valor(es) que no se pueden leer como {col.tipo} en la columna {shown}"
        + (f", y {total - counts[column]} más en otras columnas ({', '.join(c for c in counts if c != column)})"
           if total > counts[column] else "")
        + f". Primeras filas con problema: {', '.join(str(r) for r in bad[column])}.",
        ubicacion=Ubicacion(archivo=table.archivo, hoja=table.hoja, filas=bad[column], columna=column),
        como_corregir=f"Corrija esas celdas para que cada una contenga {EXPECTED.get(col.tipo, 'un valor válido')}, "
        "o déjelas vacías si el dato no existe.",
        detalles={"valores_invalidos_por_columna": counts, "filas_por_columna": bad},
    )


def arrow_schema(dataset: Dataset):
    """Arrow schema of ``extraido.parquet`` from the catalog's declared types."""
    import pyarrow as pa

    types = {
        "texto": pa.string(),
        "entero": pa.int64(),
        "decimal": pa.float64(),
        "fecha": pa.timestamp("us"),
        "fecha_hora": pa.timestamp("us"),
        "booleano": pa.bool_(),
    }
    return pa.schema([pa.field(c.nombre, types[c.tipo]) for c in dataset.columnas])
