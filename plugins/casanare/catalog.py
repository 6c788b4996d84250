"""The dataset catalog: one YAML per dataset in ``include/catalog/<slug>.yaml``.

The catalog is the single source of truth: schedule, owner, tags, doc_md, privacy rules,
baseline expectations, portal metadata and the website page all derive from it. Models forbid
unknown keys so a typo fails loudly, and every error names the file, the field and the line.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator, model_validator

from casanare import settings

SLUG_RE = r"^[a-z][a-z0-9_]{2,63}$"
FIELD_RE = r"^[a-z][a-z0-9_]{0,62}$"
FOURFOUR_RE = r"^[a-z0-9]{4}-[a-z0-9]{4}$"

Frecuencia = Literal["diaria", "semanal", "mensual", "trimestral", "semestral", "anual", "eventual"]
Clasificacion = Literal["publica", "clasificada", "reservada"]
TipoColumna = Literal["texto", "entero", "decimal", "fecha", "fecha_hora", "booleano"]
DatoPersonal = Literal[
    "cedula",
    "tarjeta_identidad",
    "nit",
    "nombre",
    "telefono",
    "correo",
    "direccion",
    "fecha_nacimiento",
    "edad",
    "sexo",
    "municipio",
    "coordenadas",
    "texto_libre",
    # Attributes that describe a person without identifying them alone (quasi-identifiers).
    "revela_edad",
    "lugar",
    "etnia",
    "discapacidad",
    "regimen_salud",
    "nacionalidad",
    "estado_civil",
    "ocupacion",
    "estrato",
    "otro",
]
# Kinds that identify a person directly: never published as they are.
IDENTIFICADORES_DIRECTOS: frozenset[str] = frozenset(
    {"cedula", "tarjeta_identidad", "nombre", "telefono", "correo", "direccion", "fecha_nacimiento", "coordenadas"}
)

# Kinds that describe a person: published, they must be quasi-identifiers (checked by k-anonymity).
DESCRIBEN_PERSONA: frozenset[str] = frozenset(
    {"edad", "fecha_nacimiento", "revela_edad", "sexo", "municipio", "lugar", "etnia", "discapacidad",
     "regimen_salud", "nacionalidad", "estado_civil", "ocupacion", "estrato"}
)
# Kinds whose pseudonym stands for a person (the unit of k-anonymity when published).
IDENTIFICAN_PERSONA: frozenset[str] = frozenset({"cedula", "tarjeta_identidad", "nit", "otro"})
# Column names that describe a person even when the catalog forgot ``dato_personal`` (age is
# revealed by the document type — RC, TI, CC — and by the school grade).
NOMBRE_DESCRIBE_PERSONA = re.compile(
    r"(^|_)(sexo|genero|edad|rango_edad|grado|tipo_documento|etnia|etnica|pertenencia_etnica|discapacidad|"
    r"regimen|regimen_salud|nacionalidad|estado_civil|estrato|ocupacion|fecha_nacimiento)(_|$)"
)

CATEGORIAS_PORTAL: tuple[str, ...] = (
    "Función pública",
    "Salud y Protección Social",
    "Educación",
    "Gastos Gubernamentales",
    "Hacienda y Crédito Público",
    "Ambiente y Desarrollo Sostenible",
    "Agricultura y Desarrollo Rural",
    "Transporte",
    "Ordenamiento Territorial",
    "Vivienda Ciudad y Territorio",
    "Inclusión Social y Reconciliación",
    "Justicia y Derecho",
    "Minas y Energía",
    "Seguridad y Defensa",
    "Cultura",
    "Deporte y Recreación",
    "Trabajo",
    "Participación ciudadana",
    "Ciencia Tecnología e Innovación",
    "Comercio Industria y Turismo",
    "Economía y Finanzas",
    "Estadísticas Nacionales",
    "Organismos de Control",
    "Mapas Nacionales",
    "Presupuestos Gubernamentales",
)
Categoria = Literal[CATEGORIAS_PORTAL]  # type: ignore[valid-type]

Tipologia = Literal[
    "Agrícola y pesquera",
    "Ambiental",
    "Científica",
    "Cultural",
    "Económica y Comercial",
    "Geográfica",
    "Política",
    "Sistema Legal",
    "Social",
    "Transporte y Tráfico",
    "Otra",
]
Ambito = Literal["Nacional", "Departamental", "Municipal", "Distrital", "Local", "Internacional"]
EvidenciaSolicitud = Literal[
    "Ciudadanos", "Entidades privadas", "PQR", "Servicio", "Entidad pública", "Uso interno"
]
Licencia = Literal["CC BY-SA 4.0", "CC BY 4.0", "CC0 1.0", "Dominio público"]

# Cron expressions are evaluated in America/Bogota by the factory.
CRON_POR_FRECUENCIA: dict[str, str | None] = {
    "diaria": "0 5 * * *",
    "semanal": "0 5 * * 1",
    "mensual": "0 5 1 * *",
    "trimestral": "0 6 1 1,4,7,10 *",
    "semestral": "0 6 1 1,7 *",
    "anual": "0 6 1 1 *",
    "eventual": None,
}
# Longest acceptable age of the published data; None = no expectation (eventual).
VIGENCIA_POR_FRECUENCIA: dict[str, timedelta | None] = {
    "diaria": timedelta(days=1, hours=12),
    "semanal": timedelta(days=8),
    "mensual": timedelta(days=32),
    "trimestral": timedelta(days=93),
    "semestral": timedelta(days=185),
    "anual": timedelta(days=367),
    "eventual": None,
}
# datos.gov.co "Frecuencia de Actualización" values.
FRECUENCIA_PORTAL: dict[str, str] = {
    "diaria": "Diario",
    "semanal": "Semanal",
    "mensual": "Mensual",
    "trimestral": "Trimestral",
    "semestral": "Semestral",
    "anual": "Anual",
    "eventual": "Por demanda",
}


def normalizar_encabezado(text: object) -> str:
    """``"  Número de  Documento "`` → ``"numero de documento"`` (how headers are compared)."""
    import unicodedata

    raw = unicodedata.normalize("NFKD", str(text or ""))
    raw = "".join(ch for ch in raw if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", " ", raw).strip()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


Accion = Literal["eliminar", "publicar", "seudonimizar", "generalizar", "enmascarar", "redactar_texto"]
MetodoGeneralizacion = Literal[
    "rango_edad", "mes", "anio", "semana_epidemiologica", "municipio", "coordenadas", "tope"
]


class Regla(_Model):
    """Privacy rule of one column. Written as a bare action (``seudonimizar``) or a mapping."""

    accion: Accion
    metodo: MetodoGeneralizacion | None = Field(None, description="Solo para generalizar.")
    precision: int | None = Field(None, ge=0, le=6, description="Decimales al redondear coordenadas.")
    limite_inferior: float | None = Field(None, description="Tope inferior (bottom coding).")
    limite_superior: float | None = Field(None, description="Tope superior (top coding).")
    conservar: int | None = Field(None, ge=1, le=8, description="Caracteres finales que deja enmascarar.")
    columna_municipio: str | None = Field(
        None, description="Columna con el municipio, para generalizar una dirección a su municipio."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"accion": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_parameters(self) -> Regla:
        if self.accion == "generalizar" and self.metodo is None:
            raise ValueError("la regla 'generalizar' necesita 'metodo'")
        if self.accion != "generalizar" and self.metodo is not None:
            raise ValueError("'metodo' solo aplica a la regla 'generalizar'")
        if self.metodo == "coordenadas" and self.precision is None:
            raise ValueError("generalizar coordenadas necesita 'precision' (decimales)")
        if self.metodo == "tope" and self.limite_inferior is None and self.limite_superior is None:
            raise ValueError("generalizar con 'tope' necesita 'limite_inferior' o 'limite_superior'")
        if self.metodo == "municipio" and not self.columna_municipio:
            raise ValueError("generalizar una dirección a municipio necesita 'columna_municipio'")
        if self.accion == "enmascarar" and self.conservar is None:
            raise ValueError("la regla 'enmascarar' necesita 'conservar' (caracteres finales)")
        return self

    @property
    def publica_algo(self) -> bool:
        return self.accion != "eliminar"


class UmbralColumna(_Model):
    """A column's own weak-signal threshold for the final personal-data scan, with its reason."""

    umbral: float = Field(gt=0, le=1, description="Proporción de valores con señales débiles que bloquea la columna.")
    motivo: str = Field(min_length=20, description="Por qué esta columna tolera más señales débiles (va al manifiesto).")


