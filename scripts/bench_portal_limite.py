"""Where a plain SODA upsert stops beating a DSMAPI update revision (sets ``soda_max_filas``).

Run: ``python -m scripts.bench_portal_limite [--filas 50000]``. Against the local stand-in, for
diffs of several sizes, times one publication sent as ONE SODA request and as one update revision
(create revision → upload CSV → transform → apply → wait), both followed by the same reconciliation.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    from casanare.publish.portal.client import PortalConfig
    from casanare.publish.portal.publish import publish
    from casanare.staging import DatasetArea
    from scripts.bench_publicacion import make_frame, mutate, sample_dataset
    from standins.soda_portal import start_portal

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--filas", type=int, default=50_000)
    parser.add_argument("--tamanos", default="10,100,1000,5000,20000")
    args = parser.parse_args(argv)
    ds = sample_dataset()
    base = make_frame(args.filas)
    print(f"{'filas del diff':>15} {'SODA (s)':>10} {'revisión (s)':>13}")
    for size in [int(x) for x in args.tamanos.split(",")]:
        changed, _ = mutate(base, size / args.filas, 0.0, semilla=size)
        times = {}
        for name, limit in (("soda", 10**9), ("revision", 0)):
            with tempfile.TemporaryDirectory() as tmp, start_portal(Path(tmp) / "soda", tls=False) as portal:
                cfg = PortalConfig(base_url=portal.url, app_token="bench", timeout=600, soda_max_filas=limit)
                state = DatasetArea(Path(tmp, "staging").as_uri(), ds.slug)
                publish(base, ds, cfg, state=state, version="v1")
                started = time.perf_counter()
                report = publish(changed, ds, cfg, state=state, version="v2")
                times[name] = time.perf_counter() - started
                assert report["reconciliacion"][-1]["diferentes"] == 0
        print(f"{size:>15,} {times['soda']:>10.2f} {times['revision']:>13.2f}", flush=True)


if __name__ == "__main__":
    main()
