"""The one core object the CLI, workbooks and reports share: a loaded catalog plus its policies.

``Engine`` evaluates and scores; it knows nothing of files beyond asking ``catalog`` to load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .catalog import check_catalog, find_root, load_catalog, load_policy
from .evaluation import State, evaluate_kpi
from .messages import Problem
from .model import DIRECTION_LABELS, Catalog, Kpi, Target
from .numbers import fraction_text, to_decimal
from .review import Review
from .scoring import Policy, Score, score


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
    review: Review | None = None  # 國發會's 複核; None = not yet reviewed


class Engine:
    """A catalog with its per-year policies."""

    def __init__(self, catalog: Catalog, root: Path, load_problems: list[Problem] | None = None):
        self.catalog = catalog
        self.root = root
        self.load_problems = load_problems or []
        self._policies: dict[int, Policy] = {}

    @classmethod
    def load(cls, root: Path | None = None) -> Engine:
        root = find_root(root)
        catalog, problems = load_catalog(root)
        return cls(catalog, root, problems)

    def policy(self, year: int) -> Policy:
        if year not in self._policies:
            self._policies[year] = load_policy(self.root, year)
        return self._policies[year]

    def check(self, agency: str | None = None) -> list[Problem]:
        return check_catalog(self.catalog, self.load_problems, self.root, agency)

    def score_one(self, kpi: Kpi, year: int, inputs: Mapping[str, Fraction | None]) -> Score:
        target = self.catalog.target(kpi.id, year)
        evaluation = evaluate_kpi(kpi, inputs, target.params if target else {})
        return score(kpi, target, evaluation, self.policy(year))

    def score_year(self, year: int, submissions: Iterable[AgencyInputs], agency: str | None = None,
                   reviews: Iterable[Review] = ()) -> list[ScoredKpi]:
        """Score every KPI of the catalog (or one agency); KPIs with no submission are NO_DATA."""
        by_agency = {s.agency_code: s for s in submissions if s.year == year}
        by_kpi = {r.kpi_id: r for r in reviews if r.year == year}
        out = []
        for kpi in self.catalog.kpis_of(agency):
            sub = by_agency.get(kpi.agency_code)
            inputs = dict(sub.values.get(kpi.id, {})) if sub else {}
            out.append(ScoredKpi(kpi, self.catalog.target(kpi.id, year), self.score_one(kpi, year, inputs), inputs,
                                 sub.source if sub else "", sub.version if sub else None,
                                 sub.self_ratings.get(kpi.id) if sub else None,
                                 sub.narratives.get(kpi.id) if sub else None, by_kpi.get(kpi.id)))
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


def score_record(item: ScoredKpi, places: int = 2) -> dict[str, Any]:
    """The stable JSON contract of ``kpi score --format json`` and ``kpi eval --json``."""
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
        "review_status": "reviewed" if item.review else "awaiting_review",
        "review": None if item.review is None else {
            "light": item.review.light.value, "light_label": item.review.light.label, "reason": item.review.reason,
            "by": item.review.reviewed_by, "at": item.review.reviewed_at,
            "overrides": item.review.overrides(s.light)},
        "final_light": item.review.light.value if item.review else None,
        "note": kpi.note,
        "source": item.source or None, "version": item.version,
    }
