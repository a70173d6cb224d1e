"""``parse.sheet_facts``: its fast paths find exactly what the row-by-row scan finds, on any sheet XML.

The reference below is the row-by-row scan ``sheet_facts`` used before its fast paths (every row tag
and its attributes read in Python); each case is a sheet's XML, some crafted to take the slow path
(hidden rows, height 0, namespace prefixes, odd row numbers) or to span several read chunks.
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from kpiengine.workbook import layout as L
from kpiengine.workbook.parse import SheetFacts, sheet_facts

_ROW = re.compile(rb"<(?:[a-z]+:)?row\b([^>]*?)(/?)>")
_COL = re.compile(rb"<(?:[a-z]+:)?col\b([^>]*)>")
_ATTR = re.compile(rb'\b(r|hidden|ht|min|max|width)="([^"]*)"')
_CELL = re.compile(rb"<(?:[a-z]+:)?c[\s>]")


def reference(xml: bytes) -> SheetFacts:
    hidden_rows: set[int] = set()
    hidden_cols: set[int] = set()
    last_row = cells = 0
    tail = b""
    stream = io.BytesIO(xml)
    while chunk := stream.read(1 << 20):
        text = tail + chunk
        cut = text.rfind(b"<")
        body, tail = (text[:cut], text[cut:]) if cut > 0 else (text, b"")
        cells += len(_CELL.findall(body))
        for m in _ROW.finditer(body):
            attrs = dict(_ATTR.findall(m.group(1)))
            try:
                r = int(attrs.get(b"r", b"0"))
            except ValueError:
                continue
            if not m.group(2):
                last_row = max(last_row, r)
            if attrs.get(b"hidden") in (b"1", b"true") or attrs.get(b"ht") in (b"0", b"0.0"):
                hidden_rows.add(r)
        for m in _COL.finditer(body):
            attrs = dict(_ATTR.findall(m.group(1)))
            if attrs.get(b"hidden") in (b"1", b"true") or attrs.get(b"width") in (b"0", b"0.0"):
                try:
                    lo, hi = int(attrs.get(b"min", b"0")), int(attrs.get(b"max", b"0"))
                except ValueError:
                    continue
                hidden_cols.update(range(max(lo, 1), min(hi, L.READ_COLS) + 1))
    return SheetFacts(last_row, cells, frozenset(hidden_rows), frozenset(hidden_cols))


def sheet(rows: bytes, cols: bytes = b"", prefix: bytes = b"") -> bytes:
    p = prefix + b":" if prefix else b""
    return (b'<?xml version="1.0"?><%sworksheet xmlns="x"><%scols>%s</%scols><%ssheetData>%s</%ssheetData>'
            b'<pageSetup fitToHeight="0" right="0.75"/></%sworksheet>') % (p, p, cols, p, p, rows, p, p)


def rows(n: int, start: int = 1, attrs: bytes = b"", prefix: bytes = b"") -> bytes:
    p = prefix + b":" if prefix else b""
    return b"".join(b'<%srow r="%d" spans="1:3"%s><%sc r="A%d" t="s"><%sv>1</%sv></%sc><%sc r="C%d"/></%srow>'
                    % (p, r, attrs, p, r, p, p, p, p, r, p) for r in range(start, start + n))


CASES = {
    "plain": sheet(rows(50)),
    "empty sheet": sheet(b""),
    "self-closing rows do not count as last": sheet(rows(5) + b'<row r="900"/><row r="901" ht="0"/>'),
    "hidden rows": sheet(rows(5) + rows(2, 6, b' hidden="1"') + rows(1, 8, b' hidden="true"') + rows(2, 9)),
    "height 0": sheet(rows(3) + rows(1, 4, b' ht="0" customHeight="1"') + rows(1, 5, b' ht="0.0"') + rows(1, 6, b' ht="0.5"')),
    "words ending in ht are not heights": sheet(rows(3, attrs=b' fitToHeight="0" right="0"')),
    "hidden and zero-width columns": sheet(rows(4), b'<col min="2" max="3" hidden="1"/><col min="5" max="5" width="0"/>'
                                           b'<col min="8" max="99" hidden="true"/><col min="x" max="2" hidden="1"/>'),
    "namespace prefixes": sheet(rows(20, prefix=b"x") + rows(2, 21, b' hidden="1"', b"x"), prefix=b"x"),
    "mixed prefixes": sheet(rows(10) + rows(10, 11, prefix=b"s")),
    "odd row numbers": sheet(rows(3) + b'<row r=" 7"><c r="A7"/></row><row r="1_000"><c r="A1000"/></row>'
                             b'<row r="abc"><c r="A1"/></row><row><c r="A2"/></row>'),
    "whitespace after the cell tag": sheet(b'<row r="1"><c\nr="A1"/><c\tr="B1"/><c>x</c><cx r="C1"/></row>'),
    "several chunks": sheet(rows(30_000)),
    "several chunks, a hidden row in the last": sheet(rows(30_000) + rows(1, 30_001, b' hidden="1"')),
}


@pytest.mark.parametrize("name", list(CASES))
def test_sheet_facts_match_the_row_by_row_scan(name: str, tmp_path) -> None:
    xml = CASES[name]
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", xml)
    with zipfile.ZipFile(path) as zf:
        got = sheet_facts(zf, "xl/worksheets/sheet1.xml")
    assert got == reference(xml)
    assert got.cells > 0 or name == "empty sheet"
