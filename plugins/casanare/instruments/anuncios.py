"""Fase III (plan section 12): ready-to-post texts when a dataset is new or its data really changed.

Channels from the plan: the entity's website (a news snippet), Facebook, X (Twitter) and
Instagram. A run whose source is the same as the last announced one (same sha256, or marked
``sin_cambios``) announces nothing. Texts are plain Spanish with the dataset's link; X's is kept
within 280 characters counted as X counts them (every URL is 23; see ``longitud_x``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from casanare.catalog import Dataset
from casanare.publish.site.schedule import fecha_larga

LIMITE_X = 280
URL_X = 23  # X wraps every link with t.co and counts it as 23 characters
_URL = re.compile(r"https?://\S+")
# twitter-text v3: code points in these ranges weigh 1, all others (CJK, emoji...) weigh 2.
_PESO_1 = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
HASHTAGS = "#DatosAbiertos #Casanare"
CANALES = ("web.html", "facebook.txt", "x.txt", "instagram.txt")


def longitud_x(texto: str) -> int:
    """Length of a post as X counts it: NFC code points, weight 2 outside Latin ranges, URLs 23."""
    texto = unicodedata.normalize("NFC", texto)
    total = 0
    last = 0
    for match in _URL.finditer(texto):
        total += _peso(texto[last:match.start()]) + URL_X
        last = match.end()
    return total + _peso(texto[last:])


def _peso(texto: str) -> int:
    return sum(1 if any(lo <= ord(ch) <= hi for lo, hi in _PESO_1) else 2 for ch in texto)


@dataclass(frozen=True)
class Novedad:
    """A dataset to announce: new (first publication) or updated (its data changed)."""

    slug: str
    tipo: str  # "nuevo" | "actualizado"
    ejecucion: str
    sha256: str | None
    fecha: str
    filas: int | None


def huella(entry: dict[str, Any]) -> str | None:
    """What identifies the published content of a run: the hash of the published table when the
    run recorded it, else the source's sha256."""
    return entry.get("hash_publicado") or entry.get("sha256")


def novedad(history: list[dict[str, Any]], anunciado: dict[str, Any] | None) -> Novedad | None:
    """What the latest successful run means for Fase III, or None (nothing new to say).

    Args:
        history: the dataset's success history, oldest first (``DatasetArea.history()``).
        anunciado: the last announcement's record (``ejecucion``, ``sha256``), None if never announced.
    """
    if not history:
        return None
    last = history[-1]
    if anunciado and anunciado.get("ejecucion") == last.get("ejecucion"):
        return None
    if last.get("sin_cambios") is True or str(last.get("resultado", "")).lower() == "sin cambios":
        return None
    if anunciado is None:
        previous = [h for h in history[:-1] if huella(h)]
        if not previous:
            tipo = "nuevo"
        elif huella(previous[-1]) == huella(last):
            return None
        else:
            tipo = "actualizado"
    elif anunciado.get("sha256") and anunciado.get("sha256") == huella(last):
        return None
    else:
        tipo = "actualizado"
    filas = last.get("filas_publicadas")
    return Novedad(slug=str(last.get("slug") or ""), tipo=tipo, ejecucion=str(last.get("ejecucion")),
                   sha256=huella(last), fecha=str(last.get("fecha")), filas=filas if isinstance(filas, int) else None)


