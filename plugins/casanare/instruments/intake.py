"""Inventory intake (plan 10.1, Fase I "Identificar"): the dependencias' spreadsheet -> catalog.

The spreadsheet has one row per information asset with the 10.1 columns, written by people:
title rows above the table, merged two-row headers ("Frecuencia" over "Generación" and
"Actualización"), headers with or without accents, "Sí"/"X"/"No" answers, the same asset twice.
``leer_inventario`` finds the header (as the extractor does, by recognising known names), reads
the rows and normalises the answers; ``comparar`` reports, field by field, where an asset already
in the catalog differs; ``esqueletos`` writes a YAML skeleton for each new asset, never over an
existing file (one that does not validate yet is written as ``<slug>.yaml.borrador``, which the
catalog loader ignores, with the fields still to complete).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml

from casanare.catalog import (
    CATEGORIAS_PORTAL,
    Ambito,
    Catalog,
    Dataset,
    EvidenciaSolicitud,
    Tipologia,
    slug_valido,
)
from casanare.extract.headers import normalize

HEADER_SCAN_ROWS = 30
# Field -> headers people write for it (compared normalised: no accents, case or punctuation).
ENCABEZADOS: dict[str, tuple[str, ...]] = {
    "slug": ("identificador", "slug", "codigo del activo", "id"),
    "nombre": ("nombre de la informacion", "nombre o titulo de la informacion", "nombre del activo", "nombre",
               "titulo", "nombre del conjunto de datos"),
    "descripcion": ("descripcion", "descripcion del contenido", "descripcion de la informacion"),
    "dependencia": ("area responsable de la informacion", "area responsable", "dependencia responsable",
                    "dependencia", "responsable de la informacion"),
    "tipologia": ("tipologia de informacion", "tipologia de la informacion", "tipologia"),
    "categoria": ("categoria", "categoria tematica", "tema"),
    "ambito_geografico": ("ambito geografico", "ambito"),
    "idioma": ("idioma",),
    "fuente_primaria": ("fuente primaria", "es fuente primaria"),
    "evidencia_solicitud": ("evidencia de solicitud", "evidencia solicitud", "demandante", "quien la solicita"),
    "soporte": ("soporte de informacion", "soporte de la informacion", "soporte", "medio de conservacion o soporte",
                "medio de conservacion"),
    "formato": ("formato",),
    "frecuencia_generacion": ("frecuencia de generacion", "frecuencia generacion"),
    "frecuencia_actualizacion": ("frecuencia de actualizacion", "frecuencia actualizacion"),
    "disponible": ("informacion disponible", "disponible"),
    "publicada": ("informacion publicada", "publicada"),
    "ubicacion": ("lugar donde se encuentra", "ubicacion", "lugar", "url o ubicacion"),
    "contactos": ("correo de contacto", "correo", "correo electronico", "contacto"),
}
_LOOKUP = {normalize(alias): name for name, aliases in ENCABEZADOS.items() for alias in aliases}
CAMPOS_COMPARADOS = (
    "nombre", "descripcion", "dependencia", "tipologia", "categoria", "ambito_geografico", "idioma",
    "fuente_primaria", "evidencia_solicitud", "soporte", "formato", "frecuencia_generacion",
    "frecuencia_actualizacion", "disponible", "publicada", "ubicacion", "contactos",
)
ETIQUETAS = {
    "nombre": "Nombre de la información", "descripcion": "Descripción", "dependencia": "Área responsable",
    "tipologia": "Tipología", "categoria": "Categoría", "ambito_geografico": "Ámbito geográfico",
    "idioma": "Idioma", "fuente_primaria": "Fuente primaria", "evidencia_solicitud": "Evidencia de solicitud",
    "soporte": "Soporte", "formato": "Formato", "frecuencia_generacion": "Frecuencia de generación",
    "frecuencia_actualizacion": "Frecuencia de actualización", "disponible": "Información disponible",
    "publicada": "Información publicada", "ubicacion": "Lugar donde se encuentra", "contactos": "Correo de contacto",
    "slug": "Identificador",
}
_SI = {"si", "s", "x", "yes", "1", "verdadero", "true", "publicada", "disponible"}
_NO = {"no", "n", "0", "falso", "false", "ninguno", "no aplica"}
_FRECUENCIAS = (("diari", "diaria"), ("seman", "semanal"), ("mensu", "mensual"), ("trimes", "trimestral"),
                ("semes", "semestral"), ("anual", "anual"), ("event", "eventual"), ("ocasion", "eventual"),
                ("por demanda", "eventual"), ("a demanda", "eventual"))
_STOPWORDS = {"de", "del", "la", "las", "los", "el", "y", "en", "por", "para", "a", "al", "e"}


@dataclass
class Fila:
    """One asset of the spreadsheet: its Excel row, the parsed fields and what could not be read."""

    fila: int
    valores: dict[str, Any]
    problemas: list[str] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.valores.get("slug") or slug_de(self.valores.get("nombre") or "")


@dataclass
class Inventario:
    archivo: str
    hoja: str
    fila_encabezado: int
    campos: dict[str, int]
    sin_reconocer: list[str]
    filas: list[Fila]
    duplicados: list[str]


@dataclass
class Informe:
    """What the intake did, for the person who runs it (plain Spanish lines)."""

    nuevos: list[str] = field(default_factory=list)
    borradores: list[str] = field(default_factory=list)
    existentes_sin_tocar: list[str] = field(default_factory=list)
    diferencias: list[str] = field(default_factory=list)
    avisos: list[str] = field(default_factory=list)

    def texto(self) -> str:
        parts = []
        for title, lines in (("Conjuntos nuevos (YAML escrito)", self.nuevos),
                             ("Borradores por completar (.yaml.borrador)", self.borradores),
                             ("Archivos que ya existían (no se sobrescribieron)", self.existentes_sin_tocar),
                             ("Diferencias con el catálogo", self.diferencias),
                             ("Avisos de la hoja", self.avisos)):
            parts.append(f"{title}: {len(lines)}")
            parts.extend(f"  - {line}" for line in lines)
        return "\n".join(parts)


def slug_de(nombre: str) -> str:
    """``"Bienes inmuebles de propiedad del departamento"`` -> ``"bienes_inmuebles_propiedad_departamento"``."""
    words = [w for w in normalize(nombre).split() if w not in _STOPWORDS]
    slug = ""
    for word in words:
        candidate = f"{slug}_{word}" if slug else word
        if len(candidate) > 48:
            break
        slug = candidate
    if slug and not slug[0].isalpha():
        slug = f"activo_{slug}"
    return slug if slug_valido(slug) else ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", " ", str(value)).strip()


def _fill_merged(sheet) -> dict[tuple[int, int], Any]:
    """Cell values with every merged range filled with its top-left value (1-based row, col)."""
    values: dict[tuple[int, int], Any] = {}
    for row in sheet.iter_rows(min_row=1, max_row=sheet.max_row):
        for cell in row:
            if cell.value is not None:
                values[(cell.row, cell.column)] = cell.value
    for merged in sheet.merged_cells.ranges:
        top_left = values.get((merged.min_row, merged.min_col))
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                values[(r, c)] = top_left
    return values


def _match(text: str) -> str | None:
    return _LOOKUP.get(normalize(text))


def _header_candidates(cells: dict[tuple[int, int], Any], row: int, width: int) -> list[tuple[int, list[list[str]]]]:
    """Each column's possible names: the row as a one-row header, and rows ``row``/``row+1`` as a
    merged two-row header (``"Frecuencia" + "Generación"``, or the lower cell alone under a group
    title such as "Datos generales")."""
    top = [_text(cells.get((row, c))) for c in range(1, width + 1)]
    bottom = [_text(cells.get((row + 1, c))) for c in range(1, width + 1)]
    two = []
    for t, b in zip(top, bottom, strict=True):
        if not b or b == t:
            two.append([t])
        else:
            two.append([f"{t} {b}", b] if t else [b])
    return [(1, [[t] for t in top]), (2, two)]


def _map(headers: list[list[str]]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for idx, names in enumerate(headers):
        name = next((m for m in (_match(n) for n in names if n) if m), None)
        if name and name not in mapping:
            mapping[name] = idx
    return mapping


def leer_inventario(path: Path, hoja: str | None = None) -> Inventario:
    """Read the inventory spreadsheet (.xlsx): find the header and parse every asset row.

    Raises:
        ValueError: in plain Spanish, when no sheet has a recognisable 10.1 header.
    """
    from openpyxl import load_workbook

    workbook = load_workbook(path, data_only=True)
    sheets = [workbook[hoja]] if hoja else workbook.worksheets
    best: tuple[int, Any, int, int, list[list[str]], dict[str, int]] | None = None
    for sheet in sheets:
        cells = _fill_merged(sheet)
        width = max((c for _, c in cells), default=0)
        for row in range(1, min(sheet.max_row, HEADER_SCAN_ROWS) + 1):
            for depth, headers in _header_candidates(cells, row, width):
                mapping = _map(headers)
                if best is None or len(mapping) > best[0]:
                    best = (len(mapping), sheet, row, depth, headers, mapping)
    if best is None or best[0] < 3 or "nombre" not in best[5]:
        raise ValueError(
            f"No se encontró el encabezado del inventario en {path.name}: se esperan columnas como "
            "«Nombre de la información», «Descripción», «Área responsable», «Tipología»."
        )
    _, sheet, row, depth, headers, mapping = best
    cells = _fill_merged(sheet)
    used = set(mapping.values())
    sin_reconocer = [names[0] for i, names in enumerate(headers) if names[0] and i not in used]
    filas: list[Fila] = []
    for r in range(row + depth, sheet.max_row + 1):
        raw = {name: cells.get((r, idx + 1)) for name, idx in mapping.items()}
        if not any(_text(v) for v in raw.values()):
            continue
        filas.append(_parse_row(r, raw))
    filas, duplicados = _deduplicate(filas)
    return Inventario(archivo=path.name, hoja=sheet.title, fila_encabezado=row, campos=mapping,
                      sin_reconocer=sin_reconocer, filas=filas, duplicados=duplicados)


def _option(value: str, options: tuple[str, ...]) -> str | None:
    key = normalize(value)
    exact = next((o for o in options if normalize(o) == key), None)
    if exact or not key:
        return exact
    starts = [o for o in options if normalize(o).startswith(key) or key.startswith(normalize(o))]
    return starts[0] if len(starts) == 1 else None


def _bool(value: str) -> bool | None:
    key = normalize(value)
    if key in _SI or key.startswith("si "):
        return True
    if key in _NO or key.startswith("no "):
        return False
    return None


def _frecuencia(value: str) -> str | None:
    key = normalize(value)
    return next((target for prefix, target in _FRECUENCIAS if key.startswith(prefix) or prefix in key), None)


def _soporte(value: str) -> str | None:
    key = normalize(value)
    fisico = any(w in key for w in ("fisic", "papel", "impres"))
    digital = any(w in key for w in ("digital", "electronic", "magnetic"))
    if ("ambos" in key or "mixto" in key) or (fisico and digital):
        return "física y digital"
    return "física" if fisico else ("digital" if digital else None)


def _parse_row(row: int, raw: dict[str, Any]) -> Fila:
    fila = Fila(fila=row, valores={})
    for name, value in raw.items():
        text = _text(value)
        if not text:
            continue
        parsed: Any = text
        if name in ("fuente_primaria", "disponible", "publicada"):
            parsed = _bool(text)
        elif name in ("frecuencia_generacion", "frecuencia_actualizacion"):
            parsed = _frecuencia(text)
        elif name == "soporte":
            parsed = _soporte(text)
        elif name == "tipologia":
            parsed = _option(text, get_args(Tipologia))
        elif name == "ambito_geografico":
            parsed = _option(text, get_args(Ambito))
        elif name == "categoria":
            parsed = _option(text, CATEGORIAS_PORTAL)
        elif name == "evidencia_solicitud":
            pieces = [p for p in re.split(r"[,;/\n]|\by\b", text) if p.strip()]
            options = [_option(p.strip(), get_args(EvidenciaSolicitud)) for p in pieces]
            unknown = [p.strip() for p, o in zip(pieces, options, strict=True) if o is None]
            if unknown:
                fila.problemas.append(f"fila {row}, {ETIQUETAS[name]}: no se reconoce «{', '.join(unknown)}»")
            parsed = list(dict.fromkeys(o for o in options if o))
            if not parsed:
                continue
        elif name == "contactos":
            parsed = [p.strip() for p in re.split(r"[,;\s]+", text) if "@" in p] or None
        elif name == "slug":
            parsed = text.strip().lower() if slug_valido(text.strip().lower()) else None
        if parsed is None:
            fila.problemas.append(f"fila {row}, {ETIQUETAS[name]}: no se reconoce el valor «{text}»")
            continue
        fila.valores[name] = parsed
    return fila


def _deduplicate(filas: list[Fila]) -> tuple[list[Fila], list[str]]:
    """Keep the first row of each asset (same identifier or same name); report the repeats."""
    seen: dict[str, Fila] = {}
    kept: list[Fila] = []
    lines: list[str] = []
    for fila in filas:
        key = fila.slug or normalize(fila.valores.get("nombre", ""))
        first = seen.get(key) or seen.get(normalize(fila.valores.get("nombre", "")))
        if first is None:
            seen[key] = fila
            seen[normalize(fila.valores.get("nombre", ""))] = fila
            kept.append(fila)
            continue
        distintos = [ETIQUETAS[k] for k in CAMPOS_COMPARADOS if not _same(fila.valores.get(k), first.valores.get(k))
                     and k in fila.valores]
        detalle = f"; difiere en: {', '.join(distintos)}" if distintos else " (idéntica)"
        lines.append(f"fila {fila.fila} repite el activo de la fila {first.fila} «{first.valores.get('nombre')}»; "
                     f"se usa la fila {first.fila}{detalle}")
    return kept, lines


def _catalog_value(ds: Dataset, name: str) -> Any:
    value = getattr(ds, name)
    if name == "contactos":
        return [str(c) for c in value]
    return list(value) if isinstance(value, list) else value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    if isinstance(a, str) and isinstance(b, str):
        return normalize(a) == normalize(b)
    return a == b


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value) if value is not None else "(vacío)"


def buscar(catalog: Catalog, fila: Fila) -> Dataset | None:
    """The catalog entry of a spreadsheet row: same identifier, else same name."""
    slug = fila.valores.get("slug")
    if slug and slug in {d.slug for d in catalog.datasets}:
        return catalog.get(slug)
    nombre = normalize(fila.valores.get("nombre", ""))
    return next((d for d in catalog.datasets if normalize(d.nombre) == nombre), None)


def comparar(ds: Dataset, fila: Fila) -> list[str]:
    """Field-by-field differences between a spreadsheet row and its catalog entry."""
    lines = []
    for name in CAMPOS_COMPARADOS:
        if name not in fila.valores:
            continue
        hoja, catalogo = fila.valores[name], _catalog_value(ds, name)
        if not _same(hoja, catalogo):
            lines.append(f"{ds.slug} (fila {fila.fila}) · {ETIQUETAS[name]}: hoja «{_show(hoja)}» ≠ catálogo "
                         f"«{_show(catalogo)}»")
    return lines


def esqueleto(fila: Fila, archivo: str) -> tuple[dict[str, Any], list[str]]:
    """The catalog YAML content for a new asset, and the fields still to complete."""
    v = fila.valores
    data: dict[str, Any] = {"slug": fila.slug}
    for name in ("nombre", "descripcion", "dependencia", "tipologia", "categoria", "ambito_geografico"):
        if name in v:
            data[name] = v[name]
    data["idioma"] = v.get("idioma", "Español")
    for name in ("fuente_primaria", "evidencia_solicitud", "soporte", "formato", "frecuencia_generacion",
                 "frecuencia_actualizacion", "disponible", "publicada", "ubicacion"):
        if name in v:
            data[name] = v[name]
    data["priorizado"] = False
    if "contactos" in v:
        data["contactos"] = v["contactos"]
    faltan: list[str] = []
    try:
        Dataset.model_validate(data)
    except Exception as exc:  # pydantic ValidationError: list the fields, in the catalog's words
        errors = getattr(exc, "errors", lambda: [])()
        faltan = sorted({str(e["loc"][0]) for e in errors if e.get("loc")}) or ["(revise el borrador)"]
    return data, faltan


def _yaml_text(data: dict[str, Any], fila: Fila, archivo: str, faltan: list[str]) -> str:
    header = [
        "# yaml-language-server: $schema=schema.json",
        f"# Generado por scripts.intake_inventario desde {archivo}, fila {fila.fila}.",
        "# Conjunto en inventario (priorizado: false). Para publicarlo, la matriz de priorización decide y el",
        "# equipo agrega fuente, columnas, datos_gov_co y casanare_gov_co.",
    ]
    if faltan:
        header.append(f"# BORRADOR: complete {', '.join(faltan)} y renombre el archivo a {data['slug']}.yaml.")
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)
    return "\n".join(header) + "\n" + body


def esqueletos(inventario: Inventario, catalog: Catalog, destino: Path) -> Informe:
    """Compare every asset with the catalog and write the skeletons of the new ones."""
    informe = Informe()
    informe.avisos.extend(inventario.duplicados)
    if inventario.sin_reconocer:
        informe.avisos.append(f"columnas no reconocidas (se ignoran): {', '.join(inventario.sin_reconocer)}")
    for fila in inventario.filas:
        informe.avisos.extend(fila.problemas)
        ds = buscar(catalog, fila)
        if ds is not None:
            informe.diferencias.extend(comparar(ds, fila))
            continue
        if not fila.slug:
            informe.avisos.append(f"fila {fila.fila}: sin nombre ni identificador utilizable; no se creó el YAML")
            continue
        data, faltan = esqueleto(fila, inventario.archivo)
        final, borrador = destino / f"{fila.slug}.yaml", destino / f"{fila.slug}.yaml.borrador"
        target = borrador if faltan else final
        existing = next((p for p in (final, borrador) if p.exists()), None)
        if existing is not None:
            informe.existentes_sin_tocar.append(f"{existing.name} (fila {fila.fila})")
            continue
        target.write_text(_yaml_text(data, fila, inventario.archivo, faltan), encoding="utf-8")
        if faltan:
            informe.borradores.append(f"{target.name} (fila {fila.fila}): falta {', '.join(faltan)}")
        else:
            informe.nuevos.append(f"{target.name} (fila {fila.fila})")
    return informe
