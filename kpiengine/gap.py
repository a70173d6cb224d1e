"""Gap to target: for a KPI that missed, how far each single input is from meeting the target.

Pure. For each input, the other inputs are held at their submitted values and the KPI's own
checked expression (definitions such as I1/I2 substituted, the year's params filled in) becomes
a function of that one input. ``solveset`` over the reals, within the input's domain, gives the
exact set of values that meet the target; the nearest one to the submitted value is the answer,
rounded in the direction that meets the target (a count to a whole number, other values to the
display precision) and checked again by exact evaluation. The sensitivity is the derivative at
the submitted point (the branch active there, for Min/Max/Piecewise caps).

Work per KPI is bounded (expression size and wall time), so one pathological KPI cannot hang
a report: the gap then says it was not computed and why.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp
from sympy.solvers.inequalities import reduce_rational_inequalities

from .evaluation import State, compile_kpi, evaluate_kpi
from .model import Direction, Domain, Kpi, Target
from .numbers import display, fraction_text

MAX_OPS = 400  # expression size (sympy count_ops) beyond which a KPI is not solved
TIME_LIMIT = 3.0  # seconds of solving per KPI (enforced on the main thread)


class _OutOfTime(Exception):
    pass


@dataclass(frozen=True)
class InputGap:
    """One input's value that meets the target, the others held at their submitted values."""

    symbol: str
    label: str
    unit: str
    domain: Domain
    current: Fraction
    needed: Fraction  # rounded in the meeting direction (whole number for a count)
    needed_exact: str  # the exact boundary solveset found, e.g. "20500/9" or "sqrt(3)"
    sensitivity: Fraction | None  # d(KPI)/d(input) at the submitted point, KPI units per input unit
    sensitivity_text: str

    @property
    def change(self) -> Fraction:
        return self.needed - self.current

    @property
    def relative(self) -> float:
        """|change| ÷ |current| (infinite when the current value is 0), to rank the inputs."""
        return math.inf if self.current == 0 else float(abs(self.change) / abs(self.current))


@dataclass(frozen=True)
class Skipped:
    symbol: str
    label: str
    reason: str  # Chinese


@dataclass(frozen=True)
class Gap:
    kpi_id: str
    actual: Fraction
    target: Fraction
    meets_when: str  # ">=" or "<="
    inputs: tuple[InputGap, ...]  # nearest first (smallest relative change)
    skipped: tuple[Skipped, ...]
    complete: bool = True  # False: the time or size bound stopped the analysis
    note: str | None = None

    @property
    def best(self) -> InputGap | None:
        return self.inputs[0] if self.inputs else None


def meets(direction: Direction, actual: Fraction, target: Fraction) -> bool:
    """Whether ``actual`` meets ``target`` (達成度 100%): at most for lower-is-better, else at least."""
    return actual <= target if direction is Direction.LOWER else actual >= target


def _rational(v: Fraction) -> sp.Rational:
    return sp.Rational(v.numerator, v.denominator)


def _to_fraction(v: sp.Basic) -> Fraction | None:
    if isinstance(v, sp.Rational):
        return Fraction(int(v.p), int(v.q))
    return None


def full_expression(kpi: Kpi, target: Target) -> sp.Expr:
    """The KPI's formula over its inputs only: definitions substituted (last first), params filled in."""
    compiled = compile_kpi(kpi)
    expr = compiled.formula.expr
    for symbol, f in reversed(compiled.definitions):
        expr = expr.xreplace({sp.Symbol(symbol): f.expr})
    params = {sp.Symbol(k): _rational(v) for k, v in target.params.items()}
    return expr.xreplace(params)


def _domain_set(domain: Domain) -> sp.Set:
    if domain is Domain.REAL:
        return sp.Reals
    if domain is Domain.SCORE:
        return sp.Interval(0, 100)
    if domain is Domain.BOOL:
        return sp.FiniteSet(0, 1)
    return sp.Interval(0, sp.oo)  # count, nonneg, percent


def _solution_set(f: sp.Expr, x: sp.Symbol, target: sp.Rational, at_least: bool, domain: sp.Set) -> sp.Set:
    """Every value of ``x`` in ``domain`` at which ``f`` meets the target (Min/Max as Piecewise)."""
    f = sp.piecewise_fold(f.rewrite(sp.Piecewise))
    pairs = f.as_expr_set_pairs(domain) if isinstance(f, sp.Piecewise) else [(f, domain)]
    found: sp.Set = sp.EmptySet
    for piece, where in pairs:
        condition = piece >= target if at_least else piece <= target
        if condition is sp.true:
            found = found | where
        elif condition is not sp.false:
            found = found | _solve_inequality(condition, piece, x, where)
    return found


