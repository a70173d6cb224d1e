"""Reads an uploaded workbook into keyed cells, without judging the values.

The workbook is streamed (read-only mode) with formulas, to see which cells hold one; only if
some do is it opened again with cached values (``data_only``), so a formula whose cached value is
missing is reported instead of read as empty.

What is read is what the clerk sees: a row is found by its machine key in column A and its value
is taken from the template's value column (``layout.COL_VALUE``) — never from a column some header
text points to. Before a sheet is iterated its XML is scanned once (streaming, bounded by the
unpacked size) for the rows and cells that exist and for hidden rows and columns: a sheet beyond
``MAX_SHEET_ROWS`` / ``MAX_SHEET_CELLS`` is refused without being iterated, keys on a hidden or
very hidden sheet and values in hidden rows or columns are errors, and text typed into rows the
template does not have is reported instead of dropped.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import coordinate_to_tuple, get_column_letter

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
    kind: Any = None  # the locked "kind of value" cell of the row (checked against the catalog: layout intact)

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
    hidden: list[tuple[str, str, str]] = field(default_factory=list)  # (sheet, cell, key) of values nobody sees
    stray: list[tuple[str, str, str, str]] = field(default_factory=list)  # (sheet, cell, text, kpi id) in rows not ours


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


@dataclass(frozen=True)
class SheetFacts:
    """What the sheet's XML holds, from one streaming scan: size, and what is hidden."""

    last_row: int = 0  # the last row with a cell
    cells: int = 0
    hidden_rows: frozenset[int] = frozenset()
    hidden_cols: frozenset[int] = frozenset()


_ROW_TAG = re.compile(rb"<(?:[a-z]+:)?row\b([^>]*?)(/?)>")
_COL_TAG = re.compile(rb"<(?:[a-z]+:)?col\b([^>]*)>")
_ATTR = re.compile(rb'\b(r|hidden|ht|min|max|width)="([^"]*)"')
_CELL_TAG = re.compile(rb"<(?:[a-z]+:)?c[\s>]")

# Fast paths for the common case, each equivalent to the patterns above: a literal tag start lets the
# regex engine skip ahead; namespace-prefixed tags (``<x:row``) are looked for only when present.
_ROW_WITH_CELLS = re.compile(rb'<row\b[^>]*?\br="([^"]*)"[^>]*?(?<!/)>')  # r of every <row …> (not <row …/>)
_ROW_WITH_CELLS_NS = re.compile(rb'<[a-z]+:row\b[^>]*?\br="([^"]*)"[^>]*?(?<!/)>')
_CELL_TAG_PLAIN = re.compile(rb"<c[\s>]")
_CELL_TAG_NS = re.compile(rb"<[a-z]+:c[\s>]")


def _count_cells(body: bytes) -> int:
    """``len(_CELL_TAG.findall(body))``."""
    n = len(_CELL_TAG_PLAIN.findall(body))
    if b":c" in body:
        n += len(_CELL_TAG_NS.findall(body))
    return n


def _rows_with_cells(body: bytes) -> list[bytes]:
    """The r attribute of every non-empty row tag of ``body``."""
    found = _ROW_WITH_CELLS.findall(body)
    if b":row" in body:
        found += _ROW_WITH_CELLS_NS.findall(body)
    return found


def _maybe_hidden_rows(body: bytes) -> bool:
    """False only when no row of ``body`` can be hidden: no hidden attribute, no ``\bht="0`` (a height 0)."""
    if b'hidden="' in body:
        return True
    at = body.find(b'ht="0')
    while at >= 0:  # "right"/"fitToHeight" end in ht but are other words; a height starts one
        before = body[at - 1:at]
        if not (before.isalnum() or before == b"_"):
            return True
        at = body.find(b'ht="0', at + 1)
    return False


def sheet_facts(archive: zipfile.ZipFile, member: str) -> SheetFacts:
    """Scan one sheet's XML in chunks: rows and cells present, hidden rows (hidden / height 0) and columns."""
    hidden_rows: set[int] = set()
    hidden_cols: set[int] = set()
    last_row = cells = 0
    tail = b""
    with archive.open(member) as fh:
        while chunk := fh.read(1 << 20):
            text = tail + chunk
            cut = text.rfind(b"<")  # keep a tag split across chunks for the next round
            body, tail = (text[:cut], text[cut:]) if cut > 0 else (text, b"")
            cells += _count_cells(body)
            try:  # the common case in C-level passes; an odd r (or a row that may be hidden) takes the loop
                last_row = max(last_row, max(map(int, _rows_with_cells(body)), default=0))
                row_by_row = _maybe_hidden_rows(body)
            except ValueError:
                row_by_row = True
            for m in _ROW_TAG.finditer(body) if row_by_row else ():
                attrs = dict(_ATTR.findall(m.group(1)))
                try:
                    r = int(attrs.get(b"r", b"0"))
                except ValueError:
                    continue
                if not m.group(2):  # <row …> with cells, not an empty <row …/>
                    last_row = max(last_row, r)
                if attrs.get(b"hidden") in (b"1", b"true") or attrs.get(b"ht") in (b"0", b"0.0"):
                    hidden_rows.add(r)
            for m in _COL_TAG.finditer(body) if b"col" in body else ():
                attrs = dict(_ATTR.findall(m.group(1)))
                if attrs.get(b"hidden") in (b"1", b"true") or attrs.get(b"width") in (b"0", b"0.0"):
                    try:
                        lo, hi = int(attrs.get(b"min", b"0")), int(attrs.get(b"max", b"0"))
                    except ValueError:
                        continue
                    hidden_cols.update(range(max(lo, 1), min(hi, L.READ_COLS) + 1))
    return SheetFacts(last_row, cells, frozenset(hidden_rows), frozenset(hidden_cols))


