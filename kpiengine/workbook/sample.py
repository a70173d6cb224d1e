"""Deterministic sample workbooks: plausible values around the targets that light every colour.

For each KPI a light is chosen from a hash of its id (no randomness across runs); every agency
gets at least one KPI of each light and one left empty (no data) when its KPIs allow it. Inputs are
then *solved for*: starting from the KPI's own hand-worked test case, one input (or all inputs
that raise the value together) is moved by bisection until the actual value gives the wanted
達成度, rounded to what a clerk would type, and the engine confirms the light.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from ..engine import Engine
from ..evaluation import State
from ..model import Direction, Domain, Input, Kpi, Target
from ..numbers import display
from ..scoring import Light, Score
from .template import Fill, write_template
from .validate import is_outlier

AIM = {Light.GREEN: Fraction(104), Light.YELLOW: Fraction(95), Light.RED: Fraction(85), Light.WHITE: Fraction(70)}
PLACES = {Domain.COUNT: 0, Domain.BOOL: 0, Domain.RANK: 0}  # other domains: one decimal place
UPPER = {Domain.PERCENT: Fraction(100), Domain.SCORE: Fraction(100), Domain.BOOL: Fraction(1)}
MAX_BOOLS = 12  # enumerate at most 2**12 stage combinations
NO_DATA = None  # the "light" of a KPI left empty


@dataclass(frozen=True)
class SampleKpi:
    """One KPI of a sample workbook: the intended light (None = left empty) and the verified result."""

    kpi: Kpi
    intended: Light | None
    values: dict[str, Fraction]
    score: Score | None


def seed(kpi_id: str) -> int:
    return int(hashlib.sha256(kpi_id.encode("utf-8")).hexdigest()[:12], 16)


def _round(value: Fraction, inp: Input, places: int | None = None) -> Fraction:
    p = PLACES.get(inp.domain, 1) if places is None else places
    d = Decimal(value.numerator) / Decimal(value.denominator)
    out = Fraction(d.quantize(Decimal(1).scaleb(-p), rounding=ROUND_HALF_UP))
    if inp.domain is not Domain.REAL:
        out = max(out, Fraction(1 if inp.domain is Domain.RANK else 0))
    if inp.domain in UPPER:
        out = min(out, UPPER[inp.domain])
    return out


def desired_actual(direction: Direction, target: Fraction, light: Light) -> Fraction | None:
    """The actual value whose 達成度 sits in the middle of ``light``'s band."""
    aim = AIM[light]
    scale = max(abs(target), Fraction(1))
    if direction is Direction.BINARY:
        return target if light is Light.GREEN else (target - 1 if light is Light.WHITE else None)
    if direction is Direction.LOWER:
        if target <= 0:
            return {Light.GREEN: target - scale / 20, Light.WHITE: target + scale / 2}.get(light)
        return target * Fraction(92, 100) if light is Light.GREEN else target * 100 / aim
    if target <= 0:
        return {Light.GREEN: target + scale / 20, Light.WHITE: target - scale / 2}.get(light)
    return target * aim / 100


