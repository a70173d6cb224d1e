"""What clerks type → exact numbers, or the right error code (data-driven)."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from kpiengine.model import Domain, Input
from kpiengine.workbook.values import is_percent_format, parse_cell


def inp(domain: str, unit: str = "件") -> Input:
    return Input("x", "測試項目", unit, Domain(domain))


# (raw cell value, number format, domain, unit, expected value, expected codes)
CASES = [
    (None, "General", "count", "件", None, ()),
    ("   ", "General", "count", "件", None, ()),
    (6500, "#,##0", "count", "人", Fraction(6500), ()),
    ("6500", "General", "count", "人", Fraction(6500), ()),
    (" 1,234 ", "General", "count", "件", Fraction(1234), ()),
    ("１２３", "General", "count", "件", Fraction(123), ()),
    ("１，２３４", "General", "count", "件", Fraction(1234), ()),
    ("6,500人", "General", "count", "人", Fraction(6500), ()),
    ("9,850.5 公斤", "General", "nonneg", "公斤", Fraction("9850.5"), ()),
    (87.05, "General", "nonneg", "千元", Fraction("87.05"), ()),
    ("90%", "General", "percent", "%", Fraction(90), ()),
    ("９０％", "General", "percent", "%", Fraction(90), ()),
    ("87.5 %", "General", "percent", "%", Fraction("87.5"), ()),
    (0.9, "0%", "percent", "%", Fraction(90), ("wb-percent-format",)),
    (0.8705, "0.00%", "percent", "%", Fraction("87.05"), ("wb-percent-format",)),
    (0.9, "General", "percent", "%", Fraction("0.9"), ("wb-percent-fraction",)),
    (0.9, '0.0"%"', "percent", "%", Fraction("0.9"), ("wb-percent-fraction",)),  # quoted % does not scale
    (90, "General", "percent", "%", Fraction(90), ()),
    ("−5", "General", "real", "%", Fraction(-5), ()),
    ("－5.5", "General", "real", "%", Fraction("-5.5"), ()),
    ("是", "General", "bool", "是/否", Fraction(1), ()),
    ("否", "General", "bool", "是/否", Fraction(0), ()),
    (True, "General", "bool", "是/否", Fraction(1), ()),
    ("1", "General", "bool", "是/否", Fraction(1), ()),
    ("abc", "General", "count", "件", None, ("wb-not-number",)),
    ("約 100", "General", "count", "件", None, ("wb-not-number",)),
    ("1/3", "General", "nonneg", "件", None, ("wb-not-number",)),
    ("1e5", "General", "nonneg", "件", None, ("wb-not-number",)),
    ("__import__('os').system('ls')", "General", "nonneg", "件", None, ("wb-not-number",)),
    ("1,23", "General", "count", "件", None, ("wb-not-number",)),
    (dt.datetime(2018, 12, 31), "yyyy-mm-dd", "count", "件", None, ("wb-not-number",)),
    (True, "General", "count", "件", None, ("wb-not-number",)),
    (-5, "General", "count", "件", Fraction(-5), ("wb-negative",)),
    ("-5", "General", "nonneg", "千元", Fraction(-5), ("wb-negative",)),
    (2.5, "General", "count", "件", Fraction(5, 2), ("wb-not-integer",)),
    (101, "General", "score", "分", Fraction(101), ("wb-score-range",)),
    (2, "General", "bool", "是/否", Fraction(2), ("wb-bool-invalid",)),
    ("90%", "General", "count", "件", None, ("wb-percent-unexpected",)),
    (0.5, "0%", "nonneg", "千元", None, ("wb-percent-unexpected",)),
]


@pytest.mark.parametrize(("raw", "fmt", "domain", "unit", "expected", "codes"), CASES,
                         ids=[f"{c[2]}:{c[0]!r}:{c[1]}" for c in CASES])
def test_parse_cell(raw, fmt, domain, unit, expected, codes) -> None:
    p = parse_cell(raw, fmt, inp(domain, unit))
    assert p.value == expected
    assert tuple(code for code, _ in p.errors + p.notes) == codes
    assert p.given == (raw is not None and not (isinstance(raw, str) and not raw.strip()))
    for _, params in p.errors:
        assert params["label"] == "測試項目"


@pytest.mark.parametrize(("fmt", "expected"), [
    ("0%", True), ("0.00%", True), ("General", False), ("#,##0", False), ('0"%"', False), (r"0\%", False), (None, False),
])
def test_percent_format(fmt, expected) -> None:
    assert is_percent_format(fmt) is expected
