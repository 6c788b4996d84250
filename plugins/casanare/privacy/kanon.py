"""Re-identification check for microdata: k-anonymity with local suppression (plain pandas).

A row's equivalence class is the set of rows sharing its values on the declared
quasi-identifiers (published names, after generalization). The dataset is k-anonymous when every
class has at least ``k`` rows. Rows in smaller classes are fixed by local suppression:

1. blank, in those rows only, the most specific quasi-identifier (most distinct values), then
   recompute the classes — a blank cell counts as its own value ("any");
2. repeat with the next quasi-identifier while some class is still smaller than ``k``;
3. drop the rows that are still in a class smaller than ``k`` after every quasi-identifier was
   blanked.

The share of suppressed rows (rows with at least one blanked cell, plus dropped rows) must not
exceed the catalog's ``max_supresion``; otherwise publishing would either be unsafe or useless,
and the run fails with :class:`ReidentificacionPosible`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from casanare.errors import DatosPersonalesDetectados, Ubicacion

_BLANK = "\x00suprimido"


class ReidentificacionPosible(DatosPersonalesDetectados):
    """k-anonymity can't be reached without suppressing more than the declared share."""


def class_sizes(frame: pd.DataFrame, quasi: list[str]) -> pd.Series:
    """Size of each row's equivalence class on ``quasi`` (null cells form their own value)."""
    if frame.empty:
        return pd.Series([], dtype="int64", index=frame.index)
    keys = pd.DataFrame({q: frame[q].astype("string").fillna(_BLANK) for q in quasi}, index=frame.index)
    return keys.groupby(quasi, sort=False, dropna=False)[quasi[0]].transform("size").astype("int64")


def k_anonymize(
    frame: pd.DataFrame, quasi: list[str], k: int, max_share: float, *, slug: str = ""
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return a k-anonymous copy of ``frame`` and a report with counts only.

    Raises:
        ReidentificacionPosible: more than ``max_share`` of the rows would need suppression.
    """
    total = len(frame)
    work = frame.reset_index(drop=True).copy()
    for q in quasi:
        work[q] = work[q].astype("object").where(work[q].notna(), None)
    order = sorted(quasi, key=lambda q: work[q].nunique(dropna=True), reverse=True)
    blanked_per_row = pd.Series(0, index=work.index, dtype="int64")
    k_before = int(class_sizes(work, quasi).min()) if total else None
    for q in order:
        at_risk = class_sizes(work, quasi) < k
        if not at_risk.any():
            break
        blank = at_risk & work[q].notna()
        blanked_per_row += blank.astype("int64")
        work.loc[blank, q] = None
    at_risk = class_sizes(work, quasi) < k
    dropped = int(at_risk.sum())
    suppressed_rows = int(((blanked_per_row > 0) | at_risk).sum())
    share = suppressed_rows / total if total else 0.0
    report: dict[str, Any] = {
        "cuasi_identificadores": list(quasi),
        "k": k,
        "k_inicial": k_before,
        "filas": total,
        "filas_eliminadas": dropped,
        "celdas_suprimidas": int(blanked_per_row[~at_risk].sum()),
        "filas_con_supresion": suppressed_rows,
        "proporcion_suprimida": round(share, 4),
        "max_supresion": max_share,
    }
    if share > max_share:
        columnas = ", ".join(quasi)
        raise ReidentificacionPosible(
            f"El conjunto no alcanza k-anonimato (k={k}) sobre los cuasi-identificadores {columnas} sin suprimir "
            f"el {share:.0%} de las filas (máximo permitido {max_share:.0%}).",
            ubicacion=Ubicacion(columna=columnas),
            como_corregir=(
                f"Generalice más los cuasi-identificadores ({columnas}) en el catálogo {slug}.yaml: por ejemplo "
                "rangos de edad más amplios, mes o año en lugar de fecha, municipio en lugar de vereda; o quite "
                "de 'microdatos.cuasi_identificadores' y de la publicación alguna columna."
            ),
            detalles=dict(report),
        )
    result = work.loc[~at_risk].reset_index(drop=True)
    for q in quasi:
        result[q] = result[q].astype(frame[q].dtype) if _castable(frame[q]) else result[q]
    report["k_logrado"] = int(class_sizes(result, quasi).min()) if len(result) else None
    return result, report


def _castable(series: pd.Series) -> bool:
    """Nullable dtypes (string, Int64, Float64) take None back; plain numpy ints do not."""
    return isinstance(series.dtype, pd.StringDtype | pd.Int64Dtype | pd.Float64Dtype) or pd.api.types.is_string_dtype(
        series.dtype
    )
