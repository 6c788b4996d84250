"""SQL extraction on the machine's real PostgreSQL and MariaDB servers, and on SQLite.

Each test loads its own small table, so nothing depends on the shared sample sources.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from casanare.catalog import Dataset
from casanare.errors import ArchivoConErrores, BaseDeDatosNoDisponible, ErrorDeConfiguracion
from casanare.extract import extraer
from casanare.extract.sql import read_sql
from casanare.staging import RunArea
from tests.malformed_corpus import dataset

pytestmark = pytest.mark.integration
FILAS = 5_000
INICIO = datetime(2026, 1, 1)
QUERY = """-- contratos de prueba; :desde y :hasta son el intervalo de la corrida
SELECT id AS id_registro, documento, nombre, municipio, valor, fecha, vacunado
FROM contrato_prueba
WHERE actualizado >= :desde AND actualizado < :hasta
ORDER BY id
"""


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fuente.sqlite'}"
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def include(tmp_path, monkeypatch):
    inc = tmp_path / "include"
    (inc / "sql").mkdir(parents=True)
    (inc / "sql" / "prueba_extraccion.sql").write_text(QUERY, encoding="utf-8")
    monkeypatch.setenv("CASANARE_INCLUDE_DIR", str(inc))
    return inc


def load_table(url: str, filas: int = FILAS) -> None:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table(
        "contrato_prueba", meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("documento", sa.String(20)), sa.Column("nombre", sa.String(80)),
        sa.Column("municipio", sa.String(5)), sa.Column("valor", sa.Numeric(14, 2)),
        sa.Column("fecha", sa.Date), sa.Column("vacunado", sa.Boolean), sa.Column("actualizado", sa.DateTime),
    )
    with engine.begin() as conn:
        meta.drop_all(conn)
        meta.create_all(conn)
        conn.execute(table.insert(), [
            {"id": i, "documento": f"10{i:08d}", "nombre": f"CONTRATISTA FICTICIO Ñ {i}", "municipio": "85001",
             "valor": Decimal(f"{i}.25"), "fecha": date(2026, 1, 1) + timedelta(days=i % 300),
             "vacunado": i % 2 == 0, "actualizado": INICIO + timedelta(hours=i)}
            for i in range(1, filas + 1)
        ])
    engine.dispose()


def sql_dataset(**fuente) -> Dataset:
    base = dataset(ruta="no_se_usa.csv").model_dump()
    base["fuente"] = {"tipo": "sql", "conexion": "fuente_prueba", "tamano_lote": 1000, **fuente}
    return Dataset.model_validate(base)


def test_full_load_is_typed_and_streamed(url, include, tmp_path):
    load_table(url)
    ds = sql_dataset(incremental=False)
    area = RunArea((tmp_path / "staging").as_uri(), ds.slug, "r1")
    report = extraer(ds, area, sql_url=url)
    assert report["filas"] == FILAS and report["formato"] == "sql"
    frame = area.read_parquet("extraido.parquet")
    assert frame["id_registro"].tolist() == list(range(1, FILAS + 1))
    assert frame["valor"].iloc[9] == pytest.approx(10.25)
    assert frame["nombre"].iloc[0] == "CONTRATISTA FICTICIO Ñ 1"
    assert frame["fecha"].iloc[0] == datetime(2026, 1, 2)
    assert frame["vacunado"].tolist()[:2] == [False, True]
    assert report["original"] == area.path("extraido.parquet")
    # The result is the archive: same content, same hash, "sin cambios".
    again = extraer(ds, RunArea((tmp_path / "staging").as_uri(), ds.slug, "r2"), sql_url=url,
                    hash_anterior=report["sha256"])
    assert again["sin_cambios"] is True
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE contrato_prueba SET municipio = '85010' WHERE id = 77"))
    engine.dispose()
    changed = extraer(ds, RunArea((tmp_path / "staging").as_uri(), ds.slug, "r3"), sql_url=url,
                      hash_anterior=report["sha256"])
    assert changed["sin_cambios"] is False


def test_rows_arrive_in_chunks_of_the_declared_size(url, include):
    load_table(url)
    table = read_sql(url, include / "sql" / "prueba_extraccion.sql", desde=None, hasta=None, chunk_rows=1000)
    sizes = [len(chunk) for chunk in table.chunks]
    assert sizes == [1000] * (FILAS // 1000)


def test_incremental_binds_the_run_interval(url, include, tmp_path):
    load_table(url)
    ds = sql_dataset(incremental=True)
    assert ds.fuente.zona_horaria == "America/Bogota"
    # Aware bounds (as Airflow passes them, in UTC) are compared as Colombian wall-clock time
    # with the naive source column: 100 h after INICIO in Bogotá is 105 h after it in UTC.
    desde = (INICIO + timedelta(hours=105)).replace(tzinfo=UTC)
    hasta = (INICIO + timedelta(hours=255)).replace(tzinfo=UTC)
    area = RunArea((tmp_path / "staging").as_uri(), ds.slug, "inc")
    report = extraer(ds, area, sql_url=url, desde=desde, hasta=hasta)
    frame = area.read_parquet("extraido.parquet")
    assert report["incremental"] is True
    assert frame["id_registro"].tolist() == list(range(100, 250))
    # A source that writes UTC declares it, and the same bounds then select five hours later.
    utc = sql_dataset(incremental=True, zona_horaria="UTC")
    shifted = extraer(utc, RunArea((tmp_path / "staging").as_uri(), utc.slug, "utc"), sql_url=url, desde=desde,
                      hasta=hasta)
    assert shifted["filas"] == 150
    assert RunArea((tmp_path / "staging").as_uri(), utc.slug, "utc").read_parquet(
        "extraido.parquet")["id_registro"].tolist() == list(range(105, 255))
    first = extraer(ds, RunArea((tmp_path / "staging").as_uri(), ds.slug, "first"), sql_url=url, desde=None,
                    hasta=hasta)
    assert first["filas"] == 249  # first run: everything before the end of the interval


def test_empty_incremental_window_is_not_an_error_but_empty_full_load_is(url, include, tmp_path):
    load_table(url, filas=20)
    staging = (tmp_path / "staging").as_uri()
    window = {"desde": INICIO + timedelta(days=400), "hasta": INICIO + timedelta(days=401)}
    ds = sql_dataset(incremental=True)
    report = extraer(ds, RunArea(staging, ds.slug, "vacio"), sql_url=url, **window)
    assert report["filas"] == 0 and report["advertencias"]
    full = sql_dataset(incremental=False)
    (include / "sql" / "prueba_extraccion.sql").write_text(QUERY.replace(":desde", "'2999-01-01'"), encoding="utf-8")
    with pytest.raises(ArchivoConErrores) as info:
        extraer(full, RunArea(staging, ds.slug, "vacio2"), sql_url=url)
    assert "no tiene filas de datos" in info.value.mensaje
    assert info.value.ubicacion.filas == []


def test_missing_required_column_in_query_result(url, include, tmp_path):
    load_table(url, filas=5)
    (include / "sql" / "prueba_extraccion.sql").write_text(
        "SELECT id AS id_registro, documento FROM contrato_prueba", encoding="utf-8")
    ds = sql_dataset()
    with pytest.raises(ArchivoConErrores) as info:
        extraer(ds, RunArea((tmp_path / "staging").as_uri(), ds.slug, "m"), sql_url=url)
    assert info.value.ubicacion.columna == "municipio"
    assert info.value.ubicacion.archivo == "prueba_extraccion.sql" and info.value.ubicacion.filas == []


def test_database_unreachable_is_transient(include, tmp_path):
    ds = sql_dataset()
    area = RunArea((tmp_path / "staging").as_uri(), ds.slug, "x")
    for bad in ("postgresql+psycopg2://postgres@127.0.0.1:1/test", "mysql+pymysql://root@127.0.0.1:1/test"):
        with pytest.raises(BaseDeDatosNoDisponible) as info:
            extraer(ds, area, sql_url=bad)
        assert info.value.transitoria is True
        assert info.value.ubicacion.archivo == "prueba_extraccion.sql"
        assert "No fue posible conectarse" in info.value.mensaje
        assert "127.0.0.1" not in str(info.value.as_dict())


@pytest.mark.parametrize("query", [
    "SELECT id AS id_registro, columna_renombrada FROM contrato_prueba",
    "SELECT id AS id_registro FROM tabla_que_no_existe",
    "SELEC mal escrito",
])
def test_sql_error_names_the_query_and_hides_the_server_message(url, include, tmp_path, query):
    load_table(url, filas=10)
    (include / "sql" / "prueba_extraccion.sql").write_text(query, encoding="utf-8")
    ds = sql_dataset()
    with pytest.raises(ArchivoConErrores) as info:
        extraer(ds, RunArea((tmp_path / "staging").as_uri(), ds.slug, "e"), sql_url=url)
    exc = info.value
    assert exc.mensaje == "La consulta SQL del conjunto falló en la base de datos de origen."
    assert exc.ubicacion.archivo == "prueba_extraccion.sql"
    assert "include/sql/prueba_extraccion.sql" in exc.como_corregir
    assert "columna_renombrada" not in str(exc.as_dict()) and "tabla_que_no_existe" not in str(exc.as_dict())


def test_bad_value_from_the_database_is_reported_by_record(url, include, tmp_path):
    load_table(url, filas=30)
    (include / "sql" / "prueba_extraccion.sql").write_text(
        "SELECT id AS id_registro, documento, nombre, "
        "CASE WHEN id IN (7, 12) THEN 'N/D' ELSE municipio END AS municipio, "
        "CASE WHEN id = 12 THEN 'doce' ELSE nombre END AS fecha FROM contrato_prueba ORDER BY id",
        encoding="utf-8",
    )
    ds = sql_dataset()
    with pytest.raises(ArchivoConErrores) as info:
        extraer(ds, RunArea((tmp_path / "staging").as_uri(), ds.slug, "v"), sql_url=url)
    assert info.value.ubicacion.columna == "fecha"
    assert info.value.ubicacion.filas[:3] == [1, 2, 3]  # record numbers of the result
    assert "CONTRATISTA" not in str(info.value) and "doce" not in str(info.value)


def test_unknown_bind_parameter_is_a_configuration_error(include, tmp_path):
    (include / "sql" / "prueba_extraccion.sql").write_text("SELECT 1 AS id_registro WHERE 1 = :anio", encoding="utf-8")
    ds = sql_dataset()
    with pytest.raises(ErrorDeConfiguracion) as info:
        extraer(ds, RunArea((tmp_path / "staging").as_uri(), ds.slug, "p"), sql_url=f"sqlite:///{tmp_path}/x.db")
    assert ":anio" in info.value.mensaje


@pytest.mark.parametrize("server", ["postgres", "mariadb"])
def test_sample_sql_sources_extract_on_real_servers(server, request, tmp_path, monkeypatch):
    """The sample catalog's SQL datasets, loaded by the sample generator into the real servers."""
    from casanare.catalog import FuenteSQL, load_catalog
    from scripts.generar_fuentes import generar

    url = request.getfixturevalue(f"{server}_url")
    datasets = [d for d in load_catalog().priorizados if isinstance(d.fuente, FuenteSQL)]
    assert datasets
    generar(tmp_path / "fuentes", filas=200, semilla=11, solo={d.slug for d in datasets},
            sql_urls={d.fuente.conexion: url for d in datasets})
    for ds in datasets:
        area = RunArea((tmp_path / "staging").as_uri(), ds.slug, server)
        report = extraer(ds, area, sql_url=url, hasta=datetime.now(UTC))
        assert report["filas"] > 0, ds.slug
        frame = area.read_parquet("extraido.parquet")
        assert list(frame.columns) == [c.nombre for c in ds.columnas]
