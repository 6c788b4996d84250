"""Which charts a dataset page shows, their numbers, and the k rule.

Charts come from the catalog (``casanare_gov_co.graficos``) or, when none is declared, from the
column types: a line over time for the first date (or month/year-generalized) column, bars and a
map by municipio, bars by the first category column with a handful of values.

k rule: a chart never shows a group (bar, point, municipio) smaller than the dataset's k, so it
can't single out a person the anonymization hid. The size of a group is counted in persons when
the dataset carries a pseudonymized person identifier, else in rows. Small bars are merged into
"Otros (agrupados)" (hidden too if that is still smaller than k); small points and municipios are
hidden and listed as such in the data table.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from casanare.catalog import IDENTIFICADORES_DIRECTOS, Columna, Dataset, Microdatos, es_columna_municipio
from casanare.publish.site import charts
from casanare.publish.site.charts import Chart, format_number, municipios_casanare
from casanare.publish.site.downloads import neutralize_cell

Kind = Literal["barras", "lineas", "mapa"]
OTROS = "Otros (agrupados)"
SIN_DATO = "Sin dato"
MAX_BARRAS = 12
MAX_CATEGORIAS = 25
MAX_PUNTOS_MINI = 24
_NOT_GROUPABLE = {"seudonimizar", "enmascarar", "redactar_texto"}


@dataclass(frozen=True)
class ChartSpec:
    """What to draw: kind, the column to group by, the measure (``filas`` or a numeric column)."""

    kind: Kind
    dimension: str
    measure: str = "filas"
    title: str | None = None


@dataclass
class Group:
    label: str
    value: float
    size: int  # persons (or rows) in the group, compared with k
    key: Any = None


@dataclass
class DatasetCharts:
    charts: list[Chart] = field(default_factory=list)
    mapa: Chart | None = None
    mini: dict[str, Any] | None = None
    k: int = 1
    unidad: str = "registros"


# Selection -------------------------------------------------------------------------------------


def dataset_k(dataset: Dataset) -> int:
    """The dataset's k: declared for microdata; the default k when it holds personal data; else 1."""
    if dataset.microdatos is not None:
        return dataset.microdatos.k
    if dataset.tiene_datos_personales:
        return Microdatos.model_fields["k"].default
    return 1


def person_column(dataset: Dataset) -> str | None:
    """A published pseudonym of a person, if any: groups are then counted in distinct persons."""
    for c in dataset.columnas_publicadas:
        if c.regla.accion == "seudonimizar" and c.dato_personal in IDENTIFICADORES_DIRECTOS:
            return c.nombre_salida
    return None


def _temporal(column: Columna) -> bool:
    return column.tipo_salida in {"fecha", "fecha_hora"} or column.regla.metodo in {"mes", "anio"}


def _groupable(column: Columna, dataset: Dataset) -> bool:
    row_id = dataset.datos_gov_co.identificador_fila if dataset.datos_gov_co else None
    return (
        column.regla.accion not in _NOT_GROUPABLE
        and column.dato_personal not in IDENTIFICADORES_DIRECTOS | {"texto_libre"}
        and column.nombre_salida != row_id
    )


def municipio_column(dataset: Dataset) -> str | None:
    """The published municipio column, preferring DIVIPOLA codes over names."""
    found = [c.nombre_salida for c in dataset.columnas_publicadas if es_columna_municipio(c)]
    found.sort(key=lambda name: not name.startswith("cod"))
    return found[0] if found else None


