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


def doc_md(ds: Dataset) -> str:
    fuente = ds.fuente
    if isinstance(fuente, FuenteArchivo):
        origen = f"archivo `{fuente.ruta}`" + (f", hoja `{fuente.hoja}`" if fuente.hoja is not None else "")
    elif isinstance(fuente, FuenteSQL):
        origen = f"base de datos (conexión `{fuente.conexion}`, consulta `include/sql/{ds.ruta_sql().name}`)"
    else:
        origen = "sin fuente"
    portal = ds.datos_gov_co
    web = ds.casanare_gov_co
    lines = [
        f"# {ds.nombre}",
        "",
        ds.descripcion,
        "",
        "| | |",
        "|---|---|",
        f"| **Dependencia responsable** | {ds.dependencia} |",
        f"| **Categoría** | {ds.categoria} |",
        f"| **Frecuencia de actualización** | {ds.frecuencia_actualizacion} |",
        f"| **Fuente** | {origen} |",
        f"| **Licencia** | {ds.licencia} |",
        f"| **Contactos** | {', '.join(str(c) for c in ds.contactos)} |",
        f"| **Suite de calidad** | `include/expectations/{ds.ruta_suite().name}` |",
    ]
    if portal:
        lines.append(
            f"| **datos.gov.co** | [{portal.dataset_id}]({settings.portal_public_url()}/d/{portal.dataset_id}) "
            f"(modo {portal.modo_efectivo}) |"
        )
    if web:
        lines.append(f"| **casanare.gov.co** | [{web.ruta}]({settings.website_public_url()}/conjuntos/{web.ruta}/) |")
    lines += ["", "## Reglas de privacidad vigentes", "", "| Columna | Clasificación | Regla |", "|---|---|---|"]
    for col in ds.columnas:
        regla = REGLAS[col.regla.accion] + (f" ({col.regla.metodo})" if col.regla.metodo else "")
        if not col.publicada:
            regla = "no se publica"
        lines.append(f"| {col.nombre} | {col.clasificacion} | {regla} |")
    lines += [
        "",
        "## Etapas",
        "",
        "`extraer` → `anonimizar` → `validar` → (`publicar_datos_gov_co` ∥ `publicar_casanare_gov_co`) → `cerrar`.",
        "Si una etapa falla, no se publica nada y la dependencia recibe un correo con la causa y cómo corregirla.",
    ]
    return "\n".join(lines)