class FundamentoLegal(_Model):
    """The norm that makes a personal column public by law (the only exception to default deny)."""

    norma: Annotated[str, Field(min_length=5, description="Norma, p. ej. 'Ley 1712 de 2014'.")]
    articulo: Annotated[str, Field(min_length=1, description="Artículo y literal, p. ej. 'art. 9, literal e'.")]
    descripcion: str | None = Field(None, description="Por qué la norma hace pública la columna.")

    @property
    def texto(self) -> str:
        return f"{self.norma}, {self.articulo}"


class Excepcion(_Model):
    """Decreto 103 de 2015 fields of a classified or reserved column or dataset (Índice de
    Información Clasificada y Reservada). Blank fields take the defaults by kind of personal data
    (``casanare.excepciones``); the loader refuses any field left undetermined."""

    objetivo_legitimo: str | None = Field(None, min_length=10, description="Objetivo legítimo de la excepción.")
    fundamento_constitucional_legal: str | None = Field(
        None, min_length=5, description="Fundamento constitucional o legal (p. ej. 'Ley 1581 de 2012')."
    )
    fundamento_juridico: str | None = Field(
        None, min_length=5, description="Fundamento jurídico de la excepción (p. ej. 'Ley 1712 de 2014, art. 18, lit. a')."
    )
    alcance: Literal["total", "parcial"] | None = Field(None, description="Excepción total o parcial.")
    fecha_calificacion: date | None = Field(None, description="Fecha de la calificación (AAAA-MM-DD).")
    plazo: str | None = Field(None, min_length=3, description="Plazo de la clasificación o reserva.")


class Calificacion(_Model):
    """Dataset-wide facts of the Índice shared by its classified columns."""

    fecha_calificacion: date = Field(description="Fecha en que se calificó la información (AAAA-MM-DD).")
    fecha_generacion: date | None = Field(
        None, description="Fecha de generación de la información; por defecto 'fecha_emision'."
    )
    responsable_produccion: str | None = Field(None, min_length=3, description="Por defecto, la dependencia.")
    responsable_informacion: str | None = Field(None, min_length=3, description="Por defecto, la dependencia.")


