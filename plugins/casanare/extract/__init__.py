"""Extract stage: read the departmental source, type every column, archive the original.

``extraer`` writes ``extraido.parquet`` (catalog column names, declared types) into the run
area, streaming chunk by chunk so a large CSV or SQL table is never held in memory whole.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from casanare.catalog import Dataset, FuenteArchivo, FuenteSQL
from casanare.errors import ArchivoConErrores, FuenteNoEncontrada, Ubicacion
from casanare.extract.table import RawTable
from casanare.staging import Storage

SPREADSHEETS = {"xlsx", "xls", "ods", "xlsm"}
MAX_ROWS_REPORTED = 10


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
        desde, hasta: the run's data interval, bound as ``:desde``/``:hasta`` in incremental queries.
        hash_anterior: sha256 of the source in the last successful run, to flag "sin cambios".

    Returns:
        A JSON-safe report: rows, sha256, archived original, warnings. No data values.

    Raises:
        FuenteNoEncontrada, ArchivoConErrores, BaseDeDatosNoDisponible.
    """
    fuente = dataset.fuente
    report: dict[str, Any] = {"advertencias": []}
    if isinstance(fuente, FuenteArchivo):
        table, digest, original = _open_file(fuente, dataset, area)
        report.update(original=original, sha256=digest, formato=fuente.formato_efectivo)
    elif isinstance(fuente, FuenteSQL):
        from casanare.extract.sql import read_sql

        if not sql_url:
            raise ValueError("falta la URL de la conexión SQL")
        query = dataset.ruta_sql()
        assert query is not None
        incremental = fuente.incremental
        table = read_sql(
            sql_url, query, desde=desde if incremental else None, hasta=hasta if incremental else None,
            chunk_rows=fuente.tamano_lote,
        )
        report.update(formato="sql", consulta=query.name, incremental=incremental)
    else:  # pragma: no cover - the catalog guarantees a source for prioritized datasets
        raise ValueError("el conjunto no tiene fuente")

    rows = _write_typed(table, dataset, area, report)
    if isinstance(fuente, FuenteSQL):
        # The query result is archived as the Parquet itself; its hash identifies the content.
        report["sha256"] = _sha256_of(area, "extraido.parquet")
        report["original"] = area.path("extraido.parquet")
    report.update(filas=rows, hoja=table.hoja, **table.detalles)
    report["sin_cambios"] = bool(hash_anterior) and hash_anterior == report["sha256"]
    return report


def _open_file(fuente: FuenteArchivo, dataset: Dataset, area: Storage) -> tuple[RawTable, str, str]:
    from casanare.extract.csvfile import read_csv
    from casanare.extract.spreadsheet import read_spreadsheet

    path = fuente.ruta_absoluta()
    if not path.is_file():
        raise FuenteNoEncontrada(
            "No se encontró el archivo fuente del conjunto de datos.",
            ubicacion=Ubicacion(archivo=path.name),
            como_corregir=f"Cargue el archivo '{path.name}' en la carpeta compartida "
            f"'{path.parent.name}' con ese nombre exacto, o corrija la ruta en el catálogo.",
            detalles={"ruta": fuente.ruta},
        )
    try:
        data = path.read_bytes()
    except PermissionError:
        raise ArchivoConErrores(
            "El archivo está bloqueado o no se tiene permiso para leerlo.",
            ubicacion=Ubicacion(archivo=path.name),
            como_corregir="Cierre el archivo en Excel (u otro programa) y vuelva a intentarlo.",
        ) from None
    if not data.strip():
        raise ArchivoConErrores(
            "El archivo está vacío.",
            ubicacion=Ubicacion(archivo=path.name),
            como_corregir="Exporte de nuevo los datos y verifique que el archivo tenga filas.",
        )
    # The original is archived before parsing, so even a rejected file is kept as evidence.
    original = area.write_bytes(f"original/{path.name}", data)
    digest = hashlib.sha256(data).hexdigest()
    kind = fuente.formato_efectivo
    if kind in SPREADSHEETS:
        return read_spreadsheet(path, fuente, dataset), digest, original
    return read_csv(path, fuente), digest, original


