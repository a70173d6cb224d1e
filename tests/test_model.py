"""Domain rules stated once (``Domain.rule``): the breach, the evaluation message and the workbook code agree."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml

from kpiengine.evaluation import domain_problem
from kpiengine.model import Domain, Input
from kpiengine.panel import _domain_bad
from kpiengine.workbook.values import parse_cell

CASES = yaml.safe_load((Path(__file__).parent / "data" / "domain_rules.yaml").read_text(encoding="utf-8"))


def _input(domain: str) -> Input:
    return Input(symbol="x", label="測試", unit="", domain=Domain(domain))


@pytest.mark.parametrize(("domain", "typed", "breach", "code"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_one_rule_three_readers(domain: str, typed: str, breach: str | None, code: str | None) -> None:
    value = Fraction(typed)
    assert Domain(domain).rule.breach(value) == breach
    assert (domain_problem(_input(domain), value) is None) == (breach is None)
    parsed = parse_cell(typed, None, _input(domain))
    assert [c for c, _ in parsed.errors] == ([code] if code else [])
    assert bool(_domain_bad(domain, np.array([float(value)]))[0]) == (breach is not None)


def test_every_domain_has_a_rule_and_a_case() -> None:
    assert {c[0] for c in CASES} == {d.value for d in Domain}
    assert all(d.rule is not None for d in Domain)


def test_a_blank_panel_cell_breaks_no_rule() -> None:
    """NaN is "not given" in a panel: never a domain breach, whatever the domain."""
    for d in Domain:
        assert not _domain_bad(d.value, np.array([np.nan])).any(), d
