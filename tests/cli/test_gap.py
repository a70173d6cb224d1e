"""``kpi gap`` and the ``gap`` field of ``kpi score --format json``, through the real entry point."""

from __future__ import annotations

import csv
import io
import json

from tests.conftest import assert_clean_failure


def test_gap_json_for_a_missed_kpi(kpi_cli):
    proc = kpi_cli("gap", "--year", "107", "moj.5.1", "--format", "json", "--sample")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["light"] == "red" and record["sample"] is True
    gap = record["gap"]
    assert gap["meets_when"] == "<=" and gap["sentence"].endswith("方達目標")
    by_symbol = {g["symbol"]: g for g in gap["inputs"]}
    assert by_symbol["inmates"]["needed"] == "66000"  # (66000 − 60000) ÷ 60000 = 10% exactly


def test_gap_table_says_the_sentence(kpi_cli):
    proc = kpi_cli("gap", "moj.5.1", "--sample")
    assert proc.returncode == 0, proc.stderr
    assert "矯正機關實際收容人數需降至 66,000 人" in proc.stdout and "敏感度" in proc.stdout


def test_gap_of_a_met_kpi_says_so(kpi_cli):
    proc = kpi_cli("gap", "moj.8.1", "--sample")
    assert proc.returncode == 0 and "已達目標" in proc.stdout


def test_unknown_kpi_is_refused_in_chinese(kpi_cli):
    assert_clean_failure(kpi_cli("gap", "moj.99.9"), "找不到指標")


def test_score_json_carries_gap_only_for_missed_kpis(kpi_cli):
    proc = kpi_cli("score", "--year", "107", "--agency", "moj", "--format", "json", "--sample")
    assert proc.returncode == 0, proc.stderr
    records = {r["id"]: r for r in json.loads(proc.stdout)}
    assert records["moj.5.1"]["gap"]["sentence"].startswith("矯正機關實際收容人數需降至")
    assert all(r["gap"] is None for r in records.values() if r["light"] == "green")


def test_gap_csv_one_row_per_input(kpi_cli):
    """--format csv, the one convention of every listing: a row per input that could close the gap (none if met)."""
    missed = kpi_cli("gap", "moj.5.1", "--sample", "--format", "csv")
    assert missed.returncode == 0 and missed.stdout.startswith("\ufeff"), missed.stderr
    rows = list(csv.DictReader(io.StringIO(missed.stdout.lstrip("\ufeff"))))
    assert {r["symbol"]: r["needed"] for r in rows}["inmates"] == "66000" and {r["id"] for r in rows} == {"moj.5.1"}
    met = kpi_cli("gap", "moj.8.1", "--sample", "--format", "csv")
    assert met.returncode == 0 and len(met.stdout.splitlines()) == 1  # the header alone
