"""Evaluating a KPI: I1/I2 worked by hand, missing and invalid inputs, zero denominators as states."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kpiengine.evaluation import State, evaluate_kpi
from kpiengine.model import Definition, Direction, Domain, Input, Kpi


def _i1i2() -> Kpi:
    """法務部 八-1 as printed: I = {[(I1^2×I2)+(I1×I2^2)]÷(I1^2+I2^2)}×100%, I1 = 有效終結÷終結, I2 = 有效終結÷未結."""
    return Kpi(
        id="t.8.1", agency="法務部", agency_code="t", goal_no=8, goal="推廣多元便民措施，強化行政執行績效", kpi_no=1,
        name="提升執行案件有效結案率", system=1, method="統計數據", related="社會發展", direction=Direction.HIGHER,
        unit="%",
        inputs=(Input("effective", "有效終結案件數", "件", Domain.COUNT), Input("closed", "終結案件數", "件", Domain.COUNT),
                Input("pending", "未結案件數", "件", Domain.COUNT)),
        params=(),
        definitions=(Definition("I1", "有效終結案件數÷終結案件數", "effective / closed"),
                     Definition("I2", "有效終結案件數÷未結案件數", "effective / pending")),
        formula="((I1**2 * I2) + (I1 * I2**2)) / (I1**2 + I2**2) * 100", page="7-5", standard="…")


@pytest.mark.parametrize(("effective", "closed", "pending", "i1", "i2", "value"), [
    # I1 = 1/2, I2 = 1/4: (1/16 + 1/32) ÷ (1/4 + 1/16) = (3/32) ÷ (5/16) = 3/10 → 30%
    (250, 500, 1000, Fraction(1, 2), Fraction(1, 4), Fraction(30)),
    # I1 = I2 = 1/4: (2 × 1/64) ÷ (2 × 1/16) = 1/4 → 25% (the 107 target): equal ratios give that ratio
    (100, 400, 400, Fraction(1, 4), Fraction(1, 4), Fraction(25)),
    # I1 = 1/5, I2 = 1/3: (1/75 + 1/45) ÷ (1/25 + 1/9) = (8/225) ÷ (34/225) = 4/17 → 400/17 %
    (60, 300, 180, Fraction(1, 5), Fraction(1, 3), Fraction(400, 17)),
])
def test_i1_i2_formula_by_hand(effective, closed, pending, i1, i2, value):
    ev = evaluate_kpi(_i1i2(), {"effective": Fraction(effective), "closed": Fraction(closed), "pending": Fraction(pending)})
    assert ev.state is State.SCORED
    assert ev.intermediates == {"I1": i1, "I2": i2}
    assert ev.value == value


def test_i1_i2_zero_effective_cases_is_undefined_not_zero():
    # I1 = I2 = 0 makes the outer denominator I1^2 + I2^2 = 0.
    ev = evaluate_kpi(_i1i2(), {"effective": Fraction(0), "closed": Fraction(10), "pending": Fraction(10)})
    assert ev.state is State.UNDEFINED and ev.value is None
    assert ev.problems[0].code == "division-by-zero"
    assert ev.zero_denominator_inputs == ("effective", "closed", "pending")  # I1² + I2², through I1 and I2


def test_zero_denominator_names_the_input():
    ev = evaluate_kpi(_i1i2(), {"effective": Fraction(1), "closed": Fraction(0), "pending": Fraction(10)})
    assert ev.state is State.UNDEFINED
    assert "終結案件數（closed）" in ev.problems[0].message
    assert ev.zero_denominator_inputs == ("closed",)


def test_nothing_given_is_no_data():
    assert evaluate_kpi(_i1i2(), {}).state is State.NO_DATA
    assert evaluate_kpi(_i1i2(), {"effective": None, "closed": None, "pending": None}).state is State.NO_DATA


def test_partly_given_is_incomplete_and_names_what_is_missing():
    ev = evaluate_kpi(_i1i2(), {"effective": Fraction(1), "closed": Fraction(2)})
    assert ev.state is State.INCOMPLETE
    assert "未結案件數（pending）" in ev.problems[0].message


@pytest.mark.parametrize(("value", "detail"), [(Fraction(-1), "不可為負數"), (Fraction(5, 2), "須為整數")])
def test_count_domain(value, detail):
    ev = evaluate_kpi(_i1i2(), {"effective": value, "closed": Fraction(2), "pending": Fraction(2)})
    assert ev.state is State.INVALID and detail in ev.problems[0].message


def test_unknown_symbol_is_invalid():
    ev = evaluate_kpi(_i1i2(), {"bogus": Fraction(1)})
    assert ev.state is State.INVALID and ev.problems[0].code == "input-unknown"
