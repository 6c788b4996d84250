"""The naive script ``make bench`` compares the DAG with (issue 13's yardstick).

What a careful analyst would write in an afternoon, with no privacy gate, website or
reconciliation: pandas ``read_csv`` → Great Expectations (the dataset's own suite) → sodapy,
``replace`` of the first 10k rows and ``upsert`` of the rest in 10k chunks, into its own dataset
on the portal named by the ``AIRFLOW_CONN_DATOS_GOV_CO`` connection (the local stand-in in the
benchmark). It creates that dataset with sodapy the first time and prints a JSON line at the end.

Uso: ``python -m scripts.script_ingenuo fuente.csv [--conjunto abcd-1234]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLUG = "ejecucion_presupuestal_gastos"
COLUMNS = ["id_registro", "vigencia", "trimestre", "codigo_rubro", "nombre_rubro", "fuente_financiacion",
           "apropiacion_inicial", "apropiacion_definitiva", "compromisos", "obligaciones", "pagos"]
CHUNK = 10_000


def _client() -> object:
    from sodapy import Socrata

    conn = json.loads(os.environ["AIRFLOW_CONN_DATOS_GOV_CO"])
    extra = conn.get("extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra)
    scheme = conn.get("schema") or "https"
    domain = f"{conn['host']}:{conn['port']}" if conn.get("port") else conn["host"]
    client = Socrata(domain, extra.get("app_token"), username=conn.get("login"), password=conn.get("password"),
                     timeout=120)
    client.uri_prefix = f"{scheme}://"
    return client


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("fuente", type=Path)
    parser.add_argument("--conjunto", default=None, help="identificador ya creado (re-ejecución)")
    args = parser.parse_args()
    import great_expectations as gx
    import pandas as pd
    from great_expectations.core.expectation_suite import ExpectationSuite

    t0 = time.perf_counter()
    df = pd.read_csv(args.fuente, sep=";", encoding="cp1252", decimal=",", thousands=".", header=0, names=COLUMNS,
                     dtype={"id_registro": str, "codigo_rubro": str})
    t1 = time.perf_counter()
    suite = json.loads((ROOT / "include" / "expectations" / f"{SLUG}.json").read_text(encoding="utf-8"))
    context = gx.get_context(mode="ephemeral")
    batch = (context.data_sources.add_pandas("ingenuo").add_dataframe_asset("t")
             .add_batch_definition_whole_dataframe("b").get_batch(batch_parameters={"dataframe": df}))
    expectations = [{"type": e["type"], "kwargs": e["kwargs"]} for e in suite["expectations"]]
    result = batch.validate(context.suites.add(ExpectationSuite(name="ingenuo", expectations=expectations)))
    t2 = time.perf_counter()
    client = _client()
    dataset = args.conjunto
    if dataset is None:
        columns = [{"fieldName": c, "name": c, "dataTypeName": "text" if df[c].dtype == object or
                    str(df[c].dtype).startswith("str") else "number"} for c in COLUMNS]
        created = client.create("Ejecución presupuestal (script ingenuo)", columns=columns,
                                row_identifier="id_registro", description="benchmark")
        dataset = created["id"]
        client.publish(dataset)
    records = json.loads(df.to_json(orient="records", force_ascii=False))
    for start in range(0, len(records), CHUNK):
        chunk = records[start:start + CHUNK]
        if start == 0:
            client.replace(dataset, chunk)
        else:
            client.upsert(dataset, chunk)
    t3 = time.perf_counter()
    print(json.dumps({"conjunto": dataset, "filas": len(df), "gx_exito": bool(result.success),
                      "leer_s": round(t1 - t0, 1), "gx_s": round(t2 - t1, 1), "publicar_s": round(t3 - t2, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
