"""The panel path: every KPI for many reporting units (or months) at once, vectorised, agreeing with the exact path.

A panel is a DataFrame with one row per reporting unit or period and one column per input,
named ``<kpi_id>:<symbol>`` (``moj.8.1:effective``); NaN means "not given". Other columns (a unit
name, a month) are carried through. ``score_frame`` computes, per row and KPI, the actual value,
達成度 (capped and raw) and light with numpy, from the same checked formulas (lambdify of the
sympy tree the gate built, targets' params filled in exactly) in one pass per KPI.

Floats are not fractions, so every cell where float arithmetic could decide differently from the
exact path is decided exactly — wherever a value lands within ``TOLERANCE`` of a band edge, of
the target, of a condition's threshold, of a zero denominator, or of a rounding half-point of a
displayed digit. Exactly means: by int64 rationals over the same compiled program, whole columns
at once (``panel_exact``), and where those cannot be sure (an input that is not a short decimal, a
number beyond int64), by the exact path itself (``Engine.score_one``), once per distinct row of
inputs. Numbers come back already rounded half-up to the policy's places, so each equals the
``kpi score --format json`` field of the exact path. Rows are scored in chunks of ``CHUNK_ROWS``.
Official scores stay on the exact path; this is for analysis over many units.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .evaluation import State, compile_kpi
from .formula import FormulaError
from .model import Direction, Domain, Kpi
from .numbers import parse_exact, to_decimal
from .panel_exact import Rationals, Unsupported
from .scoring import Light, Policy, Score

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from .engine import Engine

TOLERANCE = 1e-9  # relative: how close to an edge a float may land before the exact path decides
ROUNDING_TOLERANCE = 1e-12  # relative, for the half-point of the last displayed digit
COLUMN = re.compile(r"^(?P<kpi>[a-z][a-z0-9_]*\.\d+\.\d+):(?P<symbol>[A-Za-z_][A-Za-z0-9_]*)$")
FIELDS = ("actual", "achievement", "achievement_raw", "light", "status")
LIGHTS = tuple(light.value for light in Light)
STATES = tuple(state.value for state in State)


class PanelError(ValueError):
    """A panel that cannot be scored (message in Chinese)."""


@dataclass
class PanelStats:
    """What one ``score_frame`` call did: cells scored, and how many the exact path decided."""

    rows: int = 0
    kpis: int = 0
    cells: int = 0
    exact_cells: int = 0  # cells near an edge, decided exactly (int64 rationals, else Fractions)
    fraction_cells: int = 0  # of those, cells the Fraction path (Engine.score_one) decided
    fraction_evaluations: int = 0  # Engine.score_one calls (distinct rows of inputs per KPI)


CHUNK_ROWS = 65_536  # rows scored together: temporaries stay bounded (~30 MB), numpy's per-call cost amortised


def score_frame(df: pd.DataFrame, year: int, engine: Engine | None = None, stats: PanelStats | None = None
                ) -> pd.DataFrame:
    """Score every KPI that has at least one input column in ``df``, for every row.

    Returns a DataFrame with ``df``'s index, its non-input columns, and per KPI the columns
    ``<kpi_id>:actual``, ``:achievement``, ``:achievement_raw`` (floats rounded half-up for display,
    NaN where there is none), ``:light`` (green/yellow/red/white or missing) and ``:status`` (the
    state, as in ``kpi score``'s JSON).
    """
    import numpy as np
    import pandas as pd

    if engine is None:
        from .engine import Engine

        engine = Engine.load()
    if year not in engine.catalog.years:
        raise PanelError(f"指標目錄沒有 {year} 年度的目標值")
    repeated = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if repeated:
        raise PanelError(f"欄位重複：{'、'.join(repeated[:5])}（每個欄名只能出現一次）")
    columns = _input_columns(df, engine)
    stats = stats if stats is not None else PanelStats()
    n = len(df)
    values = {col: _floats(df[col], col) for col in columns["all"]}
    bands = _Bands(engine.policy(year))
    plans = [_Plan(kpi, year, engine, bands, columns["by_kpi"][kpi.id])
             for kpi in engine.catalog.kpis if kpi.id in columns["by_kpi"]]
    numbers = np.full((3 * len(plans), n), np.nan)  # per KPI: actual, achievement, achievement_raw
    codes = np.full((2 * len(plans), n), -1, dtype=np.int8)  # per KPI: light, status
    codes[1::2] = _code(STATES, State.NO_DATA)
    results = [_Result(numbers[3 * i], numbers[3 * i + 1], numbers[3 * i + 2], codes[2 * i], codes[2 * i + 1])
               for i in range(len(plans))]
    own = [PanelStats() for _ in plans]  # one per KPI: threads never share a counter

    def score_kpi(i: int) -> None:
        plan, res = plans[i], results[i]
        for start in range(0, n, CHUNK_ROWS):
            rows = slice(start, min(n, start + CHUNK_ROWS))
            plan.score({sym: values[col][rows] for sym, col in plan.columns.items()}, res.part(rows), own[i])

    workers = _workers(n, len(plans))
    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kpi-panel") as pool:
            list(pool.map(score_kpi, range(len(plans))))  # list(): an exception in a KPI is raised here
    else:
        for i in range(len(plans)):
            score_kpi(i)
    for o in own:
        stats.exact_cells += o.exact_cells
        stats.fraction_cells += o.fraction_cells
        stats.fraction_evaluations += o.fraction_evaluations
    stats.rows, stats.kpis = n, stats.kpis + len(plans)
    stats.cells += n * len(plans)
    carried = [c for c in df.columns if c not in columns["all"]]
    scored = _frame(plans, numbers, codes, df.index)
    return pd.concat([df[carried], scored], axis=1) if carried else scored


PARALLEL_FROM_ROWS = 50_000  # measured: on fewer rows the threads' hand-offs cost more than they save


def _workers(rows: int, kpis: int) -> int:
    """Threads for scoring: KPIs are independent (each writes its own columns) and numpy releases the GIL
    in its array passes, so the machine's cores share the KPIs. ``KPI_PANEL_THREADS`` (≥ 1) overrides."""
    import os

    if rows < PARALLEL_FROM_ROWS or kpis < 2:
        return 1
    raw = os.environ.get("KPI_PANEL_THREADS", "").strip()
    if raw.isdigit() and 1 <= int(raw) <= 64:
        return min(int(raw), kpis)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, kpis, 8))


