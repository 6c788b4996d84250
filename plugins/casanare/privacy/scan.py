"""PII scan gate: the last check over every output column before anything is published.

It runs on the final anonymized frame (after the rules and k-anonymity) and fails the run with
:class:`~casanare.errors.DatosPersonalesDetectados` if a column still carries personal
identifiers. It never prints, logs or reports a value: only column names, kinds and shares.

Heuristics (documented in docs/privacidad.md), decided per column:

* Strong findings — an e-mail, a valid CO phone number (phonenumbers, region CO), a NIT with a
  valid check digit (python-stdnum), a number introduced by a document label ("cédula", "C.C.",
  "T.I.", "documento", "NIT"…) — block the run from the **first** value in a text column.
* Weak findings — a bare 6–11 digit number or a dotted one (1.098.765.432) that could be a cédula
  or a tarjeta de identidad; a value made only of common Colombian given names / surnames; in a
  free-text column, a run of two or more capitalized names (not a place named after a person,
  "Vía Luis Carlos Galán") — block the run when the share of non-null values with them reaches
  :data:`UMBRAL_DEBIL` (names: :data:`UMBRAL_NOMBRES`). Both are low (2 %, chosen with the two
  corpora in ``tests/unit/test_privacy_scan_corpus.py``); a column may raise its own threshold in
  the catalog (``umbral_datos_personales`` with a written ``motivo``, copied to the manifest).
* Exempt columns (``exentas``): columns published under a declared legal basis are not scanned;
  the report lists them.
* Column-type awareness: pseudonym columns (``seudonimizar``) must hold only ``P`` + 24 hex
  characters and are not scanned otherwise; code-like columns (DIVIPOLA, radicado, contrato,
  consecutivo, vigencia…) are exempt from the bare-number rule unless their name also says
  documento/cédula/teléfono; numeric columns (entero/decimal) are money, counts or years unless
  their name says they are an identifier, so only then are their integer values treated as
  document numbers, and phone-like values there block only above
  :data:`UMBRAL_TELEFONO_NUMERICO`; values that are multiples of 1,000 (round amounts) never count
  as documents or phones; dates, booleans and decimals with cents are not scanned.

Speed: each text column is reduced to its distinct values (one whose rows are nearly all
distinct is taken as it stands, each row counted once: the same sums), RE2 prefilters
(:mod:`casanare.privacy.prefilter`) flag the values that could hold a span, and only those go
through the exact detectors; numeric columns are checked with array arithmetic. Nothing is
sampled.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from casanare.catalog import Dataset
from casanare.distinct import value_counts
from casanare.errors import DatosPersonalesDetectados, Ubicacion
from casanare.privacy import detectors, prefilter

UMBRAL_DEBIL = 0.02
"""Share of non-null values with a weak document-number (or phone-shaped) finding that blocks a
text column. The red-team corpus hides cédulas in 3 % of a column; budget lines, SECOP objects
and amounts give none."""
UMBRAL_NOMBRES = 0.02
"""Share of non-null values that look like a person's name that blocks a column."""
UMBRAL_TELEFONO_NUMERICO = 0.5
"""Share of phone-like integers that blocks a numeric column whose name doesn't say identifier
(amounts between 3,000 and 3,599 million pesos look like mobile numbers)."""

