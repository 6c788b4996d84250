"""Red team: run every sample DAG on sources with 10,000 synthetic people, then grep everything
public or operator-visible for any original identifier. Zero hits.

Looked at: portal rows read back through SODA (and each dataset's ``/api/views`` metadata),
every file of the website (HTML, CSV, JSON, XLSX, feeds) and, on their own, the SVG charts and
maps inline in its pages (text unescaped: titles, descriptions, labels), the GX Data Docs, the sent e-mails
(.eml, decoded), the task logs (``airflow dags test`` prints them on its console, which is
captured; any file under AIRFLOW_HOME/logs is read too), the XCom
table of the Airflow metadata DB, and the run manifests plus ``anonimizado.parquet`` in staging.
(``extraido.parquet`` is the raw, internal copy of the source: it is not operator-visible.)

The deployment is a dedicated :class:`scripts.entorno_local.LocalEnv` in a temporary folder with
its own stand-ins, AIRFLOW_HOME and metadata DB; each DAG runs as ``airflow dags test`` in a
subprocess (as ``make run`` does), so nothing here touches ``os.environ`` of the test session.

Matching (documented in docs/privacidad.md): numeric identifiers (documents, phones, NITs) are
compared digit-for-digit as whole numbers, also in dotted or spaced form; e-mails
case-insensitively; multi-word identifiers (full names, "nombres", "apellidos", addresses)
accent- and case-insensitively as whole word sequences. A lone given name or surname is not an
identifier and is not searched. Failures report where and how many, never the values.
"""

from __future__ import annotations

import html
import json
import os
import re
import sqlite3
import subprocess
import unicodedata
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import requests

from casanare.catalog import FuenteSQL, load_catalog
from casanare.staging import DatasetArea

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PERSONAS = 10_000
FILAS = 10_000
SEMILLA = 4242

