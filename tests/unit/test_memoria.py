"""A finished stage gives its memory back, so the next stage in the same worker starts low."""

from __future__ import annotations

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pytest

from casanare import memoria

pytestmark = pytest.mark.unit


def _stage_with_big_frames() -> int:
    frame = pd.DataFrame({"a": np.arange(10_000_000), "b": [str(i) for i in range(1_000_000)] * 10})
    table = pa.Table.from_pandas(frame)
    return table.num_rows


def test_freed_frames_go_back_to_the_system():
    process = psutil.Process()
    _stage_with_big_frames()
    before = process.memory_info().rss
    memoria.liberar()
    after = process.memory_info().rss
    assert before - after > 100_000_000, f"RSS {before / 1e6:.0f} MB → {after / 1e6:.0f} MB"


def test_the_decorator_releases_after_success_and_failure(monkeypatch):
    calls = []
    monkeypatch.setattr(memoria, "liberar", lambda: calls.append("liberar"))

    @memoria.devuelve_memoria
    def ok() -> int:
        return 1

    @memoria.devuelve_memoria
    def fails() -> None:
        raise RuntimeError("etapa fallida")

    assert ok() == 1
    with pytest.raises(RuntimeError):
        fails()
    assert calls == ["liberar", "liberar"]


def test_reading_a_staged_parquet_leaves_no_arrow_pages_behind(tmp_path):
    """``pd.read_parquet`` converts an Arrow table and frees it; its pages stay in Arrow's pool
    (0.7 GB at 5M rows) unless the read hands them back, which is what this checks."""
    from casanare.staging import RunArea

    area = RunArea(tmp_path.as_uri(), "conjunto", "ejecucion")
    rng = np.random.default_rng(7)
    # Four float columns become one pandas block: a copy, so the whole Arrow table is freed.
    area.write_parquet("datos.parquet", pd.DataFrame({f"c{i}": rng.random(4_000_000) for i in range(4)}))
    memoria.liberar()
    process = psutil.Process()
    frame = area.read_parquet("datos.parquet")
    after_read = process.memory_info().rss
    memoria.liberar_arrow()
    left_behind = after_read - process.memory_info().rss
    assert len(frame) == 4_000_000
    assert left_behind < 30_000_000, f"{left_behind / 1e6:.0f} MB of Arrow pages left after the read"
