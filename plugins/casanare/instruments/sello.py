"""Sello de Excelencia evidence (plan section 13, "PASO 1"): one workbook per published dataset.

The plan's format is Requisito / Etapa / Criterio / Evidencia / Descripción; each row also says
which Sello level the requirement supports, whether the evidence meets it, and where the criterion
and its threshold come from (a file in docs/ or the plan), so no number in the workbook is unsourced.
Evidence is real: the last run's manifest, the MinTIC scorecard, the catalog's metadata, the
licence, the update history, the portal and website links and the checks of the published files.
"""

from __future__ import annotations

from typing import Any

from casanare.catalog import Dataset
from casanare.instruments.estado import EstadoPublicacion
from casanare.instruments.tablas import Hoja, xlsx_bytes
from casanare.publish.site.catalog_pages import LICENCIAS_URL
from casanare.quality.scorecard import FUENTE_SELLO, REQUISITOS_SELLO_NIVEL_1, cumple_requisito

COLUMNAS_SELLO: dict[str, str] = {
    "requisito": "Requisito",
    "etapa": "Etapa",
    "criterio": "Criterio",
    "evidencia": "Evidencia",
    "descripcion": "Descripción",
    "nivel": "Nivel del Sello que soporta",
    "cumple": "Cumple",
    "fuente": "Fuente del criterio",
}
NIVEL_1 = "Nivel 1"
CONDICION = "Condición para postular (todos los niveles)"
COMPLEMENTARIO = "Complementario: criterio de calidad MinTIC sin umbral de nivel documentado"
FUENTE_CALIDAD = "docs/calidad.md, tabla de criterios MinTIC"
FUENTE_LEILA = "docs/instrumentos.md, sección «Perfil al nivel de LEILA» (DNP, ucd-dnp/leila)"
FUENTE_PLAN = "Plan de Apertura, Mejora y Uso de Datos Abiertos de Casanare, sección {}"
CAMPOS_10_1 = ("nombre", "descripcion", "dependencia", "tipologia", "ambito_geografico", "idioma",
               "fuente_primaria", "evidencia_solicitud", "soporte", "frecuencia_generacion",
               "frecuencia_actualizacion", "disponible", "ubicacion")
ETAPA_CRITERIO = {"actualidad": "Monitorear la calidad (Fase IV)", "completitud": "Verificar la fuente (11.3)",
                  "consistencia": "Documentar y estructurar (11.4)", "licencia": "Aspectos legales (11.1)"}


def _si(ok: bool | None) -> str:
    return "Sí" if ok else ("No" if ok is not None else "Sin evaluación")


def _puntaje(scorecard: dict[str, Any] | None, criterio: str) -> str:
    c = ((scorecard or {}).get("criterios") or {}).get(criterio) or {}
    if "puntaje" in c:
        return f"{c['puntaje']:g} de 10".replace(".", ",")
    return f"no medible: {c.get('motivo', 'sin evaluación')}" if c else "sin evaluación"


def metadatos_completos(ds: Dataset) -> tuple[int, int, int, int]:
    """(10.1 fields filled, 10.1 fields, published columns described, published columns)."""
    llenos = sum(1 for f in CAMPOS_10_1 if getattr(ds, f) not in (None, "", []))
    cols = ds.columnas_publicadas
    descritas = sum(1 for c in cols if len(c.descripcion) >= 10)
    return llenos, len(CAMPOS_10_1), descritas, len(cols)


