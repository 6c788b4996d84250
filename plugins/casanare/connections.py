"""Resolve Airflow connections into the plain values the stages take.

Called only from task bodies (never at parse time). Connection names are fixed:
``datos_gov_co``, ``casanare_gov_co``, ``smtp_default``, ``clave_seudonimizacion`` and one per
SQL source as named in the catalog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from casanare.errors import ErrorDeConfiguracion

PORTAL_CONN = "datos_gov_co"
WEBSITE_CONN = "casanare_gov_co"
SMTP_CONN = "smtp_default"
KEY_CONN = "clave_seudonimizacion"


def _get(conn_id: str):
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise ErrorDeConfiguracion(
            f"No está configurada la conexión de Airflow '{conn_id}'.",
            como_corregir=f"El equipo de plataforma debe crear la conexión '{conn_id}' (variable AIRFLOW_CONN_"
            f"{conn_id.upper()} o en Admin → Connections).",
        ) from None


def pseudonymization_key() -> bytes:
    conn = _get(KEY_CONN)
    if not conn.password:
        raise ErrorDeConfiguracion(
            "La conexión clave_seudonimizacion no tiene clave en el campo password.",
            como_corregir="Configure la clave (al menos 32 caracteres aleatorios) en el campo password.",
        )
    return conn.password.encode("utf-8")


def sql_url(conn_id: str) -> str:
    from casanare.extract.sql import sqlalchemy_url

    conn = _get(conn_id)
    return sqlalchemy_url(conn.conn_type, conn.host, conn.port, conn.login, conn.password, conn.schema,
                          conn.extra_dejson)


def portal_config(**overrides: Any):
    """Values of the ``datos_gov_co`` connection (see ``publish.portal.hook.config_from_connection``)."""
    from casanare.publish.portal.hook import config_from_connection

    return config_from_connection(_get(PORTAL_CONN), **overrides)


def website_transport():
    """Local folder (conn_type ``fs``, extra ``path``) or SFTP (conn_type ``sftp``)."""
    from casanare.publish.website import LocalFolder

    conn = _get(WEBSITE_CONN)
    extra = conn.extra_dejson
    kind = (conn.conn_type or "fs").lower()
    if kind in {"fs", "file", "local"}:
        root = extra.get("path") or conn.host
        if not root:
            raise ErrorDeConfiguracion("La conexión casanare_gov_co no indica la carpeta (extra 'path').")
        return LocalFolder(Path(root))
    if kind == "sftp":
        from casanare.publish.sftp import SftpFolder

        return SftpFolder.from_connection(conn)
    raise ErrorDeConfiguracion(f"Tipo de conexión no soportado para casanare_gov_co: {kind}")


# Monitoring (monitoreo_datos_abiertos) ---------------------------------------------------------

HISTORY_CONN = "monitoreo_historial"


def monitoring_history_url() -> str:
    """SQLAlchemy URL of the monitoring history database (SQLite locally, PostgreSQL in production)."""
    return sql_url(HISTORY_CONN)


def portal_endpoint():
    """Read-only view of ``datos_gov_co`` for monitoring: base URL and app token."""
    from casanare.monitor.portal import endpoint_from_connection

    return endpoint_from_connection(_get(PORTAL_CONN))


def website_access_log() -> Path | None:
    """The website server's access log (extra ``registro_acceso`` of ``casanare_gov_co``), if configured."""
    path = (_get(WEBSITE_CONN).extra_dejson or {}).get("registro_acceso")
    return Path(path) if path else None
