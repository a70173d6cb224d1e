"""The report model: what a reviewer sees for an agency's year, independent of the output format.

Pure: built from ``ScoredKpi`` values; every number is already formatted for display (half-up),
every state keeps its own label, and the catalog's ambiguity notes travel with each row.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..engine import ScoredKpi
from ..evaluation import State
from ..gap import analyse, sentence
from ..model import DIRECTION_LABELS, Agency
from ..numbers import display
from ..review import ReviewState
from ..scoring import Light

LIGHT_ORDER = (Light.GREEN, Light.YELLOW, Light.RED, Light.WHITE)
LIGHT_LABELS = {lt.value: lt.label for lt in Light}
STATE_ORDER = (State.NOT_SUBMITTED, State.NO_DATA, State.INCOMPLETE, State.INVALID, State.UNDEFINED, State.NO_TARGET,
               State.AWAITING_REVIEW)


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
    # the final light (複核 where a current one exists, else computed) and where it comes from
    final_light: str | None = None
    final_label: str = "—"
    final_source: str | None = None  # 'review' / 'computed' / None
    review_state: str = ReviewState.AWAITING.value
    review_version: int | None = None  # the submission version the 複核 judged
    review_by: str | None = None
    review_given: str | None = None  # the latest 複核's light label, current or stale
    review_at: str | None = None
    gap: str | None = None  # one sentence for a KPI that missed its target
    version: int | None = None  # the submission version scored
    sample: bool = False  # 範例資料
    # exact numbers for spreadsheets (display text above is for people)
    actual_value: Fraction | None = None
    target_value: Fraction | None = None
    achievement_value: Fraction | None = None  # capped percent

    @property
    def disagreement(self) -> str | None:
        """Why 初核, the computed light and the 複核 do not agree (None when they do or cannot be compared)."""
        parts = []
        computed = LIGHT_LABELS.get(self.light or "")
        if self.self_rating and computed and self.self_rating != computed:
            parts.append(f"初核{self.self_rating}≠計算{computed}")
        if self.review_light and self.review_state == ReviewState.REVIEWED.value:
            reviewed = LIGHT_LABELS[self.review_light]
            if computed and reviewed != computed:
                parts.append(f"複核{reviewed}≠計算{computed}")
            if self.self_rating and reviewed != self.self_rating:
                parts.append(f"複核{reviewed}≠初核{self.self_rating}")
        return "；".join(parts) or None


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
class FinalTally:
    key: str  # light value
    label: str
    count: int  # KPIs whose final light is this one
    reviewed: int  # … of which the light is 國發會's 複核 (the rest are computed)


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
    final: tuple[FinalTally, ...] = ()  # by final light, with how many of each came from 複核
    not_submitted: int = 0  # 未繳交 KPIs (the agency handed in nothing)
    awaiting: int = 0  # 待複核
    stale: int = 0  # 需重新複核
    versions: tuple[int, ...] = ()  # submission versions scored
    sample: bool = False  # built (at least partly) from 範例資料

    @property
    def rows(self) -> tuple[ReportRow, ...]:
        return tuple(r for g in self.goals for r in g.rows)

    @property
    def final_lit(self) -> int:
        return sum(t.count for t in self.final)

    @property
    def share_met(self) -> Fraction | None:
        """Final 綠燈 ÷ KPIs with a final light (None when none is lit)."""
        green = next((t.count for t in self.final if t.key == Light.GREEN.value), 0)
        return Fraction(green * 100, self.final_lit) if self.final_lit else None

    @property
    def share_met_text(self) -> str:
        return display(self.share_met) + "%" if self.share_met is not None else "—"

    @property
    def submitted(self) -> bool:
        return self.not_submitted < self.kpi_count

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


def _row(item: ScoredKpi, places: int, gaps: bool = True) -> ReportRow:
    s, kpi, t = item.score, item.kpi, item.target
    final = item.final_light
    gap = analyse(kpi, t, item.inputs, places) if gaps and s.actual is not None else None
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
        final_light=final.value if final else None,
        final_label=final.label if final else State(s.state).label,
        final_source=item.final_source, review_state=item.review_state.value,
        review_version=item.review.version if item.review else None,
        review_by=item.review.reviewed_by if item.review else None,
        review_given=item.review.light.label if item.review else None,
        review_at=item.review.reviewed_at if item.review else None,
        gap=sentence(gap.best, places) if gap and gap.best else None,
        version=item.version, sample=item.sample,
        actual_value=s.actual, target_value=t.value if t else None, achievement_value=s.achievement,
    )


def build_agency_report(agency: Agency, year: int, items: list[ScoredKpi], places: int = 2,
                        gaps: bool = True) -> AgencyReport:
    """One agency's report from its scored KPIs (in plan order); ``gaps``: analyse each missed KPI."""
    mine = [i for i in items if i.kpi.agency_code == agency.code]
    goals = []
    for goal_no in sorted({i.kpi.goal_no for i in mine}):
        rows = tuple(_row(i, places, gaps) for i in mine if i.kpi.goal_no == goal_no)
        goals.append(GoalSection(goal_no, agency.goals.get(goal_no, ""), rows))
    tallies = [Tally(lt.value, lt.label, sum(1 for i in mine if i.score.light is lt)) for lt in LIGHT_ORDER]
    tallies += [Tally(st.value, st.label, n) for st in STATE_ORDER
                if (n := sum(1 for i in mine if i.score.light is None and i.score.state is st))]
    sources = tuple(sorted({f"{i.source}" + (f"（第 {i.version} 版）" if i.version else "") for i in mine if i.source}))
    final = tuple(FinalTally(lt.value, lt.label, sum(1 for i in mine if i.final_light is lt),
                             sum(1 for i in mine if i.final_light is lt and i.final_source == "review"))
                  for lt in LIGHT_ORDER)
    submitted = [i for i in mine if i.submitted]
    return AgencyReport(agency.name, agency.code, year, tuple(goals), tuple(tallies), len(mine), sources,
                        sum(1 for i in mine if i.kpi.note), final,
                        not_submitted=len(mine) - len(submitted),
                        awaiting=sum(1 for i in submitted if i.review_state is ReviewState.AWAITING),
                        stale=sum(1 for i in mine if i.review_state is ReviewState.STALE),
                        versions=tuple(sorted({i.version for i in mine if i.version is not None})),
                        sample=any(i.sample for i in mine))
