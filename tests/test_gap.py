"""Gap to target: hand-worked cases (tests/data/gap_cases.yaml) and the per-KPI work bound."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from kpiengine import gap as gap_module
from kpiengine.gap import analyse, gap_record, sentence
from kpiengine.numbers import fraction_text, parse_exact

CASES = yaml.safe_load((Path(__file__).parent / "data" / "gap_cases.yaml").read_text(encoding="utf-8"))


def _analyse(engine, case, **kw):
    kpi = engine.catalog.kpi(case["kpi"])
    inputs = {k: parse_exact(str(v)) for k, v in case["inputs"].items()}
    return analyse(kpi, engine.catalog.target(kpi.id, 107), inputs, **kw)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_gap_matches_hand_worked_values(engine, case):
    gap = _analyse(engine, case)
    if case.get("met"):
        assert gap is None
        return
    assert gap is not None and gap.complete
    assert fraction_text(gap.actual) == case["actual"]
    found = {g.symbol: g for g in gap.inputs}
    assert set(found) == set(case["gaps"])
    for symbol, want in case["gaps"].items():
        g = found[symbol]
        assert fraction_text(g.needed) == want["needed"], symbol
        assert g.needed_exact == want["exact"], symbol
        assert fraction_text(g.sensitivity) == want["sensitivity"], symbol
    skipped = {s.symbol: s.reason for s in gap.skipped}
    assert set(skipped) == set(case["skipped"])
    for symbol, reason in case["skipped"].items():
        assert reason in skipped[symbol], (symbol, skipped[symbol])
    assert (sentence(gap.best) if gap.best else None) == case["sentence"]


def test_needed_value_really_meets_and_one_step_back_does_not(engine):
    """Rounding goes in the direction that meets: 2,278 meets 25%, 2,277 does not."""
    kpi = engine.catalog.kpi("moj.8.1")
    target = engine.catalog.target("moj.8.1", 107)
    base = {"effective": Fraction(2000), "closed": Fraction(10000), "pending": Fraction(8000)}
    assert analyse(kpi, target, {**base, "effective": Fraction(2278)}) is None
    assert analyse(kpi, target, {**base, "effective": Fraction(2277)}) is not None


def test_json_record_carries_sentence_and_inputs(engine):
    case = CASES[0]
    record = gap_record(_analyse(engine, case))
    assert record["sentence"] == case["sentence"]
    assert record["inputs"][0]["symbol"] == "effective" and record["inputs"][0]["needed"] == "2278"
    assert record["skipped"][0]["symbol"] == "pending"


def test_size_bound_stops_analysis_with_a_reason(engine, monkeypatch):
    monkeypatch.setattr(gap_module, "MAX_OPS", 1)
    gap = _analyse(engine, CASES[1])
    assert gap is not None and not gap.complete and gap.inputs == () and "過於複雜" in gap.note


def test_time_bound_stops_analysis_with_a_reason(engine):
    gap = _analyse(engine, CASES[1], time_limit=1e-6)
    assert gap is not None and not gap.complete and "逾時" in gap.note
