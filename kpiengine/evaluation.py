"""One KPI's actual value from its named inputs: a value, or a named state with its reasons.

Pure: takes a Kpi, the year's parameter values and the input values; returns an Evaluation.
No state here is ever turned into 0 or NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from .formula import CompiledFormula, FormulaError, MissingValue, Undefined, compile_formula, evaluate, growth
from .messages import Problem, problem
from .model import Domain, Input, Kpi


class State(StrEnum):
    """Where a KPI stands. Only SCORED carries a light."""

    SCORED = "scored"
    NO_DATA = "no_data"  # nothing submitted for this KPI
    INCOMPLETE = "incomplete"  # some inputs missing
    INVALID = "invalid"  # an input breaks its domain
    UNDEFINED = "undefined"  # cannot compute: a denominator is 0
    NO_TARGET = "no_target"  # no target for the year
    AWAITING_REVIEW = "awaiting_review"  # needs 國發會's 複核 before it can be lit
    NOT_SUBMITTED = "not_submitted"  # 未繳交: the agency has handed in nothing for the year

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    State.SCORED: "已計分",
    State.NO_DATA: "無資料",
    State.INCOMPLETE: "資料不完整",
    State.INVALID: "資料不合規定",
    State.UNDEFINED: "無法計算",
    State.NO_TARGET: "無目標值",
    State.AWAITING_REVIEW: "待複核",
    State.NOT_SUBMITTED: "未繳交",
}


@dataclass(frozen=True)
class CompiledKpi:
    kpi_id: str
    definitions: tuple[tuple[str, CompiledFormula], ...]
    formula: CompiledFormula


Parts = tuple[tuple[tuple[str, CompiledFormula], ...], CompiledFormula]  # (definitions, formula)

_CACHE: dict[tuple, CompiledKpi] = {}  # full key (with the KPI id) → compiled KPI
_PARTS: dict[tuple, Parts] = {}  # content key (no id) → compiled parts, shared by KPIs with the same formulas


def content_key(kpi: Kpi) -> tuple:
    """What a KPI's compiled formulas depend on: formula, definitions, declared inputs and params."""
    return kpi.formula_key


def compile_kpi(kpi: Kpi) -> CompiledKpi:
    """Gate and build a KPI's definitions and formula (cached). Raises FormulaError naming the KPI."""
    key = (kpi.id, *kpi.formula_key)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    parts = _PARTS.get(key[1:])
    if parts is None:
        names = set(kpi.input_symbols) | {p.symbol for p in kpi.params}
        definitions = []
        growth_of: dict[str, int] = {}  # a definition's growth carries into the formulas that use it
        try:
            for d in kpi.definitions:
                compiled_d = compile_formula(d.expr, names, growth_of)
                definitions.append((d.symbol, compiled_d))
                growth_of[d.symbol] = growth(compiled_d.expr, growth_of)
                names.add(d.symbol)
            formula = compile_formula(kpi.formula, names, growth_of)
        except FormulaError as exc:
            raise FormulaError(f"指標 {kpi.id}：{exc}") from None
        parts = _PARTS[key[1:]] = (tuple(definitions), formula)
    compiled = CompiledKpi(kpi.id, *parts)
    _CACHE[key] = compiled
    return compiled


def compiled_parts(keys) -> dict[tuple, Parts]:
    """The compiled parts held in memory for these content keys (for the on-disk cache)."""
    return {k: _PARTS[k] for k in keys if k in _PARTS}


def remember_parts(parts: Mapping[tuple, Parts]) -> None:
    """Make compiled parts known (from the on-disk cache), so ``compile_kpi`` needs no sympy for them."""
    for k, v in parts.items():
        _PARTS.setdefault(k, v)


_BREACH_TEXT = {"minimum": "不可為負數", "integer": "須為整數", "maximum": "分數不可超過 100",
                "only": "只能填 1（是）或 0（否）"}


def domain_problem(inp: Input, value: Fraction) -> str | None:
    """Why ``value`` is not allowed for ``inp`` (Chinese), or None; the rule itself is ``Domain.rule``."""
    breach = inp.domain.rule.breach(value)
    if breach is None:
        return None
    if inp.domain is Domain.RANK:  # below 1 or not whole: one message says both
        return "須為 1 以上的整數（名次或級別）"
    return _BREACH_TEXT[breach]