def _solve_inequality(condition: sp.Basic, piece: sp.Expr, x: sp.Symbol, where: sp.Set) -> sp.Set:
    """The real solutions of one inequality within ``where``.

    A rational function of ``x`` (every piece our formula language can build) goes straight to
    sympy's polynomial-based rational-inequality solver, which is what ``solveset`` ends up doing
    after a costly periodicity check; anything else goes through ``solveset`` itself.
    """
    if piece.is_rational_function(x):
        found = reduce_rational_inequalities([[condition]], x, relational=False)
        return sp.Intersection(found, where)
    return sp.solveset(condition, x, where)


def _nearest(solutions: sp.Set, x0: sp.Rational) -> sp.Expr | None:
    """The point of ``solutions`` closest to ``x0`` (x0 is outside it: the KPI missed)."""
    parts = solutions.args if isinstance(solutions, sp.Union) else (solutions,)
    best: sp.Expr | None = None
    for part in parts:
        if part is sp.EmptySet:
            continue
        if isinstance(part, sp.FiniteSet):
            candidates = [p for p in part if p.is_real]
        elif isinstance(part, sp.Interval):
            candidates = [part.start if x0 <= part.start else part.end if x0 >= part.end else x0]
            candidates = [c for c in candidates if c.is_finite]
        else:  # a ConditionSet or something solveset could not make explicit
            raise ValueError("unsolved")
        for c in candidates:
            if best is None or abs(c - x0) < abs(best - x0):
                best = c
    return best


def _round_toward(value: sp.Expr, up: bool, places: int) -> Fraction:
    """Round ``value`` exactly to a multiple of 10^-places (0 = whole number), up or down."""
    scale = sp.Integer(10) ** places
    n = sp.ceiling(value * scale) if up else sp.floor(value * scale)
    return Fraction(int(n), 10**places)


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise _OutOfTime after ``seconds`` (SIGALRM; only on the main thread, elsewhere the size bound holds)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def _alarm(signum, frame):  # noqa: ARG001
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _meets_exactly(kpi: Kpi, target: Target, inputs: Mapping[str, Fraction]) -> bool:
    ev = evaluate_kpi(kpi, inputs, target.params)
    return ev.state is State.SCORED and ev.value is not None and meets(kpi.direction, ev.value, target.value)


def _sensitivity(f: sp.Expr, x: sp.Symbol, x0: sp.Rational) -> tuple[Fraction | None, str]:
    f = sp.piecewise_fold(f.rewrite(sp.Piecewise))
    try:
        d = sp.diff(f, x).subs(x, x0)
        d = sp.nsimplify(d) if d.is_Float else d
    except (ZeroDivisionError, TypeError, ValueError):
        return None, "—"
    if d.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or not d.is_number:
        return None, "—"
    exact = _to_fraction(d)
    return exact, fraction_text(exact) if exact is not None else str(d)


def analyse(kpi: Kpi, target: Target | None, inputs: Mapping[str, Fraction | None], places: int = 2,
            time_limit: float = TIME_LIMIT) -> Gap | None:
    """The gap of a KPI that missed its target; None when it met it or has no computed value."""
    if target is None:
        return None
    given = {k: v for k, v in inputs.items() if v is not None}
    ev = evaluate_kpi(kpi, given, target.params)
    if ev.state is not State.SCORED or ev.value is None or meets(kpi.direction, ev.value, target.value):
        return None
    at_least = kpi.direction is not Direction.LOWER
    found: list[InputGap] = []
    skipped: list[Skipped] = []
    complete, note = True, None
    try:
        expr = full_expression(kpi, target)
        if sp.count_ops(expr) > MAX_OPS:
            return Gap(kpi.id, ev.value, target.value, ">=" if at_least else "<=", (), (), False,
                       f"公式過於複雜（超過 {MAX_OPS} 個運算），未分析")
        with _time_limit(time_limit):
            for inp in kpi.inputs:
                if inp.symbol not in given:
                    continue
                x = sp.Symbol(inp.symbol)
                others = {sp.Symbol(s): _rational(v) for s, v in given.items() if s != inp.symbol}
                f = expr.xreplace(others)
                if x not in f.free_symbols:
                    skipped.append(Skipped(inp.symbol, inp.label, "指標值不隨此項變動"))
                    continue
                gap = _solve_one(kpi, target, inp, f, x, given, at_least, places)
                if isinstance(gap, str):
                    skipped.append(Skipped(inp.symbol, inp.label, gap))
                else:
                    found.append(gap)
    except _OutOfTime:
        complete = False
        note = f"分析逾時（{time_limit:g} 秒），僅列出已算出之項目"
    found.sort(key=lambda g: (g.relative, abs(g.change)))
    return Gap(kpi.id, ev.value, target.value, ">=" if at_least else "<=", tuple(found), tuple(skipped),
               complete, note)


