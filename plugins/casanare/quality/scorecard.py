"""MinTIC quality scorecard: every criterion of the Guía de calidad that can be measured here.

Each criterion is a pure function returning ``{"puntaje": 0–10, "detalle": {...}}`` or
``{"estado": "no_medible", "motivo": "..."}``. Inputs are the anonymized frame, the catalog entry,
the validation report (counts only) and the privacy report of the run's manifest, so the
scorecard never holds a data value. ``latest_scorecard`` and ``scorecard_history`` are what the
website and monitoring read.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, get_args

from casanare.catalog import Dataset, Licencia

if TYPE_CHECKING:
    import pandas as pd

    from casanare.quality.perfil import ConteoLlave

VERSION = 1

# Confidencialidad weights (guía MinTIC): documents 3; address/phone/e-mail 2; name/age/sex 1.
PESOS_CONFIDENCIALIDAD: dict[str, int] = {
    "cedula": 3,
    "tarjeta_identidad": 3,
    "nit": 3,
    "direccion": 2,
    "telefono": 2,
    "correo": 2,
    "nombre": 1,
    "edad": 1,
    "sexo": 1,
    "fecha_nacimiento": 1,
}
# A coarser version (age band, masked number) still tells something: half the weight.
FACTOR_POR_ACCION = {"publicar": 1.0, "generalizar": 0.5, "enmascarar": 0.5, "seudonimizar": 0.0, "redactar_texto": 0.0}

PUNTAJE_FORMATO = {
    "csv": 10, "json": 10, "xml": 10, "geojson": 10, "rdf": 10, "parquet": 10, "txt": 8,
    "xlsx": 7, "ods": 7, "xls": 5, "pdf": 0, "doc": 0, "docx": 0,
}
TOTALES = {"total", "subtotal", "total general", "gran total", "totales"}
NOMBRES_GENERICOS = ("unnamed", "columna_", "column_", "col_", "campo_", "sin_nombre")

NO_MEDIBLES: dict[str, str] = {
    "accesibilidad": "Depende del portal datos.gov.co (descarga, API, navegadores); no de los datos ni sus metadatos.",
    "disponibilidad": "Es el tiempo en línea del portal y del sitio web; lo mide el monitoreo de servicios, no la corrida.",
    "eficiencia": "Evalúa tiempos de consulta y descarga del portal, que la plataforma no controla.",
    "recuperabilidad": "Evalúa respaldos y versiones del portal; la plataforma guarda instantáneas versionadas, "
    "pero la restauración no se puede comprobar en cada corrida.",
}


def _score(value: float, **detalle: Any) -> dict[str, Any]:
    return {"puntaje": round(max(0.0, min(10.0, value)), 2), "detalle": detalle}


def _no_medible(motivo: str) -> dict[str, Any]:
    return {"estado": "no_medible", "motivo": motivo}


# Criteria from the data ----------------------------------------------------------------------


def completitud(df: pd.DataFrame, requeridas: list[str]) -> dict[str, Any]:
    """10 × share of filled cells, minus 1 per required column with gaps and 2 per empty column."""
    filas, columnas = df.shape
    celdas = filas * columnas
    if celdas == 0:
        return _score(0.0, celdas=0, nulas=0, columnas_vacias=list(df.columns))
    nulos = df.isna().sum()
    nulas = int(nulos.sum())
    vacias = [str(c) for c in df.columns if int(nulos[c]) == filas]
    requeridas_con_vacios = [c for c in requeridas if c in nulos.index and int(nulos[c]) > 0]
    valor = 10 * (1 - nulas / celdas) - len(requeridas_con_vacios) - 2 * len(vacias)
    return _score(valor, celdas=celdas, nulas=nulas, columnas_vacias=vacias,
                  requeridas_con_vacios=requeridas_con_vacios)


def unicidad(df: pd.DataFrame, identificador: str | None = None, conteo: ConteoLlave | None = None) -> dict[str, Any]:
    """10 × (1 − duplicates/total): repeated whole rows or repeated row identifiers, the larger.

    ``conteo``: the identifier's empty and repeated values, when the caller has counted them."""
    from casanare.quality.perfil import conteo_llave

    total = len(df)
    if total == 0:
        return _score(10.0, filas=0, duplicadas=0)
    if identificador and identificador in df.columns:
        # A repeated whole row repeats its identifier too, so only rows without one need the
        # (costlier) whole-row comparison.
        ids = df[identificador]
        conteo = conteo or conteo_llave(ids)
        repetidas = conteo.repetidos + (_filas_repetidas(df[ids.isna()]) if conteo.vacios else 0)
    else:
        repetidas = _filas_repetidas(df)
    return _score(10 * (1 - repetidas / total), filas=total, duplicadas=repetidas)


