"""The one core object the CLI, workbooks and reports share: a loaded catalog plus its policies.

``Engine`` evaluates and scores; it knows nothing of files beyond asking ``catalog`` to load.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalog import CatalogNotFound, check_catalog, find_root, load_catalog, load_policy
from .evaluation import State, evaluate_kpi
from .messages import Problem
from .model import DIRECTION_LABELS, Catalog, Kpi, Target
from .numbers import fraction_text, to_decimal
from .review import Review, ReviewState, review_state
from .scoring import Light, Policy, Score, score

if TYPE_CHECKING:
    from .gap_cache import GapCache


@dataclass(frozen=True)
class AgencyInputs:
    """What one agency submitted for a year: per KPI, symbol → value (None = left empty)."""

    agency_code: str
    year: int
    values: Mapping[str, Mapping[str, Fraction | None]]
    source: str = ""  # where it came from: a file, a ledger version
    version: int | None = None
    self_ratings: Mapping[str, str] = field(default_factory=dict)  # kpi id → 初核 light
    narratives: Mapping[str, str] = field(default_factory=dict)
    sample: bool = False  # 範例資料: filled by `kpi sample`, not by an agency


@dataclass(frozen=True)
class ScoredKpi:
    kpi: Kpi
    target: Target | None
    score: Score
    inputs: Mapping[str, Fraction | None]
    source: str = ""
    version: int | None = None
    self_rating: str | None = None
    narrative: str | None = None
    review: Review | None = None  # 國發會's latest 複核 of this KPI; None = not yet reviewed
    review_state: ReviewState = ReviewState.AWAITING
    review_history: tuple[Review, ...] = ()  # earlier reviews, oldest first
    sample: bool = False  # 範例資料: never an agency's own data

    @property
    def submitted(self) -> bool:
        return self.score.state is not State.NOT_SUBMITTED

    @property
    def final_light(self) -> Light | None:
        """複核 light where a current review exists, else the computed light (see ``final_source``)."""
        if self.review is not None and self.review_state is ReviewState.REVIEWED:
            return self.review.light
        return self.score.light

    @property
    def final_source(self) -> str | None:
        """'review' when the final light is 國發會's 複核, 'computed' when it is the computed one."""
        if self.review is not None and self.review_state is ReviewState.REVIEWED:
            return "review"
        return "computed" if self.score.light else None


