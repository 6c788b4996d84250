"""The quality stage as one call: GX validation, Data Docs and the MinTIC scorecard."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from casanare.catalog import Dataset
from casanare.memoria import liberar
from casanare.quality.baseline import allow_privacy_suppression, merged_suite
from casanare.quality.perfil import perfil
from casanare.quality.scorecard import build_scorecard, fecha_ultimo_cambio
from casanare.quality.validation import Validacion, columnas_aparte
from casanare.staging import ColumnReader

#: Up to this many rows the column profile runs beside GX (faster); above, after it (less memory).
FILAS_PERFIL_A_LA_VEZ = 2_000_000


def validar(
    tabla: pd.DataFrame | ColumnReader,
    dataset: Dataset,
    *,
    run_name: str,
    docs_dir: Path,
    privacidad: dict[str, Any] | None,
    extraccion: dict[str, Any] | None,
    historial: list[dict[str, Any]],
    ahora: datetime | None = None,
    duplicados_origen: int | None = None,
) -> dict[str, Any]:
    """Validate the anonymized table and score it; never raises on failed rules.

    The caller records the report (so a failed run still has its Data Docs link and scorecard
    in the manifest) and then calls ``validation.check_critical`` to stop the run.

    Args:
        tabla: the anonymized table, as a frame or as its staged Parquet (then a large table's
            uniqueness rules run on their column before the whole table is read).
        dataset: catalog entry.
        run_name: staging run folder name, used as the Data Docs run name.
        docs_dir: the dataset's Data Docs site folder.
        privacidad: the ``anonimizar`` stage record (privacy report) of this run.
        extraccion: the ``extraer`` stage record (source hash) of this run.
        historial: the dataset's success history (oldest first).
        ahora: the moment of the run (default now, UTC).
        duplicados_origen: whole-row duplicates of the extracted source (scorecard tells them from
            those the anonymization created).
    """
    ahora = ahora or datetime.now(UTC)
    filas = len(tabla)
    suite = allow_privacy_suppression(merged_suite(dataset), privacidad, filas)
    with Validacion(dataset, suite, run_name=run_name, docs_dir=docs_dir) as validacion:
        # 5M rows: the table (1.3 GB) and GX's hashing of the unique ids (+1.2 GB) no longer
        # meet. The stage alone: 3.11 -> 2.49 GB at its peak, in the same 22 s.
        for columna in columnas_aparte(suite, filas):
            validacion.columna(columna, _leer(tabla, [columna]))
            liberar()
        df = _leer(tabla)
        # The column profile does not depend on GX's results. Up to FILAS_PERFIL_A_LA_VEZ rows it
        # is measured while the suite runs (its counts run in Arrow and numpy, which release the
        # GIL that GX holds; 1M rows: 5.6 s instead of 6.2 s, for 0.13 GB more at the peak). A
        # larger table is profiled after GX, once GX's freed copies went back to the system: at
        # 5M rows both at once peaked at 3.9 GB, one after the other at 3.1 GB in the same 15 s.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="perfil") as pool:
            columnas = pool.submit(perfil, df, dataset) if filas <= FILAS_PERFIL_A_LA_VEZ else None
            validacion.resto(df)
            report = validacion.informe()
            if columnas is not None:
                perfil_columnas = columnas.result()
            else:
                liberar()
                perfil_columnas = perfil(df, dataset)
    sha = (extraccion or {}).get("sha256")
    report["puntaje_mintic"] = build_scorecard(
        df,
        dataset,
        report,
        privacidad,
        ahora=ahora,
        ultima_actualizacion=fecha_ultimo_cambio(historial, sha, ahora),
        historial=historial,
        sha256=sha,
        duplicados_origen=duplicados_origen,
        perfil_columnas=perfil_columnas,
    )
    report["filas"] = filas
    return report


def _leer(tabla: pd.DataFrame | ColumnReader, columnas: list[str] | None = None) -> pd.DataFrame:
    if isinstance(tabla, pd.DataFrame):
        return tabla if columnas is None else tabla[columnas]
    return tabla.read(columnas)


def resumen_manifiesto(report: dict[str, Any]) -> dict[str, Any]:
    """Top-level ``calidad`` block of the manifest: outcome, links and warnings (a notice line)."""
    advertencias = report.get("advertencias", [])
    criticas = [r for r in report.get("resultados", []) if not r["exito"] and r["severidad"] == "critical"]
    aviso = None
    if advertencias:
        aviso = (
            f"{len(advertencias)} advertencia(s) de calidad; los datos se publican igual. "
            f"Revise el informe: {report.get('data_docs')}"
        )
    return {
        "exito": report.get("exito"),
        "evaluadas": report.get("evaluadas"),
        "fallas_criticas": len(criticas),
        "advertencias": [
            {k: r.get(k) for k in ("regla", "tipo", "columna", "inesperados", "descripcion")} for r in advertencias
        ],
        "aviso": aviso,
        "data_docs": report.get("data_docs"),
        "data_docs_ruta": report.get("data_docs_ruta"),
        "data_docs_indice": report.get("data_docs_indice"),
        "puntaje_promedio": (report.get("puntaje_mintic") or {}).get("promedio"),
        "sello_excelencia_nivel_1": ((report.get("puntaje_mintic") or {}).get("sello_excelencia") or {}).get("nivel_1"),
    }
