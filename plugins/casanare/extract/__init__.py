"""Extract stage: read the departmental source, type every column, archive the original.

``extraer`` writes ``extraido.parquet`` (catalog column names, declared types) into the run
area, streaming chunk by chunk so a large CSV or SQL table is never held in memory whole.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
    reabrir: Callable[[], RawTable] | None = None
    if isinstance(fuente, FuenteArchivo):
        path, archived = _archive_file(fuente, area)
        reabrir = functools.partial(_parse_file, path, fuente, dataset, archived)  # the archived copy
        table = reabrir()
        report.update(original=archived.url, sha256=archived.sha256, formato=fuente.formato_efectivo)
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
        rows = _write_typed(table, dataset, area, report, allow_empty=allow_empty, reabrir=reabrir)
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


def _archive_file(fuente: FuenteArchivo, area: Storage) -> tuple[Path, Any]:
    """Archive the source; returns the file to parse and what the archive pass learned."""
    from casanare.extract.archive import archive_source

    path = fuente.ruta_absoluta()
    archived = archive_source(path, area, fuente.ruta)
    # Parse the archived copy when staging is local: what is typed is exactly what was hashed,
    # even if someone overwrites the shared file meanwhile.
    local = area.local_path(f"original/{path.name}")
    return (Path(local) if local else path), archived


def _parse_file(path: Path, fuente: FuenteArchivo, dataset: Dataset, archived: Any) -> RawTable:
    from casanare.extract.csvfile import read_csv
    from casanare.extract.spreadsheet import read_spreadsheet

    kind = fuente.formato_efectivo
    if kind in SPREADSHEETS:
        return read_spreadsheet(path, fuente, dataset)
    if kind not in {"csv", "txt"}:
        raise ArchivoConErrores(
            f"El formato de archivo '.{kind}' no está soportado.",
            ubicacion=Ubicacion(archivo=path.name),
            como_corregir="Entregue la fuente como .xlsx, .xls, .ods, .csv o .txt (el formato acordado con el "
            "equipo de datos abiertos).",
        )
    return read_csv(path, fuente, utf8=archived.utf8, cp1252=archived.cp1252, dataset=dataset,
                    nativo=not archived.nul, comillas=archived.comillas)


def _blank(row: list[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _write_typed(
    table: RawTable, dataset: Dataset, area: Storage, report: dict[str, Any], *, allow_empty: bool = False,
    reabrir: Callable[[], RawTable] | None = None, convenciones: dict[str, Any] | None = None,
) -> int:
    """Type every column into ``extraido.parquet`` (and the source row of each record into
    ``filas_origen.parquet``), streaming the source once.

    A numeric column has ONE number convention, inferred from the evidence of the whole column
    (see ``numbers``) unless the catalog declares it. Three ways to reach the same result:

    * known beforehand (the catalog, or ``convenciones``): each chunk is typed at once;
    * a file (``reabrir`` opens the archived copy again): each chunk is read with the convention
      the first chunk shows while the evidence of the whole column is counted; in the rare case
      the whole column shows another one, the archived file is read again with it;
    * a query result, which cannot be read twice (the database may change meanwhile): numeric
      columns are kept as cleaned text in a local scratch file, then read with the convention.
    """
    import contextlib
    import copy
    import tempfile

    import pyarrow.parquet as pq

    from casanare.extract.coerce import NUMERIC
    from casanare.extract.headers import map_headers
    from casanare.extract.numbers import Evidencia

    before = copy.deepcopy(report)  # restored if the file has to be read again
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
    conventions = convenciones or (_conventions(dataset, evidencias) if _declared(dataset) or not numeric else None)
    guessed: dict[str, Any] | None = None  # the first chunk's conventions, when guessing
    staged = conventions is None and reabrir is None
    schema = arrow_schema(dataset)
    stage_schema = _intermediate_schema(dataset)
    typer = _Typer(dataset, mapping.positions, nulls, schema, problems)
    total = 0
    consumed = 0  # source rows seen so far, blank ones included, so row numbers match the file
    with tempfile.TemporaryDirectory(prefix="casanare-extraer-") as tmp, _Outputs(area, schema) as out:
        intermediate = Path(tmp) / "pasada1.parquet"
        # A scratch file read once, right after: compressing or dictionary-encoding it costs more
        # than the disk it would save.
        with (pq.ParquetWriter(intermediate, stage_schema, compression="none", use_dictionary=False) if staged
              else contextlib.nullcontext()) as scratch:
            for chunk in table.chunks:
                first_row = table.first_data_row + consumed
                consumed += len(chunk)
                lote = typer.chunk(chunk, first_row, None if staged else conventions)
                if lote is None:
                    continue
                for name, found in lote.evidencia.items():
                    evidencias[name].add(found)
                total += len(lote.filas)
                if staged:
                    scratch.write_table(lote.stage_table(stage_schema))
                    continue
                if conventions is None:
                    conventions = guessed = _conventions(dataset, lote.evidencia)
                    typer.read_numbers(lote, conventions)
                out.write(lote, [c.nombre for c in dataset.columnas])
        final = _conventions(dataset, evidencias) if conventions is None or guessed is not None else conventions
        if guessed is not None and any(_differs(guessed[n], final[n]) for n in final):
            out.close()  # what was written is written again with the column's convention
            report.clear()
            report.update(before)
            again = reabrir()
            try:
                return _write_typed(again, dataset, area, report, allow_empty=allow_empty, convenciones=final)
            finally:
                again.close()
        if final:
            report["formato_numerico"] = {name: conv.as_dict() for name, conv in final.items()}
        if staged:
            _second_pass(intermediate, dataset, area, final, problems)
        else:
            out.finish()  # an empty incremental window still leaves (empty) files for the next stages
    if problems.bad:
        _raise_unparseable(dataset, table, problems, sources, final)
    if total == 0 and allow_empty:
        report["advertencias"].append("El intervalo de esta ejecución no trae filas nuevas ni modificadas.")
    elif total == 0:
        raise ArchivoConErrores(
            "La fuente no tiene filas de datos (solo encabezado).",
            ubicacion=Ubicacion(archivo=table.archivo, hoja=table.hoja, filas=header_rows),
            como_corregir="Verifique que exportó o diligenció los datos del periodo debajo del encabezado.",
        )
    return total


def _declared(dataset: Dataset) -> bool:
    fuente = dataset.fuente
    return bool(getattr(fuente, "separador_decimal", None) or getattr(fuente, "separador_miles", None))


def _differs(a: Any, b: Any) -> bool:
    """Two conventions read numbers differently (where they came from does not matter)."""
    return (a.decimal, a.miles) != (b.decimal, b.miles)


@dataclass
class _Lote:
    """One chunk of the source, typed: source row numbers, final arrays of the columns read
    (``columnas``), numeric columns still waiting for their convention (``celdas``), and the
    number-convention evidence the chunk showed."""

    filas: Any
    columnas: dict[str, Any]
    celdas: dict[str, Any]
    evidencia: dict[str, Any]

    def stage_table(self, stage_schema: Any) -> Any:
        """The chunk for the scratch file of the two-pass path (see ``_intermediate_schema``)."""
        import pyarrow as pa

        arrays: dict[str, Any] = {"__fila": pa.array(self.filas, pa.int64()), **self.columnas}
        for name, cells in self.celdas.items():
            arrays.update(_numeric_stage_columns(name, cells))
        return pa.table(arrays, schema=stage_schema)


class _Typer:
    """Types the chunks of one source (Arrow text columns or Python rows), two columns at a time."""

    def __init__(self, dataset: Dataset, positions: dict[str, int], nulls: frozenset[str], schema: Any,
                 problems: _Problems) -> None:
        self.dataset, self.positions, self.nulls = dataset, positions, nulls
        self.schema, self.problems = schema, problems

    def chunk(self, chunk: ColumnasTexto | list[list[Any]], first_row: int,
              conventions: dict[str, Any] | None) -> _Lote | None:
        """Type one chunk; numeric columns are read too when ``conventions`` is known. None if
        every record of the chunk is blank."""
        import numpy as np
        import pandas as pd
        import pyarrow as pa

        from casanare.extract.coerce import (
            NUMERIC,
            coerce_series,
            coerce_text_array,
            split_numeric,
            split_numeric_text,
        )
        from casanare.extract.numbers import evidence

        if isinstance(chunk, ColumnasTexto):
            keep = ~chunk.vacias
            numbers = first_row + keep.nonzero()[0]
            if not len(numbers):
                return None
            mask = None if keep.all() else pa.array(keep)
            columns = chunk.columnas if mask is None else [c.filter(mask) for c in chunk.columnas]
            size = len(numbers)

            def raw(pos: int | None) -> Any:
                return columns[pos] if pos is not None and pos < len(columns) else pa.nulls(size, pa.string())

            def typed_other(col: Any, values: Any) -> tuple[Any, Any]:
                return coerce_text_array(values, col.tipo, self.nulls, self.schema.field(col.nombre).type)

            split = split_numeric_text
        else:
            numbers = np.array([first_row + i for i, r in enumerate(chunk) if not _blank(r)], dtype=np.int64)
            kept = [r for r in chunk if not _blank(r)]
            if not kept:
                return None
            frame = pd.DataFrame(kept, dtype="object")
            del kept

            def raw(pos: int | None) -> Any:
                return frame[pos] if pos is not None and pos in frame.columns else pd.Series([None] * len(frame))

            def typed_other(col: Any, values: Any) -> tuple[Any, Any]:
                typed, bad = coerce_series(values, col.tipo, self.nulls)
                return (pa.array(typed, type=self.schema.field(col.nombre).type, from_pandas=True),
                        bad.to_numpy(dtype=bool))

            split = split_numeric

        def work(col: Any) -> tuple[Any, ...]:
            values = raw(self.positions.get(col.nombre))
            if col.tipo not in NUMERIC:
                return typed_other(col, values)
            cells = split(values, self.nulls)
            found = evidence(cells.texto)
            if conventions is None:
                return cells, found
            return cells, found, self._parse(col, cells, conventions)

        lote = _Lote(filas=numbers.astype(np.int64), columnas={}, celdas={}, evidencia={})
        for col, result in zip(self.dataset.columnas, _by_column(work, self.dataset.columnas), strict=True):
            if col.tipo not in NUMERIC:
                values, bad_mask = result
                self.problems.add(col.nombre, bad_mask, lote.filas)
                lote.columnas[col.nombre] = values
                continue
            lote.evidencia[col.nombre] = result[1]
            if conventions is None:
                lote.celdas[col.nombre] = result[0]
            else:
                self._record(col.nombre, lote, result[2])
        return lote

    def read_numbers(self, lote: _Lote, conventions: dict[str, Any]) -> None:
        """Read the chunk's waiting numeric columns with ``conventions``."""
        numeric = [c for c in self.dataset.columnas if c.nombre in lote.celdas]
        results = _by_column(lambda col: self._parse(col, lote.celdas[col.nombre], conventions), numeric)
        for col, result in zip(numeric, results, strict=True):
            self._record(col.nombre, lote, result)
        lote.celdas = {}

    def _parse(self, col: Any, cells: Any, conventions: dict[str, Any]) -> tuple[Any, Any, Any]:
        import pyarrow as pa

        from casanare.extract.coerce import parse_numeric

        typed, invalid, contradicts = parse_numeric(cells, col.tipo, conventions[col.nombre])
        return pa.array(typed, type=self.schema.field(col.nombre).type, from_pandas=True), invalid, contradicts

    def _record(self, name: str, lote: _Lote, result: tuple[Any, Any, Any]) -> None:
        values, invalid, contradicts = result
        self.problems.add(name, invalid, lote.filas, contradicts)
        lote.columnas[name] = values