@contextmanager
def bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic records (a catalog, a year's scores).

    Catalog records, Fractions and scores hold no reference cycles, so reference counting frees them
    all the same; but every full collection walks every live object, and with 10⁴–10⁵ KPIs alive those
    walks made loading and scoring grow faster than the catalog (47,000 KPIs: about a third of the time).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Engine:
    """A catalog with its per-year policies."""

    def __init__(self, catalog: Catalog, root: Path, load_problems: list[Problem] | None = None):
        self.catalog = catalog
        self.root = root
        self.load_problems = load_problems or []
        self._policies: dict[int, Policy] = {}
        self._compiled = False

    @classmethod
    def load(cls, root: Path | None = None) -> Engine:
        """Load the catalog at ``root`` (which must hold one), else the one ``find_root`` finds."""
        from . import formula_cache

        root = find_root(explicit=root)
        with bulk():
            catalog, problems = load_catalog(root)
            if not catalog.agencies:
                raise CatalogNotFound(f"{root / 'formulas'} 中沒有可讀的機關檔（{len(problems)} 個問題）；"
                                      "請以 --root 或環境變數 KPI_ROOT 指向專案根目錄")
            formula_cache.load(catalog)  # compiled programs from an earlier run: no sympy needed for them
        return cls(catalog, root, problems)

    def compile_formulas(self) -> None:
        """Compile every formula not compiled yet and keep them on disk for the next run."""
        if self._compiled:
            return
        from . import formula_cache

        formula_cache.compile_and_store(self.catalog)
        self._compiled = True

    def policy(self, year: int) -> Policy:
        if year not in self._policies:
            self._policies[year] = load_policy(self.root, year)
        return self._policies[year]

    def check(self, agency: str | None = None) -> list[Problem]:
        self.compile_formulas()
        return check_catalog(self.catalog, self.load_problems, self.root, agency)

    def score_one(self, kpi: Kpi, year: int, inputs: Mapping[str, Fraction | None]) -> Score:
        target = self.catalog.target(kpi.id, year)
        evaluation = evaluate_kpi(kpi, inputs, target.params if target else {})
        return score(kpi, target, evaluation, self.policy(year))

    def score_year(self, year: int, submissions: Iterable[AgencyInputs], agency: str | None = None,
                   reviews: Iterable[Review] = ()) -> list[ScoredKpi]:
        """Score every KPI of the catalog (or one agency).

        An agency without a submission is 未繳交 (NOT_SUBMITTED) for each of its KPIs; a KPI left
        blank in a submission is NO_DATA. ``reviews`` may hold every review (history): the latest
        per KPI decides, and it is STALE once the KPI's inputs differ from those it judged.
        """
        self.compile_formulas()
        with bulk():
            return self._score_year(year, submissions, agency, reviews)

    def _score_year(self, year: int, submissions: Iterable[AgencyInputs], agency: str | None,
                    reviews: Iterable[Review]) -> list[ScoredKpi]:
        by_agency = {s.agency_code: s for s in submissions if s.year == year}
        history: dict[str, list[Review]] = {}
        for r in reviews:
            if r.year == year:
                history.setdefault(r.kpi_id, []).append(r)
        out = []
        for kpi in self.catalog.kpis_of(agency):
            target = self.catalog.target(kpi.id, year)
            sub = by_agency.get(kpi.agency_code)
            past = history.get(kpi.id, [])
            latest = past[-1] if past else None
            if sub is None:
                result = Score(kpi.id, State.NOT_SUBMITTED, target=target.value if target else None)
                out.append(ScoredKpi(kpi, target, result, {}, review=latest,
                                     review_state=ReviewState.STALE if latest else ReviewState.AWAITING,
                                     review_history=tuple(past[:-1])))
                continue
            inputs = dict(sub.values.get(kpi.id, {}))
            out.append(ScoredKpi(kpi, target, self.score_one(kpi, year, inputs), inputs, sub.source, sub.version,
                                 sub.self_ratings.get(kpi.id), sub.narratives.get(kpi.id), latest,
                                 review_state(latest, inputs), tuple(past[:-1]), sub.sample))
        return out


def _num(value: Fraction | None, places: int) -> float | None:
    return None if value is None else float(to_decimal(value, places))


def kpi_record(kpi: Kpi, target: Target | None) -> dict[str, Any]:
    """The stable JSON contract of ``kpi list --json``."""
    return {
        "id": kpi.id, "agency": kpi.agency, "agency_code": kpi.agency_code, "goal_no": kpi.goal_no,
        "goal": kpi.goal, "kpi_no": kpi.kpi_no, "name": kpi.name, "system": kpi.system, "method": kpi.method,
        "related": kpi.related, "direction": kpi.direction.value, "direction_label": DIRECTION_LABELS[kpi.direction],
        "unit": kpi.unit, "formula": kpi.formula,
        "definitions": [{"symbol": d.symbol, "label": d.label, "expr": d.expr} for d in kpi.definitions],
        "inputs": [{"symbol": i.symbol, "label": i.label, "unit": i.unit, "domain": i.domain.value} for i in kpi.inputs],
        "params": [{"symbol": p.symbol, "label": p.label, "unit": p.unit} for p in kpi.params],
        "page": kpi.page, "standard": kpi.standard, "note": kpi.note, "shared": kpi.shared,
        "target": None if target is None else {
            "value": fraction_text(target.value), "text": target.text, "unit": target.unit,
            "comparator": target.comparator,
            "params": {k: fraction_text(v) for k, v in target.params.items()},
            "components": [c.__dict__ for c in target.components],
            "stages": [{"symbol": s.symbol, "text": s.text, "value": fraction_text(s.value)} for s in target.stages],
            "past": {str(y): fraction_text(v) for y, v in target.past.items()},
            "note": target.note,
        },
    }


def score_records(items: Iterable[ScoredKpi], places: int = 2) -> list[dict[str, Any]]:
    """``score_record`` of every item, each gap taken from the gap cache where the same analysis ran before."""
    from .gap_cache import GapCache

    gaps = GapCache()
    try:
        return [score_record(i, places, gaps=gaps) for i in items]
    finally:
        gaps.save()


def score_record(item: ScoredKpi, places: int = 2, gap: bool = True, gaps: GapCache | None = None) -> dict[str, Any]:
    """The stable JSON contract of ``kpi score --format json`` and ``kpi eval --json``.

    ``gap=False`` leaves out the gap analysis (sympy's solver, the slowest part of scoring) where the
    output does not show it (CSV); the field is then None. ``gaps``: earlier runs' analyses (``score_records``).
    """
    s, kpi = item.score, item.kpi
    return {
        "id": kpi.id, "agency": kpi.agency, "agency_code": kpi.agency_code, "goal_no": kpi.goal_no,
        "kpi_no": kpi.kpi_no, "name": kpi.name, "direction": kpi.direction.value, "unit": kpi.unit,
        "actual": _num(s.actual, places), "actual_exact": fraction_text(s.actual),
        "target": fraction_text(item.target.value) if item.target else None,
        "target_text": item.target.text if item.target else None,
        "achievement": _num(s.achievement, places), "achievement_raw": _num(s.achievement_raw, places),
        "achievement_exact": fraction_text(s.achievement),
        "light": s.light.value if s.light else None, "light_label": s.light.label if s.light else None,
        "status": s.state.value, "status_label": State(s.state).label,
        "intermediates": {k: fraction_text(v) for k, v in s.intermediates.items()},
        "messages": [p.message for p in s.problems] + list(s.notes),
        "problems": [p.as_dict() for p in s.problems],
        "self_rating": item.self_rating,
        "review_status": item.review_state.value, "review_status_label": item.review_state.label,
        "review": None if item.review is None else review_record(item.review, s.light),
        "review_history": [review_record(r) for r in item.review_history],
        "final_light": item.review.light.value if item.review and item.review_state is ReviewState.REVIEWED else None,
        "final_source": item.final_source,
        "sample": item.sample,
        "note": kpi.note,
        "source": item.source or None, "version": item.version,
        "gap": (gaps.record(item, places) if gaps is not None else _gap(item, places)) if gap else None,  # None unless missed
    }


def _gap(item: ScoredKpi, places: int) -> dict[str, Any] | None:
    from .gap import analyse, gap_record  # sympy's solver: imported only when a gap is asked for

    return gap_record(analyse(item.kpi, item.target, item.inputs, places), places)


def review_record(review: Review, computed: Light | None | bool = False) -> dict[str, Any]:
    """One 複核 as JSON: the decision and the data it judged (``overrides`` only against a current light)."""
    return {"light": review.light.value, "light_label": review.light.label, "reason": review.reason,
            "by": review.reviewed_by, "at": review.reviewed_at, "version": review.version,
            "judged_actual": review.judged_actual,
            "judged_light": review.judged_light.value if review.judged_light else None,
            "overrides": None if computed is False else review.overrides(computed)}
