"""The shape every reader returns: headers plus an iterator of row chunks (or text columns)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the package is imported at DAG-parse time: no numpy/pyarrow there
    import numpy as np
    import pyarrow as pa


@dataclass
class ColumnasTexto:
    """A chunk of a delimited text file as columns: one Arrow string array per source column.

    Readers that parse natively (Arrow's CSV reader) hand over columns instead of Python rows,
    so a million-row file is never turned into millions of Python strings.

    Attributes:
        columnas: one array per source column, in file order (cells as written, never null).
        vacias: True for records whose cells are all blank (skipped, but counted for row numbers).
    """

    columnas: list[pa.Array]
    vacias: np.ndarray

    def __len__(self) -> int:
        return len(self.vacias)


@dataclass
class RawTable:
    """Untyped rows as they are in the source.

    Attributes:
        headers: one label per source column (two-row headers already flattened).
        chunks: lists of rows (each a list of cells) or ``ColumnasTexto``, read lazily where the
            format allows.
        first_data_row: 1-based row (or record) number of the first data row in the source,
            so messages can point a clerk to the exact row.
        ocultas: headers of hidden spreadsheet columns that were left out on purpose.
        cerrar: releases the underlying handle; a generator that never started can't do it itself.
    """

    headers: list[str]
    chunks: Iterator[list[list[Any]] | ColumnasTexto]
    first_data_row: int
    archivo: str
    hoja: str | None = None
    detalles: dict[str, Any] = field(default_factory=dict)
    ocultas: list[str] = field(default_factory=list)
    cerrar: Callable[[], None] | None = None

    def close(self) -> None:
        """Release the file handle or database cursor, even if the rows were never read."""
        if self.cerrar is not None:
            self.cerrar()
            self.cerrar = None
