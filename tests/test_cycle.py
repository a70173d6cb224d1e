"""The reporting cycle, as a 法務部 clerk and a 國發會 reviewer live it — every case through the real
``kpi`` entry point in a subprocess (issue 7): where the catalog is, official vs sample data, whose
data a workbook is, reviews bound to the data they judged, what changed, and a tamper-evident ledger.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, assert_clean_failure

from kpiengine.ledger import TRIGGERS

EMPTY_ENV = {"KPI_LEDGER": "", "KPI_ROOT": ""}


def score_json(kpi_cli, ledger: Path, *args: str) -> dict[str, dict]:
    proc = kpi_cli("score", "--year", "107", "--format", "json", "--ledger", str(ledger), *args)
    assert proc.returncode == 0, proc.stderr
    return {r["id"]: r for r in json.loads(proc.stdout)}


def submitted_versions(ledger: Path) -> list[tuple[str, int]]:
    con = sqlite3.connect(ledger)
    try:
        return con.execute("SELECT agency_code, version FROM submissions ORDER BY id").fetchall()
    finally:
        con.close()


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "var" / "ledger.sqlite"


# 1. where the catalog is ----------------------------------------------------------------------

def test_outside_the_repository_the_installed_catalog_is_found(kpi_cli, tmp_path):
    proc = kpi_cli("check", cwd=tmp_path, env={"KPI_ROOT": ""})
    assert proc.returncode == 0, proc.stderr
    assert "檢查 470 項指標" in proc.stdout


@pytest.mark.parametrize("command", [["check"], ["score", "--year", "107"], ["agencies"], ["list"]])
def test_a_missing_or_empty_catalog_is_an_error_that_says_where_it_looked(kpi_cli, tmp_path, command):
    nowhere = kpi_cli(*command, cwd=tmp_path, env={"KPI_ROOT": "/nonexistent"})
    assert_clean_failure(nowhere, "/nonexistent", "KPI_ROOT", "--root")
    (tmp_path / "formulas").mkdir()
    (tmp_path / "targets").mkdir()
    empty = kpi_cli(*command, "--root", str(tmp_path), cwd=tmp_path)
    assert_clean_failure(empty, str(tmp_path), "--root")


def test_a_built_wheel_carries_its_catalog(tmp_path):
    """`pip install kpiengine` (not editable) must find its catalog from any folder."""
    import sys
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("kpiengine-*.whl")
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    assert (tmp_path / "site" / "kpiengine" / "_catalog" / "formulas" / "moj.yaml").is_file()
    proc = subprocess.run([sys.executable, "-c", "from kpiengine.cli.main import app; app()", "agencies", "--json"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(tmp_path / "site"), "KPI_ROOT": "", "PYTHONSAFEPATH": "1"})
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 33


# 2. official vs sample data -------------------------------------------------------------------

def test_sample_workbook_is_refused_at_submit_and_nothing_is_recorded(kpi_cli, ledger):
    proc = kpi_cli("submit", str(ROOT / "actuals" / "107" / "moj.xlsx"), "--ledger", str(ledger), "--by", "王小明")
    assert_clean_failure(proc, "submit-sample", "範例資料")
    assert "可以提交" not in proc.stdout + proc.stderr
    assert not ledger.exists() or submitted_versions(ledger) == []
    validate = kpi_cli("validate", str(ROOT / "actuals" / "107" / "moj.xlsx"))
    assert "不可提交" in validate.stdout and "可以提交" not in validate.stdout


def test_official_scores_come_from_the_ledger_only(kpi_cli, ledger, official_workbook):
    nothing = score_json(kpi_cli, ledger)
    assert {r["status"] for r in nothing.values()} == {"not_submitted"}
    assert not any(r["sample"] for r in nothing.values()) and {r["light"] for r in nothing.values()} == {None}
    table = kpi_cli("score", "--year", "107", "--ledger", str(ledger))
    assert "未繳交" in table.stdout and "--sample" in table.stderr

    proc = kpi_cli("submit", str(official_workbook("moj")), "--ledger", str(ledger), "--by", "法務部綜規司")
    assert proc.returncode == 0, proc.stderr
    after = score_json(kpi_cli, ledger)
    moj = [r for k, r in after.items() if k.startswith("moj.")]
    assert {r["version"] for r in moj} == {1} and not any(r["sample"] for r in moj)
    assert after["moj.1.2"]["light"] == "red" and after["moj.1.1"]["status"] == "no_data"  # blank ≠ 未繳交
    assert {r["status"] for k, r in after.items() if not k.startswith("moj.")} == {"not_submitted"}
    before_first = score_json(kpi_cli, ledger, "--as-of", "2000-01-01")
    assert {r["status"] for r in before_first.values()} == {"not_submitted"}  # never falls back to samples


def test_sample_scores_say_so_on_every_row_and_in_the_summary(kpi_cli, ledger):
    rows = score_json(kpi_cli, ledger, "--sample")
    assert all(r["sample"] for r in rows.values())
    table = kpi_cli("score", "--year", "107", "--sample", "--agency", "moj", "--ledger", str(ledger))
    lines = [ln for ln in table.stdout.splitlines() if ln.startswith("moj.")]
    assert lines and all("範例資料" in ln for ln in lines)
    assert "【範例資料】" in table.stdout
    assert_clean_failure(kpi_cli("score", "--year", "107", "--sample", "--as-of", "2019-01-01"), "sample-as-of")
    assert_clean_failure(kpi_cli("score", "--year", "107", "--actuals", str(ROOT / "actuals" / "107")), "--sample")


def test_report_marks_each_agency_by_its_own_data(kpi_cli, ledger, official_workbook, tmp_path):
    assert kpi_cli("submit", str(official_workbook("moj")), "--ledger", str(ledger), "--by", "甲").returncode == 0
    out = tmp_path / "report"
    proc = kpi_cli("report", "--year", "107", "--ledger", str(ledger), "--out", str(out), "--no-xlsx")
    assert proc.returncode == 0, proc.stderr
    assert "範例資料" not in (out / "moj.html").read_text(encoding="utf-8")
    assert "未繳交" in (out / "mofa.html").read_text(encoding="utf-8")
    sample_out = tmp_path / "sample"
    proc = kpi_cli("report", "--year", "107", "--agency", "moj", "--sample", "--out", str(sample_out), "--no-xlsx")
    assert proc.returncode == 0, proc.stderr
    assert "範例資料" in (sample_out / "moj.html").read_text(encoding="utf-8")


# 3. whose data a workbook is --------------------------------------------------------------------

def test_the_workbook_decides_whose_data_it_is(kpi_cli, ledger, official_workbook):
    mofa_named_moj = official_workbook("mofa", name="moj.xlsx")
    wrong = kpi_cli("submit", str(mofa_named_moj), "--agency", "moj", "--ledger", str(ledger), "--by", "甲")
    assert_clean_failure(wrong, "wb-agency-mismatch")
    assert not ledger.exists() or submitted_versions(ledger) == []
    ok = kpi_cli("submit", str(mofa_named_moj), "--ledger", str(ledger), "--by", "外交部研設會 王小明")
    assert ok.returncode == 0 and "外交部（mofa）" in ok.stdout, ok.stderr
    assert submitted_versions(ledger) == [("mofa", 1)]
    again = kpi_cli("submit", str(mofa_named_moj), "--ledger", str(ledger), "--by", "乙")
    assert again.returncode == 0 and "未新增版本" in again.stdout and "第 1 版" in again.stdout
    assert submitted_versions(ledger) == [("mofa", 1)]
    listed = json.loads(kpi_cli("submissions", "--ledger", str(ledger), "--format", "json").stdout)
    assert [(s["agency_code"], s["submitted_by"]) for s in listed] == [("mofa", "外交部研設會 王小明")]


# 4. reviews bound to the data they judged ---------------------------------------------------------

def test_a_review_goes_stale_when_its_inputs_change(kpi_cli, ledger, official_workbook, tmp_path):
    assert kpi_cli("submit", str(official_workbook("moj")), "--ledger", str(ledger), "--by", "甲").returncode == 0
    proc = kpi_cli("review", "moj.1.2", "--light", "red", "--reason", "查獲量未達標", "--by", "國發會", "--ledger", str(ledger))
    assert proc.returncode == 0 and "第 1 版" in proc.stdout, proc.stderr
    first = score_json(kpi_cli, ledger, "--agency", "moj")["moj.1.2"]
    assert first["review_status"] == "reviewed" and first["final_light"] == "red"
    assert first["review"]["version"] == 1 and first["review"]["judged_actual"] == "8329.9"

    resubmitted = official_workbook("moj", values={"moj.1.2:seized_kg": 9900})
    assert kpi_cli("submit", str(resubmitted), "--ledger", str(ledger), "--by", "甲").returncode == 0
    stale = score_json(kpi_cli, ledger, "--agency", "moj")["moj.1.2"]
    assert stale["light"] == "green" and stale["review_status"] == "stale" and stale["final_light"] is None
    assert stale["review"]["reason"] == "查獲量未達標" and stale["review"]["version"] == 1  # history stays visible
    table = kpi_cli("score", "--year", "107", "--agency", "moj", "--ledger", str(ledger)).stdout
    assert any("moj.1.2" in ln and "需重新複核" in ln for ln in table.splitlines())
    out = tmp_path / "r"
    assert kpi_cli("report", "--year", "107", "--agency", "moj", "--ledger", str(ledger), "--out", str(out),
                   "--no-xlsx").returncode == 0
    assert "需重新複核" in (out / "moj.html").read_text(encoding="utf-8")
    listed = json.loads(kpi_cli("reviews", "--ledger", str(ledger), "--format", "json").stdout)
    assert [(r["id"], r["status"]) for r in listed] == [("moj.1.2", "stale")]

    again = kpi_cli("review", "moj.1.2", "--light", "green", "--reason", "補正後達標", "--ledger", str(ledger))
    assert again.returncode == 0
    fresh = score_json(kpi_cli, ledger, "--agency", "moj")["moj.1.2"]
    assert fresh["review_status"] == "reviewed" and fresh["review"]["version"] == 2
    assert [r["reason"] for r in fresh["review_history"]] == ["查獲量未達標"]


def test_a_review_is_not_stale_when_other_kpis_change(kpi_cli, ledger, official_workbook):
    assert kpi_cli("submit", str(official_workbook("moj")), "--ledger", str(ledger), "--by", "甲").returncode == 0
    assert kpi_cli("review", "moj.1.2", "--light", "red", "--reason", "r", "--ledger", str(ledger)).returncode == 0
    assert kpi_cli("submit", str(official_workbook("moj", values={"moj.1.3:ml_indicted_cases": 120})), "--ledger", str(ledger),
                   "--by", "甲").returncode == 0
    assert score_json(kpi_cli, ledger, "--agency", "moj")["moj.1.2"]["review_status"] == "reviewed"


@pytest.mark.parametrize(("args", "says"), [
    (["moj.1.2", "--year", "108"], "year-unknown"),
    (["moj.1.2", "--year", "2018"], "民國 107"),
    (["moj.99.9"], "kpi-unknown"),
    (["mofa.1.1"], "review-not-submitted"),
    (["moj.1.2", "--reason", " "], "理由"),
])
def test_reviews_that_judge_nothing_are_refused(kpi_cli, ledger, official_workbook, args, says):
    assert kpi_cli("submit", str(official_workbook("moj")), "--ledger", str(ledger), "--by", "甲").returncode == 0
    full = [*args, "--light", "red"] + ([] if "--reason" in args else ["--reason", "理由"])
    assert_clean_failure(kpi_cli("review", *full, "--ledger", str(ledger)), says)
    assert sqlite3.connect(ledger).execute("SELECT COUNT(*) FROM reviews").fetchone() == (0,)


# 5. what changed ----------------------------------------------------------------------------

def test_diff_shows_per_kpi_what_changed(kpi_cli, ledger, official_workbook):
    for values in (None, {"moj.1.2:seized_kg": 9900}):
        assert kpi_cli("submit", str(official_workbook("moj", values=values)), "--ledger", str(ledger),
                       "--by", "甲").returncode == 0
    proc = kpi_cli("diff", "--year", "107", "--agency", "moj", "--ledger", str(ledger), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert (d["from"], d["to"]) == (1, 2)
    (change,) = d["changes"]
    assert change["id"] == "moj.1.2" and change["inputs"] == [
        {"symbol": "seized_kg", "label": change["inputs"][0]["label"], "before": "8329.9", "after": "9900"}]
    assert (change["light_before"], change["light_after"]) == ("red", "green")
    text = kpi_cli("diff", "--year", "107", "--agency", "法務部", "--from", "1", "--to", "2", "--ledger", str(ledger))
    assert "8329.9 → 9900" in text.stdout and "紅燈 → 綠燈" in text.stdout
    assert_clean_failure(kpi_cli("diff", "--year", "107", "--agency", "moj", "--from", "1", "--to", "5",
                                 "--ledger", str(ledger)), "diff-no-version")
    assert_clean_failure(kpi_cli("diff", "--year", "107", "--agency", "mofa", "--ledger", str(ledger)), "diff-too-few")


# 6. tamper evidence -------------------------------------------------------------------------

@pytest.fixture
def recorded(kpi_cli, ledger, official_workbook) -> Path:
    for values in (None, {"moj.1.2:seized_kg": 9900}):
        assert kpi_cli("submit", str(official_workbook("moj", values=values)), "--ledger", str(ledger),
                       "--by", "甲").returncode == 0
    assert kpi_cli("review", "moj.1.2", "--light", "red", "--reason", "原判", "--ledger", str(ledger)).returncode == 0
    ok = kpi_cli("verify", "--ledger", str(ledger))
    assert ok.returncode == 0 and "驗證通過" in ok.stdout, ok.stderr
    return ledger


@pytest.mark.parametrize("statement", [
    "INSERT OR REPLACE INTO submission_values (submission_id, kpi_id, symbol, value) VALUES (1, 'moj.1.2', 'seized_kg', '99999')",
    "REPLACE INTO reviews (id, agency_code, year, kpi_id, light, reason, reviewed_by, reviewed_at)"
    " VALUES (1, 'moj', 107, 'moj.1.2', 'green', '改判', 'x', 'y')",
    "INSERT OR REPLACE INTO submissions SELECT * FROM submissions WHERE id = 1",
    "UPDATE submission_values SET value = '1'",
    "DELETE FROM reviews",
])
def test_rewrites_are_refused_by_the_ledger_itself(recorded, statement):
    con = sqlite3.connect(recorded)
    with pytest.raises(sqlite3.DatabaseError, match="只能新增"):
        con.execute(statement)
    con.close()


def test_drop_trigger_and_update_is_detected(kpi_cli, recorded):
    con = sqlite3.connect(recorded)
    con.execute("DROP TRIGGER reviews_no_update")
    con.execute("UPDATE reviews SET light = 'green', reason = '改判'")
    con.commit()
    refused = kpi_cli("score", "--year", "107", "--ledger", str(recorded))
    assert_clean_failure(refused, "reviews_no_update", "kpi verify")
    con.execute(TRIGGERS["reviews_no_update"])  # put the trigger back: the chain still knows
    con.commit()
    con.close()
    proc = kpi_cli("verify", "--ledger", str(recorded))
    assert_clean_failure(proc, "複核 moj.1.2", "遭修改")


def test_a_dropped_table_is_refused_not_read_as_empty(kpi_cli, recorded):
    con = sqlite3.connect(recorded)
    con.execute("DROP TABLE reviews")
    con.commit()
    con.close()
    for cmd in (["score", "--year", "107"], ["reviews"], ["submissions"], ["report", "--out", str(recorded.parent / "r")]):
        assert_clean_failure(kpi_cli(*cmd, "--ledger", str(recorded)), "reviews")
    assert_clean_failure(kpi_cli("verify", "--ledger", str(recorded)), "reviews")


def test_deleted_rows_and_edited_files_are_named(kpi_cli, recorded):
    stored = sorted((recorded.parent / "submissions").rglob("*.xlsx"))
    stored[0].chmod(0o644)
    stored[0].write_bytes(stored[0].read_bytes() + b"x")
    stored[1].chmod(0o644)
    stored[1].unlink()
    proc = kpi_cli("verify", "--ledger", str(recorded))
    assert_clean_failure(proc, "提交紀錄 1 的原始檔", "SHA-256 不符", "提交紀錄 2 的原始檔", "不見了")
    con = sqlite3.connect(recorded)
    con.execute("DROP TRIGGER submission_values_no_delete")
    con.execute("DELETE FROM submission_values WHERE kpi_id = 'moj.1.2'")
    con.commit()
    con.close()
    proc = kpi_cli("verify", "--ledger", str(recorded), "--format", "json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and not report["ok"]
    assert any("提交 moj 107 年度第 1 版" in p and "遭修改" in p for p in report["problems"])


# 7. a ledger that cannot be opened -------------------------------------------------------------

def _not_sqlite(p: Path) -> Path:
    p.write_text("這不是資料庫" * 100, encoding="utf-8")
    return p


def _other_schema(p: Path) -> Path:
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE customers (id INTEGER)")
    con.commit()
    con.close()
    return p


@pytest.mark.parametrize(("make", "says"), [
    (_not_sqlite, "不是有效的 SQLite 帳本"),
    (_other_schema, "不是本系統的帳本"),
    (lambda p: (p.mkdir(), p)[1], "是資料夾"),
    (lambda p: Path("/dev/null"), "不是一般檔案"),
])
@pytest.mark.parametrize("command", [["score", "--year", "107"], ["submissions"], ["reviews"], ["verify"],
                                     ["diff", "--agency", "moj"]])
def test_unusable_ledgers_are_named_in_chinese(kpi_cli, tmp_path, make, says, command):
    path = make(tmp_path / "bad.sqlite")
    before = path.read_bytes() if path.is_file() else None
    assert_clean_failure(kpi_cli(*command, "--ledger", str(path)), says)
    if before is not None:
        assert path.read_bytes() == before


@pytest.mark.parametrize(("make", "says"), [(_not_sqlite, "不是有效的 SQLite"), (_other_schema, "不是本系統的帳本"),
                                            (lambda p: (p.mkdir(), p)[1], "是資料夾")])
def test_submit_into_an_unusable_ledger_loses_nothing(kpi_cli, tmp_path, official_workbook, make, says):
    path = make(tmp_path / "bad.sqlite")
    before = path.read_bytes() if path.is_file() else None
    proc = kpi_cli("submit", str(official_workbook("moj")), "--ledger", str(path), "--by", "甲")
    assert_clean_failure(proc, says)
    if before is not None:
        assert path.read_bytes() == before
    assert not (tmp_path / "submissions").exists()


def test_a_lock_held_past_the_timeout_is_a_message_not_a_hang(kpi_cli, recorded, official_workbook):
    holder = sqlite3.connect(recorded, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        proc = kpi_cli("submit", str(official_workbook("moj", values={"moj.1.2:seized_kg": 1})), "--ledger",
                       str(recorded), "--by", "甲", env={"KPI_LEDGER_TIMEOUT": "1"}, timeout=60)
        assert_clean_failure(proc, "其他程序使用")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert submitted_versions(recorded) == [("moj", 1), ("moj", 2)]
    assert kpi_cli("verify", "--ledger", str(recorded)).returncode == 0


@pytest.fixture
def mounted(tmp_path: Path):
    """A small tmpfs of our own (real ENOSPC, real read-only remount); skipped where mounting is not allowed."""
    point = tmp_path / "mnt"
    point.mkdir()
    if shutil.which("mount") is None or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "kpitest", str(point)],
                                                       capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield point
    subprocess.run(["umount", "-l", str(point)], capture_output=True)


def test_read_only_storage_still_reads_and_refuses_writes_cleanly(kpi_cli, recorded, mounted, official_workbook):
    shutil.copytree(recorded.parent, mounted / "var")
    subprocess.run(["mount", "-o", "remount,ro", str(mounted)], check=True)
    ro = mounted / "var" / "ledger.sqlite"
    for cmd in (["score", "--year", "107", "--agency", "moj"], ["submissions"], ["reviews"], ["verify"],
                ["report", "--agency", "moj", "--no-xlsx", "--out", str(recorded.parent / "r")]):
        proc = kpi_cli(*cmd, "--ledger", str(ro))
        assert proc.returncode == 0, (cmd, proc.stderr)
    proc = kpi_cli("submit", str(official_workbook("moj", values={"moj.1.2:seized_kg": 2})), "--ledger", str(ro),
                   "--by", "甲")
    assert_clean_failure(proc, "唯讀")


def test_a_full_disk_loses_nothing(kpi_cli, mounted, official_workbook):
    ledger = mounted / "ledger.sqlite"
    assert kpi_cli("submit", str(official_workbook("moj")), "--ledger", str(ledger), "--by", "甲").returncode == 0
    filler = mounted / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)  # take what is left of the 400 KB
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    proc = kpi_cli("submit", str(official_workbook("moj", values={"moj.1.2:seized_kg": 3})), "--ledger", str(ledger),
                   "--by", "甲")
    assert_clean_failure(proc, "磁碟空間不足")
    filler.unlink()
    assert submitted_versions(ledger) == [("moj", 1)]
    assert kpi_cli("verify", "--ledger", str(ledger)).returncode == 0
    assert len(list((mounted / "submissions").rglob("*.xlsx"))) == 1


# 8. the same data options everywhere ------------------------------------------------------------

@pytest.mark.parametrize("command", [["score"], ["report", "--no-xlsx"], ["reviews"], ["submissions"],
                                     ["diff", "--agency", "moj"]])
@pytest.mark.parametrize(("year", "says"), [("108", "可用年度：107"), ("2018", "民國 107")])
def test_years_are_checked_against_the_targets(kpi_cli, ledger, tmp_path, command, year, says):
    proc = kpi_cli(*command, "--year", year, "--ledger", str(ledger), *(["--out", str(tmp_path)] if "report" in command else []))
    assert_clean_failure(proc, says)


@pytest.mark.parametrize("command", [["score"], ["report", "--no-xlsx"], ["reviews"], ["submissions"]])
def test_every_reading_command_takes_ledger_and_as_of(kpi_cli, recorded, tmp_path, command):
    extra = ["--out", str(tmp_path / "r"), "--agency", "moj"] if "report" in command else []
    proc = kpi_cli(*command, "--ledger", str(recorded), "--as-of", "107-12-31", *extra)
    assert proc.returncode == 0, proc.stderr


def test_reading_commands_do_not_touch_the_ledger(kpi_cli, recorded, tmp_path):
    digest = hashlib.sha256(recorded.read_bytes()).hexdigest()
    for cmd in (["score", "--year", "107"], ["reviews"], ["submissions"], ["verify"],
                ["diff", "--agency", "moj"], ["report", "--agency", "moj", "--no-xlsx", "--out", str(tmp_path)]):
        assert kpi_cli(*cmd, "--ledger", str(recorded)).returncode == 0, cmd
    assert hashlib.sha256(recorded.read_bytes()).hexdigest() == digest