_CODE_NAME = re.compile(
    r"(codigo|^cod_|_cod$|divipola|dane|radicado|consecutivo|contrato|proceso|rubro|vigencia|anio|periodo"
    r"|^numero_|^num_|^nro_|^id_|_id$|cuenta|cuipo|bpin|secop)"
)
_IDENTIFIER_NAME = re.compile(
    r"(documento|cedula|identificacion|celular|telefono|^tel_|_tel$|^nit|_nit$|^cc_|_cc$|tarjeta|correo|email)"
)
_FIX = {
    detectors.CORREO: "'eliminar' (o 'redactar_texto' si es texto libre)",
    detectors.TELEFONO: "'eliminar' o 'enmascarar' (o 'redactar_texto' si es texto libre)",
    detectors.NIT: "'eliminar' o 'seudonimizar' (o 'redactar_texto' si es texto libre)",
    detectors.DOCUMENTO: "'seudonimizar' o 'eliminar' (o 'redactar_texto' si es texto libre)",
    detectors.NOMBRE: "'eliminar' o 'seudonimizar' (o 'redactar_texto' si es texto libre)",
    "seudonimo_invalido": "'seudonimizar' (la columna debe contener solo seudónimos)",
}
_LABELS = {
    detectors.CORREO: "correos electrónicos",
    detectors.TELEFONO: "números de teléfono",
    detectors.NIT: "NIT con dígito de verificación válido",
    detectors.DOCUMENTO: "números de cédula o tarjeta de identidad",
    detectors.NOMBRE: "nombres de personas",
    "seudonimo_invalido": "valores que no son seudónimos",
}


FILAS_POR_PIEZA = 1_048_576
"""Rows of a text column reduced to distinct values at a time (a 1M-row table is one piece; a
value repeated across pieces is checked once per piece, with the same counts)."""


@dataclass
class ColumnResult:
    """Counts for one output column (no values)."""

    columna: str
    revisados: int = 0
    fuertes: dict[str, int] = field(default_factory=dict)
    debiles: dict[str, int] = field(default_factory=dict)
    hallazgo: str | None = None
    umbral_telefono: float | None = None  # None: the column's weak threshold

    def proporcion(self, kind: str) -> float:
        return self.debiles.get(kind, 0) / self.revisados if self.revisados else 0.0


def scan_frame(
    frame: pd.DataFrame, dataset: Dataset, names: frozenset[str], *, exentas: Collection[str] = frozenset()
) -> dict[str, Any]:
    """Scan every column of the publishable ``frame``; raise on a finding, else return the report.

    Args:
        frame: the publishable frame (published column names).
        dataset: its catalog entry (rules, personal-data kinds, per-column thresholds).
        names: given names and surnames (folded).
        exentas: columns (published or catalog name) with a declared legal basis to publish
            personal data: they are not scanned, and the report names them.

    Raises:
        DatosPersonalesDetectados: with ``ubicacion.columna`` (catalog name of the first offending
            column) and ``como_corregir`` naming the rule to declare; ``detalles`` lists every
            offending column with kind and share, never a value.
    """
    by_output = {c.nombre_salida: c for c in dataset.columnas if c.publicada}
    exempt = {
        name for name in frame.columns
        if name in exentas or (by_output.get(name) is not None and by_output[name].nombre in exentas)
    }
    results = []
    for name in frame.columns:
        if name in exempt:
            continue
        col = by_output.get(name)
        result = _scan_column(frame[name], name, col, names)
        _decide(result, _override(col))
        results.append(result)
    findings = [r for r in results if r.hallazgo]
    report = {
        "estado": "con_hallazgos" if findings else "sin_hallazgos",
        "columnas_revisadas": len(results),
        "valores_revisados": sum(r.revisados for r in results),
        "umbral_debil": UMBRAL_DEBIL,
        "umbral_nombres": UMBRAL_NOMBRES,
        # Per-column thresholds declared in the catalog, with the written reason (evidence).
        "umbrales_columna": {
            c.nombre_salida: {"umbral": c.umbral_datos_personales.umbral, "motivo": c.umbral_datos_personales.motivo}
            for c in by_output.values() if c.umbral_datos_personales is not None and c.nombre_salida in frame.columns
        },
        "columnas_exentas": sorted(exempt),
        # Weak signals under the threshold, for the operator's eye (counts only).
        "advertencias": {r.columna: r.debiles for r in results if r.debiles and not r.hallazgo},
    }
    if findings:
        first = findings[0]
        col = by_output.get(first.columna)
        source = col.nombre if col else first.columna
        kinds = ", ".join(f"{r.columna}: {_LABELS[r.hallazgo or '']}" for r in findings)
        raise DatosPersonalesDetectados(
            f"La revisión final encontró datos personales en {len(findings)} columna(s) que iban a publicarse "
            f"({kinds}). No se publicó nada.",
            ubicacion=_where(dataset, source),
            # Addressed to the dependencia: fix the file; the catalog is the platform team's job.
            como_corregir=(
                f"Si la columna '{source}' no debe contener esos datos, bórrelos de la fuente y vuelva a cargarla. Si "
                "sí debe contenerlos, avise al equipo de datos abiertos: protegerá la columna (regla "
                f"{_FIX[first.hallazgo or '']}) antes de publicar."
            ),
            detalles={
                "hallazgos": [
                    {
                        "columna": r.columna,
                        "tipo": r.hallazgo,
                        "valores_revisados": r.revisados,
                        "valores_con_hallazgo": r.fuertes.get(r.hallazgo or "", 0) + r.debiles.get(r.hallazgo or "", 0),
                    }
                    for r in findings
                ],
            },
        )
    return report


