"""The year's reports as users get them, through the real ``kpi`` entry point: the overview and an
agency page rendered in the system Chromium (tallies read from the DOM equal ``kpi score --format
json``, no text overflows its cell, charts present), PDFs whose text holds every narrative with no
goal heading cut from its table, an xlsx of real numbers whose charts LibreOffice opens, and a
.docx per agency."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import unicodedata
import zipfile
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from kpiengine.report.cells import is_formula_like

HOSTILE_REASON = '=HYPERLINK("http://example.invalid","抽查")抽查數據與原始資料不符'
MEASURE = """
<script>
(() => {
  const over = [];
  for (const el of document.querySelectorAll("td, th, li, caption, figcaption")) {
    if (el.scrollWidth > el.clientWidth + 1) over.push((el.closest("[data-kpi],[data-agency],[data-missed]") || el).outerHTML.slice(0, 120));
  }
  document.body.setAttribute("data-overflow", JSON.stringify(over));
  const charts = [...document.querySelectorAll("figure[data-chart] svg")].map(s => [s.closest("figure").dataset.chart, s.getBoundingClientRect().width, s.querySelectorAll("path").length]);
  document.body.setAttribute("data-charts", JSON.stringify(charts));
})();
</script>
"""


def _browser() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        if os.environ.get("KPI_SKIP_BROWSER") == "1":
            pytest.skip("KPI_SKIP_BROWSER=1")
        pytest.fail("Chromium is not installed: run the README's test command (it installs it)")
    return exe


def _dom(page: Path, tmp: Path, width: int = 1280) -> str:
    """The DOM after layout, with a measuring script appended to a copy of the page."""
    probe = page.with_name(f"probe-{width}-{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             f"--user-data-dir={tmp / 'profile'}", f"--window-size={width},2000", "--virtual-time-budget=3000"]
    proc = subprocess.run([_browser(), *flags, "--dump-dom", probe.as_uri()], capture_output=True, text=True,
                          timeout=180, check=True)
    probe.unlink()
    return proc.stdout


def _attr(dom: str, name: str):
    found = re.search(rf'<body[^>]*{name}="([^"]*)"', dom)
    assert found, name
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))


@pytest.fixture(scope="module")
def year(kpi_cli, official_workbook, tmp_path_factory):
    """A full run in a private ledger: 法務部 and 外交部 submitted (the others 未繳交), two 複核 on 法務部,
    and the score JSON from the same data."""
    tmp = tmp_path_factory.mktemp("year")
    env = {"KPI_LEDGER": str(tmp / "ledger.sqlite")}
    for code in ("moj", "mofa"):
        proc = kpi_cli("submit", str(official_workbook(code)), "--by", f"{code} 承辦人", env=env)
        assert proc.returncode == 0, proc.stderr
    for kpi, light, reason in (("moj.1.2", "red", "查獲數量含重複移送案件"), ("moj.2.1", "yellow", HOSTILE_REASON)):
        proc = kpi_cli("review", kpi, "--year", "107", "--light", light, "--reason", reason, "--by", "國發會審查",
                       env=env)
        assert proc.returncode == 0, proc.stderr
    out = tmp / "reports"
    proc = kpi_cli("report", "--year", "107", "--out", str(out), env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout  # ends by saying where the files are
    assert "Traceback" not in proc.stderr and "\x1b[" not in proc.stderr  # no progress bar off a terminal
    score = kpi_cli("score", "--year", "107", "--format", "json", env=env)
    assert score.returncode == 0, score.stderr
    return {"out": out, "records": json.loads(score.stdout), "tmp": tmp, "env": env}


def _expected(records: list[dict]) -> dict[str, Counter]:
    """Per agency, from the score JSON: final lights (複核 where current, else computed) and states."""
    out: dict[str, Counter] = {}
    for r in records:
        c = out.setdefault(r["agency_code"], Counter())
        c["kpis"] += 1
        final = r["final_light"] if r["final_source"] == "review" else r["light"]
        if final:
            c[final] += 1
        if r["status"] == "not_submitted":
            c["not_submitted"] += 1
        elif r["review_status"] == "awaiting_review":
            c["awaiting_review"] += 1
        if r["review_status"] == "stale":
            c["stale"] += 1
    return out


@pytest.mark.browser
def test_overview_in_chromium_matches_score_json(year):
    dom = _dom(year["out"] / "index.html", year["tmp"])
    expected = _expected(year["records"])
    rows = re.findall(r'<tr data-agency="([a-z]+)">(.*?)</tr>', dom, re.S)
    assert len(rows) == len(expected)
    for code, body in rows:
        shown = {k: int(v) for k, v in re.findall(r'data-key="(\w+)" data-count="(\d+)"', body)}
        for key in ("kpis", "green", "yellow", "red", "white", "not_submitted", "awaiting_review", "stale"):
            assert shown[key] == expected[code][key], (code, key)
    # 複核 moved 法務部's 二-1 from its computed light and is said to be 複核
    moj = dict(rows)["moj"]
    assert "複核 " in moj
    assert _attr(dom, "data-overflow") == []
    charts = dict((name, (width, paths)) for name, width, paths in _attr(dom, "data-charts"))
    assert set(charts) == {"lights", "histogram"}
    assert all(width > 300 and paths > 10 for width, paths in charts.values())
    assert "範例資料" not in dom and 'data-missed="moj.1.2"' in dom and "方達目標" in dom  # official data only
    assert 'data-disagreement="moj.2.1"' in dom  # reviewed yellow, computed green


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])  # desk and phone
def test_agency_page_in_chromium_keeps_text_in_cells(year, width):
    dom = _dom(year["out"] / "moj.html", year["tmp"], width)
    records = [r for r in year["records"] if r["agency_code"] == "moj"]
    assert dom.count('data-kpi="moj.') == len(records)
    finals = dict(re.findall(r'data-kpi="(moj\.[\d.]+)" data-final="(\w+)"', dom))
    for r in records:
        final = r["final_light"] if r["final_source"] == "review" else (r["light"] or r["status"])
        assert finals[r["id"]] == final, r["id"]
    assert _attr(dom, "data-overflow") == []
    assert "<details" not in dom  # narratives are never folded away (print shows them)
    assert "抽查數據與原始資料不符" in dom and "國發會審查" in dom


def _pdf_text(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [re.sub(r"\s+", "", unicodedata.normalize("NFKC", p.extract_text() or "")) for p in PdfReader(path).pages]


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _pattern(text: str) -> re.Pattern:
    """``text`` as PDF text extraction may give it: a CJK character may come back as a radical (民 → ⺠)."""
    return re.compile("".join(f"(?:{re.escape(c)}|[\u2e80-\u2fdf])" for c in _flat(text)))


@pytest.mark.browser
def test_agency_pdf_holds_every_narrative_and_keeps_headings_with_tables(year, kpi_cli, engine):
    _browser()
    out = year["tmp"] / "moj-only"
    proc = kpi_cli("report", "--year", "107", "--agency", "moj", "--pdf", "--out", str(out), env=year["env"])
    assert proc.returncode == 0, proc.stderr
    assert not (out / "index.html").exists()
    pages = _pdf_text(out / "moj.pdf")
    whole = "".join(pages)
    import openpyxl

    detail = openpyxl.load_workbook(out / "moj.xlsx")["明細"]
    header = [c.value for c in detail[1]]
    narratives = [dict(zip(header, r, strict=True))["績效衡量暨達成情形分析"] for r in detail.iter_rows(min_row=2, values_only=True)]
    assert narratives and all(narratives)
    for n in narratives:
        assert _pattern(n).search(whole), n
    assert _pattern("抽查數據與原始資料不符").search(whole)
    for kpi in engine.catalog.kpis_of("moj"):
        if kpi.kpi_no != 1:
            continue
        goal = engine.catalog.agency("moj").goals[kpi.goal_no]
        on = [i for i, p in enumerate(pages) if _pattern(goal).search(p)]
        assert on, goal
        assert _pattern(kpi.name[:10]).search(pages[on[0]]), f"「{goal}」與其表格分頁"


@pytest.mark.browser
def test_combined_pdf_splits_into_agency_pdfs(engine, tmp_path):
    """One browser run prints the year; each agency's PDF is cut from it at its outline entry."""
    from kpiengine.engine import AgencyInputs
    from kpiengine.report.html import YEAR_HTML, write_reports
    from kpiengine.report.model import build_agency_report
    from kpiengine.report.pdf import print_pdf, split_by_outline

    _browser()
    narratives = {"moj.1.2": "法務部查獲毒品成果說明甲", "mofa.1.1": "外交部推動成果說明乙"}
    subs = [AgencyInputs("moj", 107, {"moj.1.2": {"seized_kg": 8820}}, narratives={"moj.1.2": narratives["moj.1.2"]}),
            AgencyInputs("mofa", 107, {}, narratives={"mofa.1.1": narratives["mofa.1.1"]})]
    items = engine.score_year(107, subs)
    codes = ("moj", "mofa", "most")
    reports = [build_agency_report(engine.catalog.agency(c), 107, [i for i in items if i.kpi.agency_code == c])
               for c in codes]
    write_reports(reports, 107, tmp_path)
    whole = print_pdf(tmp_path / YEAR_HTML.format(year=107), tmp_path / "year.pdf")
    parts = split_by_outline(whole, {engine.catalog.agency(c).name: c for c in codes}, tmp_path / "split")
    assert set(parts) == set(codes)
    assert _pattern(narratives["moj.1.2"]).search("".join(_pdf_text(parts["moj"])))
    assert _pattern(narratives["mofa.1.1"]).search("".join(_pdf_text(parts["mofa"])))
    assert not _pattern(narratives["moj.1.2"]).search("".join(_pdf_text(parts["mofa"])))
    year_text = "".join(_pdf_text(whole))
    assert all(_pattern(n).search(year_text) for n in narratives.values()) and _pattern("未繳交").search(year_text)


