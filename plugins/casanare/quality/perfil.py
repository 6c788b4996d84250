"""A per-column profile at least as informative as DNP's LEILA (``leila.calidad_datos``), counts only.

LEILA (ucd-dnp/leila) profiles a DataFrame: missing values, distinct values, types and type mixes
(``TipoColumnas``: share of Python types per column), duplicated rows (``CantidadDuplicados``),
IQR outliers (``ValoresExtremos``: outside Q1 - 1.5·IQR, Q3 + 1.5·IQR) and numeric columns whose
5th and 95th percentiles are equal (``VarianzaEnPercentil(5, 95)``, i.e. near-constant). Here the
same measures are taken on the anonymized table, and also what LEILA cannot know: the declared
type of each column, duplicates the anonymization created (apart from those in the source) and the
catalog's declared row key. Nothing here returns a data value: only counts and shares.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple

from casanare.catalog import Dataset

if TYPE_CHECKING:
    import pandas as pd

# LEILA ValoresExtremos: Tukey's fences at 1.5 × IQR.
FACTOR_IQR = 1.5
# LEILA VarianzaEnPercentil(5, 95): percentile 5 equals percentile 95 means that at least 90 % of the
# values are one value; the same share defines a near-constant text column.
PERCENTIL_INFERIOR, PERCENTIL_SUPERIOR = 5, 95
CUOTA_CASI_CONSTANTE = (PERCENTIL_SUPERIOR - PERCENTIL_INFERIOR) / 100
# Codes look numeric but are labels (DIVIPOLA, ids, NIT): no outliers for them.
PREFIJOS_CODIGO = ("codigo", "cod_", "id_", "nit", "numero_", "consecutivo", "divipola")
CLASES = {
    "entero": re.compile(r"-?\d+"),
    "entero escrito como decimal": re.compile(r"-?\d+\.0+"),
    "decimal": re.compile(r"-?\d+[.,]\d+"),
    "fecha": re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?"),
    "booleano": re.compile(r"(?i)true|false|verdadero|falso"),
}


def _clases_texto(serie: pd.Series, conteos: pd.Series | None = None) -> dict[str, int]:
    """Count the kinds of the non-null values of a text column, classifying each distinct value once.

    ``conteos``: the column's ``value_counts`` when the caller has it. For a string column every
    value is already a ``str``, so its distinct values are classified by their stripped text and
    their counts summed: the same totals as counting the stripped values again, without a second
    hash and sort of the column (5M distinct ids: the validation stage's peak). An ``object``
    column is counted on its text (1, 1.0 and True are one key for ``value_counts`` but three
    texts).
    """
    import pandas as pd

    if conteos is not None and isinstance(serie.dtype, pd.StringDtype):
        textos = pd.Series(conteos.index).astype(str).str.strip()
        veces = conteos.to_numpy()
    else:
        counts = serie.dropna().astype(str).str.strip().value_counts(sort=False)
        textos, veces = pd.Series(counts.index), counts.to_numpy()
    if not len(textos):
        return {}
    values = textos.astype("string")
    kinds = pd.Series("texto", index=values.index, dtype="object")
    pending = pd.Series(True, index=values.index)
    for kind, rx in CLASES.items():
        hit = pending & values.str.fullmatch(rx.pattern).fillna(False).astype(bool)
        kinds[hit] = kind
        pending &= ~hit
    totals = pd.Series(veces, index=values.index).groupby(kinds).sum()
    return {str(k): int(v) for k, v in totals.items()}


def _clases(valores: pd.Series, conteos: pd.Series | None = None) -> dict[str, int]:
    """Kinds of the non-null ``valores`` (``conteos``: their ``value_counts``, if known)."""
    import pandas as pd

    if not len(valores):
        return {}
    kind = valores.dtype.kind
    if kind == "b" or str(valores.dtype) == "boolean":
        return {"booleano": len(valores)}
    if kind in "iu" or str(valores.dtype).startswith(("Int", "UInt")):
        return {"entero": len(valores)}
    if kind == "f" or str(valores.dtype).startswith("Float"):
        numeros = pd.to_numeric(valores, errors="coerce").astype(float)
        enteros = int((numeros == numeros.round()).sum())
        return {k: v for k, v in (("entero escrito como decimal", enteros), ("decimal", len(valores) - enteros)) if v}
    if kind == "M":
        return {"fecha": len(valores)}
    return _clases_texto(valores, conteos)


ESPERADAS = {
    "entero": {"entero"},
    "decimal": {"decimal"},
    "fecha": {"fecha"},
    "fecha_hora": {"fecha"},
    "booleano": {"booleano"},
    "texto": None,  # any kind of text is text
}


def es_codigo(nombre: str) -> bool:
    return nombre.lower().startswith(PREFIJOS_CODIGO) or nombre.lower().endswith(("_id", "_codigo"))


def atipicos_iqr(serie: pd.Series) -> int | None:
    """Values outside Tukey's fences (LEILA ValoresExtremos); None for non-numeric columns."""
    import pandas as pd

    numeros = pd.to_numeric(serie, errors="coerce").dropna().astype(float)
    if len(numeros) < 4:
        return None
    q1, q3 = numeros.quantile(0.25), numeros.quantile(0.75)
    iqr = q3 - q1
    return int(((numeros < q1 - FACTOR_IQR * iqr) | (numeros > q3 + FACTOR_IQR * iqr)).sum())


def _conteos(no_nulos: pd.Series) -> pd.Series:
    """``value_counts(sort=False)`` of the non-null values; Arrow text is counted by sorting
    when mostly distinct (``casanare.distinct``: 5M unique ids +1.1 GB by hashing, +0.3 GB so)."""
    import pandas as pd
    import pyarrow as pa

    from casanare.distinct import distinct_counts
    from casanare.hashing import is_arrow_text

    if not is_arrow_text(no_nulos):
        return no_nulos.value_counts(sort=False)
    values, counts = distinct_counts(pa.array(no_nulos, from_pandas=True))
    return pd.Series(counts, index=pd.Index(pd.array(values, dtype=no_nulos.dtype)), name="count")


def perfil_columna(serie: pd.Series, tipo_declarado: str | None) -> dict[str, Any]:
    """Missing share, distinct values, inferred type and type mix, constancy and IQR outliers."""
    filas = len(serie)
    no_nulos = serie.dropna()
    faltantes = filas - len(no_nulos)
    # One unsorted count serves both the distinct values and the most frequent one (sorting a
    # million distinct amounts, then counting them again with nunique, was a third of the profile).
    conteos = _conteos(no_nulos)
    distintos = len(conteos)
    clases = _clases(no_nulos, conteos)
    if tipo_declarado == "decimal":  # 21, 21.0 and 21.5 are all decimals: no mix to report
        numericas = sum(clases.pop(k, 0) for k in ("entero", "entero escrito como decimal", "decimal"))
        clases = {**({"decimal": numericas} if numericas else {}), **clases}
    inferido = max(clases, key=clases.get) if clases else "vacía"
    if inferido == "entero escrito como decimal":
        inferido = "entero"
    esperadas = ESPERADAS.get(tipo_declarado or "texto")
    fuera_de_tipo = 0 if esperadas is None else sum(n for k, n in clases.items() if k not in esperadas)
    top = int(conteos.max()) if len(conteos) else 0
    cuota_top = top / len(no_nulos) if len(no_nulos) else 0.0
    perfil: dict[str, Any] = {
        "filas": filas,
        "faltantes": faltantes,
        "faltantes_pct": round(100 * faltantes / filas, 2) if filas else 0.0,
        "distintos": distintos,
        "tipo_declarado": tipo_declarado,
        "tipo_inferido": inferido,
        "mezcla_tipos": clases if len(clases) > 1 else {},
        "valores_fuera_de_tipo": fuera_de_tipo,
        "cuota_valor_mas_frecuente": round(cuota_top, 4),
        "constante": distintos == 1 and len(no_nulos) > 1,
        "casi_constante": distintos > 1 and cuota_top >= CUOTA_CASI_CONSTANTE,
        "atipicos_iqr": None,
    }
    if tipo_declarado in ("entero", "decimal") and not es_codigo(str(serie.name)):
        perfil["atipicos_iqr"] = atipicos_iqr(serie)
    return perfil


def perfil(df: pd.DataFrame, dataset: Dataset) -> dict[str, dict[str, Any]]:
    """The profile of every published column (declared type from the catalog when known)."""
    declarados = {c.nombre_salida: c.tipo_salida for c in dataset.columnas_publicadas}
    return {str(name): perfil_columna(df[name], declarados.get(str(name))) for name in df.columns}


class ConteoLlave(NamedTuple):
    """Empty and repeated values of a row key (repeats count the extra copies)."""

    vacios: int
    repetidos: int

    @property
    def unica(self) -> bool:
        """No empty and no repeated value: then no two rows of the table can be equal."""
        return self.vacios == 0 and self.repetidos == 0


def conteo_llave(llave: pd.Series) -> ConteoLlave:
    """Counted once per table: the scorecard's uniqueness, its duplicates and its declared-key
    block all read it (three hash passes over a million identifiers before)."""
    vacios = int(llave.isna().sum())
    repetidos = int((llave.dropna() if vacios else llave).duplicated().sum())
    return ConteoLlave(vacios, repetidos)


def conteo_de_perfil(columna: dict[str, Any]) -> ConteoLlave:
    """The key's counts read off its column profile: ``perfil_columna`` already counted its
    distinct values (``duplicated`` on 5M text ids turned each into a Python string: +0.5 GB)."""
    no_nulos = columna["filas"] - columna["faltantes"]
    return ConteoLlave(columna["faltantes"], no_nulos - columna["distintos"])


def filas_duplicadas(df: pd.DataFrame, llave: str | None = None, conteo: ConteoLlave | None = None) -> int:
    """Extra copies of whole rows (LEILA CantidadDuplicados), hashed so wide tables stay cheap.

    When ``llave`` (the row key) is a column with no empty and no repeated value, no two rows can
    be equal: the answer is 0 without hashing every row. ``conteo``: the key's counts, if known.
    """
    import pandas as pd

    if len(df) < 2:
        return 0
    if llave in df.columns and (conteo or conteo_llave(df[llave])).unica:
        return 0
    return int(pd.util.hash_pandas_object(df, index=False).duplicated().sum())


def duplicados(df: pd.DataFrame, duplicados_origen: int | None, llave: str | None = None,
               conteo: ConteoLlave | None = None) -> dict[str, Any]:
    """Whole-row duplicates published, split into those already in the source and those the
    anonymization created (rows distinct in the source that generalization or suppression made
    identical). ``duplicados_origen`` is None when the source was not measured."""
    publicados = filas_duplicadas(df, llave, conteo)
    result: dict[str, Any] = {"en_publicado": publicados, "en_origen": duplicados_origen,
                              "creados_por_anonimizacion": None}
    if duplicados_origen is not None:
        result["creados_por_anonimizacion"] = max(0, publicados - duplicados_origen)
    return result


def llave_declarada(df: pd.DataFrame, dataset: Dataset, conteo: ConteoLlave | None = None) -> dict[str, Any] | None:
    """The catalog's row key (``datos_gov_co.identificador_fila``): empty and repeated values."""
    columna = dataset.datos_gov_co.identificador_fila if dataset.datos_gov_co else None
    if not columna:
        return None
    if columna not in df.columns:
        return {"columna": columna, "presente": False, "vacios": None, "repetidos": None}
    vacios, repetidos = conteo or conteo_llave(df[columna])
    return {"columna": columna, "presente": True, "vacios": vacios, "repetidos": repetidos}