def filas_sello(
    ds: Dataset,
    estado: EstadoPublicacion,
    scorecard: dict[str, Any] | None,
    manifest: dict[str, Any] | None,
    historial: list[dict[str, Any]],
    archivos: list[dict[str, Any]],
) -> list[dict[str, str]]:
    """Every row of the workbook."""
    criterios = (scorecard or {}).get("criterios") or {}
    rows: list[dict[str, str]] = []
    for req in REQUISITOS_SELLO_NIVEL_1:
        if req["criterio"] == "licencia":
            evidencia = f"{ds.licencia}: {LICENCIAS_URL.get(ds.licencia, '')}".rstrip(": ")
            ok: bool | None = cumple_requisito(req, criterios, ds.licencia)
            descripcion = "Los conjuntos publicados deben contar con términos de uso y licenciamiento abierto."
        else:
            evidencia = f"Puntaje {_puntaje(scorecard, req['criterio'])} en la evaluación MinTIC del " \
                        f"{str((scorecard or {}).get('fecha', ''))[:10] or 'sin fecha'}"
            ok = cumple_requisito(req, criterios, ds.licencia) if scorecard else None
            descripcion = f"Umbral: {req['texto'].lower()}."
        rows.append({"requisito": f"Calidad de datos abiertos: {req['criterio']}",
                     "etapa": ETAPA_CRITERIO[req["criterio"]], "criterio": req["texto"], "evidencia": evidencia,
                     "descripcion": descripcion, "nivel": NIVEL_1, "cumple": _si(ok), "fuente": FUENTE_SELLO})
    rows.append({"requisito": "Publicación en el Portal de Datos del Estado", "etapa": "Cargar los datos (11.4)",
                 "criterio": "El conjunto está publicado en www.datos.gov.co", "evidencia": estado.url_portal or "—",
                 "descripcion": f"Última publicación verificada: {(estado.ultima_publicacion or '')[:10] or '—'}; "
                                f"{estado.filas if estado.filas is not None else '—'} filas en el portal.",
                 "nivel": CONDICION, "cumple": _si(estado.en_portal), "fuente": FUENTE_PLAN.format("11.4")})
    rows.append({"requisito": "Publicación en el sitio web de la entidad", "etapa": "Cargar los datos (11.4)",
                 "criterio": "El conjunto está publicado en www.casanare.gov.co", "evidencia": estado.url_sitio or "—",
                 "descripcion": "Página accesible con descargas CSV, Excel y JSON y su historial de versiones.",
                 "nivel": CONDICION, "cumple": _si(estado.en_sitio), "fuente": FUENTE_PLAN.format("11.4")})
    llenos, total, descritas, columnas = metadatos_completos(ds)
    rows.append({"requisito": "Metadatos completos", "etapa": "Identificar (10.1) y documentar (11.4)",
                 "criterio": "Todos los campos del inventario 10.1 y una descripción por columna publicada",
                 "evidencia": f"{llenos} de {total} campos 10.1; {descritas} de {columnas} columnas descritas; "
                              f"comprensibilidad {_puntaje(scorecard, 'comprensibilidad')}",
                 "descripcion": "Catálogo include/catalog/" + f"{ds.slug}.yaml, validado al cargar.",
                 "nivel": COMPLEMENTARIO, "cumple": _si(llenos == total and descritas == columnas),
                 "fuente": FUENTE_PLAN.format("10.1")})
    fechas = [str(h.get("fecha", ""))[:10] for h in historial if h.get("fecha")]
    rows.append({"requisito": "Historial de actualizaciones", "etapa": "Monitorear la calidad (Fase IV)",
                 "criterio": "Cada publicación queda registrada con fecha, hash de la fuente y filas",
                 "evidencia": f"{len(historial)} publicaciones exitosas" + (
                     f", de {fechas[0]} a {fechas[-1]}" if fechas else ""),
                 "descripcion": f"Trazabilidad {_puntaje(scorecard, 'trazabilidad')}; frecuencia declarada "
                                f"{ds.frecuencia_actualizacion}.",
                 "nivel": COMPLEMENTARIO, "cumple": _si(bool(historial)), "fuente": FUENTE_CALIDAD})
    etapas = (manifest or {}).get("etapas") or {}
    rows.append({"requisito": "Proceso auditado de publicación", "etapa": "Estructurar y publicar (Fase II)",
                 "criterio": "Extracción, anonimización, validación y publicación registradas en un manifiesto",
                 "evidencia": f"Manifiesto de la ejecución {(manifest or {}).get('ejecucion', '—')}: "
                              + ", ".join(f"{e} {r.get('estado', '—')}" for e, r in etapas.items()),
                 "descripcion": "Nada se publica sin pasar la anonimización y las reglas críticas de calidad.",
                 "nivel": CONDICION, "cumple": _si((manifest or {}).get("resultado") in ("exito", "sin cambios") if manifest else None),
                 "fuente": FUENTE_PLAN.format("11.1 y 11.3")})
    cumplen = sum(1 for a in archivos if a["resultado"] == "cumple")
    rows.append({"requisito": "Archivos publicados verificados", "etapa": "Cargar los datos (11.4)",
                 "criterio": "Lo que se descarga coincide con el catálogo: codificación, encabezado, filas, enteros",
                 "evidencia": f"{cumplen} de {len(archivos)} verificaciones cumplen: "
                              + "; ".join(f"{a['verificacion']}: {a['detalle']}" for a in archivos),
                 "descripcion": "Se leen de nuevo datos.csv, datos.xlsx y datos.json de la versión en línea.",
                 "nivel": COMPLEMENTARIO, "cumple": _si(bool(archivos) and cumplen == len(archivos)),
                 "fuente": "docs/instrumentos.md, sección «Verificación de los archivos publicados»"})
    perfil = (scorecard or {}).get("perfil_columnas") or {}
    dup = (scorecard or {}).get("duplicados") or {}
    constantes = [c for c, p in perfil.items() if p.get("constante")]
    mezclas = [c for c, p in perfil.items() if p.get("valores_fuera_de_tipo")]
    rows.append({"requisito": "Perfil de columnas (LEILA)", "etapa": "Monitorear la calidad (Fase IV)",
                 "criterio": "Sin columnas constantes, sin mezcla de tipos, sin duplicados creados por la anonimización",
                 "evidencia": f"{len(constantes)} columnas constantes ({', '.join(constantes) or 'ninguna'}); "
                              f"{len(mezclas)} con mezcla de tipos; {dup.get('creados_por_anonimizacion', '—')} filas "
                              f"duplicadas creadas por la anonimización, {dup.get('en_origen', '—')} en la fuente",
                 "descripcion": "Conteos solamente; ningún valor de los datos.",
                 "nivel": COMPLEMENTARIO,
                 "cumple": _si(None if not perfil else not constantes and not mezclas
                               and not dup.get("creados_por_anonimizacion")),
                 "fuente": FUENTE_LEILA})
    sello_ids = {r["criterio"] for r in REQUISITOS_SELLO_NIVEL_1}
    for nombre in sorted(criterios):
        if nombre in sello_ids:
            continue
        rows.append({"requisito": f"Criterio MinTIC: {nombre}", "etapa": "Monitorear la calidad (Fase IV)",
                     "criterio": f"Criterio «{nombre}» de la guía de calidad MinTIC (0 a 10)",
                     "evidencia": _puntaje(scorecard, nombre), "descripcion": "Evaluado en cada publicación.",
                     "nivel": COMPLEMENTARIO, "cumple": "No aplica", "fuente": FUENTE_CALIDAD})
    return rows


