"""``make run``: run every prioritized DAG once on the embedded default and print a summary.

Usage: ``python -m scripts.ejecutar_local [--filas 500] [--mantener]``. Each DAG runs once with
``airflow dags test`` while an Airflow API server is up, so each run's closing task can write its
note through the REST API as in production. With ``--mantener`` (``make up``) the API server is
then replaced by ``airflow standalone`` on :8080 (UI, scheduler, DAG processor, triggerer), which
stays up with the stand-ins until Ctrl+C or SIGTERM; every child is stopped on the way out.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from scripts.entorno_local import (
    ROOT,
    VENV_BIN,
    LocalEnv,
    free_port,
    generate_sources,
    migrate_airflow,
    start_airflow,
    start_standins,
    stop_process,
    wait_api,
)
from scripts.registros_tareas import split_test_log


def run_dag(env: LocalEnv, slug: str, logs: Path) -> float:
    """``airflow dags test <slug>``: one run now, tasks in-process, next to the running API server."""
    started = time.monotonic()
    output = logs / f"{slug}.log"
    with output.open("wb") as out:
        subprocess.run(
            [str(VENV_BIN / "airflow"), "dags", "test", slug],
            env={**os.environ, **env.env()}, stdout=out, stderr=subprocess.STDOUT, check=False,
        )
    # Filed per task where the UI of `make up` reads task logs.
    split_test_log(output.read_text(encoding="utf-8", errors="replace"), env.airflow_home / "logs")
    return time.monotonic() - started


def run_summary(env: LocalEnv, slug: str) -> dict:
    from casanare.staging import DatasetArea, RunArea

    area = DatasetArea(env.staging_url, slug)
    runs = area.listdir("ejecuciones")
    if not runs:
        return {"estado": "sin ejecución"}
    run = RunArea(env.staging_url, slug, runs[-1])
    manifest = run.read_json("manifest.json", {}) or {}
    etapas = manifest.get("etapas", {})
    failed = next((e for e, r in etapas.items() if r.get("estado") == "fallido"), None)
    validation = etapas.get("validar", {})
    return {
        "estado": "éxito" if manifest.get("resultado") == "exito" else f"falló en {failed or '¿?'}",
        "leidas": etapas.get("extraer", {}).get("filas"),
        "publicadas": etapas.get("publicar_datos_gov_co", {}).get("filas_en_portal"),
        "dataset_id": etapas.get("publicar_datos_gov_co", {}).get("dataset_id"),
        "calidad": (
            "sin validar" if not validation else
            ("OK" if validation.get("exito") else "FALLA") + (f" ({len(validation.get('advertencias', []))} advertencias)"
                                                            if validation.get("advertencias") else "")
        ),
        "manifiesto": run.path("manifest.json"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Ejecuta todos los DAG priorizados en el entorno embebido.")
    parser.add_argument("--filas", type=int, default=500, help="filas por fuente de ejemplo")
    parser.add_argument("--semilla", type=int, default=2026)
    parser.add_argument("--datos", type=Path, default=ROOT / "data")
    parser.add_argument("--mantener", action="store_true", help="deja los servicios y airflow standalone arriba")
    parser.add_argument("--solo", default="", help="slugs separados por coma")
    parser.add_argument("--puertos-libres", action="store_true",
                        help="con --mantener, usa puertos libres en vez de 8080/8765/8025/8090 (pruebas)")
    args = parser.parse_args()
    # `kill <pid>` stops everything as Ctrl+C does (the finally block below stops the children).
    signal.signal(signal.SIGTERM, _interrupt)

    from casanare.catalog import load_catalog

    fixed = args.mantener and not args.puertos_libres
    env = LocalEnv(args.datos, api_port=8080 if fixed else free_port())
    for folder in ("staging", "sitio", "correos", "portal", "data_docs", "logs", "registro_sitio"):
        shutil.rmtree(args.datos / folder, ignore_errors=True)
    env.monitoring_db.unlink(missing_ok=True)
    print("▶ Generando fuentes de ejemplo…", flush=True)
    generate_sources(env, args.filas, args.semilla)
    print("▶ Iniciando portal SODA local, servidor SMTP y sitio web…", flush=True)
    start_standins(env, portal_port=8765 if fixed else 0, smtp_port=8025 if fixed else 0,
                   web_port=8090 if fixed else 0)
    migrate_airflow(env)
    # The API server takes the run notes the closing tasks write (and serves the UI with --mantener).
    airflow = start_airflow(env, "api-server", log=args.datos / "airflow_api.log")
    logs = args.datos / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    slugs = [d.slug for d in load_catalog().priorizados]
    if args.solo:
        slugs = [s for s in slugs if s in set(args.solo.split(","))]
    failures = 0
    rows = []
    try:
        print(f"▶ Esperando la API de Airflow en {env.api_url}…", flush=True)
        wait_api(env, airflow)
        for slug in slugs:
            print(f"▶ airflow dags test {slug}", flush=True)
            seconds = run_dag(env, slug, logs)
            summary = run_summary(env, slug)
            summary["segundos"] = round(seconds, 1)
            failures += summary["estado"] != "éxito"
            rows.append((slug, summary))
        # The platform DAG after the datasets: instruments, Sello evidence and announcements see them published.
        print("▶ airflow dags test instrumentos", flush=True)
        run_dag(env, "instrumentos", logs)
        instruments_ok = (env.web_dir / "transparencia" / "registro-activos.html").is_file()
        failures += not instruments_ok
        print("▶ Visitas de ejemplo al portal y al sitio (para que el tablero muestre uso real)…", flush=True)
        simulate_visits(env, [slug for slug, s in rows if s["estado"] == "éxito"], args.semilla)
        print(f"▶ airflow dags test {MONITOR_DAG}", flush=True)
        run_dag(env, MONITOR_DAG, logs)
        monitor_ok = (env.web_dir / "tablero" / "index.html").is_file()
        failures += not monitor_ok
        print_summary(env, rows)
        if not instruments_ok:
            print(f"\n✗ El DAG instrumentos falló: vea {logs / 'instrumentos.log'}")
        if not monitor_ok:
            print(f"\n✗ El DAG {MONITOR_DAG} falló: vea {logs / (MONITOR_DAG + '.log')}")
        if args.mantener:
            # The UI needs every component: the API server becomes `airflow standalone`.
            stop_process(airflow)
            airflow = start_airflow(env, "standalone", log=args.datos / "airflow_standalone.log")
            wait_api(env, airflow)
            keep_running(env, airflow)
    finally:
        stop_process(airflow)
        env.stop()
    return 1 if failures else 0


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


MONITOR_DAG = "monitoreo_datos_abiertos"


def simulate_visits(env: LocalEnv, slugs: list[str], seed: int) -> None:
    """Citizens reading published datasets, so the dashboard shows real counts.

    Real HTTP requests that the stand-ins count as the real services do: the portal counts a view
    on ``/api/views/<id>.json?read=true`` and a download on a CSV export; the website's server
    writes its access log, which the monitoring DAG reads.
    """
    import random
    import urllib.request

    from casanare.catalog import load_catalog
    from casanare.staging import DatasetArea

    rng = random.Random(seed)
    catalog = load_catalog()
    for slug in slugs:
        ds = catalog.get(slug)
        if not (ds.datos_gov_co and ds.casanare_gov_co):
            continue
        dataset_id = DatasetArea(env.staging_url, slug).portal_id()  # assigned when the portal created it
        urls = [f"{env.portal.url}/api/views/{dataset_id}.json?read=true"] * rng.randint(2, 12) if dataset_id else []
        urls += [f"{env.portal.url}/resource/{dataset_id}.csv"] * rng.randint(0, 5) if dataset_id else []
        urls += [f"{env.web.url}/conjuntos/{ds.casanare_gov_co.ruta}/"] * rng.randint(1, 8)
        urls += [f"{env.web.url}/conjuntos/{ds.casanare_gov_co.ruta}/datos.csv"] * rng.randint(0, 4)
        for url in urls:
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=30) as response:
                response.read()


def print_summary(env: LocalEnv, rows: list[tuple[str, dict]]) -> None:
    print("\nResumen de la ejecución (entorno embebido)")
    print(f"{'Conjunto':34} {'Estado':22} {'Leídas':>8} {'Publicadas':>10} {'datos.gov.co':>12}  Calidad")
    for slug, s in rows:
        print(f"{slug:34} {s['estado']:22} {s.get('leidas') or 0:>8} {s.get('publicadas') or 0:>10} "
              f"{s.get('dataset_id') or '-':>12}  {s.get('calidad')}")
    mails = len(list(env.mail_dir.glob("*.eml")))
    print("\nDónde mirar:")
    print(f"  Portal datos.gov.co local: {env.portal.url}/api/views/<id>.json y /resource/<id>.json"
          " (ids asignados en YAML: make ids-portal)")
    print(f"  Sitio casanare.gov.co local: {env.web.url}/index.html  (carpeta {env.web_dir})")
    print(f"  Tablero de control (monitoreo): {env.web.url}/tablero/index.html")
    print(f"  Data Docs de calidad: {env.web.url}/data-docs/<conjunto>/index.html  (carpeta {env.docs_dir})")
    print(f"  Estado de cada conjunto (para las dependencias): {env.web.url}/seguimiento/<ruta>/")
    print(f"  Instrumentos de transparencia (Registro, Índice, priorización): {env.web_dir / 'transparencia'}")
    print(f"  Evidencias del Sello y anuncios de la Fase III: {env.staging_url}/_instrumentos")
    print(f"  Manifiestos y copias de las fuentes: {env.staging_url}")
    print(f"  Correos enviados ({mails}): {env.mail_dir}")
    print(f"  Registros de las tareas (también en la interfaz de Airflow): {env.airflow_home / 'logs'}")
    print("  (El portal y el sitio locales se detienen al terminar; sus datos quedan en la carpeta de datos."
          " Con `make up` siguen corriendo junto con la interfaz de Airflow.)")


def keep_running(env: LocalEnv, airflow: subprocess.Popen) -> None:
    user, password = env.login()
    print(f"\n▶ Interfaz de Airflow: {env.api_url}  (hora de Colombia, America/Bogota)", flush=True)
    print(f"  Usuario: {user}", flush=True)
    print(f"  Contraseña: {password}", flush=True)
    print("  (Ctrl+C detiene Airflow, el portal, el SMTP y el sitio locales)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        while airflow.poll() is None:
            time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
