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
  free-text column, a run of two or more capitalized names — block the run when the share of
  non-null values with them reaches :data:`UMBRAL_DEBIL` (names: :data:`UMBRAL_NOMBRES`).
* Column-type awareness: pseudonym columns (``seudonimizar``) must hold only ``P`` + 24 hex
  characters and are not scanned otherwise; code-like columns (DIVIPOLA, radicado, contrato,
  consecutivo, vigencia…) are exempt from the bare-number rule unless their name also says
  documento/cédula/teléfono; numeric columns (entero/decimal) are money, counts or years unless
  their name says they are an identifier, so only then are their integer values treated as
  document numbers, and phone-like values there block only above
  :data:`UMBRAL_TELEFONO_NUMERICO`; values that are multiples of 1,000 (round amounts) never count
  as documents or phones; dates, booleans and decimals with cents are not scanned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from casanare.catalog import Dataset
from casanare.errors import DatosPersonalesDetectados, Ubicacion
from casanare.privacy import detectors

UMBRAL_DEBIL = 0.2
"""Share of non-null values with a weak document-number finding that blocks a column."""
UMBRAL_NOMBRES = 0.1
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


@dataclass
class ColumnResult:
    """Counts for one output column (no values)."""

    columna: str
    revisados: int = 0
    fuertes: dict[str, int] = field(default_factory=dict)
    debiles: dict[str, int] = field(default_factory=dict)
    hallazgo: str | None = None
    umbral_telefono: float = UMBRAL_DEBIL

    def proporcion(self, kind: str) -> float:
        return self.debiles.get(kind, 0) / self.revisados if self.revisados else 0.0


def scan_frame(frame: pd.DataFrame, dataset: Dataset, names: frozenset[str]) -> dict[str, Any]:
    """Scan every column of the publishable ``frame``; raise on a finding, else return the report.

    Raises:
        DatosPersonalesDetectados: with ``ubicacion.columna`` (catalog name of the first offending
            column) and ``como_corregir`` naming the rule to declare; ``detalles`` lists every
            offending column with kind and share, never a value.
    """
    by_output = {c.nombre_salida: c for c in dataset.columnas if c.publicada}
    results = [
        _scan_column(frame[name], name, by_output.get(name), names) for name in frame.columns
    ]
    findings = [r for r in results if r.hallazgo]
    report = {
        "estado": "con_hallazgos" if findings else "sin_hallazgos",
        "columnas_revisadas": len(results),
        "valores_revisados": sum(r.revisados for r in results),
        "umbral_debil": UMBRAL_DEBIL,
        "umbral_nombres": UMBRAL_NOMBRES,
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


def _scan_column(series: pd.Series, name: str, col: Any, names: frozenset[str]) -> ColumnResult:
    result = ColumnResult(name)
    values = series.dropna()
    if values.empty or pd.api.types.is_bool_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
        return result
    counts = values.astype("string").value_counts(dropna=True)
    result.revisados = int(counts.sum())
    rule = col.regla.accion if col is not None else None
    if rule == "seudonimizar":
        bad = int(sum(n for v, n in counts.items() if not detectors.is_pseudonym(str(v))))
        if bad:
            result.debiles["seudonimo_invalido"] = bad
            result.hallazgo = "seudonimo_invalido"
        return result
    if pd.api.types.is_numeric_dtype(series):
        _scan_numeric(values, name, result)
    else:
        free_text = rule == "redactar_texto" or (col is not None and col.dato_personal == "texto_libre")
        declared_name = col is not None and col.dato_personal == "nombre"
        _scan_text(counts, name, result, names, free_text=free_text, check_names=not declared_name)
    return result


def _scan_numeric(values: pd.Series, name: str, result: ColumnResult) -> None:
    numeric = pd.to_numeric(values, errors="coerce").dropna()
    integral = numeric[(numeric % 1 == 0) & (numeric % 1000 != 0) & (numeric > 0)]
    if integral.empty:
        return
    as_text = integral.astype("int64").astype(str)
    digits = as_text.str.len()
    phones = int((as_text.str.fullmatch(r"3[0-5]\d{8}|60[1-8]\d{7}")).sum())
    if phones:
        result.debiles[detectors.TELEFONO] = phones
    identifier_named = bool(_IDENTIFIER_NAME.search(name))
    if not identifier_named:
        result.umbral_telefono = UMBRAL_TELEFONO_NUMERICO
    if identifier_named:
        docs = int(((digits >= 6) & (digits <= 11)).sum())
        if docs:
            result.debiles[detectors.DOCUMENTO] = docs
    _decide(result)


def _scan_text(
    counts: pd.Series, name: str, result: ColumnResult, names: frozenset[str], *, free_text: bool, check_names: bool
) -> None:
    code_like = bool(_CODE_NAME.search(name)) and not _IDENTIFIER_NAME.search(name)
    for value, n in counts.items():
        text = str(value)
        if detectors.is_pseudonym(text):
            continue
        kinds_strong: set[str] = set()
        kinds_weak: set[str] = set()
        for span in detectors.identifier_spans(text):
            if span.strong:
                kinds_strong.add(span.kind)
            elif not code_like and not _is_round(text[span.start:span.end]):
                kinds_weak.add(span.kind)
        if check_names and names and (
            detectors.is_person_name(text, names) or (free_text and detectors.name_spans(text, names))
        ):
            kinds_weak.add(detectors.NOMBRE)
        for kind in kinds_strong:
            result.fuertes[kind] = result.fuertes.get(kind, 0) + int(n)
        for kind in kinds_weak:
            result.debiles[kind] = result.debiles.get(kind, 0) + int(n)
    _decide(result)


def _is_round(number: str) -> bool:
    digits = re.sub(r"\D", "", number)
    return bool(digits) and digits.endswith("000")


def _decide(result: ColumnResult) -> None:
    for kind in (detectors.CORREO, detectors.NIT, detectors.DOCUMENTO, detectors.TELEFONO):
        if result.fuertes.get(kind):
            result.hallazgo = kind
            return
    if result.proporcion(detectors.DOCUMENTO) >= UMBRAL_DEBIL:
        result.hallazgo = detectors.DOCUMENTO
    elif result.proporcion(detectors.TELEFONO) >= result.umbral_telefono:
        result.hallazgo = detectors.TELEFONO
    elif result.proporcion(detectors.NOMBRE) >= UMBRAL_NOMBRES:
        result.hallazgo = detectors.NOMBRE
