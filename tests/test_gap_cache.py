"""Gap records kept between runs: a second run gives the very same records without solving again."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import pytest

from kpiengine import gap as gap_module
from kpiengine import services
from kpiengine.engine import Engine, score_record, score_records


@pytest.fixture
def items(engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("KPI_CACHE_DIR", str(tmp_path / "cache"))
    return services.score_year(engine, 107, sample=True, agency="moj").items


def no_solving(*args, **kwargs):
    raise AssertionError("solved again")


def test_second_run_gives_the_same_records_without_solving(items, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = [score_record(i, 2) for i in items]
    assert any(r["gap"] for r in fresh) and any(r["gap"] is None for r in fresh)
    assert score_records(items) == fresh  # cold: computed, then stored
    monkeypatch.setattr(gap_module, "analyse", no_solving)
    assert score_records(items) == fresh  # warm: every record from the cache


def test_anything_the_gap_depends_on_changes_the_record(items, monkeypatch: pytest.MonkeyPatch) -> None:
    score_records(items)
    missed = next(i for i in items if score_record(i, 2)["gap"])
    symbol = next(s for s, v in missed.inputs.items() if v)
    changed = dataclasses.replace(missed, inputs={**missed.inputs, symbol: missed.inputs[symbol] + Fraction(1, 100)})
    relabelled = dataclasses.replace(missed, kpi=dataclasses.replace(
        missed.kpi, inputs=tuple(dataclasses.replace(i, label=i.label + "甲") for i in missed.kpi.inputs)))
    real = gap_module.analyse
    for other in (changed, relabelled):
        solved: list[str] = []

        def counting(*a, solved: list[str] = solved, **k):
            solved.append("x")
            return real(*a, **k)

        monkeypatch.setattr(gap_module, "analyse", counting)
        assert score_records([other]) == [score_record(other, 2)]
        assert solved, "a changed KPI or value must be solved again"
        monkeypatch.setattr(gap_module, "analyse", real)
    assert score_records([missed, *items]) == [score_record(missed, 2)] + [score_record(i, 2) for i in items]


def test_an_analysis_cut_short_is_never_kept(items, monkeypatch: pytest.MonkeyPatch) -> None:
    missed = next(i for i in items if score_record(i, 2)["gap"])
    real = gap_module.analyse
    monkeypatch.setattr(gap_module, "analyse", lambda *a, **k: dataclasses.replace(real(*a, **k), complete=False))
    first = score_records([missed])
    assert first[0]["gap"]["complete"] is False
    monkeypatch.setattr(gap_module, "analyse", real)
    assert score_records([missed]) == [score_record(missed, 2)]  # solved again, complete this time
    assert score_records([missed])[0]["gap"]["complete"] is True
