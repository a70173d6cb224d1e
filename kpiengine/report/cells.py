"""Spreadsheet cells that can never become formulas: text that starts like one is kept as text.

Narratives, reasons and names come from agencies and reviewers. A text beginning with = + - @
(or a tab / carriage return, which some spreadsheet programs skip) would be read as a formula by
openpyxl and by a person re-entering the cell. It is stored as a string with Excel's quote prefix,
so it shows exactly as typed and is never evaluated.
"""

from __future__ import annotations

from typing import Any

from ..freetext import FORMULA_STARTS, is_formula_like  # the one test, shared with the CLI's CSV

__all__ = ["FORMULA_STARTS", "is_formula_like", "put"]


def put(ws: Any, row: int, column: int, value: Any) -> Any:
    """Write ``value`` into ws[row, column]: numbers as numbers, text always as text."""
    cell = ws.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str) and is_formula_like(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell
