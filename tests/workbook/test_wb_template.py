"""The fill-in workbook: readable, protected, keyed, validated, formula-free — for every agency."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from wbhelpers import YEAR, catalog_agencies, key_cells

from kpiengine.engine import Engine
from kpiengine.model import Domain
from kpiengine.workbook import layout as L
from kpiengine.workbook.template import chinese_number, write_template
from kpiengine.workbook.validate import validate_workbook

AGENCIES = catalog_agencies()

DV_TYPES = {Domain.COUNT: "whole", Domain.NONNEG: "decimal", Domain.PERCENT: "decimal", Domain.SCORE: "decimal",
            Domain.REAL: "decimal", Domain.BOOL: "list", Domain.RANK: "whole"}


@pytest.fixture(scope="module")
def templates(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("templates")
    return {code: write_template(engine, code, YEAR, out) for code in AGENCIES}


@pytest.mark.parametrize("code", AGENCIES)
def test_template_structure(code: str, engine: Engine, templates: dict[str, Path]) -> None:
    wb = load_workbook(templates[code])
    agency = engine.catalog.agency(code)
    kpis = engine.catalog.kpis_of(code)
    assert wb.sheetnames == [L.COVER_SHEET, L.DATA_SHEET, L.META_SHEET]
    assert wb[L.META_SHEET].sheet_state == "hidden"
    assert wb.security.lockStructure
    assert all(ws.protection.sheet for ws in wb.worksheets)
    meta = {r[0].value: r[1].value for r in wb[L.META_SHEET].iter_rows(max_col=2)}
    assert meta[L.META_AGENCY] == code and meta[L.META_YEAR] == YEAR and meta[L.META_VERSION] == L.TEMPLATE_VERSION
    cover = " ".join(str(c.value) for row in wb[L.COVER_SHEET].iter_rows() for c in row if c.value is not None)
    for text in (agency.name, str(YEAR), L.TEMPLATE_VERSION, "填寫說明", "聯絡窗口"):
        assert text in cover
    assert "範例資料" not in cover
    for ws in wb.worksheets:  # no formulas anywhere
        assert not [c.coordinate for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    ws = wb[L.DATA_SHEET]
    cells = key_cells(ws)
    expected = {L.key(k.id, f) for k in kpis for f in (L.KPI_MARK, L.RATING, L.NARRATIVE, *k.input_symbols)}
    assert set(cells) == expected
    validations = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in ws[rng.coord] if ":" in rng.coord else [[ws[rng.coord]]]:
                for c in row:
                    validations[c.coordinate] = dv
    unlocked = {c.coordinate for row in ws.iter_rows() for c in row if not c.protection.locked}
    wanted_unlocked = set()
    for kpi in kpis:
        for inp in kpi.inputs:
            row, col = cells[L.key(kpi.id, inp.symbol)]
            cell = ws.cell(row=row, column=col)
            wanted_unlocked.add(cell.coordinate)
            assert cell.value is None
            assert ws.cell(row=row, column=2).value == inp.label
            assert ws.cell(row=row, column=5).value == inp.domain.label
            dv = validations[cell.coordinate]
            assert dv.type == DV_TYPES[inp.domain]
            if inp.domain in (Domain.COUNT, Domain.NONNEG, Domain.PERCENT):
                assert dv.operator == "greaterThanOrEqual" and dv.formula1 == "0"
            if inp.domain is Domain.BOOL:
                assert dv.formula1 == '"1,0"'
            assert cell.fill.fgColor.rgb.endswith("FFF2CC")
            assert cell.font.name == L.FONT_NAME
        row, col = cells[L.key(kpi.id, L.RATING)]
        rating = ws.cell(row=row, column=col)
        assert validations[rating.coordinate].formula1 == '"綠燈,黃燈,紅燈,白燈"'
        wanted_unlocked.add(rating.coordinate)
        row, col = cells[L.key(kpi.id, L.NARRATIVE)]
        wanted_unlocked.add(ws.cell(row=row, column=col).coordinate)
        target = engine.catalog.target(kpi.id, YEAR)
        block = [str(ws.cell(row=r, column=c).value) for r in range(cells[L.key(kpi.id, L.KPI_MARK)][0], row)
                 for c in range(2, 7)]
        text = " ".join(block)
        assert kpi.name in text and kpi.standard in text and target.text in text
        if kpi.note:
            assert kpi.note.strip() in text
        for stage in target.stages:  # milestone stages beside their bool rows
            srow, _ = cells[L.key(kpi.id, stage.symbol)]
            assert stage.text in str(ws.cell(row=srow, column=6).value)
    assert unlocked <= {c for c in wanted_unlocked} | _merged_parts(ws)
    assert wanted_unlocked <= unlocked
    assert ws.column_dimensions["B"].width >= 30


def _merged_parts(ws) -> set[str]:
    return {c.coordinate for rng in ws.merged_cells.ranges for row in ws[rng.coord] for c in row}


@pytest.mark.parametrize("code", AGENCIES)
def test_empty_template_validates_as_no_data(code: str, engine: Engine, templates: dict[str, Path]) -> None:
    v = validate_workbook(templates[code], engine, year=YEAR, agency=code)
    assert v.errors == []
    # grouped: one line with every KPI's input cells; and one saying that submitting it would blank the year
    assert {p.code for p in v.warnings} == {"wb-not-given", "wb-nothing-filled"}
    blank = [p for p in v.warnings if p.code == "wb-not-given"]
    assert sum(p.location.get("count", 1) for p in blank) == len(engine.catalog.kpis_of(code))
    assert [p.code for p in v.needs_confirmation] == ["wb-nothing-filled"]
    assert v.inputs is not None and v.inputs.agency_code == code
    assert all(value is None for row in v.inputs.values.values() for value in row.values())


@pytest.mark.parametrize(("n", "text"), [(1, "一"), (9, "九"), (10, "十"), (12, "十二"), (21, "二十一")])
def test_chinese_number(n: int, text: str) -> None:
    assert chinese_number(n) == text
