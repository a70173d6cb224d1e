"""From the command line, for every agency: template → fill → validate → submit → score."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner
from wbhelpers import YEAR, catalog_agencies, edit_workbook

from kpiengine.cli.main import app
from kpiengine.engine import Engine
from kpiengine.workbook import layout as L
from tests.conftest import assert_clean_failure

AGENCIES = catalog_agencies()
runner = CliRunner()


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Engine:
    """Every command gets the session's engine (loading the catalog per command is slow, not under test)."""
    monkeypatch.setattr(Engine, "load", staticmethod(lambda root=None: engine))
    monkeypatch.delenv("KPI_LEDGER", raising=False)
    return engine


def kpi(*args: str):
    """A command in-process, for the happy paths (fast: the session's engine).

    Typer's runner catches exceptions, so the check that can fail is on ``result.exception``: anything
    but the command's own exit is a crash. Refusals are tested through the real ``kpi`` (``kpi_cli``).
    """
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"kpi {' '.join(map(str, args))} crashed: {result.exception!r}\n{result.output}")
    return result


def fill_from_plan(template: Path, plan, out: Path) -> Path:
    values = {}
    for item in plan:
        if item.intended is None:
            continue
        values.update({L.key(item.kpi.id, s): v for s, v in item.values.items()})
        values[L.key(item.kpi.id, L.RATING)] = item.intended.label
        values[L.key(item.kpi.id, L.NARRATIVE)] = f"{item.kpi.name}：達成情形說明（測試）"
    return edit_workbook(template, out, values=values)


@pytest.mark.parametrize("code", AGENCIES)
def test_template_fill_validate_submit_score(code: str, fast: Engine, samples, tmp_path: Path) -> None:
    r = kpi("template", "--year", YEAR, "--agency", code, "--out", tmp_path / "t")
    assert r.exit_code == 0, r.output
    (template,) = (tmp_path / "t").glob("*.xlsx")
    assert code in template.name
    plan = samples[code][1]
    filled = fill_from_plan(template, plan, tmp_path / f"{code}-填報.xlsx")

    r = kpi("validate", filled, "--format", "json")
    report = json.loads(r.stdout)
    assert r.exit_code == 0 and report["ok"] and report["errors"] == 0, r.output
    assert report["agency_code"] == code and report["year"] == YEAR

    ledger = tmp_path / "var" / "ledger.sqlite"
    r = kpi("submit", filled, "--year", YEAR, "--by", "王小明", "--ledger", ledger)
    assert r.exit_code == 0, r.output
    assert "第 1 版" in r.stdout

    r = kpi("score", "--year", YEAR, "--agency", code, "--format", "json", "--ledger", ledger)
    assert r.exit_code == 0, r.output
    records = {rec["id"]: rec for rec in json.loads(r.stdout)}
    assert "第 1 版" in r.stderr
    for item in plan:
        rec = records[item.kpi.id]
        if item.intended is None:
            assert rec["status"] == "no_data" and rec["version"] == 1
        else:
            assert (rec["light"], rec["version"], rec["self_rating"]) == (item.intended.value, 1, item.intended.label)


