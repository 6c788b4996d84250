"""Build every instrument from the catalog and the real state, and deliver it to the website.

``estados_catalogo`` reads the staging history and the website state of each entry;
``instrumentos_transparencia`` turns catalog + states into pages and downloads;
``publicar_transparencia`` writes them (temp + rename, through the website transport).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from casanare.catalog import Catalog
from casanare.dag_docs import portal_page_url, website_page_url
from casanare.instruments.estado import EstadoPublicacion, estado_publicacion
from casanare.instruments.indice import (
    COLUMNAS_INDICE,
    COLUMNAS_POR_LEY,
    indice_clasificada,
    publicos_por_ley,
)
from casanare.instruments.matriz import COLUMNAS_CRITERIOS, COLUMNAS_MATRIZ, filas_criterios, matriz
from casanare.instruments.paginas import CARPETA, Instrumento, environment, render_instrumento, render_portada
from casanare.instruments.registro import COLUMNAS_REGISTRO, registro_activos
from casanare.instruments.tablas import Hoja
from casanare.priorizacion import Criterios
from casanare.publish.site.transport import Transport


def _site_state(transport: Transport | None, ruta: str | None) -> dict[str, Any] | None:
    if transport is None or not ruta:
        return None
    raw = transport.read_file(f"estado/{ruta}.json")
    try:
        entry = json.loads(raw) if raw else None
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def estados_catalogo(catalog: Catalog, staging_url: str, transport: Transport | None) -> dict[str, EstadoPublicacion]:
    """The real publication state of every catalog entry."""
    from casanare.staging import DatasetArea

    estados = {}
    for ds in catalog.datasets:
        ruta = ds.casanare_gov_co.ruta if ds.casanare_gov_co else None
        area = DatasetArea(staging_url, ds.slug)
        estados[ds.slug] = estado_publicacion(
            ds, area.history(), _site_state(transport, ruta),
            url_portal=portal_page_url(ds, area.portal_id()), url_sitio=website_page_url(ds),
        )
    return estados


def instrumentos_transparencia(catalog: Catalog, estados: dict[str, EstadoPublicacion]) -> list[Instrumento]:
    """The Registro de Activos and the Índice as page + download definitions."""
    registro = registro_activos(catalog, estados)
    indice = indice_clasificada(catalog)
    por_ley = publicos_por_ley(catalog)
    publicados = sum(1 for e in estados.values() if e.publicada)
    return [
        Instrumento(
            archivo="registro-activos",
            titulo="Registro de Activos de Información",
            resumen=f"{len(registro)} activos de información, {publicados} publicados como datos abiertos.",
            introduccion=[
                "Inventario de la información que produce y custodia la Gobernación de Casanare (Ley 1712 de "
                "2014, art. 13; Decreto 103 de 2015), esté publicada o disponible a solicitud.",
                "La columna «Información publicada o disponible» refleja el estado verificado por la plataforma: "
                "publicada en datos.gov.co o en casanare.gov.co (con enlace), o disponible a solicitud ante la "
                "dependencia responsable.",
            ],
            hojas=[Hoja("Registro de activos", COLUMNAS_REGISTRO, registro)],
        ),
        Instrumento(
            archivo="indice-clasificada-reservada",
            titulo="Índice de Información Clasificada y Reservada",
            resumen=f"{len(indice)} elementos de información clasificada o reservada.",
            introduccion=[
                "Información exceptuada del acceso público por daño a derechos de las personas (clasificada, "
                "Ley 1712 de 2014, art. 18) o a intereses públicos (reservada, art. 19), con los campos del "
                "Decreto 103 de 2015.",
                "Las columnas clasificadas nunca se publican: los conjuntos de datos abiertos se publican sin "
                "ellas (excepción parcial).",
            ],
            hojas=[Hoja("Índice", COLUMNAS_INDICE, indice),
                   Hoja("Públicos por ley", COLUMNAS_POR_LEY, por_ley)],
            extra={"por_ley": por_ley, "columnas_por_ley": COLUMNAS_POR_LEY},
            plantilla="transparencia/indice.html",
        ),
    ]


def instrumento_priorizacion(
    catalog: Catalog,
    criterios: Criterios,
    estados: dict[str, EstadoPublicacion],
    scorecards: dict[str, dict[str, Any] | None],
    *,
    ahora: datetime,
    solicitudes: dict[str, int] | None = None,
) -> Instrumento:
    """The prioritization matrix page and its .xlsx (matrix + criteria sheets)."""
    filas = matriz(catalog, criterios, estados, scorecards, ahora=ahora, solicitudes=solicitudes)
    criterios_filas = filas_criterios(criterios)
    acciones = [{"accion": a, "cantidad": sum(1 for f in filas if f["accion"] == a)}
                for a in ("Abrir", "Actualizar", "Mejorar", "Usar")]
    desacuerdos = sum(1 for f in filas if f["desacuerdo"] != "Coinciden")
    return Instrumento(
        archivo="priorizacion",
        titulo="Priorización de datos abiertos",
        resumen=f"matriz de {len(filas)} conjuntos del inventario; {desacuerdos} donde la decisión y el puntaje difieren.",
        introduccion=[
            "Fase I del Plan de Apertura, Mejora y Uso de Datos Abiertos: cada conjunto del inventario se analiza "
            "(10.2) y se prioriza (10.3) según su demanda, su impacto, la facilidad de abrirlo y su alineación "
            "con el Plan de Desarrollo Departamental.",
            "La acción de cada conjunto (Abrir, Actualizar, Mejorar, Usar) se deriva de su estado real de "
            "publicación y de su última evaluación de calidad MinTIC.",
        ],
        hojas=[Hoja("Matriz de priorización", COLUMNAS_MATRIZ, filas),
               Hoja("Criterios", COLUMNAS_CRITERIOS, criterios_filas)],
        columnas_enlace=(),
        con_csv=False,
        extra={"criterios": criterios_filas, "acciones": acciones},
        plantilla="transparencia/priorizacion.html",
    )


def publicar_transparencia(
    instrumentos: list[Instrumento], transport: Transport, *, generado: datetime
) -> dict[str, Any]:
    """Write every instrument page, its downloads and the section's front page."""
    env = environment()
    files: dict[str, bytes] = {}
    for instrumento in instrumentos:
        files.update(render_instrumento(env, instrumento, generado=generado))
    files[f"{CARPETA}/index.html"] = render_portada(env, instrumentos, generado=generado)
    for name in sorted(files):
        transport.write_file(name, files[name])
    return {
        "archivos": sorted(files),
        "filas": {i.archivo: len(i.hojas[0].filas) for i in instrumentos},
    }


