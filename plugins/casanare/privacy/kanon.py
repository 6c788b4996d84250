"""Re-identification check for microdata: generalize first, then k-anonymity with local suppression.

Units. Without a published person pseudonym the unit is the row. When a pseudonym that stands
for a person is published, a person's rows are linked, so the unit is the *person*: their
signature is the set of value tuples of all their rows (the sequence of vaccine, dose and month
acts as a fingerprint), and a class is the set of persons sharing a signature. k, the classes
smaller than k and the suppression budget are then counted in persons.

Signatures are computed without Python loops: each row's tuple is hashed to 64 bits
(``pandas.util.hash_pandas_object``), and a person's signature is the sum modulo 2^64 of the
hashes of their distinct tuples (a set hash; collisions are negligible at 64 bits).

Algorithm (as sdcMicro and ARX do, on a small lattice):

1. every combination of hierarchy levels of the checked columns is tried (5-year → 10-year →
   life stage; municipio → subregión; month → quarter → year; level 0 is the column rule);
2. at each combination, units in classes smaller than ``k`` are fixed by local suppression: blank
   the most specific column (most distinct values) in their rows, recompute, repeat with the next
   column; units still at risk after every column was blanked are dropped;
3. combinations whose suppressed share (units with a blanked cell or dropped) exceeds
   ``max_supresion`` are rejected; among the rest, the one with the least information loss wins
   (loss of a column = 1 − entropy kept / entropy of the rule output, blanks carrying none);
4. a checked column that had two or more values and is left with one fails the run
   (:class:`ColumnaSinInformacion`, to the platform team): publishing it would say nothing, and
   an empty cell would mean "the other value".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from casanare.errors import DatosPersonalesDetectados, ErrorDeConfiguracion, Ubicacion
from casanare.privacy import generalize

_BLANK = "\x00suprimido"


class ReidentificacionPosible(DatosPersonalesDetectados):
    """k-anonymity can't be reached without suppressing more than the declared share."""

    destinatario: ClassVar[str] = "dependencia"


class ColumnaSinInformacion(ErrorDeConfiguracion):
    """Protection would leave a published column with a single value: a catalog decision for the platform."""

    destinatario: ClassVar[str] = "plataforma"


@dataclass(frozen=True)
class Unidades:
    """Which unit each row belongs to (a person, or the row itself)."""

    codes: np.ndarray  # unit code per row
    count: int
    personas: bool


def units_of(frame: pd.DataFrame, person: str | None) -> Unidades:
    """Person codes from the pseudonym column; rows without a pseudonym are units of their own."""
    if person is None:
        return Unidades(np.arange(len(frame), dtype=np.int64), len(frame), False)
    codes, uniques = pd.factorize(frame[person], use_na_sentinel=True)
    codes = codes.astype(np.int64)
    missing = codes < 0
    codes[missing] = len(uniques) + np.arange(int(missing.sum()), dtype=np.int64)
    return Unidades(codes, len(uniques) + int(missing.sum()), True)


