"""Where a file's quotes sit, learned block by block during the archive pass.

Python's strict ``csv`` reader and Arrow's native reader agree on a quoted file only when every
quoted value is well formed: it opens at the start of a field (after a separator, a line break
or the start of the file), closes right before a separator, a line break or the end of the file,
doubles any quote inside it (``""``) and holds no line break. Anything else — ``"abc"def``, a
quote in the middle of an unquoted value, a value cut inside quotes, a multi-line value — is read
differently by the two (Arrow reads ``"abc"def`` as ``abcdef``), so such a file keeps Python's
reader, which refuses it or reads it with its own rules and names the row.

The check needs no parser: outside a quoted value the number of quotes seen so far is even, so
the parity of each quote's position in the file tells whether it opens (even) or closes (odd) a
value, and a doubled quote is an odd quote followed directly by an even one. The separator is not
known yet while archiving, so the bytes found next to opening and closing quotes are kept and
compared with it once the reader has found it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

QUOTE = 0x22
LINE_BREAKS = (0x0A, 0x0D)
EDGE = -1  # start or end of the file, as a neighbour of a quote
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Comillas:
    """What the archive pass learned about a file's quotes."""

    hay: bool = True
    balanceadas: bool = False
    salto_entre_comillas: bool = True
    vecinos: frozenset[int] = field(default_factory=frozenset)

    def legibles_por_arrow(self, delimitador: str) -> bool:
        """Whether Arrow's reader gives exactly what Python's strict reader gives for this file."""
        if not self.hay:
            return True
        if len(delimitador) != 1 or ord(delimitador) > 0x7F or ord(delimitador) == QUOTE:
            return False
        return (self.balanceadas and not self.salto_entre_comillas
                and self.vecinos <= {ord(delimitador), *LINE_BREAKS, EDGE})


SIN_COMILLAS = Comillas(hay=False, balanceadas=True, salto_entre_comillas=False)
DESCONOCIDAS = Comillas()  # not checked: as if badly quoted, so Python's reader reads the file


class RevisorComillas:
    """Feed a file's bytes in order (any block size); ``resultado()`` after the last block."""

    def __init__(self) -> None:
        self._count = 0  # quotes seen so far
        self._previous = EDGE  # last byte of the previous block
        self._pending_close = False  # the previous block ended with a closing-parity quote
        self._held: bytes | None = b""
        self._neighbours: set[int] = set()
        self._break_inside = False

    def feed(self, block: bytes) -> None:
        start = 0
        if self._held is not None:  # the first bytes are held until a BOM can be recognised
            self._held += block
            if len(self._held) < len(UTF8_BOM):
                return
            block, self._held = self._held, None
            if block.startswith(UTF8_BOM):  # the BOM is not a value's byte: the file starts after it
                start = len(UTF8_BOM)
        if not block:
            return
        data = np.frombuffer(block, dtype=np.uint8)
        if self._pending_close and data[0] != QUOTE:
            self._neighbours.add(int(data[0]))
        self._pending_close = False
        if self._count % 2 == 0 and QUOTE not in block:  # the common block: nothing quoted in it
            self._previous = int(data[-1]) if len(data) > start else self._previous
            return
        quotes = np.flatnonzero(data[start:] == QUOTE) + start
        if self._count % 2 or len(quotes):
            self._check_breaks(data, quotes)
        if len(quotes):
            self._check_neighbours(data, quotes, start)
        self._count += len(quotes)
        self._previous = int(data[-1]) if len(data) > start else self._previous

    def resultado(self) -> Comillas:
        if self._held:
            held, self._held = self._held, None
            self.feed(held)
        if self._pending_close:
            self._neighbours.add(EDGE)
        if self._count == 0:
            return SIN_COMILLAS
        return Comillas(hay=True, balanceadas=self._count % 2 == 0, salto_entre_comillas=self._break_inside,
                        vecinos=frozenset(self._neighbours))

    def _check_breaks(self, data: np.ndarray, quotes: np.ndarray) -> None:
        """A line break after an odd number of quotes is inside a quoted value."""
        if self._break_inside:
            return
        breaks = np.flatnonzero((data == LINE_BREAKS[0]) | (data == LINE_BREAKS[1]))
        if len(breaks):
            before = np.searchsorted(quotes, breaks) + self._count
            self._break_inside = bool((before % 2).any())

    def _check_neighbours(self, data: np.ndarray, quotes: np.ndarray, start: int) -> None:
        opening = (np.arange(len(quotes)) + self._count) % 2 == 0
        # A quote on the block's first byte follows the previous block's last one (or the start
        # of the file, which a BOM does not move).
        before_block = EDGE if start else self._previous
        previous = np.where(quotes > start, data[np.maximum(quotes - 1, 0)].astype(np.int64), before_block)
        # An opening quote right after a quote is the second half of a doubled quote.
        opens = previous[opening]
        self._neighbours.update(int(b) for b in np.unique(opens[opens != QUOTE]))
        closing = quotes[~opening]
        if len(closing) and closing[-1] == len(data) - 1:
            self._pending_close = True  # its neighbour is the next block's first byte
            closing = closing[:-1]
        following = data[closing + 1]
        self._neighbours.update(int(b) for b in np.unique(following[following != QUOTE]))