def _filas_repetidas(df: pd.DataFrame) -> int:
    """Whole-row duplicates (extra copies, the first one is not counted)."""
    return int(df.duplicated().sum()) if len(df) > 1 else 0


def _rows(resultados: list[dict[str, Any]], dimension: str) -> list[dict[str, Any]]:
    return [r for r in resultados if r.get("dimension") == dimension]


def _element_counts(rows: list[dict[str, Any]]) -> tuple[int, int]:
    evaluados = sum(r["evaluados"] or 0 for r in rows if isinstance(r.get("evaluados"), int))
    erroneos = sum(r["inesperados"] or 0 for r in rows if isinstance(r.get("inesperados"), int))
    return evaluados, erroneos


def conformidad(resultados: list[dict[str, Any]]) -> dict[str, Any]:
    """10 × e^(−5·wrong/validated) over format rules (regex, DIVIPOLA and value sets)."""
    rows = _rows(resultados, "conformidad")
    evaluados, erroneos = _element_counts(rows)
    if evaluados == 0:
        return _no_medible("La suite no tiene reglas de formato (expresiones regulares, DIVIPOLA, listas de valores).")
    return _score(10 * math.exp(-5 * erroneos / evaluados), reglas=len(rows), valores_evaluados=evaluados,
                  valores_no_conformes=erroneos)


def exactitud(resultados: list[dict[str, Any]]) -> dict[str, Any]:
    """10 × share of values inside their plausible ranges (declared ranges, dates, coordinates)."""
    rows = _rows(resultados, "exactitud")
    evaluados, erroneos = _element_counts(rows)
    if evaluados == 0:
        return _no_medible("La suite no tiene reglas de rango (valores mínimos y máximos, fechas o coordenadas).")
    return _score(10 * (1 - erroneos / evaluados), reglas=len(rows), valores_evaluados=evaluados,
                  valores_fuera_de_rango=erroneos)


def consistencia(resultados: list[dict[str, Any]], mezclas: list[str] | None = None) -> dict[str, Any]:
    """10 × share of consistency rules met (schema, declared types, cross-column rules), minus 1
    per column whose values mix kinds against its declared type (e.g. integers written ``21.0``)."""
    rows = _rows(resultados, "consistencia")
    if not rows:
        return _no_medible("La suite no tiene reglas de estructura ni de coherencia entre columnas.")
    cumplidas = sum(1 for r in rows if r["exito"])
    mezclas = mezclas or []
    return _score(10 * cumplidas / len(rows) - len(mezclas), reglas=len(rows), cumplidas=cumplidas,
                  columnas_con_mezcla_de_tipos=mezclas)


def fecha_ultimo_cambio(historial: list[dict[str, Any]], sha256: str | None, ahora: datetime) -> datetime:
    """When the published data last changed: ``ahora`` unless the source is the same as before.

    Walks back the dataset's success history (oldest first) while the source hash stays equal.
    """
    cambio = ahora
    for entrada in reversed(historial):
        if not sha256 or entrada.get("sha256") != sha256:
            break
        try:
            cambio = datetime.fromisoformat(str(entrada["fecha"]))
        except (KeyError, ValueError):
            break
    return cambio


def actualidad(ultima_actualizacion: datetime, ahora: datetime, vigencia: timedelta | None) -> dict[str, Any]:
    """10 when the data changed within the declared frequency, else 0 (guía MinTIC)."""
    edad = ahora - ultima_actualizacion
    dias = round(edad.total_seconds() / 86400, 2)
    if vigencia is None:
        return _score(10.0, dias_desde_actualizacion=dias, vigencia_dias=None,
                      nota="Frecuencia eventual: se publica cuando la fuente cambia.")
    return _score(10.0 if edad <= vigencia else 0.0, dias_desde_actualizacion=dias,
                  vigencia_dias=round(vigencia.total_seconds() / 86400, 2))


