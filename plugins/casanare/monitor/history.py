"""Monitoring history in SQL through SQLAlchemy: one row per dataset per day, plus daily indicators.

SQLite for ``make run``, PostgreSQL in production and in the tests (connection
``monitoreo_historial``). The schema is created if missing (``ensure_schema``); a re-run on the
same day replaces that day's rows, so the DAG is idempotent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()

diario = sa.Table(
    "monitoreo_conjunto_diario",
    metadata,
    sa.Column("fecha", sa.Date, primary_key=True),
    sa.Column("conjunto", sa.String(64), primary_key=True),
    sa.Column("dependencia", sa.String(200), nullable=False),
    sa.Column("estado", sa.String(20), nullable=False),
    sa.Column("en_gracia", sa.Boolean, nullable=False, default=False),
    sa.Column("sin_datos_nuevos", sa.Boolean, nullable=False, default=False),
    sa.Column("ultimo_dato_nuevo", sa.DateTime(timezone=True)),
    sa.Column("ultima_ejecucion", sa.DateTime(timezone=True)),
    sa.Column("vistas_portal", sa.Integer),
    sa.Column("descargas_portal", sa.Integer),
    sa.Column("vistas_sitio", sa.Integer),
    sa.Column("descargas_sitio", sa.Integer),
    sa.Column("puntaje_mintic", sa.Float),
    sa.Column("sello_nivel_1", sa.Boolean),
    sa.Column("filas_publicadas", sa.Integer),
    sa.Column("campos_con_deriva", sa.Integer, nullable=False, default=0),
    sa.Column("hallazgos_abiertos", sa.Integer, nullable=False, default=0),
    sa.Column("registrado", sa.DateTime(timezone=True), nullable=False),
)

indicadores = sa.Table(
    "monitoreo_indicador_diario",
    metadata,
    sa.Column("fecha", sa.Date, primary_key=True),
    sa.Column("indicador", sa.String(80), primary_key=True),
    sa.Column("valor", sa.Float),
)

COLUMNAS_DIARIO = tuple(c.name for c in diario.columns)


def engine(url: str) -> sa.Engine:
    return sa.create_engine(url, future=True, pool_pre_ping=True)


def ensure_schema(eng: sa.Engine) -> None:
    """Create the tables that are missing (never alters or drops existing ones)."""
    metadata.create_all(eng, checkfirst=True)


def save_day(eng: sa.Engine, day: date, rows: list[dict[str, Any]], indicators: dict[str, float | None]) -> int:
    """Replace ``day``'s rows and indicators in one transaction. Returns the rows written."""
    clean = [{k: r.get(k) for k in COLUMNAS_DIARIO} | {"fecha": day} for r in rows]
    with eng.begin() as conn:
        conn.execute(diario.delete().where(diario.c.fecha == day))
        conn.execute(indicadores.delete().where(indicadores.c.fecha == day))
        if clean:
            conn.execute(diario.insert(), clean)
        if indicators:
            conn.execute(indicadores.insert(),
                         [{"fecha": day, "indicador": k, "valor": v} for k, v in sorted(indicators.items())])
    return len(clean)


def _select(eng: sa.Engine, table: sa.Table, since: date | None) -> list[dict[str, Any]]:
    """Rows of ``table`` ordered by its primary key (day first), from ``since`` when given."""
    query = sa.select(table).order_by(*table.primary_key.columns)
    if since is not None:
        query = query.where(table.c.fecha >= since)
    with eng.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def dataset_rows(eng: sa.Engine, since: date | None = None) -> list[dict[str, Any]]:
    """Daily dataset rows, oldest first."""
    return _select(eng, diario, since)


def indicator_rows(eng: sa.Engine, since: date | None = None) -> list[dict[str, Any]]:
    """Daily indicator values, oldest first."""
    return _select(eng, indicadores, since)