def _info_row(label: object) -> bool:
    return isinstance(label, str) and (label.strip() in L.INFO_LABELS or label.strip().endswith(L.INFO_SUFFIX))


def _first_key(values: list[Any]) -> tuple[int, tuple[str, str]] | None:
    """(column, parsed key) of the leftmost cell holding a machine key, or None."""
    for n, v in enumerate(values, start=1):
        if isinstance(v, str) and ":" in v:  # every key has one; most cells are numbers or prose without
            parsed = L.parse_key(v)
            if parsed:
                return n, parsed
    return None


def _scan(wb, out: ParsedWorkbook) -> None:
    """One streaming pass over every sheet: metadata, then keyed rows and their value cells."""
    if L.META_SHEET in wb.sheetnames:
        out.meta_sheet_found = True
        ws = wb[L.META_SHEET]
        ws.reset_dimensions()
        for n, row in enumerate(ws.iter_rows(max_col=2), start=1):
            if n > 200:  # the template writes seven rows
                break
            k = row[0].value if row else None
            v = row[1].value if len(row) > 1 else None
            if isinstance(k, str) and k.strip():
                out.meta[k.strip()] = v
                out.meta_cells[k.strip()] = f"B{n}"
    for ws in wb.worksheets:
        if ws.title == L.META_SHEET:
            continue
        facts = sheet_facts(wb._archive, ws._worksheet_path)
        if facts.last_row > L.MAX_SHEET_ROWS or facts.cells > L.MAX_SHEET_CELLS:
            out.problems.append(wb_problem("wb-sheet-too-large", {"file": out.path.name, "sheet": ws.title},
                                           sheet=ws.title, rows=f"{facts.last_row:,}", cells=f"{facts.cells:,}",
                                           max_rows=f"{L.MAX_SHEET_ROWS:,}", max_cells=f"{L.MAX_SHEET_CELLS:,}"))
            continue
        ws.reset_dimensions()  # never trust the stored <dimension>: the scan above counted what exists
        visible = getattr(ws, "sheet_state", "visible") == "visible"
        current_kpi: str | None = None
        key_col = L.COL_KEY
        for r, row in enumerate(ws.iter_rows(max_col=L.READ_COLS), start=1):
            if r > facts.last_row:
                break
            values = [c.value for c in row]  # read-only cells and the empty filler both have .value
            found = _first_key(values)
            if found is None:
                label = values[key_col] if len(values) > key_col else None
                if visible and current_kpi is not None and not _info_row(label):
                    for col, v in enumerate(values, start=1):
                        if v is not None and str(v).strip():
                            out.stray.append((ws.title, f"{get_column_letter(col)}{r}", str(v).strip(), current_kpi))
                            break
                continue
            key_col, (kpi_id, field_name) = found
            current_kpi = kpi_id
            key_text = values[key_col - 1].strip()
            coord = f"{get_column_letter(key_col)}{r}"
            if not visible:
                out.problems.append(wb_problem("wb-hidden-sheet", {"file": out.path.name, "sheet": ws.title, "cell": coord},
                                               sheet=ws.title, cell=coord))
                break
            col = key_col + (L.COL_VALUE - L.COL_KEY)
            kind_col = key_col + (L.COL_KIND - L.COL_KEY)
            cell = row[col - 1] if len(row) >= col else None
            raw = getattr(cell, "value", None)
            where = f"{get_column_letter(col)}{r}"
            if raw is not None and str(raw).strip() and (r in facts.hidden_rows or col in facts.hidden_cols):
                out.hidden.append((ws.title, where, key_text))
                raw = None  # never scored: reported as an error instead
            out.cells.append(KeyedCell(
                key=key_text, kpi_id=kpi_id, field=field_name, sheet=ws.title, key_cell=coord, cell=where, value=raw,
                number_format=getattr(cell, "number_format", None) or "General", formula=_formula_text(cell),
                kind=values[kind_col - 1] if len(values) >= kind_col else None))


def _values_at(wb, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """Cached values of the wanted cells (all in the value column, within rows already bounded by the scan)."""
    out: dict[tuple[str, str], Any] = {}
    sheets = {s for s, _ in wanted}
    for ws in wb.worksheets:
        if ws.title not in sheets:
            continue
        last = max(coordinate_to_tuple(c)[0] for s, c in wanted if s == ws.title)
        ws.reset_dimensions()
        for r, row in enumerate(ws.iter_rows(max_col=L.READ_COLS, max_row=last), start=1):
            for col, c in enumerate(row, start=1):
                coord = f"{get_column_letter(col)}{r}"
                if (ws.title, coord) in wanted:
                    out[ws.title, coord] = getattr(c, "value", None)
    return out
