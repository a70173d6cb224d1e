"""The command line as a hostile (or hurried) user meets it: real ``kpi`` in a subprocess, bounded.

Parse errors in Chinese with the English flag names, one --format convention, CSV that Excel on a
Traditional-Chinese Windows opens (BOM) and that cannot smuggle formulas, times in Taipei time,
and Chinese refusals for --out pointing at a file, out-of-range --as-of and --max-mb nan/inf.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import assert_clean_failure

TIME = 90
MEMORY = 768


@pytest.mark.parametrize(("args", "says"), [
    (["review", "moj.8.1", "--light", "yellow"], "缺少必要選項 --reason"),
    (["score", "--nope"], "沒有選項 --nope"),
    (["score", "--year", "abc"], "--year"),
    (["score", "--year"], "--year"),
    (["score", "--format", "xml"], "--format"),
    (["validate"], "缺少必要參數"),
    (["nosuch"], "沒有指令"),
    (["agencies", "extra"], "多餘參數"),
])
def test_parse_errors_in_chinese(kpi_cli, args: list[str], says: str) -> None:
    proc = kpi_cli(*args, timeout=TIME, memory_mb=MEMORY)
    assert_clean_failure(proc, says, "--help")
    for english in ("Missing option", "No such option", "Invalid value", "Usage:", "Try '", "Input should be"):
        assert english not in proc.stdout + proc.stderr


@pytest.mark.parametrize("command", [["agencies"], ["list", "--agency", "moj"], ["check", "--agency", "moj"],
                                     ["eval", "moj.8.1", "effective=2500", "closed=10000", "pending=8000"],
                                     ["score", "--year", "107", "--agency", "moj"]])
def test_one_format_convention(kpi_cli, command: list[str]) -> None:
    as_json = kpi_cli(*command, "--format", "json", timeout=TIME)
    assert as_json.returncode in (0, 1), as_json.stderr
    data = json.loads(as_json.stdout)
    if command[0] != "score":  # --json stays as an alias
        assert json.loads(kpi_cli(*command, "--json", timeout=TIME).stdout) == data
    as_csv = kpi_cli(*command, "--format", "csv", timeout=TIME)
    assert as_csv.returncode in (0, 1) and as_csv.stdout.startswith("\ufeff"), as_csv.stdout[:200]


def submitted(kpi_cli, root: Path, tmp_path: Path) -> Path:
    """A ledger holding moj's sample workbook, marked as an official fill-in (reviews need a version)."""
    from openpyxl import load_workbook

    wb = load_workbook(root / "actuals" / "107" / "moj.xlsx")
    for row in wb["_meta"].iter_rows(max_col=2):
        if row[0].value == "kind":
            row[1].value = "template"
    path = tmp_path / "moj.xlsx"
    wb.save(path)
    ledger = tmp_path / "ledger.sqlite"
    proc = kpi_cli("submit", path, "--ledger", ledger, "--by", "測試", "--confirm-warnings", timeout=TIME)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return ledger


def test_csv_neutralises_formulas_and_reasons_refuse_control_characters(kpi_cli, root: Path, tmp_path: Path) -> None:
    ledger = submitted(kpi_cli, root, tmp_path)
    bad = kpi_cli("review", "moj.8.1", "--light", "yellow", "--reason", "理由\x01", "--ledger", ledger, timeout=TIME)
    assert_clean_failure(bad, "控制字元", "--reason")
    listed = kpi_cli("reviews", "--ledger", ledger, "--format", "json", timeout=TIME)
    assert json.loads(listed.stdout or "[]") == [], listed.stdout
    ok = kpi_cli("review", "moj.8.1", "--light", "yellow", "--reason", '=HYPERLINK("http://x","點我")', "--by", "審查員",
                 "--ledger", ledger, timeout=TIME)
    assert ok.returncode == 0, ok.stderr
    csv_out = kpi_cli("reviews", "--ledger", ledger, "--format", "csv", timeout=TIME).stdout
    assert csv_out.startswith("\ufeff") and "'=HYPERLINK" in csv_out and ",=HYPERLINK" not in csv_out


def test_times_in_taipei_without_microseconds(kpi_cli, root: Path, tmp_path: Path) -> None:
    ledger = submitted(kpi_cli, root, tmp_path)
    assert kpi_cli("review", "moj.8.1", "--light", "red", "--reason", "測試", "--ledger", ledger, timeout=TIME).returncode == 0
    table = kpi_cli("reviews", "--ledger", ledger, timeout=TIME).stdout
    assert "臺北" in table and "UTC" not in table
    rows = json.loads(kpi_cli("reviews", "--ledger", ledger, "--format", "json", timeout=TIME).stdout)
    assert rows[0]["at"][-6:] in ("+00:00", "+08:00")  # JSON keeps ISO 8601 with its offset


