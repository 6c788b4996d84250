"""The casanare.gov.co open-data section: static pages rendered with Jinja2 and delivered atomically.

Every publication of a dataset goes to a new dated folder ``versiones/<slug>/<version>/``; the
public path ``conjuntos/<slug>`` is a symbolic link switched in one rename, so a visitor sees the
old version or the new one, never a half-written page.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from casanare import settings
from casanare.catalog import Dataset, slug_valido
from casanare.publish.records import json_value

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize_cell(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula (CSV/XLSX injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class Transport(Protocol):
    """Where the website files go (local folder or SFTP)."""

    def write_file(self, relative: str, data: bytes) -> None: ...
    def switch(self, link: str, target: str) -> None: ...
    def read_file(self, relative: str) -> bytes | None: ...


@dataclass
class LocalFolder:
    """A local folder served by a web server (default for ``make run``)."""

    root: Path

    def _path(self, relative: str) -> Path:
        path = (self.root / relative).resolve()
        if self.root.resolve() not in path.parents and path != self.root.resolve():
            raise ValueError(f"ruta fuera del sitio: {relative}")
        return path

    def write_file(self, relative: str, data: bytes) -> None:
        path = self._path(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def read_file(self, relative: str) -> bytes | None:
        path = self._path(relative)
        return path.read_bytes() if path.is_file() else None

    def switch(self, link: str, target: str) -> None:
        path = self._path(link)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.nuevo")
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(target, tmp)
        os.replace(tmp, path)


def _env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(settings.include_dir() / "templates" / "sitio")),
        autoescape=select_autoescape(["html", "xml"], default=True),
    )
    return env


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM so Excel shows accents; formula-looking cells neutralized."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(df.columns)
    for row in df.itertuples(index=False, name=None):
        writer.writerow(["" if (v := json_value(x)) is None else neutralize_cell(str(v)) for x in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def json_bytes(df: pd.DataFrame) -> bytes:
    rows = [{k: json_value(v) for k, v in zip(df.columns, r, strict=True)} for r in df.itertuples(index=False, name=None)]
    return json.dumps(rows, ensure_ascii=False).encode("utf-8")


def dataset_summary(dataset: Dataset, *, version: str, rows: int, published_at: str) -> dict[str, Any]:
    """Catalog facts the index needs, stored beside the site so every DAG can rebuild the index."""
    return {
        "slug": dataset.slug,
        "nombre": dataset.nombre,
        "descripcion": dataset.descripcion,
        "dependencia": dataset.dependencia,
        "categoria": dataset.categoria,
        "frecuencia": dataset.frecuencia_actualizacion,
        "ruta": dataset.casanare_gov_co.ruta if dataset.casanare_gov_co else dataset.slug,
        "version": version,
        "filas": rows,
        "actualizado": published_at,
    }


def publish_site(
    df: pd.DataFrame,
    dataset: Dataset,
    transport: Transport,
    *,
    version: str,
    published_at: datetime,
    history: list[dict[str, Any]] | None = None,
    scorecard: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Render and deliver one dataset's page, downloads, and the refreshed catalog index."""
    if not slug_valido(dataset.slug) or not re.fullmatch(r"[0-9A-Za-z_.-]+", version):
        raise ValueError("slug o versión inválidos para el sitio web")
    assert dataset.casanare_gov_co is not None
    page_dir = dataset.casanare_gov_co.ruta
    env = _env()
    when = published_at.strftime("%Y-%m-%d %H:%M")
    base = f"versiones/{page_dir}/{version}"
    files = {
        "datos.csv": csv_bytes(df),
        "datos.json": json_bytes(df),
    }
    page = env.get_template("conjunto.html").render(
        d=dataset, filas=len(df), actualizado=when, version=version, historial=history or [],
        calidad=scorecard, portal_url=f"{settings.portal_public_url()}/d/{dataset.datos_gov_co.dataset_id}"
        if dataset.datos_gov_co else None,
    )
    files["index.html"] = page.encode("utf-8")
    for name, data in files.items():
        transport.write_file(f"{base}/{name}", data)
    transport.switch(f"conjuntos/{page_dir}", f"../{base}")
    summary = dataset_summary(dataset, version=version, rows=len(df), published_at=when)
    transport.write_file(f"estado/{page_dir}.json", json.dumps(summary, ensure_ascii=False).encode())
    index = _rebuild_index(env, transport, summary)
    transport.write_file("index.html", index)
    return {"version": version, "ruta": f"conjuntos/{page_dir}/", "archivos": sorted(files), "filas": len(df)}


def _rebuild_index(env: Any, transport: Transport, current: dict[str, Any]) -> bytes:
    raw = transport.read_file("estado/indice.json")
    entries = {e["slug"]: e for e in (json.loads(raw) if raw else [])}
    entries[current["slug"]] = current
    ordered = sorted(entries.values(), key=lambda e: e["nombre"])
    transport.write_file("estado/indice.json", json.dumps(ordered, ensure_ascii=False).encode())
    return env.get_template("indice.html").render(conjuntos=ordered).encode("utf-8")
