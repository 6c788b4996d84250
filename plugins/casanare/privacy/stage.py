"""The privacy stage as one call: rules, default deny, k-anonymity, PII scan and the report.

Order matters and is fixed here:

1. per-column rules (``rules.apply_rules``): undeclared, ``clasificada`` and ``reservada`` columns
   are dropped, the rest transformed and renamed to their published names;
2. for microdata, k-anonymity with local suppression on the published quasi-identifiers
   (``kanon.k_anonymize``), preceded by a first PII scan so that identifiers are reported even
   in rows that suppression would drop;
3. the PII scan over every output column of the final frame (``scan.scan_frame``).

The caller writes ``anonimizado.parquet`` only if all three pass, and publishing tasks read only
that file, so a failure here means nothing reaches a target.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from casanare.catalog import Dataset
from casanare.errors import DatosPersonalesDetectados, ErrorDeConfiguracion
from casanare.privacy import detectors
from casanare.privacy.kanon import k_anonymize
from casanare.privacy.rules import apply_rules
from casanare.privacy.scan import scan_frame


def reference_names(reference_dir: Path | None = None) -> frozenset[str]:
    """Common Colombian given names and surnames shipped in ``include/reference``."""
    if reference_dir is None:
        from casanare import settings

        reference_dir = settings.include_dir() / "reference"
    names = detectors.names_from_reference(str(reference_dir))
    if not names:
        raise ErrorDeConfiguracion(
            f"Falta la lista de nombres de referencia ({reference_dir / detectors.NAMES_FILE}).",
            como_corregir="Restaure include/reference/nombres_colombianos.txt (un nombre o apellido por línea).",
        )
    return names


def anonimizar(
    df: pd.DataFrame,
    dataset: Dataset,
    *,
    key: bytes | str | None,
    reference: date,
    names: frozenset[str] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return the publishable frame and a privacy report with no personal data in it.

    Args:
        df: extracted frame (catalog column names, declared types).
        dataset: catalog entry with the per-column rules.
        key: pseudonymization key (connection ``clave_seudonimizacion``); required only when a
            column is pseudonymized (at least 32 bytes).
        reference: date used to turn birth dates into ages (the run's date).
        names: given names and surnames for redaction and the scan (default: the shipped list).

    Raises:
        DatosPersonalesDetectados: k-anonymity can't be reached within ``max_supresion``
            (``ReidentificacionPosible``) or the final scan found identifiers in a column.
        ClaveInvalida: a column is pseudonymized and the key is missing or too short.
    """
    names = reference_names() if names is None else names
    rows_in = len(df)
    published, report = apply_rules(df, dataset, key=key, reference=reference, names=names)
    report["filas_entrada"] = rows_in
    try:
        return _protect(published, dataset, names, report)
    except DatosPersonalesDetectados as exc:
        # The manifest records what the rules did too (names and counts, never values).
        exc.detalles.setdefault("informe_reglas", {k: report[k] for k in (
            "columnas_publicadas", "columnas_eliminadas", "columnas_no_declaradas_eliminadas", "filas_entrada")})
        raise


def _protect(
    published: pd.DataFrame, dataset: Dataset, names: frozenset[str], report: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """k-anonymity (microdata) and the PII scan over the rule-applied frame."""
    if dataset.microdatos:
        # Scan before suppression too: a phone pasted into a published column is a catalog or
        # source problem to report even when k-anonymity happens to drop that row.
        scan_frame(published, dataset, names)
        micro = dataset.microdatos
        published, report["k_anonimato"] = k_anonymize(
            published, list(micro.cuasi_identificadores), micro.k, micro.max_supresion, slug=dataset.slug
        )
    else:
        report["k_anonimato"] = None
    report["revision_datos_personales"] = scan_frame(published, dataset, names)
    report["filas"] = len(published)
    return published, report
