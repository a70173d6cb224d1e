"""Reads an uploaded workbook into keyed cells, without judging the values.

The workbook is streamed (read-only mode) with formulas, to see which cells hold one; only if
some do is it opened again with cached values (``data_only``), so a formula whose cached value is
missing is reported instead of read as empty. Cells are found by their machine keys (``moj.8.1:effective``) and the value column by its
header text, so rows and columns may move without breaking the import.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from ..messages import Problem
from . import layout as L
from .errors import wb_problem
from .safety import Limits, check_file


@dataclass(frozen=True)
class KeyedCell:
    """One keyed row: where its key and value are, and what the value cell holds."""

    key: str
    kpi_id: str
    field: str
    sheet: str
    key_cell: str
    cell: str  # coordinate of the value cell
    value: Any  # cached value (data_only)
    number_format: str | None
    formula: str | None  # the formula text if the cell holds one

    @property
    def where(self) -> str:
        return f"{self.sheet}!{self.cell}"


@dataclass
class ParsedWorkbook:
    path: Path
    meta: dict[str, Any] = field(default_factory=dict)
    meta_cells: dict[str, str] = field(default_factory=dict)  # field → coordinate of its value
    meta_sheet_found: bool = False
    cells: list[KeyedCell] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    readable: bool = False


def _formula_text(cell: Any) -> str | None:
    """The formula of a cell (openpyxl's formula view), or None for a constant (even text "=…")."""
    value = getattr(cell, "value", None)
    if isinstance(value, str) and value.startswith("=") and getattr(cell, "data_type", None) == "f":
        return value
    text = getattr(value, "text", None)  # ArrayFormula / DataTableFormula
    if isinstance(text, str):
        return text if text.startswith("=") else "=" + text
    return None


def parse_workbook(path: Path, limits: Limits | None = None) -> ParsedWorkbook:
    """Keyed cells and metadata of ``path``; file-level problems stop here (``readable`` False)."""
    out = ParsedWorkbook(path)
    out.problems.extend(check_file(path, limits))
    if out.problems:
        return out
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
            wb = load_workbook(path, read_only=True, data_only=False)
            try:
                _scan(wb, out)
            finally:
                wb.close()
            formulas = [c for c in out.cells if c.formula is not None]
            if formulas:  # the cached results of formulas live in the data_only view
                wb = load_workbook(path, read_only=True, data_only=True)
                try:
                    cached = _values_at(wb, {(c.sheet, c.cell) for c in formulas})
                finally:
                    wb.close()
                out.cells = [replace(c, value=cached.get((c.sheet, c.cell))) if c.formula is not None else c
                             for c in out.cells]
    except Exception as exc:  # any parser failure is a bad file, never a traceback
        out.cells = []
        out.problems.append(wb_problem("wb-unreadable", {"file": path.name}, detail=type(exc).__name__))
        return out
    out.readable = True
    return out


def _scan(wb, out: ParsedWorkbook) -> None:
    """One streaming pass over every sheet: metadata, then keyed rows and their value cells."""
    if L.META_SHEET in wb.sheetnames:
        out.meta_sheet_found = True
        ws = wb[L.META_SHEET]
        ws.reset_dimensions()
        for row in ws.iter_rows(max_col=2):
            k = row[0].value if row else None
            v = row[1].value if len(row) > 1 else None
            if isinstance(k, str) and k.strip():
                out.meta[k.strip()] = v
                out.meta_cells[k.strip()] = f"B{row[0].row}"
    for ws in wb.worksheets:
        if ws.title == L.META_SHEET:
            continue
        ws.reset_dimensions()  # never trust the stored <dimension>: some writers get it wrong
        value_col: int | None = None
        for row in ws.iter_rows():
            key_cell = None
            for c in row:
                v = getattr(c, "value", None)
                if v is None:
                    continue
                if value_col is None and isinstance(v, str) and v.strip() == L.VALUE_HEADER:
                    value_col = c.column
                if key_cell is None and L.parse_key(v):
                    key_cell = c
            if key_cell is None:
                continue
            kpi_id, field_name = L.parse_key(key_cell.value)
            col = value_col if value_col not in (None, key_cell.column) else key_cell.column + 2
            cell = row[col - 1] if len(row) >= col else None
            raw = getattr(cell, "value", None)
            out.cells.append(KeyedCell(
                key=key_cell.value.strip(), kpi_id=kpi_id, field=field_name, sheet=ws.title,
                key_cell=key_cell.coordinate, cell=f"{get_column_letter(col)}{key_cell.row}",
                value=raw, number_format=getattr(cell, "number_format", None) or "General",
                formula=_formula_text(cell)))


def _values_at(wb, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    sheets = {s for s, _ in wanted}
    for ws in wb.worksheets:
        if ws.title not in sheets:
            continue
        ws.reset_dimensions()
        for row in ws.iter_rows():
            for c in row:
                coord = getattr(c, "coordinate", None)
                if coord and (ws.title, coord) in wanted:
                    out[ws.title, coord] = c.value
    return out
