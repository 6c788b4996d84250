"""Generador determinista de fuentes sintéticas para los conjuntos priorizados.

Produce, para cada conjunto priorizado del catálogo, un archivo fuente (xlsx, xls, ods, csv) o una
base SQL con datos ficticios pero realistas para la Gobernación de Casanare. Las mismas personas
sintéticas (``--personas``) aparecen en varios conjuntos, como ocurre en la realidad: la cédula de
un contratista puede estar también en una PQRSD o en el registro de vacunación.

Uso::

    python -m scripts.generar_fuentes --destino data/fuentes --filas 500 --semilla 2026
    python -m scripts.generar_fuentes --solo contratos_gobernacion \\
        --sql-url fuente_secop_local=postgresql+psycopg2://u:p@localhost/secop

Todas las fechas de negocio caen entre 2024-01-01 y ``FECHA_CORTE`` (fija, no ``today()``) para
que la salida sea reproducible. La única excepción es ``fecha_actualizacion`` de la fuente
incremental de contratos: una parte de las filas (5 %, mínimo 12) se marca como actualizada en los
ocho días previos a la generación (tres de ellas, en las tres horas previas), de modo que una corrida
cuyo intervalo sea "hoy" o "ayer" encuentre filas. ``ahora`` es la hora de pared de Bogotá sin zona,
nunca posterior a la hora UTC con la que el extractor cierra el intervalo. Pase ``ahora`` (o
``--ahora``) para obtener una base idéntica byte a byte.

La lista de personas nunca se escribe al disco: ``identificadores_originales(destino)`` vuelve a
leer las fuentes generadas y devuelve los identificadores originales para pruebas de fuga.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import re
import sqlite3
import sys
import time
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DIVIPOLA_CSV = REPO_ROOT / "include" / "reference" / "divipola_casanare.csv"

FECHA_CORTE = date(2026, 9, 30)
"""Fecha de corte fija de los datos sintéticos (ninguna fecha de negocio la supera)."""
FECHA_INICIO = date(2024, 1, 1)
BOGOTA = timezone(timedelta(hours=-5), "America/Bogota")  # Colombia no tiene horario de verano

LIMITE_XLS = 65_535  # filas de datos en una hoja Excel 97 (una fila va al encabezado)
LIMITE_ODS = 50_000  # odfpy es lento; más allá no tiene sentido para una fuente eventual

# Ruta relativa (bajo destino) de cada fuente de archivo y de cada base SQLite.
RUTAS: dict[str, str] = {
    "vacunacion_pai": "salud/vacunacion_pai.xlsx",
    "matricula_escolar": "educacion/simat.sqlite",
    "ejecucion_presupuestal_gastos": "hacienda/ejecucion_presupuestal_gastos.csv",
    "contratos_gobernacion": "contratacion/secop_local.sqlite",
    "emergencias_gestion_riesgo": "gestion_riesgo/emergencias.ods",
    "produccion_agropecuaria": "agricultura/produccion_agropecuaria.xls",
    "pqrsd_atencion_ciudadano": "atencion_ciudadano/pqrsd.csv",
    "red_vial_departamental": "infraestructura/red_vial_departamental.xlsx",
}
# Conexión de Airflow (campo ``fuente.conexion`` del catálogo) de cada fuente SQL.
CONEXIONES: dict[str, str] = {
    "matricula_escolar": "fuente_simat",
    "contratos_gobernacion": "fuente_secop_local",
}
CONJUNTOS: tuple[str, ...] = tuple(RUTAS)
# Conjuntos con personas (los demás no necesitan generar la población sintética).
PERSONALES: frozenset[str] = frozenset(
    {"vacunacion_pai", "matricula_escolar", "contratos_gobernacion", "emergencias_gestion_riesgo", "pqrsd_atencion_ciudadano"}
)

# --------------------------------------------------------------------------------------------
# Listas de referencia (todas ficticias o de conocimiento público)
# --------------------------------------------------------------------------------------------

NOMBRES_MUJER: tuple[str, ...] = (
    "MARÍA", "ANA", "LUZ", "CARMEN", "MARTHA", "SANDRA", "GLORIA", "CLAUDIA", "PATRICIA", "DIANA",
    "ANGIE", "PAOLA", "ANDREA", "CAROLINA", "ALEJANDRA", "NATALIA", "LAURA", "DANIELA", "VALENTINA",
    "CAMILA", "SOFÍA", "MARIANA", "ISABELLA", "SALOMÉ", "LUCIANA", "GABRIELA", "SARA", "VALERIA",
    "JULIANA", "MANUELA", "XIMENA", "ANTONELLA", "EMILY", "SAMANTHA", "YURI", "YULIETH", "LEIDY",
    "JOHANA", "MILENA", "ADRIANA", "BLANCA", "NUBIA", "OLGA", "LILIANA", "ÁNGELA", "MÓNICA", "YOLANDA",
    "BEATRIZ", "CECILIA", "NANCY", "DORA", "STELLA", "LUCÍA", "TERESA", "ELIZABETH", "MARLENE",
    "YANETH", "YADIRA", "JENNIFER", "KAREN", "TATIANA", "VIVIANA", "LORENA", "MARCELA", "CATALINA",
    "FERNANDA", "ESTEFANÍA", "MAYERLI", "YESENIA", "ERIKA", "LINA", "NATALY", "MARISOL", "ARACELY",
    "ROSALBA", "DORIS", "EDILMA", "NELLY", "AMANDA", "INÉS", "ISABEL", "EMILIA", "ANTONIA", "JIMENA",
    "DAYANA", "YURANY", "MAGDA", "GRACIELA", "HERMINIA", "ELVIA", "CARMENZA", "OFELIA", "MIRYAM",
    "NIDIA", "DEISY",
)
NOMBRES_HOMBRE: tuple[str, ...] = (
    "JOSÉ", "JUAN", "CARLOS", "LUIS", "JORGE", "PEDRO", "MIGUEL", "ANDRÉS", "DIEGO", "JAVIER",
    "FERNANDO", "ALEJANDRO", "OSCAR", "JAIRO", "EDGAR", "WILSON", "WILLIAM", "JHON", "FREDY", "NELSON",
    "HERNANDO", "HUGO", "ÁLVARO", "RAFAEL", "RICARDO", "MANUEL", "FRANCISCO", "ANTONIO", "GUSTAVO",
    "CÉSAR", "MAURICIO", "JULIÁN", "SEBASTIÁN", "SANTIAGO", "SAMUEL", "MATÍAS", "NICOLÁS", "DAVID",
    "DANIEL", "GABRIEL", "EMMANUEL", "THIAGO", "JERÓNIMO", "MATEO", "TOMÁS", "MARTÍN", "SIMÓN",
    "EMILIANO", "MAXIMILIANO", "CRISTIAN", "BRAYAN", "KEVIN", "STIVEN", "YEISON", "EDWIN", "ARLEY",
    "JAIDER", "HÉCTOR", "RAÚL", "ORLANDO", "ALBERTO", "EDUARDO", "ENRIQUE", "HERNÁN", "RUBÉN",
    "RODRIGO", "GERMÁN", "ARMANDO", "ALFONSO", "RAMIRO", "GILBERTO", "HUMBERTO", "LIBARDO", "ISIDRO",
    "EFRAÍN", "ELKIN", "FABIO", "OMAR", "GIOVANNY", "DUVÁN", "YESID", "FABIÁN", "CAMILO", "ESTEBAN",
    "FELIPE", "ADRIÁN", "ALEXÁNDER", "RIGOBERTO", "ARNULFO", "SAÚL", "ALIRIO", "LEONARDO", "VÍCTOR",
    "MARCO", "EDILSON", "WILMER",
)
APELLIDOS: tuple[str, ...] = (
    "PÉREZ", "GÓMEZ", "RODRÍGUEZ", "GONZÁLEZ", "MARTÍNEZ", "LÓPEZ", "GARCÍA", "HERNÁNDEZ", "SÁNCHEZ",
    "RAMÍREZ", "TORRES", "DÍAZ", "MORENO", "VARGAS", "JIMÉNEZ", "ROJAS", "MUÑOZ", "CASTRO", "ORTIZ",
    "RUIZ", "SUÁREZ", "HERRERA", "ROMERO", "MEDINA", "ÁLVAREZ", "GUTIÉRREZ", "CASTILLO", "RAMOS",
    "AGUILAR", "CABRERA", "CÁRDENAS", "PINEDA", "MEJÍA", "OSORIO", "GIRALDO", "RESTREPO", "ARIAS",
    "CARDONA", "VALENCIA", "QUINTERO", "OSPINA", "ACOSTA", "BECERRA", "PARRA", "PEÑA", "CHAPARRO",
    "BARRERA", "CAMARGO", "BUITRAGO", "CRISTANCHO", "PIDIACHE", "CUSBA", "TUMAY", "SALCEDO", "ALARCÓN",
    "AVELLA", "BOHÓRQUEZ", "BERNAL", "CORREDOR", "CELY", "MONTAÑEZ", "PATIÑO", "PINTO", "PULIDO",
    "SALAMANCA", "SANABRIA", "SILVA", "URREGO", "VELANDIA", "VILLAMIL", "ZAMBRANO", "AVENDAÑO",
    "BAUTISTA", "CAMACHO", "CARO", "CASTAÑEDA", "CORTÉS", "CUERVO", "DUARTE", "ESPINOSA", "FAJARDO",
    "FONSECA", "FORERO", "GALINDO", "GAMBOA", "GUERRERO", "GUEVARA", "HIGUERA", "HURTADO",
    "LEGUIZAMÓN", "LIZARAZO", "MALAVER", "MANRIQUE", "MARIÑO", "MENDOZA", "MOLINA", "MONTOYA",
    "MORALES", "NAVARRO", "NIETO", "OCHOA", "ORJUELA", "ORTEGA", "PACHECO", "PÁEZ", "PRIETO", "REYES",
    "RIAÑO", "RIVERA", "ROA", "SALGADO", "SANDOVAL", "SARMIENTO", "SOLER", "SOTO", "TÉLLEZ", "TOVAR",
    "TRIANA", "URIBE", "VALDERRAMA", "VANEGAS", "VELÁSQUEZ", "VERA", "VILLAMIZAR", "ZAPATA", "ZÁRATE",
    "ARAQUE", "ARÉVALO", "BARRAGÁN", "BELTRÁN", "BENÍTEZ", "BONILLA", "CALDERÓN", "CÁCERES", "CEPEDA",
    "CHAVES", "CIFUENTES", "CONTRERAS", "CUBIDES", "DAZA", "DELGADO", "ESCOBAR", "FIGUEROA", "FLÓREZ",
    "GALEANO", "GAITÁN", "GARZÓN", "GUALDRÓN", "HOLGUÍN", "JAIMES", "LADINO", "LOZANO", "MACÍAS",
    "MATEUS", "MOSQUERA", "MURILLO", "NOVOA", "OROZCO", "POVEDA", "QUIROGA", "SAAVEDRA", "SALAZAR",
    "SEPÚLVEDA", "USECHE", "VARÓN", "VIVAS", "YEPES", "ZAMORA", "ZULUAGA", "AMAYA", "ARCINIEGAS",
    "BARÓN", "BURGOS", "CAICEDO", "CHACÓN", "CORONADO", "ESTUPIÑÁN", "GALVIS", "GUARÍN", "HIDALGO",
    "JARAMILLO", "LARA", "LEMUS", "MALDONADO", "MÁRQUEZ", "MOYANO", "NOSSA", "OLARTE", "PEDRAZA",
    "PORRAS", "QUIÑONES", "RIVEROS", "ROBAYO", "UMAÑA", "VALBUENA", "VILLARREAL", "WILCHES",
    "BARRETO", "BAYONA", "FANDIÑO", "GORDILLO", "NÚÑEZ", "OVIEDO", "PERILLA", "SOLANO", "TARAZONA",
    "VIRGÜEZ",
)

# Población aproximada (miles de habitantes) por código DIVIPOLA: pondera dónde vive la gente.
POBLACION_MILES: dict[str, float] = {
    "85001": 180, "85010": 40, "85015": 2.2, "85125": 13, "85136": 1.5, "85139": 13, "85162": 16,
    "85225": 9, "85230": 14, "85250": 30, "85263": 8, "85279": 2, "85300": 3, "85315": 2, "85325": 8,
    "85400": 7, "85410": 27, "85430": 14, "85440": 28,
}
VEREDAS: dict[str, tuple[str, ...]] = {
    "85001": ("La Chaparrera", "El Morro", "Tacarimena", "Quebradaseca", "Palomas", "La Niata", "Morichal"),
    "85010": ("Cupiagua", "Unete", "Monterralo", "Plan Brisas", "Cunama", "Retiro San Juan"),
    "85015": ("Centro Chámeza", "Guanapalo Alto", "El Volcán"),
    "85125": ("Chire", "La Chapa", "Puerto Colombia", "Manare"),
    "85136": ("Romeral", "El Guamo", "Alto Pajarito"),
    "85139": ("Santa Helena de Cusiva", "Gaviotas", "Chavinave", "Guafal Pintado"),
    "85162": ("Palmichal", "Brisas del Tua", "El Porvenir", "Vijagual"),
    "85225": ("Caucho", "Tocaría", "El Pretexto", "Pedregal"),
    "85230": ("El Algarrobo", "Banco de la Cañada", "Tucuco", "Remolino"),
    "85250": ("Caño Chiquito", "Montañas del Totumo", "La Motuz", "Centro Gaitán", "Bocas del Ariporo"),
    "85263": ("La Plata", "El Banco", "Los Alpes", "Brito Alto"),
    "85279": ("Centro Recetor", "Los Alpes de Recetor", "Vegas de Recetor"),
    "85300": ("Aguaclara", "Caribayona", "El Secreto"),
    "85315": ("Los Curos", "La Esperanza de Sácama", "Cerro Rubio"),
    "85325": ("Miramar de Guanapalo", "Macuco", "Palmarito", "Jagüeyes"),
    "85400": ("Tabloncito", "Iquía", "Guayabal", "Teislandia"),
    "85410": ("Paso Cusiana", "Aceite Alto", "Chaparral", "Guafal", "Cuernavaca"),
    "85430": ("Bocas del Pauto", "El Convento", "Santa Marta de Trinidad", "Los Chochos"),
    "85440": ("Caribayona Baja", "Santa Helena de Upía", "Buenos Aires", "La Libertad"),
}
RIOS: dict[str, str] = {
    "85001": "Cravo Sur", "85010": "Unete", "85015": "Lengupá", "85125": "Ariporo", "85136": "Casanare",
    "85139": "Cusiana", "85162": "Tua", "85225": "Tocaría", "85230": "Meta", "85250": "Ariporo",
    "85263": "Guachiría", "85279": "Recetoreño", "85300": "Upía", "85315": "Casanare",
    "85325": "Pauto", "85400": "Pauto", "85410": "Cusiana", "85430": "Pauto", "85440": "Upía",
}
BARRIOS: tuple[str, ...] = (
    "Centro", "El Remanso", "La Campiña", "Los Helechos", "El Bicentenario", "La Primavera",
    "Llano Lindo", "El Progreso", "Brisas del Cravo", "Villa del Prado", "Las Américas", "El Oasis",
    "Provivienda", "Nuevo Milenio", "Caracaros", "Las Palmeras",
)
FINCAS: tuple[str, ...] = (
    "El Recreo", "La Fortuna", "El Paraíso", "Los Naranjos", "El Porvenir", "Las Palmas", "La Ponderosa",
    "El Encanto", "Buenos Aires", "La Reforma", "El Diamante", "Los Morichales",
)
DOMINIOS_CORREO: tuple[str, ...] = ("gmail.com", "gmail.com", "gmail.com", "hotmail.com", "outlook.com", "yahoo.es")
PREFIJOS_NUIP: tuple[str, ...] = ("1118", "1116", "1115", "1119", "1193", "1006", "1057", "1121")
PREFIJOS_MOVIL: tuple[str, ...] = (
    "300", "301", "302", "304", "305", "310", "311", "312", "313", "314", "315", "316", "317", "318",
    "319", "320", "321", "322", "323", "324", "350", "351",
)

SECRETARIAS: tuple[str, ...] = (
    "Secretaría de Salud",
    "Secretaría de Educación",
    "Secretaría de Hacienda",
    "Secretaría de Obras Públicas e Infraestructura",
    "Secretaría de Agricultura, Ganadería y Medio Ambiente",
    "Secretaría General",
    "Secretaría de Gobierno y Seguridad Ciudadana",
    "Secretaría de Planeación",
    "Secretaría de Desarrollo Social",
    "Secretaría Jurídica y de Contratación",
    "Oficina para la Gestión del Riesgo de Desastres",
)

# --------------------------------------------------------------------------------------------
# Utilidades
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Municipio:
    codigo: str
    nombre: str
    latitud: float
    longitud: float


def municipios() -> list[Municipio]:
    with DIVIPOLA_CSV.open(encoding="utf-8", newline="") as fh:
        return [
            Municipio(r["codigo_municipio"], r["municipio"], float(r["latitud"]), float(r["longitud"]))
            for r in csv.DictReader(fh)
        ]


def nombres_de_referencia() -> list[str]:
    """Every given name and surname used by the generator (unique, upper case)."""
    return list(dict.fromkeys((*NOMBRES_MUJER, *NOMBRES_HOMBRE, *APELLIDOS)))


def _rng(semilla: int, etiqueta: str) -> tuple[random.Random, np.random.Generator]:
    """Independent, stable generators per dataset: ``--solo`` does not change other outputs."""
    mezcla = (semilla * 1_000_003 + zlib.crc32(etiqueta.encode("utf-8"))) & 0xFFFFFFFF
    return random.Random(mezcla), np.random.default_rng(mezcla)


def _sin_tildes(texto: str) -> str:
    norm = unicodedata.normalize("NFKD", texto)
    return "".join(c for c in norm if not unicodedata.combining(c))


def _fecha_aleatoria(rnd: random.Random, desde: date, hasta: date) -> date:
    return desde + timedelta(days=rnd.randint(0, max(0, (hasta - desde).days)))


def _edad(nacimiento: date, en: date) -> int:
    return en.year - nacimiento.year - ((en.month, en.day) < (nacimiento.month, nacimiento.day))


def _restar_anios(fecha: date, anios: int) -> date:
    try:
        return fecha.replace(year=fecha.year - anios)
    except ValueError:  # 29 de febrero
        return fecha.replace(year=fecha.year - anios, day=28)


def _formato_co(valor: float) -> str:
    """1234567.891 -> '1.234.567,89' (separador de miles punto, decimales coma)."""
    return f"{valor:,.2f}".translate(_TABLA_CO)


_TABLA_CO = str.maketrans({",": ".", ".": ","})


def _trozos(n: int, tamano: int) -> Iterator[tuple[int, int]]:
    for inicio in range(0, n, tamano):
        yield inicio, min(n, inicio + tamano)


def _avisar(mensaje: str) -> None:
    print(f"aviso: {mensaje}", file=sys.stderr)


# --------------------------------------------------------------------------------------------
# Personas sintéticas compartidas entre conjuntos
# --------------------------------------------------------------------------------------------


@dataclass
class Personas:
    documento: list[str]
    nombres: list[str]
    apellidos: list[str]
    sexo: list[str]
    nacimiento: list[date]
    telefono: list[str | None]
    correo: list[str | None]
    direccion: list[str]
    municipio: list[str]
    ninos: list[int]  # 0 a 5 años a la fecha de corte
    escolares: list[int]  # 7 a 17 años
    adultos: list[int]  # 18 años o más
    mayores: list[int]  # 60 años o más

    def nombre_completo(self, i: int) -> str:
        return f"{self.nombres[i]} {self.apellidos[i]}"

    def tipo_documento(self, i: int, en: date = FECHA_CORTE) -> str:
        edad = _edad(self.nacimiento[i], en)
        if edad < 7:
            return "RC"
        if edad < 18:
            return "TI"
        doc = self.documento[i]
        return "PPT" if doc.startswith("6") and len(doc) == 8 else "CC"


def personas_generadas(semilla: int, n: int) -> Personas:
    """The synthetic people shared by every dataset (kept in memory only)."""
    n = max(200, n)
    rnd, _ = _rng(semilla, "personas")
    munis = municipios()
    codigos = [m.codigo for m in munis]
    pesos = [POBLACION_MILES[c] for c in codigos]
    usados: set[str] = set()
    telefonos: set[str] = set()
    correos: set[str] = set()
    p = Personas([], [], [], [], [], [], [], [], [], [], [], [], [])
    for i in range(n):
        segmento = rnd.random()
        if segmento < 0.30:  # niños: objetivo principal del PAI
            nacimiento = FECHA_CORTE - timedelta(days=rnd.randint(20, 6 * 365 - 1))
        elif segmento < 0.52:  # edad escolar
            nacimiento = FECHA_CORTE - timedelta(days=rnd.randint(7 * 365 + 2, 18 * 365 - 2))
        else:  # adultos, más jóvenes que viejos
            edad = 18 + int(abs(rnd.gauss(0, 24)))
            edad = min(edad, 95)
            nacimiento = _restar_anios(FECHA_CORTE, edad) - timedelta(days=rnd.randint(1, 364))
        sexo = "F" if rnd.random() < 0.505 else "M"
        nombres_sexo = NOMBRES_MUJER if sexo == "F" else NOMBRES_HOMBRE
        nombres = rnd.choice(nombres_sexo)
        if rnd.random() < 0.55:
            segundo = rnd.choice(nombres_sexo)
            if segundo != nombres:
                nombres = f"{nombres} {segundo}"
        apellidos = f"{rnd.choice(APELLIDOS)} {rnd.choice(APELLIDOS)}"
        edad_corte = _edad(nacimiento, FECHA_CORTE)
        documento = _documento_unico(rnd, usados, nacimiento, sexo, edad_corte)
        if edad_corte >= 14 or rnd.random() < 0.6:  # los niños dan el celular del acudiente
            telefono = _unico(telefonos, lambda: rnd.choice(PREFIJOS_MOVIL) + f"{rnd.randint(0, 9_999_999):07d}")
        else:
            telefono = None
        correo = None
        if edad_corte >= 16 and rnd.random() < 0.8:
            base = (
                _sin_tildes(nombres.split()[0]).lower()
                + rnd.choice((".", "", "_"))
                + _sin_tildes(apellidos.split()[0]).lower().replace("ñ", "n")
            )
            dominio = rnd.choice(DOMINIOS_CORREO)
            correo = _unico(correos, lambda b=base, d=dominio: f"{b}{rnd.randint(1, 999)}@{d}")
        municipio = rnd.choices(codigos, weights=pesos)[0]
        if rnd.random() < (0.75 if municipio == "85001" else 0.55):
            via = rnd.choice(("Calle", "Carrera", "Diagonal", "Transversal"))
            direccion = (
                f"{via} {rnd.randint(1, 50)} # {rnd.randint(1, 40)}-{rnd.randint(2, 99)} "
                f"Barrio {rnd.choice(BARRIOS)}"
            )
        else:
            direccion = f"Vereda {rnd.choice(VEREDAS[municipio])}, Finca {rnd.choice(FINCAS)}"
        p.documento.append(documento)
        p.nombres.append(nombres)
        p.apellidos.append(apellidos)
        p.sexo.append(sexo)
        p.nacimiento.append(nacimiento)
        p.telefono.append(telefono)
        p.correo.append(correo)
        p.direccion.append(direccion)
        p.municipio.append(municipio)
        if edad_corte <= 5:
            p.ninos.append(i)
        elif 7 <= edad_corte <= 17:
            p.escolares.append(i)
        if edad_corte >= 18:
            p.adultos.append(i)
        if edad_corte >= 60:
            p.mayores.append(i)
    # Pools never empty, even for tiny n.
    for pool in (p.ninos, p.escolares, p.adultos, p.mayores):
        if not pool:
            pool.extend(p.adultos or list(range(n)))
    return p


def _unico(vistos: set[str], crear: Any) -> str:
    while True:
        valor = crear()
        if valor not in vistos:
            vistos.add(valor)
            return valor


def _documento_unico(rnd: random.Random, usados: set[str], nacimiento: date, sexo: str, edad: int) -> str:
    def crear() -> str:
        if nacimiento.year >= 1990 or edad < 18:
            if edad < 18 and 2004 <= nacimiento.year <= 2012 and rnd.random() < 0.3:
                # Tarjeta de identidad antigua de 11 dígitos (AAMMDD + 5 dígitos).
                return nacimiento.strftime("%y%m%d") + f"{rnd.randint(0, 99_999):05d}"
            return rnd.choice(PREFIJOS_NUIP) + f"{rnd.randint(0, 999_999):06d}"
        if rnd.random() < 0.04:
            return f"{rnd.randint(60_000_000, 69_999_999)}"  # permiso (PPT) de migrante
        if sexo == "F":
            return f"{rnd.randint(20_000_000, 59_999_999)}"
        return f"{rnd.choice((rnd.randint(10_000_000, 19_999_999), rnd.randint(74_000_000, 99_999_999)))}"

    return _unico(usados, crear)


# --------------------------------------------------------------------------------------------
# 1. Vacunación PAI (xlsx con títulos y encabezado combinado de dos filas)
# --------------------------------------------------------------------------------------------

ESQUEMA_PAI: tuple[tuple[int, int, tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    (0, 0, (("BCG", ("Única",)), ("Hepatitis B", ("Recién nacido",)), ("Pentavalente", ("Primera", "Segunda", "Tercera")),
            ("Polio (VIP)", ("Primera", "Segunda", "Tercera")), ("Rotavirus", ("Primera", "Segunda")),
            ("Neumococo", ("Primera", "Segunda")), ("Influenza", ("Primera", "Segunda")))),
    (1, 1, (("Triple viral (SRP)", ("Primera",)), ("Neumococo", ("Refuerzo 1",)), ("Hepatitis A", ("Única",)),
            ("Varicela", ("Primera",)), ("Fiebre amarilla", ("Única",)), ("DPT", ("Refuerzo 1",)),
            ("Polio (VIP)", ("Refuerzo 1",)), ("Influenza", ("Anual",)))),
    (2, 4, (("Influenza", ("Anual",)), ("Fiebre amarilla", ("Única",)), ("Triple viral (SRP)", ("Segunda",)))),
    (5, 6, (("DPT", ("Refuerzo 2",)), ("Polio (VIP)", ("Refuerzo 2",)), ("Triple viral (SRP)", ("Refuerzo 1",)),
            ("Varicela", ("Refuerzo 1",)))),
    (7, 17, (("VPH", ("Única",)), ("Td/Tdap", ("Primera", "Segunda")), ("Influenza", ("Anual",)))),
    (18, 59, (("Td/Tdap", ("Primera", "Segunda", "Refuerzo 1")), ("Fiebre amarilla", ("Única",)),
              ("Influenza", ("Anual",)), ("COVID-19", ("Refuerzo 1",)))),
    (60, 120, (("Influenza", ("Anual",)), ("Neumococo", ("Única",)), ("COVID-19", ("Refuerzo 1", "Refuerzo 2")),
               ("Td/Tdap", ("Refuerzo 1",)))),
)
BIOLOGICOS_PAI: tuple[str, ...] = tuple(
    sorted({b for _, _, lista in ESQUEMA_PAI for b, _ in lista})
)
DOSIS_PAI: tuple[str, ...] = tuple(sorted({d for _, _, lista in ESQUEMA_PAI for _, ds in lista for d in ds}))


def ips_por_municipio(munis: Iterable[Municipio]) -> dict[str, tuple[str, ...]]:
    ips: dict[str, tuple[str, ...]] = {}
    for m in munis:
        if m.codigo == "85001":
            ips[m.codigo] = ("ESE Salud Yopal", "Hospital Regional de la Orinoquía ESE", "Clínica Casanare")
        else:
            ips[m.codigo] = (f"Red Salud Casanare ESE - {m.nombre}",)
    return ips


# Municipios con hospital de mediana complejidad; desde los demás muchos viajan a vacunarse a Yopal.
MUNICIPIOS_CON_HOSPITAL: frozenset[str] = frozenset({"85001", "85010", "85250", "85410", "85440"})

ENCABEZADO_PAI: tuple[tuple[str | None, str], ...] = (
    (None, "Consecutivo"),
    ("Datos del paciente", "Tipo documento"),
    ("Datos del paciente", "Número documento"),
    ("Datos del paciente", "Nombres"),
    ("Datos del paciente", "Apellidos"),
    ("Datos del paciente", "Fecha nacimiento"),
    ("Datos del paciente", "Edad (años)"),
    ("Datos del paciente", "Sexo"),
    ("Datos del paciente", "Teléfono"),
    ("Datos del paciente", "Dirección"),
    ("Aplicación", "Biológico"),
    ("Aplicación", "Dosis"),
    ("Aplicación", "Fecha aplicación"),
    ("Aplicación", "Institución vacunadora"),
    (None, "Código municipio"),
    (None, "Municipio"),
)
FILA_ENCABEZADO_PAI = 4  # filas 1-3: títulos y una fila en blanco; 4-5: encabezado combinado


def filas_vacunacion(personas: Personas, filas: int, semilla: int) -> list[list[Any]]:
    rnd, _ = _rng(semilla, "vacunacion_pai")
    munis = {m.codigo: m for m in municipios()}
    ips = ips_por_municipio(munis.values())
    registros: list[tuple[date, list[Any]]] = []
    while len(registros) < filas:
        # Una visita: a los lactantes se les aplican varios biológicos el mismo día.
        grupo = rnd.random()
        hasta = FECHA_CORTE
        if grupo < 0.95:  # el esquema regular del PAI es casi todo de menores de 5 años
            i = rnd.choice(personas.ninos)
            hasta = min(FECHA_CORTE, _restar_anios(personas.nacimiento[i], -5) - timedelta(days=1))
        elif grupo < 0.98:
            i = rnd.choice(personas.escolares)
        elif grupo < 0.995:
            i = rnd.choice(personas.mayores)
        else:
            i = rnd.choice(personas.adultos)
        nacimiento = personas.nacimiento[i]
        aplicacion = _fecha_aleatoria(rnd, max(FECHA_INICIO, nacimiento), hasta)
        edad = _edad(nacimiento, aplicacion)
        opciones = next(lista for lo, hi, lista in ESQUEMA_PAI if lo <= edad <= hi)
        cuantas = rnd.choice((1, 2, 3, 3, 4)) if edad <= 1 else rnd.choice((1, 1, 2))
        muni = personas.municipio[i]
        if muni not in MUNICIPIOS_CON_HOSPITAL and rnd.random() < 0.55:
            muni = "85001"  # muchos se vacunan en Yopal: el municipio es el de la IPS vacunadora
        ips_visita = rnd.choice(ips[muni])
        for biologico, dosis_posibles in rnd.sample(opciones, k=min(cuantas, len(opciones), filas - len(registros))):
            registros.append(
                (
                    aplicacion,
                    [
                        personas.tipo_documento(i, aplicacion),
                        personas.documento[i],
                        personas.nombres[i],
                        personas.apellidos[i],
                        nacimiento,
                        edad,
                        personas.sexo[i],
                        personas.telefono[i],
                        personas.direccion[i],
                        biologico,
                        rnd.choice(dosis_posibles),
                        aplicacion,
                        ips_visita,
                        muni,
                        munis[muni].nombre,
                    ],
                )
            )
    registros.sort(key=lambda r: r[0])
    return [[f"PAI-{n:07d}", *fila] for n, (_, fila) in enumerate(registros, start=1)]


def escribir_vacunacion(ruta: Path, filas: list[list[Any]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Vacunados")
    negrita = Font(bold=True)
    centro = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def celda(valor: Any, **estilo: Any) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=valor)
        for k, v in estilo.items():
            setattr(c, k, v)
        return c

    ancho = len(ENCABEZADO_PAI)
    ws.append([celda("GOBERNACIÓN DE CASANARE - SECRETARÍA DE SALUD DEPARTAMENTAL", font=Font(bold=True, size=14))])
    ws.append([celda(f"Programa Ampliado de Inmunizaciones (PAI) - Registro nominal de vacunación. Corte: {FECHA_CORTE:%d/%m/%Y}")])
    ws.append([])
    ws.append([celda(grupo if grupo else sub, font=negrita, alignment=centro) for grupo, sub in ENCABEZADO_PAI])
    ws.append([celda(None if grupo is None else sub, font=negrita, alignment=centro) for grupo, sub in ENCABEZADO_PAI])
    fila_grupo = FILA_ENCABEZADO_PAI
    ws.merged_cells.add(f"A1:{get_column_letter(ancho)}1")
    ws.merged_cells.add(f"A2:{get_column_letter(ancho)}2")
    col = 1
    while col <= ancho:
        grupo = ENCABEZADO_PAI[col - 1][0]
        letra = get_column_letter(col)
        if grupo is None:
            ws.merged_cells.add(f"{letra}{fila_grupo}:{letra}{fila_grupo + 1}")
            col += 1
            continue
        fin = col
        while fin < ancho and ENCABEZADO_PAI[fin][0] == grupo:
            fin += 1
        ws.merged_cells.add(f"{letra}{fila_grupo}:{get_column_letter(fin)}{fila_grupo}")
        col = fin + 1
    fechas = {5, 12}  # posiciones de fecha dentro de la fila
    for fila in filas:
        ws.append(
            [celda(v, number_format="DD/MM/YYYY") if k in fechas else v for k, v in enumerate(fila)]
        )
    wb.properties.creator = "Secretaría de Salud de Casanare"
    wb.properties.created = datetime(2026, 10, 1, 8, 0)
    ruta.parent.mkdir(parents=True, exist_ok=True)
    wb.save(ruta)


# --------------------------------------------------------------------------------------------
# 2. Matrícula escolar (SQL: tablas sede y matricula, como una réplica del SIMAT)
# --------------------------------------------------------------------------------------------

JORNADAS: tuple[str, ...] = ("Mañana", "Tarde", "Única", "Nocturna", "Fin de semana")
ESTADOS_MATRICULA: tuple[str, ...] = ("Matriculado", "Retirado", "Trasladado")
ZONAS: tuple[str, ...] = ("Urbana", "Rural")


def filas_sedes(semilla: int) -> list[dict[str, Any]]:
    rnd, _ = _rng(semilla, "sedes")
    sedes: list[dict[str, Any]] = []
    for m in municipios():
        peso = POBLACION_MILES[m.codigo]
        urbanas = max(1, round(peso / 10))
        rurales = max(2, round(peso / 20))
        consecutivo = 0
        for zona, cantidad in (("Urbana", urbanas), ("Rural", rurales)):
            for k in range(cantidad):
                consecutivo += rnd.randint(1, 40)
                digito_zona = "1" if zona == "Urbana" else "2"
                codigo = f"{digito_zona}{m.codigo}{consecutivo:06d}"
                if zona == "Urbana":
                    establecimiento = f"Institución Educativa {m.nombre} N.° {k // 3 + 1}"
                    nombre = f"{establecimiento} - Sede {k % 3 + 1}"
                else:
                    vereda = VEREDAS[m.codigo][k % len(VEREDAS[m.codigo])]
                    establecimiento = f"Centro Educativo Rural {m.nombre}"
                    nombre = f"Sede Rural {vereda}" + (f" {k // len(VEREDAS[m.codigo]) + 1}" if k >= len(VEREDAS[m.codigo]) else "")
                sedes.append(
                    {
                        "codigo_dane_sede": codigo,
                        "nombre_sede": nombre,
                        "nombre_establecimiento": establecimiento,
                        "codigo_municipio": m.codigo,
                        "zona": zona,
                        "sector": "Oficial",
                    }
                )
    return sedes


def filas_matricula(personas: Personas, filas: int, semilla: int) -> list[dict[str, Any]]:
    """Enrolment rows, generated sede by sede like a SIMAT extract.

    Each block is one sede with the same students in 2024, 2025 and 2026 (they move up a grade
    each year). Small extracts therefore cover a few whole sedes instead of scattering single
    students over the 19 municipalities, which keeps every (sexo, municipio, zona) class with
    several distinct students: k-anonymity (k=5) holds even at 150 rows.
    """
    rnd, _ = _rng(semilla, "matricula_escolar")
    sedes = filas_sedes(semilla)
    # Orden ponderado sin reemplazo (Efraimidis-Spirakis): las sedes urbanas de municipios grandes primero.
    peso = {s["codigo_dane_sede"]: POBLACION_MILES[s["codigo_municipio"]] * (3 if s["zona"] == "Urbana" else 1) for s in sedes}
    orden = sorted(sedes, key=lambda s: rnd.random() ** (1 / peso[s["codigo_dane_sede"]]), reverse=True)
    rural = next(k for k, s in enumerate(orden) if s["zona"] == "Rural")
    if rural > 1:  # aun un extracto pequeño trae sedes urbanas y rurales
        orden.insert(1, orden.pop(rural))
    anios = (2024, 2025, 2026)
    por_muni: dict[str, list[int]] = {}
    for i in personas.escolares:
        por_muni.setdefault(personas.municipio[i], []).append(i)
    for lista in por_muni.values():
        rnd.shuffle(lista)
    todos = list(personas.escolares)
    rnd.shuffle(todos)
    cursor: dict[str, int] = {}

    def siguiente(muni: str) -> int:
        lista = por_muni.get(muni) or todos
        clave = muni if muni in por_muni else "*"
        k = cursor.get(clave, 0)
        cursor[clave] = k + 1
        if k >= len(lista):  # municipio agotado: estudiantes de otros municipios
            k2 = cursor.get("*", 0)
            cursor["*"] = k2 + 1
            return todos[k2 % len(todos)]
        return lista[k]

    por_bloque = max(15, filas // (len(anios) * len(sedes)))
    bloques = max(1, filas // (len(anios) * por_bloque))
    tamanos = [filas // bloques + (1 if b < filas % bloques else 0) for b in range(bloques)]
    salida: list[dict[str, Any]] = []
    for b, tamano in enumerate(tamanos):
        sede = orden[b % len(orden)]
        estudiantes = [siguiente(sede["codigo_municipio"]) for _ in range(math.ceil(tamano / len(anios)))]
        jornada_sede = rnd.choice(("Mañana", "Única")) if sede["zona"] == "Rural" else None
        filas_bloque = 0
        for anio in anios:
            corte = date(anio, 3, 31)
            for i in estudiantes:
                if filas_bloque >= tamano:
                    break
                filas_bloque += 1
                edad = _edad(personas.nacimiento[i], corte)
                grado = min(11, max(0, edad - 6 + rnd.choice((-1, 0, 0, 0, 0, 1))))
                jornada = jornada_sede or rnd.choices(
                    JORNADAS, weights=(46, 20, 30, 3 if edad >= 15 else 0, 1 if edad >= 15 else 0)
                )[0]
                estado = rnd.choices(ESTADOS_MATRICULA, weights=(90, 6, 4))[0]
                salida.append(
                    {
                        "id_matricula": f"MAT-{anio}-{len(salida) + 1:07d}",
                        "anio": anio,
                        "codigo_dane_sede": sede["codigo_dane_sede"],
                        "tipo_documento": personas.tipo_documento(i, corte),
                        "numero_documento": personas.documento[i],
                        "nombres": personas.nombres[i],
                        "apellidos": personas.apellidos[i],
                        "fecha_nacimiento": personas.nacimiento[i],
                        "genero": personas.sexo[i],
                        "grado": grado,
                        "jornada": jornada,
                        "estado": estado,
                        "fecha_matricula": _fecha_aleatoria(rnd, date(anio - 1, 11, 15), date(anio, 3, 15)),
                    }
                )
    return salida


# --------------------------------------------------------------------------------------------
# 3. Ejecución presupuestal de gastos (CSV cp1252, ';', 1.234.567,89)
# --------------------------------------------------------------------------------------------

RUBROS_FUNCIONAMIENTO: tuple[tuple[str, str], ...] = (
    ("2.1.1.01.01.001.01", "Sueldo básico"),
    ("2.1.1.01.01.001.06", "Prima de servicio"),
    ("2.1.1.01.02.001", "Aportes a la seguridad social en pensiones"),
    ("2.1.1.01.02.002", "Aportes a la seguridad social en salud"),
    ("2.1.2.02.01.003", "Materiales y suministros de oficina"),
    ("2.1.2.02.02.006", "Servicios de alojamiento, comidas y bebidas (viáticos)"),
    ("2.1.2.02.02.008", "Servicios prestados a las empresas y servicios de producción"),
    ("2.1.3.07.02.001", "Mesadas pensionales a cargo de la entidad"),
    ("2.1.8.04.01", "Cuota de fiscalización y auditaje - Contraloría Departamental"),
)
PROGRAMAS_INVERSION: tuple[tuple[str, str], ...] = (
    ("1905", "Salud pública: vacunación y vigilancia epidemiológica"),
    ("1906", "Aseguramiento y prestación integral de servicios de salud"),
    ("2201", "Calidad, cobertura y fortalecimiento de la educación inicial, preescolar, básica y media"),
    ("2202", "Alimentación escolar (PAE)"),
    ("2402", "Infraestructura red vial regional: mejoramiento de vías secundarias"),
    ("1702", "Inclusión productiva de pequeños productores rurales"),
    ("1709", "Infraestructura productiva y comercialización agropecuaria"),
    ("3202", "Conservación de la biodiversidad y sus servicios ecosistémicos"),
    ("4301", "Fomento a la recreación, la actividad física y el deporte"),
    ("3301", "Promoción y acceso efectivo a procesos culturales y artísticos"),
    ("4102", "Desarrollo integral de niños, niñas, adolescentes y sus familias"),
    ("4103", "Inclusión social y productiva para la población en situación de vulnerabilidad"),
    ("4502", "Fortalecimiento de la convivencia y la seguridad ciudadana"),
    ("4503", "Gestión del riesgo de desastres y atención de emergencias"),
    ("4599", "Fortalecimiento a la gestión y dirección de la administración pública territorial"),
    ("4001", "Acceso a soluciones de vivienda"),
    ("4003", "Acceso de la población a los servicios de agua potable y saneamiento básico"),
    ("2102", "Consolidación productiva del sector de energía eléctrica"),
)
FUENTES_FINANCIACION: tuple[tuple[str, str], ...] = (
    ("RP", "Recursos propios - ICLD"),
    ("SGPE", "SGP Educación"),
    ("SGPS", "SGP Salud"),
    ("SGPA", "SGP Agua potable y saneamiento básico"),
    ("SGR", "Sistema General de Regalías"),
    ("EST", "Estampilla Pro Desarrollo Departamental"),
    ("COF", "Cofinanciación Nación"),
    ("CRE", "Recursos del crédito"),
)
ENCABEZADO_PRESUPUESTO: tuple[str, ...] = (
    "Id registro", "Vigencia", "Trimestre", "Código rubro", "Nombre rubro", "Fuente de financiación",
    "Apropiación inicial", "Apropiación definitiva", "Compromisos", "Obligaciones", "Pagos",
)


def _periodos_trimestrales() -> list[tuple[int, int]]:
    periodos = []
    for anio in range(FECHA_INICIO.year, FECHA_CORTE.year + 1):
        for t in range(1, 5):
            fin = date(anio, 3 * t, 1)
            if fin <= FECHA_CORTE:
                periodos.append((anio, t))
    return periodos


def filas_presupuesto(filas: int, semilla: int) -> list[list[str]]:
    rnd, npr = _rng(semilla, "ejecucion_presupuestal_gastos")
    periodos = _periodos_trimestrales()
    n_rubros = math.ceil(filas / len(periodos))
    rubros: list[tuple[str, str, str]] = []
    contador: dict[str, int] = {}
    for k in range(n_rubros):
        if k % 5 == 0:
            cuenta, nombre = RUBROS_FUNCIONAMIENTO[(k // 5) % len(RUBROS_FUNCIONAMIENTO)]
            fuente = FUENTES_FINANCIACION[0] if rnd.random() < 0.8 else FUENTES_FINANCIACION[5]
            secuencia = contador[cuenta] = contador.get(cuenta, 0) + 1
            codigo = f"{cuenta}.{secuencia:02d}-{fuente[0]}"
        else:
            sector, nombre = rnd.choice(PROGRAMAS_INVERSION)
            fuente = rnd.choice(FUENTES_FINANCIACION)
            secuencia = contador[sector] = contador.get(sector, 0) + 1
            codigo = f"2.3.2.02.02.{sector}{secuencia:03d}-{fuente[0]}"
        rubros.append((codigo, nombre, fuente[1]))
    # Apropiación inicial por rubro y vigencia (lognormal: muchos rubros pequeños, pocos grandes).
    vigencias = sorted({a for a, _ in periodos})
    inicial = {
        a: np.round(npr.lognormal(mean=20.3, sigma=1.3, size=n_rubros), -3) + 1_000_000 for a in vigencias
    }
    adicion = {a: npr.uniform(0.0, 0.35, size=n_rubros) for a in vigencias}
    ritmo = {a: npr.uniform(0.0, 1.0, size=n_rubros) for a in vigencias}
    salida: list[list[str]] = []
    for anio, trimestre in periodos:
        ini = inicial[anio]
        definitiva = np.round(ini * (1 + adicion[anio] * trimestre / 4), 2)
        avance = np.minimum(0.99, 0.22 * trimestre + 0.1 * ritmo[anio])
        compromisos = np.round(definitiva * avance, 2)
        obligaciones = np.round(compromisos * np.minimum(1.0, 0.55 + 0.1 * trimestre + 0.04 * ritmo[anio]), 2)
        pagos = np.round(obligaciones * min(1.0, 0.80 + 0.05 * trimestre - 0.05 * float(ritmo[anio].mean())), 2)
        for k, (codigo, nombre, fuente) in enumerate(rubros):
            if len(salida) >= filas:
                return salida
            salida.append(
                [
                    f"{anio}-T{trimestre}-{codigo}",
                    str(anio),
                    str(trimestre),
                    codigo,
                    nombre,
                    fuente,
                    _formato_co(float(ini[k])),
                    _formato_co(float(definitiva[k])),
                    _formato_co(float(compromisos[k])),
                    _formato_co(float(obligaciones[k])),
                    _formato_co(float(pagos[k])),
                ]
            )
    return salida


def escribir_presupuesto(ruta: Path, filas: list[list[str]]) -> None:
    ruta.parent.mkdir(parents=True, exist_ok=True)
    with ruta.open("w", encoding="cp1252", newline="") as fh:
        escritor = csv.writer(fh, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        escritor.writerow(ENCABEZADO_PRESUPUESTO)
        escritor.writerows(filas)


# --------------------------------------------------------------------------------------------
# 4. Contratos de la Gobernación (SQL incremental por fecha_actualizacion)
# --------------------------------------------------------------------------------------------

MODALIDADES: tuple[tuple[str, str, float, float, float, tuple[int, int]], ...] = (
    # prefijo, modalidad, peso, valor mínimo, valor máximo, plazo en días
    ("CPS", "Contratación directa", 0.58, 4_000_000, 90_000_000, (60, 345)),
    ("CI", "Contratación directa", 0.04, 50_000_000, 3_000_000_000, (90, 365)),
    ("MC", "Mínima cuantía", 0.15, 2_000_000, 120_000_000, (15, 120)),
    ("SA", "Selección abreviada de menor cuantía", 0.09, 120_000_000, 1_200_000_000, (30, 240)),
    ("LP", "Licitación pública", 0.06, 800_000_000, 25_000_000_000, (120, 540)),
    ("CM", "Concurso de méritos", 0.04, 150_000_000, 2_500_000_000, (120, 540)),
    ("RE", "Régimen especial", 0.04, 30_000_000, 900_000_000, (60, 300)),
)
ESTADOS_CONTRATO: tuple[str, ...] = ("Celebrado", "En ejecución", "Suspendido", "Terminado", "Liquidado")
TIPOS_DOC_CONTRATISTA: tuple[str, ...] = ("CC", "NIT", "PPT")
OBJETOS: dict[str, tuple[str, ...]] = {
    "CPS": (
        "Prestación de servicios profesionales para apoyar a la {dep} en la gestión administrativa y el seguimiento de proyectos",
        "Prestación de servicios de apoyo a la gestión en la {dep} para actividades de archivo y correspondencia",
        "Prestación de servicios profesionales como ingeniero de apoyo a la supervisión de obras en {muni}",
        "Prestación de servicios profesionales en salud pública para la vigilancia epidemiológica en {muni}",
        "Prestación de servicios de apoyo logístico para las jornadas de atención al ciudadano en {muni}",
    ),
    "CI": (
        "Convenio interadministrativo con el municipio de {muni} para la ejecución del programa de alimentación escolar",
        "Contrato interadministrativo con la ESE Red Salud Casanare para acciones del plan de intervenciones colectivas en {muni}",
    ),
    "MC": (
        "Suministro de elementos de papelería y útiles de oficina para la {dep}",
        "Mantenimiento preventivo y correctivo de equipos de aire acondicionado de la sede de la {dep}",
        "Adquisición de kits de ayuda humanitaria para familias afectadas por emergencias en {muni}",
    ),
    "SA": (
        "Suministro de combustible para el parque automotor de la {dep}",
        "Suministro de insumos agropecuarios para pequeños productores de {muni}",
        "Adquisición de equipos de cómputo para instituciones educativas de {muni}",
    ),
    "LP": (
        "Mejoramiento y pavimentación de la vía {muni} - {vereda} en el departamento de Casanare",
        "Construcción de placa huella en la vía a la vereda {vereda} del municipio de {muni}",
        "Construcción y dotación del megacolegio del municipio de {muni}",
    ),
    "CM": (
        "Interventoría técnica, administrativa y financiera a la obra de mejoramiento de la vía {muni} - {vereda}",
        "Consultoría para los estudios y diseños del acueducto de la vereda {vereda} en {muni}",
    ),
    "RE": (
        "Convenio de asociación con entidad sin ánimo de lucro para actividades culturales en {muni}",
        "Convenio con la Defensa Civil para el fortalecimiento de la respuesta a emergencias en {muni}",
    ),
}
EMPRESA_PREFIJOS: tuple[str, ...] = (
    "CONSTRUCCIONES", "INGENIERÍA Y PROYECTOS", "SUMINISTROS", "CONSORCIO VIAL", "UNIÓN TEMPORAL",
    "INVERSIONES", "SERVICIOS INTEGRALES", "COMERCIALIZADORA", "TRANSPORTES", "CONSULTORES",
)
EMPRESA_SUFIJOS: tuple[str, ...] = (
    "DEL LLANO", "CASANARE", "ORINOQUÍA", "LLANOS ORIENTALES", "CRAVO SUR", "PIEDEMONTE", "SABANA",
    "MORICHAL", "CUSIANA", "ARIPORO",
)


def _empresas(rnd: random.Random, n: int) -> list[tuple[str, str]]:
    from stdnum.co import nit

    usados: set[str] = set()
    empresas = []
    for k in range(n):
        base = _unico(usados, lambda: str(rnd.choice((800, 830, 860, 890, 900, 900, 901, 901))) + f"{rnd.randint(0, 999_999):06d}")
        combinacion = k % (len(EMPRESA_PREFIJOS) * len(EMPRESA_SUFIJOS))
        nombre = f"{EMPRESA_PREFIJOS[combinacion % len(EMPRESA_PREFIJOS)]} {EMPRESA_SUFIJOS[combinacion // len(EMPRESA_PREFIJOS)]}"
        vuelta = k // (len(EMPRESA_PREFIJOS) * len(EMPRESA_SUFIJOS))
        if vuelta:
            nombre += f" {vuelta + 1}"
        sufijo = "" if nombre.startswith(("CONSORCIO", "UNIÓN")) else " S.A.S."
        empresas.append((f"{base}-{nit.calc_check_digit(base)}", nombre + sufijo))
    return empresas


def _dato_incrustado(rnd: random.Random, personas: Personas, i: int) -> str:
    """A personal datum written inside free text, as happens in real records."""
    opciones = [f"identificado con cédula {personas.documento[i]}"]
    if personas.telefono[i]:
        opciones.append(f"celular de contacto {personas.telefono[i]}")
    if personas.correo[i]:
        opciones.append(f"notificaciones al correo {personas.correo[i]}")
    return rnd.choice(opciones)


def filas_contratos(
    personas: Personas, filas: int, semilla: int, ahora: datetime
) -> list[dict[str, Any]]:
    rnd, _ = _rng(semilla, "contratos_gobernacion")
    munis = municipios()
    empresas = _empresas(rnd, max(20, filas // 25))
    pesos = [m[2] for m in MODALIDADES]
    crudos: list[dict[str, Any]] = []
    for _ in range(filas):
        prefijo, modalidad, _, vmin, vmax, (pmin, pmax) = rnd.choices(MODALIDADES, weights=pesos)[0]
        firma = _fecha_aleatoria(rnd, FECHA_INICIO, FECHA_CORTE)
        natural = prefijo == "CPS" or (prefijo == "MC" and rnd.random() < 0.3)
        if natural:
            i = rnd.choice(personas.adultos)
            tipo = personas.tipo_documento(i)  # contratistas: adultos con CC o PPT
            if tipo not in TIPOS_DOC_CONTRATISTA:
                tipo = "CC"
            documento, nombre = personas.documento[i], personas.nombre_completo(i)
        else:
            i = rnd.choice(personas.adultos)  # representante legal (solo aparece en el objeto)
            tipo = "NIT"
            documento, nombre = rnd.choice(empresas)
        muni = rnd.choices(munis, weights=[POBLACION_MILES[m.codigo] ** 0.5 for m in munis])[0]
        objeto = rnd.choice(OBJETOS[prefijo]).format(
            dep=rnd.choice(SECRETARIAS), muni=muni.nombre, vereda=rnd.choice(VEREDAS[muni.codigo])
        )
        if rnd.random() < 0.08:
            quien = "Contratista" if natural else "Representante legal"
            objeto += f". {quien} {_dato_incrustado(rnd, personas, i)}"
        valor = round(math.exp(rnd.uniform(math.log(vmin), math.log(vmax))), -3)
        plazo = rnd.randint(pmin, pmax)
        fin = firma + timedelta(days=plazo)
        if rnd.random() < 0.03:
            estado = "Suspendido"
        elif (FECHA_CORTE - firma).days < 5:
            estado = "Celebrado"
        elif fin > FECHA_CORTE:
            estado = "En ejecución"
        elif (FECHA_CORTE - fin).days > 120 and rnd.random() < 0.7:
            estado = "Liquidado"
        else:
            estado = "Terminado"
        ultimo = min(FECHA_CORTE, fin if estado in ("Terminado", "Liquidado") else FECHA_CORTE)
        actualizado = datetime.combine(_fecha_aleatoria(rnd, firma, ultimo), dtime(7)) + timedelta(
            seconds=rnd.randint(0, 11 * 3600)
        )
        crudos.append(
            {
                "prefijo": prefijo,
                "tipo_documento_contratista": tipo,
                "documento_contratista": documento,
                "nombre_contratista": nombre,
                "objeto": objeto,
                "valor": float(valor),
                "fecha_firma": firma,
                "plazo_dias": plazo,
                "estado": estado,
                "modalidad": modalidad,
                "dependencia": rnd.choice(SECRETARIAS),
                "codigo_municipio": muni.codigo,
                "fecha_actualizacion": actualizado,
            }
        )
    crudos.sort(key=lambda c: (c["fecha_firma"], c["prefijo"]))
    consecutivos: dict[tuple[str, int], int] = {}
    for c in crudos:
        clave = (c["prefijo"], c["fecha_firma"].year)
        consecutivos[clave] = consecutivos.get(clave, 0) + 1
        c["numero_contrato"] = f"{c.pop('prefijo')}-{consecutivos[clave]:04d}-{clave[1]}"
    # Actividad reciente: novedades (adiciones, suspensiones, liquidaciones) registradas en los ocho
    # días previos a la generación, para que toda corrida diaria reciente tenga filas.
    recientes = rnd.sample(range(filas), k=min(filas, max(12, filas // 20)))
    inicio_hoy = datetime.combine(ahora.date(), dtime())
    for orden, k in enumerate(recientes):
        if orden < 3:  # garantiza filas "de hoy" (antes de la hora de generación)
            desde = max(inicio_hoy, ahora - timedelta(hours=3))
            if desde >= ahora - timedelta(minutes=1):
                desde = ahora - timedelta(hours=3)
            segundos = int((ahora - timedelta(minutes=1) - desde).total_seconds())
            crudos[k]["fecha_actualizacion"] = desde + timedelta(seconds=rnd.randint(0, max(0, segundos)))
        else:
            crudos[k]["fecha_actualizacion"] = ahora - timedelta(seconds=rnd.randint(60, 8 * 86_400))
    return crudos


# --------------------------------------------------------------------------------------------
# 5. Emergencias atendidas (ods)
# --------------------------------------------------------------------------------------------

EVENTOS: tuple[tuple[str, tuple[int, ...]], ...] = (
    # tipo de evento, meses en que ocurre con más frecuencia
    ("Inundación", (4, 5, 6, 7, 8, 9, 10)),
    ("Incendio forestal", (1, 2, 3, 12)),
    ("Vendaval", (3, 4, 5, 10, 11)),
    ("Deslizamiento", (4, 5, 6, 10, 11)),
    ("Avenida torrencial", (5, 6, 7)),
    ("Sequía", (1, 2, 3)),
    ("Erosión fluvial", (6, 7, 8, 9)),
    ("Tormenta eléctrica", (4, 5, 9, 10)),
)
TIPOS_EVENTO: tuple[str, ...] = tuple(e for e, _ in EVENTOS)
ESTADOS_ATENCION: tuple[str, ...] = ("Atendido", "En atención", "En evaluación de daños (EDAN)", "Cerrado")
DESCRIPCIONES_EVENTO: dict[str, tuple[str, ...]] = {
    "Inundación": ("Desbordamiento del río {rio} afectó viviendas y cultivos en la vereda {vereda}",
                   "Creciente súbita del río {rio} dejó incomunicada la vereda {vereda}"),
    "Incendio forestal": ("Incendio de cobertura vegetal en sabana y bosque de galería en la vereda {vereda}",
                          "Quema no controlada se propagó a predios de la vereda {vereda}"),
    "Vendaval": ("Fuertes vientos destecharon viviendas en la vereda {vereda}",
                 "Vendaval derribó árboles y redes eléctricas en la vereda {vereda}"),
    "Deslizamiento": ("Remoción en masa taponó la vía de acceso a la vereda {vereda}",
                      "Deslizamiento de tierra afectó la banca de la vía en la vereda {vereda}"),
    "Avenida torrencial": ("Avenida torrencial de la quebrada afluente del río {rio} en la vereda {vereda}",),
    "Sequía": ("Desabastecimiento de agua para consumo humano y ganado en la vereda {vereda}",),
    "Erosión fluvial": ("Socavación de la orilla del río {rio} amenaza viviendas de la vereda {vereda}",),
    "Tormenta eléctrica": ("Descarga eléctrica afectó redes y semovientes en la vereda {vereda}",),
}
ENCABEZADO_EMERGENCIAS: tuple[str, ...] = (
    "Código evento", "Fecha del evento", "Tipo de evento", "Código municipio", "Municipio", "Vereda",
    "Familias afectadas", "Personas afectadas", "Viviendas afectadas", "Latitud", "Longitud",
    "Descripción", "Estado de la atención", "Reportado por", "Teléfono de contacto",
)
BBOX_CASANARE = (4.25, 6.35, -73.05, -69.85)  # lat mín, lat máx, lon mín, lon máx


def filas_emergencias(personas: Personas, filas: int, semilla: int) -> list[list[Any]]:
    rnd, _ = _rng(semilla, "emergencias_gestion_riesgo")
    munis = municipios()
    pesos = [POBLACION_MILES[m.codigo] ** 0.4 for m in munis]
    crudos: list[tuple[date, list[Any]]] = []
    for _ in range(filas):
        tipo, meses = rnd.choice(EVENTOS)
        while True:
            fecha = _fecha_aleatoria(rnd, FECHA_INICIO, FECHA_CORTE)
            if fecha.month in meses or rnd.random() < 0.1:
                break
        m = rnd.choices(munis, weights=pesos)[0]
        vereda = rnd.choice(VEREDAS[m.codigo])
        if tipo in ("Incendio forestal", "Tormenta eléctrica") and rnd.random() < 0.6:
            familias = 0
        else:
            familias = min(2_500, int(math.exp(rnd.gauss(2.0, 1.2))))
        personas_af = familias * rnd.randint(2, 5) + (rnd.randint(0, 3) if familias else 0)
        viviendas = min(familias, int(familias * rnd.uniform(0.3, 1.0)))
        lat = min(BBOX_CASANARE[1], max(BBOX_CASANARE[0], m.latitud + rnd.gauss(0, 0.08)))
        lon = min(BBOX_CASANARE[3], max(BBOX_CASANARE[2], m.longitud + rnd.gauss(0, 0.08)))
        descripcion = rnd.choice(DESCRIPCIONES_EVENTO[tipo]).format(rio=RIOS[m.codigo], vereda=vereda)
        i = rnd.choice(personas.adultos)
        if rnd.random() < 0.1 and personas.telefono[i]:
            descripcion += f". Reporta el presidente de la junta de acción comunal al {personas.telefono[i]}"
        dias = (FECHA_CORTE - fecha).days
        estado = "Cerrado" if dias > 90 else rnd.choice(ESTADOS_ATENCION)
        crudos.append(
            (
                fecha,
                [
                    fecha, tipo, m.codigo, m.nombre, vereda, familias, personas_af, viviendas,
                    round(lat, 6), round(lon, 6), descripcion, estado,
                    personas.nombre_completo(i), personas.telefono[i],
                ],
            )
        )
    crudos.sort(key=lambda c: c[0])
    consecutivos: dict[int, int] = {}
    salida = []
    for fecha, fila in crudos:
        consecutivos[fecha.year] = consecutivos.get(fecha.year, 0) + 1
        salida.append([f"EV-{fecha.year}-{consecutivos[fecha.year]:04d}", *fila])
    return salida


def escribir_ods(ruta: Path, encabezado: tuple[str, ...], filas: list[list[Any]], hoja: str) -> None:
    import pandas as pd

    ruta.parent.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(filas, columns=list(encabezado), dtype=object)
    with pd.ExcelWriter(ruta, engine="odf") as writer:
        df.to_excel(writer, sheet_name=hoja, index=False)


# --------------------------------------------------------------------------------------------
# 6. Producción agropecuaria (xls Excel 97)
# --------------------------------------------------------------------------------------------

CULTIVOS: tuple[tuple[str, str, float, float], ...] = (
    # cultivo, grupo, rendimiento medio (t/ha), área media (ha)
    ("Arroz riego", "Cereales", 5.8, 2500),
    ("Arroz secano mecanizado", "Cereales", 4.6, 3000),
    ("Maíz tecnificado", "Cereales", 5.5, 400),
    ("Maíz tradicional", "Cereales", 2.0, 120),
    ("Soya", "Oleaginosas", 2.4, 300),
    ("Palma de aceite", "Oleaginosas", 16.0, 3500),
    ("Plátano", "Plátanos y musáceas", 11.0, 250),
    ("Yuca", "Tubérculos y raíces", 11.5, 200),
    ("Cacao", "Cultivos permanentes", 0.5, 150),
    ("Café", "Cultivos permanentes", 1.1, 120),
    ("Caña panelera", "Cultivos permanentes", 6.5, 60),
    ("Cítricos", "Frutales", 14.0, 80),
    ("Piña", "Frutales", 35.0, 40),
    ("Patilla", "Frutales", 20.0, 50),
    ("Aguacate", "Frutales", 8.0, 30),
    ("Marañón", "Frutales", 1.2, 100),
    ("Maracuyá", "Frutales", 15.0, 25),
    ("Sacha inchi", "Oleaginosas", 1.0, 20),
)
NOMBRES_CULTIVOS: tuple[str, ...] = tuple(c[0] for c in CULTIVOS)
ENCABEZADO_AGRO: tuple[str, ...] = (
    "Año", "Semestre", "Código DANE municipio", "Municipio", "Grupo de cultivo", "Cultivo",
    "Área sembrada (ha)", "Área cosechada (ha)", "Producción (t)", "Rendimiento (t/ha)",
)


def filas_agro(filas: int, semilla: int) -> list[list[Any]]:
    rnd, _ = _rng(semilla, "produccion_agropecuaria")
    munis = municipios()
    # Qué municipios siembran qué (fijo por semilla): no todos los municipios tienen todos los cultivos.
    siembra = {(m.codigo, c[0]): rnd.random() < 0.75 for m in munis for c in CULTIVOS}
    for m in munis:  # cultivos de pancoger presentes en todo el departamento
        for c in ("Plátano", "Yuca", "Maíz tradicional"):
            siembra[(m.codigo, c)] = True
    periodos = []
    anio, semestre = FECHA_CORTE.year, 1 if FECHA_CORTE.month < 7 else 2
    semestre -= 1  # el semestre en curso aún no se reporta
    if semestre == 0:
        anio, semestre = anio - 1, 2
    while anio >= 2000:
        periodos.append((anio, semestre))
        anio, semestre = (anio, 1) if semestre == 2 else (anio - 1, 2)
    salida: list[list[Any]] = []
    for anio, semestre in periodos:
        for m in munis:
            escala = (POBLACION_MILES[m.codigo] / 20) ** 0.5
            for cultivo, grupo, rendimiento, area in CULTIVOS:
                if not siembra[(m.codigo, cultivo)]:
                    continue
                if len(salida) >= filas:
                    return salida
                sembrada = round(max(1.0, area * escala * math.exp(rnd.gauss(0, 0.6))), 1)
                cosechada = round(max(0.5, sembrada * rnd.uniform(0.55, 1.0)), 1)
                rend = round(min(1.5 * rendimiento, max(0.1, rendimiento * math.exp(rnd.gauss(0, 0.15)))), 2)
                produccion = round(cosechada * rend, 1)
                salida.append(
                    [anio, semestre, m.codigo, m.nombre, grupo, cultivo, sembrada, cosechada, produccion,
                     round(produccion / cosechada, 2)]
                )
    if len(salida) < filas:
        _avisar(f"produccion_agropecuaria: solo hay {len(salida)} combinaciones año-semestre-municipio-cultivo")
    return salida


def escribir_xls(ruta: Path, encabezado: tuple[str, ...], filas: list[list[Any]], hoja: str) -> None:
    import xlwt

    ruta.parent.mkdir(parents=True, exist_ok=True)
    libro = xlwt.Workbook(encoding="utf-8")
    ws = libro.add_sheet(hoja)
    titulo = xlwt.easyxf("font: bold on; align: wrap on")
    decimal = xlwt.easyxf(num_format_str="#,##0.00")
    for c, texto in enumerate(encabezado):
        ws.write(0, c, texto, titulo)
    for r, fila in enumerate(filas, start=1):
        for c, valor in enumerate(fila):
            if isinstance(valor, float):
                ws.write(r, c, valor, decimal)
            else:
                ws.write(r, c, valor)
    libro.save(str(ruta))


# --------------------------------------------------------------------------------------------
# 7. PQRSD (CSV UTF-8, ',' y campos entre comillas)
# --------------------------------------------------------------------------------------------

TIPOS_PQRSD: tuple[tuple[str, float], ...] = (
    ("Petición", 0.62), ("Queja", 0.12), ("Reclamo", 0.1), ("Sugerencia", 0.04), ("Denuncia", 0.05),
    ("Solicitud de información", 0.07),
)
CANALES: tuple[str, ...] = ("Presencial", "Correo electrónico", "Página web", "Telefónico", "Ventanilla única", "Redes sociales")
ESTADOS_PQRSD: tuple[str, ...] = ("Radicada", "En trámite", "Respondida", "Cerrada", "Trasladada por competencia")
ASUNTOS: dict[str, tuple[str, ...]] = {
    "Petición": (
        "Solicito información sobre la convocatoria de {tema} en el municipio de {muni}",
        "Solicito certificado laboral y de tiempo de servicio para trámite de pensión",
        "Solicito visita técnica para el mejoramiento de la vía de la vereda {vereda} en {muni}",
        "Solicito inclusión en el programa de entrega de insumos agropecuarios en {muni}",
    ),
    "Queja": (
        "Queja por la demora en la atención en el punto de Red Salud Casanare de {muni}",
        "Queja por el mal estado del transporte escolar en la vereda {vereda}",
    ),
    "Reclamo": (
        "Reclamo por el pago pendiente de cuentas de cobro de la {dep}",
        "Reclamo por la no entrega de la ración del programa de alimentación escolar en {muni}",
    ),
    "Sugerencia": ("Sugiero ampliar el horario de atención de la ventanilla única de la Gobernación",),
    "Denuncia": (
        "Denuncia por posible irregularidad en la ejecución de la obra de la vía a {vereda} en {muni}",
        "Denuncia por quema y tala de bosque de galería en la vereda {vereda} de {muni}",
    ),
    "Solicitud de información": (
        "Solicito copia del contrato y los informes de supervisión de la obra en {muni}",
        "Solicito información del presupuesto ejecutado por la {dep} en la vigencia anterior",
    ),
}
TEMAS: tuple[str, ...] = ("becas de educación superior", "proyectos productivos", "vivienda rural", "estímulos culturales")
ENCABEZADO_PQRSD: tuple[str, ...] = (
    "Radicado", "Fecha de radicación", "Tipo de solicitud", "Canal de recepción", "Dependencia destino",
    "Código municipio", "Nombre del peticionario", "Documento del peticionario", "Correo electrónico",
    "Teléfono", "Asunto", "Estado", "Días de respuesta",
)


def filas_pqrsd(personas: Personas, filas: int, semilla: int) -> list[list[Any]]:
    rnd, _ = _rng(semilla, "pqrsd_atencion_ciudadano")
    munis = {m.codigo: m for m in municipios()}
    dias_habiles = [
        FECHA_INICIO + timedelta(days=d)
        for d in range((FECHA_CORTE - FECHA_INICIO).days + 1)
        if (FECHA_INICIO + timedelta(days=d)).weekday() < 5
    ]
    tipos = [t for t, _ in TIPOS_PQRSD]
    pesos = [p for _, p in TIPOS_PQRSD]
    crudos: list[tuple[datetime, list[Any]]] = []
    for _ in range(filas):
        tipo = rnd.choices(tipos, weights=pesos)[0]
        canal = rnd.choices(CANALES, weights=(30, 25, 25, 8, 10, 2))[0]
        momento = datetime.combine(rnd.choice(dias_habiles), dtime(7)) + timedelta(seconds=rnd.randint(0, 10 * 3600))
        i = rnd.choice(personas.adultos)
        anonimo = tipo == "Denuncia" and rnd.random() < 0.4
        muni = munis[personas.municipio[i]]
        asunto = rnd.choice(ASUNTOS[tipo]).format(
            tema=rnd.choice(TEMAS), muni=muni.nombre, vereda=rnd.choice(VEREDAS[muni.codigo]),
            dep=rnd.choice(SECRETARIAS),
        )
        if not anonimo and rnd.random() < 0.12:
            asunto += f". Peticionario {_dato_incrustado(rnd, personas, i)}"
        transcurridos = (FECHA_CORTE - momento.date()).days
        if transcurridos < 20 and rnd.random() < 0.7:
            estado = rnd.choice(("Radicada", "En trámite"))
            dias = None
        else:
            estado = rnd.choices(("Respondida", "Cerrada", "Trasladada por competencia"), weights=(55, 40, 5))[0]
            dias = min(transcurridos, max(1, int(rnd.gauss(9, 5)) if rnd.random() < 0.93 else rnd.randint(16, 40)))
        crudos.append(
            (
                momento,
                [
                    momento.strftime("%Y-%m-%d %H:%M:%S"),
                    tipo,
                    canal,
                    rnd.choice(SECRETARIAS),
                    muni.codigo,
                    "ANÓNIMO" if anonimo else personas.nombre_completo(i),
                    None if anonimo else personas.documento[i],
                    None if anonimo else personas.correo[i],
                    None if anonimo else personas.telefono[i],
                    asunto,
                    estado,
                    dias,
                ],
            )
        )
    crudos.sort(key=lambda c: c[0])
    consecutivos: dict[int, int] = {}
    salida = []
    for momento, fila in crudos:
        consecutivos[momento.year] = consecutivos.get(momento.year, 0) + 1
        salida.append([f"ER-{momento.year}-{consecutivos[momento.year]:06d}", *fila])
    return salida


def escribir_pqrsd(ruta: Path, filas: list[list[Any]]) -> None:
    ruta.parent.mkdir(parents=True, exist_ok=True)
    with ruta.open("w", encoding="utf-8", newline="") as fh:
        escritor = csv.writer(fh, delimiter=",", quoting=csv.QUOTE_ALL, lineterminator="\n")
        escritor.writerow(ENCABEZADO_PQRSD)
        escritor.writerows(filas)


# --------------------------------------------------------------------------------------------
# 8. Red vial departamental (xlsx simple)
# --------------------------------------------------------------------------------------------

SUPERFICIES: tuple[tuple[str, float, tuple[float, float]], ...] = (
    ("Pavimento flexible", 0.2, (6.0, 9.0)),
    ("Pavimento rígido", 0.05, (6.0, 8.0)),
    ("Afirmado", 0.5, (4.5, 7.0)),
    ("Tierra", 0.18, (3.5, 6.0)),
    ("Placa huella", 0.07, (3.0, 4.0)),
)
TIPOS_SUPERFICIE: tuple[str, ...] = tuple(s[0] for s in SUPERFICIES)
ESTADOS_VIA: tuple[str, ...] = ("Bueno", "Regular", "Malo", "Muy malo")
ENCABEZADO_VIAS: tuple[str, ...] = (
    "Código vía", "Nombre de la vía", "Código municipio", "Municipio", "Longitud (km)",
    "Tipo de superficie", "Estado", "Ancho de calzada (m)", "Fecha de inspección",
)


def filas_vias(filas: int, semilla: int) -> list[list[Any]]:
    rnd, _ = _rng(semilla, "red_vial_departamental")
    munis = municipios()
    pesos = [POBLACION_MILES[m.codigo] ** 0.3 for m in munis]
    salida = []
    for n in range(1, filas + 1):
        m = rnd.choices(munis, weights=pesos)[0]
        if rnd.random() < 0.15:
            otro = rnd.choice([x for x in munis if x.codigo != m.codigo])
            nombre = f"{m.nombre} - {otro.nombre}"
        else:
            nombre = f"{m.nombre} - Vereda {rnd.choice(VEREDAS[m.codigo])}"
        superficie, _, (amin, amax) = rnd.choices(SUPERFICIES, weights=[s[1] for s in SUPERFICIES])[0]
        if superficie.startswith("Pavimento"):
            estado = rnd.choices(ESTADOS_VIA, weights=(50, 35, 12, 3))[0]
        else:
            estado = rnd.choices(ESTADOS_VIA, weights=(15, 40, 30, 15))[0]
        longitud = round(min(150.0, max(0.3, math.exp(rnd.gauss(2.3, 0.8)))), 2)
        salida.append(
            [
                f"85CS{n:04d}", f"Vía {nombre}", m.codigo, m.nombre, longitud, superficie, estado,
                round(rnd.uniform(amin, amax), 1), _fecha_aleatoria(rnd, FECHA_INICIO, FECHA_CORTE),
            ]
        )
    return salida


def escribir_xlsx_simple(ruta: Path, encabezado: tuple[str, ...], filas: list[list[Any]], hoja: str) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(hoja)
    negrita = Font(bold=True)
    cabecera = []
    for texto in encabezado:
        c = WriteOnlyCell(ws, value=texto)
        c.font = negrita
        cabecera.append(c)
    ws.append(cabecera)
    for fila in filas:
        salida = []
        for v in fila:
            if isinstance(v, date):
                c = WriteOnlyCell(ws, value=v)
                c.number_format = "DD/MM/YYYY"
                salida.append(c)
            else:
                salida.append(v)
        ws.append(salida)
    wb.properties.created = datetime(2026, 10, 1, 8, 0)
    ruta.parent.mkdir(parents=True, exist_ok=True)
    wb.save(ruta)


# --------------------------------------------------------------------------------------------
# Carga SQL (SQLite por defecto; PostgreSQL o MariaDB con sql_urls)
# --------------------------------------------------------------------------------------------


def _metadata_simat() -> Any:
    from sqlalchemy import Column, Date, ForeignKey, Integer, MetaData, String, Table

    md = MetaData()
    opciones = {"mysql_charset": "utf8mb4"}
    Table(
        "sede", md,
        Column("codigo_dane_sede", String(12), primary_key=True),
        Column("nombre_sede", String(150), nullable=False),
        Column("nombre_establecimiento", String(150), nullable=False),
        Column("codigo_municipio", String(5), nullable=False),
        Column("zona", String(10), nullable=False),
        Column("sector", String(20), nullable=False),
        **opciones,
    )
    Table(
        "matricula", md,
        Column("id_matricula", String(20), primary_key=True),
        Column("anio", Integer, nullable=False),
        Column("codigo_dane_sede", String(12), ForeignKey("sede.codigo_dane_sede"), nullable=False),
        Column("tipo_documento", String(3), nullable=False),
        Column("numero_documento", String(11), nullable=False),
        Column("nombres", String(80), nullable=False),
        Column("apellidos", String(80), nullable=False),
        Column("fecha_nacimiento", Date, nullable=False),
        Column("genero", String(1), nullable=False),
        Column("grado", Integer, nullable=False),
        Column("jornada", String(20), nullable=False),
        Column("estado", String(20), nullable=False),
        Column("fecha_matricula", Date, nullable=False),
        **opciones,
    )
    return md


def _metadata_secop() -> Any:
    from sqlalchemy import Column, Date, DateTime, Index, Integer, MetaData, Numeric, String, Table, Text

    md = MetaData()
    tabla = Table(
        "contrato", md,
        Column("numero_contrato", String(20), primary_key=True),
        Column("tipo_documento_contratista", String(3), nullable=False),
        Column("documento_contratista", String(15), nullable=False),
        Column("nombre_contratista", String(150), nullable=False),
        Column("objeto", Text, nullable=False),
        Column("valor", Numeric(18, 2), nullable=False),
        Column("fecha_firma", Date, nullable=False),
        Column("plazo_dias", Integer, nullable=False),
        Column("estado", String(20), nullable=False),
        Column("modalidad", String(60), nullable=False),
        Column("dependencia", String(80), nullable=False),
        Column("codigo_municipio", String(5), nullable=False),
        Column("fecha_actualizacion", DateTime, nullable=False),
        mysql_charset="utf8mb4",
    )
    Index("ix_contrato_fecha_actualizacion", tabla.c.fecha_actualizacion)
    return md


def _cargar_sql(url: str, md: Any, tablas: dict[str, list[dict[str, Any]]], lote: int = 20_000) -> None:
    import warnings

    from sqlalchemy import create_engine
    from sqlalchemy import exc as sa_exc

    engine = create_engine(url)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sa_exc.SAWarning)  # Decimal en SQLite
            md.drop_all(engine)
            md.create_all(engine)
            with engine.begin() as conn:
                for tabla in md.sorted_tables:
                    filas = tablas[tabla.name]
                    for a, b in _trozos(len(filas), lote):
                        conn.execute(tabla.insert(), filas[a:b])
    finally:
        engine.dispose()


def _url_sqlite(ruta: Path) -> str:
    return f"sqlite:///{ruta.resolve()}"


# --------------------------------------------------------------------------------------------
# API
# --------------------------------------------------------------------------------------------


def generar(
    destino: Path,
    filas: int = 500,
    semilla: int = 2026,
    solo: set[str] | None = None,
    sql_urls: dict[str, str] | None = None,
    *,
    personas: int | None = None,
    ahora: datetime | None = None,
) -> dict[str, Path]:
    """Generate the synthetic sources under ``destino``.

    Args:
        destino: base folder (the catalog's relative ``fuente.ruta`` paths resolve against it).
        filas: rows per dataset (xls is capped at 65,535 and ods at 50,000 rows).
        semilla: seed; the same seed gives the same data.
        solo: slugs to generate (default: all eight).
        sql_urls: catalog ``conexion`` -> SQLAlchemy URL. The SQLite file under ``destino`` is
            always written; the same tables are also dropped, created and loaded at each URL.
        personas: distinct synthetic people shared across datasets
            (default ``max(1000, min(filas // 2, 100_000))``).
        ahora: naive "now" for the recent ``fecha_actualizacion`` of the contracts. Default: the
            wall-clock time in Bogotá, what a departmental system writes (``fuente.zona_horaria``):
            the recent rows are inside the run's extraction window and are not "future" dates for a
            check made in Bogotá. Fix it for a byte-identical SQLite file.

    Returns:
        slug -> generated file (the SQLite file for SQL sources).
    """
    if filas < 1:
        raise ValueError("filas debe ser mayor que cero")
    elegidos = set(CONJUNTOS) if solo is None else set(solo)
    desconocidos = elegidos - set(CONJUNTOS)
    if desconocidos:
        raise ValueError(f"conjuntos desconocidos: {', '.join(sorted(desconocidos))}")
    sql_urls = dict(sql_urls or {})
    conexiones_validas = set(CONEXIONES.values())
    malas = set(sql_urls) - conexiones_validas
    if malas:
        raise ValueError(f"conexiones desconocidas: {', '.join(sorted(malas))} (válidas: {', '.join(sorted(conexiones_validas))})")
    destino = Path(destino)
    ahora = ahora or datetime.now(BOGOTA).replace(tzinfo=None, microsecond=0)
    con_personas = elegidos & PERSONALES
    n_personas = personas if personas is not None else max(1000, min(filas // 2, 100_000))
    gente = personas_generadas(semilla, n_personas) if con_personas else None
    rutas: dict[str, Path] = {}

    def ruta(slug: str) -> Path:
        r = destino / RUTAS[slug]
        r.parent.mkdir(parents=True, exist_ok=True)
        return r

    if "vacunacion_pai" in elegidos:
        rutas["vacunacion_pai"] = r = ruta("vacunacion_pai")
        escribir_vacunacion(r, filas_vacunacion(gente, filas, semilla))
    if "matricula_escolar" in elegidos:
        rutas["matricula_escolar"] = r = ruta("matricula_escolar")
        tablas = {"sede": filas_sedes(semilla), "matricula": filas_matricula(gente, filas, semilla)}
        _escribir_sql("matricula_escolar", r, _metadata_simat, tablas, sql_urls)
    if "ejecucion_presupuestal_gastos" in elegidos:
        rutas["ejecucion_presupuestal_gastos"] = r = ruta("ejecucion_presupuestal_gastos")
        escribir_presupuesto(r, filas_presupuesto(filas, semilla))
    if "contratos_gobernacion" in elegidos:
        rutas["contratos_gobernacion"] = r = ruta("contratos_gobernacion")
        tablas = {"contrato": filas_contratos(gente, filas, semilla, ahora)}
        _escribir_sql("contratos_gobernacion", r, _metadata_secop, tablas, sql_urls)
    if "emergencias_gestion_riesgo" in elegidos:
        rutas["emergencias_gestion_riesgo"] = r = ruta("emergencias_gestion_riesgo")
        n = filas
        if n > LIMITE_ODS:
            _avisar(f"emergencias_gestion_riesgo: ods limitado a {LIMITE_ODS} filas")
            n = LIMITE_ODS
        escribir_ods(r, ENCABEZADO_EMERGENCIAS, filas_emergencias(gente, n, semilla), "Eventos")
    if "produccion_agropecuaria" in elegidos:
        rutas["produccion_agropecuaria"] = r = ruta("produccion_agropecuaria")
        n = filas
        if n > LIMITE_XLS:
            _avisar(f"produccion_agropecuaria: el formato xls admite {LIMITE_XLS} filas de datos")
            n = LIMITE_XLS
        escribir_xls(r, ENCABEZADO_AGRO, filas_agro(n, semilla), "EVA")
    if "pqrsd_atencion_ciudadano" in elegidos:
        rutas["pqrsd_atencion_ciudadano"] = r = ruta("pqrsd_atencion_ciudadano")
        escribir_pqrsd(r, filas_pqrsd(gente, filas, semilla))
    if "red_vial_departamental" in elegidos:
        rutas["red_vial_departamental"] = r = ruta("red_vial_departamental")
        escribir_xlsx_simple(r, ENCABEZADO_VIAS, filas_vias(filas, semilla), "Red vial")
    return rutas


def _escribir_sql(
    slug: str, ruta: Path, metadata: Any, tablas: dict[str, list[dict[str, Any]]], sql_urls: dict[str, str]
) -> None:
    ruta.unlink(missing_ok=True)
    _cargar_sql(_url_sqlite(ruta), metadata(), tablas)
    url = sql_urls.get(CONEXIONES[slug])
    if url:
        _cargar_sql(url, metadata(), tablas, lote=5_000)


# --------------------------------------------------------------------------------------------
# Identificadores originales (para pruebas de fuga de datos personales)
# --------------------------------------------------------------------------------------------

# Columnas con identificadores (todas se leen completas) y columnas de texto libre (de las que se
# extraen los documentos, teléfonos y correos incrustados). En vacunación, "Nombres" solo se usa
# para armar el nombre completo: un nombre de pila suelto ("CAMILO") no identifica a nadie.
_COLUMNAS_PII_ARCHIVO: dict[str, tuple[str, ...]] = {
    "vacunacion_pai": ("Número documento", "Apellidos", "Teléfono", "Dirección"),
    "emergencias_gestion_riesgo": ("Reportado por", "Teléfono de contacto"),
    "pqrsd_atencion_ciudadano": ("Nombre del peticionario", "Documento del peticionario", "Correo electrónico", "Teléfono"),
}
_TEXTO_LIBRE_ARCHIVO: dict[str, str] = {
    "emergencias_gestion_riesgo": "Descripción",
    "pqrsd_atencion_ciudadano": "Asunto",
}
_CONSULTAS_PII_SQL: dict[str, str] = {
    "matricula_escolar": "SELECT numero_documento, apellidos, nombres || ' ' || apellidos FROM matricula",
    "contratos_gobernacion": "SELECT documento_contratista, nombre_contratista FROM contrato",
}
_CONSULTAS_TEXTO_SQL: dict[str, str] = {"contratos_gobernacion": "SELECT objeto FROM contrato"}
_INCRUSTADOS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?<![\w.])\d{8,11}(?![\w.])")
_NO_IDENTIFICADORES = frozenset({"", "ANÓNIMO", "NONE", "NAN"})


def identificadores_originales(destino: Path) -> set[str]:
    """Every original identifier value in the generated sources under ``destino``.

    Document numbers (cédulas, tarjetas de identidad, NITs as stored, e.g. ``900123456-7``), full
    names (``NOMBRES APELLIDOS``, and the contractor/petitioner/reporter columns as stored), the
    surname pair (``APELLIDO APELLIDO``), mobile phones, e-mails and addresses, plus the documents,
    phones and e-mails embedded in free text (``objeto``, ``asunto``, ``descripcion``). A lone given
    name is never returned. Sources that were not generated are skipped.
    """
    from python_calamine import CalamineWorkbook

    destino = Path(destino)
    valores: set[str] = set()

    def agregar(v: Any) -> None:
        texto = "" if v is None else str(v).strip()
        if texto.endswith(".0") and texto[:-2].isdigit():
            texto = texto[:-2]
        if texto.upper() not in _NO_IDENTIFICADORES:
            valores.add(texto)

    for slug, columnas in _COLUMNAS_PII_ARCHIVO.items():
        archivo = destino / RUTAS[slug]
        if not archivo.is_file():
            continue
        if archivo.suffix == ".csv":
            with archivo.open(encoding="utf-8", newline="") as fh:
                filas = list(csv.reader(fh))
        else:
            libro = CalamineWorkbook.from_path(str(archivo))
            filas = libro.get_sheet_by_index(0).to_python()
        # En vacunación la fila hallada es la segunda del encabezado combinado (la de subtítulos).
        fila_enc = next(k for k, f in enumerate(filas) if columnas[0] in [str(x) for x in f])
        encabezado = [str(x) for x in filas[fila_enc]]
        posiciones = [encabezado.index(c) for c in columnas]
        texto = encabezado.index(_TEXTO_LIBRE_ARCHIVO[slug]) if slug in _TEXTO_LIBRE_ARCHIVO else None
        nombres = encabezado.index("Nombres") if slug == "vacunacion_pai" else None
        for fila in filas[fila_enc + 1 :]:
            for p in posiciones:
                agregar(fila[p])
            if nombres is not None:
                agregar(f"{fila[nombres]} {fila[posiciones[1]]}")
            if texto is not None:
                for hallado in _INCRUSTADOS.findall(str(fila[texto])):
                    agregar(hallado)
    for slug, consulta in _CONSULTAS_PII_SQL.items():
        archivo = destino / RUTAS[slug]
        if not archivo.is_file():
            continue
        conn = sqlite3.connect(archivo)
        try:
            for fila in conn.execute(consulta):
                for v in fila:
                    agregar(v)
            if slug in _CONSULTAS_TEXTO_SQL:
                for (texto_libre,) in conn.execute(_CONSULTAS_TEXTO_SQL[slug]):
                    for hallado in _INCRUSTADOS.findall(texto_libre or ""):
                        agregar(hallado)
        finally:
            conn.close()
    return valores


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.generar_fuentes",
        description="Genera fuentes sintéticas (xlsx, xls, ods, csv, SQL) de los conjuntos priorizados.",
    )
    parser.add_argument("--destino", type=Path, default=REPO_ROOT / "data" / "fuentes")
    parser.add_argument("--filas", type=int, default=500, help="filas por conjunto (por defecto 500)")
    parser.add_argument("--semilla", type=int, default=2026)
    parser.add_argument("--personas", type=int, default=None, help="personas sintéticas distintas compartidas")
    parser.add_argument("--solo", default=None, help="lista de slugs separados por coma")
    parser.add_argument(
        "--sql-url", action="append", default=[], metavar="CONEXION=URL",
        help="carga además las tablas de esa conexión en otra base (repetible)",
    )
    parser.add_argument(
        "--ahora", default=None, help="'ahora' ISO sin zona para fecha_actualizacion reciente (por defecto, hora de Bogotá)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    sql_urls: dict[str, str] = {}
    for item in args.sql_url:
        conexion, sep, url = item.partition("=")
        if not sep or not url:
            print(f"--sql-url inválido (use CONEXION=URL): {item}", file=sys.stderr)
            return 2
        sql_urls[conexion.strip()] = url.strip()
    solo = {s.strip() for s in args.solo.split(",") if s.strip()} if args.solo else None
    ahora = datetime.fromisoformat(args.ahora) if args.ahora else None
    inicio = time.perf_counter()
    try:
        rutas = generar(args.destino, args.filas, args.semilla, solo, sql_urls, personas=args.personas, ahora=ahora)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for slug, r in rutas.items():
        print(f"{slug}: {r}")
    print(f"{len(rutas)} fuentes en {time.perf_counter() - inicio:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
