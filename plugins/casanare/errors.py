"""Typed failures raised by the stages.

Each class carries what a failure e-mail needs (file, sheet, rows, column, how to fix it) and
never a data value: messages are built from metadata only, so they are safe for logs and mail.
The notifier classifies a failure by its class, never by its message text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


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
    """

    causa: ClassVar[str] = "error_interno"
    transitoria: ClassVar[bool] = False

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
            "mensaje": self.mensaje,
            "ubicacion": self.ubicacion.as_dict(),
            "como_corregir": self.como_corregir,
            "detalles": self.detalles,
        }


class FuenteNoEncontrada(DatosAbiertosError):
    causa = "fuente_no_encontrada"


class ArchivoConErrores(DatosAbiertosError):
    causa = "archivo_con_errores"


class BaseDeDatosNoDisponible(DatosAbiertosError):
    """The source database can't be reached: retrying may help."""

    causa = "fuente_no_encontrada"
    transitoria = True


class CalidadDeDatos(DatosAbiertosError):
    causa = "calidad_de_datos"


class DatosPersonalesDetectados(DatosAbiertosError):
    causa = "datos_personales_detectados"


class PortalNoDisponible(DatosAbiertosError):
    causa = "portal_no_disponible"
    transitoria = True


class ErrorDeConfiguracion(DatosAbiertosError):
    """Missing connection, key or catalog inconsistency detected at run time."""

    causa = "error_interno"


CAUSAS: dict[str, str] = {
    "fuente_no_encontrada": "fuente no encontrada",
    "archivo_con_errores": "archivo con errores",
    "calidad_de_datos": "calidad de datos",
    "datos_personales_detectados": "datos personales detectados",
    "portal_no_disponible": "portal no disponible",
    "error_interno": "error interno",
}