def _solve_one(kpi: Kpi, target: Target, inp, f: sp.Expr, x: sp.Symbol, given: Mapping[str, Fraction],
               at_least: bool, places: int) -> InputGap | str:
    """One input's gap, or the reason (Chinese) it has none."""
    x0 = _rational(given[inp.symbol])
    try:
        solutions = _solution_set(f, x, _rational(target.value), at_least, _domain_set(inp.domain))
        boundary = _nearest(solutions, x0)
    except (ValueError, TypeError, NotImplementedError):
        return "無法求得明確解"
    if boundary is None:
        return "單獨調整此項無法達標（容許範圍內無實數解）"
    up = bool(boundary > x0)
    whole = inp.domain in (Domain.COUNT, Domain.BOOL, Domain.RANK)
    needed = _round_toward(boundary, up, 0 if whole else places)
    trial = {**given, inp.symbol: needed}
    if not _meets_exactly(kpi, target, trial):
        return "單獨調整此項無法達標（容許範圍內無實數解）"
    sensitivity, sensitivity_text = _sensitivity(f, x, x0)
    exact = _to_fraction(boundary)
    return InputGap(inp.symbol, inp.label, inp.unit, inp.domain, given[inp.symbol], needed,
                    fraction_text(exact) if exact is not None else str(boundary), sensitivity, sensitivity_text)


def value_text(value: Fraction, places: int = 2) -> str:
    """6,500 for whole numbers, else half-up to ``places``."""
    if value.denominator == 1:
        return f"{value.numerator:,}"
    return display(value, places)


def sensitivity_text(gap: InputGap) -> str:
    """The sensitivity for people: four significant digits (display only; JSON keeps it exact)."""
    if gap.sensitivity is None:
        return gap.sensitivity_text
    return f"{float(gap.sensitivity):.4g}"


def sentence(gap: InputGap, places: int = 2) -> str:
    """「有效終結案件數需達 2,731 件（目前 2,500 件）方達目標」."""
    if gap.domain is Domain.BOOL:
        state = "完成" if gap.needed == 1 else "未完成"
        return f"{gap.label}：需{state}（目前{'已完成' if gap.current == 1 else '未完成'}）方達目標"
    unit = f" {gap.unit}" if gap.unit else ""
    verb = "需達" if gap.change > 0 else "需降至"
    return (f"{gap.label}{verb} {value_text(gap.needed, places)}{unit}"
            f"（目前 {value_text(gap.current, places)}{unit}）方達目標")


def gap_record(gap: Gap | None, places: int = 2) -> dict | None:
    """The gap as JSON (``kpi gap --format json`` and the ``gap`` field of ``kpi score --format json``)."""
    if gap is None:
        return None
    return {
        "actual": fraction_text(gap.actual), "target": fraction_text(gap.target), "meets_when": gap.meets_when,
        "complete": gap.complete, "note": gap.note,
        "sentence": sentence(gap.best, places) if gap.best else None,
        "inputs": [{"symbol": g.symbol, "label": g.label, "unit": g.unit, "domain": g.domain.value,
                    "current": fraction_text(g.current), "needed": fraction_text(g.needed),
                    "needed_exact": g.needed_exact, "change": fraction_text(g.change),
                    "sensitivity": g.sensitivity_text if g.sensitivity is None else fraction_text(g.sensitivity),
                    "sentence": sentence(g, places)} for g in gap.inputs],
        "skipped": [{"symbol": s.symbol, "label": s.label, "reason": s.reason} for s in gap.skipped],
    }