def solicitudes_registradas(slugs: set[str]) -> dict[str, int]:
    """Requests to open data recorded per dataset (Fase IV registry ``include/registros/solicitudes.yaml``)."""
    try:
        from casanare.monitor.registries import load_registries
    except ImportError:  # the monitoring package is not installed in this deployment
        return {}
    counts: dict[str, int] = {}
    for solicitud in load_registries(slugs=slugs).solicitudes:
        if solicitud.conjunto:
            counts[solicitud.conjunto] = counts.get(solicitud.conjunto, 0) + 1
    return counts


def actualizar_transparencia(catalog: Catalog, staging_url: str, transport: Transport, *, ahora: datetime) -> dict[str, Any]:
    """Rebuild the whole transparency section and the catalog index ("en inventario" included)."""
    from casanare.priorizacion import load_criterios
    from casanare.publish.website import rebuild_catalog
    from casanare.quality.scorecard import latest_scorecard

    estados = estados_catalogo(catalog, staging_url, transport)
    scorecards = {ds.slug: latest_scorecard(staging_url, ds.slug) for ds in catalog.datasets}
    instrumentos = [
        *instrumentos_transparencia(catalog, estados),
        instrumento_priorizacion(catalog, load_criterios(), estados, scorecards, ahora=ahora,
                                 solicitudes=solicitudes_registradas({d.slug for d in catalog.datasets})),
    ]
    report = publicar_transparencia(instrumentos, transport, generado=ahora)
    report["conjuntos_en_indice"] = rebuild_catalog(transport, environment(), generated=ahora)
    report["publicados"] = sorted(s for s, e in estados.items() if e.publicada)
    report["avisos_priorizacion"] = list(catalog.avisos_priorizacion)
    return report