def confidencialidad(dataset: Dataset, reporte_privacidad: dict[str, Any] | None) -> dict[str, Any]:
    """10 minus the weights of personal-data columns still published (guía MinTIC weights).

    Columns published as they are weigh fully; generalized or masked ones half; pseudonymized or
    redacted ones nothing (the identifier itself is gone). The action comes from the privacy
    report of the run when present, else from the catalog.
    """
    reglas = (reporte_privacidad or {}).get("reglas", {})
    penalizadas = []
    total = 0.0
    for col in dataset.columnas:
        peso = PESOS_CONFIDENCIALIDAD.get(col.dato_personal or "")
        if not peso:
            continue
        regla = reglas.get(col.nombre)
        publicada = ("publicada_como" in regla) if regla else col.publicada
        if not publicada:
            continue
        accion = (regla or {}).get("accion", col.regla.accion)
        aporte = peso * FACTOR_POR_ACCION.get(accion, 1.0)
        if aporte:
            total += aporte
            penalizadas.append({"columna": col.nombre_salida, "dato_personal": col.dato_personal,
                                "accion": accion, "peso": aporte})
    return _score(10 - total, penalizacion=total, columnas=penalizadas)


def precision(df: pd.DataFrame) -> dict[str, Any]:
    """Undue aggregation: rows of totals or subtotals mixed with the detail score 5, else 10."""
    filas_totales = 0
    if len(df):
        import pandas as pd

        marca = pd.Series(False, index=df.index)
        variantes = {v for t in TOTALES for v in (t, t.upper(), t.title(), t.capitalize())}
        for name in df.columns:
            serie = df[name]
            if pd.api.types.is_string_dtype(serie) or serie.dtype == object:
                marca |= serie.isin(variantes).fillna(False).astype(bool)
        filas_totales = int(marca.sum())
    return _score(10.0 if filas_totales == 0 else 5.0, filas_de_totales=filas_totales)


# A column with one value (or one value in ≥ 90 % of rows, see ``perfil``) tells the reader
# nothing per row: a platform decision, documented in docs/calidad.md, not a MinTIC number.
PENALIZACION_CONSTANTE = 1.0
PENALIZACION_CASI_CONSTANTE = 0.5


def relevancia(filas: int, minimo: int = 50, *, constantes: list[str] | None = None,
               casi_constantes: list[str] | None = None) -> dict[str, Any]:
    """The guide flags datasets under 50 rows: 10 from 50 rows, proportional below; minus the
    one-value and near-constant columns (LEILA sees them, the guide's restatements do not)."""
    constantes, casi_constantes = constantes or [], casi_constantes or []
    base = 10.0 if filas >= minimo else 10 * filas / minimo
    valor = base - PENALIZACION_CONSTANTE * len(constantes) - PENALIZACION_CASI_CONSTANTE * len(casi_constantes)
    return _score(valor, filas=filas, minimo=minimo, columnas_constantes=constantes,
                  columnas_casi_constantes=casi_constantes)


# Criteria from the files and metadata ----------------------------------------------------------


def formatos_publicados(dataset: Dataset) -> list[str]:
    """Formats people can download: Socrata exports CSV/JSON/XML; the website ships CSV and JSON."""
    formatos: list[str] = []
    if dataset.datos_gov_co:
        formatos += ["csv", "json", "xml"]
    if dataset.casanare_gov_co:
        formatos += ["csv", "json"]
    return sorted(set(formatos))


def portabilidad(formatos: list[str]) -> dict[str, Any]:
    """Best open format offered: CSV/JSON/XML 10, XLSX/ODS 7, XLS 5, PDF 0."""
    if not formatos:
        return _score(0.0, formatos=[])
    puntajes = {f: PUNTAJE_FORMATO.get(f.lower(), 5) for f in formatos}
    return _score(max(puntajes.values()), formatos=puntajes)


def _fraccion(checks: dict[str, float]) -> float:
    return 10 * sum(checks.values()) / len(checks)


def comprensibilidad(dataset: Dataset) -> dict[str, Any]:
    """Metadata a reader needs: described columns, meaningful names, description and tags."""
    cols = dataset.columnas_publicadas
    n = max(len(cols), 1)
    checks = {
        "columnas_descritas": sum(len(c.descripcion) >= 10 for c in cols) / n,
        "nombres_significativos": sum(not c.nombre_salida.startswith(NOMBRES_GENERICOS) for c in cols) / n,
        "columnas_con_titulo": sum(bool(c.titulo) for c in cols) / n,
        "descripcion_del_conjunto": 1.0 if len(dataset.descripcion) >= 50 else 0.0,
        "etiquetas": min(len(dataset.etiquetas), 3) / 3,
    }
    return _score(_fraccion(checks), **{k: round(v, 3) for k, v in checks.items()})


