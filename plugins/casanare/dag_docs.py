"""Spanish ``doc_md`` for each DAG, generated from the catalog entry."""

from __future__ import annotations

from casanare import settings
from casanare.catalog import Dataset, FuenteArchivo, FuenteSQL

REGLAS = {
    "eliminar": "se elimina",
    "publicar": "se publica tal cual",
    "seudonimizar": "se reemplaza por un seudónimo (HMAC-SHA256 con clave)",
    "generalizar": "se generaliza",
    "enmascarar": "se enmascara",
    "redactar_texto": "se buscan y ocultan datos personales en el texto",
}


def portal_page_url(ds: Dataset, dataset_id: str | None = None) -> str | None:
    """Public page of the dataset on datos.gov.co (``/d/<4x4>`` redirects to the dataset).

    Args:
        dataset_id: the 4x4 assigned at creation (see ``publish.portal.portal_dataset_id``);
            by default the catalog's. None when neither exists yet.
    """
    dataset_id = dataset_id or (ds.datos_gov_co.dataset_id if ds.datos_gov_co else None)
    return f"{settings.portal_public_url()}/d/{dataset_id}" if dataset_id else None


def website_page_url(ds: Dataset) -> str | None:
    """Public page of the dataset in the open-data section of casanare.gov.co."""
    return f"{settings.website_public_url()}/conjuntos/{ds.casanare_gov_co.ruta}/" if ds.casanare_gov_co else None


def data_docs_index_url(ds: Dataset) -> str:
    """Index of the dataset's Data Docs site (built under ``CASANARE_DATA_DOCS_DIR/<slug>``)."""
    return f"{settings.data_docs_base_url()}/{ds.slug}/index.html"


def public_data_docs_url(url: str | None) -> str | None:
    """Map a Data Docs page built on disk to the address operators open (``CASANARE_DATA_DOCS_URL``)."""
    if not url:
        return None
    local = settings.data_docs_dir().as_uri().rstrip("/")
    public = settings.data_docs_base_url()
    return public + url[len(local):] if url.startswith(local) else url


def owner_label(dependencia: str) -> str:
    """The dependencia as Airflow's owner: its commas become U+201A (‚, which looks the same).

    Airflow stores a DAG's owners comma-joined and the UI splits them at each comma, so
    "Secretaría de Agricultura, Ganadería y Medio Ambiente" would show as two owners.
    """
    return " ".join(dependencia.split()).replace(",", "\u201a")


def schedule_text(ds: Dataset) -> str:
    """The schedule in Spanish, in Colombian time (the DAG's description in the UI)."""
    texto = FRECUENCIAS.get(ds.frecuencia_actualizacion, ds.frecuencia_actualizacion)
    return f"Programación: {texto}, hora de Colombia (America/Bogota)."


FRECUENCIAS = {
    "diaria": "diaria (todos los días, 5:00 a. m.)",
    "semanal": "semanal (lunes, 5:00 a. m.)",
    "mensual": "mensual (día 1, 5:00 a. m.)",
    "trimestral": "trimestral (1 de enero, abril, julio y octubre, 6:00 a. m.)",
    "semestral": "semestral (1 de enero y 1 de julio, 6:00 a. m.)",
    "anual": "anual (1 de enero, 6:00 a. m.)",
    "eventual": "eventual (se ejecuta a mano o cuando llega una fuente nueva)",
}
CLASIFICACIONES = {"publica": "pública", "clasificada": "clasificada", "reservada": "reservada"}


def _cell(text: object) -> str:
    """Markdown table cell: pipes and line breaks would break the table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _suite_rules(ds: Dataset) -> int | None:
    """Number of business rules in the dataset's suite file (a small JSON; None if unreadable)."""
    import json

    try:
        return len(json.loads(ds.ruta_suite().read_text(encoding="utf-8")).get("expectations", []))
    except (OSError, ValueError, AttributeError):
        return None


