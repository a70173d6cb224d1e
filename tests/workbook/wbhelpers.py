"""Helpers shared by the workbook tests: edit a workbook by machine key, list the catalog's agencies."""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from kpiengine.catalog import find_root
from kpiengine.engine import Engine
from kpiengine.workbook import layout as L

ROOT = find_root(Path(__file__).resolve().parent)
YEAR = 107


@cache
def catalog_agencies() -> list[str]:
    """Agency codes of the catalog at collection time (the catalog grows; tests follow it)."""
    return [a.code for a in Engine.load(ROOT).catalog.agencies]


def key_cells(ws) -> dict[str, tuple[int, int]]:
    """key → (row, value column) in one sheet, the value column found by its header like the reader does."""
    value_col = None
    for row in ws.iter_rows():
        for c in row:
            if c.value == L.VALUE_HEADER:
                value_col = c.column
                break
        if value_col:
            break
    out = {}
    for row in ws.iter_rows():
        for c in row:
            if L.parse_key(c.value):
                out[c.value] = (c.row, value_col or c.column + 2)
                break
    return out


def edit_workbook(src: Path, dst: Path, values: dict[str, Any] | None = None,
                  formats: dict[str, str] | None = None, meta: dict[str, Any] | None = None,
                  delete_keys: tuple[str, ...] = (), rename_keys: dict[str, str] | None = None,
                  duplicate_key: str | None = None) -> Path:
    """Copy ``src`` to ``dst`` changing cells by key (values, number formats), metadata, or rows."""
    wb = load_workbook(src)
    ws = wb[L.DATA_SHEET]
    cells = key_cells(ws)
    for k, v in (values or {}).items():
        row, col = cells[k]
        ws.cell(row=row, column=col).value = float(v) if isinstance(v, Fraction) else v
    for k, fmt in (formats or {}).items():
        row, col = cells[k]
        ws.cell(row=row, column=col).number_format = fmt
    for k, new in (rename_keys or {}).items():
        row, _ = cells[k]
        ws.cell(row=row, column=1).value = new
    if duplicate_key:
        row, _ = cells[duplicate_key]
        target = ws.max_row + 2
        for col in range(1, 7):
            ws.cell(row=target, column=col).value = ws.cell(row=row, column=col).value
    for k in sorted(delete_keys, key=lambda k: -cells[k][0]):
        ws.delete_rows(cells[k][0])
    if meta:
        ms = wb[L.META_SHEET]
        for row in ms.iter_rows(max_col=2):
            if row[0].value in meta:
                row[1].value = meta[row[0].value]
    wb.save(dst)
    return dst


def cell_values(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's values (for comparing workbooks by content, not bytes)."""
    wb = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def value_diff(a: Path, b: Path, limit: int = 5) -> list[str]:
    """The first cells whose values differ between two workbooks: 'sheet!C12: old → new'."""
    from openpyxl.utils import get_column_letter

    va, vb = cell_values(a), cell_values(b)
    out = [f"工作表不同：{sorted(va)} → {sorted(vb)}"] if sorted(va) != sorted(vb) else []
    for sheet in va.keys() & vb.keys():
        ra, rb = va[sheet], vb[sheet]
        for r in range(max(len(ra), len(rb))):
            row_a = ra[r] if r < len(ra) else []
            row_b = rb[r] if r < len(rb) else []
            for c in range(max(len(row_a), len(row_b))):
                x = row_a[c] if c < len(row_a) else None
                y = row_b[c] if c < len(row_b) else None
                if x != y:
                    out.append(f"{sheet}!{get_column_letter(c + 1)}{r + 1}：{x!r} → {y!r}")
                    if len(out) >= limit:
                        return out
    return out
