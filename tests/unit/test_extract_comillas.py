"""The quote check lets Arrow read a quoted file only where it reads it exactly as Python does."""

from __future__ import annotations

import csv
import io
import random

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from casanare.extract.comillas import EDGE, SIN_COMILLAS, RevisorComillas

pytestmark = pytest.mark.unit


def _check(content: bytes, block: int = 1 << 20):
    revisor = RevisorComillas()
    for start in range(0, len(content), block):
        revisor.feed(content[start:start + block])
    return revisor.resultado()


@pytest.mark.parametrize(("content", "arrow"), [
    (b"a;b\nx;1\n", True),
    (b'a;b\n"x";1\n', True),
    (b'a;b\n"x;""y""";""\n', True),  # separator and doubled quotes inside, empty quoted value
    (b'\xef\xbb\xbf"a";"b"\r\n1;2\r\n', True),  # a BOM does not stand between the file start and a quote
    (b'a;b\n"x"', True),  # closed right at the end of the file
    (b'a;b\n"x"y;1\n', False),  # text after the closing quote
    (b'a;b\nx"y;1\n', False),  # a quote inside an unquoted value
    (b'a;b\n "x";1\n', False),  # a space before the opening quote
    (b'a;b\n"x" ;1\n', False),  # a space after the closing quote
    (b'a;b\n"x\ny";1\n', False),  # a line break inside quotes
    (b'a;b\n"x\r";1\n', False),
    (b'a;b\n"x;1\n', False),  # never closed
    (b'a,b\n"x",1\n', False),  # well formed for another separator
])
def test_quote_shapes(content, arrow):
    for block in (1, 2, 3, 5, 1 << 20):  # a quote or a BOM split across blocks gives the same answer
        assert _check(content, block).legibles_por_arrow(";") is arrow, (content, block)


def test_a_file_without_quotes_needs_no_check():
    assert _check(b"a;b\n1;2\n") == SIN_COMILLAS
    assert SIN_COMILLAS.legibles_por_arrow("|")


def test_neighbours_name_the_bytes_around_the_quotes():
    assert _check(b'"a";"b"\n"x"').vecinos == {ord(";"), ord("\n"), EDGE}
    assert not _check(b'"a"').legibles_por_arrow('"')


def test_whatever_the_check_lets_arrow_read_arrow_reads_as_python_does():
    """Random short files over the characters that matter: wherever the check answers yes and
    Arrow reads the file, its records are Python's strict reader's records."""
    rng = random.Random(2026)
    alphabet = ["a", "ñ", ";", ";", '"', '"', "\n", "\r", "\r\n", " "]
    compared = 0
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24)))
        content = text.encode()
        if not _check(content, rng.randint(1, 6)).legibles_por_arrow(";"):
            continue
        python = list(csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=True))
        try:
            table = pacsv.read_csv(
                io.BytesIO(content), read_options=pacsv.ReadOptions(autogenerate_column_names=True),
                parse_options=pacsv.ParseOptions(delimiter=";", quote_char='"', ignore_empty_lines=False),
                convert_options=pacsv.ConvertOptions(strings_can_be_null=False,
                                                     column_types={f"f{i}": pa.string() for i in range(30)}))
        except pa.ArrowInvalid:
            continue  # a ragged file: the extraction hands it to Python's reader
        compared += 1
        arrow = [list(r) for r in zip(*(c.to_pylist() for c in table.columns), strict=True)]
        assert [_trimmed(r) for r in arrow] == [_trimmed(r) for r in python], text
    assert compared > 100


def _trimmed(row: list[str]) -> list[str]:
    while row and row[-1] == "":
        row.pop()
    return row
