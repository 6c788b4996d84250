"""One stream of batches read by several writers at once, each batch made once.

The site's three downloads (CSV, JSON, XLSX) are written at the same time from the same table;
each batch's decimals are formatted once for the three of them (see ``downloads._batches``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any


class Reparto:
    """The same batches for several readers (one per file), made once, none kept for long.

    A reader that needs a batch nobody made yet makes it itself, but never more than ``depth``
    batches ahead of the slowest reader still reading: the buffer stays a few batches whatever
    the table's size. A reader that stops (finished or failed) no longer holds the others back;
    an error making a batch reaches every reader.
    """

    def __init__(self, source: Iterator[Any], readers: int, depth: int = 4) -> None:
        self._source = source
        self._cond = threading.Condition()
        self._items: dict[int, Any] = {}
        self._pos = [0] * readers
        self._reading = [True] * readers
        self._made = 0
        self._making = False
        self._end = False
        self._error: BaseException | None = None
        self._depth = depth

    def _slowest(self) -> int:
        return min((p for p, on in zip(self._pos, self._reading, strict=True) if on), default=self._made)

    def _forget(self) -> None:
        for i in [i for i in self._items if i < self._slowest()]:
            del self._items[i]

    def _next(self, k: int) -> tuple[bool, Any]:
        """(True, batch) to read, (False, None) to make the next batch; StopIteration at the end."""
        with self._cond:
            while True:
                if self._pos[k] < self._made:
                    return True, self._items[self._pos[k]]
                if self._error is not None:
                    raise self._error
                if self._end:
                    raise StopIteration
                if not self._making and self._made - self._slowest() < self._depth:
                    self._making = True
                    return False, None
                self._cond.wait()

    def _make(self) -> None:
        try:
            item = next(self._source)
        except StopIteration:
            item, end, error = None, True, None
        except BaseException as exc:  # handed to every reader
            item, end, error = None, False, exc
        else:
            end, error = False, None
        with self._cond:
            if error is not None:
                self._error = error
            elif end:
                self._end = True
            else:
                self._items[self._made] = item
                self._made += 1
            self._making = False
            self._cond.notify_all()
        if error is not None:
            raise error

    def stop(self, k: int) -> None:
        """Reader ``k`` reads no more (idempotent): the others stop waiting for it."""
        with self._cond:
            self._reading[k] = False
            self._forget()
            self._cond.notify_all()

    def reader(self, k: int) -> Iterator[Any]:
        try:
            while True:
                try:
                    ready, item = self._next(k)
                except StopIteration:
                    return
                if not ready:
                    self._make()
                    continue
                yield item
                with self._cond:
                    self._pos[k] += 1
                    self._forget()
                    self._cond.notify_all()
        finally:
            self.stop(k)