class Columna(_Model):
    nombre: Annotated[str, Field(pattern=FIELD_RE, description="Nombre de campo API (minúsculas, _).")]
    titulo: str | None = Field(None, description="Nombre visible; por defecto se deriva del nombre.")
    tipo: TipoColumna
    descripcion: Annotated[str, Field(min_length=3)]
    clasificacion: Clasificacion
    regla: Regla
    dato_personal: DatoPersonal | None = None
    requerido: bool = False
    alias: list[str] = Field(default_factory=list, description="Otros encabezados aceptados en la fuente.")
    nombre_publicado: Annotated[str, Field(pattern=FIELD_RE)] | None = None
    minimo: float | str | None = Field(None, description="Valor o fecha mínima esperada.")
    maximo: float | str | None = Field(None, description="Valor o fecha máxima esperada.")
    fundamento_legal: FundamentoLegal | None = Field(
        None,
        description="Norma y artículo que hacen pública por ley una columna con datos personales; va al "
        "Índice de Información Clasificada y Reservada y la revisión final la respeta.",
    )
    excepcion: Excepcion | None = Field(None, description="Campos del Índice si la columna es clasificada o reservada.")
    umbral_datos_personales: UmbralColumna | None = Field(
        None, description="Umbral propio de señales débiles en la revisión final de datos personales, con su motivo."
    )

    @model_validator(mode="after")
    def _check_privacy(self) -> Columna:
        if self.excepcion is not None and self.clasificacion == "publica":
            raise ValueError(f"la columna '{self.nombre}' es pública: 'excepcion' solo aplica a clasificadas o reservadas")
        if self.clasificacion == "reservada" and self.regla.publica_algo:
            raise ValueError(
                f"la columna '{self.nombre}' es reservada y solo admite la regla 'eliminar' "
                f"(tiene '{self.regla.accion}')"
            )
        if self.fundamento_legal and self.clasificacion != "publica":
            raise ValueError(
                f"la columna '{self.nombre}' declara 'fundamento_legal' pero está clasificada como {self.clasificacion}"
            )
        if (self.dato_personal in IDENTIFICADORES_DIRECTOS and self.regla.accion == "publicar"
                and self.fundamento_legal is None):
            raise ValueError(
                f"la columna '{self.nombre}' contiene {self.dato_personal} y no puede publicarse tal cual: "
                "use eliminar, seudonimizar, generalizar o enmascarar, o declare 'fundamento_legal' "
                "(norma y artículo que la hacen pública)"
            )
        if self.dato_personal == "texto_libre" and self.regla.accion == "publicar":
            raise ValueError(
                f"la columna de texto libre '{self.nombre}' necesita 'redactar_texto' o 'eliminar'"
            )
        return self

    @model_validator(mode="after")
    def _check_aliases(self) -> Columna:
        seen: dict[str, str] = {}
        for alias in self.alias:
            key = normalizar_encabezado(alias)
            if key in seen:
                raise ValueError(
                    f"la columna '{self.nombre}' repite el alias '{alias}' (igual a '{seen[key]}' sin contar "
                    "mayúsculas, tildes ni signos)"
                )
            seen[key] = alias
        return self

    @property
    def encabezados_aceptados(self) -> list[str]:
        """Every header that maps to this column: name, title and aliases."""
        return [self.nombre, self.nombre.replace("_", " "), self.titulo_visible, *self.alias]

    @property
    def publicada(self) -> bool:
        """Default deny: only public columns whose rule leaves something publishable."""
        return self.clasificacion == "publica" and self.regla.publica_algo

    @property
    def nombre_salida(self) -> str:
        return self.nombre_publicado or self.nombre

    @property
    def titulo_visible(self) -> str:
        return self.titulo or self.nombre.replace("_", " ").capitalize()

    @property
    def tipo_salida(self) -> TipoColumna:
        """Type of the published column once the privacy rule has been applied."""
        regla = self.regla
        if regla.accion in {"seudonimizar", "enmascarar", "redactar_texto"}:
            return "texto"
        if regla.accion == "generalizar":
            return {
                "rango_edad": "texto",
                "mes": "texto",
                "anio": "entero",
                "semana_epidemiologica": "texto",
                "municipio": "texto",
                "coordenadas": "decimal",
                "tope": self.tipo,
            }[regla.metodo or "tope"]
        return self.tipo


class FuenteArchivo(_Model):
    tipo: Literal["archivo"]
    ruta: Annotated[str, Field(min_length=3, description="Relativa a CASANARE_SOURCE_BASE o absoluta.")]
    formato: Literal["xlsx", "xls", "ods", "csv", "txt"] | None = None
    hoja: str | int | None = Field(None, description="Nombre o índice (desde 0) de la hoja.")
    fila_encabezado: int | None = Field(None, ge=1, description="Fila (desde 1) del encabezado; None = detectar.")
    filas_encabezado: Literal[1, 2] = 1
    codificacion: str | None = None
    delimitador: str | None = Field(None, min_length=1, max_length=1)
    valores_nulos: list[str] = Field(default_factory=lambda: ["", "N/A", "NA", "-", "NULL", "SIN DATO"])
    separador_decimal: Literal[",", "."] | None = Field(
        None, description="Separador decimal de los números del archivo; None = inferirlo de cada columna completa."
    )
    separador_miles: Literal[".", ",", " ", ""] | None = Field(
        None, description="Separador de miles ('' = ninguno); None = el opuesto del separador decimal."
    )

    @model_validator(mode="after")
    def _check_separators(self) -> FuenteArchivo:
        if self.separador_decimal and self.separador_miles == self.separador_decimal:
            raise ValueError("'separador_decimal' y 'separador_miles' no pueden ser el mismo carácter")
        return self

    @property
    def formato_efectivo(self) -> str:
        return self.formato or Path(self.ruta).suffix.lower().lstrip(".")

    def ruta_absoluta(self) -> Path:
        ruta = Path(self.ruta)
        return ruta if ruta.is_absolute() else settings.sources_base() / ruta


class FuenteSQL(_Model):
    tipo: Literal["sql"]
    conexion: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{2,63}$", description="Conexión de Airflow.")]
    consulta: str | None = Field(None, description="Archivo en include/sql; por defecto <slug>.sql.")
    incremental: bool = Field(False, description="La consulta usa :desde y :hasta del intervalo de la corrida.")
    zona_horaria: str = Field(
        "America/Bogota",
        description="Zona horaria de las fechas sin zona de la base de origen: :desde y :hasta se pasan en esa "
        "hora local (un sistema departamental guarda la hora de Colombia, no UTC).",
    )
    tamano_lote: int = Field(50_000, ge=1_000)

    @field_validator("zona_horaria")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"zona horaria desconocida: {value!r} (use un nombre IANA como America/Bogota)") from None
        return value


Fuente = Annotated[FuenteArchivo | FuenteSQL, Field(discriminator="tipo")]


JerarquiaGeneralizacion = Literal["edad", "municipio", "mes"]