def test_xlsx_numbers_are_numbers_and_text_never_a_formula(year):
    import openpyxl

    book = openpyxl.load_workbook(year["out"] / "107年度施政績效報告.xlsx")
    assert book.sheetnames[:5] == ["總覽", "達成度分布", "未達標指標", "燈號不一致", "明細"]
    detail = book["明細"]
    header = [c.value for c in detail[1]]
    col = {name: i for i, name in enumerate(header)}
    records = {r["id"]: r for r in year["records"]}
    for row in detail.iter_rows(min_row=2):
        kpi = row[col["指標代碼"]].value
        rec = records[kpi]
        ach = row[col["達成度"]]
        if rec["achievement"] is None:
            assert ach.value is None
        else:
            assert ach.data_type == "n" and ach.number_format == "0.00%"
            assert ach.value * 100 == pytest.approx(float(Fraction(rec["achievement_exact"])))
        actual = row[col["實際值"]]
        assert (actual.value is None) == (rec["actual"] is None)
        if actual.value is not None:
            assert actual.data_type == "n" and actual.value == pytest.approx(float(Fraction(rec["actual_exact"])))
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str) and is_formula_like(cell.value):
                assert cell.data_type == "s" and cell.quotePrefix
    reasons = [r[col["複核理由"]] for r in detail.iter_rows(min_row=2, values_only=True)]
    assert HOSTILE_REASON in reasons  # kept as typed, as text
    assert book["總覽"]._charts and book["達成度分布"]._charts
    overview = book["總覽"]
    assert overview["K2"].data_type == "n" and overview["K2"].number_format == "0.00%"


