"""Renders report models to one .xlsx for 國發會's reviewers: overview, charts, lists and every KPI.

Same model as the HTML. Numbers are real numbers with number formats (達成度 as a percentage), so
reviewers can sort and sum; charts are native Excel charts (openpyxl.chart); text typed by
agencies or reviewers goes through ``cells.put`` and can never become a formula. No cell holds a
formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from .cells import put
from .html import chinese_numeral
from .model import LIGHT_LABELS, AgencyReport, ReportRow
from .overview import Overview, Provenance, build_overview

FONT = "Noto Sans CJK TC"
FILLS = {"green": "C8E6C9", "yellow": "FFF59D", "red": "FFCDD2", "white": "FFFFFF"}
CHART_COLORS = {"green": "2E7D32", "yellow": "F2B600", "red": "C62828", "white": "FFFFFF"}
THIN = Side(style="thin", color="BCCCDC")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="E4ECF4")
LIGHTS = ("green", "yellow", "red", "white")
INTEGER, DECIMAL, PERCENT = "#,##0", "#,##0.00", "0.00%"

OVERVIEW_COLUMNS = [("機關", 26), ("指標數", 8), ("綠燈", 8), ("黃燈", 8), ("紅燈", 8), ("白燈", 8), ("其中複核", 9),
                    ("未繳交", 8), ("待複核", 8), ("需重新複核", 10), ("達標比率", 10), ("範例資料", 9), ("提交版本", 10)]
DETAIL_COLUMNS = [("機關", 14), ("關鍵策略目標", 24), ("指標代碼", 10), ("關鍵績效指標", 30), ("衡量標準", 50),
                  ("年度目標值", 14), ("目標值", 12), ("實際值", 14), ("單位", 8), ("達成度", 10), ("計算燈號／狀態", 12),
                  ("初核", 8), ("複核", 10), ("複核理由", 40), ("複核判定版本", 10), ("最終燈號", 10), ("燈號來源", 10),
                  ("距目標差距", 40), ("績效衡量暨達成情形分析", 60), ("提交版本", 9), ("範例資料", 9), ("原文疑義與訊息", 60)]
LIST_COLUMNS = [("機關", 14), ("指標代碼", 10), ("關鍵績效指標", 30), ("最終燈號", 10), ("燈號來源", 9), ("年度目標值", 14),
                ("實際值", 14), ("單位", 8), ("達成度", 10), ("距目標差距", 60), ("範例資料", 9)]
DISAGREE_COLUMNS = [("機關", 14), ("指標代碼", 10), ("關鍵績效指標", 30), ("初核", 8), ("計算燈號", 10), ("複核", 10),
                    ("不一致", 36), ("複核理由", 50), ("範例資料", 9)]


def _header(ws, titles: Sequence[tuple[str, int]], row: int = 1) -> None:
    for col, (title, width) in enumerate(titles, start=1):
        cell = ws.cell(row=row, column=col, value=title)
        cell.font = Font(name=FONT, bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=row + 1, column=1)


def _number(value: Fraction | None) -> float | int | None:
    if value is None:
        return None
    return value.numerator if value.denominator == 1 else float(value)


def _write_row(ws, row: int, values: Sequence[Any], formats: dict[int, str] | None = None) -> None:
    for c_i, v in enumerate(values, start=1):
        cell = put(ws, row, c_i, v)
        cell.font = Font(name=FONT)
        cell.border = BORDER
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        if formats and c_i in formats and isinstance(v, (int, float)):
            cell.number_format = formats[c_i]


def _value_format(value: Fraction | None) -> str:
    return INTEGER if value is not None and value.denominator == 1 else DECIMAL


def _overview_sheet(wb: Workbook, o: Overview, reports: list[AgencyReport]) -> None:
    ws = wb.active
    ws.title = "總覽"
    _header(ws, OVERVIEW_COLUMNS)
    for r_i, r in enumerate(o.agencies, start=2):
        final = {t.key: t.count for t in r.final}
        values = [r.agency, r.kpi_count, *[final.get(k, 0) for k in LIGHTS], sum(t.reviewed for t in r.final),
                  r.not_submitted, r.awaiting, r.stale,
                  float(r.share_met / 100) if r.share_met is not None else None,
                  "範例資料" if r.sample else "", "、".join(str(v) for v in r.versions) or "—"]
        _write_row(ws, r_i, values, {k: INTEGER for k in range(2, 11)} | {11: PERCENT})
    last = len(o.agencies) + 1
    note_row = last + 2
    notes = ["燈號為最終燈號：國發會已複核者以複核燈號為準（「其中複核」為其數），其餘為系統計算燈號；依達標比率排序。"]
    if o.sample:
        notes.append("標示「範例資料」之機關，數值為範例資料，僅供示範，非機關實際績效。")
    if o.not_submitted:
        notes.append("未繳交機關：" + "、".join(r.agency for r in o.not_submitted))
    for n_i, text in enumerate(notes):
        cell = put(ws, note_row + n_i, 1, text)
        cell.font = Font(name=FONT, bold=True, color="C00000" if "範例" in text else "000000")
    if last >= 2:
        chart = BarChart()
        chart.type = "bar"
        chart.grouping = "stacked"
        chart.overlap = 100
        chart.title = "各機關最終燈號分布"
        chart.y_axis.title = "指標數"
        data = Reference(ws, min_col=3, max_col=6, min_row=1, max_row=last)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
        for series, key in zip(chart.series, LIGHTS, strict=True):
            series.graphicalProperties.solidFill = CHART_COLORS[key]
            series.graphicalProperties.line.solidFill = "7B8794"
        chart.height = max(8, 0.55 * len(o.agencies) + 3)
        chart.width = 18
        ws.add_chart(chart, "O2")


def _histogram_sheet(wb: Workbook, o: Overview) -> None:
    ws = wb.create_sheet("達成度分布")
    _header(ws, [("達成度區間（%）", 16), ("指標數", 10)])
    for r_i, (label, n) in enumerate(o.histogram, start=2):
        _write_row(ws, r_i, [label, n], {2: INTEGER})
    chart = BarChart()
    chart.type = "col"
    chart.title = "達成度分布（上限 100%）"
    chart.x_axis.title = "達成度（%）"
    chart.y_axis.title = "指標數"
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=len(o.histogram) + 1), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(o.histogram) + 1))
    chart.legend = None
    chart.width = 18
    ws.add_chart(chart, "D2")


def _light_label(key: str | None) -> str:
    return LIGHT_LABELS.get(key or "", "—")


def _list_sheets(wb: Workbook, o: Overview) -> None:
    ws = wb.create_sheet("未達標指標")
    _header(ws, LIST_COLUMNS)
    for r_i, m in enumerate(o.missed, start=2):
        k = m.row
        _write_row(ws, r_i, [m.agency, k.kpi_id, k.name, k.final_label, "複核" if k.final_source == "review" else "計算",
                             k.target_text, _number(k.actual_value), k.unit or "",
                             _number(k.achievement_value / 100) if k.achievement_value is not None else None,
                             k.gap or "—", "範例資料" if k.sample else ""],
                   {7: _value_format(k.actual_value), 9: PERCENT})
        ws.cell(row=r_i, column=4).fill = PatternFill("solid", fgColor=FILLS[k.final_light or "white"])
    ws = wb.create_sheet("燈號不一致")
    _header(ws, DISAGREE_COLUMNS)
    for r_i, m in enumerate(o.disagreements, start=2):
        k = m.row
        _write_row(ws, r_i, [m.agency, k.kpi_id, k.name, k.self_rating or "—", k.light_label, k.review_label,
                             k.disagreement, k.review_reason or "—", "範例資料" if k.sample else ""])


def _detail_values(r: AgencyReport, goal_no: int, goal: str, k: ReportRow) -> list[Any]:
    notes = "\n".join([f"原文疑義：{n}" for n in k.notes] + list(k.messages))
    review_version = k.review_version if k.review_version is not None else ("—" if k.review_reason else None)
    return [r.agency, f"{chinese_numeral(goal_no)}、{goal}", k.kpi_id, k.name, k.standard, k.target_text,
            _number(k.target_value), _number(k.actual_value), k.unit or "",
            _number(k.achievement_value / 100) if k.achievement_value is not None else None,
            k.light_label, k.self_rating or "—", k.review_label, k.review_reason or "", review_version,
            k.final_label, {"review": "複核", "computed": "計算"}.get(k.final_source or "", "—"), k.gap or "",
            k.narrative or "", k.version, "範例資料" if k.sample else "", notes]


def _detail_sheet(wb: Workbook, reports: list[AgencyReport]) -> None:
    ws = wb.create_sheet("明細")
    _header(ws, DETAIL_COLUMNS)
    row = 2
    for r in reports:
        for g in r.goals:
            for k in g.rows:
                _write_row(ws, row, _detail_values(r, g.goal_no, g.goal, k),
                           {7: _value_format(k.target_value), 8: _value_format(k.actual_value), 10: PERCENT,
                            15: INTEGER, 20: INTEGER})
                if k.light in FILLS:
                    ws.cell(row=row, column=11).fill = PatternFill("solid", fgColor=FILLS[k.light])
                if k.final_light in FILLS:
                    ws.cell(row=row, column=16).fill = PatternFill("solid", fgColor=FILLS[k.final_light])
                row += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(DETAIL_COLUMNS))}{max(row - 1, 1)}"


def _provenance_sheet(wb: Workbook, year: int, provenance: Provenance | None, sample: bool) -> None:
    ws = wb.create_sheet("資料來源")
    _header(ws, [("項目", 80)])
    lines = list(provenance.lines) if provenance else []
    lines.append(f"{year}年度施政績效報告；達成度以精確分數計算，數值儲存為數字，顯示依儲存格格式四捨五入。")
    if sample:
        lines.append("含範例資料：數值僅供示範，非機關實際績效。")
    for i, line in enumerate(lines, start=2):
        _write_row(ws, i, [line])


def write_xlsx(reports: list[AgencyReport], year: int, path: Path, sample: bool = False,
               provenance: Provenance | None = None) -> Path:
    """Write the reviewers' workbook (總覽, 達成度分布, 未達標指標, 燈號不一致, 明細, 資料來源) to ``path``."""
    overview = build_overview(year, reports)
    wb = Workbook()
    _overview_sheet(wb, overview, reports)
    _histogram_sheet(wb, overview)
    _list_sheets(wb, overview)
    _detail_sheet(wb, reports)
    _provenance_sheet(wb, year, provenance, sample or overview.sample)
    for ws in wb.worksheets:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.properties.title = f"{year}年度施政績效報告"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
