"""Renders an agency report as .docx (python-docx), laid out like the 施政績效報告 chapter agencies publish.

Title, a summary of lights, then per 關鍵策略目標 a table: one row per KPI (指標, 衡量標準, 年度目標值,
實際值, 達成度, 燈號, 初核, 複核) followed by a full-width row with 績效衡量暨達成情形分析, the
複核 reason with the version it judged, and the gap sentence. Text is set as text (never fields).
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import _Cell

from .html import chinese_numeral
from .model import AgencyReport, ReportRow
from .overview import Provenance

FONT = "Noto Sans CJK TC"
COLUMNS = [("關鍵績效指標", 4.2), ("衡量標準", 6.6), ("年度目標值", 2.6), ("實際值", 2.6), ("達成度", 2.0),
           ("計算燈號", 2.0), ("初核", 1.7), ("複核", 2.6)]


def _font(run, size: float | None = None, bold: bool = False, color: str | None = None) -> None:
    run.font.name = FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    if size:
        run.font.size = Pt(size)
    run.bold = bold
    if color:
        run.font.color.rgb = RGBColor.from_string(color)


def _text(container, text: str, size: float = 9, bold: bool = False, color: str | None = None,
          new: bool = False):
    """Add ``text`` as a run: into a table cell's first (empty) paragraph, else as a new paragraph."""
    if not new and isinstance(container, _Cell) and not container.paragraphs[0].text:
        para = container.paragraphs[0]
    else:
        para = container.add_paragraph()
    _font(para.add_run(text), size, bold, color)
    return para


def _kpi_cells(row: ReportRow) -> list[str]:
    review = row.review_label + (f"（判定第 {row.review_version} 版）" if row.review_version else "")
    return [f"{row.kpi_no}. {row.name}", row.standard, row.target_text, f"{row.actual}{row.unit}", row.achievement,
            row.light_label, row.self_rating or "—", review]


def write_docx(report: AgencyReport, path: Path, provenance: Provenance | None = None) -> Path:
    """One agency's chapter as .docx."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)

    title = doc.add_heading(level=0)
    _font(title.add_run(f"{report.agency} {report.year}年度施政績效報告"), 18, True)
    if report.sample:
        _text(doc, "本報告以範例資料產生，數值僅供示範，非機關實際績效。", 10, True, "C00000", new=True)
    if not report.submitted:
        _text(doc, f"未繳交：{report.agency}尚未提交 {report.year} 年度實際值。", 10, True, "C00000", new=True)
    final = "、".join(f"{t.label} {t.count}" + (f"（其中複核 {t.reviewed}）" if t.reviewed else "") for t in report.final)
    _text(doc, f"關鍵績效指標 {report.kpi_count} 項；最終燈號：{final}；未繳交 {report.not_submitted}、"
               f"待複核 {report.awaiting}、需重新複核 {report.stale}。最終燈號以國發會複核為準，未複核者為系統計算燈號。",
          10, new=True)
    for g in report.goals:
        heading = doc.add_heading(level=1)
        _font(heading.add_run(f"{chinese_numeral(g.goal_no)}、{g.goal}"), 13, True)
        heading.paragraph_format.keep_with_next = True
        table = doc.add_table(rows=1, cols=len(COLUMNS))
        table.style = "Table Grid"
        for cell, (name, width) in zip(table.rows[0].cells, COLUMNS, strict=True):
            cell.width = Cm(width)
            _text(cell, name, 9, True)
        for row in g.rows:
            cells = table.add_row().cells
            for cell, value, (_, width) in zip(cells, _kpi_cells(row), COLUMNS, strict=True):
                cell.width = Cm(width)
                _text(cell, value, 9)
            if row.sample:
                _text(cells[0], "範例資料", 8, True, "C00000", new=True)
            detail = table.add_row().cells
            merged = detail[0].merge(detail[-1])
            if row.gap:
                _text(merged, f"距目標差距：{row.gap}。", 9, True, "8A1C1C")
            if row.review_reason:
                by = f"；{row.review_by}" if row.review_by else ""
                version = f"判定第 {row.review_version} 版提交" if row.review_version else "判定版本未記載"
                _text(merged, f"複核理由（{row.review_label}；{version}{by}）：{row.review_reason}", 9, new=bool(row.gap))
            _text(merged, "績效衡量暨達成情形分析：", 9, True, new=bool(row.gap or row.review_reason))
            _text(merged, row.narrative or "（機關未填寫）", 9, new=True)
            for n in row.notes:
                _text(merged, f"原文疑義：{n}", 8, color="52606D", new=True)
    sources = "；".join(report.sources) or "（無提交資料）"
    versions = f"（提交版本：{'、'.join(str(v) for v in report.versions)}）" if report.versions else ""
    _text(doc, f"資料來源：{sources}{versions}", 8, color="52606D", new=True)
    for line in provenance.lines if provenance else ():
        _text(doc, line, 8, color="52606D", new=True)
    doc.core_properties.title = f"{report.agency} {report.year}年度施政績效報告"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path
