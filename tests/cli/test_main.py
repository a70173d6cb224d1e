"""The `kpi` CLI through typer's runner: contracts of list/score/eval JSON, errors named in Chinese."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from kpiengine.cli.main import app

runner = CliRunner()
LIST_KEYS = {"id", "agency", "agency_code", "goal_no", "goal", "kpi_no", "name", "method", "direction", "unit",
             "formula", "inputs", "target"}
SCORE_KEYS = {"id", "agency", "goal_no", "kpi_no", "actual", "achievement", "achievement_raw", "light", "status",
              "messages"}


def run(*args, root=None):
    argv = list(args) + (["--root", str(root)] if root else [])
    return runner.invoke(app, argv)


def test_agencies_lists_the_starter_agencies(root):
    result = run("agencies", "--json", root=root)
    assert result.exit_code == 0
    names = {a["agency"] for a in json.loads(result.stdout)}
    assert {"法務部", "科技部"} <= names


def test_list_json_contract(root):
    result = run("list", "--year", "107", "--json", root=root)
    assert result.exit_code == 0
    records = json.loads(result.stdout)
    assert records and all(LIST_KEYS <= set(r) for r in records)
    moj51 = next(r for r in records if r["id"] == "moj.5.1")
    assert moj51["agency"] == "法務部" and moj51["goal_no"] == 5 and moj51["kpi_no"] == 1
    assert moj51["target"]["text"] == "10%以下" and moj51["target"]["comparator"] == "<="
    assert all({"symbol", "label", "unit"} <= set(i) for i in moj51["inputs"])


def test_list_unknown_agency_is_a_chinese_error(root):
    result = run("list", "--agency", "nope", root=root)
    assert result.exit_code == 1 and "找不到機關" in result.output


def test_check_passes(root):
    result = run("check", root=root)
    assert result.exit_code == 0, result.output
    assert "0 個錯誤" in result.output


def test_check_reports_every_problem_at_once(tmp_path, root):
    (tmp_path / "formulas").mkdir()
    (tmp_path / "targets" / "107").mkdir(parents=True)
    (tmp_path / "formulas" / "bad.yaml").write_text(yaml.safe_dump({
        "agency": "測試部", "agency_code": "bad", "chapter": 99, "goals": {1: "目標"},
        "kpis": [
            {"id": "bad.1.1", "goal_no": 1, "kpi_no": 1, "name": "甲", "system": 1, "method": "統計數據",
             "direction": "higher", "unit": "件", "inputs": [{"symbol": "a", "label": "甲", "unit": "件", "domain": "count"}],
             "formula": "__import__('os')", "source": {"page": "1-1", "standard": "甲"}, "tests": []},
            {"id": "bad.1.9", "goal_no": 1, "kpi_no": 2, "name": "乙", "system": 9, "method": "統計數據",
             "direction": "sideways", "formula": "a", "source": {"page": "1-1", "standard": "乙"}},
        ]}, allow_unicode=True), encoding="utf-8")
    (tmp_path / "targets" / "107" / "bad.yaml").write_text(yaml.safe_dump({
        "year": 107, "agency_code": "bad", "targets": {"bad.9.9": {"text": "1件", "value": "1"}}}, allow_unicode=True),
        encoding="utf-8")
    result = run("check", "--json", root=tmp_path)
    assert result.exit_code == 1
    codes = {p["code"] for p in json.loads(result.stdout)}
    assert {"formula-rejected", "catalog-schema", "catalog-id-mismatch", "target-orphan"} <= codes


def test_eval_json_contract(root):
    result = run("eval", "moj.8.1", "effective=100", "closed=400", "pending=400", "--year", "107", "--json", root=root)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert SCORE_KEYS <= set(record)
    # I1 = I2 = 1/4 → I = 1/4 = 25%, exactly the 107 target → 100%, green
    assert record["actual"] == 25 and record["achievement"] == 100 and record["light"] == "green"
    assert record["status"] == "scored"


def test_eval_zero_denominator_is_named(root):
    result = run("eval", "moj.9.1", "cap_spent=0", "cap_payable=0", "cap_surplus=0", "cap_budget=0", "--json", root=root)
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    assert record["status"] == "undefined" and record["light"] is None
    assert any("分母為 0" in m for m in record["messages"])


@pytest.mark.parametrize(("args", "says"), [
    (["bogus=1"], "未知的代號「bogus」"),
    (["effective=1"], "缺少輸入"),
    (["effective=__import__('os')", "closed=1", "pending=1"], "不是數字"),
    (["effective=1+1", "closed=1", "pending=1"], "不是數字"),
    (["effective"], "格式應為"),
])
def test_eval_rejects_bad_values_without_parsing_them(root, args, says):
    result = run("eval", "moj.8.1", *args, root=root)
    assert result.exit_code == 1 and says in result.output


def test_eval_unknown_kpi(root):
    result = run("eval", "moj.99.1", "a=1", root=root)
    assert result.exit_code == 1 and "找不到指標" in result.output


def test_score_from_plain_inputs(tmp_path, root):
    folder = tmp_path / "actuals"
    folder.mkdir()
    (folder / "moj.yaml").write_text(yaml.safe_dump({
        "agency_code": "moj", "year": 107,
        "values": {"moj.1.1": {"indicted": 6500}, "moj.1.2": {"seized_kg": 8820},
                   "moj.5.1": {"inmates": 1125, "capacity": 1000}}}), encoding="utf-8")
    result = run("score", "--year", "107", "--agency", "moj", "--format", "json", "--sample", "--actuals", str(folder),
                 root=root)
    assert result.exit_code == 0, result.output
    by_id = {r["id"]: r for r in json.loads(result.stdout)}
    assert all(r["sample"] for r in by_id.values())  # not from the ledger: never an agency's own
    assert all(SCORE_KEYS <= set(r) for r in by_id.values())
    assert by_id["moj.1.1"]["light"] == "green"
    assert by_id["moj.1.2"]["achievement"] == 90 and by_id["moj.1.2"]["light"] == "yellow"  # 8,820 ÷ 9,800
    assert by_id["moj.5.1"]["actual"] == 12.5 and by_id["moj.5.1"]["light"] == "red"  # 10 ÷ 12.5 = 80%
    assert by_id["moj.2.1"]["status"] == "no_data" and by_id["moj.2.1"]["light"] is None


def test_list_notes_shows_only_noted_kpis_with_their_notes(root):
    result = run("list", "--agency", "moj", "--notes", root=root)
    assert result.exit_code == 0
    assert "moj.8.1" in result.output and "※" in result.output
    assert "moj.1.1 " not in result.output  # a plain count with nothing ambiguous
    records = json.loads(run("list", "--agency", "moj", "--notes", "--json", root=root).stdout)
    assert records and all(r["note"] or r["target"]["note"] for r in records)
