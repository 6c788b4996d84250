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
    """k-anonymity can't be reached without suppressing more than the declared share.

    The fix is what the catalog publishes (fewer quasi-identifiers, a coarser hierarchy, an
    aggregate instead of microdata): the platform team's decision, never the dependencia's,
    whose file is correct.
    """

    causa: ClassVar[str] = "reidentificacion_posible"
    destinatario: ClassVar[str] = "plataforma"


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


def _splitmix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer: a well-mixed 64-bit hash of each integer (vectorized)."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _codes(series: pd.Series) -> np.ndarray:
    """Dense integer code per value; -1 for a blank cell."""
    return pd.factorize(series, use_na_sentinel=True)[0].astype(np.int64)


def _row_keys(columns: list[np.ndarray], n: int) -> np.ndarray:
    """Exact dense key of each row's combination of codes (a blank is a value of its own)."""
    key = np.zeros(n, dtype=np.int64)
    for codes in columns:
        card = int(codes.max()) + 2 if codes.size else 1
        key = pd.factorize(key * card + (codes + 1))[0].astype(np.int64)
    return key


def _unit_signature(key: np.ndarray, units: Unidades) -> np.ndarray:
    """Per unit: its row key (rows), or a 64-bit set hash of its distinct row keys (persons)."""
    if not units.personas:
        return key.astype(np.uint64)
    width = int(key.max()) + 1 if key.size else 1
    pairs = pd.unique(units.codes * width + key)
    signature = np.zeros(units.count, dtype=np.uint64)
    np.add.at(signature, pairs // width, _splitmix(pairs % width))
    return signature


def _classes(signature: np.ndarray, fixed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``(class of each unit, size of each class)``."""
    if fixed is not None:
        signature = signature ^ _splitmix(fixed)
    classes = pd.factorize(signature)[0]
    return classes, np.bincount(classes) if classes.size else np.zeros(0, dtype=np.int64)


def unit_signatures(frame: pd.DataFrame, cols: list[str], units: Unidades) -> np.ndarray:
    """64-bit signature per unit: the set of its rows' tuples on ``cols``, comparable across frames.

    Unlike the dense keys used inside :func:`protect`, these hash the values themselves, so two
    datasets of a linkable group give the same person comparable signatures.
    """
    keys = pd.DataFrame({c: frame[c].astype("string").fillna(_BLANK) for c in cols}, index=frame.index)
    hashes = pd.util.hash_pandas_object(keys, index=False).to_numpy(dtype=np.uint64)
    if not units.personas:
        return hashes
    pairs = pd.DataFrame({"u": units.codes, "h": hashes}).drop_duplicates()
    signature = np.zeros(units.count, dtype=np.uint64)
    np.add.at(signature, pairs["u"].to_numpy(), pairs["h"].to_numpy(dtype=np.uint64))
    return signature


def class_sizes(frame: pd.DataFrame, quasi: list[str], person: str | None = None) -> pd.Series:
    """Size of each row's class on ``quasi``, in units (rows, or persons when ``person`` is given)."""
    if frame.empty:
        return pd.Series([], dtype="int64", index=frame.index)
    units = units_of(frame, person)
    key = _row_keys([_codes(frame[q]) for q in quasi], len(frame))
    classes, sizes = _classes(_unit_signature(key, units), None)
    return pd.Series(sizes[classes][units.codes], index=frame.index, dtype="int64")


@dataclass
class _Attempt:
    levels: tuple[int, ...]
    blanked: dict[str, np.ndarray]  # rows blanked by suppression, per column
    dropped: np.ndarray  # rows dropped
    codes: dict[str, np.ndarray]  # final codes (-1 blank) per column, all rows
    blanked_cells: int
    rows_with_blanks: int
    suppressed_units: int
    dropped_units: int
    small_classes_share: float
    units_at_risk: int
    share: float


def _suppress(
    codes_in: dict[str, np.ndarray], cols: list[str], k: int, units: Unidades, fixed: np.ndarray | None,
    levels: tuple[int, ...], n: int,
) -> _Attempt:
    codes = {q: codes_in[q].copy() for q in cols}
    blanked = {q: np.zeros(n, dtype=bool) for q in cols}
    order = sorted(cols, key=lambda q: int(codes[q].max()) + 1 if n else 0, reverse=True)
    touched = np.zeros(units.count, dtype=bool)

    def unit_sizes() -> tuple[np.ndarray, np.ndarray]:
        classes, sizes = _classes(_unit_signature(_row_keys([codes[q] for q in cols], n), units), fixed)
        return sizes[classes], sizes

    per_unit, sizes = unit_sizes()
    small = int((sizes < k).sum())
    classes_count = int(sizes.size)
    units_at_risk = int((per_unit < k).sum())
    for q in order:
        at_risk = per_unit < k
        if not at_risk.any():
            break
        rows = at_risk[units.codes] & (codes[q] >= 0)
        codes[q][rows] = -1
        blanked[q] |= rows
        touched[units.codes[rows]] = True
        per_unit, _ = unit_sizes()
    at_risk = per_unit < k
    dropped = at_risk[units.codes]
    any_blank = np.zeros(n, dtype=bool)
    cells = 0
    for q in cols:
        any_blank |= blanked[q]
        cells += int((blanked[q] & ~dropped).sum())
    suppressed = int((touched | at_risk).sum())
    return _Attempt(
        levels=levels, blanked=blanked, dropped=dropped, codes=codes, blanked_cells=cells,
        rows_with_blanks=int((any_blank | dropped).sum()), suppressed_units=suppressed,
        dropped_units=int(at_risk.sum()),
        small_classes_share=round(small / classes_count, 4) if classes_count else 0.0,
        units_at_risk=units_at_risk, share=suppressed / units.count if units.count else 0.0,
    )


def _entropy_of_codes(codes: np.ndarray) -> float:
    counts = np.bincount(codes[codes >= 0]).astype(float) if (codes >= 0).any() else np.zeros(0)
    counts = counts[counts > 0]
    total = counts.sum()
    if total == 0:
        return 0.0
    p = counts / total
    return float(-(p * np.log2(p)).sum())


def _entropy(values: pd.Series) -> float:
    return _entropy_of_codes(_codes(values))


def _loss(h0: float, codes: np.ndarray, kept: np.ndarray, rows_in: int) -> float:
    """1 − information kept: entropy of the published non-blank values, weighted by their share."""
    if h0 == 0:
        return 0.0
    published = codes[kept]
    kept_share = (published >= 0).sum() / rows_in if rows_in else 0.0
    return round(float(min(max(1 - _entropy_of_codes(published) * kept_share / h0, 0.0), 1.0)), 4)


def column_loss(original: pd.Series, published: pd.Series, rows_in: int) -> float:
    """1 − information kept: entropy of the published non-blank values, weighted by their share."""
    h0 = _entropy(original)
    codes = _codes(published)
    return _loss(h0, codes, np.ones(codes.size, dtype=bool), rows_in)


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
    work = frame.reset_index(drop=True)
    n = len(work)
    units = units_of(work, person)
    fixed = _fixed_signature(work, person, units, linked)
    # Each column at each hierarchy level, as values and as dense integer codes (-1 = blank).
    levels_of = {
        q: generalize.hierarchy_levels(hierarchies[q], work[q]) if q in hierarchies else [work[q]] for q in cols
    }
    codes_of = {q: [_codes(v) for v in levels_of[q]] for q in cols}
    h0 = {q: _entropy_of_codes(codes_of[q][0]) for q in cols}
    k_before = None
    if units.count:
        _, sizes = _classes(_unit_signature(_row_keys([codes_of[q][0] for q in cols], n), units), fixed)
        k_before = int(sizes.min()) if sizes.size else None
    attempts: list[tuple[float, int, _Attempt, dict[str, float]]] = []
    best_share: _Attempt | None = None
    for levels in itertools.product(*(range(len(levels_of[q])) for q in cols)):
        chosen_codes = {q: codes_of[q][level] for q, level in zip(cols, levels, strict=True)}
        attempt = _suppress(chosen_codes, cols, k, units, fixed, levels, n)
        if best_share is None or attempt.share < best_share.share:
            best_share = attempt
        if attempt.share > max_share:
            continue
        kept = ~attempt.dropped
        losses = {q: _loss(h0[q], attempt.codes[q], kept, n) for q in cols}
        total = round(float(sum(losses.values())) / len(cols), 4) if cols else 0.0
        attempts.append((total, sum(levels), attempt, losses))
    unidad = "personas" if units.personas else "filas"
    base = {
        "unidad": unidad,
        "columnas_verificadas": list(cols),
        "k": k,
        "k_inicial": k_before,
        "unidades": units.count,
        "filas": n,
        "max_supresion": max_share,
        "grupo_vinculado": linked is not None,
    }
    if not attempts:
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
    kept = ~chosen.dropped
    _refuse_single_value(codes_of, chosen, cols, slug)
    result = work.loc[kept].copy()
    suppressed_of: dict[str, int] = {}
    for q, level in zip(cols, chosen.levels, strict=True):
        values = levels_of[q][level].loc[kept]
        blank = chosen.blanked[q][kept]
        suppressed_of[q] = int((blank & values.notna().to_numpy()).sum())  # cells that had a value
        column = values.astype("object").where(~blank & values.notna().to_numpy(), None)
        result[q] = column.astype(frame[q].dtype) if _castable(frame[q]) and level == 0 else column
        if level > 0:
            result[q] = result[q].astype("string")
    result = result.reset_index(drop=True)
    niveles = {}
    for q, level in zip(cols, chosen.levels, strict=True):
        names = generalize.JERARQUIAS[hierarchies[q]][0] if q in hierarchies else ("publicado",)
        niveles[q] = {"nivel": level, "nombre": names[level], "valores_distintos": int(result[q].nunique()),
                      "valores_distintos_antes": int(work[q].nunique()), "perdida": losses[q]}
    final_units = units_of(result, person)
    final_fixed = _fixed_signature(result, person, final_units, linked)
    final_key = _row_keys([_codes(result[q]) for q in cols], len(result))
    _, final_sizes = _classes(_unit_signature(final_key, final_units), final_fixed)
    report: dict[str, Any] = {
        **base,
        "cuasi_identificadores": list(cols),
        "niveles": niveles,
        "perdida_informacion": total,
        "proporcion_clases_menores_k": chosen.small_classes_share,
        "unidades_en_riesgo_antes_de_suprimir": chosen.units_at_risk,
        "celdas_suprimidas": chosen.blanked_cells,
        # Per published column, so quality can tell these deliberate gaps from the source's own.
        "celdas_suprimidas_por_columna": suppressed_of,
        "unidades_con_supresion": chosen.suppressed_units,
        "unidades_eliminadas": chosen.dropped_units,
        "filas_eliminadas": int(chosen.dropped.sum()),
        "filas_con_supresion": chosen.rows_with_blanks,
        "proporcion_suprimida": round(chosen.share, 4),
        "combinaciones_evaluadas": math.prod(len(levels_of[q]) for q in cols) if cols else 0,
        "k_logrado": int(final_sizes.min()) if len(result) and final_sizes.size else None,
    }
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


def _refuse_single_value(codes_of: dict[str, list[np.ndarray]], chosen: _Attempt, cols: list[str], slug: str) -> None:
    kept = ~chosen.dropped
    collapsed = []
    for q in cols:
        before = codes_of[q][0]
        after = chosen.codes[q][kept]
        if np.unique(before[before >= 0]).size >= 2 and np.unique(after[after >= 0]).size <= 1:
            collapsed.append(q)
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