def _where(dataset: Dataset, column: str) -> Ubicacion:
    """The source file (and sheet) the dependencia edits, plus the catalog column name."""
    from casanare.catalog import FuenteArchivo

    fuente = dataset.fuente
    if isinstance(fuente, FuenteArchivo):
        hoja = fuente.hoja if isinstance(fuente.hoja, str) else None
        return Ubicacion(archivo=fuente.ruta.rsplit("/", 1)[-1], hoja=hoja, columna=column)
    return Ubicacion(columna=column)


def _override(col: Any) -> float | None:
    umbral = getattr(col, "umbral_datos_personales", None)
    return umbral.umbral if umbral is not None else None


def _scan_column(series: pd.Series, name: str, col: Any, names: frozenset[str]) -> ColumnResult:
    """Detection counts for one column (no decision; see :func:`_decide`)."""
    result = ColumnResult(name)
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_datetime64_any_dtype(series) or _is_date(series):
        return result
    values = series.dropna()
    if values.empty:
        return result
    rule = col.regla.accion if col is not None else None
    if pd.api.types.is_numeric_dtype(series) and rule != "seudonimizar":
        result.revisados = len(values)
        _scan_numeric(values, name, result)
        return result
    free_text = rule == "redactar_texto" or (col is not None and col.dato_personal == "texto_libre")
    declared_name = col is not None and col.dato_personal == "nombre"
    strings = _arrow_strings(values)
    # Every count is a sum over values, so the column is reduced to its distinct values a piece
    # at a time with the same totals (a nearly all-distinct piece is scanned as it stands: one hash
    # table of 5M unique ids was +1.1 GB at once).
    for start in range(0, len(strings), FILAS_POR_PIEZA):
        uniques, counts = value_counts(strings.slice(start, FILAS_POR_PIEZA))
        result.revisados += int(counts.sum())
        if rule == "seudonimizar":
            bad = int(counts[~prefilter.is_pseudonym(uniques)].sum())
            if bad:
                result.debiles["seudonimo_invalido"] = result.debiles.get("seudonimo_invalido", 0) + bad
            continue
        _scan_text(uniques, counts, name, result, names, free_text=free_text, check_names=not declared_name)
    return result


def _is_date(series: pd.Series) -> bool:
    """Dates as ``date32``/``date64`` Arrow dtypes (what extraction gives ``fecha`` columns)."""
    dtype = getattr(series.dtype, "pyarrow_dtype", None)
    return dtype is not None and (pa.types.is_date(dtype) or pa.types.is_timestamp(dtype))


