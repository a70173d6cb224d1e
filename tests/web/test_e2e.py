"""The portal as people use it: headless Chromium (Playwright, the system's /usr/bin/chromium) against a
real ``kpi serve`` on a free loopback port. Screenshots go into the test's output folder.

法務部's clerk signs in, downloads the template, uploads it with two mistakes, reads the errors,
uploads the fixed one and sees the lights; a 國發會 reviewer sees 法務部 已繳交 and the others
未繳交, records a 複核, sees a resubmission turn it 需重新複核, and downloads the PDF report.
"""

from __future__ import annotations

import os
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kpiengine.ledger import Ledger
from kpiengine.model import Domain
from kpiengine.web.live import live_server
from kpiengine.workbook import layout as L
from kpiengine.workbook.sample import plan_agency

from .conftest import PASSWORDS, make_accounts

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("KPI_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
YEAR = 107


@pytest.fixture(scope="module")
def server(tmp_path_factory, root):
    """``kpi serve`` started by the test on 127.0.0.1 (the real entry point, in a subprocess)."""
    folder = tmp_path_factory.mktemp("portal")
    ledger = folder / "var" / "ledger.sqlite"
    make_accounts(ledger)
    with live_server(ledger, root, folder / "server.log") as live:
        yield {"url": live.url, "ledger": ledger, "log": live.log}
    assert "Traceback" not in (folder / "server.log").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"找不到 Chromium（{CHROMIUM}）：請安裝 apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def _sign_in(browser, server, name: str):
    context = browser.new_context(accept_downloads=True, locale="zh-TW", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(server["url"] + "/")
    assert "/login" in page.url
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("form.card button[type=submit]")
    page.wait_for_load_state()
    return page


def _fill(template: Path, out: Path, values: dict[str, object]) -> Path:
    """The clerk's work in Excel: type values into the yellow cells by machine key."""
    wb = load_workbook(template)
    ws = wb[L.DATA_SHEET]
    value_col = next(c.column for row in ws.iter_rows() for c in row if c.value == L.VALUE_HEADER)
    for row in ws.iter_rows():
        key = row[0].value
        if key in values:
            v = values[key]
            ws.cell(row=row[0].row, column=value_col).value = float(v) if isinstance(v, Fraction) else v
    wb.save(out)
    return out


@pytest.fixture(scope="module")
def moj_values(engine) -> dict[str, object]:
    """A complete, plausible 法務部 workbook: values that light every KPI, and a 初核 for each."""
    values: dict[str, object] = {}
    for item in plan_agency(engine, "moj", YEAR):
        if item.intended is None:
            continue
        for symbol, v in item.values.items():
            values[L.key(item.kpi.id, symbol)] = v
        values[L.key(item.kpi.id, L.RATING)] = item.intended.label
    return values


def _upload(page, path: Path):
    page.set_input_files("#upload-form input[type=file]", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_load_state()


def test_ministry_and_reviewer_flows(browser, server, shots, tmp_path, engine, moj_values, kpi_cli):
    # --- 法務部 clerk --------------------------------------------------------------------------
    clerk = _sign_in(browser, server, "moj-clerk")
    assert clerk.url.endswith("/agency/moj")
    assert "未繳交" in clerk.inner_text(".status")
    clerk.screenshot(path=str(shots / "01-ministry-home.png"), full_page=True)

    with clerk.expect_download() as dl:
        clerk.click("#template-link")
    template = tmp_path / dl.value.suggested_filename
    dl.value.save_as(template)
    assert template.suffix == ".xlsx" and "moj" in template.name

    kpis = engine.catalog.kpis_of("moj")
    filled = [(k, i) for k in kpis for i in k.inputs if L.key(k.id, i.symbol) in moj_values]
    count_input = next((k, i) for k, i in filled if i.domain is Domain.COUNT)
    other_input = next((k, i) for k, i in filled if k != count_input[0] and i.domain is not Domain.BOOL)
    bad_values = {**moj_values, L.key(count_input[0].id, count_input[1].symbol): -5,
                  L.key(other_input[0].id, other_input[1].symbol): "約一百"}
    _upload(clerk, _fill(template, tmp_path / "moj-two-mistakes.xlsx", bad_values))
    errors = clerk.locator("table.problems tr.error")
    assert errors.count() == 2
    codes = sorted(errors.nth(i).get_attribute("data-code") for i in range(2))
    assert codes == ["wb-negative", "wb-not-number"]
    text = clerk.inner_text("table.problems")
    assert L.DATA_SHEET in text and "不可為負數" in text
    assert "未予收件" in clerk.inner_text("#refused")
    clerk.screenshot(path=str(shots / "02-ministry-two-mistakes.png"), full_page=True)

    clerk.goto(server["url"] + "/agency/moj")
    fixed = _fill(template, tmp_path / "moj-fixed.xlsx", moj_values)
    _upload(clerk, fixed)
    assert "第 1 版" in clerk.inner_text("#accepted")
    lit = clerk.locator("table.scores .light-green, table.scores .light-yellow, table.scores .light-red, table.scores .light-white")
    assert lit.count() >= len([k for k in moj_values if k.endswith(L.RATING)])
    clerk.screenshot(path=str(shots / "03-ministry-accepted-lights.png"), full_page=True)

    # --- 國發會 reviewer ------------------------------------------------------------------------
    reviewer = _sign_in(browser, server, "ndc-reviewer")
    assert reviewer.url.endswith("/board")
    assert reviewer.inner_text("tr[data-agency=moj] .state-cell") == "已繳交"
    others = reviewer.locator("tr[data-agency]:not([data-agency=moj]) .state-cell")
    assert others.count() == len(engine.catalog.agencies) - 1
    assert set(others.all_inner_texts()) == {"未繳交"}
    reviewer.screenshot(path=str(shots / "04-reviewer-board.png"), full_page=True)

    reviewed = count_input[0]
    reviewer.goto(f"{server['url']}/kpi/{reviewed.id}?year={YEAR}")
    reviewer.select_option("#review-form select[name=light]", "yellow")
    reviewer.fill("#review-form textarea[name=reason]", "實際值與佐證資料不符，改列黃燈")
    reviewer.click("#review-form button[type=submit]")
    reviewer.wait_for_load_state()
    assert "已記錄複核" in reviewer.inner_text(".flash")
    assert "黃燈" in reviewer.inner_text("#review-state")
    reviewer.screenshot(path=str(shots / "05-reviewer-recorded.png"), full_page=True)

    # the clerk reads the 複核 on the agency page
    clerk.goto(server["url"] + "/agency/moj")
    assert "黃燈" in clerk.inner_text(f"tr[data-kpi='{reviewed.id}']")

    # the clerk resubmits with that KPI's inputs changed
    changed = dict(moj_values)
    k = L.key(reviewed.id, count_input[1].symbol)
    changed[k] = Fraction(moj_values[k]) + 1
    _upload(clerk, _fill(template, tmp_path / "moj-v2.xlsx", changed))
    assert "第 2 版" in clerk.inner_text("#accepted")

    # what changed between the two versions (the kpi diff view)
    clerk.goto(server["url"] + "/agency/moj/history")
    clerk.click("#diff-form button[type=submit]")
    clerk.wait_for_load_state()
    row = clerk.inner_text(f"table.diff tr[data-kpi='{reviewed.id}']")
    assert count_input[1].label in row and "→" in row
    clerk.screenshot(path=str(shots / "06a-ministry-diff.png"), full_page=True)

    reviewer.goto(f"{server['url']}/kpi/{reviewed.id}?year={YEAR}")
    assert "需重新複核" in reviewer.inner_text("#review-state")
    reviewer.goto(server["url"] + "/board")
    assert "需重新複核 1 項" in reviewer.inner_text("tr[data-agency=moj]")
    assert "第 2 版" in reviewer.inner_text("tr[data-agency=moj]")
    reviewer.screenshot(path=str(shots / "06-reviewer-stale.png"), full_page=True)

    reviewer.goto(server["url"] + "/reports")
    with reviewer.expect_download(timeout=240_000) as dl:
        reviewer.click("tr[data-agency=moj] a[href*='report.pdf']")
    pdf = tmp_path / "moj.pdf"
    dl.value.save_as(pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    reviewer.screenshot(path=str(shots / "07-reviewer-reports.png"), full_page=True)

    # every sign-in, upload and review is an audit entry, and the hash chain verifies
    actions = [e.action for e in Ledger(server["ledger"], write=False).audit()]
    for action in ("signin", "upload.refused", "upload.accepted", "review", "report.download"):
        assert action in actions, (action, actions)
    verify = kpi_cli("verify", "--ledger", str(server["ledger"]))
    assert verify.returncode == 0, verify.stdout + verify.stderr

    for shot in sorted(shots.iterdir()):
        assert shot.stat().st_size > 5000, shot
    keep = os.environ.get("KPI_E2E_SCREENSHOTS")
    if keep:
        shutil.copytree(shots, keep, dirs_exist_ok=True)
