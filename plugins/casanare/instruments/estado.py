"""Whether each catalog entry is really published, derived from the platform's records.

The YAML's ``publicada`` is what the inventory declared before the platform existed; once a DAG
publishes, the truth is in the staging history (``<slug>/estado/historial.jsonl``: rows reconciled
on datos.gov.co) and in the website's state file (``estado/<ruta>.json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from casanare.catalog import Dataset


@dataclass(frozen=True)
class EstadoPublicacion:
    """Real publication state of one catalog entry (no data values)."""

    slug: str
    en_portal: bool
    en_sitio: bool
    url_portal: str | None
    url_sitio: str | None
    ultima_publicacion: str | None
    primera_publicacion: str | None
    filas: int | None
    publicaciones: int
    declarada_publicada: bool
    disponible: bool
    contactos: list[str] = field(default_factory=list)

    @property
    def publicada(self) -> bool:
        return self.en_portal or self.en_sitio

    @property
    def texto(self) -> str:
        """The Registro de Activos' "información publicada o disponible", in plain Spanish."""
        lugares = [n for n, ok in (("datos.gov.co", self.en_portal), ("casanare.gov.co", self.en_sitio)) if ok]
        if lugares:
            return "Publicada en " + " y ".join(lugares)
        if self.declarada_publicada:
            return "Publicada según el inventario (sin publicación verificada por la plataforma)"
        if self.disponible:
            return "Disponible a solicitud"
        return "No disponible para consulta"

    @property
    def enlaces(self) -> list[str]:
        return [u for u, ok in ((self.url_portal, self.en_portal), (self.url_sitio, self.en_sitio)) if ok and u]


def estado_publicacion(
    ds: Dataset,
    historial: list[dict[str, Any]],
    estado_sitio: dict[str, Any] | None,
    *,
    url_portal: str | None,
    url_sitio: str | None,
) -> EstadoPublicacion:
    """Combine the success history and the website state of one dataset.

    Args:
        ds: catalog entry.
        historial: its success history (``DatasetArea.history()``), oldest first.
        estado_sitio: its ``estado/<ruta>.json`` on the website, or None.
        url_portal: public page on datos.gov.co, if the entry has one.
        url_sitio: public page on casanare.gov.co, if the entry has one.
    """
    en_portal = any(isinstance(h.get("filas_publicadas"), int) for h in historial)
    en_sitio = bool(estado_sitio) or any(h.get("version_sitio") for h in historial)
    fechas = sorted(str(h["fecha"]) for h in historial if h.get("fecha"))
    if estado_sitio and estado_sitio.get("actualizado"):
        fechas = sorted([*fechas, str(estado_sitio["actualizado"])])
    ultima = historial[-1] if historial else {}
    filas = ultima.get("filas_publicadas")
    if not isinstance(filas, int):
        filas = (estado_sitio or {}).get("filas") if isinstance((estado_sitio or {}).get("filas"), int) else None
    return EstadoPublicacion(
        slug=ds.slug,
        en_portal=en_portal,
        en_sitio=en_sitio,
        url_portal=url_portal,
        url_sitio=url_sitio,
        ultima_publicacion=fechas[-1] if fechas else None,
        primera_publicacion=fechas[0] if fechas else None,
        filas=filas,
        publicaciones=len(historial),
        declarada_publicada=ds.publicada,
        disponible=ds.disponible,
        contactos=[str(c) for c in ds.contactos],
    )
