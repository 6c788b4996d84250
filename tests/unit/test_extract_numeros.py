"""Numbers in Colombian (and other) formats: one convention per WHOLE column, never a silent 1000×."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casanare.extract.coerce import coerce_series
from casanare.extract.numbers import Convencion

pytestmark = pytest.mark.unit
NULOS = frozenset({"", "N/A", "-"})


def test_integer_pesos_with_thousands_dots_are_read_whole():
    typed, bad = coerce_series(pd.Series(["850.000", "1.200.000", "45.500"]), "decimal", NULOS)
    assert list(typed) == [850000.0, 1200000.0, 45500.0]
    assert not bad.any()


def test_whole_column_decides_even_when_the_proof_is_far_away():
    values = ["850.000"] * 1000 + ["1.656.979.000"]
    typed, bad = coerce_series(pd.Series(values), "entero", NULOS)
    assert typed.iloc[0] == 850000 and typed.iloc[-1] == 1656979000
    assert str(typed.dtype) == "Int64" and not bad.any()


def test_a_value_of_the_other_convention_is_an_error_not_a_guess():
    typed, bad = coerce_series(pd.Series(["1.234.567,89", "850.000", "2.5"] + ["3,25"] * 5), "decimal", NULOS)
    assert list(bad) == [False, False, True] + [False] * 5
    assert typed.iloc[1] == 850000.0 and pd.isna(typed.iloc[2])


def test_decimal_point_columns_are_recognised():
    typed, bad = coerce_series(pd.Series(["1,234,567.89", "850,000", "0.5"]), "decimal", NULOS)
    assert list(typed) == [1234567.89, 850000.0, 0.5] and not bad.any()


def test_declared_convention_wins_over_evidence():
    conv = Convencion(".", ",", "catálogo")
    typed, bad = coerce_series(pd.Series(["850.000", "12.5"]), "decimal", NULOS, convencion=conv)
    assert list(typed) == [850.0, 12.5] and not bad.any()


def test_integers_keep_blanks_as_missing_and_stay_integers():
    typed, bad = coerce_series(pd.Series(["21", "", "N/A", "1.234", None]), "entero", NULOS)
    assert str(typed.dtype) == "Int64"
    assert typed.iloc[0] == 21 and typed.iloc[3] == 1234 and typed.isna().sum() == 3 and not bad.any()


def test_integer_column_refuses_fractions_and_huge_numbers():
    _, bad = coerce_series(pd.Series(["12,5", "1" * 25, "7"]), "entero", NULOS)
    assert list(bad) == [True, True, False]


def test_typed_spreadsheet_numbers_pass_through_unchanged():
    typed, bad = coerce_series(pd.Series([1234.5, "1.234,5", None, 7], dtype=object), "decimal", NULOS)
    assert list(typed.fillna(-1)) == [1234.5, 1234.5, -1, 7.0] and not bad.any()


def _colombian(whole: int, cents: int | None, negative: bool, miles: str, decimal: str) -> str:
    digits = f"{whole:,}".replace(",", miles) if miles else str(whole)
    text = digits + (f"{decimal}{cents:02d}" if cents is not None else "")
    return f"-{text}" if negative else text


FORMATOS = st.sampled_from([(".", ","), (",", "."), ("", ","), ("", "."), (" ", ",")])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 10**13), st.one_of(st.none(), st.integers(0, 99)), st.booleans()),
             min_size=1, max_size=30),
    FORMATOS,
)
def test_any_value_in_a_declared_format_reads_back_exactly(rows, formato):
    miles, decimal = formato
    texts = [_colombian(w, c, n, miles, decimal) for w, c, n in rows]
    conv = Convencion(decimal, miles, "catálogo")
    typed, bad = coerce_series(pd.Series(texts), "decimal", NULOS, convencion=conv)
    assert not bad.any()
    expected = [(-1 if n else 1) * (w + (c or 0) / 100) for w, c, n in rows]
    assert list(typed) == pytest.approx(expected, rel=0, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**15), st.booleans()), min_size=1, max_size=30), FORMATOS)
def test_any_integer_in_a_declared_format_reads_back_exactly(rows, formato):
    miles, decimal = formato
    texts = [_colombian(w, None, n, miles, decimal) for w, n in rows]
    typed, bad = coerce_series(pd.Series(texts), "entero", NULOS, convencion=Convencion(decimal, miles, "catálogo"))
    assert not bad.any()
    assert list(typed) == [(-w if n else w) for w, n in rows]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1000, 10**12), min_size=2, max_size=30))
def test_colombian_integers_with_thousands_dots_are_never_shrunk(numbers):
    """Undeclared: integer pesos with dots (the normal export) read whole, never 1000× smaller."""
    texts = [f"{n:,}".replace(",", ".") for n in numbers]
    typed, bad = coerce_series(pd.Series(texts), "decimal", NULOS)
    assert not bad.any()
    assert list(typed) == [float(n) for n in numbers]


# Whole files ----------------------------------------------------------------------------------

def _extract(tmp_path, name, text, **fuente):
    from casanare.extract import extraer
    from casanare.staging import RunArea
    from tests.malformed_corpus import dataset

    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    ds = dataset(ruta=str(path), **fuente)
    area = RunArea((tmp_path / "staging").as_uri(), ds.slug, "manual__prueba")
    report = extraer(ds, area)
    return report, area.read_parquet("extraido.parquet")


def test_semicolon_excel_csv_utf8_is_read_with_its_separator(tmp_path):
    from tests.malformed_corpus import HEADERS, filas

    rows = [HEADERS, *filas(5)]
    text = "\ufeff" + "\r\n".join(";".join(r) for r in rows) + "\r\n"
    report, frame = _extract(tmp_path, "es_co.csv", text)
    assert report["delimitador"] == ";"
    assert list(frame["valor"]) == pytest.approx([1234.51, 2234.52, 3234.53, 4234.54, 5234.55])


def test_title_rows_above_a_csv_header_are_skipped_and_rows_keep_file_numbers(tmp_path):
    from tests.malformed_corpus import HEADERS, filas

    rows = [["GOBERNACIÓN DE CASANARE"], ["Reporte de pagos"], [], HEADERS, *filas(4)]
    text = "\r\n".join(",".join(f'"{c}"' for c in r) for r in rows) + "\r\n"
    report, frame = _extract(tmp_path, "titulos.csv", text)
    assert report["fila_encabezado"] == 4 and report["filas"] == 4
    assert list(frame["id_registro"]) == [1, 2, 3, 4]


def test_title_rows_added_above_the_agreed_header_row_are_found_and_reported(tmp_path):
    from tests.malformed_corpus import HEADERS, filas

    rows = [["GOBERNACIÓN DE CASANARE"], ["Reporte"], ["Corte"], HEADERS, *filas(4)]
    text = "\r\n".join(",".join(f'"{c}"' for c in r) for r in rows) + "\r\n"
    report, frame = _extract(tmp_path, "titulos.csv", text, fila_encabezado=1)
    assert report["fila_encabezado"] == 4 and list(frame["id_registro"]) == [1, 2, 3, 4]
    assert any("El encabezado está en la fila 4" in a for a in report["advertencias"])


def test_title_rows_above_a_spreadsheet_header_declared_at_row_one(tmp_path):
    from tests.malformed_corpus import HEADERS, dataset, filas, write_xlsx

    path = tmp_path / "titulos.xlsx"
    write_xlsx(path, [["GOBERNACIÓN DE CASANARE"], ["Secretaría de Salud"], ["Corte: marzo"], HEADERS, *filas(3)])
    from casanare.extract import extraer
    from casanare.staging import RunArea

    ds = dataset(ruta=str(path), fila_encabezado=1)
    area = RunArea((tmp_path / "staging").as_uri(), ds.slug, "manual__x")
    report = extraer(ds, area)
    assert report["fila_encabezado"] == 4 and report["filas"] == 3


def test_integer_pesos_file_with_blanks_and_declared_separators(tmp_path):
    from tests.malformed_corpus import HEADERS, fila

    rows = [HEADERS]
    for i, valor in enumerate(["850.000", "1.656.979.000", "", "45.500"], start=1):
        row = fila(i)
        row[4] = valor
        row[0] = "" if i == 3 else row[0]
        rows.append(row)
    text = "\r\n".join(",".join(f'"{c}"' for c in r) for r in rows) + "\r\n"
    report, frame = _extract(tmp_path, "pesos.csv", text, separador_decimal=",", separador_miles=".")
    assert list(frame["valor"].fillna(-1)) == [850000.0, 1656979000.0, -1, 45500.0]
    assert str(frame["id_registro"].dtype) == "Int64" and frame["id_registro"].isna().sum() == 1
    assert report["formato_numerico"]["valor"]["origen"] == "catálogo"


def test_complete_file_without_final_newline_but_quoted_last_field_is_accepted(tmp_path):
    from tests.malformed_corpus import HEADERS, filas

    rows = [HEADERS, *filas(3)]
    text = "\r\n".join(",".join(f'"{c}"' for c in r) for r in rows)
    report, _ = _extract(tmp_path, "sin_salto.csv", text)
    assert report["filas"] == 3


def test_an_export_that_always_omits_trailing_empty_fields_is_not_truncated(tmp_path):
    from tests.malformed_corpus import HEADERS, filas

    rows = [HEADERS, *[r[:6] for r in filas(4)]]  # every record lacks the last (optional) field
    text = "\r\n".join(",".join(f'"{c}"' for c in r) for r in rows) + "\r\n"
    report, _ = _extract(tmp_path, "ragged.csv", text)
    assert report["filas"] == 4
