"""Print the 4x4 each catalog entry has on datos.gov.co, as YAML (to paste into the catalog).

Run: ``python -m scripts.ids_portal [--staging URL]`` (``make ids-portal``). Reads the catalog and
the state each first publication left in staging; entries not created yet are listed as comments.
"""

from __future__ import annotations

import argparse
import sys

import yaml


def render(ids: dict[str, str], pending: list[str]) -> str:
    """``{slug: {datos_gov_co: {dataset_id: 4x4}}}`` YAML, plus the entries still without an id."""
    body = yaml.safe_dump({slug: {"datos_gov_co": {"dataset_id": ff}} for slug, ff in sorted(ids.items())},
                          allow_unicode=True, sort_keys=True) if ids else ""
    lines = [f"# {slug}: sin identificador todavía (se crea en su primera publicación)" for slug in pending]
    return body + ("\n".join(lines) + "\n" if lines else "")


def main(argv: list[str] | None = None) -> int:
    from casanare.catalog import load_catalog
    from casanare.publish.portal.ids import assigned_ids

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--staging", help="URL del staging (por defecto CASANARE_STAGING_URL)")
    args = parser.parse_args(argv)
    catalog = load_catalog()
    ids = assigned_ids(catalog, args.staging)
    pending = [d.slug for d in catalog.datasets if d.datos_gov_co and d.slug not in ids]
    sys.stdout.write(render(ids, pending))
    return 0


if __name__ == "__main__":
    sys.exit(main())
