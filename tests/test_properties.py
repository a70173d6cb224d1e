"""Properties that must hold for any input, checked with Hypothesis: the gate only ever answers with
FormulaError, and scoring is monotonic, capped and banded exactly as the policy says."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from kpiengine.formula import FormulaError, compile_formula
from kpiengine.model import Direction
from kpiengine.scoring import DEFAULT_POLICY, Light, achievement

NAMES = {"a", "b", "c"}
TOKENS = st.sampled_from(["a", "b", "c", "1", "0.5", "100", "+", "-", "*", "/", "**", "(", ")", ",", "Min", "Max",
                          "Abs", "Piecewise", "True", ">=", "&", "|", "__import__", ".", "[", "]", "lambda", ":",
                          "'x'", "2", "11", " "])
positive = st.fractions(min_value=Fraction(1, 1000), max_value=Fraction(10**9))
any_value = st.fractions(min_value=Fraction(-10**6), max_value=Fraction(10**9))


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, max_size=25).map("".join) | st.text(max_size=60))
def test_gate_answers_any_text_with_a_formula_or_a_formula_error(text):
    try:
        compile_formula(text, NAMES)
    except FormulaError:
        pass


@given(any_value, any_value, positive)
def test_higher_is_monotonic_in_the_actual(x, y, target):
    lo, hi = sorted((x, y))
    assert achievement(Direction.HIGHER, lo, target)[1] <= achievement(Direction.HIGHER, hi, target)[1]


@given(any_value, any_value, positive)
def test_lower_is_antitonic_in_the_actual(x, y, target):
    lo, hi = sorted((x, y))
    assert achievement(Direction.LOWER, lo, target)[1] >= achievement(Direction.LOWER, hi, target)[1]


@given(st.sampled_from(list(Direction)), any_value, any_value)
def test_met_target_is_always_green_and_capped_at_100(direction, actual, target):
    _, basis, _ = achievement(direction, actual, target)
    capped = min(basis, DEFAULT_POLICY.cap)
    met = actual <= target if direction is Direction.LOWER else actual >= target
    if met:
        assert capped == 100 and DEFAULT_POLICY.light_for(capped) is Light.GREEN
    assert capped <= 100


@given(st.fractions(min_value=Fraction(-1000), max_value=Fraction(100)))
def test_light_bands(value):
    light = DEFAULT_POLICY.light_for(value)
    expected = (Light.GREEN if value >= 100 else Light.YELLOW if value >= 90 else Light.RED if value >= 80
                else Light.WHITE)
    assert light is expected
