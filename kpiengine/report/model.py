"""The report model: what a reviewer sees for an agency's year, independent of the output format.

Pure: built from ``ScoredKpi`` values; every number is already formatted for display (half-up),
every state keeps its own label, and the catalog's ambiguity notes travel with each row.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..engine import ScoredKpi
from ..evaluation import State
from ..model import DIRECTION_LABELS, Agency
from ..numbers import display
from ..scoring import Light

LIGHT_ORDER = (Light.GREEN, Light.YELLOW, Light.RED, Light.WHITE)
STATE_ORDER = (State.NO_DATA, State.INCOMPLETE, State.INVALID, State.UNDEFINED, State.NO_TARGET, State.AWAITING_REVIEW)


@dataclass(frozen=True)
class Trend:
    year: int
    value: str


@dataclass(frozen=True)
class ReportRow:
    kpi_id: str
    kpi_no: int
    name: str
    standard: str
    method: str
    direction: str
    target_text: str
    actual: str
    unit: str
    achievement: str  # capped, e.g. "95.00%", or "—"
    achievement_raw: str
    light: str | None  # green/yellow/red/white
    light_label: str  # 綠燈 … or the state's label
    state: str
    self_rating: str | None
    review_light: str | None  # 複核 light key, None = 待複核
    review_label: str
    review_reason: str | None
    messages: tuple[str, ...]
    notes: tuple[str, ...]  # ambiguity notes on the KPI and on its target, shown to reviewers
    past: tuple[Trend, ...]
    narrative: str | None
    intermediates: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class GoalSection:
    goal_no: int
    goal: str
    rows: tuple[ReportRow, ...]


@dataclass(frozen=True)
class Tally:
    key: str  # light value or state value
    label: str
    count: int


@dataclass(frozen=True)
class AgencyReport:
    agency: str
    agency_code: str
    year: int
    goals: tuple[GoalSection, ...]
    tallies: tuple[Tally, ...]
    kpi_count: int
    sources: tuple[str, ...]
    ambiguous: int  # KPIs carrying a note

    @property
    def green_share(self) -> str:
        scored = sum(t.count for t in self.tallies if t.key in {lt.value for lt in LIGHT_ORDER})
        green = next((t.count for t in self.tallies if t.key == Light.GREEN.value), 0)
        return display(Fraction(green * 100, scored)) + "%" if scored else "—"


def display_value(value: Fraction | None, places: int) -> str:
    """Whole numbers without decimals (6,500), others half-up to ``places`` (87.05)."""
    if value is not None and value.denominator == 1:
        return f"{value.numerator:,}"
    return display(value, places)


def _row(item: ScoredKpi, places: int) -> ReportRow:
    s, kpi, t = item.score, item.kpi, item.target
    light = s.light.value if s.light else None
    label = s.light.label if s.light else State(s.state).label
    notes = tuple(n for n in (kpi.note, t.note if t else None) if n)
    past = tuple(Trend(y, display_value(v, places) + (t.unit if t else ""))
                 for y, v in sorted(t.past.items())) if t else ()
    return ReportRow(
        kpi_id=kpi.id, kpi_no=kpi.kpi_no, name=kpi.name, standard=kpi.standard, method=kpi.method,
        direction=DIRECTION_LABELS[kpi.direction], target_text=t.text if t else "—",
        actual=display_value(s.actual, places), unit=kpi.unit if s.actual is not None else "",
        achievement=display(s.achievement, places) + ("%" if s.achievement is not None else ""),
        achievement_raw=display(s.achievement_raw, places) + ("%" if s.achievement_raw is not None else ""),
        light=light, light_label=label, state=s.state.value, self_rating=item.self_rating,
        review_light=item.review.light.value if item.review and item.review_state.value == "reviewed" else None,
        review_label=(item.review.light.label if item.review_state.value == "reviewed" and item.review
                      else item.review_state.label),
        review_reason=item.review.reason if item.review else None,
        messages=tuple(p.message for p in s.problems) + s.notes, notes=notes, past=past,
        narrative=item.narrative, intermediates=tuple((k, display(v, 4)) for k, v in s.intermediates.items()),
    )


def build_agency_report(agency: Agency, year: int, items: list[ScoredKpi], places: int = 2) -> AgencyReport:
    """One agency's report from its scored KPIs (in plan order)."""
    mine = [i for i in items if i.kpi.agency_code == agency.code]
    goals = []
    for goal_no in sorted({i.kpi.goal_no for i in mine}):
        rows = tuple(_row(i, places) for i in mine if i.kpi.goal_no == goal_no)
        goals.append(GoalSection(goal_no, agency.goals.get(goal_no, ""), rows))
    tallies = [Tally(lt.value, lt.label, sum(1 for i in mine if i.score.light is lt)) for lt in LIGHT_ORDER]
    tallies += [Tally(st.value, st.label, n) for st in STATE_ORDER
                if (n := sum(1 for i in mine if i.score.light is None and i.score.state is st))]
    sources = tuple(sorted({f"{i.source}" + (f"（第 {i.version} 版）" if i.version else "") for i in mine if i.source}))
    return AgencyReport(agency.name, agency.code, year, tuple(goals), tuple(tallies), len(mine), sources,
                        sum(1 for i in mine if i.kpi.note))