def _write_typed(table: RawTable, dataset: Dataset, area: Storage, report: dict[str, Any]) -> int:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from casanare.extract.coerce import coerce_series
    from casanare.extract.headers import map_headers

    header_row = max(table.first_data_row - 1, 1)
    where = Ubicacion(archivo=table.archivo, hoja=table.hoja, filas=[header_row])
    mapping = map_headers(table.headers, dataset, where)
    if mapping.extra:
        report["columnas_extra"] = len(mapping.extra)
        report["advertencias"].append(
            f"Se ignoraron {len(mapping.extra)} columna(s) que no están en el catálogo: "
            + ", ".join(f'"{h}"' for h in mapping.extra[:10])
        )
    for name in mapping.missing_optional:
        report["advertencias"].append(f"La columna opcional {name} no está en la fuente; queda vacía.")
    schema = arrow_schema(dataset)
    nulls = frozenset(v.upper() for v in getattr(dataset.fuente, "valores_nulos", ["", "NULL"]))
    bad: dict[str, list[int]] = {}
    bad_counts: dict[str, int] = {}
    total = 0
    with area.open("extraido.parquet", "wb") as sink, pq.ParquetWriter(sink, schema) as writer:
        for chunk in table.chunks:
            chunk = [r for r in chunk if any(v not in (None, "") for v in r)]
            if not chunk:
                continue
            frame = pd.DataFrame(chunk, dtype="object")
            columns = {}
            for col in dataset.columnas:
                pos = mapping.positions.get(col.nombre)
                raw = frame[pos] if pos is not None and pos in frame.columns else pd.Series([None] * len(frame))
                typed, bad_mask = coerce_series(raw, col.tipo, nulls)
                if bad_mask.any():
                    positions = bad_mask[bad_mask].index
                    bad_counts[col.nombre] = bad_counts.get(col.nombre, 0) + len(positions)
                    rows = bad.setdefault(col.nombre, [])
                    rows.extend(int(table.first_data_row + total + i) for i in positions[: MAX_ROWS_REPORTED])
                columns[col.nombre] = typed.reset_index(drop=True)
            typed_frame = pd.DataFrame(columns)
            writer.write_table(pa.Table.from_pandas(typed_frame, schema=schema, preserve_index=False))
            total += len(frame)
    if bad:
        _raise_unparseable(dataset, table, bad, bad_counts)
    if total == 0:
        raise ArchivoConErrores(
            "La fuente no tiene filas de datos (solo encabezado).",
            ubicacion=Ubicacion(archivo=table.archivo, hoja=table.hoja),
            como_corregir="Verifique que exportó o diligenció los datos del periodo.",
        )
    return total


def _raise_unparseable(dataset: Dataset, table: RawTable, bad: dict[str, list[int]], counts: dict[str, int]) -> None:
    column = next(iter(bad))
    col = next(c for c in dataset.columnas if c.nombre == column)
    expected = {
        "entero": "un número entero (por ejemplo 1234)",
        "decimal": "un número (por ejemplo 1.234,56)",
        "fecha": "una fecha (por ejemplo 15/03/2024)",
        "fecha_hora": "una fecha y hora (por ejemplo 15/03/2024 14:30)",
        "booleano": "SI o NO",
    }.get(col.tipo, "un valor válido")
    total = sum(counts.values())
    raise ArchivoConErrores(
        f"Hay {counts[column]} valor(es) que no se pueden leer en la columna {column}"
        + (f" y {total - counts[column]} más en otras columnas" if total > counts[column] else "")
        + ".",
        ubicacion=Ubicacion(archivo=table.archivo, hoja=table.hoja, filas=bad[column], columna=column),
        como_corregir=f"Corrija esas celdas para que cada una contenga {expected}, o déjelas vacías.",
        detalles={"valores_invalidos_por_columna": counts},
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


def _sha256_of(area: Storage, name: str) -> str:
    digest = hashlib.sha256()
    with area.open(name, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
