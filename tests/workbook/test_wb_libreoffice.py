"""A real client: LibreOffice headless reads and writes our workbooks.

1. A filled sample survives a LibreOffice round trip (xlsx → xlsx) with the same values.
2. A workbook typed in LibreOffice — the template converted to flat ODS (.fods), cells edited in
   the XML the way a clerk types them (text numbers, full-width digits, percent format, a formula,
   a word), converted back to xlsx by LibreOffice — imports with the right values or codes.
"""

from __future__ import annotations

import io
import shutil
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest
from openpyxl import load_workbook
from wbhelpers import YEAR

from kpiengine.engine import Engine
from kpiengine.model import Domain
from kpiengine.numbers import fraction_text
from kpiengine.workbook import layout as L
from kpiengine.workbook.template import write_template
from kpiengine.workbook.validate import validate_workbook

pytestmark = pytest.mark.libreoffice

NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "number": "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0",
    "calcext": "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0",
}
OF_NS = "urn:oasis:names:tc:opendocument:xmlns:of:1.2"  # OpenFormula, the "of:" of table:formula
PCT_STYLE = "ceKpiPercent"


def q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


class Fods:
    """Minimal editor of a LibreOffice flat ODS file: set a cell found by its machine key."""

    def __init__(self, path: Path):
        for _, (prefix, uri) in ET.iterparse(io.BytesIO(path.read_bytes()), events=("start-ns",)):
            ET.register_namespace(prefix, uri)
        self.tree = ET.parse(path)
        self.rows = {}
        for table in self.tree.iter(q("table:table")):
            if table.get(q("table:name")) != L.DATA_SHEET:
                continue
            for row in table.iter(q("table:table-row")):
                first = row.find(q("table:table-cell"))
                text = "".join(first.itertext()).strip() if first is not None else ""
                if L.parse_key(text):
                    self.rows[text] = row
        styles = self.tree.getroot().find(q("office:automatic-styles"))
        pct = ET.SubElement(styles, q("number:percentage-style"), {q("style:name"): "NKpiPercent"})
        ET.SubElement(pct, q("number:number"), {q("number:decimal-places"): "1", q("number:min-integer-digits"): "1"})
        ET.SubElement(pct, q("number:text")).text = "%"
        ET.SubElement(styles, q("style:style"), {q("style:name"): PCT_STYLE, q("style:family"): "table-cell",
                                                  q("style:parent-style-name"): "Default",
                                                  q("style:data-style-name"): "NKpiPercent"})

    def _value_cell(self, key: str) -> ET.Element:
        row = self.rows[key]
        cells = [c for c in row if c.tag in (q("table:table-cell"), q("table:covered-table-cell"))]
        expanded: list[ET.Element] = []
        for c in cells:  # expand repeated cells so the third one (column C) is its own element
            n = int(c.get(q("table:number-columns-repeated"), "1"))
            if n > 1 and len(expanded) < 3:
                c.attrib.pop(q("table:number-columns-repeated"))
                idx = list(row).index(c)
                for k in range(1, min(n, 3)):
                    clone = ET.Element(c.tag, dict(c.attrib))
                    row.insert(idx + k, clone)
                if n > 3:
                    rest = ET.Element(c.tag, {**c.attrib, q("table:number-columns-repeated"): str(n - 3)})
                    row.insert(idx + 3, rest)
                return self._value_cell(key)
            expanded.append(c)
        return expanded[2]

    def set(self, key: str, kind: str, value: str, shown: str | None = None, formula: str | None = None) -> None:
        cell = self._value_cell(key)
        keep = {k: v for k, v in cell.attrib.items() if k in (q("table:style-name"), q("table:content-validation-name"))}
        cell.attrib.clear()
        cell.attrib.update(keep)
        for child in list(cell):
            cell.remove(child)
        if kind == "string":
            cell.set(q("office:value-type"), "string")
            cell.set(q("calcext:value-type"), "string")
        else:
            cell.set(q("office:value-type"), kind)
            cell.set(q("calcext:value-type"), kind)
            cell.set(q("office:value"), value)
        if kind == "percentage":
            cell.set(q("table:style-name"), PCT_STYLE)
        if formula:
            cell.set(q("table:formula"), formula)
        ET.SubElement(cell, q("text:p")).text = shown if shown is not None else value

    def save(self, path: Path) -> Path:
        self.tree.write(path, xml_declaration=True, encoding="UTF-8")
        text = path.read_text(encoding="utf-8")
        if "xmlns:of=" not in text:  # ElementTree drops namespaces used only inside attribute values ("of:=…")
            text = text.replace("<office:document ", f'<office:document xmlns:of="{OF_NS}" ', 1)
            path.write_text(text, encoding="utf-8")
        return path


def _full_width(text: str) -> str:
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789.,"})


def _grouped(x: Fraction) -> str:
    text = fraction_text(x)
    whole, _, frac = text.partition(".")
    return f"  {int(whole):,}{'.' + frac if frac else ''}  "


