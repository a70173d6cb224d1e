"""The agency workbook (.xlsx) a planning-office clerk fills in, in Traditional Chinese.

Layout: a cover sheet (封面) with instructions, one protected data sheet where only the yellow
input, rating and narrative cells are unlocked, and a hidden ``_meta`` sheet with the machine
identity (agency, year, template version). Every input row carries a machine key in column A so
that import never depends on positions. No formulas are written. The same builder writes the
sample workbooks (values filled in, cover marked 範例資料).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from copy import copy
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import Cell, MergedCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.worksheet import Worksheet

from ..engine import Engine
from ..model import DIRECTION_LABELS, Domain, Kpi, Target
from ..numbers import fraction_text
from . import layout as L

CHINESE_NUMERALS = "〇一二三四五六七八九十"
MAX_ROW_HEIGHT = 409  # points; Excel's limit

COL_KEY, COL_LABEL, COL_VALUE, COL_UNIT, COL_KIND, COL_NOTE = L.COL_KEY, L.COL_LABEL, L.COL_VALUE, L.COL_UNIT, L.COL_KIND, L.COL_NOTE
WIDTHS = {COL_KEY: 24, COL_LABEL: 46, COL_VALUE: 18, COL_UNIT: 10, COL_KIND: 24, COL_NOTE: 40}

FILL_INPUT = PatternFill("solid", fgColor="FFF2CC")
FILL_TITLE = PatternFill("solid", fgColor="D9E1F2")
FILL_HEADER = PatternFill("solid", fgColor="DDEBF7")
FILL_LABEL = PatternFill("solid", fgColor="F2F2F2")
FILL_SAMPLE = PatternFill("solid", fgColor="FCE4D6")
THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
LOCKED = Protection(locked=True)
UNLOCKED = Protection(locked=False)

NUMBER_FORMATS = {Domain.COUNT: "#,##0", Domain.BOOL: "0", Domain.RANK: "0"}  # other domains: General (shows what was typed)

CONTACT = "填表疑義請洽本機關研考（綜合規劃）單位；系統或格式問題請洽國家發展委員會管制考核處。"


@dataclass(frozen=True)
class Fill:
    """Values to pre-fill (sample workbooks): per KPI symbol → value, and ratings / narratives."""

    values: Mapping[str, Mapping[str, Fraction | None]] = field(default_factory=dict)
    ratings: Mapping[str, str] = field(default_factory=dict)
    narratives: Mapping[str, str] = field(default_factory=dict)
    sample: bool = False


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (goal numbers as printed in the plan)."""
    if 0 < n < 10:
        return CHINESE_NUMERALS[n]
    if 10 <= n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else CHINESE_NUMERALS[tens]) + "十" + (CHINESE_NUMERALS[ones] if ones else "")
    return str(n)


def _text_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in text)


def _row_height(text: str, width: float, line: float = 17.0) -> float:
    lines = sum(max(1, math.ceil(_text_width(p) / max(width * 0.95, 1))) for p in str(text).split("\n"))
    return min(max(1, lines) * line + 4, MAX_ROW_HEIGHT)


def cell_number(value: Fraction) -> int | float:
    """A Fraction as the number an Excel cell stores: int when whole, else the decimal as float."""
    if value.denominator == 1:
        return int(value)
    text = fraction_text(value)
    if text is None or "/" in text:
        return float(value)
    return float(text)


