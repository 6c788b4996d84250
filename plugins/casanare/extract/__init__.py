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
from casanare.extract.table import ColumnasTexto, RawTable
from casanare.staging import Storage

SPREADSHEETS = {"xlsx", "xls", "ods", "xlsm"}
MAX_ROWS_REPORTED = 20
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
            chunk_rows=fuente.tamano_lote, zona_horaria=fuente.zona_horaria,
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
    if table.detalles.get("advertencia_encabezado"):
        report["advertencias"].append(table.detalles["advertencia_encabezado"])
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
            como_corregir="Entregue la fuente como .xlsx, .xls, .ods, .csv o .txt (el formato acordado con el "
            "equipo de datos abiertos).",
        )
    table = read_csv(path, fuente, utf8=archived.utf8, cp1252=archived.cp1252, dataset=dataset,
                     nativo=not archived.nul, comillas=archived.comillas)
    return table, archived.sha256, archived.url


def _blank(row: list[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _write_typed(
    table: RawTable, dataset: Dataset, area: Storage, report: dict[str, Any], *, allow_empty: bool = False
) -> int:
    """Type every column into ``extraido.parquet`` in two passes over a local intermediate file.

    Pass 1 streams the source once: text, dates and booleans are typed at once, numeric columns
    are kept as cleaned text while their separator evidence is counted over the WHOLE column.
    Pass 2 reads every numeric column with that one convention (or the catalog's).
    """
    import tempfile

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from casanare.extract.coerce import NUMERIC, coerce_series, split_numeric
    from casanare.extract.headers import map_headers
    from casanare.extract.numbers import Evidencia, evidence

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
    report["encabezados"] = sources  # header labels only: later checks name the column as the clerk wrote it
    if table.ocultas:
        report["columnas_ocultas_ignoradas"] = table.ocultas
    nulls = frozenset(v.strip().upper() for v in getattr(dataset.fuente, "valores_nulos", ["", "NULL"]))
    problems = _Problems()
    numeric = [c for c in dataset.columnas if c.tipo in NUMERIC]
    evidencias = {c.nombre: Evidencia() for c in numeric}
    stage_schema = _intermediate_schema(dataset)
    total = 0
    consumed = 0  # source rows seen so far, blank ones included, so row numbers match the file
    with tempfile.TemporaryDirectory(prefix="casanare-extraer-") as tmp:
        intermediate = Path(tmp) / "pasada1.parquet"
        # A scratch file read once, right after: compressing or dictionary-encoding it costs more
        # than the disk it would save.
        with pq.ParquetWriter(intermediate, stage_schema, compression="none", use_dictionary=False) as writer:
            for chunk in table.chunks:
                if isinstance(chunk, ColumnasTexto):
                    batch = _typed_text_columns(chunk, table.first_data_row + consumed, dataset, mapping.positions,
                                                nulls, stage_schema, evidencias, problems)
                    consumed += len(chunk)
                    if batch is not None:
                        writer.write_table(batch)
                        total += batch.num_rows
                    continue
                numbers = [table.first_data_row + consumed + i for i, r in enumerate(chunk) if not _blank(r)]
                consumed += len(chunk)
                kept = [r for r in chunk if not _blank(r)]
                if not kept:
                    continue
                frame = pd.DataFrame(kept, dtype="object")
                del kept
                arrays: dict[str, Any] = {"__fila": pa.array(numbers, pa.int64())}
                for col in dataset.columnas:
                    pos = mapping.positions.get(col.nombre)
                    raw = frame[pos] if pos is not None and pos in frame.columns else pd.Series([None] * len(frame))
                    if col.tipo in NUMERIC:
                        cells = split_numeric(raw, nulls)
                        evidencias[col.nombre].add(evidence(cells.texto))
                        arrays.update(_numeric_stage_columns(col.nombre, cells))
                        continue
                    typed, bad_mask = coerce_series(raw, col.tipo, nulls)
                    problems.add(col.nombre, bad_mask.to_numpy(), numbers)
                    arrays[col.nombre] = pa.array(typed, type=stage_schema.field(col.nombre).type, from_pandas=True)
                writer.write_table(pa.table(arrays, schema=stage_schema))
                total += len(frame)
                del frame, arrays
        conventions = _conventions(dataset, evidencias)
        if conventions:
            report["formato_numerico"] = {name: conv.as_dict() for name, conv in conventions.items()}
        _second_pass(intermediate, dataset, area, conventions, problems)
    if problems.bad:
        _raise_unparseable(dataset, table, problems, sources, conventions)
    if total == 0 and allow_empty:
        report["advertencias"].append("El intervalo de esta ejecución no trae filas nuevas ni modificadas.")
    elif total == 0:
        raise ArchivoConErrores(
            "La fuente no tiene filas de datos (solo encabezado).",
            ubicacion=Ubicacion(archivo=table.archivo, hoja=table.hoja, filas=header_rows),
            como_corregir="Verifique que exportó o diligenció los datos del periodo debajo del encabezado.",
        )
    return total


def _typed_text_columns(
    chunk: ColumnasTexto, first_row: int, dataset: Dataset, positions: dict[str, int], nulls: frozenset[str],
    stage_schema: Any, evidencias: dict[str, Any], problems: _Problems,
) -> Any:
    """Pass 1 for a chunk of text columns (Arrow's CSV reader): the same typing as for rows,
    on Arrow arrays from start to end. Returns the intermediate table, or None if all blank."""
    import numpy as np
    import pyarrow as pa

    from casanare.extract.coerce import NUMERIC, coerce_text_array, split_numeric_text
    from casanare.extract.numbers import evidence

    keep = ~chunk.vacias
    numbers = first_row + keep.nonzero()[0]
    if not len(numbers):
        return None
    mask = None if keep.all() else pa.array(keep)
    columns = chunk.columnas if mask is None else [c.filter(mask) for c in chunk.columnas]
    size = len(numbers)

    def typed(col: Any) -> tuple[Any, ...]:
        pos = positions.get(col.nombre)
        raw = columns[pos] if pos is not None and pos < len(columns) else pa.nulls(size, pa.string())
        if col.tipo in NUMERIC:
            cells = split_numeric_text(raw, nulls)
            return cells, evidence(cells.texto)
        return coerce_text_array(raw, col.tipo, nulls, stage_schema.field(col.nombre).type)

    arrays: dict[str, Any] = {"__fila": pa.array(numbers.astype(np.int64), pa.int64())}
    for col, result in zip(dataset.columnas, _by_column(typed, dataset.columnas), strict=True):
        if col.tipo in NUMERIC:
            cells, found = result
            evidencias[col.nombre].add(found)
            arrays.update(_numeric_stage_columns(col.nombre, cells))
            continue
        values, bad_mask = result
        problems.add(col.nombre, bad_mask, numbers)
        arrays[col.nombre] = values
    return pa.table(arrays, schema=stage_schema)


def _numeric_stage_columns(name: str, cells: Any) -> dict[str, Any]:
    """The three pass-1 columns of a numeric column (see ``_intermediate_schema``)."""
    import pyarrow as pa

    return {f"t:{name}": cells.texto, f"n:{name}": pa.array(cells.numero, pa.float64()),
            f"o:{name}": pa.array(cells.no_numericas, pa.bool_())}


class _Problems:
    """Unreadable values per column: counts, the first source rows, and how many contradict the
    column's number convention. Never the values."""

    def __init__(self) -> None:
        self.bad: dict[str, list[int]] = {}
        self.counts: dict[str, int] = {}
        self.contradicen: dict[str, int] = {}

    def add(self, column: str, mask: Any, rows: Any, contradicts: Any = None) -> None:
        import numpy as np

        positions = np.asarray(mask, dtype=bool).nonzero()[0]
        if not len(positions):
            return
        self.counts[column] = self.counts.get(column, 0) + len(positions)
        listed = self.bad.setdefault(column, [])
        room = MAX_ROWS_REPORTED - len(listed)
        listed.extend(int(rows[i]) for i in positions[: max(room, 0)])
        if contradicts is not None:
            self.contradicen[column] = self.contradicen.get(column, 0) + int(np.asarray(contradicts).sum())


def _conventions(dataset: Dataset, evidencias: dict[str, Any]) -> dict[str, Any]:
    from casanare.extract.numbers import decide

    fuente = dataset.fuente
    decimal = getattr(fuente, "separador_decimal", None)
    miles = getattr(fuente, "separador_miles", None)
    return {name: decide(ev, decimal, miles) for name, ev in evidencias.items()}


def _intermediate_schema(dataset: Dataset):
    import pyarrow as pa

    from casanare.extract.coerce import NUMERIC

    final = arrow_schema(dataset)
    fields = [pa.field("__fila", pa.int64())]
    for col in dataset.columnas:
        if col.tipo in NUMERIC:
            fields += [pa.field(f"t:{col.nombre}", pa.string()), pa.field(f"n:{col.nombre}", pa.float64()),
                       pa.field(f"o:{col.nombre}", pa.bool_())]
        else:
            fields.append(final.field(col.nombre))
    return pa.schema(fields)


def _second_pass(intermediate: Path, dataset: Dataset, area: Storage, conventions: dict[str, Any],
                 problems: _Problems) -> None:
    """Read the numeric columns with their convention and write ``extraido.parquet``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from casanare.extract.coerce import NUMERIC, CeldasNumericas, parse_numeric

    schema = arrow_schema(dataset)
    source = pq.ParquetFile(intermediate)
    rows_schema = pa.schema([pa.field("fila", pa.int64())])
    # Source row numbers, aligned with extraido.parquet: later checks (domain rules) name rows
    # the way the clerk sees them in the file, without carrying a column into the data.
    with area.open("extraido.parquet", "wb") as sink, pq.ParquetWriter(sink, schema) as writer, \
            area.open("filas_origen.parquet", "wb") as rows_sink, pq.ParquetWriter(rows_sink, rows_schema) as rows_out:
        for batch in source.iter_batches(batch_size=250_000):
            rows = batch.column("__fila").to_numpy()
            rows_out.write_table(pa.table({"fila": batch.column("__fila")}, schema=rows_schema))
            def read(col: Any, batch: Any = batch) -> tuple[Any, Any, Any]:
                cells = CeldasNumericas(
                    texto=batch.column(f"t:{col.nombre}"),
                    numero=batch.column(f"n:{col.nombre}").to_numpy(zero_copy_only=False),
                    no_numericas=batch.column(f"o:{col.nombre}").to_numpy(zero_copy_only=False),
                )
                typed, invalid, contradicts = parse_numeric(cells, col.tipo, conventions[col.nombre])
                return pa.array(typed, type=schema.field(col.nombre).type, from_pandas=True), invalid, contradicts

            numeric = [c for c in dataset.columnas if c.tipo in NUMERIC]
            parsed = dict(zip((c.nombre for c in numeric), _by_column(read, numeric), strict=True))
            arrays = []
            for col in dataset.columnas:
                if col.tipo not in NUMERIC:
                    arrays.append(batch.column(col.nombre))
                    continue
                typed, invalid, contradicts = parsed[col.nombre]
                problems.add(col.nombre, invalid, rows, contradicts)
                arrays.append(typed)
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))


def _by_column(work: Any, columns: list[Any]) -> list[Any]:
    """``work(column)`` for every column, two at a time.

    Arrow's kernels (regex, casts) release the GIL, so two cores type two columns at once; the
    results come back in column order and are recorded by the caller, in order.
    """
    from concurrent.futures import ThreadPoolExecutor

    if len(columns) < 2:
        return [work(c) for c in columns]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="extraer") as pool:
        return list(pool.map(work, columns))


def _raise_unparseable(
    dataset: Dataset, table: RawTable, problems: _Problems, sources: dict[str, str], conventions: dict[str, Any]
) -> None:
    """One failure naming the first bad column, its first rows and how many: never the values."""
    bad, counts = problems.bad, problems.counts
    order = [c.nombre for c in dataset.columnas if c.nombre in bad]
    column = order[0]
    col = next(c for c in dataset.columnas if c.nombre == column)
    total = sum(counts.values())
    source = sources.get(column)
    shown = f'{column} (encabezado "{source}")' if source and source != column else column
    others = (f", y {total - counts[column]} más en otras columnas ({', '.join(c for c in order if c != column)})"
              if total > counts[column] else "")
    rows = ", ".join(str(r) for r in bad[column])
    conv = conventions.get(column)
    if conv is not None and problems.contradicen.get(column):
        mensaje = (f"Hay {counts[column]} valor(es) en la columna {shown} escritos con un formato numérico distinto "
                   f"al del resto de la columna, que usa {conv.describir()}{others}. "
                   f"Primeras filas con problema: {rows}.")
        consejo = (f"Escriba esas celdas con el mismo formato que el resto de la columna ({conv.ejemplo()}). "
                   "Si el archivo usa otro formato, avise al equipo de datos abiertos para declararlo.")
    else:
        mensaje = (f"Hay {counts[column]} valor(es) que no se pueden leer como {col.tipo} en la columna {shown}"
                   f"{others}. Primeras filas con problema: {rows}.")
        esperado = EXPECTED.get(col.tipo, "un valor válido")
        if conv is not None:
            esperado = f"un número escrito con {conv.describir()}"
            if col.tipo == "entero":
                esperado = f"un número entero (por ejemplo 1{conv.miles}234)"
        consejo = f"Corrija esas celdas para que cada una contenga {esperado}, o déjelas vacías si el dato no existe."
    raise ArchivoConErrores(
        mensaje,
        ubicacion=Ubicacion(archivo=table.archivo, hoja=table.hoja, filas=bad[column], columna=column),
        como_corregir=consejo,
        detalles={"valores_invalidos_por_columna": counts, "filas_por_columna": bad,
                  "encabezado": source or column},
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
    schema = pa.schema([pa.field(c.nombre, types[c.tipo]) for c in dataset.columnas])
    return schema.with_metadata(_pandas_metadata(dataset))


def _pandas_metadata(dataset: Dataset) -> dict[bytes, bytes]:
    """pandas metadata so that integer columns with blanks read back as ``Int64``, not floats."""
    import pandas as pd
    import pyarrow as pa

    dtypes = {"entero": "Int64", "decimal": "float64", "fecha": "datetime64[us]", "fecha_hora": "datetime64[us]"}
    empty = pd.DataFrame({c.nombre: pd.Series([], dtype=dtypes.get(c.tipo, "object")) for c in dataset.columnas})
    return pa.Schema.from_pandas(empty, preserve_index=False).metadata
