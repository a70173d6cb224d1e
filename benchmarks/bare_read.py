"""Baseline of ``kpi score``: a bare openpyxl read-only pass over every cell of every workbook in a folder.

Run as its own process (``python benchmarks/bare_read.py actuals/107``): the least any importer of
these files must do, start-up included.
"""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl


def read_all(folder: Path) -> int:
    cells = 0
    for f in sorted(folder.glob("*.xlsx")):
        wb = openpyxl.load_workbook(f, read_only=True)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                cells += len(row)
        wb.close()
    return cells


if __name__ == "__main__":
    print(read_all(Path(sys.argv[1])))