def credibilidad(dataset: Dataset) -> dict[str, Any]:
    """Who stands behind the data: responsible office, contacts, primary source, licence, origin."""
    checks = {
        "dependencia": 1.0 if dataset.dependencia else 0.0,
        "contactos": 1.0 if dataset.contactos else 0.0,
        "fuente_primaria": 1.0 if dataset.fuente_primaria else 0.5,
        "licencia": 1.0 if dataset.licencia in get_args(Licencia) else 0.0,
        "ubicacion_de_la_fuente": 1.0 if dataset.ubicacion else 0.0,
    }
    return _score(_fraccion(checks), **checks)


def trazabilidad(dataset: Dataset, *, historial: list[dict[str, Any]], sha256: str | None) -> dict[str, Any]:
    """Metadata and change history: issue date, documentation, source hash, earlier runs."""
    checks = {
        "fecha_emision": 1.0 if dataset.fecha_emision else 0.0,
        "url_documentacion": 1.0 if dataset.url_documentacion else 0.0,
        "hash_de_la_fuente": 1.0 if sha256 else 0.0,
        "historial_de_cambios": 1.0 if historial else 0.5,
    }
    return _score(_fraccion(checks), **checks)


# Sello de Excelencia Gobierno Digital, level 1 for open data: the requirements as MinTIC's quality
# guide is restated publicly. Every threshold here is cited in docs/calidad.md ("Sello de
# Excelencia") and docs/instrumentos.md; the Sello evidence workbook quotes this same table.
FUENTE_SELLO = "docs/calidad.md, sección «Sello de Excelencia» (Guía de calidad e interoperabilidad MinTIC)"
REQUISITOS_SELLO_NIVEL_1: tuple[dict[str, Any], ...] = (
    {"clave": "actualidad_10", "criterio": "actualidad", "operador": "==", "umbral": 10,
     "texto": "Actualidad igual a 10: los datos cambiaron dentro de la frecuencia declarada"},
    {"clave": "completitud_mayor_8", "criterio": "completitud", "operador": ">", "umbral": 8,
     "texto": "Completitud mayor que 8"},
    {"clave": "consistencia_mayor_8", "criterio": "consistencia", "operador": ">", "umbral": 8,
     "texto": "Consistencia mayor que 8"},
    {"clave": "licencia_valida", "criterio": "licencia", "operador": "en", "umbral": None,
     "texto": "Licencia abierta válida (" + ", ".join(get_args(Licencia)) + ")"},
)


def cumple_requisito(requisito: dict[str, Any], criterios: dict[str, dict[str, Any]], licencia: str | None) -> bool:
    """Whether one requirement of ``REQUISITOS_SELLO_NIVEL_1`` is met."""
    if requisito["criterio"] == "licencia":
        return licencia in get_args(Licencia)
    valor = criterios.get(requisito["criterio"], {}).get("puntaje")
    if valor is None:
        return False
    return valor == requisito["umbral"] if requisito["operador"] == "==" else valor > requisito["umbral"]


def sello_excelencia(criterios: dict[str, dict[str, Any]], licencia: str | None) -> dict[str, Any]:
    """Sello de Excelencia level 1 (``REQUISITOS_SELLO_NIVEL_1``, cited in ``FUENTE_SELLO``)."""
    requisitos = {r["clave"]: cumple_requisito(r, criterios, licencia) for r in REQUISITOS_SELLO_NIVEL_1}
    return {"nivel_1": all(requisitos.values()), "requisitos": requisitos, "fuente": FUENTE_SELLO}


