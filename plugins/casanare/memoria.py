"""Give a finished stage's memory back to the operating system.

A worker process may run several stages one after another (``airflow dags test`` runs the whole
DAG in one process; a Celery worker reuses its processes). Without this, the freed pages of one
stage's million-row frames stay in Arrow's memory pool and in glibc's heap, and the next stage
starts from the previous one's peak.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import sys
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def liberar() -> None:
    """Collect garbage, empty Arrow's pool of unused blocks and trim the C heap (glibc only)."""
    gc.collect()
    liberar_arrow()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def liberar_arrow() -> None:
    """Hand the free pages of Arrow's memory pool back to the system.

    mimalloc (Arrow's default pool) keeps the pages of freed buffers for reuse: after
    ``pd.read_parquet`` built a 1.2 GB frame from 5M rows, 0.7 GB of the Arrow table it was
    converted from stayed resident (measured: 2.07 GB → 1.39 GB after this call).
    """
    if "pyarrow" in sys.modules:  # never import Arrow just to release it
        sys.modules["pyarrow"].default_memory_pool().release_unused()


@functools.cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, looked up once (``find_library`` runs ``ldconfig``); None elsewhere."""
    libc = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
    if not libc:
        return None
    with contextlib.suppress(OSError, AttributeError):  # musl and others have no malloc_trim
        return ctypes.CDLL(libc).malloc_trim
    return None


def devuelve_memoria(func: F) -> F:
    """Run ``liberar`` after ``func`` returns or fails, when its locals are gone."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        finally:
            liberar()

    return wrapper  # type: ignore[return-value]
