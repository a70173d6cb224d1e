"""Deterministic sample panels (範例資料) for tests, benchmarks and demonstrations of ``kpi score --panel``.

Each row is a made-up reporting unit. Per KPI it starts from the values of the shipped sample
workbooks (which hit targets and band edges exactly: the hard cases for floats) or the KPI's
hand-worked test case, then, depending on the row, keeps them, scales them by a factor between
0.80 and 1.20, rounds them the way a clerk types them, or breaks them on purpose: a zero
denominator, a missing input, a negative count, nothing at all. No randomness across runs.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from .model import Domain, Kpi

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from .engine import AgencyInputs, Engine

# what a row does to a KPI's base values, drawn 0 … 19 per row and KPI
KEEP, BLANK, HALF_BLANK, ZERO, NEGATIVE = 0, 1, 2, 3, 4  # 5 … 19: each input scaled by 0.80 … 1.20


def base_values(engine: Engine, sample: list[AgencyInputs] | None = None) -> dict[str, dict[str, Fraction]]:
    """Per KPI id, a complete set of plausible inputs: from the sample workbooks, else the first test case."""
    out: dict[str, dict[str, Fraction]] = {}
    for inputs in sample or []:
        for kpi_id, values in inputs.values.items():
            if values and all(v is not None for v in values.values()):
                out[kpi_id] = dict(values)
    for kpi in engine.catalog.kpis:
        if kpi.id not in out:
            case = next((c for c in kpi.tests if not c.expected_error), None)
            if case is not None:
                out[kpi.id] = {s: v for s, v in case.inputs.items() if s in kpi.input_symbols}
    return out


def kpi_block(kpi: Kpi, base: dict[str, Fraction], rows: int, seed: int, index: int,
              edges: bool = True) -> dict[str, np.ndarray]:
    """One KPI's input columns for ``rows`` units (NaN = not given), from numpy's seeded generator.

    ``edges=False``: every value scaled (no kept sample values, no blanks, zeros or negatives) —
    what a realistic panel looks like, rather than one built to hit the hard cases."""
    import numpy as np

    rng = np.random.default_rng([seed, index])
    symbols = list(kpi.input_symbols)
    if not symbols:
        return {}
    mode = rng.integers(0 if edges else 5, 20, rows)
    pick = rng.integers(0, len(symbols), rows)
    factors = rng.uniform(0.8, 1.2, (rows, len(symbols)))
    out = {}
    for j, s in enumerate(symbols):
        b = float(base.get(s, 0))
        v = b * factors[:, j]
        domain = kpi.input(s).domain
        if domain in (Domain.COUNT, Domain.BOOL):
            v = np.round(v)
        else:
            v = np.where(np.abs(v) < 1e6, np.round(v, 1), np.round(v))
        if domain is Domain.BOOL:
            v = np.clip(v, 0, 1)
        if domain in (Domain.PERCENT, Domain.SCORE):
            v = np.minimum(v, 100.0)
        v[mode == KEEP] = b
        v[mode == BLANK] = np.nan
        v[(mode == HALF_BLANK) & (pick == j)] = np.nan
        v[mode == ZERO] = 0.0
        neg = (mode == NEGATIVE) & (pick == j)
        v[neg] = -abs(b) - 1
        out[f"{kpi.id}:{s}"] = v
    return out


def sample_panel(engine: Engine, rows: int, seed: int = 0, kpis: list[Kpi] | None = None,
                 sample: list[AgencyInputs] | None = None, edges: bool = True) -> pd.DataFrame:
    """A panel of ``rows`` units × the KPIs (default: every KPI with base values), columns ``<kpi>:<symbol>``.

    ``edges=False`` leaves out the deliberate hard cases (see ``kpi_block``)."""
    import numpy as np
    import pandas as pd

    bases = base_values(engine, sample)
    columns: dict[str, np.ndarray] = {"unit": np.array([f"單位{r + 1:06d}" for r in range(rows)], dtype=object)}
    for index, kpi in enumerate(kpis or engine.catalog.kpis):
        if kpi.id in bases:
            columns.update(kpi_block(kpi, bases[kpi.id], rows, seed, index, edges))
    return pd.DataFrame(columns)
