"""``make bench``: run every benchmark module (``scripts/bench_*.py``) one after the other.

Benchmarks are never part of ``make test``: timings depend on the machine, so they are
measured and printed here, and the figures are recorded in the README's performance section.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    # `make bench BENCH="dag --perfil --sin-grande"`: names choose the benchmarks, flags go to each one.
    only = {a for a in sys.argv[1:] if not a.startswith("-")}
    flags = [a for a in sys.argv[1:] if a.startswith("-")]
    failures = 0
    for module in modules:
        if only and module.removeprefix("bench_") not in only and module not in only:
            continue
        print(f"\n=== {module} ===", flush=True)
        result = subprocess.run([sys.executable, "-m", f"scripts.{module}", *flags], cwd=HERE.parent, check=False)
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
