"""The raw bytes of an Arrow ``string`` array, for checks that decide whether a kernel is needed.

Several stages rewrite text columns (trimming, escaping, quoting) only when some value needs it;
reading the bytes once with numpy is far cheaper than running the kernel on a million values.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def string_bytes(values: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """``(offsets, raw)`` of a ``string`` array: value ``i`` is ``raw[offsets[i]:offsets[i + 1]]``.

    Offsets start at 0 (a slice's are rebased). None for any other type (the caller then runs the
    kernel without the shortcut).
    """
    if values.type != pa.string():
        return None
    n = len(values)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32, count=values.offset + n + 1)[values.offset:]
    data = values.buffers()[2]
    start, end = int(offsets[0]), int(offsets[-1])
    raw = np.frombuffer(data, dtype=np.uint8, count=end)[start:] if data is not None else np.zeros(0, np.uint8)
    return offsets - start, raw


def first_bytes(offsets: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """The first byte of every non-empty value."""
    return raw[offsets[:-1][np.diff(offsets) > 0]]


def last_bytes(offsets: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """The last byte of every non-empty value."""
    return raw[offsets[1:][np.diff(offsets) > 0] - 1]
