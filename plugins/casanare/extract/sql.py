"""SQL sources through SQLAlchemy 2, streamed in chunks with bound interval parameters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from casanare.errors import ArchivoConErrores, BaseDeDatosNoDisponible, ErrorDeConfiguracion, Ubicacion
from casanare.extract.table import RawTable

# Passed as :desde when there is no previous interval, so one query serves full and incremental loads.
DESDE_CARGA_COMPLETA = datetime(1900, 1, 1)
HASTA_CARGA_COMPLETA = datetime(9999, 12, 31)


def sqlalchemy_url(
    conn_type: str | None,
    host: str | None,
    port: int | None,
    login: str | None,
    password: str | None,
    schema: str | None,
    extra: dict[str, Any] | None,
) -> str:
    """Build a SQLAlchemy URL from an Airflow connection's parts.

    ``extra.sqlalchemy_url`` wins when given (the simplest way to declare SQLite files).
    """
    from sqlalchemy.engine import URL

    if extra and extra.get("sqlalchemy_url"):
        return str(extra["sqlalchemy_url"])
    kind = (conn_type or "").lower()
    if kind == "sqlite":
        return f"sqlite:///{host or schema}"
    drivers = {"postgres": "postgresql+psycopg2", "postgresql": "postgresql+psycopg2", "mysql": "mysql+pymysql"}
    if kind not in drivers:
        raise ValueError(f"tipo de conexión SQL no soportado: {conn_type}")
    return URL.create(
        drivers[kind], username=login or None, password=password or None, host=host, port=port, database=schema
    ).render_as_string(hide_password=False)


def read_sql(
    url: str,
    query_path: Path,
    *,
    desde: datetime | None,
    hasta: datetime | None,
    chunk_rows: int,
    zona_horaria: str = "America/Bogota",
) -> RawTable:
    """Run the dataset's query and stream its rows.

    ``desde``/``hasta`` are bound as naive wall-clock times of ``zona_horaria``, the zone the
    source writes its own naive timestamps in.

    Raises:
        BaseDeDatosNoDisponible: the server can't be reached (retrying may help).
        ArchivoConErrores: the query fails (renamed table or column, syntax error).
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

    where = Ubicacion(archivo=query_path.name)
    try:
        query = query_path.read_text(encoding="utf-8")
    except OSError:
        raise ErrorDeConfiguracion(
            "No se encontró la consulta SQL del conjunto.",
            ubicacion=where,
            como_corregir=f"Cree include/sql/{query_path.name} o corrija 'consulta' en el catálogo.",
        ) from None
    params = {"desde": naive_local(desde, zona_horaria) or DESDE_CARGA_COMPLETA,
              "hasta": naive_local(hasta, zona_horaria) or HASTA_CARGA_COMPLETA}
    # Comments go first: text() would otherwise see ":desde" written in a comment as a parameter.
    statement = text(strip_comments(query))
    # Only the names SQLAlchemy itself found in the query are bound (never string formatting).
    names = set(statement._bindparams)
    unknown = sorted(names - set(params))
    if unknown:
        raise ErrorDeConfiguracion(
            f"La consulta SQL usa parámetros desconocidos: {', '.join(':' + n for n in unknown)}.",
            ubicacion=where,
            como_corregir="Use solo :desde y :hasta (el intervalo de la corrida); escriba los demás valores en la consulta.",
        )
    used = {name: params[name] for name in names}
    engine = create_engine(url, pool_pre_ping=True)
    try:
        connection = engine.connect()
    except (OperationalError, DBAPIError, OSError) as exc:
        engine.dispose()
        raise BaseDeDatosNoDisponible(
            "No fue posible conectarse a la base de datos de origen.",
            ubicacion=Ubicacion(archivo=query_path.name),
            como_corregir="Verifique que el servidor de base de datos esté encendido y que la conexión "
            "configurada en Airflow tenga el host, usuario y contraseña correctos.",
            detalles={"error": _error_class(exc)},
        ) from None
    try:
        result = connection.execution_options(stream_results=True, yield_per=chunk_rows).execute(statement, used)
    except SQLAlchemyError as exc:
        connection.close()
        engine.dispose()
        raise _query_failed(query_path, exc) from None
    headers = list(result.keys())

    released = False

    def release() -> None:
        # Idempotent: called when the rows run out and again by RawTable.close(), which also
        # covers a result whose rows were never read (an open cursor would hold table locks).
        nonlocal released
        if released:
            return
        released = True
        try:
            result.close()
            connection.close()
        finally:
            engine.dispose()

    def chunks() -> Iterator[list[list[Any]]]:
        try:
            while batch := result.fetchmany(chunk_rows):
                yield [list(row) for row in batch]
        except SQLAlchemyError as exc:
            raise _query_failed(query_path, exc) from None
        finally:
            release()

    return RawTable(headers=headers, chunks=chunks(), first_data_row=1, archivo=query_path.name, cerrar=release)


def strip_comments(query: str) -> str:
    """Remove ``-- …`` and ``/* … */`` comments, leaving quoted text and identifiers untouched."""
    out: list[str] = []
    i, n = 0, len(query)
    quote: str | None = None
    while i < n:
        ch = query[i]
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None
            i += 1
        elif ch in "'\"`":
            quote = ch
            out.append(ch)
            i += 1
        elif query.startswith("--", i):
            end = query.find("\n", i)
            i = n if end < 0 else end
        elif query.startswith("/*", i):
            end = query.find("*/", i + 2)
            out.append(" ")
            i = n if end < 0 else end + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def naive_local(value: datetime | None, zona_horaria: str) -> datetime | None:
    """An interval bound as the naive wall-clock time the source writes (its ``zona_horaria``).

    Binding an aware value would let each driver apply its own session time zone, and binding
    UTC against local timestamps would shift the window by five hours in Colombia: rows
    updated in those hours would fall between two runs and never be extracted. A naive bound
    is taken as UTC (the scheduler's clock).
    """
    from zoneinfo import ZoneInfo

    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(zona_horaria)).replace(tzinfo=None)


def _error_class(exc: Exception) -> str:
    """Driver error class and code only: a server message can quote data values."""
    orig = getattr(exc, "orig", None) or exc
    code = getattr(orig, "pgcode", None) or (orig.args[0] if getattr(orig, "args", None)
                                             and isinstance(orig.args[0], int) else None)
    return f"{type(orig).__name__}{f' ({code})' if code else ''}"


def _query_failed(query_path: Path, exc: Exception) -> ArchivoConErrores:
    return ArchivoConErrores(
        "La consulta SQL del conjunto falló en la base de datos de origen.",
        ubicacion=Ubicacion(archivo=query_path.name),
        como_corregir="Revise si cambió el nombre de una tabla o columna en el sistema de origen y "
        f"ajuste include/sql/{query_path.name}; pruebe la consulta en el servidor con un cliente SQL.",
        detalles={"error": _error_class(exc)},
    )