def chart_specs(dataset: Dataset, df: pd.DataFrame) -> list[ChartSpec]:
    """The charts of the page: the declared ones, or defaults from the column types.

    The map is one of them (kind ``mapa``) when the dataset has a municipio column.
    """
    declared = dataset.casanare_gov_co.graficos if dataset.casanare_gov_co else []
    municipio = municipio_column(dataset)
    if declared:
        specs = [ChartSpec(g.tipo, g.dimension, g.medida, g.titulo) for g in declared]
        if municipio is not None and not any(s.kind == "mapa" for s in specs):
            specs.append(ChartSpec("mapa", municipio))  # the map always shows where it applies
        return specs
    columns = dataset.columnas_publicadas
    specs: list[ChartSpec] = []
    temporal = next((c for c in columns if _temporal(c) and _groupable(c, dataset)), None)
    if temporal is not None:
        specs.append(ChartSpec("lineas", temporal.nombre_salida))
    if municipio is not None:
        specs.append(ChartSpec("barras", municipio))
    for c in columns:
        if (
            c.tipo_salida == "texto" and not _temporal(c) and _groupable(c, dataset)
            and not es_columna_municipio(c) and c.dato_personal is None and c.nombre_salida in df.columns
            and 2 <= df[c.nombre_salida].nunique(dropna=True) <= MAX_CATEGORIAS
        ):
            specs.append(ChartSpec("barras", c.nombre_salida))
            break
    if municipio is not None:
        specs.append(ChartSpec("mapa", municipio))
    return specs


# The k rule ------------------------------------------------------------------------------------


def k_bars(
    groups: list[Group], k: int, merged_size: Callable[[list[Group]], int], *, max_bars: int = MAX_BARRAS
) -> tuple[list[Group], int]:
    """Bars to draw, largest first: groups below k (and beyond ``max_bars``) merge into "Otros".

    Returns:
        The bars, and how many groups are not shown at all (their merged group was still below k).
    """
    ordered = sorted(groups, key=lambda g: (-g.value, g.label))
    big = [g for g in ordered if g.size >= k]
    small = [g for g in ordered if g.size < k]
    shown, rest = (big, []) if len(big) <= max_bars else (big[: max_bars - 1], big[max_bars - 1 :])
    merged = rest + small
    if not merged:
        return shown, 0
    size = merged_size(merged)
    if size >= k:
        return [*shown, Group(OTROS, sum(g.value for g in merged), size)], 0
    return shown, len(merged)


def k_points(groups: list[Group], k: int) -> list[Group]:
    """Points over time: a period with fewer than k (but some) persons gets no value (``nan``)."""
    return [g if g.size == 0 or g.size >= k else Group(g.label, float("nan"), g.size, g.key) for g in groups]


# Aggregation -----------------------------------------------------------------------------------


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(plain.lower().split())


def _municipio_codes(series: pd.Series) -> pd.Series:
    """DIVIPOLA code of each value (``85001``, ``85001.0`` or the municipio's name), else NA."""
    seats = municipios_casanare()
    by_name = {_fold(m.nombre): m.codigo for m in seats}
    codes = {m.codigo for m in seats}

    def code(value: Any) -> Any:
        text = str(value).strip().removesuffix(".0")
        if text in codes:
            return text
        return by_name.get(_fold(text), pd.NA)

    # Look each distinct value up once (a column has millions of rows but a few dozen values).
    positions, uniques = pd.factorize(series, use_na_sentinel=True)
    looked_up = pd.array([code(v) for v in uniques] + [pd.NA], dtype="string")
    return pd.Series(looked_up[positions], index=series.index, dtype="string")


def _period(series: pd.Series, column: Columna | None) -> tuple[pd.Series, str]:
    """Period keys for a line chart, and the period's name (día, mes, año)."""
    method = column.regla.metodo if column is not None else None
    if method == "anio" or series.dtype.kind in "iu" or str(series.dtype).startswith(("Int", "UInt")):
        return pd.to_numeric(series, errors="coerce").astype("Int64"), "año"
    if series.dtype.kind != "M":
        text = series.astype("string").str.strip()
        if method == "mes" or text.dropna().str.fullmatch(r"\d{4}-\d{2}").all():
            months = pd.to_datetime(text, format="%Y-%m", errors="coerce")
            return months.dt.to_period("M"), "mes"
        series = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_localize(None)
    span = (series.max() - series.min()) if series.notna().any() else pd.Timedelta(0)
    if span <= pd.Timedelta(days=62):
        return series.dt.to_period("D"), "día"
    if span <= pd.Timedelta(days=366 * 8):
        return series.dt.to_period("M"), "mes"
    return series.dt.to_period("Y"), "año"


