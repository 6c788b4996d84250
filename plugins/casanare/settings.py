"""Deployment settings read from the environment, with defaults for the embedded run.

Only plain values live here (paths and URLs); endpoints and secrets are Airflow connections.
Reading the environment is cheap and safe at DAG-parse time.
"""

from __future__ import annotations

import os
from pathlib import Path

# plugins/casanare/settings.py -> repository (or /opt/airflow in the container) root.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def include_dir() -> Path:
    """Folder holding catalog/, expectations/, sql/, reference/ and templates/."""
    return Path(os.environ.get("CASANARE_INCLUDE_DIR", PROJECT_ROOT / "include"))


def catalog_dir() -> Path:
    return Path(os.environ.get("CASANARE_CATALOG_DIR", include_dir() / "catalog"))


def sources_base() -> Path:
    """Base folder that relative source paths in the catalog are resolved against."""
    return Path(os.environ.get("CASANARE_SOURCE_BASE", PROJECT_ROOT / "data" / "fuentes"))


def staging_url() -> str:
    """Base URL of the staging area: ``file://…`` locally, ``s3://…`` in production."""
    default = (PROJECT_ROOT / "data" / "staging").as_uri()
    return os.environ.get("CASANARE_STAGING_URL", default)


def data_docs_dir() -> Path:
    """Local folder where the GX Data Docs static site is built for operators."""
    return Path(os.environ.get("CASANARE_DATA_DOCS_DIR", PROJECT_ROOT / "data" / "data_docs"))


def data_docs_base_url() -> str:
    """Public (operator-facing) URL of the Data Docs site; defaults to a file URL."""
    return os.environ.get("CASANARE_DATA_DOCS_URL", data_docs_dir().as_uri()).rstrip("/")


def airflow_base_url() -> str:
    """Base URL of the Airflow UI, used to link task logs from e-mails."""
    return os.environ.get("CASANARE_AIRFLOW_URL", "http://localhost:8080").rstrip("/")


def platform_team_emails() -> list[str]:
    """Platform team addresses copied on every failure e-mail."""
    raw = os.environ.get("CASANARE_PLATFORM_EMAILS", "datos.abiertos@casanare.gov.co")
    return [item.strip() for item in raw.split(",") if item.strip()]


def portal_public_url() -> str:
    """Public base URL of the open-data portal, for links shown to people."""
    return os.environ.get("CASANARE_PORTAL_PUBLIC_URL", "https://www.datos.gov.co").rstrip("/")


def website_public_url() -> str:
    """Public base URL of the open-data section on the department's website."""
    default = "https://www.casanare.gov.co/transparencia/datos-abiertos"
    return os.environ.get("CASANARE_WEBSITE_PUBLIC_URL", default).rstrip("/")


def communications_emails() -> list[str]:
    """The communications team (Fase III): receives the weekly list of ready-to-post announcements."""
    raw = os.environ.get("CASANARE_COMUNICACIONES_EMAILS", "comunicaciones@casanare.gov.co")
    return [item.strip() for item in raw.split(",") if item.strip()]