def _miles(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _corto(texto: str, limite: int) -> str:
    """At most ``limite`` characters: whole sentences when one fits, else whole words and "…"."""
    texto = " ".join(texto.split())
    if len(texto) <= limite:
        return texto
    frase = texto[:limite].rsplit(". ", 1)[0]
    if len(frase) >= limite // 3 and frase != texto[:limite]:
        return frase + "."
    return texto[: limite - 1].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def textos(ds: Dataset, nov: Novedad, url: str) -> dict[str, str]:
    """One text per channel (file name -> content)."""
    try:
        cuando = fecha_larga(datetime.fromisoformat(nov.fecha))
    except ValueError:
        cuando = nov.fecha
    filas = f"{_miles(nov.filas)} registros" if nov.filas is not None else "sus datos"
    titular = ("Nuevo conjunto de datos abiertos" if nov.tipo == "nuevo" else "Datos abiertos actualizados")
    accion = "publica" if nov.tipo == "nuevo" else "actualiza"
    resumen = _corto(ds.descripcion, 280)
    web = (
        f'<article class="novedad-datos" lang="es">\n<h2>{escape(titular)}: {escape(ds.nombre)}</h2>\n'
        f"<p>La {escape(ds.dependencia)} de la Gobernación de Casanare {accion} «{escape(ds.nombre)}» con "
        f"{escape(filas)}, el {escape(cuando)}. {escape(resumen)}</p>\n"
        f'<p>Consúltelo y descárguelo gratis en CSV, Excel o JSON: <a href="{escape(url)}">{escape(url)}</a> '
        f"(licencia {escape(ds.licencia)}).</p>\n</article>\n"
    )
    facebook = (
        f"📊 {titular}: {ds.nombre}\n\n"
        f"La {ds.dependencia} {accion} {filas} como datos abiertos. {resumen}\n\n"
        f"Descárguelos gratis y úselos para investigar, informar o emprender: {url}\n\n{HASHTAGS}"
    )
    instagram = (
        f"📊 {titular}: {ds.nombre}.\n\n"
        f"La {ds.dependencia} {accion} {filas}. {_corto(ds.descripcion, 400)}\n\n"
        f"Encuéntrelos en datos abiertos de casanare.gov.co (enlace en la biografía): {url}\n\n"
        f"{HASHTAGS} #GobiernoDigital #Transparencia"
    )
    return {"web.html": web, "facebook.txt": facebook, "x.txt": texto_x(ds, nov, url, filas), "instagram.txt": instagram}


def texto_x(ds: Dataset, nov: Novedad, url: str, filas: str) -> str:
    """The X post, shortening the dataset's name until it fits 280 (as X counts)."""
    inicio = "Nuevo en datos abiertos" if nov.tipo == "nuevo" else "Actualizado en datos abiertos"
    nombre = ds.nombre
    while True:
        texto = f"{inicio}: {nombre} ({ds.dependencia}), {filas}. Descárguelos gratis: {url} {HASHTAGS}"
        if longitud_x(texto) <= LIMITE_X or len(nombre) <= 20:
            break
        nombre = _corto(nombre, len(nombre) - 10)
    if longitud_x(texto) > LIMITE_X:
        texto = f"{inicio}: {_corto(nombre, 60)}. {url} {HASHTAGS}"
    return texto


def escribir(storage: Any, ds: Dataset, nov: Novedad, url: str) -> dict[str, Any]:
    """Write the four texts and their metadata under ``anuncios/<date>_<slug>_<run>/`` in ``storage``."""
    from casanare.staging import safe_run_id

    folder = f"anuncios/{nov.fecha[:10]}_{ds.slug}_{safe_run_id(nov.ejecucion)[:60]}"
    contenidos = textos(ds, nov, url)
    for name, text in contenidos.items():
        storage.write_bytes(f"{folder}/{name}", text.encode("utf-8"))
    meta = {"conjunto": ds.slug, "nombre": ds.nombre, "dependencia": ds.dependencia, "tipo": nov.tipo,
            "ejecucion": nov.ejecucion, "fecha": nov.fecha, "url": url, "carpeta": storage.path(folder),
            "archivos": sorted(contenidos), "longitud_x": longitud_x(contenidos["x.txt"]),
            "texto_x": contenidos["x.txt"]}
    storage.write_json(f"{folder}/anuncio.json", meta)
    return meta


def de_la_semana(storage: Any, desde: datetime, hasta: datetime) -> list[dict[str, Any]]:
    """Announcements written in ``[desde, hasta)`` (by the run date), oldest first."""
    items = []
    for name in storage.listdir("anuncios"):
        meta = storage.read_json(f"anuncios/{name}/anuncio.json")
        if not isinstance(meta, dict):
            continue
        try:
            when = datetime.fromisoformat(str(meta["fecha"]))
        except (KeyError, ValueError):
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=desde.tzinfo)
        if desde <= when < hasta:
            items.append(meta)
    return sorted(items, key=lambda m: m["fecha"])
