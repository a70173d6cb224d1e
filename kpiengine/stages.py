"""Stage KPIs, recognised from their formula: a later stage counts only after every earlier one.

The README's "Stage KPIs" rule is written into those formulas (``25·s1 + 50·s1·s2 + 25·s1·s2·s3``),
so no catalog flag is needed: a KPI follows the rule exactly when every one of its inputs is a
是／否 stage, its value climbs with each stage done in order, and any stage ticked after a gap
changes nothing. That is checked here by evaluating every combination (at most 2¹⁰), once per
KPI. Validation uses it to tell a clerk that a ticked stage will not count, before it costs a light.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from itertools import product

from .evaluation import State, evaluate_kpi
from .model import Domain, Kpi

MAX_STAGES = 10
_ORDERED: dict[tuple[str, str, tuple], tuple[str, ...] | None] = {}


def ordered_stages(kpi: Kpi, params: Mapping[str, Fraction] | None = None) -> tuple[str, ...] | None:
    """The KPI's stage symbols in order if it follows the stage rule, else None."""
    key = (kpi.id, kpi.formula, tuple(sorted((params or {}).items())))
    if key not in _ORDERED:
        _ORDERED[key] = _find_ordered(kpi, params or {})
    return _ORDERED[key]


def _find_ordered(kpi: Kpi, params: Mapping[str, Fraction]) -> tuple[str, ...] | None:
    symbols = kpi.input_symbols
    if not 2 <= len(symbols) <= MAX_STAGES or any(i.domain is not Domain.BOOL for i in kpi.inputs):
        return None

    def value(ticks: tuple[int, ...]) -> Fraction | None:
        ev = evaluate_kpi(kpi, {s: Fraction(t) for s, t in zip(symbols, ticks, strict=True)}, params)
        return ev.value if ev.state is State.SCORED else None

    chain = [value((1,) * k + (0,) * (len(symbols) - k)) for k in range(len(symbols) + 1)]
    if any(v is None for v in chain) or any(a >= b for a, b in zip(chain, chain[1:], strict=False)):
        return None  # each stage done in order must add progress
    for ticks in product((0, 1), repeat=len(symbols)):
        done = _in_order(ticks)
        if value(ticks) != chain[done]:
            return None
    return symbols


def _in_order(ticks: tuple[int, ...]) -> int:
    """How many stages are done in order (up to the first one not done)."""
    n = 0
    for t in ticks:
        if not t:
            break
        n += 1
    return n


def uncounted_stages(kpi: Kpi, values: Mapping[str, Fraction | None],
                     params: Mapping[str, Fraction] | None = None) -> tuple[str, list[str]] | None:
    """For a stage KPI with a stage ticked after a gap: (first stage not done, the ticked stages that will not count)."""
    stages = ordered_stages(kpi, params)
    if stages is None or any(values.get(s) not in (0, 1) for s in stages):
        return None
    ticks = tuple(int(values[s]) for s in stages)
    done = _in_order(ticks)
    later = [s for s, t in zip(stages[done + 1:], ticks[done + 1:], strict=True) if t]
    return (stages[done], later) if later else None
