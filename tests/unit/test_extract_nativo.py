"""Arrow's native CSV reader gives exactly what Python's reader gives, or hands over to it.

Each export below is extracted twice: once with the native reader allowed (the default for a
file without quotes or NUL bytes) and once with Python's ``csv`` module alone. Either both publish
the same typed Parquet (values, source row numbers, report) or both fail with the same message
at the same rows. Arrow's batches are made tiny so that hand-overs happen mid-file, after some
records were already delivered natively.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

import casanare.extract as extract
import casanare.extract.csvfile as csvfile
from casanare.errors import DatosAbiertosError
from casanare.extract import extraer
from casanare.staging import RunArea
from tests.malformed_corpus import HEADERS, dataset, filas

pytestmark = pytest.mark.unit


def _lines(rows: list[list[str]], sep: str = ";", end: str = "\r\n") -> str:
    return "".join(sep.join(r) + end for r in rows)


BODY = filas(400)
COMMA_BODY = [[*r[:4], r[4].replace(".", "").replace(",", "."), *r[5:]] for r in BODY]  # 1234.5
CASES: dict[str, tuple[bytes, dict]] = {
    "limpio_cp1252": (_lines([HEADERS, *BODY]).encode("cp1252"), {}),
    "limpio_utf8_bom_coma": (("\ufeff" + _lines([HEADERS, *COMMA_BODY], sep=",", end="\n")).encode(), {}),
    "titulos_y_lineas_en_blanco": (_lines([["GOBERNACIÓN DE CASANARE"], [], ["Reporte"], HEADERS, *BODY[:150], [],
                                           [";;;"], *BODY[150:]]).encode("cp1252"), {}),
    "solo_retornos_de_carro": (_lines([HEADERS, *BODY], end="\r").encode("cp1252"), {}),
    "separadores_finales": (_lines([[*HEADERS, ""], *([*r, ""] for r in BODY)]).encode("cp1252"), {}),
    "fila_irregular_a_mitad": (_lines([HEADERS, *BODY[:300], BODY[300][:5], *BODY[301:]]).encode("cp1252"), {}),
    "byte_indefinido_cp1252_a_mitad": (_lines([HEADERS, *BODY[:250]]).encode("cp1252") + b"251;10\x81;X;85001;1,5;"
                                       b"01/03/2024;SI\r\n" + _lines(BODY[251:]).encode("cp1252"),
                                       {"codificacion": "cp1252"}),
    "utf8_invalido_a_mitad": (_lines([HEADERS, *BODY[:320]]).encode() + b"321;\xff\xfe;X;85001;1,5;01/03/2024;SI\r\n"
                              + _lines(BODY[321:]).encode(), {"codificacion": "utf-8"}),
    "ultima_linea_sin_salto": (_lines([HEADERS, *BODY]).encode("cp1252")[:-2], {}),
    "cortado_a_mitad_de_fila": (_lines([HEADERS, *BODY]).encode("cp1252")[:-30], {}),
    "ultima_fila_con_menos_campos": (_lines([HEADERS, *BODY[:-1], BODY[-1][:3]]).encode("cp1252"), {}),
    "decimal_ilegible": (_lines([HEADERS, *BODY[:200], [*BODY[200][:4], "12,3,4", *BODY[200][5:]], *BODY[201:]])
                         .encode("cp1252"), {}),
    "formato_contrario": (_lines([HEADERS, *BODY[:350], [*BODY[350][:4], "1,234.50", *BODY[350][5:]], *BODY[351:]])
                          .encode("cp1252"), {}),
    "fecha_invalida": (_lines([HEADERS, *BODY[:50], [*BODY[50][:5], "31/02/2024", BODY[50][6]], *BODY[51:]])
                       .encode("cp1252"), {}),
    "solo_encabezado": (_lines([HEADERS]).encode("cp1252"), {}),
    # cp1252's own characters (€, curly quotes, dash) in names, from record 120 on.
    "cp1252_con_euro_y_comillas_tipograficas": (_lines([HEADERS, *BODY[:120], *([r[0], r[1], f"{r[2]} – “€”", *r[3:]]
                                                                              for r in BODY[120:])]).encode("cp1252"), {}),
    # A byte cp1252 leaves undefined and no declared encoding: the file is read as latin-1.
    "latin1_por_byte_indefinido": (_lines([HEADERS, *BODY[:250]]).encode("cp1252") + b"251;10\x81;MU\xd1OZ;85001;1,5;"
                                   b"01/03/2024;SI\r\n" + _lines(BODY[251:]).encode("cp1252"), {}),
}


def _quoted(row: list[str], columns: set[int] | None = None) -> list[str]:
    """Quote the given cells (all if None) the way Excel and pandas do: inner quotes doubled."""
    return ['"' + c.replace('"', '""') + '"' if columns is None or i in columns else c for i, c in enumerate(row)]


# Names with the separator and doubled quotes inside; an empty quoted value; quoted numbers.
QUOTED_BODY = [_quoted([r[0], r[1], f'{r[2]}; "ALIAS {r[0]}"', *r[3:]], {2, 4}) if int(r[0]) % 3 else
               _quoted([*r[:4], r[4], "", r[6]], {1, 5}) for r in BODY]
# Well-formed quotes: Arrow reads these files (quotes on, doubled quotes, no multi-line value).
QUOTED_CASES: dict[str, tuple[bytes, dict]] = {
    "comillas_en_algunos_valores": (_lines([HEADERS, *QUOTED_BODY]).encode("cp1252"), {}),
    "todo_entre_comillas_utf8_bom": (("\ufeff" + _lines([_quoted(r) for r in [HEADERS, *COMMA_BODY]], sep=",",
                                                         end="\n")).encode(), {}),
    "comillas_y_titulos_y_lineas_en_blanco": (_lines([['"GOBERNACIÓN; DE CASANARE"'], [], HEADERS, *QUOTED_BODY[:200],
                                                      ['""'], *QUOTED_BODY[200:]]).encode("cp1252"), {}),
    "comillas_y_fila_irregular": (_lines([HEADERS, *QUOTED_BODY[:300], QUOTED_BODY[300][:5], *QUOTED_BODY[301:]])
                                  .encode("cp1252"), {}),
    "comillas_y_ultima_linea_sin_salto": (_lines([HEADERS, *QUOTED_BODY[:-1], _quoted(BODY[-1])]).encode("cp1252")[:-2],
                                          {}),
    "comillas_y_numero_ilegible": (_lines([HEADERS, *QUOTED_BODY[:99], _quoted([*BODY[99][:4], "12,3,4", *BODY[99][5:]]),
                                           *QUOTED_BODY[100:]]).encode("cp1252"), {}),
}
# Quotes the two readers could read differently: Python's reader alone reads (or refuses) them.
MISQUOTED_CASES: dict[str, tuple[bytes, dict]] = {
    "texto_pegado_a_comillas": (_lines([HEADERS, *QUOTED_BODY[:250], ['251', '"10"9', *BODY[250][2:]],
                                        *QUOTED_BODY[251:]]).encode("cp1252"), {}),
    "comilla_a_mitad_de_valor": (_lines([HEADERS, *QUOTED_BODY[:250], [*BODY[250][:2], 'PEDRO "EL GRANDE"',
                                                                         *BODY[250][3:]], *QUOTED_BODY[251:]])
                                 .encode("cp1252"), {}),
    "valor_de_varias_lineas": (_lines([HEADERS, *QUOTED_BODY[:250], _quoted([*BODY[250][:2], "LÍNEA 1\r\nLÍNEA 2",
                                                                             *BODY[250][3:]], {2}), *QUOTED_BODY[251:]])
                               .encode("cp1252"), {}),
    "comillas_sin_cerrar": (_lines([HEADERS, *QUOTED_BODY[:250], [*BODY[250][:2], '"PEDRO', *BODY[250][3:]],
                                    *QUOTED_BODY[251:]]).encode("cp1252"), {}),
    "cortado_dentro_de_comillas": (_lines([HEADERS, *QUOTED_BODY]).encode("cp1252")[:-40], {}),
    "espacio_tras_comillas": (_lines([HEADERS, *QUOTED_BODY[:10], [BODY[10][0], '"10" ', *BODY[10][2:]],
                                      *QUOTED_BODY[11:]]).encode("cp1252"), {}),
    "comillas_con_otro_separador": (_lines([HEADERS, *([",".join(_quoted(r))] for r in BODY)]).encode("cp1252"),
                                    {"delimitador": ";"}),
}


def _extract(tmp_path, name: str, content: bytes, fuente: dict, *, nativo: bool, monkeypatch,
             dos_pasadas: bool = False) -> dict:
    folder = tmp_path / (("nativo" if nativo else "python") + ("_dos_pasadas" if dos_pasadas else ""))
    folder.mkdir()
    path = folder / f"{name}.csv"
    path.write_bytes(content)
    ds = dataset(ruta=str(path), formato="csv", **fuente)
    area = RunArea((folder / "staging").as_uri(), ds.slug, "manual__prueba")
    original = csvfile.read_csv
    batches = []
    blank = csvfile._blank_records

    def counting(columns):
        batches.append(len(columns[0]))
        return blank(columns)

    write_typed = extract._write_typed
    with monkeypatch.context() as m:
        m.setattr(csvfile, "read_csv", lambda *a, **k: original(*a, **{**k, "nativo": k["nativo"] and nativo}))
        if dos_pasadas:  # as for a query result: numbers typed in a second pass over a scratch file
            m.setattr(extract, "_write_typed", lambda *a, **k: write_typed(*a, **{**k, "reabrir": None}))
        m.setattr(csvfile, "_blank_records", counting)
        m.setattr(csvfile, "ARROW_BLOCK_BYTES", 4096)  # several batches even for a small file
        try:
            report = extraer(ds, area)
        except DatosAbiertosError as exc:
            return {"error": (type(exc).__name__, exc.mensaje, exc.ubicacion.filas, exc.ubicacion.columna,
                              exc.como_corregir), "lotes_arrow": batches}
    report.pop("original")
    return {"report": report, "extraido": pq.read_table(area.local_path("extraido.parquet")),
            "filas": pq.read_table(area.local_path("filas_origen.parquet")), "lotes_arrow": batches}


@pytest.mark.parametrize("name", [*CASES, *QUOTED_CASES, *MISQUOTED_CASES])
def test_native_reader_gives_what_python_gives(name, tmp_path, monkeypatch):
    content, fuente = {**CASES, **QUOTED_CASES, **MISQUOTED_CASES}[name]
    fast = _extract(tmp_path, name, content, fuente, nativo=True, monkeypatch=monkeypatch)
    python = _extract(tmp_path, name, content, fuente, nativo=False, monkeypatch=monkeypatch)

    assert not python["lotes_arrow"]
    if name in MISQUOTED_CASES:
        assert not fast["lotes_arrow"], "Arrow must not read a file whose quotes it could read differently"
    else:
        assert "error" in fast or len(fast["lotes_arrow"]) > 1, "the native reader must have read this file"
    assert fast.keys() == python.keys()
    if "error" in python:
        assert fast["error"] == python["error"]
        return
    assert fast["report"] == python["report"]
    assert fast["extraido"].equals(python["extraido"])
    assert fast["extraido"].schema.equals(python["extraido"].schema, check_metadata=True)
    assert fast["filas"].equals(python["filas"])


@pytest.mark.parametrize("name", [*CASES, *QUOTED_CASES])
def test_one_pass_gives_what_two_passes_give(name, tmp_path, monkeypatch):
    """A file's numbers are read in the same pass with the convention of its first chunk (tiny
    here); the two-pass path of query results is the reference."""
    content, fuente = {**CASES, **QUOTED_CASES}[name]
    one = _extract(tmp_path, name, content, fuente, nativo=True, monkeypatch=monkeypatch)
    two = _extract(tmp_path, name, content, fuente, nativo=True, monkeypatch=monkeypatch, dos_pasadas=True)
    assert one.keys() == two.keys()
    if "error" in two:
        assert one["error"] == two["error"]
        return
    assert one["report"] == two["report"]
    assert one["extraido"].equals(two["extraido"])
    assert one["extraido"].schema.equals(two["extraido"].schema, check_metadata=True)
    assert one["filas"].equals(two["filas"])


def test_a_first_chunk_in_the_other_convention_reads_the_file_again(tmp_path, monkeypatch):
    """The first 60 records write ``1234.5`` (decimal point), the other 340 ``1.234,5``: the
    first chunk's guess is wrong for the column, so the archived file is read again with the
    column's convention and the 60 records are named as the other format, as with two passes."""
    body = [[*r[:4], r[4].replace(".", "").replace(",", "."), *r[5:]] if i < 60 else r for i, r in enumerate(BODY)]
    content = _lines([HEADERS, *body]).encode("cp1252")
    opened = []
    parse_file = extract._parse_file
    monkeypatch.setattr(extract, "_parse_file", lambda *a, **k: opened.append(1) or parse_file(*a, **k))
    one = _extract(tmp_path, "mezcla", content, {}, nativo=True, monkeypatch=monkeypatch)
    assert len(opened) == 2  # read again
    two = _extract(tmp_path, "mezcla", content, {}, nativo=True, monkeypatch=monkeypatch, dos_pasadas=True)
    assert one["error"] == two["error"]
    assert one["error"][2] == list(range(2, 22))  # the first 20 of the 60 records, by source row
    assert "60" in one["error"][1]


