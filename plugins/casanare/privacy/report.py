"""The privacy report of a run: numbers only, for the manifest and the Data Docs site.

Built from the privacy stage's report, it answers what a reviewer asks: which k was reached over
which quasi-identifiers (counted in rows or persons), how many classes were smaller than k before
suppression, how many cells were suppressed, which generalization level each column took and what
information that cost, which linkage group the pseudonyms belong to, and the thresholds used.
It never holds a data value: only column names, counts, shares and catalog settings.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from casanare.catalog import Dataset


def privacy_summary(dataset: Dataset, report: dict[str, Any]) -> dict[str, Any]:
    """Numbers-only summary of one run's privacy stage."""
    kanon = report.get("k_anonimato") or None
    scan = report.get("revision_datos_personales") or {}
    summary: dict[str, Any] = {
        "conjunto": dataset.slug,
        "filas_entrada": report.get("filas_entrada"),
        "filas_publicadas": report.get("filas"),
        "columnas_publicadas": len(report.get("columnas_publicadas", [])),
        "columnas_eliminadas": len(report.get("columnas_eliminadas", [])),
        "columnas_no_declaradas_eliminadas": report.get("columnas_no_declaradas_eliminadas"),
        "grupo_seudonimos": dataset.grupo_seudonimos,
        "seudonimos_propios": bool(dataset.columnas_persona) and dataset.grupo_seudonimos is None,
        "columnas_con_fundamento_legal": [c.nombre_salida for c in dataset.columnas_con_fundamento_legal],
        "umbrales": {
            "k": dataset.microdatos.k if dataset.microdatos else None,
            "max_supresion": dataset.microdatos.max_supresion if dataset.microdatos else None,
            "umbral_debil": scan.get("umbral_debil"),
            "umbral_nombres": scan.get("umbral_nombres"),
            "retencion_dias": dataset.retencion_dias,
            "versiones_sitio": dataset.versiones_sitio,
        },
        "k_anonimato": None,
    }
    if kanon:
        summary["k_anonimato"] = {
            "unidad": kanon.get("unidad"),
            "cuasi_identificadores": kanon.get("cuasi_identificadores"),
            "k": kanon.get("k"),
            "k_inicial": kanon.get("k_inicial"),
            "k_logrado": kanon.get("k_logrado"),
            "proporcion_clases_menores_k": kanon.get("proporcion_clases_menores_k"),
            "celdas_suprimidas": kanon.get("celdas_suprimidas"),
            "filas_eliminadas": kanon.get("filas_eliminadas"),
            "proporcion_suprimida": kanon.get("proporcion_suprimida"),
            "perdida_informacion": kanon.get("perdida_informacion"),
            "niveles": {
                col: {"nivel": n.get("nombre"), "perdida": n.get("perdida")}
                for col, n in (kanon.get("niveles") or {}).items()
            },
            "excluidas_de_k": kanon.get("excluidas_de_k") or {},
        }
    return summary


def _pct(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f} %".replace(".", ",")


def render_html(summary: dict[str, Any], *, run_name: str) -> str:
    """A small Spanish HTML page (no data values) placed beside the Data Docs."""
    rows: list[tuple[str, str]] = [
        ("Conjunto", summary["conjunto"]),
        ("Ejecución", run_name),
        ("Filas de entrada / publicadas", f"{summary['filas_entrada']} / {summary['filas_publicadas']}"),
        ("Columnas publicadas / eliminadas / no declaradas eliminadas",
         f"{summary['columnas_publicadas']} / {summary['columnas_eliminadas']} / "
         f"{summary['columnas_no_declaradas_eliminadas']}"),
        ("Grupo de seudónimos", summary["grupo_seudonimos"] or (
            "ninguno: seudónimos propios de este conjunto" if summary["seudonimos_propios"] else "no publica seudónimos")),
        ("Columnas publicadas por fundamento legal", ", ".join(summary["columnas_con_fundamento_legal"]) or "ninguna"),
    ]
    umbrales = summary["umbrales"]
    rows += [
        ("Umbral k / supresión máxima", f"{umbrales['k'] or '—'} / {_pct(umbrales['max_supresion'])}"),
        ("Umbrales de la revisión final (débil / nombres)",
         f"{_pct(umbrales['umbral_debil'])} / {_pct(umbrales['umbral_nombres'])}"),
        ("Retención de datos crudos / versiones anteriores en el sitio",
         f"{umbrales['retencion_dias']} días / {umbrales['versiones_sitio']}"),
    ]
    kanon = summary.get("k_anonimato")
    if kanon:
        rows += [
            ("k contado sobre", kanon["unidad"]),
            ("Cuasi-identificadores", ", ".join(kanon["cuasi_identificadores"] or [])),
            ("k inicial / k logrado", f"{kanon['k_inicial']} / {kanon['k_logrado']}"),
            ("Clases menores que k antes de suprimir", _pct(kanon["proporcion_clases_menores_k"])),
            ("Celdas suprimidas / filas eliminadas", f"{kanon['celdas_suprimidas']} / {kanon['filas_eliminadas']}"),
            ("Proporción suprimida", _pct(kanon["proporcion_suprimida"])),
            ("Pérdida de información (entropía)", _pct(kanon["perdida_informacion"])),
        ]
        rows += [(f"Nivel de «{col}»", f"{n['nivel']} (pérdida {_pct(n['perdida'])})")
                 for col, n in kanon["niveles"].items()]
    body = "\n".join(f"<tr><th scope=\"row\">{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return (
        "<!doctype html>\n<html lang=\"es\"><head><meta charset=\"utf-8\">"
        f"<title>Informe de privacidad · {escape(summary['conjunto'])}</title></head><body>\n"
        f"<h1>Informe de privacidad de la ejecución {escape(run_name)}</h1>\n"
        "<p>Solo cifras: este informe no contiene ningún valor de los datos.</p>\n"
        f"<table>\n{body}\n</table>\n</body></html>\n"
    )


def write_report(docs_dir: Path, summary: dict[str, Any], *, run_name: str) -> Path:
    """Write ``privacidad/<run>.html`` and ``privacidad.html`` (latest) into the dataset's Data Docs."""
    html = render_html(summary, run_name=run_name)
    folder = docs_dir / "privacidad"
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"{run_name}.html"
    page.write_text(html, encoding="utf-8")
    (docs_dir / "privacidad.html").write_text(html, encoding="utf-8")
    return page
