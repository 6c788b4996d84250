"""Benchmark of the quality stage: our wrapping versus GX's bare ``checkpoint.run``.

Usage: ``python -m scripts.bench_calidad [--filas 1000000] [--repeticiones 3] [--conjunto vacunacion_pai]``

Builds a synthetic published frame shaped like the dataset (valid values, so every rule is
evaluated on every row), then times, on the same frame and with the same merged suite:

- ``checkpoint.run`` alone, on a context prepared beforehand, without Data Docs;
- ``validation.run_suite`` whole: in-memory context, suite, dtype normalization, the run
  (without GX's batch fingerprint, see ``validation._sin_huella_de_lote``), the result stored
  with its Data Docs page, report;
- ``scorecard.build_scorecard`` (the MinTIC criteria) on top.

Target: ``run_suite`` ≤ 1.5 × the bare ``checkpoint.run``. Prints Spanish results.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "plugins") not in sys.path:
    sys.path.insert(0, str(ROOT / "plugins"))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def synthetic_frame(dataset, suite: dict, filas: int, seed: int = 2026):
    """A valid published frame for ``dataset``: value sets from the suite, formats from the rules."""
    import numpy as np
    import pandas as pd

    from casanare.quality.baseline import divipola_codes

    rng = np.random.default_rng(seed)
    value_sets = {
        e["kwargs"]["column"]: e["kwargs"]["value_set"]
        for e in suite["expectations"]
        if e["type"] == "expect_column_values_to_be_in_set"
    }
    data = {}
    for col in dataset.columnas_publicadas:
        name = col.nombre_salida
        regla = col.regla
        if name == (dataset.datos_gov_co.identificador_fila if dataset.datos_gov_co else None):
            values = pd.Series(np.arange(filas)).map(lambda i: f"PAI-{i:07d}")
        elif name in value_sets:
            values = pd.Series(rng.choice(np.array(value_sets[name], dtype=object), filas))
        elif regla.accion == "seudonimizar":
            values = pd.Series(rng.integers(0, 2**63, filas)).map(lambda i: f"P{i:024x}")
        elif regla.metodo == "rango_edad":
            values = pd.Series(rng.choice(np.array(["0-4", "5-9", "20-24", "60-64", "80+"], dtype=object), filas))
        elif regla.metodo == "mes":
            values = pd.Series(rng.choice(np.array(["2026-08", "2026-09", "2026-10"], dtype=object), filas))
        elif "municipio" in name and "codigo" in name:
            values = pd.Series(rng.choice(np.array(divipola_codes(), dtype=object), filas))
        elif col.tipo_salida == "entero":
            values = pd.Series(rng.integers(0, 100, filas))
        elif col.tipo_salida == "decimal":
            values = pd.Series(rng.random(filas) * 100)
        elif col.tipo_salida in {"fecha", "fecha_hora"}:
            values = pd.Series(pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 600, filas), unit="D"))
        else:
            values = pd.Series(rng.choice(np.array(["Texto A", "Texto B", "Texto C"], dtype=object), filas))
        data[name] = values.astype("str") if values.dtype == object else values
    return pd.DataFrame(data)


def bare_checkpoint(df, suite_dict: dict, result_format: dict):
    """Prepare a plain ephemeral GX context and return a callable that only runs the checkpoint."""
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from casanare.quality.validation import comparable_dtypes

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = context.data_sources.add_pandas("bench").add_dataframe_asset("a").add_batch_definition_whole_dataframe("b")
    suite = context.suites.add(ExpectationSuite(**suite_dict))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name="bench", data=batch, suite=suite))
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(name="bench_cp", validation_definitions=[definition], result_format=result_format)
    )
    # GX needs the same dtypes our wrapper gives it; the cast is zero-copy and not timed here.
    frame = comparable_dtypes(df)
    return lambda: checkpoint.run(batch_parameters={"dataframe": frame})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_calidad",
                                     description="Mide el costo de la etapa de calidad frente a GX solo.")
    parser.add_argument("--filas", type=int, default=1_000_000)
    parser.add_argument("--repeticiones", type=int, default=3)
    parser.add_argument("--conjunto", default="vacunacion_pai")
    args = parser.parse_args(argv)

    from casanare.catalog import load_catalog
    from casanare.quality.baseline import merged_suite
    from casanare.quality.scorecard import build_scorecard
    from casanare.quality.validation import RESULT_FORMAT, run_suite

    dataset = load_catalog().get(args.conjunto)
    suite = merged_suite(dataset)
    t0 = time.perf_counter()
    df = synthetic_frame(dataset, suite, args.filas)
    print(f"Marco sintético de {len(df):,} filas × {df.shape[1]} columnas en {time.perf_counter() - t0:.1f} s; "
          f"suite completa de {len(suite['expectations'])} reglas ({args.conjunto}).")

    bare_times, ours_times, score_times = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-calidad-") as tmp:
        os.environ["CASANARE_DATA_DOCS_DIR"] = tmp
        for i in range(args.repeticiones):
            run_bare = bare_checkpoint(df, suite, RESULT_FORMAT)
            t0 = time.perf_counter()
            bare = run_bare()
            bare_times.append(time.perf_counter() - t0)

            t0 = time.perf_counter()
            report = run_suite(df, dataset, run_name=f"bench-{i}", docs_dir=Path(tmp) / dataset.slug,
                               suite=suite, raise_on_critical=False)
            ours_times.append(time.perf_counter() - t0)

            t0 = time.perf_counter()
            now = datetime.now(UTC)
            build_scorecard(df, dataset, report, None, ahora=now, ultima_actualizacion=now, historial=[],
                            sha256="bench")
            score_times.append(time.perf_counter() - t0)
            if not bare.success or not report["exito"]:
                failed = [r["regla"] for r in report["resultados"] if not r["exito"]]
                print(f"Aviso: el marco sintético no cumple todas las reglas: {failed}")

    bare_s, ours_s, score_s = (statistics.median(t) for t in (bare_times, ours_times, score_times))
    ratio = ours_s / bare_s
    print(f"checkpoint.run de GX solo (mediana de {args.repeticiones}):      {bare_s:6.2f} s")
    print(f"run_suite completo (contexto, Data Docs, informe):   {ours_s:6.2f} s  → {ratio:.2f}× GX solo")
    print(f"Puntaje MinTIC (build_scorecard) adicional:          {score_s:6.2f} s")
    print(f"Etapa validar completa (run_suite + puntaje):        {ours_s + score_s:6.2f} s  → "
          f"{(ours_s + score_s) / bare_s:.2f}× GX solo")
    ok = ratio <= 1.5
    print("Resultado: " + ("CUMPLE" if ok else "NO CUMPLE") + " el objetivo (run_suite ≤ 1,5 × checkpoint.run).")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
