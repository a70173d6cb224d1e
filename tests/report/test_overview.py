"""The overview model: final lights (複核 over computed), review states, 未繳交, ranking, lists, histogram."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kpiengine.engine import AgencyInputs
from kpiengine.report.model import build_agency_report
from kpiengine.report.overview import build_overview, histogram
from kpiengine.review import make_review

MOJ = {
    "moj.1.1": {"indicted": Fraction(6500)},  # 100% green
    "moj.1.2": {"seized_kg": Fraction(8820)},  # 90% yellow
    "moj.5.1": {"inmates": Fraction(67500), "capacity": Fraction(60000)},  # 12.5% vs 10%以下 → 80% red
    "moj.1.3": {"ml_indicted_cases": Fraction(50)},  # 50% white
}


@pytest.fixture(scope="module")
def overview(engine):
    moj = AgencyInputs("moj", 107, MOJ, source="ledger", version=2, self_ratings={"moj.1.2": "綠燈"})
    mofa = AgencyInputs("mofa", 107, {"mofa.1.1": {}}, source="範例", sample=True)
    reviews = [
        make_review("moj.1.1", 107, "red", "查核發現起訴人數重複計算", "國發會", "2019-03-01T00:00:00Z", version=2,
                    inputs=MOJ["moj.1.1"]),
        # judged other inputs than those now in force: 需重新複核, no longer decides the light
        make_review("moj.5.1", 107, "green", "容額擴充已核定", "國發會", "2019-03-01T00:00:00Z", version=1,
                    inputs={"inmates": Fraction(60000), "capacity": Fraction(60000)}),
    ]
    items = [i for i in engine.score_year(107, [moj, mofa], None, reviews)
             if i.kpi.agency_code in ("moj", "mofa", "most")]
    reports = [build_agency_report(engine.catalog.agency(c), 107, items) for c in ("moj", "mofa", "most")]
    return build_overview(107, reports)


def _agency(overview, code):
    return next(a for a in overview.agencies if a.agency_code == code)


def test_final_lights_take_the_review_and_say_so(overview):
    moj = _agency(overview, "moj")
    final = {t.key: (t.count, t.reviewed) for t in moj.final}
    assert final["green"] == (0, 0)  # the computed green of moj.1.1 was reviewed red
    assert final["red"] == (2, 1)  # moj.1.1 (複核) and moj.5.1 (computed: its review is stale)
    assert final["yellow"] == (1, 0) and final["white"] == (1, 0)
    computed = {t.key: t.count for t in moj.tallies}
    assert computed["green"] == 1  # the computed tally is kept beside it
    rows = {r.kpi_id: r for r in moj.rows}
    assert rows["moj.1.1"].final_source == "review" and rows["moj.1.1"].review_version == 2
    assert rows["moj.5.1"].review_state == "stale" and rows["moj.5.1"].final_light == "red"


def test_review_states_and_not_submitted_are_counted(overview):
    moj = _agency(overview, "moj")
    assert moj.stale == 1 and moj.awaiting == moj.kpi_count - 2 and moj.not_submitted == 0
    most = _agency(overview, "most")
    assert most.not_submitted == most.kpi_count and not most.submitted
    assert [r.agency_code for r in overview.not_submitted] == ["most"]
    assert [m.row.kpi_id for m in overview.stale] == ["moj.5.1"] and overview.stale_count == 1


def test_agencies_rank_by_share_met_and_sample_is_per_agency(overview):
    codes = [a.agency_code for a in overview.agencies]
    assert codes[-1] == "most"  # nothing lit ranks last
    assert _agency(overview, "mofa").sample and not _agency(overview, "moj").sample
    assert all(r.sample for r in _agency(overview, "mofa").rows)


def test_missed_list_has_red_and_white_with_gap(overview):
    missed = {m.row.kpi_id: m.row for m in overview.missed}
    assert set(missed) == {"moj.1.1", "moj.5.1", "moj.1.3"}
    assert missed["moj.5.1"].gap == "矯正機關實際收容人數需降至 66,000 人（目前 67,500 人）方達目標"
    assert missed["moj.1.1"].gap is None  # reviewed red, but its computed value meets the target


def test_disagreements_list_every_mismatch(overview):
    found = {m.row.kpi_id: m.row.disagreement for m in overview.disagreements}
    assert found == {"moj.1.1": "複核紅燈≠計算綠燈", "moj.1.2": "初核綠燈≠計算黃燈"}


@pytest.mark.parametrize(("values", "expected"), [
    ([Fraction(0), Fraction(9)], {"0–9": 2}),
    ([Fraction(8999, 100), Fraction(90)], {"80–89": 1, "90–99": 1}),
    ([Fraction(100), Fraction(-5)], {"100": 1, "0–9": 1}),
])
def test_histogram_bins(values, expected):
    counts = {label: n for label, n in histogram(values) if n}
    assert counts == expected


def test_overview_page_lists_what_waits_for_reviewers(overview):
    from kpiengine.report.html import render_index

    html = render_index(overview)
    assert 'data-stale="moj.5.1"' in html and 'data-not-submitted="most"' in html
    assert 'data-missed="moj.1.3"' in html and 'data-disagreement="moj.1.1"' in html
    assert html.count('<svg role="img"') == 2 and "<script" not in html