def _row_hashes(frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
    keys = pd.DataFrame({c: frame[c].astype("string").fillna(_BLANK) for c in cols}, index=frame.index)
    return pd.util.hash_pandas_object(keys, index=False).to_numpy(dtype=np.uint64)


def unit_signatures(frame: pd.DataFrame, cols: list[str], units: Unidades) -> np.ndarray:
    """64-bit signature per unit: the set of its rows' tuples on ``cols``."""
    hashes = _row_hashes(frame, cols)
    if not units.personas:
        return hashes
    pairs = pd.DataFrame({"u": units.codes, "h": hashes}).drop_duplicates()
    signature = np.zeros(units.count, dtype=np.uint64)
    np.add.at(signature, pairs["u"].to_numpy(), pairs["h"].to_numpy(dtype=np.uint64))
    return signature


def _with_fixed(signature: np.ndarray, fixed: np.ndarray | None) -> np.ndarray:
    """Mix the group signature into the unit's own (odd multiplier: a bijection modulo 2^64)."""
    return signature if fixed is None else signature ^ (fixed * np.uint64(0x9E3779B97F4A7C15))


def _unit_class_sizes(signature: np.ndarray, fixed: np.ndarray | None) -> np.ndarray:
    signature = _with_fixed(signature, fixed)
    if signature.size == 0:
        return np.zeros(0, dtype=np.int64)
    _, inverse, counts = np.unique(signature, return_inverse=True, return_counts=True)
    return counts[inverse.reshape(-1)]


def class_sizes(frame: pd.DataFrame, quasi: list[str], person: str | None = None) -> pd.Series:
    """Size of each row's class on ``quasi``, in units (rows, or persons when ``person`` is given)."""
    if frame.empty:
        return pd.Series([], dtype="int64", index=frame.index)
    units = units_of(frame, person)
    sizes = _unit_class_sizes(unit_signatures(frame, quasi, units), None)
    return pd.Series(sizes[units.codes], index=frame.index, dtype="int64")


@dataclass
class _Attempt:
    levels: tuple[int, ...]
    frame: pd.DataFrame
    blanked_cells: int
    rows_with_blanks: int
    suppressed_units: int
    dropped_units: int
    dropped_rows: int
    small_classes_share: float
    units_at_risk: int
    share: float


def _suppress(
    work: pd.DataFrame, cols: list[str], k: int, units: Unidades, fixed: np.ndarray | None, levels: tuple[int, ...]
) -> _Attempt:
    work = work.copy()
    order = sorted(cols, key=lambda q: work[q].nunique(dropna=True), reverse=True)
    touched = np.zeros(units.count, dtype=bool)
    blanks_per_row = np.zeros(len(work), dtype=np.int64)
    signature = unit_signatures(work, cols, units)
    sizes = _unit_class_sizes(signature, fixed)
    classes = _class_count(signature, fixed)
    small = _small_class_count(signature, fixed, k)
    units_at_risk = int((sizes < k).sum())
    for q in order:
        at_risk = sizes < k
        if not at_risk.any():
            break
        rows = at_risk[units.codes] & work[q].notna().to_numpy()
        blanks_per_row += rows
        touched[units.codes[rows]] = True
        work[q] = work[q].astype("object").where(~rows, None)
        sizes = _unit_class_sizes(unit_signatures(work, cols, units), fixed)
    at_risk = sizes < k
    dropped_rows = at_risk[units.codes]
    suppressed = int((touched | at_risk).sum())
    return _Attempt(
        levels=levels,
        frame=work.loc[~dropped_rows],
        blanked_cells=int(blanks_per_row[~dropped_rows].sum()),
        rows_with_blanks=int(((blanks_per_row > 0) | dropped_rows).sum()),
        suppressed_units=suppressed,
        dropped_units=int(at_risk.sum()),
        dropped_rows=int(dropped_rows.sum()),
        small_classes_share=round(small / classes, 4) if classes else 0.0,
        units_at_risk=units_at_risk,
        share=suppressed / units.count if units.count else 0.0,
    )


def _class_count(signature: np.ndarray, fixed: np.ndarray | None) -> int:
    signature = _with_fixed(signature, fixed)
    return int(np.unique(signature).size)


def _small_class_count(signature: np.ndarray, fixed: np.ndarray | None, k: int) -> int:
    signature = _with_fixed(signature, fixed)
    if signature.size == 0:
        return 0
    _, counts = np.unique(signature, return_counts=True)
    return int((counts < k).sum())


def _entropy(values: pd.Series) -> float:
    counts = values.dropna().astype("string").value_counts().to_numpy(dtype=float)
    total = counts.sum()
    if total == 0:
        return 0.0
    p = counts / total
    return float(-(p * np.log2(p)).sum())


def column_loss(original: pd.Series, published: pd.Series, rows_in: int) -> float:
    """1 − information kept: entropy of the published non-blank values, weighted by their share."""
    h0 = _entropy(original)
    if h0 == 0:
        return 0.0
    kept_share = published.notna().sum() / rows_in if rows_in else 0.0
    return round(float(min(max(1 - _entropy(published) * kept_share / h0, 0.0), 1.0)), 4)


def protect(
    frame: pd.DataFrame,
    *,
    cols: list[str],
    k: int,
    max_share: float,
    hierarchies: Mapping[str, str] | None = None,
    person: str | None = None,
    linked: Mapping[str, int] | None = None,
    slug: str = "",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return a k-anonymous copy of ``frame`` and a report with counts only.

    Args:
        frame: published frame (after the column rules).
        cols: checked columns (quasi-identifiers; with a person pseudonym, every attribute counted).
        k: minimum class size, in units.
        max_share: largest share of units that may be suppressed.
        hierarchies: column → hierarchy name in ``generalize.JERARQUIAS``.
        person: published pseudonym column that stands for a person (units are persons).
        linked: pseudonym → signature of the same person's rows in the other datasets of its
            ``grupo_seudonimos``; counted, never suppressible (those datasets are already public).
        slug: dataset slug for messages.

    Raises:
        ReidentificacionPosible: no hierarchy level reaches k within ``max_share``.
        ColumnaSinInformacion: a checked column would be published with a single value.
    """
    hierarchies = dict(hierarchies or {})
    work = frame.reset_index(drop=True).copy()
    for q in cols:
        work[q] = work[q].astype("object").where(work[q].notna(), None)
    units = units_of(work, person)
    fixed = _fixed_signature(work, person, units, linked)
    levels_of = {
        q: [s.astype("object").where(s.notna(), None) for s in generalize.hierarchy_levels(hierarchies[q], work[q])]
        if q in hierarchies else [work[q]]
        for q in cols
    }
    k_before = int(_unit_class_sizes(unit_signatures(work, cols, units), fixed).min()) if units.count else None
    attempts: list[tuple[float, int, _Attempt, dict[str, float]]] = []
    best_share: _Attempt | None = None
    for levels in itertools.product(*(range(len(levels_of[q])) for q in cols)):
        candidate = work.copy()
        for q, level in zip(cols, levels, strict=True):
            candidate[q] = levels_of[q][level]
        attempt = _suppress(candidate, cols, k, units, fixed, levels)
        if best_share is None or attempt.share < best_share.share:
            best_share = attempt
        if attempt.share > max_share:
            continue
        losses = {q: column_loss(work[q], attempt.frame[q], len(work)) for q in cols}
        total = round(float(sum(losses.values())) / len(cols), 4) if cols else 0.0
        attempts.append((total, sum(levels), attempt, losses))
    unidad = "personas" if units.personas else "filas"
    base = {
        "unidad": unidad,
        "columnas_verificadas": list(cols),
        "k": k,
        "k_inicial": k_before,
        "unidades": units.count,
        "filas": len(work),
        "max_supresion": max_share,
        "grupo_vinculado": linked is not None,
    }
    if not attempts:
        assert best_share is not None or not cols
        share = best_share.share if best_share else 0.0
        columnas = ", ".join(cols)
        raise ReidentificacionPosible(
            f"El conjunto no alcanza k-anonimato (k={k}, contado en {unidad}) sobre {columnas} sin suprimir "
            f"el {share:.0%} de las {unidad} (máximo permitido {max_share:.0%}), ni siquiera generalizando "
            "al nivel más amplio de cada jerarquía.",
            ubicacion=Ubicacion(columna=columnas),
            como_corregir=(
                f"Revise en el catálogo {slug}.yaml qué se publica: quite de la publicación alguna de estas "
                f"columnas ({columnas}) o el seudónimo de persona, o generalícela más. Si el conjunto es muy "
                "pequeño, publíquelo agregado en lugar de microdatos."
            ),
            detalles={**base, "proporcion_minima_suprimida": round(share, 4)},
        )
    total, _, chosen, losses = min(attempts, key=lambda a: (a[0], a[1]))
    _refuse_single_value(work, chosen.frame, cols, slug)
    result = chosen.frame.reset_index(drop=True)
    for q in cols:
        if _castable(frame[q]):
            result[q] = result[q].astype(frame[q].dtype)
    niveles = {}
    for q, level in zip(cols, chosen.levels, strict=True):
        names = generalize.JERARQUIAS[hierarchies[q]][0] if q in hierarchies else ("publicado",)
        niveles[q] = {"nivel": level, "nombre": names[level], "valores_distintos": int(result[q].nunique()),
                      "valores_distintos_antes": int(work[q].nunique()), "perdida": losses[q]}
    report: dict[str, Any] = {
        **base,
        "cuasi_identificadores": list(cols),
        "niveles": niveles,
        "perdida_informacion": total,
        "proporcion_clases_menores_k": chosen.small_classes_share,
        "unidades_en_riesgo_antes_de_suprimir": chosen.units_at_risk,
        "celdas_suprimidas": chosen.blanked_cells,
        "unidades_con_supresion": chosen.suppressed_units,
        "unidades_eliminadas": chosen.dropped_units,
        "filas_eliminadas": chosen.dropped_rows,
        "filas_con_supresion": chosen.rows_with_blanks,
        "proporcion_suprimida": round(chosen.share, 4),
        "combinaciones_evaluadas": math.prod(len(levels_of[q]) for q in cols) if cols else 0,
    }
    kept_units = units_of(result, person)
    fixed_kept = _fixed_signature(result, person, kept_units, linked)
    report["k_logrado"] = (
        int(_unit_class_sizes(unit_signatures(result, cols, kept_units), fixed_kept).min()) if len(result) else None
    )
    return result, report


def _fixed_signature(
    work: pd.DataFrame, person: str | None, units: Unidades, linked: Mapping[str, int] | None
) -> np.ndarray | None:
    """Per unit, the signature of the same person in the other datasets of the group (0 if absent)."""
    if linked is None or person is None:
        return None
    fixed = np.zeros(units.count, dtype=np.uint64)
    values = work[person].astype("string")
    mapped = values.map(lambda v: linked.get(v, 0) if v is not None and not pd.isna(v) else 0)
    fixed[units.codes] = mapped.to_numpy(dtype=np.uint64)
    return fixed


def group_signatures(frames: list[tuple[pd.DataFrame, str, list[str]]]) -> dict[str, int]:
    """pseudonym → signature of that person's rows across the given published frames.

    Each item is ``(frame, person column, checked columns)`` of one other dataset of the group.
    """
    total: dict[str, int] = {}
    for position, (frame, person, cols) in enumerate(frames):
        if frame.empty:
            continue
        units = units_of(frame, person)
        salt = np.uint64(((position + 1) * 0xBF58476D1CE4E5B9) % (1 << 64))
        signature = unit_signatures(frame, cols, units) ^ salt
        first = pd.Series(np.arange(len(frame)), index=units.codes).groupby(level=0).first()
        names = frame[person].astype("string").to_numpy()[first.to_numpy()]
        for name, sig in zip(names, signature[first.index.to_numpy()], strict=True):
            if name is None or pd.isna(name):
                continue
            total[str(name)] = (total.get(str(name), 0) + int(sig)) % (1 << 64)
    return total


def _refuse_single_value(before: pd.DataFrame, after: pd.DataFrame, cols: list[str], slug: str) -> None:
    collapsed = [q for q in cols if before[q].nunique(dropna=True) >= 2 and after[q].nunique(dropna=True) <= 1]
    if collapsed:
        columnas = ", ".join(collapsed)
        raise ColumnaSinInformacion(
            f"Para lograr k-anonimato la columna {columnas} quedaría con un solo valor: publicarla no aportaría "
            "información y una celda vacía revelaría el valor suprimido.",
            ubicacion=Ubicacion(columna=columnas),
            como_corregir=(
                f"Equipo de la plataforma: en include/catalog/{slug}.yaml quite la columna de la publicación "
                "(regla 'eliminar') o declare una jerarquía de generalización más amplia; los datos de la "
                "dependencia no tienen error."
            ),
            detalles={"columnas": collapsed},
        )


def k_anonymize(
    frame: pd.DataFrame, quasi: list[str], k: int, max_share: float, *, slug: str = ""
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Row-level k-anonymity with local suppression only (no hierarchies, no person units)."""
    return protect(frame, cols=quasi, k=k, max_share=max_share, slug=slug)


def _castable(series: pd.Series) -> bool:
    """Nullable dtypes (string, Int64, Float64) take None back; plain numpy ints do not."""
    return isinstance(series.dtype, pd.StringDtype | pd.Int64Dtype | pd.Float64Dtype) or pd.api.types.is_string_dtype(
        series.dtype
    )