class Microdatos(_Model):
    cuasi_identificadores: list[str] = Field(min_length=1)
    k: int = Field(5, ge=2)
    max_supresion: float = Field(
        0.05, ge=0, le=1,
        description="Máxima fracción suprimida: de filas, o de personas si se publica un seudónimo de persona.",
    )
    jerarquias: dict[str, JerarquiaGeneralizacion] = Field(
        default_factory=dict,
        description="Jerarquía de generalización por cuasi-identificador (se deduce de la regla si falta).",
    )
    excluir_de_k: dict[str, Annotated[str, Field(min_length=15)]] = Field(
        default_factory=dict,
        description="Con seudónimo de persona: columnas publicadas que no cuentan para k, con el motivo "
        "escrito (va al manifiesto). Por defecto cuentan todas.",
    )


class Volumen(_Model):
    """How far a run's row count may move from the last publication before it is held."""

    caida_maxima_pct: float = Field(10, ge=0, le=100, description="Máxima caída de filas (%) sin aceptación.")
    aumento_maximo_pct: float = Field(300, ge=0, description="Máximo aumento de filas (%) sin aceptación.")


class Calidad(_Model):
    volumen: Volumen = Field(default_factory=Volumen, description="Guarda de volumen frente a la última publicación.")
    suite: str | None = Field(None, description="Archivo en include/expectations; por defecto <slug>.json.")
    minimo_filas: int | None = Field(None, ge=1)
    severidades: dict[str, Literal["critical", "warning"]] = Field(
        default_factory=dict,
        description="Severidad de reglas generadas: clave 'tipo:columna' (p. ej. 'rango:valor') o solo 'tipo'.",
    )
    fechas_futuras: list[str] = Field(
        default_factory=list, description="Columnas de fecha que pueden tener fechas futuras (p. ej. fin de contrato)."
    )
    columna_latitud: str | None = Field(None, description="Columna de latitud; por defecto 'latitud' si existe.")
    columna_longitud: str | None = Field(None, description="Columna de longitud; por defecto 'longitud' si existe.")


class DatosGovCo(_Model):
    dataset_id: Annotated[str, Field(pattern=FOURFOUR_RE)] | None = Field(
        None, description="Identificador 4x4 del portal. Si falta, la primera publicación crea el conjunto.")
    identificador_fila: Annotated[str, Field(pattern=FIELD_RE)] | None = None
    modo: Literal["incremental", "reemplazo", "agregar"] | None = None
    columnas_retiradas: list[Annotated[str, Field(pattern=FIELD_RE)]] = Field(
        default_factory=list,
        description="Columnas que se pueden quitar del portal aunque tengan datos (decisión explícita).")

    @property
    def modo_efectivo(self) -> str:
        return self.modo or ("incremental" if self.identificador_fila else "reemplazo")


TipoGrafico = Literal["barras", "lineas", "mapa"]


class Grafico(_Model):
    """A chart on the dataset's web page. Without any, defaults are chosen from the column types."""

    tipo: TipoGrafico = Field(description="barras (por categoría), lineas (en el tiempo) o mapa (por municipio).")
    dimension: Annotated[str, Field(pattern=FIELD_RE, description="Columna publicada por la que se agrupa.")]
    medida: Annotated[str, Field(pattern=FIELD_RE)] = Field(
        "filas", description="'filas' (cuenta registros) o una columna numérica publicada (suma)."
    )
    titulo: Annotated[str, Field(min_length=3, max_length=120)] | None = None


class CasanareGovCo(_Model):
    ruta: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,80}$", description="Carpeta de la página.")]
    graficos: list[Grafico] = Field(
        default_factory=list, max_length=6, description="Gráficos de la página; por defecto según los tipos."
    )


