"""Exact parsing and half-up display rounding."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from kpiengine.numbers import display, fraction_text, parse_exact, to_decimal


@pytest.mark.parametrize(("text", "value"), [("87.05", Fraction(8705, 100)), ("-5", Fraction(-5)),
                                             ("100/3", Fraction(100, 3)), (0.1, Fraction(1, 10)), (7, Fraction(7))])
def test_parse_exact(text, value):
    assert parse_exact(text) == value


@pytest.mark.parametrize("bad", ["", "abc", "NaN", "inf", "1/0", True, "1+1"])
def test_parse_exact_refuses_non_numbers(bad):
    with pytest.raises(ValueError):
        parse_exact(bad)


@pytest.mark.parametrize(("value", "places", "text"), [
    (Fraction(1, 8), 2, "0.13"),  # half-up, not banker's (0.12)
    (Fraction(5, 1000), 2, "0.01"),
    (Fraction(-1, 8), 2, "-0.13"),
    (Fraction(100, 3), 2, "33.33"),
    (Fraction(2, 3), 2, "0.67"),
    (Fraction(12345, 2), 0, "6173"),
])
def test_half_up(value, places, text):
    assert to_decimal(value, places) == Decimal(text)


def test_display_and_exact_text():
    assert display(Fraction(1234567, 2)) == "617,283.50"
    assert display(None) == "—"
    assert fraction_text(Fraction(8705, 100)) == "87.05"
    assert fraction_text(Fraction(1, 3)) == "1/3"
