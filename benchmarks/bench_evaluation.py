"""Benchmark: how fast the catalog's formulas evaluate, as ratios against baselines in the same run.

Run:  .venv/bin/python benchmarks/bench_evaluation.py [--submissions 200] [--repeat 5]

For every KPI of the catalog it builds N synthetic submissions (its hand-worked test inputs, scaled
by a deterministic factor) and times three ways of computing every actual value:

* baseline  — sympy's own ``expr.subs(values)`` (what one would write first);
* exact     — kpiengine's Fraction evaluator (what ``kpi score`` uses);
* vectorised — the lambdify-compiled numpy function over all N submissions at once.

Machines here are noisy, so the result that matters is the ratio baseline ÷ exact and
exact ÷ vectorised measured in the same run (best of --repeat). Each run appends one JSON line to
benchmarks/results.jsonl.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import numpy as np
import sympy as sp
from recording import best_of, record  # noqa: E402  (benchmarks/ is the script folder)

from kpiengine.engine import Engine
from kpiengine.evaluation import compile_kpi
from kpiengine.formula import Undefined, evaluate, vectorize

HERE = Path(__file__).resolve().parent


def _workload(engine: Engine, n: int):
    """(kpi, compiled, params, rows) for every KPI with a numeric test case."""
    out = []
    for kpi in engine.catalog.kpis:
        case = next((c for c in kpi.tests if c.expected is not None), None)
        if case is None:
            continue
        target = engine.catalog.target(kpi.id, 107)
        params = dict(target.params) if target else {}
        compiled = compile_kpi(kpi)
        rows = []
        for i in range(n):
            factor = Fraction(90 + (i * 7) % 21, 100)  # 0.90 … 1.10, deterministic
            row = {}
            for inp in kpi.inputs:
                v = case.inputs.get(inp.symbol, Fraction(0))
                row[inp.symbol] = v if inp.domain.value in ("bool", "count") else v * factor
            rows.append(row)
        out.append((kpi, compiled, params, rows))
    return out


def _flat_expr(compiled):
    expr = compiled.formula.expr
    for symbol, f in reversed(compiled.definitions):
        expr = expr.xreplace({sp.Symbol(symbol): f.expr})
    return expr


def run_exact(work) -> int:
    done = 0
    for _kpi, compiled, params, rows in work:
        for row in rows:
            values = {**params, **row}
            try:
                for symbol, f in compiled.definitions:
                    values[symbol] = evaluate(f.expr, values)
                evaluate(compiled.formula.expr, values)
            except Undefined:
                pass
            done += 1
    return done


def run_subs(work) -> int:
    done = 0
    for _kpi, compiled, params, rows in work:
        expr = _flat_expr(compiled)
        for row in rows:
            values = {sp.Symbol(k): sp.Rational(v.numerator, v.denominator) for k, v in {**params, **row}.items()}
            expr.subs(values)
            done += 1
    return done


def prepare_vectorised(work):
    prepared = []
    for _kpi, compiled, params, rows in work:
        expr = _flat_expr(compiled)
        names = sorted({s.name for s in expr.free_symbols})
        fn = vectorize(expr, names)
        arrays = {s: np.array([float({**params, **r}.get(s, 0)) for r in rows]) for s in names}
        prepared.append((fn, arrays))
    return prepared


def run_vectorised(prepared) -> int:
    done = 0
    for fn, arrays in prepared:
        values, _ = fn(**arrays)
        done += len(values) if np.ndim(values) else 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-record", action="store_true", help="do not append to results.jsonl")
    args = parser.parse_args()
    engine = Engine.load(HERE.parent)
    work = _workload(engine, args.submissions)
    evaluations = sum(len(rows) for *_, rows in work)
    prepared = prepare_vectorised(work)
    t_subs, _ = best_of(max(1, args.repeat // 2), lambda: run_subs(work))
    t_exact, _ = best_of(args.repeat, lambda: run_exact(work))
    t_vec, _ = best_of(args.repeat, lambda: run_vectorised(prepared))
    record("evaluation", {
        "kpis": len(work), "evaluations": evaluations,
        "subs_s": round(t_subs, 4), "exact_s": round(t_exact, 4), "vectorised_s": round(t_vec, 4),
        "exact_per_s": round(evaluations / t_exact),
        "ratio_subs_over_exact": round(t_subs / t_exact, 2),
        "ratio_exact_over_vectorised": round(t_exact / t_vec, 2),
    }, keep=not args.no_record)

if __name__ == "__main__":
    main()
