"""Baseline of ``kpi score``: a bare openpyxl read-only pass over every cell of every workbook in a folder.

Run as its own process (``python benchmarks/bare_read.py actuals/107``): the least any importer of
these files must do, start-up included.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import openpyxl


def read_file(path: Path) -> int:
    """Every cell value of every sheet of one workbook, read-only: the floor of any reader of it."""
    wb = openpyxl.load_workbook(path, read_only=True)
    cells = sum(len(row) for ws in wb.worksheets for row in ws.iter_rows(values_only=True))
    wb.close()
    return cells


def read_files(files: Iterable[Path]) -> int:
    return sum(read_file(f) for f in files)


def read_all(folder: Path) -> int:
    return read_files(sorted(folder.glob("*.xlsx")))


if __name__ == "__main__":
    print(read_all(Path(sys.argv[1])))