@pytest.fixture(scope="session")
def lo_roundtrip(soffice, samples, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(original sample, the same workbook opened and saved as xlsx by LibreOffice)."""
    src = next(iter(samples.values()))[0]
    return src, soffice(src, "xlsx", tmp_path_factory.mktemp("lo-roundtrip"))


@pytest.fixture(scope="session")
def lo_typed(soffice, engine: Engine, samples, tmp_path_factory: pytest.TempPathFactory):
    """A workbook typed in LibreOffice; returns (xlsx path, {kpi id: expected values}, bad key, formula key)."""
    work = tmp_path_factory.mktemp("lo-typed")
    code, plan = next((c, p) for c, (_, p) in samples.items()
                      if any(i.domain is Domain.PERCENT for item in p if item.intended for i in item.kpi.inputs)
                      and sum(1 for item in p if item.intended) >= 5)
    template = write_template(engine, code, YEAR, work / "template")
    fods_path = soffice(template, "fods", work / "fods")
    fods = Fods(fods_path)
    filled = [item for item in plan if item.intended is not None]
    pct_item = next(item for item in filled if any(i.domain is Domain.PERCENT for i in item.kpi.inputs))
    others = [item for item in filled if item is not pct_item
              and any(i.domain in (Domain.COUNT, Domain.NONNEG) for i in item.kpi.inputs)]
    full, grouped, formula_item, bad_item = others[:4]
    expected: dict[str, dict[str, Fraction]] = {}
    for item in (full, grouped, pct_item, formula_item):
        expected[item.kpi.id] = dict(item.values)
    for s, x in full.values.items():  # numbers typed as full-width text
        fods.set(L.key(full.kpi.id, s), "string", _full_width(fraction_text(x)))
    for s, x in grouped.values.items():  # text with thousands separators and spaces
        fods.set(L.key(grouped.kpi.id, s), "string", _grouped(x))
    for inp in pct_item.kpi.inputs:  # percent inputs typed as 90% → percentage cells; the rest as numbers
        x = pct_item.values[inp.symbol]
        if inp.domain is Domain.PERCENT:
            fods.set(L.key(pct_item.kpi.id, inp.symbol), "percentage", fraction_text(x / 100), f"{fraction_text(x)}%")
        else:
            fods.set(L.key(pct_item.kpi.id, inp.symbol), "float", fraction_text(x))
    formula_inp = next(i for i in formula_item.kpi.inputs if i.domain in (Domain.COUNT, Domain.NONNEG))
    for s, x in formula_item.values.items():
        if s == formula_inp.symbol:  # a formula: LibreOffice stores the result as the cached value
            fods.set(L.key(formula_item.kpi.id, s), "float", fraction_text(x), formula=f"of:={fraction_text(x * 2)}/2")
        else:
            fods.set(L.key(formula_item.kpi.id, s), "float", fraction_text(x))
    bad_inp = next(i for i in bad_item.kpi.inputs if i.domain in (Domain.COUNT, Domain.NONNEG))
    for s, x in bad_item.values.items():
        fods.set(L.key(bad_item.kpi.id, s), "string", "待查" if s == bad_inp.symbol else fraction_text(x))
    fods.set(L.key(full.kpi.id, L.RATING), "string", "綠燈")
    fods.set(L.key(full.kpi.id, L.NARRATIVE), "string", "以 LibreOffice 填寫")
    (work / "typed").mkdir()
    edited = fods.save(work / "typed" / "typed.fods")
    out = soffice(edited, "xlsx", work / "xlsx")
    return out, expected, L.key(bad_item.kpi.id, bad_inp.symbol), L.key(formula_item.kpi.id, formula_inp.symbol)


def test_libreoffice_round_trip_keeps_values(lo_roundtrip, engine: Engine) -> None:
    src, converted = lo_roundtrip
    original = validate_workbook(src, engine, year=YEAR)
    again = validate_workbook(converted, engine, year=YEAR)
    assert again.errors == [], [p.as_dict() for p in again.errors]
    assert again.inputs.values == original.inputs.values
    assert again.inputs.self_ratings == original.inputs.self_ratings
    assert again.inputs.narratives == original.inputs.narratives
    wb = load_workbook(converted)
    assert wb[L.META_SHEET].sheet_state == "hidden"
    assert wb[L.DATA_SHEET].protection.sheet and wb[L.DATA_SHEET].data_validations.dataValidation


def test_workbook_typed_in_libreoffice(lo_typed, engine: Engine) -> None:
    path, expected, bad_key, formula_key = lo_typed
    v = validate_workbook(path, engine, year=YEAR)
    assert [(p.code, p.location["key"]) for p in v.errors] == [("wb-not-number", bad_key)]
    assert "待查" in v.errors[0].message
    assert any(p.code == "wb-formula" and p.location["key"] == formula_key for p in v.warnings)
    for kpi_id, values in expected.items():
        assert v.inputs.values[kpi_id] == values, kpi_id
    assert "wb-percent-format" in {p.code for p in v.problems}
    assert len(v.inputs.self_ratings) == 1 and list(v.inputs.narratives.values()) == ["以 LibreOffice 填寫"]


def test_soffice_is_available_unless_skipped(soffice) -> None:
    """The fixture itself fails (not skips) when soffice is missing and KPI_SKIP_LIBREOFFICE is not 1."""
    assert shutil.which("soffice") or shutil.which("libreoffice")
