"""Typed failures raised by the stages.

Each class carries what a failure e-mail needs (file, sheet, rows, column, how to fix it) and
never a data value: messages are built from metadata only, so they are safe for logs and mail.
The notifier classifies a failure by its class, never by its message text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

Destinatario = Literal["dependencia", "plataforma"]


@dataclass
class Ubicacion:
    """Where in the source a problem is. Every field is optional."""

    archivo: str | None = None
    hoja: str | None = None
    filas: list[int] = field(default_factory=list)
    columna: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"archivo": self.archivo, "hoja": self.hoja, "filas": self.filas[:20], "columna": self.columna}

    def describir(self) -> str:
        """Spanish one-line description, e.g. ``archivo x.xlsx, hoja "Datos", filas 4, 9, columna edad``."""
        partes = []
        if self.archivo:
            partes.append(f"archivo {self.archivo}")
        if self.hoja:
            partes.append(f'hoja "{self.hoja}"')
        if self.filas:
            mostradas = ", ".join(str(f) for f in self.filas[:20])
            extra = f" (y {len(self.filas) - 20} más)" if len(self.filas) > 20 else ""
            partes.append(f"fila{'s' if len(self.filas) > 1 else ''} {mostradas}{extra}")
        if self.columna:
            partes.append(f"columna {self.columna}")
        return ", ".join(partes)


class DatosAbiertosError(Exception):
    """Base of every expected pipeline failure.

    Attributes:
        causa: stable cause key used for the e-mail subject (see ``CAUSAS``).
        transitoria: whether retrying the task may help (portal down) or not (bad file).
        destinatario: who can fix it and gets the e-mail: the ``dependencia`` (its file, its
            data) or the ``plataforma`` team alone (catalog, credentials, portal, servers). A
            class that does not say is a platform problem: a dependencia is never asked to fix
            what it can't see.
    """

    causa: ClassVar[str] = "error_interno"
    transitoria: ClassVar[bool] = False
    destinatario: ClassVar[Destinatario] = "plataforma"

    def __init__(
        self,
        mensaje: str,
        *,
        ubicacion: Ubicacion | None = None,
        como_corregir: str = "",
        detalles: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(mensaje)
        self.mensaje = mensaje
        self.ubicacion = ubicacion or Ubicacion()
        self.como_corregir = como_corregir
        self.detalles = detalles or {}

    def __str__(self) -> str:
        donde = self.ubicacion.describir()
        return f"{self.mensaje} ({donde})" if donde else self.mensaje

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe summary for the manifest and the notifier (no data values by construction)."""
        return {
            "causa": self.causa,
            "tipo": type(self).__name__,
            "destinatario": self.destinatario,
            "mensaje": self.mensaje,
            "ubicacion": self.ubicacion.as_dict(),
            "como_corregir": self.como_corregir,
            "detalles": self.detalles,
        }


class FuenteNoEncontrada(DatosAbiertosError):
    """The dependencia's file is not where it was agreed."""

    causa = "fuente_no_encontrada"
    destinatario = "dependencia"


class ArchivoConErrores(DatosAbiertosError):
    """The dependencia's file can't be read as it is (truncated, bad cells, wrong separator…)."""

    causa = "archivo_con_errores"
    destinatario = "dependencia"


class CambioDeVolumen(DatosAbiertosError):
    """The source brings far fewer or far more rows than the last publication."""

    causa = "cambio_de_volumen"
    destinatario = "dependencia"


class BaseDeDatosNoDisponible(DatosAbiertosError):
    """The source database can't be reached: retrying may help; servers are the platform's."""

    causa = "fuente_no_encontrada"
    transitoria = True
    destinatario = "plataforma"


class CalidadDeDatos(DatosAbiertosError):
    """The dependencia's data break the agreed rules (rows and columns named)."""

    causa = "calidad_de_datos"
    destinatario = "dependencia"


class DatosPersonalesDetectados(DatosAbiertosError):
    """Personal data where the dependencia's file should have none."""

    causa = "datos_personales_detectados"
    destinatario = "dependencia"


class PortalNoDisponible(DatosAbiertosError):
    causa = "portal_no_disponible"
    transitoria = True
    destinatario = "plataforma"


class ErrorDeConfiguracion(DatosAbiertosError):
    """Missing connection, key or catalog inconsistency detected at run time."""

    causa = "error_de_configuracion"
    destinatario = "plataforma"


CAUSAS: dict[str, str] = {
    "fuente_no_encontrada": "fuente no encontrada",
    "archivo_con_errores": "archivo con errores",
    "calidad_de_datos": "calidad de datos",
    "datos_personales_detectados": "datos personales detectados",
    "reidentificacion_posible": "riesgo de reidentificación (catálogo)",
    "portal_no_disponible": "portal no disponible",
    "cambio_de_volumen": "cambio grande en el número de filas",
    "error_de_configuracion": "error de configuración de la plataforma",
    "respuesta_del_portal": "respuesta inesperada del portal",
    "error_interno": "error interno",
}