class _Sheet:
    """Small writer keeping fonts, borders and protection consistent."""

    def __init__(self, ws: Worksheet):
        self.ws = ws
        self.font = Font(name=L.FONT_NAME, size=11)
        self.bold = Font(name=L.FONT_NAME, size=11, bold=True)
        self.small = Font(name=L.FONT_NAME, size=9, color="808080")

    def put(self, row: int, col: int, value: object = None, *, font: Font | None = None,
            fill: PatternFill | None = None, border: bool = False, align: Alignment = WRAP,
            locked: bool = True, fmt: str | None = None) -> Cell:
        c = self.ws.cell(row=row, column=col)
        if value is not None:
            c.value = value
        c.font = font or self.font
        c.alignment = align
        c.protection = LOCKED if locked else UNLOCKED
        if fill is not None:
            c.fill = fill
        if border:
            c.border = BORDER
        if fmt is not None:
            c.number_format = fmt
        return c

    def merge(self, row: int, first: int, last: int) -> None:
        """``ws.merge_cells`` for one row, giving the covered cells the anchor's outer edges directly.

        openpyxl's own merge adds each edge with ``cell.border += …`` (a new Border per cell and side),
        which was most of ``kpi template --all``; the cells come out the same.
        """
        ws = self.ws
        ref = f"{get_column_letter(first)}{row}:{get_column_letter(last)}{row}"
        ws.merged_cells.add(MergedCellRange(ws, ref))
        edge = ws.cell(row=row, column=first).border
        sides = {n: getattr(edge, n) for n in ("top", "bottom") if getattr(edge, n) and getattr(edge, n).style is not None}
        right = edge.right if edge.right and edge.right.style is not None else None
        middle = Border(**sides) if sides else None
        end = Border(**sides, right=right) if sides or right else None
        for col in range(first + 1, last + 1):
            cell = MergedCell(ws, row=row, column=col)
            covered = ws._cells.get((row, col))
            if covered is not None and covered.has_style:  # keep its lock (the narrative stays editable)
                cell.protection = copy(covered.protection)
            ws._cells[(row, col)] = cell
            border = end if col == last else middle
            if border is not None:
                cell.border = border


def _validations(ws: Worksheet) -> dict[str, DataValidation]:
    def dv(kind: str, prompt: str, error: str, **kw) -> DataValidation:
        v = DataValidation(type=kind, allow_blank=True, showErrorMessage=True, showInputMessage=True,
                           errorTitle="輸入值不符規定", error=error, promptTitle="填寫說明", prompt=prompt, **kw)
        ws.add_data_validation(v)
        return v

    return {
        Domain.COUNT.value: dv("whole", Domain.COUNT.label, "請填 0 以上的整數，勿加單位。",
                               operator="greaterThanOrEqual", formula1="0"),
        Domain.NONNEG.value: dv("decimal", Domain.NONNEG.label, "請填 0 以上的數值，勿加單位。",
                                operator="greaterThanOrEqual", formula1="0"),
        Domain.PERCENT.value: dv("decimal", Domain.PERCENT.label, "請填 0 以上的百分數（90% 請填 90）。",
                                 operator="greaterThanOrEqual", formula1="0"),
        Domain.SCORE.value: dv("decimal", Domain.SCORE.label, "請填 0 到 100 的分數。",
                               operator="between", formula1="0", formula2="100"),
        Domain.REAL.value: dv("decimal", Domain.REAL.label, "請填數值（可為負），勿加單位。",
                              operator="between", formula1="-999999999999999", formula2="999999999999999"),
        Domain.RANK.value: dv("whole", Domain.RANK.label, "請填 1 以上的整數（第1級填 1）。",
                              operator="greaterThanOrEqual", formula1="1"),
        Domain.BOOL.value: dv("list", Domain.BOOL.label, "請選 1（是／已完成）或 0（否／未完成）。",
                              formula1='"1,0"'),
        "rating": dv("list", "請自下拉選單選擇初核燈號", "請選擇 綠燈、黃燈、紅燈 或 白燈。",
                     formula1='"' + ",".join(L.RATING_LABELS) + '"'),
    }


def _stage_texts(target: Target | None) -> dict[str, str]:
    """Stage symbol → "本年度規劃階段 n：…" (values are not shown: their meaning differs by KPI)."""
    if target is None or not target.stages:
        return {}
    return {s.symbol: f"本年度規劃階段 {n}：{s.text}" for n, s in enumerate(target.stages, start=1)}


