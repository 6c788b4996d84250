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
from casanare.privacy.kanon import class_sizes, group_signatures, protect
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
    grupo: list[tuple[Dataset, pd.DataFrame]] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return the publishable frame and a privacy report with no personal data in it.

    Args:
        df: extracted frame (catalog column names, declared types).
        dataset: catalog entry with the per-column rules.
        key: pseudonymization key (connection ``clave_seudonimizacion``); required only when a
            column is pseudonymized (at least 32 bytes).
        reference: date used to turn birth dates into ages (the run's date).
        names: given names and surnames for redaction and the scan (default: the shipped list).
        grupo: the other datasets of its ``grupo_seudonimos`` with their last published frame;
            a person's rows there count toward k here (the group is checked together).

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
        return _protect(published, dataset, names, report, grupo or [])
    except DatosPersonalesDetectados as exc:
        # The manifest records what the rules did too (names and counts, never values).
        exc.detalles.setdefault("informe_reglas", {k: report[k] for k in (
            "columnas_publicadas", "columnas_eliminadas", "columnas_no_declaradas_eliminadas", "filas_entrada")})
        raise


def legal_basis_exempt(dataset: Dataset) -> list[str]:
    """Columns the final scan skips: published as they are under a declared ``fundamento_legal``.

    A pseudonymized column keeps being scanned even with a legal basis: its values must all be
    pseudonyms, and a raw identifier there is still a leak.
    """
    return [c.nombre_salida for c in dataset.columnas_con_fundamento_legal if c.regla.accion == "publicar"]


def checked_columns(dataset: Dataset) -> list[str]:
    """Columns k-anonymity counts (see ``Dataset.columnas_k``)."""
    return dataset.columnas_k


def hierarchies_of(dataset: Dataset) -> dict[str, str]:
    """Generalization hierarchy of each checked column: declared, or deduced from its rule."""
    micro = dataset.microdatos
    declared = dict(micro.jerarquias) if micro else {}
    checked = set(checked_columns(dataset))
    for col in dataset.columnas_publicadas:
        name = col.nombre_salida
        if name not in checked or name in declared:
            continue
        if col.regla.metodo == "rango_edad":
            declared[name] = "edad"
        elif col.regla.metodo == "mes":
            declared[name] = "mes"
        elif col.dato_personal == "municipio" and col.tipo_salida == "texto":
            declared[name] = "municipio"
    return declared


def _linked(dataset: Dataset, grupo: list[tuple[Dataset, pd.DataFrame]]) -> dict[str, int] | None:
    if not dataset.grupo_seudonimos:
        return None
    frames = []
    for other, frame in grupo:
        if other.slug == dataset.slug or other.grupo_seudonimos != dataset.grupo_seudonimos:
            continue
        person = next(iter(other.columnas_persona), None)
        cols = [c for c in checked_columns(other) if c in frame.columns]
        if person and person in frame.columns and cols:
            frames.append((frame, person, cols))
    return group_signatures(frames)


def _protect(
    published: pd.DataFrame, dataset: Dataset, names: frozenset[str], report: dict[str, Any],
    grupo: list[tuple[Dataset, pd.DataFrame]],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """k-anonymity (microdata) and the PII scan over the rule-applied frame."""
    if dataset.microdatos:
        # Scan before suppression too: a phone pasted into a published column is a catalog or
        # source problem to report even when k-anonymity happens to drop that row.
        scan_frame(published, dataset, names, exentas=legal_basis_exempt(dataset))
        micro = dataset.microdatos
        published, report["k_anonimato"] = protect(
            published, cols=checked_columns(dataset), k=micro.k, max_share=micro.max_supresion,
            hierarchies=hierarchies_of(dataset), person=next(iter(dataset.columnas_persona), None),
            linked=_linked(dataset, grupo), slug=dataset.slug,
        )
        report["k_anonimato"]["excluidas_de_k"] = dict(micro.excluir_de_k)
        report["k_anonimato"]["grupo_seudonimos"] = dataset.grupo_seudonimos
    else:
        report["k_anonimato"] = None
    report["revision_datos_personales"] = scan_frame(published, dataset, names, exentas=legal_basis_exempt(dataset))
    report["filas"] = len(published)
    return published, report


def release_violation(frame: pd.DataFrame, dataset: Dataset) -> str | None:
    """Why an earlier release fails today's k-anonymity, or None (the reason holds no values).

    Used to withdraw past website versions: each class over today's checked columns must have at
    least ``k`` rows, or persons when the release carries today's person pseudonym.
    """
    micro = dataset.microdatos
    cols = [c for c in dataset.columnas_k if c in frame.columns]
    if micro is None or frame.empty or not cols:
        return None
    person = next((p for p in dataset.columnas_persona if p in frame.columns), None)
    smallest = int(class_sizes(frame, cols, person).min())
    if smallest < micro.k:
        return f"no cumple k={micro.k} sobre {', '.join(cols)} (clase más pequeña: {smallest})"
    return None