def nivel_alcanzado(rows: list[dict[str, str]]) -> str:
    """Which level the evidence supports: level 1 when every level-1 and condition row is met."""
    needed = [r for r in rows if r["nivel"] in (NIVEL_1, CONDICION)]
    if needed and all(r["cumple"] == "Sí" for r in needed):
        return "La evidencia soporta el nivel 1 del Sello de Excelencia."
    faltan = [r["requisito"] for r in needed if r["cumple"] != "Sí"]
    return "La evidencia aún no soporta el nivel 1: falta " + "; ".join(faltan) + "."


def workbook(ds: Dataset, rows: list[dict[str, str]]) -> bytes:
    resumen = [{"campo": "Conjunto de datos", "valor": ds.nombre}, {"campo": "Dependencia", "valor": ds.dependencia},
               {"campo": "Resultado", "valor": nivel_alcanzado(rows)},
               {"campo": "Umbrales del nivel 1", "valor": FUENTE_SELLO},
               {"campo": "Plataforma de postulación", "valor": "https://sellodeexcelencia.gov.co/"}]
    return xlsx_bytes([Hoja("Requisitos", COLUMNAS_SELLO, rows),
                       Hoja("Resumen", {"campo": "Campo", "valor": "Valor"}, resumen)],
                      titulo=f"Evidencias Sello de Excelencia: {ds.nombre}")