@dataclass(frozen=True)
class Evaluation:
    kpi_id: str
    state: State
    value: Fraction | None = None
    intermediates: dict[str, Fraction] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    zero_denominator_inputs: tuple[str, ...] = ()  # UNDEFINED: the inputs behind the 0 denominator


def evaluate_kpi(kpi: Kpi, inputs: Mapping[str, Fraction | None], params: Mapping[str, Fraction] | None = None) -> Evaluation:
    """Compute the actual value of ``kpi``. Missing inputs and bad values are states, not zeros."""
    loc = {"kpi": kpi.id}
    given = {s: v for s, v in inputs.items() if v is not None}
    unknown = [s for s in given if kpi.input(s) is None]
    if unknown:
        return Evaluation(kpi.id, State.INVALID, problems=tuple(
            problem("input-unknown", loc, kpi_id=kpi.id, symbol=s, symbols="、".join(kpi.input_symbols)) for s in unknown))
    if not given and kpi.inputs:
        return Evaluation(kpi.id, State.NO_DATA)
    bad = []
    for inp in kpi.inputs:
        if inp.symbol in given:
            detail = domain_problem(inp, given[inp.symbol])
            if detail:
                bad.append(problem("input-invalid", {**loc, "symbol": inp.symbol}, label=inp.label,
                                   value=given[inp.symbol], detail=detail))
    if bad:
        return Evaluation(kpi.id, State.INVALID, problems=tuple(bad))
    missing = [i for i in kpi.inputs if i.symbol not in given]
    try:
        compiled = compile_kpi(kpi)
    except FormulaError as exc:  # a catalog formula `kpi check` refuses: this KPI cannot be computed, the rest can
        return Evaluation(kpi.id, State.INVALID, problems=(problem("formula-rejected", loc, detail=str(exc)),))
    needed = set(compiled.formula.symbols).union(*(f.symbols for _, f in compiled.definitions))
    missing = [i for i in missing if i.symbol in needed]
    if missing:
        return Evaluation(kpi.id, State.INCOMPLETE, problems=(
            problem("input-missing", loc, labels="、".join(f"{i.label}（{i.symbol}）" for i in missing)),))
    values: dict[str, Fraction] = {**(params or {}), **given}
    intermediates: dict[str, Fraction] = {}
    try:
        for symbol, f in compiled.definitions:
            values[symbol] = intermediates[symbol] = evaluate(f.program, values)
        value = evaluate(compiled.formula.program, values)
    except Undefined as exc:
        return Evaluation(kpi.id, State.UNDEFINED, intermediates=intermediates, problems=(
            problem("division-by-zero", loc, denominator=_label_expression(kpi, exc.denominator)),),
            zero_denominator_inputs=_inputs_behind(kpi, compiled, exc.symbols))
    except MissingValue as exc:  # a param without a value for the year
        return Evaluation(kpi.id, State.NO_TARGET, problems=(
            problem("target-param-missing", loc, year="本", symbol=exc.symbol),))
    return Evaluation(kpi.id, State.SCORED, value=value, intermediates=intermediates)


def _inputs_behind(kpi: Kpi, compiled: CompiledKpi, symbols: tuple[str, ...]) -> tuple[str, ...]:
    """The inputs behind these symbols, looking through definitions (I1 → effective, closed)."""
    definitions = {symbol: f.symbols for symbol, f in compiled.definitions}
    pending = list(symbols)
    found: set[str] = set()
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        pending.extend(definitions.get(name, ()))
    return tuple(s for s in kpi.input_symbols if s in found)


def _label_expression(kpi: Kpi, text: str) -> str:
    """Name a denominator the way a clerk would: '資本門預算數（cap_budget）'."""
    labels = {i.symbol: i.label for i in kpi.inputs} | {d.symbol: d.label for d in kpi.definitions}
    if text in labels:
        return f"{labels[text]}（{text}）"
    return text
