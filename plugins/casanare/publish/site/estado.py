"""Pages for the dependencias, outside Airflow: a status page per dataset and a quality report per run.

- ``seguimiento/<ruta>/index.html``: the last attempt and its result, what failed and where, how
  to fix it, the next scheduled run and whether a corrected file is picked up by itself.
- ``calidad/<ruta>/<ejecucion>/index.html``: the run's quality rules in Spanish (counts only).

Both are rendered from the attempt record (``casanare.resumen``) and the validation summary,
which hold metadata and counts, never a data value; they live outside the versioned dataset
folder, so writing them never touches what citizens see of the published data.
"""

from __future__ import annotations

from typing import Any

from casanare import settings
from casanare.catalog import Dataset
from casanare.publish.site.paths import safe_relative

SEVERIDAD = {"critical": "Crítica (detiene la publicación)", "warning": "Advertencia", "info": "Informativa"}
DIMENSIONES = {
    "completitud": "Completitud", "consistencia": "Consistencia", "conformidad": "Conformidad",
    "exactitud": "Exactitud", "unicidad": "Unicidad", "actualidad": "Actualidad", "validez": "Validez",
}


def status_path(ds: Dataset) -> str:
    assert ds.casanare_gov_co is not None
    return safe_relative(f"seguimiento/{ds.casanare_gov_co.ruta}/index.html")


def report_path(ds: Dataset, run_folder: str) -> str:
    assert ds.casanare_gov_co is not None
    return safe_relative(f"calidad/{ds.casanare_gov_co.ruta}/{run_folder}/index.html")


def status_url(ds: Dataset) -> str | None:
    """Public address of the dataset's status page (what e-mails to the dependencia link to)."""
    if ds.casanare_gov_co is None:
        return None
    return f"{settings.website_public_url()}/{status_path(ds).removesuffix('index.html')}"


def report_url(ds: Dataset, run_folder: str) -> str | None:
    if ds.casanare_gov_co is None:
        return None
    return f"{settings.website_public_url()}/{report_path(ds, run_folder).removesuffix('index.html')}"


def rule_rows(ds: Dataset, resultados: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rule results as table rows: column by its visible title, counts, never values."""
    titulos = {c.nombre_salida: c.titulo_visible for c in ds.columnas if c.publicada}
    rows = []
    for r in resultados:
        columna = r.get("columna")
        evaluados, inesperados = r.get("evaluados"), r.get("inesperados")
        rows.append({
            "regla": str(r.get("descripcion") or r.get("tipo") or ""),
            "columna": f"{titulos.get(columna, columna)}" if columna else "Todo el conjunto",
            "dimension": DIMENSIONES.get(str(r.get("dimension")), str(r.get("dimension") or "—").capitalize()),
            "severidad": SEVERIDAD.get(str(r.get("severidad")), str(r.get("severidad") or "")),
            "evaluados": evaluados if isinstance(evaluados, int) else None,
            "inesperados": inesperados if isinstance(inesperados, int) else None,
            "exito": bool(r.get("exito")),
        })
    # Failed critical rules first, then warnings, then the ones that passed.
    return sorted(rows, key=lambda x: (x["exito"], not x["severidad"].startswith("Crítica")))


def render_status(env: Any, ds: Dataset, record: dict[str, Any], links: dict[str, str | None]) -> bytes:
    return env.get_template("seguimiento.html").render(
        d=ds, r=record, enlaces={k: v for k, v in links.items() if v}, raiz="../../",
    ).encode("utf-8")


def render_report(env: Any, ds: Dataset, record: dict[str, Any], validation: dict[str, Any] | None,
                  links: dict[str, str | None]) -> bytes:
    validation = validation or {}
    resultados = validation.get("resultados")
    if resultados is None:  # a stopped validation keeps only the failed rules in the error
        detalles = (validation.get("error") or {}).get("detalles") or {}
        resultados = list(detalles.get("fallas_criticas") or []) + list(detalles.get("advertencias") or [])
    return env.get_template("informe_calidad.html").render(
        d=ds, r=record, reglas=rule_rows(ds, resultados), enlaces={k: v for k, v in links.items() if v},
        raiz="../../../",
    ).encode("utf-8")
