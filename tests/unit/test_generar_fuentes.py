"""The synthetic source generator and the catalog entries it feeds."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from casanare.catalog import FuenteArchivo, FuenteSQL, load_catalog
from scripts import generar_fuentes as gf

pytestmark = pytest.mark.unit

FILAS = 300
AHORA = datetime(2026, 10, 15, 9, 30)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fuentes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    destino = tmp_path_factory.mktemp("fuentes")
    return destino, gf.generar(destino, filas=FILAS, semilla=2026, ahora=AHORA)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leer(destino: Path, slug: str) -> pd.DataFrame:
    """Read a generated source the way the catalog describes it (header row, sheet, encoding)."""
    ds = load_catalog().get(slug)
    fuente = ds.fuente
    if isinstance(fuente, FuenteSQL):
        from sqlalchemy import create_engine, text

        engine = create_engine(f"sqlite:///{destino / gf.RUTAS[slug]}")
        params = {"desde": datetime(1900, 1, 1), "hasta": datetime(9999, 12, 31)} if fuente.incremental else {}
        with engine.connect() as conn:
            frame = pd.read_sql(text(ds.ruta_sql().read_text(encoding="utf-8")), conn, params=params)
        engine.dispose()
        return frame
    assert isinstance(fuente, FuenteArchivo)
    ruta = destino / fuente.ruta
    if fuente.formato_efectivo == "csv":
        return pd.read_csv(ruta, encoding=fuente.codificacion, sep=fuente.delimitador, dtype=str)
    fila = (fuente.fila_encabezado or 1) - 1
    if fuente.filas_encabezado == 1:
        return pd.read_excel(ruta, sheet_name=fuente.hoja, header=fila, engine="calamine")
    # Two-row header: the lower cell names the column; a vertically merged cell leaves it empty.
    crudo = pd.read_excel(ruta, sheet_name=fuente.hoja, header=None, engine="calamine")
    grupos, subtitulos = crudo.iloc[fila].ffill(), crudo.iloc[fila + 1]
    datos = crudo.iloc[fila + 2 :].reset_index(drop=True)
    datos.columns = [str(b) if pd.notna(b) and str(b) else str(a) for a, b in zip(grupos, subtitulos, strict=True)]
    return datos


def _nombres_fuente(ds) -> dict[str, str]:
    """Header in the source -> catalog column name."""
    mapa = {}
    for col in ds.columnas:
        for h in (col.nombre, *col.alias):
            mapa[h] = col.nombre
    return mapa


# Catalog ---------------------------------------------------------------------------------------


def test_catalogo_completo() -> None:
    catalog = load_catalog()
    priorizados = catalog.priorizados
    assert len(priorizados) == 8
    assert len([d for d in catalog.datasets if not d.priorizado]) >= 2
    assert len({d.dependencia for d in priorizados}) >= 6
    frecuencias = {d.frecuencia_actualizacion for d in priorizados}
    assert {"diaria", "mensual", "trimestral", "semestral", "anual", "eventual"} <= frecuencias
    assert {d.slug for d in priorizados} == set(gf.CONJUNTOS)
    modos = {d.datos_gov_co.modo_efectivo for d in priorizados}
    assert {"incremental", "reemplazo"} <= modos
    for d in priorizados:
        if isinstance(d.fuente, FuenteSQL):
            assert d.fuente.conexion == gf.CONEXIONES[d.slug]
            assert d.ruta_sql().is_file()
        else:
            assert d.fuente.ruta == gf.RUTAS[d.slug]


def test_catalogo_archivos_empiezan_con_schema() -> None:
    for path in sorted((ROOT / "include" / "catalog").glob("*.yaml")):
        assert path.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=schema.json"), path.name


def test_suites_usan_columnas_publicadas() -> None:
    severidades = []
    for ds in load_catalog().priorizados:
        suite = json.loads(ds.ruta_suite().read_text(encoding="utf-8"))
        assert suite["name"] == ds.slug
        assert 3 <= len(suite["expectations"]) <= 6, ds.slug
        publicadas = {c.nombre_salida for c in ds.columnas_publicadas}
        for exp in suite["expectations"]:
            kwargs = exp["kwargs"]
            columnas = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
            columnas += kwargs.get("column_list", [])
            assert set(columnas) <= publicadas, (ds.slug, exp["type"], columnas)
            assert exp["severity"] in {"critical", "warning"}
            severidades.append(exp["severity"])
    assert "warning" in severidades


def test_sql_sin_parametros_en_comentarios() -> None:
    """SQLAlchemy text() takes ':name' inside comments as a bind parameter too."""
    for path in (ROOT / "include" / "sql").glob("*.sql"):
        for linea in path.read_text(encoding="utf-8").splitlines():
            if linea.strip().startswith("--"):
                assert not re.search(r"(?<![:\w]):[a-z_]+", linea), (path.name, linea)


def test_lista_de_nombres() -> None:
    ruta = ROOT / "include" / "reference" / "nombres_colombianos.txt"
    nombres = ruta.read_text(encoding="utf-8").splitlines()
    assert len(nombres) >= 300
    assert len(nombres) == len(set(nombres))
    assert all(n and n == n.upper() and n == n.strip() for n in nombres)
    assert set(gf.nombres_de_referencia()) <= set(nombres)


# Generated sources ---------------------------------------------------------------------------


def test_genera_todas_las_fuentes(fuentes) -> None:
    destino, rutas = fuentes
    assert set(rutas) == set(gf.CONJUNTOS)
    for slug, ruta in rutas.items():
        assert ruta.is_file() and ruta.stat().st_size > 0, slug
        assert ruta == destino / gf.RUTAS[slug]


@pytest.mark.parametrize("slug", gf.CONJUNTOS)
def test_cada_fuente_se_lee_con_sus_columnas(fuentes, slug) -> None:
    destino, _ = fuentes
    ds = load_catalog().get(slug)
    frame = _leer(destino, slug)
    assert len(frame) == FILAS
    mapa = _nombres_fuente(ds)
    encontradas = {mapa[c] for c in frame.columns if c in mapa}
    assert encontradas == {c.nombre for c in ds.columnas}, set(frame.columns)
    frame = frame.rename(columns=mapa)
    row_id = ds.datos_gov_co.identificador_fila
    if row_id:
        assert frame[row_id].is_unique
    for col in ds.columnas:
        if col.requerido:
            assert frame[col.nombre].notna().all(), col.nombre
    if "codigo_municipio" in frame:
        divipola = set(pd.read_csv(ROOT / "include" / "reference" / "divipola_casanare.csv", dtype=str).codigo_municipio)
        assert set(frame["codigo_municipio"].astype(str)) <= divipola


def test_vacunacion_encabezado_combinado(fuentes) -> None:
    from openpyxl import load_workbook

    destino, _ = fuentes
    wb = load_workbook(destino / gf.RUTAS["vacunacion_pai"], read_only=False)
    ws = wb["Vacunados"]
    rangos = {str(r) for r in ws.merged_cells.ranges}
    assert "B4:J4" in rangos  # "Datos del paciente"
    assert "K4:N4" in rangos  # "Aplicación"
    assert "O4:O5" in rangos  # "Código municipio" combinado en vertical
    assert ws["B4"].value == "Datos del paciente" and ws["C5"].value == "Número documento"
    assert ws["A6"].value == "PAI-0000001"


def test_presupuesto_formato_colombiano(fuentes) -> None:
    destino, _ = fuentes
    ruta = destino / gf.RUTAS["ejecucion_presupuestal_gastos"]
    texto = ruta.read_bytes().decode("cp1252")
    assert "Apropiación" in texto.splitlines()[0]
    frame = pd.read_csv(ruta, encoding="cp1252", sep=";", thousands=".", decimal=",")
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*,\d{2}", texto.splitlines()[1].split(";")[6])
    assert (frame["Apropiación definitiva"] >= frame["Compromisos"]).all()
    assert (frame["Compromisos"] >= frame["Obligaciones"]).all()
    assert (frame["Obligaciones"] >= frame["Pagos"]).all()


def test_valores_realistas(fuentes) -> None:
    from stdnum.co import nit

    destino, _ = fuentes
    contratos = _leer(destino, "contratos_gobernacion")
    nits = contratos.loc[contratos.tipo_documento_contratista == "NIT", "documento_contratista"]
    assert len(nits) > 0 and all(nit.is_valid(v) for v in nits)
    assert contratos.objeto.str.contains(r"3\d{9}|@|cédula \d", regex=True).any()
    pqrsd = _leer(destino, "pqrsd_atencion_ciudadano")
    telefonos = pqrsd["Teléfono"].dropna()
    assert telefonos.str.fullmatch(r"3\d{9}").all()
    assert pqrsd["Correo electrónico"].dropna().str.fullmatch(r"[a-z0-9._]+@[a-z.]+\.[a-z]{2,3}").all()
    assert pd.to_datetime(pqrsd["Fecha de radicación"]).max().date() <= gf.FECHA_CORTE
    emergencias = _leer(destino, "emergencias_gestion_riesgo")
    assert emergencias.Latitud.between(4.2, 6.4).all() and emergencias.Longitud.between(-73.1, -69.8).all()
    assert (emergencias["Personas afectadas"] >= emergencias["Familias afectadas"]).all()
    matricula = _leer(destino, "matricula_escolar")
    assert matricula.numero_documento.str.fullmatch(r"\d{10,11}").all()
    assert matricula.grado.between(0, 11).all()


def test_personas_compartidas_entre_conjuntos(fuentes) -> None:
    destino, _ = fuentes
    vacunados = set(_leer(destino, "vacunacion_pai")["Número documento"].astype(str))
    peticionarios = set(_leer(destino, "pqrsd_atencion_ciudadano")["Documento del peticionario"].dropna())
    contratistas = set(_leer(destino, "contratos_gobernacion").documento_contratista)
    estudiantes = set(_leer(destino, "matricula_escolar").numero_documento)
    compartidos = (vacunados & (peticionarios | estudiantes)) | (peticionarios & contratistas)
    assert compartidos


def test_contratos_incremental_siempre_tiene_filas_recientes(fuentes) -> None:
    """A run whose interval ends now (UTC, as the extractor passes it) finds fresh rows."""
    from sqlalchemy import create_engine, text

    destino, _ = fuentes
    consulta = text((ROOT / "include" / "sql" / "contratos_gobernacion.sql").read_text(encoding="utf-8"))
    engine = create_engine(f"sqlite:///{destino / gf.RUTAS['contratos_gobernacion']}")
    hasta_utc = (AHORA + timedelta(hours=5)).replace(tzinfo=UTC)
    with engine.connect() as conn:
        dia = conn.execute(consulta, {"desde": AHORA - timedelta(days=1), "hasta": AHORA}).fetchall()
        hoy = conn.execute(
            consulta, {"desde": AHORA.replace(hour=0, minute=0), "hasta": AHORA.replace(hour=23, minute=59)}
        ).fetchall()
        aware = conn.execute(consulta, {"desde": datetime(1900, 1, 1, tzinfo=UTC), "hasta": hasta_utc}).fetchall()
        nada = conn.execute(consulta, {"desde": AHORA, "hasta": AHORA + timedelta(days=1)}).fetchall()
    engine.dispose()
    assert dia and hoy
    assert len(aware) == FILAS
    assert not nada  # nothing is dated after "ahora"


def test_identificadores_originales(fuentes) -> None:
    destino, _ = fuentes
    ids = gf.identificadores_originales(destino)
    pqrsd = _leer(destino, "pqrsd_atencion_ciudadano")
    fila = pqrsd.dropna(subset=["Documento del peticionario", "Correo electrónico", "Teléfono"]).iloc[0]
    for columna in ("Documento del peticionario", "Correo electrónico", "Teléfono", "Nombre del peticionario"):
        assert fila[columna] in ids
    assert not ids & set(gf.NOMBRES_MUJER + gf.NOMBRES_HOMBRE)  # no lone given names
    incrustados = re.findall(r"3\d{9}|\S+@\S+\.\w+", " ".join(_leer(destino, "contratos_gobernacion").objeto))
    assert all(v in ids for v in incrustados)
    assert "ANÓNIMO" not in ids and "" not in ids


# Determinism and options -----------------------------------------------------------------------

CSVS = {"ejecucion_presupuestal_gastos", "pqrsd_atencion_ciudadano"}


def test_determinista_misma_semilla(tmp_path: Path) -> None:
    a = gf.generar(tmp_path / "a", filas=200, semilla=11, solo=CSVS | {"contratos_gobernacion"}, ahora=AHORA)
    b = gf.generar(tmp_path / "b", filas=200, semilla=11, solo=CSVS | {"contratos_gobernacion"}, ahora=AHORA)
    for slug in CSVS:
        assert _sha(a[slug]) == _sha(b[slug]), slug

    def volcado(path: Path) -> list[tuple]:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT * FROM contrato ORDER BY numero_contrato").fetchall()

    assert volcado(a["contratos_gobernacion"]) == volcado(b["contratos_gobernacion"])


def test_semilla_distinta_cambia_los_datos(tmp_path: Path) -> None:
    a = gf.generar(tmp_path / "a", filas=200, semilla=11, solo=CSVS)
    b = gf.generar(tmp_path / "b", filas=200, semilla=12, solo=CSVS)
    for slug in CSVS:
        assert _sha(a[slug]) != _sha(b[slug]), slug


def test_solo_no_cambia_los_demas(tmp_path: Path, fuentes) -> None:
    destino, _ = fuentes
    rutas = gf.generar(tmp_path, filas=FILAS, semilla=2026, solo={"pqrsd_atencion_ciudadano"})
    assert set(rutas) == {"pqrsd_atencion_ciudadano"}
    assert _sha(rutas["pqrsd_atencion_ciudadano"]) == _sha(destino / gf.RUTAS["pqrsd_atencion_ciudadano"])


def test_argumentos_invalidos(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="desconocidos"):
        gf.generar(tmp_path, solo={"no_existe"})
    with pytest.raises(ValueError, match="conexiones desconocidas"):
        gf.generar(tmp_path, solo={"contratos_gobernacion"}, sql_urls={"otra": "sqlite://"})


def test_sql_url_carga_otra_base(tmp_path: Path) -> None:
    """sql_urls loads the same tables into another SQLAlchemy URL (drop + create each time)."""
    otra = tmp_path / "otra.sqlite"
    url = f"sqlite:///{otra}"
    for filas in (120, 60):
        gf.generar(tmp_path / "f", filas=filas, semilla=3, solo={"matricula_escolar"}, sql_urls={"fuente_simat": url})
        with sqlite3.connect(otra) as conn:
            assert conn.execute("SELECT COUNT(*) FROM matricula").fetchone() == (filas,)
            assert conn.execute("SELECT COUNT(*) FROM sede").fetchone()[0] > 19


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    codigo = gf.main(
        ["--destino", str(tmp_path), "--filas", "60", "--semilla", "5", "--personas", "300",
         "--solo", "red_vial_departamental,produccion_agropecuaria"]
    )
    assert codigo == 0
    assert "2 fuentes" in capsys.readouterr().out
    with (tmp_path / gf.RUTAS["red_vial_departamental"]).open("rb") as fh:
        assert fh.read(2) == b"PK"
    assert gf.main(["--destino", str(tmp_path), "--sql-url", "sin_igual"]) == 2


def test_pqrsd_csv_con_comillas(fuentes) -> None:
    destino, _ = fuentes
    with (destino / gf.RUTAS["pqrsd_atencion_ciudadano"]).open(encoding="utf-8", newline="") as fh:
        primera = fh.readline()
        fh.seek(0)
        filas = list(csv.reader(fh))
    assert primera.startswith('"Radicado","Fecha de radicación"')
    assert len(filas) == FILAS + 1