def _groups(df: pd.DataFrame, keys: pd.Series, measure: str, person: str | None) -> pd.DataFrame:
    """``value`` and ``size`` per key, sorted by key (missing keys form their own group)."""
    values = (
        pd.Series(1.0, index=df.index) if measure == "filas"
        else pd.to_numeric(df[measure], errors="coerce").astype("float64")
    )
    grouped = values.groupby(keys, dropna=False, sort=True)
    table = pd.DataFrame({"value": grouped.sum(min_count=0)})
    if person is not None:
        table["size"] = df[person].groupby(keys, dropna=False, sort=True).nunique(dropna=True)
    else:
        table["size"] = grouped.size()
    return table


def _column(dataset: Dataset, name: str) -> Columna | None:
    return next((c for c in dataset.columnas_publicadas if c.nombre_salida == name), None)


def _measure_text(dataset: Dataset, measure: str) -> str:
    column = _column(dataset, measure)
    return f"Suma de {column.titulo_visible.lower()}" if column is not None else "Número de registros"


def _size_of(df: pd.DataFrame, keys: pd.Series, person: str | None) -> Callable[[list[Group]], int]:
    """Size of a merged group, counted again on the data (a person may be in several groups)."""

    def merged(groups: list[Group]) -> int:
        chosen = [g.key for g in groups]
        mask = keys.isin([c for c in chosen if not pd.isna(c)])
        if any(pd.isna(c) for c in chosen):
            mask |= keys.isna()
        mask = mask.fillna(False).to_numpy(dtype=bool)
        return int(df.loc[mask, person].nunique()) if person else int(mask.sum())

    return merged


def _mini(title: str, headers: tuple[str, str], items: list[tuple[str, float | None]], bars: bool) -> dict[str, Any]:
    items = items[-MAX_PUNTOS_MINI:] if not bars else items[:10]
    return {"titulo": title, "valores": [v for _, v in items], "etiquetas": [label for label, _ in items],
            "barras": bars, "encabezados": list(headers)}


def build_charts(dataset: Dataset, df: pd.DataFrame) -> DatasetCharts:
    """Every chart of the page (k rule applied), the map and the index's mini chart."""
    k = dataset_k(dataset)
    person = person_column(dataset)
    person = person if person in df.columns else None
    unidad = "personas" if person else "registros"
    result = DatasetCharts(k=k, unidad=unidad)
    small_note = f" No se muestran grupos de menos de {k} {unidad}." if k > 1 else ""
    minis: list[dict[str, Any]] = []
    tables: dict[tuple[str, str], tuple[pd.Series, pd.DataFrame]] = {}  # bars and map share their groups
    for spec in chart_specs(dataset, df):
        if spec.dimension not in df.columns or (spec.measure != "filas" and spec.measure not in df.columns):
            continue
        column = _column(dataset, spec.dimension)
        is_municipio = column is not None and es_columna_municipio(column)
        dim_title = "Municipio" if is_municipio else column.titulo_visible if column else spec.dimension
        measure_text = _measure_text(dataset, spec.measure)
        if spec.kind == "lineas":
            keys, period = _period(df[spec.dimension], column)
            title = spec.title or f"{measure_text} por {period} ({dim_title.lower()})"
            points = _line_points(_groups(df, keys, spec.measure, person), k)
            desc = f"Línea en el tiempo: {measure_text.lower()} por {period}"
            desc += (f", de {points[0][0]} a {points[-1][0]}." if points else ".") + small_note
            result.charts.append(charts.line_chart(points, title=title, description=desc,
                                                   label_header=period.capitalize(), value_header=measure_text))
            minis.insert(0, _mini(title, result.charts[-1].headers, points, bars=False))
            continue
        if (spec.dimension, spec.measure) not in tables:
            keys = _municipio_codes(df[spec.dimension]) if is_municipio else df[spec.dimension].astype(
                "string").str.strip()
            tables[spec.dimension, spec.measure] = keys, _groups(df, keys, spec.measure, person)
        keys, table = tables[spec.dimension, spec.measure]
        if spec.kind == "mapa":
            result.mapa = _map(spec, table, k, measure_text, small_note)
            continue
        names = {m.codigo: m.nombre for m in municipios_casanare()}
        groups = [
            Group(SIN_DATO if pd.isna(key) else neutralize_cell(names.get(str(key), str(key))), float(value),
                  int(size), key)
            for key, value, size in _rows(table)
        ]
        bars, hidden_count = k_bars(groups, k, _size_of(df, keys, person))
        title = spec.title or f"{measure_text} por {dim_title.lower()}"
        desc = f"Gráfico de barras: {measure_text.lower()} por {dim_title.lower()}, de mayor a menor."
        desc += (f" El mayor es «{bars[0].label}» ({format_number(bars[0].value)})." if bars else "") + small_note
        if hidden_count:
            desc += f" {hidden_count} grupo(s) pequeño(s) no se muestran."
        items = [(g.label, g.value) for g in bars]
        result.charts.append(charts.bar_chart(items, title=title, description=desc, label_header=dim_title,
                                              value_header=measure_text))
        minis.append(_mini(title, result.charts[-1].headers, items, bars=True))
    result.mini = minis[0] if minis else None
    return result


