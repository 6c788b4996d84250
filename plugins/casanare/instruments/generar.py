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
from casanare.instruments.indice import COLUMNAS_INDICE, indice_clasificada
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
        estados[ds.slug] = estado_publicacion(
            ds, DatasetArea(staging_url, ds.slug).history(), _site_state(transport, ruta),
            url_portal=portal_page_url(ds), url_sitio=website_page_url(ds),
        )
    return estados


def instrumentos_transparencia(catalog: Catalog, estados: dict[str, EstadoPublicacion]) -> list[Instrumento]:
    """The Registro de Activos and the Índice as page + download definitions."""
    registro = registro_activos(catalog, estados)
    indice = indice_clasificada(catalog)
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
            hojas=[Hoja("Índice", COLUMNAS_INDICE, indice)],
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


def solicitudes_registradas(staging_url: str) -> dict[str, int]:
    """Requests to open data recorded per dataset (Fase IV requests registry), when it exists."""
    try:
        from casanare.monitor import solicitudes as registro  # type: ignore[import-not-found]
    except ImportError:
        return {}
    contar = getattr(registro, "conteo_por_conjunto", None)
    return dict(contar(staging_url)) if callable(contar) else {}


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
                                 solicitudes=solicitudes_registradas(staging_url)),
    ]
    report = publicar_transparencia(instrumentos, transport, generado=ahora)
    report["conjuntos_en_indice"] = rebuild_catalog(transport, environment(), generated=ahora)
    report["publicados"] = sorted(s for s, e in estados.items() if e.publicada)
    report["avisos_priorizacion"] = list(catalog.avisos_priorizacion)
    return report
