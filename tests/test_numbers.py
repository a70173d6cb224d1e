"""Exact parsing and half-up display rounding."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from kpiengine.numbers import (
    MAX_DIGITS,
    MAX_EXPONENT,
    NumberError,
    display,
    fraction_text,
    parse_exact,
    parse_number,
    to_decimal,
)


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


# --- the one parser of typed numbers: what is accepted, and what is refused and why -------------

ACCEPTED = [("87.05", "87.05"), ("１２３", "123"), ("１，２３４", "1234"), (" 1,234.5 ", "1234.5"), ("−5", "-5"),
            ("－5.5", "-5.5"), ("+3", "3"), (".5", "0.5"), ("5.", "5"), ("0.000", "0"),
            ("1" * MAX_DIGITS, "1" * MAX_DIGITS), ("1" + "0" * (MAX_EXPONENT - 1), "1" + "0" * (MAX_EXPONENT - 1)),
            ("0." + "0" * (MAX_EXPONENT - 1) + "1", "0." + "0" * (MAX_EXPONENT - 1) + "1"),
            (6500, "6500"), (87.05, "87.05"), (1.5e-05, "0.000015")]

REFUSED = [("8329¹", "上標"), ("12 34", "空白"), ("1_000", "底線"), ("2,5,0,0", "千分位"), ("1,23", "千分位"),
           ("1e400", "科學記號"), ("1e999999999", "科學記號"), ("inf", "不是數字"), ("nan", "不是數字"),
           ("abc", "不是數字"), ("__import__('os')", "不是數字"), ("1+1", "不是數字"), ("٣", "不是數字"),
           ("1" * (MAX_DIGITS + 1), "有效位數"), ("1" + "0" * MAX_EXPONENT, "過大"),
           ("0." + "0" * MAX_EXPONENT + "1", "過小"), ("9" * 5000, "過長"), ("9" * 1_000_000, "過長"),
           (10**5000, "過大"), (float("inf"), "有限"), (1e300, "過大"), (True, "是／否"), ("", "空白")]


@pytest.mark.parametrize(("text", "exact"), ACCEPTED, ids=[repr(a)[:30] for a, _ in ACCEPTED])
def test_parse_number_accepts_what_clerks_type(text, exact):
    assert fraction_text(parse_number(text)) == exact


@pytest.mark.parametrize(("text", "why"), REFUSED, ids=[f"{type(a).__name__}:{str(a)[:20]}" if not isinstance(a, int)
                                                         or isinstance(a, bool) or a < 10**30 else "int:huge"
                                                         for a, _ in REFUSED])
def test_parse_number_refuses_with_a_reason(text, why):
    with pytest.raises(NumberError) as exc:
        parse_number(text)
    assert why in str(exc.value)


def test_machine_text_is_bounded_too():
    assert parse_exact("1.5e-05") == Fraction(15, 1_000_000)
    for bad in ("1e400", "1" * 5000, "1" * 31, "1/0", "1_0/3", f"{'9' * 200}/7"):
        with pytest.raises(NumberError):
            parse_exact(bad)


@pytest.mark.parametrize("value", [Fraction(1234567890123456789012345678901234567891),
                                   Fraction(-1234567890123456789012345678901234567891, 10**20),
                                   Fraction(5, 2) / 10**40, Fraction(-1, 400), Fraction(0), Fraction(7, 3)])
def test_fraction_text_never_loses_a_digit(value):
    """The ledger used to keep 28 significant digits (Decimal division); the text is now exact."""
    assert Fraction(fraction_text(value)) == value