def test_native_reader_hands_over_after_delivering_batches(tmp_path, monkeypatch):
    """A ragged record two thirds into the file: Arrow delivered batches before it stopped."""
    content, fuente = CASES["fila_irregular_a_mitad"]
    fast = _extract(tmp_path, "irregular", content, fuente, nativo=True, monkeypatch=monkeypatch)
    assert sum(fast["lotes_arrow"]) < 400 < sum(fast["lotes_arrow"]) + 400
    assert fast["extraido"].num_rows == 400
    assert fast["filas"].column("fila").to_pylist() == list(range(2, 402))


def test_quoted_values_keep_their_separators_and_doubled_quotes(tmp_path, monkeypatch):
    content, fuente = QUOTED_CASES["comillas_en_algunos_valores"]
    fast = _extract(tmp_path, "citado", content, fuente, nativo=True, monkeypatch=monkeypatch)
    assert len(fast["lotes_arrow"]) > 1
    assert fast["extraido"].column("id_registro").to_pylist() == list(range(1, 401))
    assert fast["extraido"].column("valor").to_pylist()[:2] == [1234.51, 2234.52]


def test_the_archive_pass_flags_nul_bytes_and_where_quotes_sit(tmp_path):
    """Python's strict reader refuses ``"abc"def``; Arrow would read it as ``abcdef``."""
    from casanare.extract.archive import archive_source

    area = RunArea((tmp_path / "s").as_uri(), "x", "r")
    for name, content, nul, arrow in (
        ("a.csv", b'a;b\n"x"y;1\n', False, False),
        ("b.csv", b"a;b\nx\x00;1\n", True, True),
        ("c.csv", b"a;b\nx;1\n", False, True),
        ("d.csv", b'\xef\xbb\xbf"a";"b"\r\n"x;""y""";""\r\n"z"', False, True),
        ("e.csv", b'a;b\n"x\ny";1\n', False, False),
        ("f.csv", b'a;b\nx;"1\n', False, False),
    ):
        (tmp_path / name).write_bytes(content)
        archived = archive_source(tmp_path / name, area, name)
        assert archived.comillas.hay == (b'"' in content)
        assert (archived.nul, archived.comillas.legibles_por_arrow(";")) == (nul, arrow), name
    assert not archived.comillas.legibles_por_arrow(",")



def test_an_empty_result_known_in_one_pass_still_leaves_empty_files(tmp_path):
    """A source with no numeric column needs no second pass; an empty incremental window must
    still leave ``extraido.parquet`` and ``filas_origen.parquet`` (with no rows) for the next stages."""
    from casanare.extract.table import RawTable

    base = dataset(ruta="no_se_usa.csv")
    texts = base.model_copy(update={"columnas": [c for c in base.columnas if c.tipo == "texto"]})
    area = RunArea((tmp_path / "s").as_uri(), texts.slug, "vacio")
    report = {"advertencias": []}
    table = RawTable(headers=[c.alias[0] if c.alias else c.nombre for c in texts.columnas], chunks=iter([]),
                     first_data_row=1, archivo="consulta.sql")
    assert extract._write_typed(table, texts, area, report, allow_empty=True) == 0
    extracted = pq.read_table(area.local_path("extraido.parquet"))
    assert extracted.num_rows == 0 and extracted.column_names == [c.nombre for c in texts.columnas]
    assert pq.read_table(area.local_path("filas_origen.parquet")).num_rows == 0
