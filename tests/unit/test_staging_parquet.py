"""Staged Parquet reads back exactly as pandas reads it, a column at a time when large."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from casanare import staging
from casanare.staging import RunArea

pytestmark = pytest.mark.unit


def _frame(n: int = 50) -> pd.DataFrame:
    return pd.DataFrame({
        "texto": pd.Series([None if i % 7 == 0 else f"fila {i} ñ" for i in range(n)], dtype="str"),
        "entero": pd.array([None if i % 5 == 0 else i for i in range(n)], dtype="Int64"),
        "decimal": np.arange(n) * 1.5,
        "otro_decimal": [np.nan if i % 3 == 0 else i / 7 for i in range(n)],
        "fecha": pd.Series(pd.array([date(2024, 1, 1 + i % 28) for i in range(n)], dtype=pd.ArrowDtype(pa.date32()))),
        "instante": pd.to_datetime(["2024-05-01 10:30"] * n),
        "booleano": [i % 2 == 0 for i in range(n)],
        "categoria": pd.Categorical(["a", "b"] * (n // 2)),
    })


@pytest.mark.parametrize("columns", [None, ["decimal", "texto", "entero"]])
def test_a_large_table_read_by_column_equals_pandas_whole_read(tmp_path, monkeypatch, columns):
    area = RunArea(tmp_path.as_uri(), "conjunto", "ejecucion")
    df = _frame()
    area.write_parquet("datos.parquet", df)
    path = tmp_path / "conjunto" / "ejecuciones" / "ejecucion" / "datos.parquet"
    expected = pd.read_parquet(path, columns=columns)
    reads = []
    real = pd.read_parquet
    monkeypatch.setattr(pd, "read_parquet", lambda fh, columns=None, **kw: reads.append(columns) or real(fh, columns=columns, **kw))
    monkeypatch.setattr(staging, "FILAS_LECTURA_POR_COLUMNA", 10)
    got = area.read_parquet("datos.parquet", columns=columns)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert reads == [[c] for c in (columns or list(df.columns))]
    # Below the threshold: one whole read, the same frame.
    reads.clear()
    monkeypatch.setattr(staging, "FILAS_LECTURA_POR_COLUMNA", 1_000)
    pd.testing.assert_frame_equal(area.read_parquet("datos.parquet", columns=columns), expected, check_exact=True)
    assert reads == [columns]


def test_a_stored_index_comes_back_once(tmp_path, monkeypatch):
    area = RunArea(tmp_path.as_uri(), "conjunto", "ejecucion")
    df = _frame().set_index(pd.Index([f"k{i}" for i in range(50)], name="clave"))
    with area.open("indexado.parquet", "wb") as fh:
        df.to_parquet(fh)
    monkeypatch.setattr(staging, "FILAS_LECTURA_POR_COLUMNA", 10)
    got = area.read_parquet("indexado.parquet")
    pd.testing.assert_frame_equal(got, pd.read_parquet(tmp_path / "conjunto" / "ejecuciones" / "ejecucion" / "indexado.parquet"))
