"""The ``datos_gov_co`` connection: values for :class:`PortalConfig` and the thin Airflow hook."""

from __future__ import annotations

from typing import Any

from casanare.publish.portal.client import PortalClient, PortalConfig

_FIELDS = (("timeout", float), ("chunk_size", int), ("max_attempts", int), ("backoff_base", float),
           ("backoff_max", float), ("retry_after_max", float), ("page_size", int), ("sample_size", int),
           ("soda_max_filas", int), ("revision_timeout", float))


def config_from_connection(conn: Any, **overrides: Any) -> PortalConfig:
    """Build a :class:`PortalConfig` from an Airflow connection object (duck-typed).

    Connection fields: host (``www.datos.gov.co``), port, schema (``https``/``http``), login +
    password (user, or API key id + secret). Extra: ``app_token``, ``verify`` (true/false or a CA
    bundle path, also ``ca_bundle``), ``api_key_id``/``api_key_secret`` (instead of login/password)
    and the tuning values of :class:`PortalConfig` (``timeout``, ``chunk_size``, ``max_attempts``,
    ``backoff_base``, ``backoff_max``, ``retry_after_max``, ``page_size``, ``sample_size``,
    ``soda_max_filas``, ``revision_timeout``).
    """
    extra = conn.extra_dejson or {}
    scheme = (conn.schema or extra.get("scheme") or "https").rstrip(":/")
    port = f":{conn.port}" if conn.port else ""
    verify: bool | str = extra.get("ca_bundle") or extra.get("verify", True)
    if isinstance(verify, str) and verify.lower() in {"true", "false"}:
        verify = verify.lower() == "true"
    values: dict[str, Any] = {
        "base_url": f"{scheme}://{conn.host}{port}",
        "app_token": extra.get("app_token"),
        "username": extra.get("api_key_id") or conn.login or None,
        "password": extra.get("api_key_secret") or conn.password or None,
        "verify": verify,
    }
    for name, kind in _FIELDS:
        if extra.get(name) is not None:
            values[name] = kind(extra[name])
    values.update(overrides)
    return PortalConfig(**values)


def get_hook_class():
    """The Airflow hook class, built on first use so importing this module never imports Airflow."""
    global _HOOK_CLASS
    if _HOOK_CLASS is None:
        from airflow.sdk import BaseHook

        class SocrataDatosGovCoHook(BaseHook):
            """Airflow hook owning the ``datos_gov_co`` connection; hands out a :class:`PortalClient`."""

            conn_name_attr = "socrata_conn_id"
            default_conn_name = "datos_gov_co"
            conn_type = "http"
            hook_name = "Socrata (datos.gov.co)"

            def __init__(self, socrata_conn_id: str = default_conn_name, **overrides: Any) -> None:
                super().__init__()
                self.socrata_conn_id = socrata_conn_id
                self.overrides = overrides

            def get_config(self) -> PortalConfig:
                return config_from_connection(self.get_connection(self.socrata_conn_id), **self.overrides)

            def get_conn(self) -> PortalClient:
                return PortalClient(self.get_config())

        _HOOK_CLASS = SocrataDatosGovCoHook
    return _HOOK_CLASS


_HOOK_CLASS = None