@pytest.mark.libreoffice
def test_xlsx_charts_open_in_libreoffice(year, soffice, tmp_path):
    ods = soffice(year["out"] / "107年度施政績效報告.xlsx", "ods", tmp_path)
    with zipfile.ZipFile(ods) as z:
        charts = [z.read(n).decode("utf-8") for n in z.namelist() if re.fullmatch(r"Object \d+/content.xml", n)]
        content = z.read("content.xml").decode("utf-8")
    assert len(charts) == 2 and all("<chart:chart" in c for c in charts)
    assert sorted(c.count("<chart:series") for c in charts) == [1, 4]  # histogram; four stacked lights
    assert "=HYPERLINK" in content and "of:=HYPERLINK" not in content  # the reason stayed text


def test_docx_per_agency_reads_as_the_chapter(year):
    from docx import Document

    doc = Document(year["out"] / "moj.docx")
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "法務部 107年度施政績效報告" in text and "範例資料" not in text and "指標目錄內容雜湊" in text
    assert "一、防制毒品沒收犯罪所得" in text
    assert "績效衡量暨達成情形分析" in cells and "抽查數據與原始資料不符" in cells and "衡量標準" in cells
    assert len(list((year["out"]).glob("*.docx"))) == len(_expected(year["records"]))


def test_every_report_carries_provenance(year):
    for page in ("index.html", "moj.html"):
        html = (year["out"] / page).read_text(encoding="utf-8")
        assert "指標目錄內容雜湊" in html and "計分政策" in html and "資料版本" in html


def test_one_agency_run_never_replaces_the_overview(year, kpi_cli):
    out = year["out"]
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    proc = kpi_cli("report", "--year", "107", "--agency", "moj", "--out", str(out), "--no-docx", env=year["env"])
    assert proc.returncode == 0, proc.stderr
    after = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    changed = {n for n in after if after[n] != before.get(n)}
    assert changed == {"moj.html", "moj.xlsx"}
    assert "年度總覽未變更" in proc.stdout