CARPETA_STAGING = "_instrumentos"  # not a valid slug: never mistaken for a dataset's folder
MARCA_ANUNCIO = "estado/anuncio.json"


def instrumentos_storage(staging_url: str):
    from casanare.staging import Storage

    return Storage(f"{staging_url.rstrip('/')}/{CARPETA_STAGING}")


def anunciar(catalog: Catalog, staging_url: str, *, ahora: datetime) -> list[dict[str, Any]]:
    """Write Fase III texts for every dataset that is new or whose data changed since the last one."""
    from dataclasses import replace

    from casanare.instruments.anuncios import escribir, novedad
    from casanare.staging import DatasetArea

    storage = instrumentos_storage(staging_url)
    written = []
    for ds in catalog.priorizados:
        area = DatasetArea(staging_url, ds.slug)
        nov = novedad(area.history(), area.read_json(MARCA_ANUNCIO))
        url = website_page_url(ds) or portal_page_url(ds, area.portal_id())
        if nov is None or url is None:
            continue
        written.append(escribir(storage, ds, replace(nov, slug=ds.slug), url))
        area.write_json(MARCA_ANUNCIO, {"ejecucion": nov.ejecucion, "sha256": nov.sha256,
                                        "anunciado": ahora.isoformat(timespec="seconds")})
    return written


def resumen_comunicaciones(staging_url: str, desde: datetime, hasta: datetime, *, sender: str, to: list[str],
                           cc: list[str]):
    """The weekly e-mail to the communications team, or None when nothing was announced."""
    from casanare.instruments.anuncios import de_la_semana
    from casanare.notify import SUBJECT_PREFIX, compose

    items = de_la_semana(instrumentos_storage(staging_url), desde, hasta)
    if not items:
        return None
    subject = f"{SUBJECT_PREFIX} Anuncios de datos abiertos listos para publicar ({len(items)})"
    return compose(subject, sender, to, cc, "anuncios", asunto=subject, anuncios=items,
                   desde=desde.strftime("%Y-%m-%d"), hasta=hasta.strftime("%Y-%m-%d"), equipo=", ".join(cc) or sender)


def evidencias_sello(catalog: Catalog, staging_url: str, transport: Transport) -> list[dict[str, Any]]:
    """One Sello evidence workbook per published dataset, in ``_instrumentos/sello/<slug>.xlsx``."""
    from casanare.instruments.archivos import verificar_archivos
    from casanare.instruments.sello import filas_sello, nivel_alcanzado, workbook
    from casanare.quality.scorecard import latest_scorecard
    from casanare.staging import DatasetArea, RunArea

    storage = instrumentos_storage(staging_url)
    estados = estados_catalogo(catalog, staging_url, transport)
    written = []
    for ds in catalog.datasets:
        estado = estados[ds.slug]
        if not estado.publicada:
            continue
        historial = DatasetArea(staging_url, ds.slug).history()
        last = historial[-1] if historial else {}
        manifest = RunArea(staging_url, ds.slug, last["ejecucion"]).read_json("manifest.json") if last.get("ejecucion") else None
        ruta = ds.casanare_gov_co.ruta if ds.casanare_gov_co else None
        filas_sitio = (_site_state(transport, ruta) or {}).get("filas")
        archivos = verificar_archivos(ds, transport, filas_sitio if isinstance(filas_sitio, int) else None)
        storage.write_json(f"archivos/{ds.slug}.json", archivos)
        rows = filas_sello(ds, estado, latest_scorecard(staging_url, ds.slug), manifest, historial, archivos)
        url = storage.write_bytes(f"sello/{ds.slug}.xlsx", workbook(ds, rows))
        written.append({"conjunto": ds.slug, "archivo": url, "resultado": nivel_alcanzado(rows),
                        "verificaciones_archivos": f"{sum(a['resultado'] == 'cumple' for a in archivos)}/{len(archivos)}"})
    return written
