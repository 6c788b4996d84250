"""Catalog checks that warn instead of refusing: a description that promises a dropped column.

A dataset's description is what citizens read on datos.gov.co and the website; when it names a
column that the privacy rules drop, it promises data that is never published. Sentences that
say what is *not* included ("No incluye nombres…") are the honest way to name them and are skipped.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from casanare.catalog import Dataset

log = logging.getLogger(__name__)
NEGACIONES = re.compile(r"\b(no incluye|no contiene|no se publica|sin |excluye|se eliminan?)\b", re.IGNORECASE)


def dropped_columns_in_description(ds: Dataset) -> list[str]:
    """Visible titles of dropped columns that the description names outside a "not included" sentence."""
    published = [c.titulo_visible.lower() for c in ds.columnas if c.publicada]
    sentences = [s for s in re.split(r"(?<=[.;:])\s+", ds.descripcion) if not NEGACIONES.search(s)]
    text = " ".join(sentences).lower()
    found = []
    for col in ds.columnas:
        if col.publicada:
            continue
        title = col.titulo_visible.lower()
        # "municipio" inside the published "Código DIVIPOLA del municipio" is not a promise of its own.
        occurrences = len(re.findall(rf"\b{re.escape(title)}\b", text))
        covered = sum(len(re.findall(rf"\b{re.escape(p)}\b", text)) for p in published if title in p)
        if occurrences > covered:
            found.append(col.titulo_visible)
    return found


def warn_descriptions(datasets: list[Dataset], directory) -> None:
    for ds in datasets:
        for title in dropped_columns_in_description(ds):
            log.warning("%s/%s.yaml, campo descripcion: menciona la columna '%s', que no se publica "
                        "(regla de privacidad); corrija la descripción.", directory, ds.slug, title)