def build_workbook(engine: Engine, agency_code: str, year: int, fill: Fill | None = None) -> Workbook:
    """The workbook of one agency for one year (empty template, or pre-filled when ``fill`` is given)."""
    agency = engine.catalog.agency(agency_code)
    if agency is None:
        raise ValueError(f"找不到機關「{agency_code}」")
    kpis = engine.catalog.kpis_of(agency.code)
    fill = fill or Fill()
    wb = Workbook()
    cover = wb.active
    cover.title = L.COVER_SHEET
    data = wb.create_sheet(L.DATA_SHEET)
    meta = wb.create_sheet(L.META_SHEET)
    _write_cover(_Sheet(cover), agency.name, agency.code, year, len(kpis), fill.sample)
    _write_data(_Sheet(data), engine, kpis, year, fill, agency.name)
    _write_meta(meta, agency.code, agency.name, year, L.catalog_digest(kpis, year),
                L.KIND_SAMPLE if fill.sample else L.KIND_TEMPLATE)
    for ws in (cover, data, meta):
        ws.protection.sheet = True
        ws.protection.formatColumns = False  # clerks may widen columns and rows
        ws.protection.formatRows = False
    meta.sheet_state = "hidden"
    wb.security = WorkbookProtection(lockStructure=True)
    wb.active = 0  # open on the cover: instructions first
    wb.properties.title = f"{year}年度 {agency.name} 關鍵績效指標填報表"
    wb.properties.creator = "kpiengine"
    return wb


def _write_cover(s: _Sheet, name: str, code: str, year: int, n_kpis: int, sample: bool) -> None:
    ws = s.ws
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 90
    ws.page_setup.orientation = "portrait"  # printed on one page width, as a clerk would print it
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    title = f"{year}年度 {name} 施政計畫關鍵績效指標 實際值填報表"
    if sample:
        title = "【範例資料】" + title
    s.put(1, 1, title, font=Font(name=L.FONT_NAME, size=16, bold=True))
    s.merge(1, 1, 2)
    ws.row_dimensions[1].height = 30
    row = 2
    if sample:
        s.put(row, 1, "範例資料：本檔數值係依目標值推算之虛構數據，並非機關實際填報，僅供測試及教學使用，"
                      "請勿據以引用或提交。",
              font=Font(name=L.FONT_NAME, size=13, bold=True, color="C00000"), fill=FILL_SAMPLE)
        s.merge(row, 1, 2)
        ws.row_dimensions[row].height = 40
        row += 1
    row += 1
    facts = [("機關", name), ("機關代碼", code), ("年度", f"{year}（民國）"), ("範本版本", L.TEMPLATE_VERSION),
             ("指標數", f"{n_kpis} 項"), ("資料性質", "範例資料（非真實數據）" if sample else "正式填報")]
    for label, value in facts:
        s.put(row, 1, label, font=s.bold, fill=FILL_LABEL, border=True)
        s.put(row, 2, value, border=True)
        row += 1
    row += 1
    s.put(row, 1, "填寫說明", font=s.bold)
    row += 1
    steps = [
        f"請切換到「{L.DATA_SHEET}」工作表，在黃底儲存格填入 {year} 年度實際數據；其他儲存格已鎖定，無須也無法修改。",
        "每一項指標的填報項目請全部填寫；若該指標本年度確實無資料，請整項留白（系統將標示為「無資料」），"
        "請勿只填部分項目。",
        "數值請直接填數字，不要加單位或文字說明；整數欄位請勿填小數。百分比請填百分數，例如 90% 請填 90。",
        "里程碑（階段）項目：已完成請填 1，未完成請填 0；F 欄列出本年度規劃的階段。",
        "「初核燈號」請自下拉選單選擇 綠燈／黃燈／紅燈／白燈；「績效衡量暨達成情形分析」請以文字說明達成情形。",
        "A 欄「系統代碼」供系統匯入使用，請勿修改或刪除；請勿新增、刪除、搬移列或工作表，也不要複製到其他檔案填寫。",
        "請存為「Excel 活頁簿（.xlsx）」後上傳；請勿存成 .xls、含巨集之 .xlsm，也不要設定開啟密碼。",
        "上傳後系統會立即檢查，一次列出所有問題及所在儲存格（工作表!儲存格）；有錯誤時不會收件，請依訊息修正後重新上傳。"
        "若有「可能改變燈號」的警告（例如百分比填成小數），請確認數值無誤後勾選確認再提交。",
    ]
    for n, text in enumerate(steps, start=1):
        s.put(row, 1, f"{n}.", align=Alignment(horizontal="right", vertical="top"))
        s.put(row, 2, text)
        ws.row_dimensions[row].height = _row_height(text, 90)
        row += 1
    row += 1
    s.put(row, 1, "聯絡窗口", font=s.bold)
    s.put(row, 2, CONTACT)
    ws.row_dimensions[row].height = _row_height(CONTACT, 90)


