"""Benchmark de la extracción: velocidad de lectura de .xlsx y memoria máxima con 5 millones de filas.

Uso: ``python -m scripts.bench_extraccion [--filas-xlsx 200000] [--filas-grandes 5000000] [--sin-sql]``.

1. **Velocidad (.xlsx)**: una hoja de 200.000 filas se lee lado a lado con
   ``pandas.read_excel(engine="openpyxl")`` y con la etapa ``extraer`` (python-calamine, tipado y
   Parquet incluidos). Meta: ``extraer`` al menos 5 veces más rápido.
2. **Memoria (CSV y SQL)**: ``extraer`` de un CSV y de una tabla SQLite de 5.000.000 de filas, cada
   una en un proceso hijo nuevo; el pico de memoria residente se mide con
   ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` dentro del hijo. Meta: ≤ 1,5 GB.

No es una prueba (los tiempos dependen de la máquina): imprime las cifras para la documentación.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

META_VELOCIDAD = 5.0
META_MEMORIA_GB = 1.5
ENCABEZADOS = ["ID", "Número de documento", "Nombres y apellidos", "Código del municipio", "Valor ($)",
               "Fecha de atención", "¿Vacunado?", "Observaciones"]
MUNICIPIOS = ["85001", "85010", "85139", "85410", "85440", "85250", "85230", "85162"]


def catalogo(ruta: str | None = None, sql: bool = False):
    """Catalog entry for the benchmark sources (one column of each type, personal data)."""
    from casanare.catalog import Dataset

    columnas = [
        {"nombre": "id_registro", "tipo": "entero", "descripcion": "Consecutivo", "clasificacion": "publica",
         "regla": "publicar", "requerido": True, "alias": ["ID"]},
        {"nombre": "documento", "tipo": "texto", "descripcion": "Documento", "clasificacion": "publica",
         "regla": "seudonimizar", "dato_personal": "cedula", "alias": ["Número de documento"]},
        {"nombre": "nombre", "tipo": "texto", "descripcion": "Nombre", "clasificacion": "clasificada",
         "regla": "eliminar", "dato_personal": "nombre", "alias": ["Nombres y apellidos"]},
        {"nombre": "municipio", "tipo": "texto", "descripcion": "Municipio", "clasificacion": "publica",
         "regla": "publicar", "alias": ["Código del municipio"]},
        {"nombre": "valor", "tipo": "decimal", "descripcion": "Valor", "clasificacion": "publica",
         "regla": "publicar", "alias": ["Valor ($)"]},
        {"nombre": "fecha", "tipo": "fecha", "descripcion": "Fecha", "clasificacion": "publica",
         "regla": "publicar", "alias": ["Fecha de atención"]},
        {"nombre": "vacunado", "tipo": "booleano", "descripcion": "Vacunado", "clasificacion": "publica",
         "regla": "publicar", "alias": ["¿Vacunado?"]},
    ]
    fuente: dict[str, Any] = ({"tipo": "sql", "conexion": "fuente_bench", "consulta": "bench.sql",
                               "tamano_lote": 50_000} if sql else {"tipo": "archivo", "ruta": ruta})
    return Dataset.model_validate({
        "slug": "bench_extraccion", "nombre": "Benchmark de extracción",
        "descripcion": "Conjunto sintético para medir la etapa de extracción.",
        "dependencia": "Secretaría TIC", "tipologia": "Social", "categoria": "Salud y Protección Social",
        "ambito_geografico": "Departamental", "fuente_primaria": True, "evidencia_solicitud": ["Ciudadanos"],
        "soporte": "digital", "frecuencia_generacion": "mensual", "frecuencia_actualizacion": "mensual",
        "disponible": True, "publicada": False, "ubicacion": "Benchmark", "priorizado": True,
        "contactos": ["tic@casanare.gov.co"], "fuente": fuente, "columnas": columnas,
        "datos_gov_co": {"dataset_id": "bnch-0002", "identificador_fila": "id_registro"},
        "casanare_gov_co": {"ruta": "bench"},
    })


def filas_sinteticas(n: int, *, excel: bool) -> Any:
    """Deterministic fictitious rows; Spanish text formats for CSV, native cells for Excel."""
    rnd = random.Random(2026)
    inicio = date(2024, 1, 1)
    for i in range(1, n + 1):
        dia = inicio + timedelta(days=rnd.randrange(900))
        valor = rnd.randrange(1_000, 50_000_000) / 100
        if excel:
            yield [i, 1_000_000_000 + i, f"PERSONA FICTICIA {i}", rnd.choice(MUNICIPIOS), valor, dia,
                   rnd.choice(("SI", "NO")), "" if i % 7 else "revisar"]
        else:
            texto = f"{valor:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
            yield [str(i), str(1_000_000_000 + i), f"PERSONA FICTICIA {i}", rnd.choice(MUNICIPIOS), texto,
                   dia.strftime("%d/%m/%Y"), rnd.choice(("SI", "No")), "" if i % 7 else "revisar"]


def escribir_xlsx(ruta: Path, n: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Datos")
    ws.append(["GOBERNACIÓN DE CASANARE"])
    ws.append(ENCABEZADOS)
    for fila in filas_sinteticas(n, excel=True):
        ws.append(fila)
    wb.save(ruta)


def escribir_csv(ruta: Path, n: int) -> None:
    with ruta.open("w", encoding="cp1252", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(ENCABEZADOS)
        writer.writerows(filas_sinteticas(n, excel=False))


def escribir_sqlite(ruta: Path, n: int) -> None:
    with sqlite3.connect(ruta) as conn:
        conn.execute("DROP TABLE IF EXISTS registro")
        conn.execute("CREATE TABLE registro (id_registro INTEGER PRIMARY KEY, documento TEXT, nombre TEXT, "
                     "municipio TEXT, valor REAL, fecha TEXT, vacunado INTEGER, observaciones TEXT)")
        filas = ((int(f[0]), f[1], f[2], f[3], int(f[0]) * 1.25, f[5], int(f[6] == "SI"), f[7])
                 for f in filas_sinteticas(n, excel=False))
        conn.executemany("INSERT INTO registro VALUES (?, ?, ?, ?, ?, ?, ?, ?)", filas)


def _hijo(tarea: str, ruta: str, staging: str, cola: Any) -> None:
    """Run in a fresh child process so ``ru_maxrss`` is this extraction's own peak.

    Libraries are imported before the clock starts: the comparison is about reading, not imports.
    """
    import openpyxl  # noqa: F401
    import pandas as pd
    import pyarrow.parquet  # noqa: F401
    import python_calamine  # noqa: F401

    import casanare.extract.coerce  # noqa: F401

    inicio = time.perf_counter()
    if tarea == "pandas_openpyxl":
        filas = len(pd.read_excel(ruta, engine="openpyxl", header=1))
    else:
        from casanare.extract import extraer
        from casanare.staging import RunArea

        if tarea == "sql":
            os.environ["CASANARE_INCLUDE_DIR"] = str(Path(ruta).parent / "include")
            ds = catalogo(sql=True)
            reporte = extraer(ds, RunArea(staging, ds.slug, tarea), sql_url=f"sqlite:///{ruta}")
        else:
            ds = catalogo(ruta)
            reporte = extraer(ds, RunArea(staging, ds.slug, tarea))
        filas = reporte["filas"]
    segundos = time.perf_counter() - inicio
    pico_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    cola.put({"filas": filas, "segundos": segundos, "pico_mb": pico_kb / 1024})


def medir(tarea: str, ruta: Path, staging: str) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    cola = ctx.Queue()
    proceso = ctx.Process(target=_hijo, args=(tarea, str(ruta), staging, cola))
    proceso.start()
    resultado = cola.get()
    proceso.join()
    return resultado


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filas-xlsx", type=int, default=200_000)
    parser.add_argument("--filas-grandes", type=int, default=5_000_000)
    parser.add_argument("--sin-sql", action="store_true", help="omitir la medición SQL")
    args = parser.parse_args(argv)
    cumple = True
    with tempfile.TemporaryDirectory(prefix="bench-extraccion-") as tmp:
        carpeta = Path(tmp)
        staging = (carpeta / "staging").as_uri()

        print(f"Generando .xlsx de {args.filas_xlsx:,} filas…".replace(",", "."), flush=True)
        xlsx = carpeta / "grande.xlsx"
        escribir_xlsx(xlsx, args.filas_xlsx)
        print(f"  {xlsx.stat().st_size / 1e6:.1f} MB", flush=True)
        pandas_r = medir("pandas_openpyxl", xlsx, staging)
        nuestro = medir("extraer", xlsx, staging)
        razon = pandas_r["segundos"] / nuestro["segundos"]
        ok = razon >= META_VELOCIDAD and nuestro["filas"] == pandas_r["filas"] == args.filas_xlsx
        cumple &= ok
        print(f"  pandas.read_excel(openpyxl): {pandas_r['segundos']:.1f} s, pico {pandas_r['pico_mb']:.0f} MB")
        print(f"  extraer (calamine + tipado + Parquet): {nuestro['segundos']:.1f} s, "
              f"pico {nuestro['pico_mb']:.0f} MB")
        print(f"  → {razon:.1f}× más rápido (meta ≥ {META_VELOCIDAD:.0f}×): {'CUMPLE' if ok else 'NO CUMPLE'}",
              flush=True)
        xlsx.unlink()

        print(f"Generando CSV cp1252 ';' de {args.filas_grandes:,} filas…".replace(",", "."), flush=True)
        grande = carpeta / "grande.csv"
        escribir_csv(grande, args.filas_grandes)
        print(f"  {grande.stat().st_size / 1e6:.0f} MB", flush=True)
        r = medir("csv", grande, staging)
        ok = r["pico_mb"] <= META_MEMORIA_GB * 1024 and r["filas"] == args.filas_grandes
        cumple &= ok
        print(f"  extraer CSV: {r['filas']:,} filas en {r['segundos']:.0f} s, pico de memoria "
              f"{r['pico_mb']:.0f} MB (meta ≤ {META_MEMORIA_GB * 1024:.0f} MB): {'CUMPLE' if ok else 'NO CUMPLE'}",
              flush=True)
        grande.unlink()

        if not args.sin_sql:
            print(f"Generando tabla SQLite de {args.filas_grandes:,} filas…".replace(",", "."), flush=True)
            base = carpeta / "grande.sqlite"
            escribir_sqlite(base, args.filas_grandes)
            (carpeta / "include" / "sql").mkdir(parents=True)
            (carpeta / "include" / "sql" / "bench.sql").write_text(
                "SELECT id_registro, documento, nombre, municipio, valor, fecha, vacunado FROM registro "
                "ORDER BY id_registro", encoding="utf-8")
            r = medir("sql", base, staging)
            ok = r["pico_mb"] <= META_MEMORIA_GB * 1024 and r["filas"] == args.filas_grandes
            cumple &= ok
            print(f"  extraer SQL: {r['filas']:,} filas en {r['segundos']:.0f} s, pico de memoria "
                  f"{r['pico_mb']:.0f} MB (meta ≤ {META_MEMORIA_GB * 1024:.0f} MB): "
                  f"{'CUMPLE' if ok else 'NO CUMPLE'}", flush=True)
    print("Resultado:", "todas las metas se cumplen" if cumple else "alguna meta NO se cumple")
    return 0 if cumple else 1


if __name__ == "__main__":
    sys.exit(main())
