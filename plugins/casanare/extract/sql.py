"""SQL sources through SQLAlchemy 2, streamed in chunks with bound interval parameters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from casanare.errors import ArchivoConErrores, BaseDeDatosNoDisponible, Ubicacion
from casanare.extract.table import RawTable

# Passed as :desde when there is no previous interval, so one query serves full and incremental loads.
DESDE_CARGA_COMPLETA = datetime(1900, 1, 1)


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
) -> RawTable:
    """Run the dataset's query and stream its rows.

    Raises:
        BaseDeDatosNoDisponible: the server can't be reached (retrying may help).
        ArchivoConErrores: the query fails (renamed table or column, syntax error).
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

    query = query_path.read_text(encoding="utf-8")
    params = {"desde": desde or DESDE_CARGA_COMPLETA, "hasta": hasta or datetime(2999, 1, 1)}
    statement = text(query)
    used = {name: value for name, value in params.items() if f":{name}" in query}
    engine = create_engine(url, pool_pre_ping=True)
    try:
        connection = engine.connect()
    except (OperationalError, DBAPIError) as exc:
        engine.dispose()
        raise BaseDeDatosNoDisponible(
            "No fue posible conectarse a la base de datos de origen.",
            ubicacion=Ubicacion(archivo=query_path.name),
            como_corregir="Verifique que el servidor de base de datos esté encendido y que la conexión "
            "configurada en Airflow tenga el host, usuario y contraseña correctos.",
            detalles={"error": type(exc.orig or exc).__name__},
        ) from None
    try:
        result = connection.execution_options(stream_results=True, yield_per=chunk_rows).execute(statement, used)
    except SQLAlchemyError as exc:
        connection.close()
        engine.dispose()
        raise ArchivoConErrores(
            "La consulta SQL del conjunto falló en la base de datos de origen.",
            ubicacion=Ubicacion(archivo=query_path.name),
            como_corregir="Revise si cambió el nombre de una tabla o columna en el sistema de origen y "
            f"ajuste include/sql/{query_path.name}.",
            detalles={"error": type(getattr(exc, "orig", None) or exc).__name__},
        ) from None
    headers = list(result.keys())

    def chunks() -> Iterator[list[list[Any]]]:
        try:
            while batch := result.fetchmany(chunk_rows):
                yield [list(row) for row in batch]
        finally:
            result.close()
            connection.close()
            engine.dispose()

    return RawTable(headers=headers, chunks=chunks(), first_data_row=1, archivo=query_path.name)