def _rows(table: pd.DataFrame) -> list[tuple[Any, float, int]]:
    return list(zip(table.index, table["value"].tolist(), table["size"].tolist(), strict=True))


def _line_points(table: pd.DataFrame, k: int) -> list[tuple[str, float | None]]:
    """Every period from the first to the last (gaps filled with 0), small periods hidden."""
    table = table[~pd.isna(table.index)]
    if len(table) and isinstance(table.index[0], pd.Period):
        table = table.reindex(pd.period_range(table.index.min(), table.index.max()), fill_value=0)
    elif len(table) and int(table.index.max()) - int(table.index.min()) <= 200:
        table = table.reindex(range(int(table.index.min()), int(table.index.max()) + 1), fill_value=0)
    groups = k_points([Group(str(key), float(value), int(size), key) for key, value, size in _rows(table)], k)
    return [(g.label, None if pd.isna(g.value) else g.value) for g in groups]


def _map(spec: ChartSpec, table: pd.DataFrame, k: int, measure_text: str, small_note: str) -> Chart:
    names = {m.codigo: m.nombre for m in municipios_casanare()}
    known = [(str(key), value, size) for key, value, size in _rows(table) if not pd.isna(key) and str(key) in names]
    values = {key: float(value) for key, value, size in known if size >= k}
    hidden = [key for key, _value, size in known if size < k]
    title = spec.title or f"Mapa: {measure_text.lower()} por municipio"
    top = max(values.items(), key=lambda kv: kv[1], default=None)
    desc = (
        "Mapa de Casanare con un círculo en la cabecera de cada municipio, de área proporcional al valor "
        f"({measure_text.lower()})."
        + (f" El mayor valor es el de {names[top[0]]} ({format_number(top[1])})." if top else "")
        + small_note
    )
    return charts.map_chart(values, title=title, description=desc, value_header=measure_text, hidden=hidden)


def mini_chart(mini: dict[str, Any] | None, nombre: str) -> Chart | None:
    """The index's word-sized chart of one dataset, from the numbers kept in its state file.

    Its text alternative is the chart's title and a one-line summary (the dataset's name is in
    the same table row), so 200 of them keep the index light.
    """
    if not mini or not mini.get("valores"):
        return None
    headers = mini.get("encabezados") or ["Grupo", "Valor"]
    pairs = [(label, v) for label, v in zip(mini["etiquetas"], mini["valores"], strict=True) if v is not None]
    if not pairs:
        summary = "Sin valores que se puedan mostrar."
    elif mini.get("barras"):
        summary = f"El mayor es «{pairs[0][0]}» ({format_number(pairs[0][1])})."
    else:
        top = max(pairs, key=lambda p: p[1])
        summary = (
            f"Último: {format_number(pairs[-1][1])} ({pairs[-1][0]}); máximo: {format_number(top[1])} ({top[0]})."
        )
    return charts.sparkline(
        mini["valores"], labels=mini["etiquetas"], bars=bool(mini.get("barras")), title=mini["titulo"],
        description=f"{summary} Conjunto: {nombre}.", label_header=headers[0], value_header=headers[1],
    )
