"""Frozen records of the catalog: what an agency measures and what it must reach in a year.

Pure data: no file, Excel or CLI code here. ``catalog.py`` builds these from YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from functools import cached_property


class Direction(StrEnum):
    """How an actual value compares with its target."""

    HIGHER = "higher"  # bigger is better: actual ÷ target
    LOWER = "lower"  # smaller is better: target ÷ actual, 100% once actual ≤ target
    STANDARDS = "standards"  # count of listed standards met: met ÷ target
    MILESTONE = "milestone"  # staged work: completed ÷ planned
    BINARY = "binary"  # done (1) or not (0)


@dataclass(frozen=True)
class DomainRule:
    """The bounds an input's values keep, stated once.

    Evaluation, workbook validation and the vectorised panel path all read these fields, so the
    three can never disagree on what a domain allows; each words a breach in its own way.
    """

    minimum: int | None = None  # inclusive
    maximum: int | None = None  # inclusive
    integer: bool = False
    only: tuple[int, ...] = ()  # if set, the only values allowed

    def breach(self, value: Fraction) -> str | None:
        """The first rule ``value`` breaks — ``only``, ``minimum``, ``integer`` or ``maximum`` — or None."""
        if self.only and value not in self.only:
            return "only"
        if self.minimum is not None and value < self.minimum:
            return "minimum"
        if self.integer and value.denominator != 1:
            return "integer"
        if self.maximum is not None and value > self.maximum:
            return "maximum"
        return None


class Domain(StrEnum):
    """What kind of value an input cell accepts."""

    COUNT = "count"  # non-negative integer
    NONNEG = "nonneg"  # non-negative real
    REAL = "real"  # any real
    PERCENT = "percent"  # non-negative, in percent (90 means 90%)
    SCORE = "score"  # points 0-100
    BOOL = "bool"  # 0 = 否, 1 = 是
    RANK = "rank"  # a rank or tier: an integer ≥ 1 (第1級 = 1)

    @property
    def label(self) -> str:
        return {
            "count": "非負整數",
            "nonneg": "非負數值",
            "real": "數值（可為負）",
            "percent": "百分比數值（90 代表 90%）",
            "score": "分數（0-100）",
            "bool": "是（1）／否（0）",
            "rank": "1 以上的整數（名次或級別，第1級填 1）",
        }[self.value]

    @property
    def rule(self) -> DomainRule:
        return _DOMAIN_RULES[self]


_DOMAIN_RULES = {
    Domain.COUNT: DomainRule(minimum=0, integer=True),
    Domain.NONNEG: DomainRule(minimum=0),
    Domain.REAL: DomainRule(),
    Domain.PERCENT: DomainRule(minimum=0),
    Domain.SCORE: DomainRule(minimum=0, maximum=100),
    Domain.BOOL: DomainRule(only=(0, 1)),
    Domain.RANK: DomainRule(minimum=1, integer=True),
}


DIRECTION_LABELS = {
    Direction.HIGHER: "越高越好",
    Direction.LOWER: "越低越好",
    Direction.STANDARDS: "達成標準項數",
    Direction.MILESTONE: "里程碑／階段",
    Direction.BINARY: "是否完成",
}


@dataclass(frozen=True)
class Input:
    """A named value a ministry types into its workbook."""

    symbol: str
    label: str
    unit: str
    domain: Domain


@dataclass(frozen=True)
class Param:
    """A year-specific constant of a formula (a sub-item target, a weight, a threshold)."""

    symbol: str
    label: str
    unit: str = ""


@dataclass(frozen=True)
class Definition:
    """An intermediate value (I1, I2 …) computed before the formula, named in messages."""

    symbol: str
    label: str
    expr: str


@dataclass(frozen=True)
class TestCase:
    """Inputs → expected actual value, worked out by hand from the seed's text."""

    inputs: dict[str, Fraction]
    expected: Fraction | None = None
    expected_error: str | None = None
    places: int | None = None
    why: str = ""


