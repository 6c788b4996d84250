"""The shape every reader returns: headers plus an iterator of row chunks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RawTable:
    """Untyped rows as they are in the source.

    Attributes:
        headers: one label per source column (two-row headers already flattened).
        chunks: lists of rows (each a list of cells), read lazily where the format allows.
        first_data_row: 1-based row (or record) number of the first data row in the source,
            so messages can point a clerk to the exact row.
        ocultas: headers of hidden spreadsheet columns that were left out on purpose.
        cerrar: releases the underlying handle; a generator that never started can't do it itself.
    """

    headers: list[str]
    chunks: Iterator[list[list[Any]]]
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