class _Solver:
    def __init__(self, engine: Engine, kpi: Kpi, year: int, target: Target):
        self.engine, self.kpi, self.year, self.target = engine, kpi, year, target

    def score(self, values: dict[str, Fraction]) -> Score:
        return self.engine.score_one(self.kpi, self.year, values)

    def light(self, values: dict[str, Fraction]) -> Light | None:
        """The light of ``values`` — None also when a clerk's validation would warn about them."""
        s = self.score(values)
        if s.state is not State.SCORED or s.actual is None or is_outlier(s.actual, self.target):
            return None
        if any(0 < values[i.symbol] <= 1 for i in self.kpi.inputs if i.domain is Domain.PERCENT):
            return None
        return s.light

    def actual(self, values: dict[str, Fraction]) -> Fraction | None:
        s = self.score(values)
        return s.actual if s.state is State.SCORED else None

    def bases(self) -> list[dict[str, Fraction]]:
        """Complete, computable input sets from the KPI's tests, closest to the target first."""
        out = []
        for case in self.kpi.tests:
            if case.expected_error or any(s not in case.inputs for s in self.kpi.input_symbols):
                continue
            base = {s: case.inputs[s] for s in self.kpi.input_symbols}
            if self.actual(base) is not None:
                out.append(base)
        if not out:
            out.append({i.symbol: Fraction(1) if i.domain is Domain.BOOL else Fraction(100) for i in self.kpi.inputs})

        def distance(base: dict[str, Fraction]) -> float:
            a, t = self.actual(base), self.target.value
            if a is None:
                return math.inf
            if a > 0 and t > 0:
                return abs(math.log(a / t))
            return float(abs(a - t))

        return sorted(out, key=distance)

    def solve(self, light: Light) -> dict[str, Fraction] | None:
        for base in self.bases():
            found = self._solve_from(base, light)
            if found is not None:
                return found
        return None

    def _solve_from(self, base: dict[str, Fraction], light: Light) -> dict[str, Fraction] | None:
        bools = [i for i in self.kpi.inputs if i.domain is Domain.BOOL]
        others = [i for i in self.kpi.inputs if i.domain is not Domain.BOOL]
        combos = list(_bool_combos(len(bools))) if bools and len(bools) <= MAX_BOOLS else [None]
        for combo in combos:
            start = dict(base)
            if combo is not None:
                start.update({i.symbol: Fraction(b) for i, b in zip(bools, combo, strict=True)})
                if self.light(start) is light:
                    return start
            if others:
                found = self._solve_levers(start, others, light)
                if found is not None:
                    return found
        return None

    def _solve_levers(self, base: dict[str, Fraction], others: list[Input], light: Light) -> dict[str, Fraction] | None:
        if self.light(base) is light and all(_round(base[i.symbol], i) == base[i.symbol] for i in others):
            return base
        goal = desired_actual(self.kpi.direction, self.target.value, light)
        for lever in self._levers(base, others):
            found = self._search(lever, goal, light)
            if found is not None:
                return found
        return None

    def _levers(self, base: dict[str, Fraction], others: list[Input]) -> Iterator[Callable[[Fraction], dict[str, Fraction]]]:
        """Ways to move the inputs with one number s ≥ 0: all rising inputs scaled together, then each alone."""
        rising = []
        a0 = self.actual(base)
        for i in others:
            if a0 is None or base[i.symbol] <= 0:
                continue
            bumped = dict(base, **{i.symbol: base[i.symbol] * Fraction(11, 10)})
            a1 = self.actual(bumped)
            if a1 is not None and a1 > a0:
                rising.append(i)
        if len(rising) > 1:
            yield lambda s, r=tuple(rising): dict(base, **{i.symbol: _round(base[i.symbol] * s, i) for i in r})
        for i in others:
            if base[i.symbol] > 0:
                yield lambda s, i=i: dict(base, **{i.symbol: _round(base[i.symbol] * s, i)})
            else:
                ref = max(abs(self.target.value), Fraction(1))
                yield lambda s, i=i, ref=ref: dict(base, **{i.symbol: _round(ref * (s - 1), i)})

    def _search(self, lever: Callable[[Fraction], dict[str, Fraction]], goal: Fraction | None,
                light: Light) -> dict[str, Fraction] | None:
        grid = [Fraction(0)] + [Fraction(2) ** Fraction(k, 4) if k >= 0 else 1 / Fraction(2) ** Fraction(-k, 4)
                                for k in range(-40, 41)]
        grid = [Fraction(float(g)).limit_denominator(10**6) for g in grid]
        points = []
        for s in grid:
            values = lever(s)
            points.append((s, values, self.actual(values)))
        if goal is not None:
            for (s0, _, a0), (s1, _, a1) in itertools.pairwise(points):
                if a0 is None or a1 is None or (a0 - goal) * (a1 - goal) > 0:
                    continue
                lo, hi, flo = s0, s1, a0 - goal
                for _ in range(60):
                    mid = (lo + hi) / 2
                    am = self.actual(lever(mid))
                    if am is None:
                        break
                    if (am - goal) * flo > 0:
                        lo, flo = mid, am - goal
                    else:
                        hi = mid
                for s in (lo, hi, (lo + hi) / 2):
                    values = lever(s)
                    if self.light(values) is light:
                        return values
        # no bracket (the value cannot reach the goal this way): take the matching point nearest s = 1
        matching = [(abs(math.log(float(s))) if s > 0 else math.inf, values) for s, values, _ in points
                    if self.light(values) is light]
        if matching:
            return min(matching, key=lambda m: m[0])[1]
        return None


