"""達成度 and lights: compares an actual value with the year's target under a policy.

Pure. The policy (light bands, display rounding) is data, loaded from ``targets/<year>/policy.yaml``
so that 國發會 can change it without touching code. States other than SCORED never get a light.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from .evaluation import Evaluation, State
from .messages import Problem
from .model import Direction, Kpi, Target

HUNDRED = Fraction(100)


class Light(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    WHITE = "white"

    @property
    def label(self) -> str:
        return {"green": "綠燈", "yellow": "黃燈", "red": "紅燈", "white": "白燈"}[self.value]


@dataclass(frozen=True)
class Band:
    light: Light
    minimum: Fraction | None  # achievement (percent, capped) at or above which this light applies


@dataclass(frozen=True)
class Policy:
    """Scoring policy of one year."""

    year: int
    bands: tuple[Band, ...]  # from the highest minimum down; the last has minimum None
    cap: Fraction = HUNDRED
    places: int = 2

    def light_for(self, achievement: Fraction) -> Light:
        for band in self.bands:
            if band.minimum is None or achievement >= band.minimum:
                return band.light
        return self.bands[-1].light


DEFAULT_POLICY = Policy(
    year=0,
    bands=(Band(Light.GREEN, Fraction(100)), Band(Light.YELLOW, Fraction(90)),
           Band(Light.RED, Fraction(80)), Band(Light.WHITE, None)),
)


@dataclass(frozen=True)
class Score:
    """The scored result of one KPI in one year."""

    kpi_id: str
    state: State
    actual: Fraction | None = None
    target: Fraction | None = None
    achievement_raw: Fraction | None = None  # percent, uncapped (None when undefined)
    achievement: Fraction | None = None  # percent, capped at policy.cap
    light: Light | None = None
    notes: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    intermediates: dict[str, Fraction] = field(default_factory=dict)


def achievement(direction: Direction, actual: Fraction, target: Fraction) -> tuple[Fraction | None, Fraction, str | None]:
    """(raw %, capped-input %, note) of ``actual`` against ``target``.

    raw is None where the ratio has no meaning (a zero or negative divisor); the second value
    is then 100 or 0 according to whether the target is met. Raw may exceed 100 or be negative.
    """
    if direction is Direction.LOWER:
        met = actual <= target
        if target <= 0:
            return (None, HUNDRED if met else Fraction(0), "目標值為 0（或負），實際值不高於目標即達成")
        if actual <= 0:
            return (None, HUNDRED, "實際值不大於 0，低於目標，視為達成")
        raw = target / actual * HUNDRED
        return (raw, HUNDRED if met else raw, None)
    if direction is Direction.BINARY:
        met = actual >= target
        return (HUNDRED if met else Fraction(0), HUNDRED if met else Fraction(0), None)
    # HIGHER, STANDARDS (met ÷ target), MILESTONE (completed ÷ planned)
    if target <= 0:
        met = actual >= target
        return (None, HUNDRED if met else Fraction(0), "目標值不大於 0，實際值不低於目標即達成")
    raw = actual / target * HUNDRED
    return (raw, raw, None)


def score(kpi: Kpi, target: Target | None, evaluation: Evaluation, policy: Policy = DEFAULT_POLICY) -> Score:
    """Score one evaluated KPI. Anything but a computed value keeps its state and gets no light."""
    if target is None:
        return Score(kpi.id, State.NO_TARGET, actual=evaluation.value, problems=evaluation.problems)
    if evaluation.state is not State.SCORED or evaluation.value is None:
        return Score(kpi.id, evaluation.state, target=target.value, problems=evaluation.problems,
                     intermediates=evaluation.intermediates)
    raw, basis, note = achievement(kpi.direction, evaluation.value, target.value)
    capped = min(basis, policy.cap)
    if kpi.review_required:
        return Score(kpi.id, State.AWAITING_REVIEW, actual=evaluation.value, target=target.value,
                     achievement_raw=raw, achievement=capped, notes=(note,) if note else (),
                     intermediates=evaluation.intermediates)
    return Score(kpi.id, State.SCORED, actual=evaluation.value, target=target.value, achievement_raw=raw,
                 achievement=capped, light=policy.light_for(capped), notes=(note,) if note else (),
                 intermediates=evaluation.intermediates)