class Dataset(_Model):
    """One catalog entry (one YAML file)."""

    slug: Annotated[str, Field(pattern=SLUG_RE)]
    # Inventory metadata, section 10.1 of the plan.
    nombre: Annotated[str, Field(min_length=5, max_length=150)]
    descripcion: Annotated[str, Field(min_length=20)]
    dependencia: Annotated[str, Field(min_length=3)]
    tipologia: Tipologia
    categoria: Categoria  # type: ignore[valid-type]
    ambito_geografico: Ambito
    idioma: str = "Español"
    fuente_primaria: bool
    evidencia_solicitud: list[EvidenciaSolicitud] = Field(min_length=1)
    soporte: Literal["digital", "física", "física y digital"]
    formato: str | None = Field(
        None, min_length=2, description="Formato en que se conserva (p. ej. 'XLSX', 'Papel'); por defecto, el de la fuente."
    )
    frecuencia_generacion: Frecuencia
    frecuencia_actualizacion: Frecuencia
    disponible: bool
    publicada: bool
    ubicacion: Annotated[str, Field(min_length=3)]
    # Ley 1712 de 2014 arts. 18-20: the whole dataset may be classified or reserved; its classified
    # or reserved columns and it go to the Índice de Información Clasificada y Reservada.
    clasificacion: Clasificacion = "publica"
    excepcion: Excepcion | None = None
    calificacion: Calificacion | None = None
    # Prioritization and publication.
    priorizado: bool
    licencia: Licencia = "CC BY-SA 4.0"
    contactos: list[EmailStr] = Field(min_length=1)
    etiquetas: list[str] = Field(default_factory=list)
    cobertura_geografica: str = "Departamento de Casanare"
    fecha_emision: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    url_documentacion: str | None = Field(
        None, description="URL Documentación en datos.gov.co; por defecto, la página del conjunto en casanare.gov.co.")
    url_normativa: str | None = Field(None, description="URL Normativa en datos.gov.co (norma que rige el conjunto).")
    omitir_si_sin_cambios: bool = Field(
        False, description="Si la fuente no cambió, no publicar (por defecto se verifica el portal igual)."
    )
    resumen_exitos: Literal["semanal", "desactivado"] = Field(
        "desactivado", description="Resumen por correo de las publicaciones exitosas a los contactos (lunes)."
    )
    grupo_seudonimos: Annotated[str, Field(pattern=SLUG_RE)] | None = Field(
        None,
        description="Grupo de conjuntos que comparten seudónimos a propósito (vinculables). Por defecto cada "
        "conjunto tiene los suyos.",
    )
    retencion_dias: int = Field(
        30, ge=1, le=3650, description="Días que se guardan los datos crudos (original/, extraido.parquet)."
    )
    versiones_sitio: int = Field(
        3, ge=1, le=20, description="Versiones anteriores que se pueden descargar en casanare.gov.co."
    )
    fuente: Fuente | None = None
    columnas: list[Columna] = Field(default_factory=list)
    microdatos: Microdatos | None = None
    calidad: Calidad = Calidad()
    datos_gov_co: DatosGovCo | None = None
    casanare_gov_co: CasanareGovCo | None = None

    @field_validator("etiquetas")
    @classmethod
    def _tags_lowercase(cls, value: list[str]) -> list[str]:
        return [tag.strip().lower() for tag in value if tag.strip()]

    @model_validator(mode="after")
    def _check_consistency(self) -> Dataset:
        if self.excepcion is not None and self.clasificacion == "publica":
            raise ValueError("el conjunto es público: 'excepcion' solo aplica a conjuntos clasificados o reservados")
        if not self.priorizado:
            return self
        if self.clasificacion != "publica":
            raise ValueError(f"un conjunto {self.clasificacion} no se publica: no puede estar priorizado")
        for needed in ("fuente", "datos_gov_co", "casanare_gov_co"):
            if getattr(self, needed) is None:
                raise ValueError(f"un conjunto priorizado necesita '{needed}'")
        if not self.columnas:
            raise ValueError("un conjunto priorizado necesita 'columnas'")
        names = [c.nombre for c in self.columnas]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"columnas repetidas: {', '.join(duplicated)}")
        claimed: dict[str, str] = {}
        for col in self.columnas:
            for header in {normalizar_encabezado(h) for h in col.alias}:
                other = claimed.setdefault(header, col.nombre)
                if other != col.nombre:
                    raise ValueError(f"el alias '{header}' aparece en dos columnas: '{other}' y '{col.nombre}'")
        out_names = [c.nombre_salida for c in self.columnas if c.publicada]
        if len(out_names) != len(set(out_names)):
            raise ValueError("dos columnas publicadas tendrían el mismo nombre de salida")
        if not out_names:
            raise ValueError("ninguna columna quedaría publicada")
        row_id = self.datos_gov_co.identificador_fila if self.datos_gov_co else None
        if isinstance(self.fuente, FuenteSQL) and self.fuente.incremental and not row_id:
            raise ValueError("una fuente SQL incremental necesita 'datos_gov_co.identificador_fila'")
        if row_id and row_id not in out_names:
            raise ValueError(f"el identificador de fila '{row_id}' no es una columna publicada")
        if self.microdatos:
            missing = [q for q in self.microdatos.cuasi_identificadores if q not in out_names]
            if missing:
                raise ValueError(f"cuasi-identificadores que no son columnas publicadas: {', '.join(missing)}")
            for field in ("jerarquias", "excluir_de_k"):
                unknown = [q for q in getattr(self.microdatos, field) if q not in out_names]
                if unknown:
                    raise ValueError(f"'microdatos.{field}' nombra columnas no publicadas: {', '.join(unknown)}")
        for col in self.columnas:
            src = col.regla.columna_municipio
            if src and src not in names:
                raise ValueError(f"'columna_municipio' de '{col.nombre}' no existe: {src}")
        return self

    # Derived views --------------------------------------------------------------------------

    @property
    def etiqueta_portal(self) -> str:
        """Stable tag of the dataset on datos.gov.co: finds it again across runs (see publish.portal.ids)."""
        return "casanare-" + self.slug.replace("_", "-")

    @property
    def columnas_publicadas(self) -> list[Columna]:
        return [c for c in self.columnas if c.publicada]

    @property
    def dominio_seudonimos(self) -> str:
        """HKDF ``info`` of this dataset's pseudonym key: its group when declared, else its slug."""
        return self.grupo_seudonimos or self.slug

    @property
    def columnas_persona(self) -> list[str]:
        """Published names of pseudonyms that stand for a person (k is then counted over persons)."""
        return [
            c.nombre_salida for c in self.columnas_publicadas
            if c.regla.accion == "seudonimizar" and c.dato_personal in IDENTIFICAN_PERSONA
        ]

    @property
    def columnas_k(self) -> list[str]:
        """Columns k-anonymity counts: the quasi-identifiers, or with a person pseudonym every attribute.

        With a person pseudonym a person's rows are linked, so any published attribute can single
        them out across their rows: all published columns count except the pseudonym itself, the
        row identifier and the columns excluded with a written reason (``microdatos.excluir_de_k``).
        """
        micro = self.microdatos
        if micro is None:
            return []
        quasi = list(micro.cuasi_identificadores)
        if not self.columnas_persona:
            return quasi
        row_id = self.datos_gov_co.identificador_fila if self.datos_gov_co else None
        skip = {*self.columnas_persona, row_id, *micro.excluir_de_k, *quasi}
        return quasi + [c.nombre_salida for c in self.columnas_publicadas if c.nombre_salida not in skip]

    @property
    def columna_identificador(self) -> str | None:
        """Source name of the column published as ``datos_gov_co.identificador_fila`` (the row key)."""
        row_id = self.datos_gov_co.identificador_fila if self.datos_gov_co else None
        return next((c.nombre for c in self.columnas_publicadas if c.nombre_salida == row_id), None)

    @property
    def columnas_con_fundamento_legal(self) -> list[Columna]:
        return [c for c in self.columnas_publicadas if c.fundamento_legal is not None]

    @property
    def tiene_datos_personales(self) -> bool:
        return any(c.dato_personal for c in self.columnas)

    @property
    def cron(self) -> str | None:
        return CRON_POR_FRECUENCIA[self.frecuencia_actualizacion]

    @property
    def vigencia(self) -> timedelta | None:
        return VIGENCIA_POR_FRECUENCIA[self.frecuencia_actualizacion]

    @property
    def frecuencia_portal(self) -> str:
        return FRECUENCIA_PORTAL[self.frecuencia_actualizacion]

    def ruta_suite(self) -> Path:
        return settings.include_dir() / "expectations" / (self.calidad.suite or f"{self.slug}.json")

    def ruta_sql(self) -> Path | None:
        if not isinstance(self.fuente, FuenteSQL):
            return None
        return settings.include_dir() / "sql" / (self.fuente.consulta or f"{self.slug}.sql")

    def etiquetas_airflow(self) -> list[str]:
        tags = [
            _tag(self.dependencia),
            f"frecuencia:{self.frecuencia_actualizacion}",
            _tag(self.categoria),
        ]
        if self.tiene_datos_personales:
            tags.append("datos-personales")
        return tags


