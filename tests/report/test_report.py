"""Reports: the model keeps states and notes apart from lights; HTML escapes what agencies typed and
renders in a real headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
from fractions import Fraction

import pytest

from kpiengine.engine import AgencyInputs
from kpiengine.report.html import chinese_numeral, render_agency, write_reports
from kpiengine.report.model import build_agency_report

HOSTILE = "<script>alert('x')</script>達成情形良好 & 持續精進"


@pytest.fixture(scope="module")
def moj_report(engine):
    inputs = AgencyInputs("moj", 107, {
        "moj.1.1": {"indicted": Fraction(6500)},  # 100% green
        "moj.1.2": {"seized_kg": Fraction(8820)},  # 90% yellow
        "moj.5.1": {"inmates": Fraction(1125), "capacity": Fraction(1000)},  # 12.5% vs 10%以下 → 80% red
        "moj.1.3": {"ml_indicted_cases": Fraction(50)},  # 50% white
        "moj.9.1": {"cap_spent": Fraction(0), "cap_payable": Fraction(0), "cap_surplus": Fraction(0),
                    "cap_budget": Fraction(0)},  # undefined
    }, source="測試資料", version=3, self_ratings={"moj.1.1": "綠燈"}, narratives={"moj.1.1": HOSTILE})
    items = engine.score_year(107, [inputs], "moj")
    return build_agency_report(engine.catalog.agency("moj"), 107, items)


def test_tallies_count_lights_and_states_separately(moj_report):
    tallies = {t.key: t.count for t in moj_report.tallies}
    assert tallies["green"] == 1 and tallies["yellow"] == 1 and tallies["red"] == 1 and tallies["white"] == 1
    assert tallies["undefined"] == 1
    assert tallies["no_data"] == moj_report.kpi_count - 5
    assert moj_report.green_share == "25.00%"  # 1 of 4 lit KPIs


def test_rows_carry_notes_past_and_display_values(moj_report):
    rows = {r.kpi_id: r for g in moj_report.goals for r in g.rows}
    assert rows["moj.1.2"].achievement == "90.00%" and rows["moj.1.2"].light == "yellow"
    assert rows["moj.5.1"].actual == "12.50" and rows["moj.1.1"].actual == "6,500" and rows["moj.5.1"].light == "red"
    assert rows["moj.9.1"].light is None and rows["moj.9.1"].light_label == "無法計算"
    assert any("分母為 0" in m for m in rows["moj.9.1"].messages)
    assert rows["moj.8.1"].notes  # the I1/I2 KPI carries an ambiguity note for reviewers
    assert rows["moj.1.1"].self_rating == "綠燈"


def test_html_escapes_agency_text_and_shows_notes(moj_report):
    html = render_agency(moj_report, sample=True)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "原文疑義" in html and "範例資料" in html
    assert "八、推廣多元便民措施，強化行政執行績效" in html


@pytest.mark.parametrize(("n", "text"), [(1, "一"), (9, "九"), (10, "十"), (13, "十三"), (20, "二十"), (21, "二十一")])
def test_chinese_numerals(n, text):
    assert chinese_numeral(n) == text


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.browser
def test_report_renders_in_headless_chromium(moj_report, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("KPI_SKIP_BROWSER") == "1":
            pytest.skip("KPI_SKIP_BROWSER=1")
        pytest.fail("Chromium is not installed: run the README's test command (it installs it)")
    paths = write_reports([moj_report], 107, tmp_path / "out", sample=True)
    page = paths[1]
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    # The browser parsed the page into the structure we meant: one row per KPI, lights as data.
    assert dom.count('data-kpi="moj.') == moj_report.kpi_count
    assert 'data-light="green"' in dom and 'data-state="undefined"' in dom
    assert "<script>alert" not in dom
    shot = tmp_path / "report.png"
    subprocess.run([browser, *flags, "--window-size=1280,2000", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    from kpiengine.report.pdf import print_pdf

    pdf = print_pdf(page, tmp_path / "moj.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000


def test_one_agency_report_writes_only_that_agencys_files(root, tmp_path):
    from typer.testing import CliRunner

    from kpiengine.cli.main import app

    result = CliRunner().invoke(app, ["report", "--year", "107", "--agency", "moj", "--out", str(tmp_path),
                                      "--sample", "--root", str(root)])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "moj.html").read_text(encoding="utf-8")
    assert "法務部 107年度施政績效報告" in page and "範例資料" in page  # scored from the shipped samples
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moj.docx", "moj.html", "moj.xlsx"]  # never the overview


@pytest.mark.libreoffice
def test_reviewers_xlsx_reads_back_in_libreoffice(moj_report, tmp_path, soffice):
    from kpiengine.report.xlsx import write_xlsx

    book = write_xlsx([moj_report], 107, tmp_path / "report.xlsx", sample=True)
    # LibreOffice opens the workbook and exports its first sheet (總覽) as CSV.
    csv_text = soffice(book, "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path / "csv").read_text(encoding="utf-8")
    header, moj = csv_text.splitlines()[:2]
    assert header.startswith("機關,指標數,綠燈,黃燈,紅燈,白燈")
    assert moj.startswith("法務部,17,1,1,1,1,")
    import openpyxl

    detail = openpyxl.load_workbook(book)["明細"]
    header = [c.value for c in detail[1]]
    rows = {r[2]: dict(zip(header, r, strict=True)) for r in detail.iter_rows(min_row=2, values_only=True)}
    assert rows["moj.1.2"]["達成度"] == 0.9 and rows["moj.1.2"]["計算燈號／狀態"] == "黃燈"
    assert rows["moj.1.1"]["實際值"] == 6500 and isinstance(rows["moj.5.1"]["實際值"], float)
    assert "原文疑義" in rows["moj.8.1"]["原文疑義與訊息"]
    assert rows["moj.1.1"]["績效衡量暨達成情形分析"] == HOSTILE and rows["moj.1.1"]["提交版本"] == 3