def _arrow_strings(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    if not (pd.api.types.is_string_dtype(values.dtype) and values.dtype != object):
        values = values.astype("string")
    arr = pa.array(values, from_pandas=True)
    return arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else arr.cast(pa.string())


def _scan_numeric(values: pd.Series, name: str, result: ColumnResult) -> None:
    numeric = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype="float64", na_value=np.nan)
    numeric = numeric[~np.isnan(numeric)]
    integral = numeric[(numeric % 1 == 0) & (numeric % 1000 != 0) & (numeric > 0)]
    if integral.size == 0:
        return
    # Same as the regex 3[0-5]\d{8}|60[1-8]\d{7} on the decimal digits, as ranges.
    phones = int((((integral >= 3_000_000_000) & (integral <= 3_599_999_999))
                  | ((integral >= 6_010_000_000) & (integral <= 6_089_999_999))).sum())
    identifier_named = bool(_IDENTIFIER_NAME.search(name))
    if phones:
        # In a column named as an identifier (telefono, celular…) a phone is a strong signal;
        # elsewhere it may be an amount (3,000–3,599 million pesos) and only its share counts.
        (result.fuertes if identifier_named else result.debiles)[detectors.TELEFONO] = phones
    if not identifier_named:
        result.umbral_telefono = UMBRAL_TELEFONO_NUMERICO
    else:
        docs = int(((integral >= 100_000) & (integral <= 99_999_999_999)).sum())  # 6–11 digits
        if docs:
            result.debiles[detectors.DOCUMENTO] = docs


def _scan_text(
    uniques: pa.Array, counts: np.ndarray, name: str, result: ColumnResult, names: frozenset[str], *,
    free_text: bool, check_names: bool,
) -> None:
    code_like = bool(_CODE_NAME.search(name)) and not _IDENTIFIER_NAME.search(name)
    candidates = prefilter.strong_candidates(uniques)
    if not code_like:
        candidates |= prefilter.weak_candidates(uniques)
    name_mask = np.zeros(len(uniques), dtype=bool)
    if check_names and names:
        name_mask = prefilter.name_candidates(uniques, _name_parts(names), free_text=free_text)
    candidates = (candidates | name_mask) & ~prefilter.is_pseudonym(uniques)
    for i in np.flatnonzero(candidates):
        text = uniques[int(i)].as_py()
        n = int(counts[i])
        kinds_strong: set[str] = set()
        kinds_weak: set[str] = set()
        for span in detectors.identifier_spans(text):
            if span.strong:
                kinds_strong.add(span.kind)
            elif not code_like and not _is_round(text[span.start:span.end]):
                kinds_weak.add(span.kind)
        if name_mask[i] and (
            detectors.is_person_name(text, names) or (free_text and detectors.name_spans(text, names))
        ):
            kinds_weak.add(detectors.NOMBRE)
        for kind in kinds_strong:
            result.fuertes[kind] = result.fuertes.get(kind, 0) + n
        for kind in kinds_weak:
            result.debiles[kind] = result.debiles.get(kind, 0) + n


@lru_cache(maxsize=4)
def _name_parts(names: frozenset[str]) -> pa.Array:
    return prefilter.name_parts(names)


def _is_round(number: str) -> bool:
    digits = re.sub(r"\D", "", number)
    return bool(digits) and digits.endswith("000")


def _decide(result: ColumnResult, override: float | None = None) -> None:
    """Strong findings block at any count; weak ones from their share (catalog override first)."""
    if result.debiles.get("seudonimo_invalido"):
        result.hallazgo = "seudonimo_invalido"
        return
    for kind in (detectors.CORREO, detectors.NIT, detectors.DOCUMENTO, detectors.TELEFONO):
        if result.fuertes.get(kind):
            result.hallazgo = kind
            return
    weak = UMBRAL_DEBIL if override is None else override
    names = UMBRAL_NOMBRES if override is None else override
    phone = weak if result.umbral_telefono is None else result.umbral_telefono
    if result.proporcion(detectors.DOCUMENTO) >= weak:
        result.hallazgo = detectors.DOCUMENTO
    elif result.proporcion(detectors.TELEFONO) >= phone:
        result.hallazgo = detectors.TELEFONO
    elif result.proporcion(detectors.NOMBRE) >= names:
        result.hallazgo = detectors.NOMBRE