def _tag(text: str) -> str:
    return text.strip()[:100]


class CatalogError(ValueError):
    """A catalog file is invalid. The message names the file, the field and the line."""

    def __init__(self, path: Path, problems: list[tuple[str, int | None, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = [f"Catálogo inválido: {path.name}"]
        for campo, linea, mensaje in problems:
            donde = f" (línea {linea})" if linea else ""
            lines.append(f"  - campo '{campo}'{donde}: {mensaje}")
        super().__init__("\n".join(lines))


class Catalog:
    """All catalog entries, loaded and cross-checked."""

    def __init__(self, datasets: list[Dataset]) -> None:
        self.datasets = sorted(datasets, key=lambda d: d.slug)
        # Where ``priorizado`` and the prioritization ranking disagree (plan 10.3), filled by the loader.
        self.avisos_priorizacion: list[str] = []

    @cached_property
    def _by_slug(self) -> dict[str, Dataset]:
        return {d.slug: d for d in self.datasets}

    def get(self, slug: str) -> Dataset:
        return self._by_slug[slug]

    @property
    def priorizados(self) -> list[Dataset]:
        return [d for d in self.datasets if d.priorizado]


# libyaml when available (pure-Python PyYAML is ~15× slower: 200 entries took seconds to parse).
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# path -> (mtime_ns, size, Dataset): the dag-processor re-parses the DAG files continuously, and
# a YAML that didn't change needs neither parsing nor validating again.
_CACHE: dict[Path, tuple[int, int, Dataset]] = {}


def load_dataset(path: Path) -> Dataset:
    """Load and validate one catalog YAML (cached per file modification time and size).

    The returned model is shared between callers: derive variants with ``model_copy``.

    Raises:
        CatalogError: naming the file, the field path and the YAML line of each problem.
    """
    path = Path(path).resolve()
    stat = path.stat()
    cached = _CACHE.get(path)
    if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
        dataset = cached[2]
    else:
        dataset = _disk_cache_read(path, stat)
        if dataset is None:
            dataset = _parse_dataset(path, path.read_text(encoding="utf-8"))
            _disk_cache_write(path, dataset)
        _CACHE[path] = (stat.st_mtime_ns, stat.st_size, dataset)
    # Suites and queries are separate files: checked on every load (two stat calls).
    try:
        _check_files(path, None, dataset)
    except CatalogError:
        _check_files(path, _compose(path.read_text(encoding="utf-8")), dataset)  # again, with line numbers
        raise
    return dataset


def _disk_cache_dir() -> Path:
    """Per-user folder (0700) holding the validated entries of unchanged catalog files."""
    import os

    default = Path.home() / ".cache" / "casanare" / "catalogo"
    return Path(os.environ.get("CASANARE_CATALOG_CACHE", default))


def _disk_entry(path: Path) -> Path:
    import hashlib

    return _disk_cache_dir() / f"{hashlib.sha256(str(path).encode()).hexdigest()[:32]}.pickle"


def _disk_key(path: Path, stat: Any) -> str:
    """The YAML file's identity plus this module's (a model change invalidates every entry)."""
    import pydantic

    code = Path(__file__).stat()
    return f"{path}:{stat.st_mtime_ns}:{stat.st_size}:{code.st_mtime_ns}:{code.st_size}:{pydantic.VERSION}"


def _disk_cache_read(path: Path, stat: Any) -> Dataset | None:
    """The validated entry saved by an earlier process, if the file didn't change since.

    Each dag-processor parse is a fresh interpreter: YAML construction (Python even with libyaml)
    and validation were most of the catalog load. Entries are pickles, so they are read only
    from a folder and files owned by this user and writable by nobody else.
    """
    import os
    import pickle

    try:
        entry = _disk_entry(path)
        for item in (entry.parent, entry):
            st = item.stat()
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return None
        key, dataset = pickle.loads(entry.read_bytes())
    except Exception:
        return None
    return dataset if key == _disk_key(path, stat) and isinstance(dataset, Dataset) else None


def _disk_cache_write(path: Path, dataset: Dataset) -> None:
    import os
    import pickle

    try:
        entry = _disk_entry(path)
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(entry.parent, 0o700)
        tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pickle.dumps((_disk_key(path, path.stat()), dataset)))
        os.replace(tmp, entry)
    except Exception:
        pass  # a read-only home only costs speed


def _compose(text: str) -> yaml.Node | None:
    """The YAML node tree, only needed to give line numbers in error messages."""
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None


def load_yaml(path: Path, text: str) -> Any:
    """The YAML's data; malformed YAML raises ``CatalogError`` naming the file and line."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise CatalogError(path, [("(archivo)", line, f"YAML mal formado: {getattr(exc, 'problem', exc)}")]) from None


def _parse_dataset(path: Path, text: str) -> Dataset:
    data = load_yaml(path, text)
    if not isinstance(data, dict):
        raise CatalogError(path, [("(archivo)", 1, "se esperaba un mapa de campos")])
    try:
        dataset = _validated(path, data, None)
    except CatalogError:
        # The node tree (line numbers) is built only on the error path: same checks, same error.
        _validated(path, data, _compose(text))
        raise
    return dataset


def _validated(path: Path, data: dict[str, Any], root: yaml.Node | None) -> Dataset:
    if data.get("slug") != path.stem:
        raise CatalogError(
            path, [("slug", _line_of(root, ("slug",)), f"debe ser igual al nombre del archivo ('{path.stem}')")]
        )
    try:
        dataset = Dataset.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append((_field_name(data, loc), _line_of(root, loc), _spanish(err)))
        raise CatalogError(path, problems) from None
    _check_quasi_identifiers(path, root, dataset)
    _check_indice(path, root, dataset)
    charts = [(("casanare_gov_co", "graficos", *loc), msg) for loc, msg in chart_problems(dataset)]
    if charts:
        raise CatalogError(path, [(_field_name(data, loc), _line_of(root, loc), msg) for loc, msg in charts])
    return dataset


def quasi_identifier_problems(dataset: Dataset) -> list[tuple[int, str, str]]:
    """Published columns that describe a person but escape k-anonymity: ``(index, field, message)``.

    A column that describes a person (``DESCRIBEN_PERSONA`` or a name such as ``grado`` or
    ``tipo_documento``) must be a declared quasi-identifier, be removed, or rest on a
    ``fundamento_legal``; a published person pseudonym needs ``microdatos`` (k over persons).
    """
    if not dataset.priorizado:
        return []
    micro = dataset.microdatos
    quasi = set(micro.cuasi_identificadores) if micro else set()
    about_people = any(c.dato_personal in IDENTIFICAN_PERSONA | IDENTIFICADORES_DIRECTOS for c in dataset.columnas)
    problems: list[tuple[int, str, str]] = []
    for index, col in enumerate(dataset.columnas):
        if not col.publicada or col.fundamento_legal is not None:
            continue
        out = col.nombre_salida
        describes = col.dato_personal in DESCRIBEN_PERSONA
        if col.dato_personal is None and about_people and (
            NOMBRE_DESCRIBE_PERSONA.search(col.nombre) or NOMBRE_DESCRIBE_PERSONA.search(out)
        ):
            problems.append((index, "dato_personal", (
                f"la columna publicada '{out}' describe a la persona (revela edad, sexo, lugar, etnia, "
                "discapacidad o régimen) y no declara 'dato_personal': declárelo (p. ej. revela_edad) y "
                "agréguela a 'microdatos.cuasi_identificadores', o use la regla 'eliminar'")))
            continue
        if describes and out not in quasi:
            donde = "'microdatos.cuasi_identificadores'" if micro else "un bloque 'microdatos' con sus cuasi-identificadores"
            problems.append((index, "regla", (
                f"la columna publicada '{out}' ({col.dato_personal}) describe a la persona y no es "
                f"cuasi-identificador: agréguela a {donde} (se generaliza y suprime lo necesario para lograr k) "
                "o use la regla 'eliminar'")))
        if out in dataset.columnas_persona and micro is None:
            problems.append((index, "regla", (
                f"se publica el seudónimo de persona '{out}': declare 'microdatos' para que el k-anonimato "
                "se cuente sobre personas, o use la regla 'eliminar'")))
    return problems


def _check_quasi_identifiers(path: Path, root: yaml.Node | None, dataset: Dataset) -> None:
    problems = [
        (f"columnas[{dataset.columnas[i].nombre}].{field}", _line_of(root, ("columnas", i, field)), message)
        for i, field, message in quasi_identifier_problems(dataset)
    ]
    if problems:
        raise CatalogError(path, problems)


# Columns a chart may group by in time: dates, and dates generalized to month or year.
_TEMPORALES = {"fecha", "fecha_hora"}


def chart_problems(dataset: Dataset) -> list[tuple[tuple[Any, ...], str]]:
    """Declared charts that name a column the page can't chart: ``((index, field), message)``."""
    if dataset.casanare_gov_co is None:
        return []
    published = {c.nombre_salida: c for c in dataset.columnas_publicadas}
    problems: list[tuple[tuple[Any, ...], str]] = []
    for i, chart in enumerate(dataset.casanare_gov_co.graficos):
        column = published.get(chart.dimension)
        if column is None:
            problems.append(((i, "dimension"), f"'{chart.dimension}' no es una columna publicada"))
        elif column.regla.accion in {"seudonimizar", "enmascarar", "redactar_texto"}:
            problems.append(((i, "dimension"), f"no se agrupa por '{chart.dimension}' (columna {column.regla.accion})"))
        elif chart.tipo == "lineas" and not (
            column.tipo_salida in _TEMPORALES | {"entero"} or column.regla.metodo in {"mes", "anio"}
        ):
            problems.append(((i, "dimension"), f"'{chart.dimension}' no es una fecha, un mes ni un año"))
        elif chart.tipo == "mapa" and not es_columna_municipio(column):
            problems.append(((i, "dimension"), f"'{chart.dimension}' no es una columna de municipio"))
        if chart.medida != "filas":
            measure = published.get(chart.medida)
            if measure is None or measure.tipo_salida not in {"entero", "decimal"}:
                problems.append(((i, "medida"), f"'{chart.medida}' no es 'filas' ni una columna numérica publicada"))
    return problems


def es_columna_municipio(column: Columna) -> bool:
    """A column holding the municipio (DIVIPOLA code or name)."""
    return (
        column.dato_personal == "municipio"
        or column.regla.metodo == "municipio"
        or column.nombre_salida in {"municipio", "codigo_municipio", "cod_municipio", "codigo_divipola"}
    )


def _check_indice(path: Path, root: yaml.Node | None, dataset: Dataset) -> None:
    """Refuse a classified or reserved entry that leaves a Decreto 103 field undetermined."""
    from casanare.excepciones import CAMPOS_CALIFICACION, CAMPOS_EXCEPCION, missing, resolve

    labels = {**CAMPOS_EXCEPCION, **CAMPOS_CALIFICACION}
    problems: list[tuple[str, int | None, str]] = []
    targets: list[tuple[str, tuple[Any, ...], Columna | None]] = []
    if dataset.clasificacion != "publica":
        targets.append(("", (), None))
    for position, col in enumerate(dataset.columnas):
        if col.clasificacion != "publica":
            targets.append((f"columnas[{col.nombre}].", ("columnas", position), col))
    for prefix, loc, col in targets:
        quien = f"la columna '{col.nombre}'" if col is not None else "el conjunto"
        clasificacion = col.clasificacion if col is not None else dataset.clasificacion
        for campo in missing(resolve(dataset, col)):
            if campo in ("fecha_calificacion", "fecha_generacion") and dataset.calificacion is None:
                name, where = f"calificacion.{campo}", ()
            elif campo == "fecha_generacion":
                name, where = "calificacion.fecha_generacion", ("calificacion",)
            else:
                name, where = f"{prefix}excepcion.{campo}", loc
            problems.append((name, _line_of(root, where), (
                f"{quien} es {clasificacion}: falta '{labels[campo]}' para el Índice de Información "
                "Clasificada y Reservada (Decreto 103 de 2015)"
            )))
    if problems:
        # A missing dataset-wide date is one problem, however many columns need it.
        unique: dict[str, tuple[str, int | None, str]] = {}
        for problem in problems:
            key = problem[0] if problem[0].startswith("calificacion.") else f"{problem[0]}#{len(unique)}"
            unique.setdefault(key, problem)
        raise CatalogError(path, list(unique.values()))


def _check_files(path: Path, root: yaml.Node | None, dataset: Dataset) -> None:
    if not dataset.priorizado:
        return
    problems = []
    suite = dataset.ruta_suite()
    if not suite.is_file():
        problems.append(("calidad.suite", _line_of(root, ("calidad",)), f"no existe la suite {suite.name}"))
    sql = dataset.ruta_sql()
    if sql is not None and not sql.is_file():
        problems.append(("fuente.consulta", _line_of(root, ("fuente",)), f"no existe la consulta {sql.name}"))
    if problems:
        raise CatalogError(path, problems)


def load_catalog(directory: Path | None = None) -> Catalog:
    """Load every ``*.yaml`` in the catalog folder and check cross-dataset rules."""
    directory = directory or settings.catalog_dir()
    datasets = [load_dataset(p) for p in sorted(directory.glob("*.yaml"))]
    seen: dict[str, str] = {}
    for d in datasets:
        if d.datos_gov_co and d.datos_gov_co.dataset_id:
            other = seen.setdefault(d.datos_gov_co.dataset_id, d.slug)
            if other != d.slug:
                raise CatalogError(
                    directory / f"{d.slug}.yaml",
                    [("datos_gov_co.dataset_id", None, f"ya lo usa el conjunto '{other}'")],
                )
    catalog = Catalog(datasets)
    from casanare.catalog_checks import warn_descriptions
    from casanare.priorizacion import report_on_load

    warn_descriptions(datasets, directory)
    catalog.avisos_priorizacion = report_on_load(catalog.datasets)
    return catalog


def json_schema() -> dict[str, Any]:
    """JSON Schema of a catalog file, committed for editors (``include/catalog/schema.json``)."""
    schema = Dataset.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Conjunto de datos del catálogo de Casanare"
    return schema


# Error reporting helpers ---------------------------------------------------------------------

_MESSAGES = {
    "missing": "campo obligatorio ausente",
    "extra_forbidden": "campo no permitido (¿error de escritura?)",
    "literal_error": "valor no permitido; opciones: {expected}",
    "string_pattern_mismatch": "formato inválido (patrón {pattern})",
    "string_too_short": "texto demasiado corto (mínimo {min_length})",
    "string_too_long": "texto demasiado largo (máximo {max_length})",
    "bool_parsing": "se esperaba sí/no (true/false)",
    "bool_type": "se esperaba sí/no (true/false)",
    "int_parsing": "se esperaba un número entero",
    "int_type": "se esperaba un número entero",
    "list_type": "se esperaba una lista",
    "too_short": "la lista necesita al menos {min_length} elemento(s)",
    "union_tag_invalid": "tipo de fuente inválido; opciones: {expected_tags}",
    "union_tag_not_found": "falta 'tipo' en la fuente (archivo o sql)",
    "value_error": "{error}",
    "greater_than_equal": "debe ser mayor o igual a {ge}",
    "less_than_equal": "debe ser menor o igual a {le}",
    "model_type": "se esperaba un mapa de campos",
    "model_attributes_type": "se esperaba un mapa de campos",
}


def _spanish(err: dict[str, Any]) -> str:
    template = _MESSAGES.get(err["type"])
    ctx = dict(err.get("ctx") or {})
    if err["type"] == "value_error":
        return str(ctx.get("error", err["msg"])).removeprefix("Value error, ")
    if err["type"] == "value_error" or template is None:
        return err["msg"]
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return err["msg"]


def _field_name(data: Any, loc: tuple[Any, ...]) -> str:
    """Dotted field path; list items of columns are shown by their column name."""
    parts: list[str] = []
    node = data
    for position, key in enumerate(loc):
        if isinstance(key, int):
            name = node[key].get("nombre") if isinstance(node, list) and isinstance(node[key], dict) else None
            parts.append(f"[{name}]" if name else f"[{key}]")
        elif isinstance(node, dict) and key in node:
            parts.append(f".{key}" if parts else key)
        else:
            # A discriminator tag added by pydantic (e.g. 'archivo') sits mid-path and is not a
            # YAML key; a missing field is the last element and must be named.
            if isinstance(node, dict) and position < len(loc) - 1:
                continue
            parts.append(f".{key}" if parts else str(key))
        node = node[key] if isinstance(node, dict | list) and _has(node, key) else None
    return "".join(parts) or "(raíz)"


def _has(node: Any, key: Any) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(key, int) and 0 <= key < len(node)


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node reachable along ``loc``."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if match is None:
                continue
            line = _key_line(node, key) or line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _key_line(node: yaml.MappingNode, key: str) -> int | None:
    for k, _ in node.value:
        if getattr(k, "value", None) == key:
            return k.start_mark.line + 1
    return None


def slug_valido(slug: str) -> bool:
    return re.fullmatch(SLUG_RE, slug) is not None