def test_resubmission_and_as_of(fast: Engine, samples, tmp_path: Path) -> None:
    code, (sample, plan) = next(iter(samples.items()))
    path = edit_workbook(sample, tmp_path / "v1.xlsx", meta={L.META_KIND: L.KIND_TEMPLATE})  # an agency's own file
    ledger = tmp_path / "ledger.sqlite"
    assert kpi("submit", path, "--year", YEAR, "--ledger", ledger, "--by", "甲").exit_code == 0
    between = dt.datetime.now(dt.UTC).isoformat()
    time.sleep(0.01)
    item = next(p for p in plan if p.intended is not None)
    changed = edit_workbook(path, tmp_path / "v2.xlsx", values={L.key(item.kpi.id, s): None for s in item.kpi.input_symbols})
    r = kpi("submit", changed, "--year", YEAR, "--ledger", ledger, "--by", "乙")
    assert r.exit_code == 0 and "第 2 版" in r.stdout, r.output

    r = kpi("submissions", "--year", YEAR, "--agency", code, "--ledger", ledger, "--format", "json")
    rows = json.loads(r.stdout)
    assert [(s["version"], s["submitted_by"]) for s in rows] == [(1, "甲"), (2, "乙")]
    assert all((ledger.parent / s["stored_path"]).exists() for s in rows)
    table = kpi("submissions", "--ledger", ledger).stdout
    assert "v1" in table and "v2" in table

    base = ["score", "--year", YEAR, "--agency", code, "--format", "json", "--ledger", ledger]
    latest = {r["id"]: r for r in json.loads(kpi(*base).stdout)}
    assert latest[item.kpi.id]["status"] == "no_data" and latest[item.kpi.id]["version"] == 2
    earlier = {r["id"]: r for r in json.loads(kpi(*base, "--as-of", between).stdout)}
    assert earlier[item.kpi.id]["light"] == item.intended.value and earlier[item.kpi.id]["version"] == 1
    before = json.loads(kpi(*base, "--as-of", "2000-01-01").stdout)
    assert {r["status"] for r in before} == {"not_submitted"} and {r["version"] for r in before} == {None}


def test_validate_reports_cells_and_exits_1(kpi_cli, samples, tmp_path: Path) -> None:
    code, (path, plan) = next(iter(samples.items()))
    item = next(p for p in plan if p.intended is not None)
    k = L.key(item.kpi.id, item.kpi.inputs[0].symbol)
    bad = edit_workbook(path, tmp_path / "bad.xlsx", values={k: "不詳"}, meta={L.META_VERSION: "0.1"})
    r = kpi_cli("validate", bad)
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr
    assert f"[wb-not-number] {L.DATA_SHEET}!C" in r.stdout and k in r.stdout
    assert "[wb-template-version] _meta!B" in r.stdout
    assert "2 個錯誤" in r.stdout
    ledger = tmp_path / "ledger.sqlite"
    r = kpi_cli("submit", bad, "--year", YEAR, "--ledger", ledger)
    assert_clean_failure(r, "未予收件")
    assert not ledger.exists() and not (tmp_path / "submissions").exists()


def test_validate_refuses_garbage_without_traceback(kpi_cli, tmp_path: Path) -> None:
    junk = tmp_path / "報表.xlsx"
    junk.write_text("這不是 Excel", encoding="utf-8")
    r = kpi_cli("validate", junk, "--format", "json")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert [p["code"] for p in json.loads(r.stdout)["problems"]] == ["wb-not-xlsx"]
    r = kpi_cli("validate", tmp_path / "nope.xlsx")
    assert r.returncode == 1 and "wb-file-missing" in r.stdout and "Traceback" not in r.stdout + r.stderr


def test_template_all_and_sample_commands(fast: Engine, tmp_path: Path) -> None:
    r = kpi("template", "--year", YEAR, "--all", "--out", tmp_path / "all")
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "all").glob("*.xlsx"))) == len(AGENCIES)
    assert kpi("template", "--year", YEAR, "--out", tmp_path).exit_code == 1  # neither --agency nor --all
    assert kpi("template", "--year", YEAR, "--agency", "nope").exit_code == 1
    r = kpi("sample", "--year", YEAR, "--agency", AGENCIES[0], "--out", tmp_path / "s")
    assert r.exit_code == 0 and (tmp_path / "s" / f"{AGENCIES[0]}.xlsx").exists(), r.output


def test_score_reads_the_sample_folder(fast: Engine, samples) -> None:
    folder = next(iter(samples.values()))[0].parent
    r = kpi("score", "--year", YEAR, "--sample", "--actuals", folder, "--ledger", folder / "no-ledger.sqlite")
    assert r.exit_code == 0, r.output
    for label in ("綠燈", "黃燈", "紅燈", "白燈", "無資料"):
        assert f"{label} " in r.stdout and " 項" in r.stdout, label
