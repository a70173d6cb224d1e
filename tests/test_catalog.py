"""The shipped catalog: every test case reproduces, every row of each agency's seed table is present,
and `kpi check` finds nothing wrong. Test cases are collected from the YAML data, one per KPI case."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from kpiengine.catalog import check_provenance, load_catalog, run_test_case, seed_sections, subsequence_gap
from kpiengine.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
_ENGINE = Engine.load(ROOT)
CASES = [(kpi, n, case) for kpi in _ENGINE.catalog.kpis for n, case in enumerate(kpi.tests, start=1)]
# A KPI row starts its 評估體制 digit right before the 評估方式's first word (實地查證 and the misprinted
# 民意調查 of coa.6.1 included).
ROW_MARK = re.compile(r"[1-5](統計|書面|問卷|進度|其他|實地|民意)")


@pytest.mark.parametrize(("kpi", "n", "case"), CASES, ids=[f"{k.id}#{n}" for k, n, _ in CASES])
def test_catalog_case(kpi, n, case):
    target = _ENGINE.catalog.target(kpi.id, 107)
    assert run_test_case(kpi, case, dict(target.params) if target else {}) is None, case.why


def test_catalog_check_is_clean(engine):
    errors = [p for p in engine.check() if p.is_error]
    assert errors == [], "\n".join(f"{p.code} {p.where()} {p.message}" for p in errors)


def test_every_kpi_has_a_hand_worked_case_and_a_107_target(engine):
    for kpi in engine.catalog.kpis:
        assert kpi.tests, kpi.id
        assert engine.catalog.target(kpi.id, 107) is not None, kpi.id


@pytest.mark.parametrize("agency", _ENGINE.catalog.agencies, ids=lambda a: a.code)
def test_every_seed_row_is_in_the_catalog(agency, root):
    section = seed_sections(root)[agency.name]
    rows = len(ROW_MARK.findall(section))
    kpis = _ENGINE.catalog.kpis_of(agency.code)
    assert len(kpis) == rows
    # KPI numbers run 1, 2, 3 … within each goal, and goals are the ones the agency declares.
    by_goal: dict[int, list[int]] = {}
    for k in kpis:
        by_goal.setdefault(k.goal_no, []).append(k.kpi_no)
    assert sorted(by_goal) == sorted(agency.goals)
    for goal_no, numbers in by_goal.items():
        assert numbers == list(range(1, len(numbers) + 1)), (agency.code, goal_no)


def test_starter_catalog_holds_the_required_shapes(engine):
    """法務部 and 科技部 carry the shapes the model must hold naturally."""
    cat = engine.catalog
    assert [d.symbol for d in cat.kpi("moj.8.1").definitions] == ["I1", "I2"]
    assert cat.kpi("moj.3.1").direction.value == "milestone"
    assert cat.kpi("moj.5.1").direction.value == "lower" and cat.target("moj.5.1", 107).text == "10%以下"
    most91 = cat.kpi("most.9.1")
    assert "Min(" in most91.formula + "".join(d.expr for d in most91.definitions)
    assert cat.kpi("most.4.1").params
    assert cat.kpi("moj.9.1").shared == "capital_budget_execution"


def test_subsequence_check():
    assert subsequence_gap("推廣多元便民措施", "八推廣多元便1提升民措施，強")[0] == len("推廣多元便民措施")
    assert subsequence_gap("推廣多元便民措施", "八推廣多元便1提升措施")[0] == 5


def test_provenance_check_catches_a_changed_character(root):
    catalog, _ = load_catalog(root)
    kpi = catalog.kpi("moj.1.1")
    tampered = replace(kpi, name=kpi.name.replace("查緝", "查獲緝") + "甲")
    catalog = replace(catalog, kpis=tuple(tampered if k.id == kpi.id else k for k in catalog.kpis))
    problems = check_provenance(catalog, root, {kpi.id})
    assert [p.code for p in problems] == ["provenance-not-found", "provenance-order"]  # a changed name breaks both
    assert problems[0].location["kpi"] == "moj.1.1"


def test_provenance_check_catches_rows_out_of_order(root):
    catalog, _ = load_catalog(root)
    first, second = catalog.kpi("moj.1.1"), catalog.kpi("moj.1.2")
    swapped = {first.id: replace(first, standard=second.standard), second.id: replace(second, standard=first.standard)}
    catalog = replace(catalog, kpis=tuple(swapped.get(k.id, k) for k in catalog.kpis))
    problems = check_provenance(catalog, root, {k.id for k in catalog.kpis_of("moj")})
    assert [p.code for p in problems] == ["provenance-order"]
