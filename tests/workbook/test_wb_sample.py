"""Sample workbooks: deterministic, verified by the engine, every light and no-data present, no drift."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook
from wbhelpers import ROOT, YEAR, catalog_agencies, value_diff

from kpiengine.engine import Engine
from kpiengine.evaluation import State
from kpiengine.model import Domain
from kpiengine.scoring import Light
from kpiengine.workbook import layout as L
from kpiengine.workbook.reader import collect_actuals, read_workbook
from kpiengine.workbook.sample import plan_agency, sample_file_name

AGENCIES = catalog_agencies()
COMMITTED = ROOT / "actuals" / str(YEAR)
REGENERATE = f"請執行 kpi sample --year {YEAR} 重新產製 actuals/{YEAR}/ 的範例填報表"


def test_committed_samples_match_the_catalog(samples) -> None:
    """Regenerate in a tmp dir and compare cell values (not bytes) with actuals/<year>/*.xlsx."""
    committed = sorted(p.name for p in COMMITTED.glob("*.xlsx")) if COMMITTED.is_dir() else []
    assert committed == sorted(sample_file_name(c) for c in samples), REGENERATE
    drifted = {code: value_diff(COMMITTED / sample_file_name(code), fresh) for code, (fresh, _) in samples.items()}
    drifted = {code: diff for code, diff in drifted.items() if diff}
    assert not drifted, f"{REGENERATE}；與目錄不符：" + "；".join(f"{c}：{d}" for c, d in drifted.items())


def test_every_light_and_no_data_appear(samples) -> None:
    states = Counter(item.intended for _, plan in samples.values() for item in plan)
    for light in Light:
        assert states[light] > 0, light
    assert states[None] > 0
    assert states[None] < sum(states.values()) / 5  # "a few" left empty


@pytest.mark.parametrize("code", AGENCIES)
def test_sample_lights_verified_by_engine(code: str, engine: Engine, samples) -> None:
    path, plan = samples[code]
    inputs, problems = read_workbook(path, engine)
    assert [p for p in problems if p.is_error] == []
    scored = {i.kpi.id: i for i in engine.score_year(YEAR, [inputs], code)}
    for item in plan:
        s = scored[item.kpi.id].score
        if item.intended is None:
            assert s.state is State.NO_DATA
        else:
            assert s.light is item.intended, item.kpi.id
            assert scored[item.kpi.id].self_rating == item.intended.label
        for inp in item.kpi.inputs:  # plausible values a clerk could type
            x = item.values.get(inp.symbol)
            if x is None:
                continue
            assert x >= 0 or inp.domain is Domain.REAL
            assert 100 % x.denominator == 0  # at most two decimals
            if inp.domain is Domain.COUNT:
                assert x.denominator == 1
            if inp.domain in (Domain.PERCENT, Domain.SCORE):
                assert x <= 100


@pytest.mark.parametrize("code", AGENCIES[:3])
def test_sample_plan_is_deterministic(code: str, engine: Engine) -> None:
    first = [(p.kpi.id, p.intended, p.values) for p in plan_agency(engine, code, YEAR)]
    assert first == [(p.kpi.id, p.intended, p.values) for p in plan_agency(engine, code, YEAR)]


def test_sample_cover_says_sample(samples) -> None:
    path = next(iter(samples.values()))[0]
    wb = load_workbook(path)
    cover = " ".join(str(c.value) for row in wb[L.COVER_SHEET].iter_rows() for c in row if c.value)
    assert "範例資料" in cover and "非" in cover
    meta = {r[0].value: r[1].value for r in wb[L.META_SHEET].iter_rows(max_col=2)}
    assert meta[L.META_KIND] == L.KIND_SAMPLE


def test_collect_actuals_reads_a_folder(engine: Engine, samples, tmp_path: Path) -> None:
    folder = next(iter(samples.values()))[0].parent
    inputs, problems = collect_actuals(folder, engine, YEAR)
    assert sorted(a.agency_code for a in inputs) == sorted(samples)
    assert not [p for p in problems if p.is_error]
    (tmp_path / "~$moj.xlsx").write_bytes(b"lock")  # Office lock files are ignored
    assert collect_actuals(tmp_path, engine, YEAR) == ([], [])