@pytest.mark.parametrize(("as_of", "ok"), [("0001-01-01T00:00:00+05:00", False), ("9999-12-31T23:59:59-05:00", False),
                                           ("107-12-31", True), ("民國107年12月31日", True), ("2019-13-45", False),
                                           ("x" * 10_000, False)])
def test_as_of(kpi_cli, tmp_path: Path, as_of: str, ok: bool) -> None:
    proc = kpi_cli("score", "--year", "107", "--agency", "moj", "--as-of", as_of, "--ledger", tmp_path / "l.sqlite",
                   "--format", "json", timeout=TIME, memory_mb=MEMORY)
    if ok:
        assert proc.returncode == 0, proc.stderr
    else:
        assert_clean_failure(proc, "時間")


@pytest.mark.parametrize("command", [["template", "--year", "107", "--agency", "moj"], ["sample", "--year", "107", "--agency", "moj"],
                                     ["report", "--year", "107", "--agency", "moj", "--no-xlsx", "--no-docx"]])
def test_out_pointing_at_a_file(kpi_cli, tmp_path: Path, command: list[str]) -> None:
    target = tmp_path / "hostname"
    target.write_text("x", encoding="utf-8")
    assert_clean_failure(kpi_cli(*command, "--out", target, timeout=TIME), "--out", "是檔案")
    assert target.read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_max_mb_refused(kpi_cli, root: Path, value: str) -> None:
    proc = kpi_cli("validate", root / "actuals" / "107" / "moj.xlsx", "--max-mb", value, timeout=TIME)
    assert_clean_failure(proc, "--max-mb")


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_max_upload_env_nan_is_the_default(kpi_cli, root: Path, value: str) -> None:
    proc = kpi_cli("validate", root / "actuals" / "107" / "moj.xlsx", env={"KPI_MAX_UPLOAD_MB": value}, timeout=TIME)
    assert "Traceback" not in proc.stdout + proc.stderr


def test_plain_yaml_actuals_bounded(kpi_cli, tmp_path: Path) -> None:
    folder = tmp_path / "actuals"
    folder.mkdir()
    (folder / "moj.yaml").write_text(f"agency_code: moj\nyear: 107\nvalues:\n  moj.1.1: {{indicted: {'9' * 5000}}}\n",
                                     encoding="utf-8")
    proc = kpi_cli("score", "--year", "107", "--sample", "--actuals", folder, timeout=TIME, memory_mb=MEMORY)
    assert_clean_failure(proc, "moj.yaml", "indicted")
    (folder / "moj.yaml").write_bytes("agency_code: moj\nyear: 107\n# 法務部\n".encode("big5"))
    assert_clean_failure(kpi_cli("score", "--year", "107", "--sample", "--actuals", folder, timeout=TIME), "moj.yaml", "UTF-8")


@pytest.mark.parametrize(("value", "says"), [("9" * 5000, "過長"), ("1e999999999", "科學記號"), ("1e400", "科學記號"),
                                             ("1_000", "底線"), ("2,5,0,0", "千分位"), ("8329¹", "上標"), ("12 34", "空白")])
def test_eval_arguments_bounded(kpi_cli, value: str, says: str) -> None:
    proc = kpi_cli("eval", "moj.8.1", f"effective={value}", "closed=10000", "pending=8000", timeout=TIME, memory_mb=MEMORY)
    assert_clean_failure(proc, "effective", says)


def test_ledger_that_is_not_a_database(kpi_cli, tmp_path: Path) -> None:
    fake = tmp_path / "hostname"
    fake.write_text("not a database\n" * 100, encoding="utf-8")
    for args in (["submissions"], ["reviews"], ["score", "--year", "107", "--agency", "moj"]):
        assert_clean_failure(kpi_cli(*args, "--ledger", fake, timeout=TIME), "不是有效的 SQLite 帳本檔")


def test_actuals_and_year_checked(kpi_cli, tmp_path: Path) -> None:
    fake = tmp_path / "hostname"
    fake.write_text("x", encoding="utf-8")
    assert_clean_failure(kpi_cli("score", "--year", "107", "--sample", "--actuals", fake, timeout=TIME), "範例資料夾")
    for args in (["score", "--year", "99999999999999999999"], ["list", "--year", "-1"],
                 ["eval", "moj.1.1", "indicted=1", "--year", "999"]):
        assert_clean_failure(kpi_cli(*args, timeout=TIME), "年度")


def test_control_characters_made_visible_in_messages(kpi_cli) -> None:
    proc = kpi_cli("eval", "moj.8.1", "effective=\x01", "closed=1", "pending=1", timeout=TIME)
    assert_clean_failure(proc, "\\x01")
    assert "\x01" not in proc.stderr
