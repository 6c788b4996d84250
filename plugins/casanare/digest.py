"""Weekly success digest per dependencia (catalog ``resumen_exitos: semanal``).

Pure functions: the ``avisos`` DAG passes each dataset's success history (``DatasetArea.history()``)
and the week's bounds; nothing here reads storage or sends mail.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from casanare.catalog import Dataset
from casanare.notify import SUBJECT_PREFIX, compose


def _when(item: dict[str, Any]) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(item.get("fecha")))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # the platform records UTC


def week_summary(ds: Dataset, history: list[dict[str, Any]], desde: datetime, hasta: datetime,
                 links: dict[str, str]) -> dict[str, Any]:
    """Counts for one dataset: successes in ``[desde, hasta)``, the last one and its published rows."""
    dated = [(when, item) for item in history if (when := _when(item)) is not None]
    in_week = [(w, i) for w, i in dated if desde <= w < hasta]
    last_w, last = max(dated, key=lambda pair: pair[0]) if dated else (None, {})
    return {
        "nombre": ds.nombre,
        "publicaciones": len(in_week),
        "ultima": last_w.strftime("%Y-%m-%d") if last_w else None,
        "filas": last.get("filas_publicadas"),
        "portal": links.get("portal", ""),
        "sitio": links.get("sitio", ""),
    }


def by_dependencia(datasets: list[Dataset]) -> dict[str, list[Dataset]]:
    """Datasets with the weekly digest on, grouped by dependencia (one e-mail each)."""
    groups: dict[str, list[Dataset]] = defaultdict(list)
    for ds in datasets:
        if ds.resumen_exitos == "semanal":
            groups[ds.dependencia].append(ds)
    return dict(groups)


def digest_message(dependencia: str, datasets: list[Dataset], items: list[dict[str, Any]], desde: datetime,
                   hasta: datetime, *, sender: str, cc: list[str]) -> EmailMessage:
    """One e-mail to every contact of the dependencia's datasets (text + HTML)."""
    subject = f"{SUBJECT_PREFIX} Resumen semanal de {dependencia}"
    values = {
        "asunto": subject,
        "dependencia": dependencia,
        "desde": desde.strftime("%Y-%m-%d"),
        "hasta": hasta.strftime("%Y-%m-%d"),
        "conjuntos": items,
        "equipo": ", ".join(cc) or sender,
    }
    recipients = list(dict.fromkeys(str(c) for ds in datasets for c in ds.contactos))
    return compose(subject, sender, recipients, cc, "resumen", **values)