def _frame(plans: list[_Plan], numbers: np.ndarray, codes: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """The scored columns, in KPI order (actual, achievement, achievement_raw, light, status each).

    Built from the arrays as they are (one block of floats, a categorical per light/status column)
    instead of ``pd.DataFrame(dict)``, which would copy every number once more: at 100,000 units ×
    470 KPIs that copy is 1.1 GB and a quarter of the time.
    """
    import numpy as np
    import pandas as pd

    dtypes = {"light": pd.CategoricalDtype(LIGHTS), "status": pd.CategoricalDtype(STATES)}
    names = pd.Index([f"{plan.kpi.id}:{f}" for plan in plans for f in FIELDS])
    k = len(FIELDS)
    categoricals = [(pd.Categorical.from_codes(codes[2 * i + j], dtype=dtypes[f]), i * k + 3 + j)
                    for i in range(len(plans)) for j, f in enumerate(("light", "status"))]
    try:
        from pandas.api.internals import create_dataframe_from_blocks
    except ImportError:  # pandas < 3: the ordinary constructor (one copy more)
        out = {names[i * k + j]: numbers[3 * i + j] for i in range(len(plans)) for j in range(3)}
        out.update({names[place]: cat for cat, place in categoricals})
        return pd.DataFrame({name: out[name] for name in names}, index=index)
    placement = np.array([i * k + j for i in range(len(plans)) for j in range(3)], dtype=np.intp)
    blocks = [(numbers, placement)] + [(cat, np.array([place], dtype=np.intp)) for cat, place in categoricals]
    return create_dataframe_from_blocks(blocks, index=index, columns=names)


def _input_columns(df: pd.DataFrame, engine: Engine) -> dict[str, Any]:
    by_kpi: dict[str, dict[str, str]] = {}
    unknown: list[str] = []
    for col in df.columns:
        m = COLUMN.match(str(col))
        if not m:
            continue
        kpi = engine.catalog.kpi(m["kpi"])
        if kpi is None:
            unknown.append(str(col))
            continue
        if kpi.input(m["symbol"]) is None:  # a typo would only leave the KPI incomplete: say which column
            raise PanelError(f"欄位「{col}」：指標 {kpi.id} 沒有輸入項「{m['symbol']}」"
                             f"（可用：{'、'.join(kpi.input_symbols)}）")
        by_kpi.setdefault(m["kpi"], {})[m["symbol"]] = col
    if unknown:
        shown = "、".join(unknown[:5]) + ("…" if len(unknown) > 5 else "")
        raise PanelError(f"找不到這些欄位的指標（欄名應為 指標代碼:代號，如 moj.8.1:effective）：{shown}")
    if not by_kpi:
        raise PanelError("面板沒有任何指標欄位（欄名應為 指標代碼:代號，如 moj.8.1:effective）")
    return {"by_kpi": by_kpi, "all": {c for cols in by_kpi.values() for c in cols.values()}}


def _floats(series: pd.Series, name: str) -> np.ndarray:
    """A column as float64 (a view when it already is one), refused in Chinese unless every value is a bounded number."""
    import numpy as np
    import pandas as pd

    not_numbers = PanelError(f"欄位「{name}」含非數字的值（只接受數字，空白代表未填）")
    too_wide = PanelError(f"欄位「{name}」有超過 15 位數的整數：面板以浮點數計算，無法照原值保存，"
                          "請改以填報表（kpi submit）填報這些數值")
    if series.dtype.kind == "f" and series.dtype.itemsize == 8 and not isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
        values = series.to_numpy()
    else:
        if series.dtype.kind in "bmMcSUV":  # true/false, dates, durations, complex, bytes: not numbers typed
            raise not_numbers
        try:
            numeric = pd.to_numeric(series, errors="raise")
        except (ValueError, TypeError, OverflowError):
            text = series.dropna().astype(str).str.strip()
            if len(text) and text.str.fullmatch(r"[+-]?\d+").all():  # integers too wide for pandas: still numbers
                raise too_wide from None
            raise not_numbers from None
        if numeric.dtype.kind == "O" and all(type(v) is int for v in numeric.dropna()):
            raise too_wide  # pandas keeps integers wider than 64 bits as Python ints
        if numeric.dtype.kind not in "iuf":  # an object column of True/False stays bool
            raise not_numbers
        if numeric.dtype.kind in "iu" and (numeric.abs() > 2**53).any():  # a float would not hold it exactly
            raise too_wide
        values = numeric.to_numpy(dtype=float, na_value=np.nan)
    size = np.abs(values)
    if np.isinf(size).any():
        raise PanelError(f"欄位「{name}」含無限大的值")
    if (size >= 1e30).any() or ((size < 1e-30) & (size > 0)).any():  # the bounds of numbers.parse_exact
        raise PanelError(f"欄位「{name}」含超過 10 的 ±30 次方的值")
    return values


@dataclass
class _Result:
    actual: np.ndarray
    achievement: np.ndarray
    achievement_raw: np.ndarray
    light: np.ndarray  # codes into LIGHTS, -1 = none
    status: np.ndarray  # codes into STATES

    def part(self, rows: slice) -> _Result:
        """The same arrays for some rows (views: writing into the part writes into the whole)."""
        return _Result(*(getattr(self, f)[rows] for f in FIELDS))

    def put(self, idx: np.ndarray, cells: tuple) -> None:
        for f, v in zip(FIELDS, cells, strict=True):
            getattr(self, f)[idx] = v


def _code(values: tuple[str, ...], v: str) -> int:
    return values.index(v)


class _Plan:
    """One KPI prepared once per ``score_frame`` call: its columns, checks, target and programs."""

    def __init__(self, kpi: Kpi, year: int, engine: Engine, bands: _Bands, columns: dict[str, str]):
        self.kpi, self.year, self.engine, self.columns = kpi, year, engine, columns
        self.bands, self.policy = bands, bands.policy
        self.target = engine.catalog.target(kpi.id, year)
        declared = set(kpi.input_symbols)
        self.unknown = [s for s in columns if s not in declared]
        self.domains = [(inp.symbol, inp.domain.value) for inp in kpi.inputs if inp.symbol in columns]
        try:
            self.compiled = compile_kpi(kpi)
        except FormulaError:
            self.compiled = None
        self.needed = set() if self.compiled is None else set(self.compiled.formula.symbols).union(
            *(f.symbols for _, f in self.compiled.definitions)) & declared
        self.program = None
        if self.compiled is not None and self.target is not None and \
                {p.symbol for p in kpi.params} <= set(self.target.params):
            self.program = _program(kpi, self.compiled, self.target)
        self.memo: dict[tuple, tuple] = {}  # the exact path's cells, per distinct row of inputs

    def score(self, given: dict[str, np.ndarray], res: _Result, stats: PanelStats) -> None:
        """Score these rows: states and checks vectorised, then floats, then exact where floats cannot decide."""
        import numpy as np

        n = len(res.status)
        missing = {s: np.isnan(v) for s, v in given.items()}
        none_given = _all([missing[s] for s in given], n)
        unknown = ~_all([missing[s] for s in self.unknown], n)
        bad = _any([_domain_bad(domain, given[symbol]) for symbol, domain in self.domains], n)
        invalid = unknown | (bad & ~none_given)
        complete = ~invalid & ~_any([missing.get(s, True) for s in self.needed], n)
        if self.kpi.inputs:
            complete &= ~none_given
            incomplete = ~invalid & ~none_given & ~complete
        else:
            incomplete = ~invalid & ~complete
        if invalid.any():
            np.copyto(res.status, _code(STATES, State.INVALID), where=invalid)
        if incomplete.any():
            np.copyto(res.status, _code(STATES, State.INCOMPLETE), where=incomplete)
        if self.target is None:  # no target: every row is NO_TARGET whatever it holds; the exact path says so
            stats.exact_cells += n
            self._fraction(given, np.arange(n), res, stats)
            return
        if self.program is None:
            doubt = np.flatnonzero(complete)
        else:
            doubt = _vectorised(self.kpi, self.program, self.target, self.bands, given, complete, res)
        stats.exact_cells += doubt.size
        left = self._rational(given, doubt, res)
        self._fraction(given, left, res, stats)

    def _rational(self, given: dict[str, np.ndarray], idx: np.ndarray, res: _Result) -> np.ndarray:
        """Decide these rows with exact int64 rationals (``panel_exact``); returns the rows it could not."""
        if idx.size == 0 or self.program is None:
            return idx
        r = Rationals(idx.size)
        try:
            env = {k: r.constant(v) for k, v in self.target.params.items()}
            env.update({s: r.decimal(given[s][idx]) for s in self.needed})
            actual = r.kpi_value(self.compiled.definitions, self.compiled.formula, env)
            cells = _score_rationals(r, actual, self.kpi, self.target.value, self.policy)
        except Unsupported:
            return idx
        ok = r.ok
        res.put(idx[ok], tuple(c[ok] for c in cells))
        return idx[~ok]

    def _fraction(self, given: dict[str, np.ndarray], idx: np.ndarray, res: _Result, stats: PanelStats) -> None:
        """The exact path itself (``Engine.score_one``), once per distinct row of inputs (a unit that
        reported exactly its target every month, a column of zeros)."""
        import numpy as np

        if idx.size == 0:
            return
        stats.fraction_cells += idx.size
        symbols = list(given)
        block = np.column_stack([given[s][idx] for s in symbols]) if symbols else np.zeros((idx.size, 0))
        block = np.where(np.isnan(block), np.inf, block)  # inf never occurs in a panel (refused): "not given"
        cells = []
        for key in map(tuple, block.tolist()):
            cell = self.memo.get(key)
            if cell is None:
                inputs = {s: parse_exact(v) for s, v in zip(symbols, key, strict=True) if v != math.inf}
                cell = self.memo[key] = _cells(self.engine.score_one(self.kpi, self.year, inputs), self.policy.places)
                stats.fraction_evaluations += 1
            cells.append(cell)
        res.put(idx, tuple(np.array(c) for c in zip(*cells, strict=True)))


def _any(masks: list, n: int) -> np.ndarray:
    """Row by row: any of these masks (a mask may be the constant True)."""
    import numpy as np

    out = np.zeros(n, dtype=bool)
    for m in masks:
        out |= m
    return out


def _all(masks: list, n: int) -> np.ndarray:
    import numpy as np

    out = np.ones(n, dtype=bool)
    for m in masks:
        out &= m
    return out


def _domain_bad(domain: str, x: np.ndarray) -> np.ndarray:
    """``Domain.rule`` on a column (a float is integral iff its decimal is), as evaluation and validation read it.

    NaN (not given) is never bad: every comparison with NaN is false (hence floor(x) < x, not x != floor(x)).
    """
    import numpy as np

    rule = Domain(domain).rule
    bad = np.zeros(x.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        if rule.only:  # NaN is in no list but is not bad: test "strictly between or outside" the allowed values
            allowed = sorted(rule.only)
            outside = (x < allowed[0]) | (x > allowed[-1])
            between = np.zeros(x.shape, dtype=bool)
            for low, high in zip(allowed, allowed[1:], strict=False):
                between |= (x > low) & (x < high)
            bad |= outside | between
        if rule.minimum is not None:
            bad |= x < rule.minimum
        if rule.integer:
            bad |= np.floor(x) < x
        if rule.maximum is not None:
            bad |= x > rule.maximum
    return bad


class _Program:
    """One KPI's lambdified checks: the value, every denominator and every condition, in one function."""

    def __init__(self, kpi: Kpi, compiled, target):
        import sympy as sp

        expr = compiled.formula.expr
        for symbol, f in reversed(compiled.definitions):
            expr = expr.xreplace({sp.Symbol(symbol): f.expr})
        params = {sp.Symbol(k): sp.Rational(v.numerator, v.denominator) for k, v in target.params.items()}
        expr = expr.xreplace(params)
        self.symbols = sorted(s.name for s in expr.free_symbols)
        dens = sorted({p.base for p in expr.atoms(sp.Pow) if p.exp.is_negative}, key=str)
        rels = sorted(expr.atoms(sp.core.relational.Relational), key=str)
        pieces = [expr, *dens, *(r.lhs - r.rhs for r in rels)]
        # integer arithmetic only (no division, no fraction): on integer inputs the float result is exact
        self.integral = not dens and all(n.is_integer for n in expr.atoms(sp.Rational))
        self.count = len(pieces)
        self.fn = sp.lambdify([sp.Symbol(s) for s in self.symbols], pieces, modules="numpy")


_PROGRAMS: dict[tuple, _Program] = {}


def _program(kpi: Kpi, compiled, target) -> _Program:
    key = (compiled.formula.text, tuple((s, f.text) for s, f in compiled.definitions),
           tuple(sorted(target.params.items())))
    if key not in _PROGRAMS:
        _PROGRAMS[key] = _Program(kpi, compiled, target)
    return _PROGRAMS[key]


def _vectorised(kpi: Kpi, prog: _Program, target, bands: _Bands, given, complete: np.ndarray, res: _Result
                ) -> np.ndarray:
    """Fill the complete rows float arithmetic decides safely; returns the (indices of) rows left for exact arithmetic.

    Works on whole columns (no gathering of the complete rows, no scattering back): rows that are not
    complete are computed too, as NaN or nonsense, and never written.
    """
    import numpy as np

    n = complete.size
    if not complete.any():
        return np.flatnonzero(complete)
    args = [given[s] if s in given else np.full(n, np.nan) for s in prog.symbols]
    with np.errstate(all="ignore"):
        parts = prog.fn(*args)
        actual = np.broadcast_to(np.asarray(parts[0], dtype=float), (n,))
        t = float(target.value)
        exact_float = None  # rows where float arithmetic is exact (integers in, no division)
        if prog.integral and Fraction(t) == target.value:
            exact_float = np.abs(actual) < 2.0**50
            for a in args:
                exact_float &= (a == np.floor(a)) & (np.abs(a) < 2.0**40)
        doubt = ~np.isfinite(actual)
        if len(parts) > 1:  # a denominator or a condition within reach of 0: exact decides
            scale = np.ones(n)
            for a in args:
                np.maximum(scale, np.abs(a), out=scale)
            tol = TOLERANCE * scale
            near = np.zeros(n, dtype=bool)
            for p in parts[1:]:
                p = np.asarray(p, dtype=float)
                near |= ~np.isfinite(p) | (np.abs(p) <= tol)
            doubt |= near if exact_float is None else near & ~exact_float
        tol_t = TOLERANCE * np.maximum(max(1.0, abs(t)), np.abs(actual))
        near = np.abs(actual - t) <= tol_t  # met or not met
        if kpi.direction is Direction.LOWER:
            near |= np.abs(actual) <= TOLERANCE  # actual ≤ 0 decides
        doubt |= near if exact_float is None else near & ~exact_float
        raw, basis, ratio = _achievement(kpi.direction, actual, target.value)
        light, near_edge = bands.decide(basis)
        doubt |= near_edge if ratio is True else ratio & near_edge  # a ratio on a band edge or the cap
        rounded_actual, near_half = _half_up(actual, bands.places)
        doubt |= near_half
        rounded_raw, near_half = _half_up(raw, bands.places)
        doubt |= near_half
        if basis is raw:  # capped = min(raw, cap): rounding is monotone, so round(capped) = min(round(raw), round(cap))
            rounded_capped = np.minimum(rounded_raw, bands.cap_rounded)
        else:
            rounded_capped, near_half = _half_up(np.minimum(basis, bands.cap), bands.places)
            doubt |= near_half
    ok = complete & ~doubt
    np.copyto(res.actual, rounded_actual, where=ok)
    np.copyto(res.achievement, rounded_capped, where=ok)
    np.copyto(res.achievement_raw, rounded_raw, where=ok)
    if kpi.review_required:
        np.copyto(res.status, _code(STATES, State.AWAITING_REVIEW), where=ok)
    else:
        np.copyto(res.status, _code(STATES, State.SCORED), where=ok)
        np.copyto(res.light, light, where=ok)
    return np.flatnonzero(complete & doubt)


class _Bands:
    """A policy's light bands as float edges (the band minima and the cap, ascending).

    The light of a capped ratio is looked up by how many edges it reaches (a band's light holds from
    its edge up to the next; above the cap, the cap's); "near an edge" is the rule itself: within
    TOLERANCE × max(1, |edge|) of any edge.
    """

    def __init__(self, policy: Policy):
        import numpy as np

        self.policy, self.places, self.cap = policy, policy.places, float(policy.cap)
        exact = sorted({b.minimum for b in policy.bands if b.minimum is not None} | {policy.cap})
        self.edges = [float(e) for e in exact]
        self.tolerances = [TOLERANCE * max(1.0, abs(e)) for e in self.edges]
        # the light of v with edges[j-1] ≤ v < edges[j], capped, by j = how many edges v reaches
        below = policy.bands[-1].light
        self.lights = np.array([_code(LIGHTS, (below if j == 0 else policy.light_for(min(exact[j - 1], policy.cap))).value)
                                for j in range(len(exact) + 1)], dtype=np.int8)
        self.cap_rounded = float(to_decimal(policy.cap, policy.places))

    def decide(self, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(light codes for the capped basis, basis within tolerance of an edge)."""
        import numpy as np

        reached = (basis >= self.edges[0]).view(np.int8)
        near = np.abs(basis - self.edges[0]) <= self.tolerances[0]
        for edge, tol in zip(self.edges[1:], self.tolerances[1:], strict=True):
            reached += basis >= edge
            near |= np.abs(basis - edge) <= tol
        return self.lights[reached], near


def _achievement(direction: Direction, actual: np.ndarray, target: Fraction):
    """(raw %, basis %, basis is a computed ratio) as in ``scoring.achievement``, vectorised.

    raw is NaN where it has no meaning; where basis is not a ratio it is the constant 100 or 0.
    Where basis is raw on every row, it is returned as the same array and the mask as ``True``.
    """
    import numpy as np

    t = float(target)
    nan = np.full(actual.shape, np.nan)
    no = np.zeros(actual.shape, dtype=bool)
    if direction is Direction.LOWER:
        met = actual <= t
        if target <= 0:
            return nan, np.where(met, 100.0, 0.0), no
        raw = np.where(actual > 0, t / actual * 100, np.nan)
        ratio = (actual > 0) & ~met
        return raw, np.where(ratio, raw, 100.0), ratio
    if direction is Direction.BINARY:
        v = np.where(actual >= t, 100.0, 0.0)
        return v, v.copy(), no
    if target <= 0:
        return nan, np.where(actual >= t, 100.0, 0.0), no
    raw = actual / t * 100
    return raw, raw, True  # the same array: basis *is* raw


def _half_up(v: np.ndarray, places: int) -> tuple[np.ndarray, np.ndarray]:
    """(v rounded half-up, away from zero, to ``places`` as ``numbers.to_decimal`` does; where that is unsure).

    With y = |v|·10^places and d = y + 0.5 − floor(y + 0.5), the digits are floor(y + 0.5) and
    min(d, 1 − d) = |frac(y) − 0.5| (up to an ulp of y): the distance to the half-point.
    """
    import numpy as np

    scale = 10**places
    y = np.abs(v) * scale
    d = y + 0.5
    f = np.floor(d)
    d -= f
    return np.copysign(f, v) / scale + 0.0, _near_half(d, y)  # + 0.0: no negative zero


def _near_half(d: np.ndarray, y: np.ndarray) -> np.ndarray:
    """True where the digit after the last displayed one is within reach of a half (NaN and inf: False)."""
    import numpy as np

    return np.minimum(d, 1.0 - d) <= ROUNDING_TOLERANCE * np.maximum(1.0, y) + 1e-9


def _score_rationals(r: Rationals, actual: tuple, kpi: Kpi, target: Fraction, policy: Policy) -> tuple:
    """``scoring.score`` on exact rationals: the panel's cells (display-rounded numbers, light and state codes).

    Mirrors ``scoring.achievement`` branch by branch; raw is NaN where it is None there. Rows
    ``r.undefined`` are UNDEFINED (their actual is a placeholder).
    """
    import numpy as np

    hundred, zero = r.constant(Fraction(100)), r.constant(Fraction(0))
    n = r.n
    defined = np.ones(n, dtype=bool)
    left, right = r.compare(actual, r.constant(target))
    if kpi.direction is Direction.LOWER:
        met = left <= right
        if target <= 0:
            defined[:] = False
            raw, basis = zero, r.select(met, hundred, zero)
        else:
            positive = actual[0] > 0
            safe = r.select(positive, actual, hundred)  # no 1/0 where the ratio has no meaning
            raw = r.mul(r.constant(target * 100), r.inverse(safe, positive))
            defined = positive
            basis = r.select(positive & ~met, raw, hundred)
    elif kpi.direction is Direction.BINARY:
        raw = basis = r.select(left >= right, hundred, zero)
    elif target <= 0:
        defined[:] = False
        raw, basis = zero, r.select(left >= right, hundred, zero)
    else:
        raw = basis = r.mul(actual, r.constant(100 / target))
    cap = r.constant(policy.cap)
    over_l, over_r = r.compare(cap, basis)
    capped = r.select(over_l < over_r, cap, basis)  # min(basis, cap)
    places = policy.places
    nan = np.full(n, np.nan)
    cells_actual = r.rounded(actual, places)
    cells_raw = np.where(defined, r.rounded(raw, places), nan)
    cells_capped = r.rounded(capped, places)
    if kpi.review_required:
        light = np.full(n, -1, dtype=np.int8)
        status = np.full(n, _code(STATES, State.AWAITING_REVIEW), dtype=np.int8)
    else:
        light = np.full(n, _code(LIGHTS, policy.bands[-1].light.value), dtype=np.int8)
        undecided = np.ones(n, dtype=bool)
        for band in policy.bands:
            hit = undecided if band.minimum is None else undecided & r.at_least(capped, band.minimum)
            light[hit] = _code(LIGHTS, band.light.value)
            undecided &= ~hit
        status = np.full(n, _code(STATES, State.SCORED), dtype=np.int8)
    u = r.undefined  # UNDEFINED (a zero denominator): a state, no number, no light
    status[u] = _code(STATES, State.UNDEFINED)
    light[u] = -1
    for cells in (cells_actual, cells_capped, cells_raw):
        cells[u] = np.nan
    return cells_actual, cells_capped, cells_raw, light, status


def _cells(s: Score, places: int) -> tuple:
    """One exact score as the panel's cells: display-rounded numbers, light and state codes."""
    def num(x):
        return float("nan") if x is None else float(to_decimal(x, places))

    return (num(s.actual), num(s.achievement), num(s.achievement_raw),
            -1 if s.light is None else _code(LIGHTS, s.light.value), _code(STATES, State(s.state).value))


def read_panel(path: Path) -> pd.DataFrame:
    """A panel from .parquet (needs pyarrow) or .csv (UTF-8, first row = column names)."""
    import pandas as pd

    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise PanelError(f"找不到檔案：{path}")
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix == ".csv":
            return _read_csv(path)
    except PanelError:
        raise
    except ImportError:
        raise PanelError("讀取 .parquet 需要 pyarrow（pip install pyarrow）") from None
    except UnicodeDecodeError as exc:
        raise PanelError(f"{path.name} 不是 UTF-8 編碼（第 {exc.start + 1} 個位元組起）：請在 Excel 另存為「CSV UTF-8」") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise PanelError(f"無法讀取 {path.name}：{type(exc).__name__}") from None
    raise PanelError(f"只接受 .parquet 或 .csv 檔（收到 {path.name}）")


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV read as written: a row with more cells than the header is refused, not shifted into an index."""
    import csv
    import warnings

    import pandas as pd

    with path.open(encoding="utf-8-sig", newline="") as fh:  # pandas would rename a repeated name "x.1"
        header = next(csv.reader(fh), [])
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise PanelError(f"欄位重複：{'、'.join(repeated[:5])}（每個欄名只能出現一次）")
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            return pd.read_csv(path, encoding="utf-8-sig", index_col=False)
        except pd.errors.ParserWarning:
            raise PanelError(f"{path.name}：有的列比標題列多出欄位（請檢查逗號或引號）") from None