def _bool_combos(n: int) -> Iterator[tuple[int, ...]]:
    """Stage patterns, the natural ones first: the first k stages done (k = n … 0), then the rest."""
    prefixes = [tuple([1] * k + [0] * (n - k)) for k in range(n, -1, -1)]
    yield from prefixes
    for combo in itertools.product((1, 0), repeat=n):
        if combo not in prefixes:
            yield combo


def plan_agency(engine: Engine, agency_code: str, year: int) -> list[SampleKpi]:
    """The sample of one agency: which light each KPI aims at, its solved inputs and the engine's verdict."""
    kpis = engine.catalog.kpis_of(agency_code)
    solved: dict[tuple[str, Light], dict[str, Fraction] | None] = {}

    def solve(kpi: Kpi, light: Light) -> dict[str, Fraction] | None:
        """Inputs giving ``light`` (cached; solved only when asked, most KPIs need one light)."""
        if (kpi.id, light) not in solved:
            target = engine.catalog.target(kpi.id, year)
            solved[kpi.id, light] = None if target is None else _Solver(engine, kpi, year, target).solve(light)
        return solved[kpi.id, light]

    order = sorted(kpis, key=lambda k: seed(k.id))
    intended: dict[str, Light | None] = {}
    for state in (Light.RED, Light.YELLOW, Light.WHITE, Light.GREEN, NO_DATA):
        for kpi in order:
            if kpi.id not in intended and (state is NO_DATA or solve(kpi, state) is not None):
                intended[kpi.id] = state
                break
    for kpi in order:
        if kpi.id in intended:
            continue
        h = seed(kpi.id) % 100
        wish = Light.GREEN if h < 62 else Light.YELLOW if h < 80 else Light.RED if h < 92 else \
            Light.WHITE if h < 98 else NO_DATA
        choices = [wish, Light.GREEN, Light.YELLOW, Light.WHITE, Light.RED]
        intended[kpi.id] = next((c for c in choices if c is NO_DATA or solve(kpi, c) is not None), NO_DATA)
    out = []
    for kpi in kpis:
        light = intended[kpi.id]
        if light is NO_DATA:
            out.append(SampleKpi(kpi, None, {}, engine.score_one(kpi, year, {})))
            continue
        values = solve(kpi, light) or {}
        s = engine.score_one(kpi, year, values)
        if s.light is not light:  # the solver verified this already; a mismatch is a bug
            raise AssertionError(f"{kpi.id}: 範例值 {values} 得 {s.light}，預期 {light}")
        out.append(SampleKpi(kpi, light, values, s))
    return out


def _narrative(item: SampleKpi, target: Target | None) -> str:
    if item.intended is None or item.score is None or target is None:
        return "（範例）本項指標年度統計資料尚未發布，俟資料確定後補報。"
    s = item.score
    unit = item.kpi.unit if item.kpi.unit != "%" else "%"
    return (f"（範例）本年度實際值 {display(s.actual)}{unit}，目標值 {target.text}，"
            f"達成度 {display(s.achievement)}%，依計分規則為{s.light.label if s.light else '—'}。"
            f"本段文字為範例，正式填報時請說明執行成果、未達成原因及改善措施。")


def sample_fill(engine: Engine, agency_code: str, year: int) -> tuple[Fill, list[SampleKpi]]:
    """The Fill (values, ratings, narratives) of one agency's sample workbook."""
    plan = plan_agency(engine, agency_code, year)
    values = {p.kpi.id: dict(p.values) for p in plan if p.intended is not None}
    ratings = {p.kpi.id: p.intended.label for p in plan if p.intended is not None}
    narratives = {p.kpi.id: _narrative(p, engine.catalog.target(p.kpi.id, year)) for p in plan}
    return Fill(values, ratings, narratives, sample=True), plan


def sample_file_name(agency_code: str) -> str:
    return f"{agency_code}.xlsx"


def write_samples(engine: Engine, year: int, out_dir: Path, agencies: list[str] | None = None
                  ) -> list[tuple[Path, list[SampleKpi]]]:
    """Write the sample workbook of every agency (or the given ones) into ``out_dir``."""
    codes = agencies or [a.code for a in engine.catalog.agencies]
    out = []
    for code in codes:
        fill, plan = sample_fill(engine, code, year)
        path = write_template(engine, code, year, out_dir, fill, name=sample_file_name(code))
        out.append((path, plan))
    return out