def _write_meta(ws: Worksheet, code: str, name: str, year: int, digest: str, kind: str) -> None:
    rows = [("field", "value"), (L.META_AGENCY, code), (L.META_AGENCY_NAME, name), (L.META_YEAR, year),
            (L.META_VERSION, L.TEMPLATE_VERSION), (L.META_DIGEST, digest), (L.META_KIND, kind)]
    for r, (k, v) in enumerate(rows, start=1):
        ws.cell(row=r, column=1, value=k)
        ws.cell(row=r, column=2, value=v)
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 30


def _write_data(s: _Sheet, engine: Engine, kpis: tuple[Kpi, ...], year: int, fill: Fill, agency_name: str) -> None:
    ws = s.ws
    for col, w in WIDTHS.items():
        ws.column_dimensions[get_column_letter(col)].width = w
    wide = sum(WIDTHS[c] for c in (COL_VALUE, COL_UNIT, COL_KIND, COL_NOTE))
    dvs = _validations(ws)
    title = f"{year}年度 {agency_name} 關鍵績效指標實際值填報（黃底儲存格請填寫）"
    s.put(1, COL_KEY, title, font=Font(name=L.FONT_NAME, size=14, bold=True))
    s.merge(1, COL_KEY, COL_NOTE)
    ws.row_dimensions[1].height = 26
    headers = [L.KEY_HEADER, "項目", L.VALUE_HEADER, "單位", "應填內容", "規劃階段／說明"]
    for col, h in enumerate(headers, start=1):
        s.put(2, col, h, font=s.bold, fill=FILL_HEADER, border=True, align=Alignment(horizontal="center", vertical="center"))
    ws.freeze_panes = "A3"
    row = 4
    for kpi in kpis:
        row = _write_kpi(s, engine, kpi, year, fill, dvs, row, wide) + 1
    ws.print_options.gridLines = False
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _write_kpi(s: _Sheet, engine: Engine, kpi: Kpi, year: int, fill: Fill, dvs: dict[str, DataValidation],
               row: int, wide: int) -> int:
    ws = s.ws
    target = engine.catalog.target(kpi.id, year)
    s.put(row, COL_KEY, L.key(kpi.id, L.KPI_MARK), font=s.small, fill=FILL_TITLE)
    s.put(row, COL_LABEL, f"指標 {kpi.id}　{kpi.name}", font=s.bold, fill=FILL_TITLE)
    s.merge(row, COL_LABEL, COL_NOTE)
    ws.row_dimensions[row].height = _row_height(f"指標 {kpi.id}　{kpi.name}", wide + WIDTHS[COL_LABEL])
    row += 1
    info = [
        ("關鍵策略目標", f"{chinese_number(kpi.goal_no)}、{kpi.goal}"),
        ("關鍵績效指標", kpi.name),
        ("衡量標準", kpi.standard),
        (f"{year}年度目標值", target.text if target else "（本年度無目標值）"),
        ("評估方式／指標方向", f"{kpi.method}；{DIRECTION_LABELS[kpi.direction]}（單位：{kpi.unit or '—'}）"),
    ]
    if target is not None and target.components:
        lines = []
        for c in target.components:
            extra = "；".join(x for x in (f"目標 {c.target}" if c.target else "", f"權重 {c.weight}" if c.weight else "") if x)
            lines.append(f"• {c.label}" + (f"（{extra}）" if extra else ""))
        info.append(("子項目", "\n".join(lines)))
    notes = [n for n in (kpi.note, target.note if target else None) if n]
    if notes:
        info.append(("說明", "\n".join(n.strip() for n in notes)))
    for label, text in info:
        s.put(row, COL_LABEL, label, font=s.bold, fill=FILL_LABEL, border=True)
        s.put(row, COL_VALUE, text, border=True)
        s.merge(row, COL_VALUE, COL_NOTE)
        ws.row_dimensions[row].height = max(_row_height(text, wide), _row_height(label, WIDTHS[COL_LABEL]))
        row += 1
    for col, h in enumerate(["", "填報項目", L.VALUE_HEADER, "單位", "應填內容", "規劃階段／說明"], start=1):
        if h:
            s.put(row, col, h, font=s.bold, fill=FILL_HEADER, border=True, align=Alignment(horizontal="center"))
    row += 1
    stages = _stage_texts(target)
    values = fill.values.get(kpi.id, {})
    for inp in kpi.inputs:
        s.put(row, COL_KEY, L.key(kpi.id, inp.symbol), font=s.small)
        s.put(row, COL_LABEL, inp.label, border=True)
        v = values.get(inp.symbol)
        c = s.put(row, COL_VALUE, cell_number(v) if v is not None else None, fill=FILL_INPUT, border=True,
                  locked=False, fmt=NUMBER_FORMATS.get(inp.domain, "General"),
                  align=Alignment(horizontal="right", vertical="top"))
        dvs[inp.domain.value].add(c.coordinate)
        s.put(row, COL_UNIT, inp.unit, border=True)
        s.put(row, COL_KIND, inp.domain.label, border=True)
        note = stages.get(inp.symbol, "")
        if not note and inp.domain is Domain.BOOL and stages:
            note = "非本年度規劃階段（已完成亦可填 1）"
        s.put(row, COL_NOTE, note, border=True)
        ws.row_dimensions[row].height = max(_row_height(inp.label, WIDTHS[COL_LABEL]), _row_height(note, WIDTHS[COL_NOTE]))
        row += 1
    s.put(row, COL_KEY, L.key(kpi.id, L.RATING), font=s.small)
    s.put(row, COL_LABEL, "初核燈號（機關自評）", font=s.bold, border=True)
    c = s.put(row, COL_VALUE, fill.ratings.get(kpi.id), fill=FILL_INPUT, border=True, locked=False,
              align=Alignment(horizontal="center", vertical="top"))
    dvs["rating"].add(c.coordinate)
    s.put(row, COL_KIND, "綠燈／黃燈／紅燈／白燈", border=True)
    row += 1
    s.put(row, COL_KEY, L.key(kpi.id, L.NARRATIVE), font=s.small)
    s.put(row, COL_LABEL, "績效衡量暨達成情形分析", font=s.bold, border=True)
    s.put(row, COL_VALUE, fill.narratives.get(kpi.id), fill=FILL_INPUT, border=True, locked=False)
    for col in range(COL_VALUE + 1, COL_NOTE + 1):
        s.put(row, col, fill=FILL_INPUT, border=True, locked=False)
    s.merge(row, COL_VALUE, COL_NOTE)
    ws.row_dimensions[row].height = max(80, _row_height(fill.narratives.get(kpi.id) or "", wide))
    return row + 1


def write_template(engine: Engine, agency_code: str, year: int, out_dir: Path, fill: Fill | None = None,
                   name: str | None = None) -> Path:
    """Write one agency's workbook into ``out_dir`` and return its path."""
    agency = engine.catalog.agency(agency_code)
    if agency is None:
        raise ValueError(f"找不到機關「{agency_code}」")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / (name or template_file_name(agency.code, agency.name, year))
    build_workbook(engine, agency.code, year, fill).save(path)
    return path


def template_file_name(code: str, name: str, year: int) -> str:
    return f"{year}-{code}-{name}-關鍵績效指標填報表.xlsx"
