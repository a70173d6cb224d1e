"""達成度 per direction and the light bands, from hand-worked cases in tests/data/scoring_cases.yaml."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from kpiengine.evaluation import Evaluation, State
from kpiengine.model import Direction, Domain, Input, Kpi, Target
from kpiengine.numbers import parse_exact
from kpiengine.scoring import DEFAULT_POLICY, Band, Light, Policy, achievement, score

CASES = yaml.safe_load((Path(__file__).parent / "data" / "scoring_cases.yaml").read_text(encoding="utf-8"))


def _kpi(direction: Direction, review_required: bool = False) -> Kpi:
    return Kpi(id="x.1.1", agency="測試部", agency_code="x", goal_no=1, goal="目標", kpi_no=1, name="指標", system=1,
               method="統計數據", related="無", direction=direction, unit="%",
               inputs=(Input("a", "甲", "%", Domain.REAL),), params=(), definitions=(), formula="a", page="1-1",
               standard="甲", review_required=review_required)


def _target(value: str) -> Target:
    return Target("x.1.1", 107, value, parse_exact(value), "%", ">=")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_achievement_and_light(case):
    direction = Direction(case["direction"])
    result = score(_kpi(direction), _target(case["target"]),
                   Evaluation("x.1.1", State.SCORED, parse_exact(case["actual"])))
    assert result.state is State.SCORED
    expected_raw = None if case["raw"] is None else parse_exact(case["raw"])
    assert result.achievement_raw == expected_raw
    assert result.achievement == parse_exact(case["capped"])
    assert result.light is Light(case["light"])


@pytest.mark.parametrize("state", [State.NO_DATA, State.INCOMPLETE, State.INVALID, State.UNDEFINED])
def test_states_without_a_value_never_get_a_light(state):
    result = score(_kpi(Direction.HIGHER), _target("90"), Evaluation("x.1.1", state))
    assert result.state is state
    assert result.light is None and result.achievement is None and result.actual is None


def test_missing_target_is_its_own_state():
    result = score(_kpi(Direction.HIGHER), None, Evaluation("x.1.1", State.SCORED, Fraction(5)))
    assert result.state is State.NO_TARGET and result.light is None


def test_review_required_kpi_awaits_review_without_a_light():
    result = score(_kpi(Direction.HIGHER, review_required=True), _target("90"),
                   Evaluation("x.1.1", State.SCORED, Fraction(95)))
    assert result.state is State.AWAITING_REVIEW and result.light is None
    assert result.achievement == 100


def test_policy_bands_are_data():
    strict = Policy(year=107, bands=(Band(Light.GREEN, Fraction(100)), Band(Light.YELLOW, Fraction(95)),
                                     Band(Light.RED, Fraction(85)), Band(Light.WHITE, None)))
    assert DEFAULT_POLICY.light_for(Fraction(92)) is Light.YELLOW
    assert strict.light_for(Fraction(92)) is Light.RED


def test_lower_raw_ratio_is_kept_beyond_the_cap():
    raw, basis, note = achievement(Direction.LOWER, Fraction(5), Fraction(10))
    assert raw == 200 and basis == 100 and note is None