# Numbers are read as whole digit runs plus the layouts identifiers are written in: dotted
# thousands (1.098.765.432), phone groups (310 123 4567, (608) 634-5678) and NIT (900123456-7).
# Other separators are not joined: CPS-1507-2024 is a contract number, not the cédula 15072024.
_DIGIT_RUN = re.compile(r"(?<![\d.,])\d+(?![\d]|[.,]\d)")
_LAYOUTS = re.compile(
    r"(?<![\d.])\d{1,3}(?:\.\d{3})+(?![\d]|\.\d)"
    r"|(?<!\d)(?:\+?57[ -]?)?\(?\d{3}\)?[ -]\d{3}[ -]?\d{4}(?!\d)"
    r"|(?<![\d.])\d{9}-\d(?!\d)"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    # Accents off: delete exactly the combining characters present (one C pass, not one per character).
    marks = {ord(ch): None for ch in set(decomposed) if unicodedata.combining(ch)}
    plain = decomposed.translate(marks).upper()
    return " ".join(re.findall(r"[A-Z0-9]+", plain))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


class Identifiers:
    """The original identifiers, split by how they are searched."""

    def __init__(self, values: set[str]) -> None:
        self.numbers: set[str] = set()
        self.emails: set[str] = set()
        self.phrases: set[str] = set()
        for value in values:
            if "@" in value:
                self.emails.add(value.lower())
            elif re.fullmatch(r"[\d.\-\s+()]+", value):
                digits = _digits(value)
                if len(digits) >= 6:
                    self.numbers.add(digits)
            else:
                folded = _fold(value)
                if len(folded.split()) >= 2:
                    self.phrases.add(folded)
        self.phrase_tokens = {p: set(p.split()) for p in self.phrases}

    def hits(self, text: str) -> int:
        found = 0
        candidates = set(_DIGIT_RUN.findall(text)) | {_digits(m.group()) for m in _LAYOUTS.finditer(text)}
        found += len(candidates & self.numbers)
        found += len({e.lower() for e in _EMAIL.findall(text)} & self.emails)
        words = _fold(text).split()
        tokens = set(words)
        phrases = [p.split() for p, needed in self.phrase_tokens.items() if needed <= tokens]
        if phrases:
            # A phrase is in the text when its words follow each other there. Looking where its
            # rarest word stands replaces a substring search of the whole text per phrase.
            where: dict[str, list[int]] = {}
            for i, word in enumerate(words):
                where.setdefault(word, []).append(i)
            for phrase in phrases:
                k = min(range(len(phrase)), key=lambda j: len(where[phrase[j]]))
                found += any(words[i - k:i - k + len(phrase)] == phrase for i in where[phrase[k]] if i >= k)
        return found


def _env_for(env) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CASANARE_"))}
    return {**base, **env.env()}


@pytest.fixture(scope="module")
def red_team_env(tmp_path_factory):
    from scripts.entorno_local import VENV_BIN, LocalEnv, migrate_airflow, start_standins
    from scripts.generar_fuentes import generar

    env = LocalEnv(tmp_path_factory.mktemp("equipo_rojo"))
    paths = generar(env.fuentes, filas=FILAS, semilla=SEMILLA, personas=PERSONAS)
    catalog = load_catalog()
    for ds in catalog.priorizados:
        if isinstance(ds.fuente, FuenteSQL):
            env.sql_urls[ds.fuente.conexion] = f"sqlite:///{Path(paths[ds.slug]).resolve()}"
    start_standins(env)
    outputs: dict[str, str] = {}
    try:
        migrate_airflow(env)
        for ds in catalog.priorizados:
            result = subprocess.run(
                [str(VENV_BIN / "airflow"), "dags", "test", ds.slug],
                env=_env_for(env), capture_output=True, text=True, timeout=900, check=False,
            )
            outputs[ds.slug] = result.stdout + result.stderr
        yield env, catalog, outputs
    finally:
        env.stop()


def _public_texts(env, catalog, outputs) -> dict[str, list[str]]:
    """Everything public or operator-visible, grouped by where it comes from."""
    import pandas as pd
    from python_calamine import CalamineWorkbook

    texts: dict[str, list[str]] = {k: [] for k in ("portal", "sitio", "svg", "data_docs", "correos", "logs",
                                                     "xcom", "staging")}
    for ds in catalog.priorizados:
        dataset_id = DatasetArea(env.staging_url, ds.slug).portal_id()  # assigned by this env's portal
        rows = requests.get(f"{env.portal.url}/resource/{dataset_id}.json", params={"$limit": 10_000_000},
                            timeout=120)
        rows.raise_for_status()
        texts["portal"].append(rows.text)
        texts["portal"].append(requests.get(f"{env.portal.url}/api/views/{dataset_id}.json", timeout=60).text)
    for path in sorted(p for p in env.web_dir.rglob("*") if p.is_file()):
        if path.suffix == ".xlsx":
            book = CalamineWorkbook.from_path(str(path))
            for name in book.sheet_names:
                texts["sitio"].append(json.dumps(book.get_sheet_by_name(name).to_python(), default=str))
        else:
            text = path.read_bytes().decode("utf-8", errors="replace")
            texts["sitio"].append(text)
            if path.suffix == ".html":  # charts, maps and index sparklines, searched as their own texts
                texts["svg"].extend(html.unescape(svg) for svg in _SVG.findall(text))
    for path in sorted(p for p in env.docs_dir.rglob("*") if p.is_file()):
        texts["data_docs"].append(path.read_bytes().decode("utf-8", errors="replace"))
    for path in sorted(env.mail_dir.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        texts["correos"].append(str(msg["Subject"]))
        texts["correos"].extend(
            part.get_content() for part in msg.walk() if part.get_content_maintype() == "text"
        )
    for path in sorted(p for p in (env.airflow_home / "logs").rglob("*") if p.is_file()):
        texts["logs"].append(path.read_bytes().decode("utf-8", errors="replace"))
    texts["logs"].extend(outputs.values())
    with sqlite3.connect(env.airflow_home / "airflow.db") as conn:
        for (value,) in conn.execute("SELECT value FROM xcom"):
            texts["xcom"].append(value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value))
    staging = Path(env.staging_url.removeprefix("file://"))
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        if path.suffix == ".json":
            texts["staging"].append(path.read_text(encoding="utf-8", errors="replace"))
        elif path.name == "anonimizado.parquet":
            texts["staging"].append(pd.read_parquet(path).to_csv(index=False))
    return texts


def _failed_stages(env, slug: str) -> dict[str, object]:
    """Failed stages of the DAG's runs, from the manifests (causes and locations, no values)."""
    from casanare.staging import DatasetArea, RunArea

    failed: dict[str, object] = {}
    for run_id in DatasetArea(env.staging_url, slug).listdir("ejecuciones"):
        etapas = (RunArea(env.staging_url, slug, run_id).read_json("manifest.json", {}) or {}).get("etapas", {})
        failed.update({k: v.get("error") for k, v in etapas.items() if v.get("estado") == "fallido"})
    return failed


def test_every_sample_dag_published(red_team_env):
    env, catalog, _ = red_team_env
    empty = {}
    for ds in catalog.priorizados:
        rows = requests.get(f"{env.portal.url}/resource/{DatasetArea(env.staging_url, ds.slug).portal_id()}.json",
                            params={"$limit": 10_000_000}, timeout=120).json()
        if not rows:
            empty[ds.slug] = _failed_stages(env, ds.slug)
    assert not empty, f"conjuntos sin filas publicadas: {json.dumps(empty, ensure_ascii=False, indent=1)}"


def test_no_original_identifier_anywhere_public_or_operator_visible(red_team_env):
    from scripts.generar_fuentes import identificadores_originales

    env, catalog, outputs = red_team_env
    identifiers = Identifiers(identificadores_originales(env.fuentes))
    assert len(identifiers.numbers) > 5_000 and identifiers.emails and identifiers.phrases
    # Positive control: the same matcher does find the identifiers in a raw source file.
    raw = (env.fuentes / "atencion_ciudadano" / "pqrsd.csv").read_text(encoding="utf-8")
    assert identifiers.hits(raw) > 1_000
    # The task logs really are in what is searched: each run printed the anonymize task's line.
    assert all(f"Anonimizado {slug}" in out for slug, out in outputs.items())
    texts = _public_texts(env, catalog, outputs)
    assert all(texts[k] for k in ("portal", "sitio", "svg", "data_docs", "logs", "xcom", "staging")), {
        k: len(v) for k, v in texts.items()
    }
    # Every dataset page drew charts (bars, lines, the map) and the index a small chart per dataset.
    assert len(texts["svg"]) >= 3 * len(catalog.priorizados)
    assert sum("grafico-mapa" in svg for svg in texts["svg"]) >= len(catalog.priorizados) - 1
    hits = Counter({where: sum(identifiers.hits(t) for t in chunks) for where, chunks in texts.items()})
    assert +hits == Counter(), f"identificadores originales encontrados (conteos por lugar): {dict(+hits)}"