@dataclass(frozen=True)
class Kpi:
    """One row of an agency's 年度關鍵績效指標 table."""

    id: str
    agency: str
    agency_code: str
    goal_no: int
    goal: str
    kpi_no: int
    name: str
    system: int  # 評估體制
    method: str  # 評估方式
    related: str  # 與中長程個案計畫關聯
    direction: Direction
    unit: str
    inputs: tuple[Input, ...]
    params: tuple[Param, ...]
    definitions: tuple[Definition, ...]
    formula: str
    page: str
    standard: str  # 衡量標準, verbatim
    note: str | None = None
    tests: tuple[TestCase, ...] = ()
    shared: str | None = None
    review_required: bool = False
    source_file: str = ""

    # Derived once per KPI (the record is frozen): scoring asks for these for every KPI and value.

    @cached_property
    def input_symbols(self) -> tuple[str, ...]:
        return tuple(i.symbol for i in self.inputs)

    @cached_property
    def _inputs_by_symbol(self) -> dict[str, Input]:
        index: dict[str, Input] = {}
        for i in self.inputs:
            index.setdefault(i.symbol, i)  # the first, as a scan would find
        return index

    def input(self, symbol: str) -> Input | None:
        return self._inputs_by_symbol.get(symbol)

    @cached_property
    def formula_key(self) -> tuple:
        """What the KPI's compiled formulas depend on: formula, definitions, declared inputs and params."""
        return (self.formula, tuple((d.symbol, d.expr) for d in self.definitions), self.input_symbols,
                tuple(p.symbol for p in self.params))


@dataclass(frozen=True)
class Component:
    """A readable sub-item of a composite target (label, target text, weight text)."""

    label: str
    target: str = ""
    weight: str = ""


@dataclass(frozen=True)
class Stage:
    """A planned stage of a milestone KPI, ticked by the agency when complete."""

    symbol: str
    text: str
    value: Fraction | None = None


@dataclass(frozen=True)
class Target:
    """What a KPI must reach in one year."""

    kpi_id: str
    year: int
    text: str  # 年度目標值 exactly as printed
    value: Fraction
    unit: str
    comparator: str  # ">=", "<=", "="
    params: dict[str, Fraction] = field(default_factory=dict)
    components: tuple[Component, ...] = ()
    stages: tuple[Stage, ...] = ()
    past: dict[int, Fraction] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True)
class Agency:
    name: str
    code: str
    chapter: int
    goals: dict[int, str]


@dataclass(frozen=True)
class Catalog:
    """Every agency, KPI and (per year) target, in plan order."""

    agencies: tuple[Agency, ...]
    kpis: tuple[Kpi, ...]
    targets: dict[int, dict[str, Target]]  # year → kpi id → target

    def agency(self, key: str) -> Agency | None:
        """Find an agency by code or Chinese name."""
        return self._agency_index.get(key)

    def kpi(self, kpi_id: str) -> Kpi | None:
        return self._kpi_index.get(kpi_id)

    def kpis_of(self, agency_key: str | None) -> tuple[Kpi, ...]:
        if agency_key is None:
            return self.kpis
        agency = self.agency(agency_key)
        if agency is None:
            return ()
        return self._kpis_by_agency.get(agency.code, ())

    # Indexes, built on first use (the catalog is frozen): lookups stay O(1) at 10⁴–10⁵ KPIs
    # instead of scanning the catalog per call. Each keeps the first match in plan order.

    @cached_property
    def _agency_index(self) -> dict[str, Agency]:
        index: dict[str, Agency] = {}
        for a in self.agencies:
            index.setdefault(a.code, a)
            index.setdefault(a.name, a)
        return index

    @cached_property
    def _kpi_index(self) -> dict[str, Kpi]:
        index: dict[str, Kpi] = {}
        for k in self.kpis:
            index.setdefault(k.id, k)
        return index

    @cached_property
    def _kpis_by_agency(self) -> dict[str, tuple[Kpi, ...]]:
        groups: dict[str, list[Kpi]] = {}
        for k in self.kpis:
            groups.setdefault(k.agency_code, []).append(k)
        return {code: tuple(ks) for code, ks in groups.items()}

    def target(self, kpi_id: str, year: int) -> Target | None:
        return self.targets.get(year, {}).get(kpi_id)

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self.targets))