class _Outputs:
    """``extraido.parquet`` and ``filas_origen.parquet``, opened on the first chunk written."""

    def __init__(self, area: Storage, schema: Any) -> None:
        self.area, self.schema = area, schema
        self._files: list[Any] = []
        self._writers: tuple[Any, Any] | None = None

    def write(self, lote: _Lote, names: list[str]) -> None:
        import pyarrow as pa

        data_writer, rows_writer = self._open()
        data_writer.write_table(pa.Table.from_arrays([lote.columnas[n] for n in names], schema=self.schema))
        rows_writer.write_table(pa.table({"fila": pa.array(lote.filas, pa.int64())}, schema=_rows_schema()))

    def _open(self) -> tuple[Any, Any]:
        import pyarrow.parquet as pq

        if self._writers is None:
            data = self.area.open("extraido.parquet", "wb")
            rows = self.area.open("filas_origen.parquet", "wb")
            self._files = [data, rows]
            self._writers = (pq.ParquetWriter(data, self.schema), pq.ParquetWriter(rows, _rows_schema()))
        return self._writers

    def finish(self) -> None:
        """Close both files, written even if no chunk had a record."""
        self._open()
        self.close()

    def close(self) -> None:
        if self._writers is not None:
            for writer in self._writers:
                writer.close()
            self._writers = None
        for fh in self._files:
            fh.close()
        self._files = []

    def __enter__(self) -> _Outputs:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _rows_schema() -> Any:
    """Schema of ``filas_origen.parquet``: the source row of each extracted record, aligned with
    ``extraido.parquet``, so later checks (domain rules) name rows the way the clerk sees them."""
    import pyarrow as pa

    return pa.schema([pa.field("fila", pa.int64())])


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
    rows_schema = _rows_schema()
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
