"""Registries the open-data team keeps in the repository (``include/registros/*.yaml``).

- ``solicitudes.yaml``: requests to open data (solicitudes de apertura);
- ``usos.yaml``: applications, papers, news and visualizations that reuse the data;
- ``hallazgos.yaml``: findings reported on a dataset, and their state.

Each file is a YAML list under one key. Models forbid unknown keys; an error names the file, the
entry, the field and the line, like the catalog's.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from casanare import settings
from casanare.catalog import SLUG_RE, CatalogError, _compose, _line_of, _spanish, load_yaml

TipoSolicitante = Literal["ciudadano", "empresa", "academia", "entidad_publica", "periodista", "organizacion_social",
                          "interno"]
EstadoSolicitud = Literal["recibida", "en_estudio", "aprobada", "publicada", "rechazada"]
TipoUso = Literal["aplicacion", "articulo", "noticia", "visualizacion"]
EstadoHallazgo = Literal["abierto", "en_revision", "resuelto", "descartado"]
Slug = Annotated[str, Field(pattern=SLUG_RE)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Solicitud(_Model):
    """One request to open data (plan, section 13: "número de solicitudes de apertura")."""

    fecha: date
    tipo_solicitante: TipoSolicitante
    conjunto: Slug | None = Field(None, description="Conjunto del catálogo, si existe.")
    tema: str | None = Field(None, min_length=3, description="Tema pedido, si aún no hay conjunto.")
    canal: Literal["pqrsd", "correo", "portal", "presencial", "redes"] = "pqrsd"
    estado: EstadoSolicitud = "recibida"

    def model_post_init(self, _: Any) -> None:
        if not self.conjunto and not self.tema:
            raise ValueError("una solicitud necesita 'conjunto' o 'tema'")


class Uso(_Model):
    """One reuse of the data: an application or a publication."""

    nombre: Annotated[str, Field(min_length=3)]
    url: HttpUrl
    tipo: TipoUso
    conjuntos: list[Slug] = Field(min_length=1)
    fecha: date | None = None
    autor: str | None = None


class Hallazgo(_Model):
    """One finding reported on a dataset (plan, section 13: mechanisms to report findings)."""

    conjunto: Slug
    fecha: date
    descripcion: Annotated[str, Field(min_length=10)]
    estado: EstadoHallazgo = "abierto"
    fuente: Literal["ciudadano", "dependencia", "equipo", "portal"] = "ciudadano"

    @property
    def abierto(self) -> bool:
        return self.estado in {"abierto", "en_revision"}


class Registros(BaseModel):
    """The three registries, validated against the catalog's slugs."""

    model_config = ConfigDict(frozen=True)

    solicitudes: list[Solicitud] = Field(default_factory=list)
    usos: list[Uso] = Field(default_factory=list)
    hallazgos: list[Hallazgo] = Field(default_factory=list)


# Errors the catalog's messages do not cover (dates and URLs), in Spanish.
_MENSAJES = {
    "date_from_datetime_parsing": "fecha inválida; use aaaa-mm-dd",
    "date_parsing": "fecha inválida; use aaaa-mm-dd",
    "date_type": "fecha inválida; use aaaa-mm-dd",
    "url_parsing": "dirección web inválida (debe empezar por https://)",
    "url_scheme": "dirección web inválida (debe empezar por http:// o https://)",
    "url_type": "dirección web inválida (debe empezar por https://)",
}


def _message(err: Any) -> str:
    return _MENSAJES.get(err["type"]) or _spanish(err)


ARCHIVOS: dict[str, type[_Model]] = {"solicitudes": Solicitud, "usos": Uso, "hallazgos": Hallazgo}


def registries_dir() -> Path:
    """``include/registros`` (``CASANARE_REGISTROS_DIR`` overrides it, e.g. in tests)."""
    return Path(os.environ.get("CASANARE_REGISTROS_DIR", settings.include_dir() / "registros"))


def load_registry(path: Path, key: str, model: type[_Model], slugs: set[str] | None = None) -> list[Any]:
    """Load one registry file (a mapping with one list under ``key``).

    Raises:
        CatalogError: naming the file, the entry's field and the YAML line of each problem.
    """
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    data = load_yaml(path, text)
    root = _compose(text)  # line numbers for the messages (registries are small)
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) != {key} or not isinstance(data[key], list | None):
        raise CatalogError(path, [("(archivo)", 1, f"se esperaba un mapa con una sola lista '{key}'")])
    items, problems = [], []
    for index, raw in enumerate(data[key] or []):
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = (key, index, *err["loc"])
                field = ".".join(str(p) for p in err["loc"]) or "(entrada)"
                problems.append((f"{key}[{index + 1}].{field}", _line_of(root, loc), _message(err)))
            continue
        unknown = sorted(_slugs_of(item) - slugs) if slugs is not None else []
        if unknown:
            problems.append((f"{key}[{index + 1}]", _line_of(root, (key, index)),
                             f"conjunto(s) que no están en el catálogo: {', '.join(unknown)}"))
        items.append(item)
    if problems:
        raise CatalogError(path, problems)
    return items


def _slugs_of(item: Any) -> set[str]:
    if isinstance(item, Uso):
        return set(item.conjuntos)
    slug = getattr(item, "conjunto", None)
    return {slug} if slug else set()


def load_registries(directory: Path | None = None, slugs: set[str] | None = None) -> Registros:
    """The three registries of ``directory`` (default ``include/registros``); missing files are empty."""
    directory = directory or registries_dir()
    loaded = {key: load_registry(directory / f"{key}.yaml", key, model, slugs) for key, model in ARCHIVOS.items()}
    return Registros(**loaded)
