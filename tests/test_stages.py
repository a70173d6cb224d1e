"""Stage KPIs recognised from their formula (kpiengine/stages.py), checked on the whole catalog."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kpiengine.engine import Engine
from kpiengine.stages import ordered_stages, uncounted_stages

YEAR = 107
# README "Stage KPIs": exactly these follow the cumulative rule; 交通部 一-2, 文化部 一-1, 金管會 三-1,
# 農委會 四-2 count independent items and must not be taken for stages.
STAGE_KPIS = {"moj.3.1", "mol.3.1", "mol.3.2", "mol.3.3"}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def _params(engine: Engine, kpi_id: str) -> dict:
    target = engine.catalog.target(kpi_id, YEAR)
    return dict(target.params) if target else {}


def test_exactly_the_stage_kpis_are_recognised(engine: Engine) -> None:
    found = {k.id for k in engine.catalog.kpis if ordered_stages(k, _params(engine, k.id))}
    assert found == STAGE_KPIS


@pytest.mark.parametrize(("ticks", "expected"), [
    ((1, 1, 1), None),
    ((1, 1, 0), None),
    ((1, 0, 0), None),
    ((0, 0, 0), None),
    ((1, 0, 1), ("s2", ["s3"])),
    ((0, 1, 0), ("s1", ["s2"])),
    ((0, 1, 1), ("s1", ["s2", "s3"])),
    ((0, 0, 1), ("s1", ["s3"])),
])
def test_uncounted_stages(engine: Engine, ticks: tuple[int, ...], expected) -> None:
    kpi = engine.catalog.kpi("mol.3.1")
    values = {f"s{i + 1}": Fraction(t) for i, t in enumerate(ticks)}
    assert uncounted_stages(kpi, values, _params(engine, kpi.id)) == expected


def test_blank_or_independent_items_say_nothing(engine: Engine) -> None:
    assert uncounted_stages(engine.catalog.kpi("mol.3.1"), {"s1": None, "s2": Fraction(1), "s3": Fraction(1)}) is None
    assert uncounted_stages(engine.catalog.kpi("motc.1.2"), {"s1": Fraction(0), "s2": Fraction(1), "s3": Fraction(1)},
                            _params(engine, "motc.1.2")) is None
