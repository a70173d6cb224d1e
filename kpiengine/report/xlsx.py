"""Renders report models to one .xlsx for 國發會's reviewers: an overview sheet and a detail sheet.

Same model as the HTML; numbers are written as display text already rounded half-up, so the
workbook shows exactly what the HTML shows, and no cell holds a formula.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from .html import chinese_numeral
from .model import AgencyReport

FONT = "Noto Sans CJK TC"
FILLS = {"green": "C8E6C9", "yellow": "FFF59D", "red": "FFCDD2", "white": "FFFFFF"}
THIN = Side(style="thin", color="BCCCDC")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="E4ECF4")

DETAIL_COLUMNS = [("機關", 14), ("關鍵策略目標", 24), ("指標代碼", 10), ("關鍵績效指標", 30), ("年度目標值", 14),
                  ("實際值", 14), ("達成度", 10), ("燈號／狀態", 11), ("初核", 8), ("複核", 8), ("複核理由", 20),
                  ("原文疑義與訊息", 60)]


def _header(ws, titles: list[tuple[str, int]], row: int = 1) -> None:
    for col, (title, width) in enumerate(titles, start=1):
        cell = ws.cell(row=row, column=col, value=title)
        cell.font = Font(name=FONT, bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=row + 1, column=1)


def write_xlsx(reports: list[AgencyReport], year: int, path: Path, sample: bool = False) -> Path:
    """Write the reviewers' workbook (總覽 + 明細) to ``path``."""
    wb = Workbook()
    overview = wb.active
    overview.title = "總覽"
    light_keys = ["green", "yellow", "red", "white"]
    titles = [("機關", 26), ("指標數", 8)] + [(lbl, 8) for lbl in ("綠燈", "黃燈", "紅燈", "白燈")] + \
             [("其他狀態", 24), ("綠燈比率", 10), ("原文有疑義", 10)]
    _header(overview, titles)
    for r_i, r in enumerate(reports, start=2):
        counts = {t.key: t.count for t in r.tallies}
        others = "、".join(f"{t.label} {t.count}" for t in r.tallies if t.key not in light_keys) or "—"
        values = [r.agency, r.kpi_count, *[counts.get(k, 0) for k in light_keys], others, r.green_share, r.ambiguous]
        for c_i, v in enumerate(values, start=1):
            cell = overview.cell(row=r_i, column=c_i, value=v)
            cell.font = Font(name=FONT)
            cell.border = BORDER
    if sample:
        note = overview.cell(row=len(reports) + 3, column=1, value="本報告以範例資料產生，數值僅供示範，非機關實際績效。")
        note.font = Font(name=FONT, bold=True, color="C00000")

    detail = wb.create_sheet("明細")
    _header(detail, DETAIL_COLUMNS)
    row = 2
    for r in reports:
        for g in r.goals:
            for k in g.rows:
                notes = "\n".join([f"原文疑義：{n}" for n in k.notes] + list(k.messages))
                values = [r.agency, f"{chinese_numeral(g.goal_no)}、{g.goal}", k.kpi_id, k.name, k.target_text,
                          f"{k.actual}{k.unit}", k.achievement, k.light_label, k.self_rating or "—", k.review_label,
                          k.review_reason or "", notes]
                for c_i, v in enumerate(values, start=1):
                    cell = detail.cell(row=row, column=c_i, value=v)
                    cell.font = Font(name=FONT)
                    cell.border = BORDER
                    cell.alignment = Alignment(vertical="top", wrap_text=True)
                if k.light in FILLS:
                    detail.cell(row=row, column=8).fill = PatternFill("solid", fgColor=FILLS[k.light])
                row += 1
    detail.auto_filter.ref = f"A1:{get_column_letter(len(DETAIL_COLUMNS))}{row - 1}"
    for ws in (overview, detail):
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.properties.title = f"{year}年度施政績效報告"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
