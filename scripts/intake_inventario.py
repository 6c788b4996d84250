"""Inventory intake (plan 10.1): ``python -m scripts.intake_inventario inventario.xlsx [--catalogo DIR]``.

Reads the spreadsheet the dependencias fill in, writes a YAML skeleton for each new asset (never
over an existing file) and reports, field by field, where the spreadsheet and the catalog differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Incorpora al catálogo el inventario de activos de información.")
    parser.add_argument("inventario", type=Path, help="hoja de cálculo .xlsx del inventario (10.1)")
    parser.add_argument("--catalogo", type=Path, default=None, help="carpeta del catálogo (por defecto include/catalog)")
    parser.add_argument("--hoja", default=None, help="nombre de la hoja (por defecto se detecta)")
    args = parser.parse_args(argv)

    from casanare import settings
    from casanare.catalog import load_catalog
    from casanare.instruments.intake import esqueletos, leer_inventario

    destino = args.catalogo or settings.catalog_dir()
    try:
        inventario = leer_inventario(args.inventario, args.hoja)
    except (ValueError, KeyError, OSError) as exc:
        print(f"No se pudo leer el inventario: {exc}", file=sys.stderr)
        return 2
    print(f"Inventario {inventario.archivo}, hoja «{inventario.hoja}», encabezado en la fila "
          f"{inventario.fila_encabezado}: {len(inventario.filas)} activo(s).")
    informe = esqueletos(inventario, load_catalog(destino), destino)
    print(informe.texto())
    return 0


if __name__ == "__main__":
    sys.exit(main())