def doc_md(ds: Dataset) -> str:
    """Spanish Markdown shown in the Airflow UI (DAG details): what, where from, who, rules, links."""
    fuente = ds.fuente
    if isinstance(fuente, FuenteArchivo):
        origen = f"archivo `{fuente.ruta}`" + (f", hoja `{fuente.hoja}`" if fuente.hoja is not None else "")
    elif isinstance(fuente, FuenteSQL):
        sql = ds.ruta_sql()
        origen = f"base de datos (conexión `{fuente.conexion}`, consulta `include/sql/{sql.name if sql else '?'}`)"
        if fuente.incremental:
            origen += ", incremental por fecha"
    else:
        origen = "sin fuente"
    vigencia = ds.vigencia
    frecuencia = FRECUENCIAS.get(ds.frecuencia_actualizacion, ds.frecuencia_actualizacion)
    if vigencia is not None:
        frecuencia += f"; se considera desactualizado si pasan más de {vigencia.days} días sin publicar"
    reglas = _suite_rules(ds)
    suite = f"`include/expectations/{ds.ruta_suite().name}`"
    suite += (f" ({reglas} regla(s) de negocio" if reglas is not None else " (") + \
        " más las reglas generadas del catálogo: columnas, tipos, obligatorios, rangos"
    suite += f", mínimo {ds.calidad.minimo_filas} filas)" if ds.calidad.minimo_filas else ")"
    lines = [
        f"# {ds.nombre}",
        "",
        _cell(ds.descripcion),
        "",
        "| | |",
        "|---|---|",
        f"| **Dependencia responsable** | {_cell(ds.dependencia)} |",
        f"| **Categoría** | {ds.categoria} |",
        f"| **Frecuencia de actualización** | {frecuencia} |",
        f"| **Fuente** | {_cell(origen)} |",
        f"| **Ubicación de la fuente** | {_cell(ds.ubicacion)} |",
        f"| **Licencia** | {ds.licencia} |",
        f"| **Contactos (reciben los correos de fallo)** | {', '.join(str(c) for c in ds.contactos)} |",
        f"| **Suite de calidad** | {suite} |",
        f"| **Informe de calidad** | [Data Docs]({data_docs_index_url(ds)}) |",
    ]
    portal = portal_page_url(ds)
    if ds.datos_gov_co and portal:
        lines.append(
            f"| **datos.gov.co** | [{ds.datos_gov_co.dataset_id}]({portal}) (modo {ds.datos_gov_co.modo_efectivo}) |"
        )
    elif ds.datos_gov_co:
        # Parse time reads no staging: the assigned 4x4 is on the task's "Ver en datos.gov.co" button.
        lines.append(f"| **datos.gov.co** | se crea en la primera publicación; el enlace está en la tarea "
                     f"publicar_datos_gov_co (modo {ds.datos_gov_co.modo_efectivo}) |")
    web = website_page_url(ds)
    if ds.casanare_gov_co and web:
        lines.append(f"| **casanare.gov.co** | [{ds.casanare_gov_co.ruta}]({web}) |")
    lines += ["", "## Reglas de privacidad vigentes", ""]
    if ds.tiene_datos_personales:
        lines += [
            "Este conjunto tiene **datos personales** (Ley 1581 de 2012): solo se publican columnas públicas, "
            "después de aplicar estas reglas, y una revisión final detiene la publicación si queda algún dato "
            "personal.",
            "",
        ]
    if ds.microdatos:
        lines += [
            f"Microdatos con k-anonimato k = {ds.microdatos.k} sobre "
            + ", ".join(f"`{q}`" for q in ds.microdatos.cuasi_identificadores) + ".",
            "",
        ]
    lines += ["| Columna | Dato personal | Clasificación | Regla | Se publica como |", "|---|---|---|---|---|"]
    for col in ds.columnas:
        regla = REGLAS[col.regla.accion] + (f" ({col.regla.metodo})" if col.regla.metodo else "")
        salida = f"`{col.nombre_salida}`" if col.publicada else "no se publica"
        if not col.publicada:
            regla = "no se publica"
        lines.append(
            f"| `{col.nombre}` | {col.dato_personal or '—'} | {CLASIFICACIONES[col.clasificacion]} | {regla} | {salida} |"
        )
    lines += [
        "",
        "## Etapas",
        "",
        "`extraer` → `anonimizar` → `validar` → `publicar_datos_gov_co` → `publicar_casanare_gov_co` (el sitio solo después de verificar el portal) → `cerrar`.",
        "",
        "Si una etapa falla, no se publica nada más y la dependencia recibe **un** correo (con copia al equipo "
        "de datos abiertos) con la causa, el archivo, la fila y la columna, y cómo corregirlo. Las tareas de "
        "publicación tienen los botones *Ver en datos.gov.co*, *Ver en casanare.gov.co* y *Data Docs*.",
    ]
    return "\n".join(lines)
