"""Exact int64 rationals give formula.evaluate's value (or UNDEFINED), or leave the row to the exact path."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml

from kpiengine.evaluation import State, compile_kpi, evaluate_kpi
from kpiengine.formula import Undefined, compile_formula, evaluate
from kpiengine.numbers import parse_exact
from kpiengine.panel_exact import Rationals

CASES = yaml.safe_load((Path(__file__).parent / "data" / "panel_exact_cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["formula"] for c in CASES])
def test_recorded_cases(case):
    inputs = case["inputs"]
    n = len(case["expect"])
    compiled = compile_formula(case["formula"], set(inputs))
    r = Rationals(n)
    env = {s: r.decimal(np.array(v, dtype=float)) for s, v in inputs.items()}
    num, den = r.kpi_value((), compiled, env)
    for i, want in enumerate(case["expect"]):
        exact_inputs = {s: parse_exact(float(v[i])) for s, v in inputs.items()}
        if want == "exact path":
            assert not r.ok[i], (case["why"], i)
            continue
        assert r.ok[i], (case["why"], i)
        if want == "undefined":
            assert r.undefined[i], (case["why"], i)
            with pytest.raises(Undefined):
                evaluate(compiled.program, exact_inputs)
            continue
        assert not r.undefined[i], (case["why"], i)
        got = Fraction(int(num[i]), int(den[i]))
        assert got == Fraction(want) == evaluate(compiled.program, exact_inputs), (case["why"], i)


def test_every_catalog_test_case_gives_the_exact_value(engine):
    """Every KPI's hand-worked cases (with the year's params): the same value, or UNDEFINED, as ``evaluate_kpi``."""
    checked = 0
    for kpi in engine.catalog.kpis:
        target = engine.catalog.target(kpi.id, 107)
        compiled = compile_kpi(kpi)
        params = target.params if target else {}
        for case in kpi.tests:
            values = {s: float(v) for s, v in case.inputs.items() if s in kpi.input_symbols and v is not None}
            evaluation = evaluate_kpi(kpi, {s: parse_exact(v) for s, v in values.items()}, params)
            if evaluation.state not in (State.SCORED, State.UNDEFINED):
                continue
            r = Rationals(1)
            env = {k: r.constant(v) for k, v in params.items()}
            env.update({s: r.decimal(np.array([v])) for s, v in values.items()})
            num, den = r.kpi_value(compiled.definitions, compiled.formula, env)
            if not r.ok[0]:
                continue
            checked += 1
            if evaluation.state is State.UNDEFINED:
                assert r.undefined[0], (kpi.id, case.inputs)
            else:
                assert not r.undefined[0] and Fraction(int(num[0]), int(den[0])) == evaluation.value, (kpi.id, case.inputs)
    assert checked > 400
