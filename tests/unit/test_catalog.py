"""Catalog validation: every kind of bad field names the file, the field and the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from casanare.catalog import (
    CRON_POR_FRECUENCIA,
    CatalogError,
    json_schema,
    load_catalog,
    load_dataset,
)

pytestmark = pytest.mark.unit
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "catalogo_valido.yaml"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def include(tmp_path, monkeypatch):
    """A private include/ with one valid dataset, so tests can break it."""
    inc = tmp_path / "include"
    (inc / "catalog").mkdir(parents=True)
    (inc / "expectations").mkdir()
    (inc / "sql").mkdir()
    (inc / "expectations" / "prueba_csv.json").write_text('{"name": "prueba_csv", "expectations": []}')
    monkeypatch.setenv("CASANARE_INCLUDE_DIR", str(inc))
    return inc


def write(include: Path, data: dict, name: str = "prueba_csv") -> Path:
    path = include / "catalog" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def base() -> dict:
    return yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))


def test_valid_fixture_loads(include):
    ds = load_dataset(write(include, base()))
    assert ds.slug == "prueba_csv"
    assert [c.nombre_salida for c in ds.columnas_publicadas] == [
        "id_registro", "id_persona", "edad", "codigo_municipio", "valor", "fecha"
    ]
    assert ds.datos_gov_co.modo_efectivo == "incremental"
    assert "datos-personales" in ds.etiquetas_airflow()


def mutate(data: dict, dotted: str, value) -> dict:
    node = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    if value is DELETE:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return data


DELETE = object()

BAD_FIELDS = [
    # (mutation path, new value, field named in the error, words expected in the message)
    ("nombre", DELETE, "nombre", "obligatorio"),
    ("frecuencia_actualizacion", "quincenal", "frecuencia_actualizacion", "no permitido"),
    ("categoria", "Salud", "categoria", "no permitido"),
    ("contactos", ["no-es-correo"], "contactos", ""),
    ("priorizado", "tal vez", "priorizado", "sí/no"),
    ("campo_inventado", 1, "campo_inventado", "no permitido"),
    ("columnas.1.clasificacion", "secreta", "columnas[cedula].clasificacion", "no permitido"),
    ("columnas.1.tipo", "numero", "columnas[cedula].tipo", "no permitido"),
    ("columnas.2.regla", "publicar", "columnas[nombre]", "no puede publicarse tal cual"),
    ("columnas.3.regla", {"accion": "generalizar"}, "columnas[edad].regla", "metodo"),
    ("columnas.0.nombre", "Id Registro", "columnas[Id Registro].nombre", "formato"),
    ("datos_gov_co.dataset_id", "abc", "datos_gov_co.dataset_id", "formato"),
    ("datos_gov_co.identificador_fila", "nombre", "(raíz)", "no es una columna publicada"),
    ("fuente.tipo", "ftp", "fuente", "tipo de fuente"),
    ("fuente.hojita", "x", "fuente.hojita", "no permitido"),
]


@pytest.mark.parametrize(("path", "value", "field", "words"), BAD_FIELDS, ids=[b[0] for b in BAD_FIELDS])
def test_bad_field_names_file_and_field(include, path, value, field, words):
    file = write(include, mutate(base(), path, value))
    with pytest.raises(CatalogError) as info:
        load_dataset(file)
    message = str(info.value)
    assert "prueba_csv.yaml" in message
    assert f"campo '{field}" in message, message
    assert words in message
    assert "línea" in message


def test_reserved_column_cannot_be_published(include):
    data = mutate(base(), "columnas.1.clasificacion", "reservada")
    with pytest.raises(CatalogError, match="reservada y solo admite la regla 'eliminar'"):
        load_dataset(write(include, data))


def test_slug_must_match_file_name(include):
    file = write(include, base(), name="otro_nombre")
    with pytest.raises(CatalogError, match=r"campo 'slug'.*debe ser igual"):
        load_dataset(file)


def test_missing_suite_is_reported(include):
    (include / "expectations" / "prueba_csv.json").unlink()
    with pytest.raises(CatalogError, match=r"calidad\.suite.*no existe la suite"):
        load_dataset(write(include, base()))


def test_broken_yaml_reports_line(include):
    path = include / "catalog" / "prueba_csv.yaml"
    path.write_text("slug: prueba_csv\nnombre: [sin cerrar\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"línea \d+.*YAML mal formado|YAML mal formado"):
        load_dataset(path)


def test_duplicate_dataset_ids_rejected(include):
    write(include, base())
    other = base()
    other["slug"] = "prueba_dos"
    write(include, other, name="prueba_dos")
    (include / "expectations" / "prueba_dos.json").write_text('{"name": "x", "expectations": []}')
    with pytest.raises(CatalogError, match="ya lo usa el conjunto"):
        load_catalog(include / "catalog")


def test_committed_json_schema_is_current():
    committed = json.loads((ROOT / "include" / "catalog" / "schema.json").read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(json_schema(), ensure_ascii=False)), "ejecute `make schema`"


def test_every_plan_frequency_has_a_schedule():
    assert CRON_POR_FRECUENCIA["trimestral"] == "0 6 1 1,4,7,10 *"
    assert CRON_POR_FRECUENCIA["semestral"] == "0 6 1 1,7 *"
    assert CRON_POR_FRECUENCIA["anual"] == "0 6 1 1 *"
    assert CRON_POR_FRECUENCIA["eventual"] is None


# Quasi-identifier rules ---------------------------------------------------------------------------

def _column(nombre: str, **extra) -> dict:
    return {"nombre": nombre, "tipo": "texto", "descripcion": "Columna de prueba", "clasificacion": "publica",
            "regla": "publicar", **extra}


@pytest.mark.parametrize("nombre", ["grado", "tipo_documento", "sexo", "pertenencia_etnica", "regimen_salud"])
def test_a_published_column_that_describes_a_person_must_declare_it(include, nombre):
    data = base()
    data["columnas"].append(_column(nombre))
    file = write(include, data)
    with pytest.raises(CatalogError) as info:
        load_dataset(file)
    message = str(info.value)
    assert "prueba_csv.yaml" in message and f"columnas[{nombre}]" in message and "línea" in message
    assert "dato_personal" in message and "cuasi_identificadores" in message


@pytest.mark.parametrize("kind", ["sexo", "revela_edad", "etnia", "discapacidad", "regimen_salud", "municipio"])
def test_a_person_attribute_outside_the_quasi_identifiers_is_refused(include, kind):
    data = base()
    data["columnas"].append(_column("atributo", dato_personal=kind))
    with pytest.raises(CatalogError, match=r"columnas\[atributo\].*no es cuasi-identificador"):
        load_dataset(write(include, data))
    # Declared as a quasi-identifier, removed, or published under a legal basis: accepted.
    data["microdatos"]["cuasi_identificadores"].append("atributo")
    assert "atributo" in load_dataset(write(include, data)).columnas_k
    data["microdatos"]["cuasi_identificadores"].remove("atributo")
    data["columnas"][-1]["regla"] = "eliminar"
    load_dataset(write(include, data))


def test_a_published_person_pseudonym_needs_microdata(include):
    data = base()
    del data["microdatos"]
    data["columnas"][3]["regla"] = "eliminar"  # edad
    with pytest.raises(CatalogError, match=r"columnas\[cedula\].*seudónimo de persona 'id_persona'.*microdatos"):
        load_dataset(write(include, data))


def test_with_a_person_pseudonym_every_attribute_counts_unless_excluded_with_a_reason(include):
    data = base()
    assert load_dataset(write(include, data)).columnas_k == ["edad"]
    del data["microdatos"]["excluir_de_k"]["valor"]
    assert load_dataset(write(include, data)).columnas_k == ["edad", "valor"]
    data["microdatos"]["excluir_de_k"]["fecha"] = "corta"
    with pytest.raises(CatalogError, match="excluir_de_k"):
        load_dataset(write(include, data))


def test_legal_basis_is_the_only_way_to_publish_an_identifying_column(include):
    data = base()
    data["columnas"][2] = _column("nombre", dato_personal="nombre")
    with pytest.raises(CatalogError, match=r"columnas\[nombre\].*fundamento_legal"):
        load_dataset(write(include, data))
    data["columnas"][2]["fundamento_legal"] = {"norma": "Ley 1712 de 2014", "articulo": "art. 9, literal e"}
    ds = load_dataset(write(include, data))
    assert [c.nombre for c in ds.columnas_con_fundamento_legal] == ["nombre"]
    assert ds.columnas_con_fundamento_legal[0].fundamento_legal.texto == "Ley 1712 de 2014, art. 9, literal e"
    data["columnas"][2]["fundamento_legal"] = {"norma": "Ley 1712 de 2014"}
    with pytest.raises(CatalogError, match=r"fundamento_legal\.articulo"):
        load_dataset(write(include, data))


def test_sample_catalog_declares_every_person_attribute_as_quasi_identifier():
    catalog = load_catalog()
    matricula = catalog.get("matricula_escolar")
    assert {"tipo_documento", "grado", "sexo", "codigo_municipio", "zona"} <= set(matricula.columnas_k)
    for ds in catalog.priorizados:
        assert ds.retencion_dias == 30 and ds.versiones_sitio == 3
        assert ds.dominio_seudonimos == ds.slug  # no linkable group in the sample


def test_repeated_alias_is_refused_with_its_column_and_line(include):
    data = mutate(base(), "columnas.0.alias", ["Número", "Numero", "ID"])
    with pytest.raises(CatalogError, match=r"columnas\[.*\].*línea.*repite el alias 'Numero'"):
        load_dataset(write(include, data))


def test_alias_claimed_by_two_columns_is_refused(include):
    data = base()
    data["columnas"][0]["alias"] = ["Código"]
    data["columnas"][1]["alias"] = ["codigo"]
    with pytest.raises(CatalogError, match="aparece en dos columnas"):
        load_dataset(write(include, data))


def test_number_separators_are_declared_per_source(include):
    data = base()
    data["fuente"]["separador_decimal"] = ","
    data["fuente"]["separador_miles"] = "."
    assert load_dataset(write(include, data)).fuente.separador_miles == "."
    data["fuente"]["separador_miles"] = ","
    with pytest.raises(CatalogError, match="no pueden ser el mismo carácter"):
        load_dataset(write(include, data))


def test_sample_catalog_has_no_repeated_aliases():
    from casanare.catalog import load_catalog, normalizar_encabezado

    for ds in load_catalog().datasets:
        for col in ds.columnas:
            normalized = [normalizar_encabezado(a) for a in col.alias]
            assert len(normalized) == len(set(normalized)), (ds.slug, col.nombre)


def test_sql_source_time_zone_defaults_to_bogota_and_must_be_known(include):
    data = base()
    data["fuente"] = {"tipo": "sql", "conexion": "fuente_prueba", "incremental": True}
    (include / "sql").mkdir(exist_ok=True)
    (include / "sql" / "prueba_csv.sql").write_text("SELECT 1 WHERE :desde < :hasta", encoding="utf-8")
    assert load_dataset(write(include, data)).fuente.zona_horaria == "America/Bogota"
    data["fuente"]["zona_horaria"] = "Hora/Colombia"
    with pytest.raises(CatalogError) as info:
        load_dataset(write(include, data))
    assert "campo 'fuente.zona_horaria'" in str(info.value) and "línea" in str(info.value)
