"""Analyze and prioritize (plan 10.2, 10.3): a score and rank for every inventory entry.

The criteria live in one config file (``include/instrumentos/priorizacion.yaml``): demand (who
asks for the information, ``evidencia_solicitud``, plus recorded requests), impact, ease (soporte,
source format, personal data to anonymize) and strategic alignment. ``priorizado`` in the catalog
stays the decision; ``desacuerdos`` lists where it and the ranking disagree, which the catalog
loader reports. No catalog import at module level: ``casanare.catalog`` calls this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from casanare import settings

if TYPE_CHECKING:
    from casanare.catalog import Dataset

log = logging.getLogger(__name__)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pesos(_Model):
    demanda: float = Field(ge=0, le=1)
    impacto: float = Field(ge=0, le=1)
    facilidad: float = Field(ge=0, le=1)
    alineacion: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _sum_one(self) -> Pesos:
        total = self.demanda + self.impacto + self.facilidad + self.alineacion
        if abs(total - 1) > 1e-6:
            raise ValueError(f"los pesos deben sumar 1 (suman {total:g})")
        return self


class Demanda(_Model):
    evidencia: dict[str, float]
    por_solicitud_registrada: float = Field(ge=0)


class Impacto(_Model):
    por_defecto: float = Field(ge=0, le=10)
    categorias: dict[str, float] = Field(default_factory=dict)


class Facilidad(_Model):
    soporte: dict[str, float]
    fuente: dict[str, float]
    penalizacion_por_dato_personal: float = Field(ge=0)
    penalizacion_maxima: float = Field(ge=0, le=10)


class Alineacion(_Model):
    estrategico: float = Field(ge=0, le=10)
    no_estrategico: float = Field(ge=0, le=10)
    categorias: list[str] = Field(default_factory=list)
    etiquetas: list[str] = Field(default_factory=list)


class Criterios(_Model):
    """The prioritization config file."""

    pesos: Pesos
    umbral_priorizar: float = Field(ge=0, le=10)
    demanda: Demanda
    impacto: Impacto
    facilidad: Facilidad
    alineacion: Alineacion


def config_path() -> Path:
    return settings.include_dir() / "instrumentos" / "priorizacion.yaml"


def load_criterios(path: Path | None = None) -> Criterios:
    """Read and validate the config file; errors name the file, the field and the line."""
    import yaml

    from casanare.catalog import CatalogError, _field_name, _line_of, _spanish

    path = path or config_path()
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    try:
        return Criterios.model_validate(data)
    except ValidationError as exc:
        root = yaml.compose(text)
        raise CatalogError(path, [(_field_name(data, tuple(e["loc"])), _line_of(root, tuple(e["loc"])), _spanish(e))
                                  for e in exc.errors()]) from None


@dataclass(frozen=True)
class Puntaje:
    """Score of one inventory entry: each criterion 0-10, the weighted total and its rank."""

    slug: str
    nombre: str
    dependencia: str
    demanda: float
    impacto: float
    facilidad: float
    alineacion: float
    total: float
    solicitudes: int
    recomendado: bool
    priorizado: bool
    puesto: int = 0

    @property
    def desacuerdo(self) -> str | None:
        if self.priorizado and not self.recomendado:
            return "priorizado, pero su puntaje queda por debajo del umbral"
        if self.recomendado and not self.priorizado:
            return "no priorizado, pero su puntaje supera el umbral"
        return None


def _clip(value: float) -> float:
    return round(max(0.0, min(10.0, value)), 2)


def puntuar(ds: Dataset, criterios: Criterios, solicitudes: int = 0) -> Puntaje:
    """Score one entry (``solicitudes``: requests recorded for it in the requests registry)."""
    c = criterios
    demanda = sum(c.demanda.evidencia.get(e, 0) for e in ds.evidencia_solicitud)
    demanda += solicitudes * c.demanda.por_solicitud_registrada
    impacto = c.impacto.categorias.get(ds.categoria, c.impacto.por_defecto)
    formato = getattr(ds.fuente, "formato_efectivo", None) or getattr(ds.fuente, "tipo", None) or "sin_fuente"
    fuente = c.facilidad.fuente.get(formato, c.facilidad.fuente.get("sin_fuente", 5))
    tipos_personales = {col.dato_personal for col in ds.columnas if col.dato_personal}
    penal = min(len(tipos_personales) * c.facilidad.penalizacion_por_dato_personal, c.facilidad.penalizacion_maxima)
    facilidad = (c.facilidad.soporte.get(ds.soporte, 5) + fuente) / 2 - penal
    etiquetas = {e.casefold() for e in ds.etiquetas}
    estrategico = ds.categoria in c.alineacion.categorias or bool(etiquetas & {e.casefold() for e in c.alineacion.etiquetas})
    alineacion = c.alineacion.estrategico if estrategico else c.alineacion.no_estrategico
    parts = {"demanda": _clip(demanda), "impacto": _clip(impacto), "facilidad": _clip(facilidad),
             "alineacion": _clip(alineacion)}
    total = round(sum(parts[k] * getattr(c.pesos, k) for k in parts), 2)
    return Puntaje(slug=ds.slug, nombre=ds.nombre, dependencia=ds.dependencia, total=total, solicitudes=solicitudes,
                   recomendado=total >= c.umbral_priorizar, priorizado=ds.priorizado, **parts)


def ranking(datasets: list[Dataset], criterios: Criterios, solicitudes: dict[str, int] | None = None) -> list[Puntaje]:
    """Every entry scored, best first (ties by name), with its 1-based rank."""
    from dataclasses import replace

    scored = [puntuar(ds, criterios, (solicitudes or {}).get(ds.slug, 0)) for ds in datasets]
    scored.sort(key=lambda p: (-p.total, p.nombre.casefold()))
    return [replace(p, puesto=i) for i, p in enumerate(scored, start=1)]


def desacuerdos(puntajes: list[Puntaje]) -> list[str]:
    """Plain-Spanish lines where the catalog's decision and the ranking disagree."""
    return [f"{p.slug}: {p.desacuerdo} (puntaje {p.total:g}, puesto {p.puesto})" for p in puntajes if p.desacuerdo]


def report_on_load(datasets: list[Dataset]) -> list[str]:
    """What the catalog loader logs: disagreements, computed only when the config file exists."""
    if not config_path().is_file():
        return []
    from casanare.catalog import CatalogError

    try:
        criterios = load_criterios()
    except CatalogError as exc:
        # A bad prioritization file must not stop the data pipelines; the instrumentos DAG fails on it.
        log.error("%s", exc)
        return [f"criterios de priorización inválidos: {exc.path.name}"]
    lines = desacuerdos(ranking(datasets, criterios))
    for line in lines:
        log.warning("Priorización: %s", line)
    return lines


def resumen(puntaje: Puntaje) -> dict[str, Any]:
    return {k: getattr(puntaje, k) for k in ("puesto", "total", "demanda", "impacto", "facilidad", "alineacion",
                                             "solicitudes", "recomendado", "priorizado")}