def build_scorecard(
    df: pd.DataFrame,
    dataset: Dataset,
    validacion: dict[str, Any],
    reporte_privacidad: dict[str, Any] | None,
    *,
    ahora: datetime,
    ultima_actualizacion: datetime,
    historial: list[dict[str, Any]],
    sha256: str | None,
    formatos: list[str] | None = None,
    duplicados_origen: int | None = None,
    perfil_columnas: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """All 17 criteria (measured or ``no_medible``), their mean, the Sello check and the
    LEILA-level profile (``casanare.quality.perfil``; ``duplicados_origen``: whole-row duplicates
    of the extracted source, to tell them from those the anonymization created;
    ``perfil_columnas``: ``perfil(df, dataset)`` when the caller already has it)."""
    from casanare.quality.perfil import conteo_de_perfil, conteo_llave, duplicados, llave_declarada, perfil

    resultados = validacion.get("resultados", [])
    if perfil_columnas is None:
        perfil_columnas = perfil(df, dataset)
    constantes = [c for c, p in perfil_columnas.items() if p["constante"]]
    casi_constantes = [c for c, p in perfil_columnas.items() if p["casi_constante"]]
    mezclas = [c for c, p in perfil_columnas.items() if p["valores_fuera_de_tipo"]]
    row_id = dataset.datos_gov_co.identificador_fila if dataset.datos_gov_co else None
    # Cells k-anonymity blanked on purpose count as missing, but don't add the required-column
    # penalty: the catalog declared that trade-off.
    suprimibles = set(dataset.microdatos.cuasi_identificadores) if dataset.microdatos else set()
    requeridas = [c.nombre_salida for c in dataset.columnas_publicadas if c.requerido and c.nombre_salida not in suprimibles]
    conteo = None
    if row_id and row_id in df.columns:
        conteo = conteo_de_perfil(perfil_columnas[row_id]) if row_id in perfil_columnas else conteo_llave(df[row_id])
    criterios: dict[str, dict[str, Any]] = {
        "completitud": completitud(df, requeridas),
        "unicidad": unicidad(df, row_id, conteo),
        "conformidad": conformidad(resultados),
        "exactitud": exactitud(resultados),
        "consistencia": consistencia(resultados, mezclas),
        "actualidad": actualidad(ultima_actualizacion, ahora, dataset.vigencia),
        "confidencialidad": confidencialidad(dataset, reporte_privacidad),
        "precision": precision(df),
        "relevancia": relevancia(len(df), constantes=constantes, casi_constantes=casi_constantes),
        "portabilidad": portabilidad(formatos if formatos is not None else formatos_publicados(dataset)),
        "comprensibilidad": comprensibilidad(dataset),
        "credibilidad": credibilidad(dataset),
        "trazabilidad": trazabilidad(dataset, historial=historial, sha256=sha256),
    }
    criterios.update({k: _no_medible(v) for k, v in NO_MEDIBLES.items()})
    medidos = [c["puntaje"] for c in criterios.values() if "puntaje" in c]
    return {
        "version": VERSION,
        "conjunto": dataset.slug,
        "fecha": ahora.isoformat(timespec="seconds"),
        "criterios": dict(sorted(criterios.items())),
        "promedio": round(sum(medidos) / len(medidos), 2) if medidos else None,
        "medidos": len(medidos),
        "no_medibles": sorted(k for k, c in criterios.items() if "puntaje" not in c),
        "sello_excelencia": sello_excelencia(criterios, dataset.licencia),
        "perfil_columnas": perfil_columnas,
        "duplicados": duplicados(df, duplicados_origen, row_id, conteo),
        "llave_declarada": llave_declarada(df, dataset, conteo),
    }


# Storage: history per dataset, read by the website and monitoring -------------------------------

HISTORIAL = "calidad/historial"
ULTIMO = "calidad/ultimo.json"


def save_scorecard(staging_url: str, slug: str, run: str, scorecard: dict[str, Any]) -> str:
    """Store one run's scorecard in the dataset's history and as the latest one."""
    from casanare.staging import DatasetArea, safe_run_id

    area = DatasetArea(staging_url, slug)
    entry = {**scorecard, "ejecucion": run}
    url = area.write_json(f"{HISTORIAL}/{safe_run_id(run)}.json", entry)
    area.write_json(ULTIMO, entry)
    return url


def latest_scorecard(staging_url: str, slug: str) -> dict[str, Any] | None:
    """The scorecard of the dataset's last successful run, or None if it never ran."""
    from casanare.staging import DatasetArea

    return DatasetArea(staging_url, slug).read_json(ULTIMO)


def scorecard_history(staging_url: str, slug: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Scorecards of successful runs, oldest first (the last ``limit`` ones when given)."""
    import json

    from casanare.staging import DatasetArea

    area = DatasetArea(staging_url, slug)
    entries = [json.loads(area.read_bytes(f"{HISTORIAL}/{name}"))
               for name in area.listdir(HISTORIAL) if name.endswith(".json")]
    entries.sort(key=lambda e: (e.get("fecha") or "", e.get("ejecucion") or ""))
    return entries[-limit:] if limit else entries
