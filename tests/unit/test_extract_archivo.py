"""Archiving streams the source (a big file is never read whole) and SQL comments are stripped."""

from __future__ import annotations

import hashlib
import tracemalloc

import pytest

from casanare.extract.archive import archive_source
from casanare.extract.sql import strip_comments
from casanare.staging import RunArea

pytestmark = pytest.mark.unit


def test_big_file_is_archived_by_streaming(tmp_path):
    path = tmp_path / "grande.csv"
    block = ("id;valor\n" + "1;2,5\n" * 200_000).encode()
    with path.open("wb") as fh:
        for _ in range(40):  # ~48 MB
            fh.write(block)
    area = RunArea((tmp_path / "staging").as_uri(), "x", "r")
    tracemalloc.start()
    archived = archive_source(path, area, "grande.csv")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"pico {peak / 1e6:.1f} MB: el archivo se leyó entero"
    expected = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            expected.update(chunk)
    assert archived.sha256 == expected.hexdigest()
    assert archived.bytes == path.stat().st_size
    assert archived.utf8 is True
    assert area.local_path("original/grande.csv") and (tmp_path / "staging" / "x" / "ejecuciones" / "r" / "original" /
                                                        "grande.csv").stat().st_size == archived.bytes
    assert not list((tmp_path / "staging").rglob("*.tmp-*"))


def test_encoding_facts_come_from_the_whole_file(tmp_path):
    path = tmp_path / "mixto.csv"
    path.write_bytes(b"a;b\n" + b"1;2\n" * 300_000 + "3;Peña\n".encode("cp1252"))
    archived = archive_source(path, RunArea((tmp_path / "s").as_uri(), "x", "r"), "mixto.csv")
    assert archived.utf8 is False and archived.cp1252 is True


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT a -- usa :desde\nFROM t WHERE x >= :desde", "SELECT a \nFROM t WHERE x >= :desde"),
        ("SELECT '--no es comentario' AS c /* :hasta */ FROM t", "SELECT '--no es comentario' AS c   FROM t"),
        ('SELECT "col--x" FROM t', 'SELECT "col--x" FROM t'),
    ],
)
def test_sql_comments_are_stripped_outside_quotes(sql, expected):
    assert strip_comments(sql) == expected
