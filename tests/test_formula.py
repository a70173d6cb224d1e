"""The formula gate refuses everything outside the language; evaluation is exact and names 0-denominators."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import yaml

from kpiengine.formula import (
    MAX_FORMULA_LENGTH,
    FormulaError,
    MissingValue,
    Undefined,
    compile_formula,
    evaluate,
    vectorize,
)

HOSTILE = yaml.safe_load((Path(__file__).parent / "data" / "hostile_formulas.yaml").read_text(encoding="utf-8"))
for _case in HOSTILE:  # a formula too deeply nested for Python's own parser
    _case["formula"] = _case["formula"].replace("{unary}", "-" * 3000)
NAMES = {"a", "b", "c"}


@pytest.mark.parametrize("case", HOSTILE, ids=[c["formula"][:40] for c in HOSTILE])
def test_hostile_formula_is_refused_with_a_clear_message(case):
    with pytest.raises(FormulaError) as err:
        compile_formula(case["formula"], NAMES)
    assert case["says"] in str(err.value)


def test_gate_never_calls_sympify(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("sympify must not be called on catalog text")

    monkeypatch.setattr(sp, "sympify", boom)
    monkeypatch.setattr(sp, "parse_expr", boom, raising=False)
    compiled = compile_formula("Min(a / b, 1) * 100", NAMES)
    assert evaluate(compiled.expr, {"a": Fraction(3), "b": Fraction(4)}) == 75


def test_overlong_formula_is_refused():
    with pytest.raises(FormulaError, match="過長"):
        compile_formula("a + " * MAX_FORMULA_LENGTH + "a", NAMES)


def test_deep_nesting_is_refused():
    with pytest.raises(FormulaError):
        compile_formula("Abs(" * 100 + "a" + ")" * 100, NAMES)


@pytest.mark.parametrize(
    ("formula", "values", "expected"),
    [
        ("0.1 + 0.2", {}, Fraction(3, 10)),  # exact, not 0.30000000000000004
        ("a / b * 100", {"a": 1, "b": 3}, Fraction(100, 3)),
        ("-a + b", {"a": 2, "b": 5}, Fraction(3)),
        ("Min(a / b, 1) * 0.25", {"a": 20000, "b": 16749}, Fraction(1, 4)),
        ("Max(a, b, c)", {"a": 1, "b": 7, "c": 3}, Fraction(7)),
        ("Abs(a - b)", {"a": 1, "b": 7}, Fraction(6)),
        ("AtLeast(a, 998) + AtLeast(b, 1112)", {"a": 998, "b": 1111}, Fraction(1)),
        ("AtMost(a, 10)", {"a": 10}, Fraction(1)),
        ("Piecewise((100, (a >= 1) & (b >= 1)), (90, a >= 1), (0, True))", {"a": 1, "b": 0}, Fraction(90)),
        ("Piecewise((1, (a > 5) | (b > 5)), (0, True))", {"a": 1, "b": 6}, Fraction(1)),
        ("a ** 2 * b ** -1", {"a": 3, "b": 2}, Fraction(9, 2)),
        ("90*a + 5*a*b + 5*a*b*c", {"a": 1, "b": 1, "c": 0}, Fraction(95)),
    ],
)
def test_exact_evaluation(formula, values, expected):
    compiled = compile_formula(formula, NAMES)
    assert evaluate(compiled.expr, {k: Fraction(v) for k, v in values.items()}) == expected


def test_zero_denominator_is_named_not_zero_or_nan():
    compiled = compile_formula("(a + b) / (b - c) * 100", NAMES)
    with pytest.raises(Undefined) as err:
        evaluate(compiled.expr, {"a": Fraction(1), "b": Fraction(2), "c": Fraction(2)})
    assert "分母為 0" in str(err.value) and "b - c" in str(err.value)


def test_zero_over_zero_is_undefined_even_when_it_looks_like_x_over_x():
    compiled = compile_formula("a / a", NAMES)  # sympy would simplify this to 1 if evaluated eagerly
    with pytest.raises(Undefined):
        evaluate(compiled.expr, {"a": Fraction(0)})


def test_unchosen_piecewise_branch_is_not_evaluated():
    compiled = compile_formula("Piecewise((a / b, b > 0), (0, True))", NAMES)
    assert evaluate(compiled.expr, {"a": Fraction(1), "b": Fraction(0)}) == 0


def test_missing_value_names_the_symbol():
    compiled = compile_formula("a + b", NAMES)
    with pytest.raises(MissingValue) as err:
        evaluate(compiled.expr, {"a": Fraction(1)})
    assert err.value.symbol == "b"


def test_vectorised_matches_exact_and_flags_zero_denominators():
    compiled = compile_formula("Min(a / b, 1) * 40 + c", NAMES)
    run = vectorize(compiled.expr, ["a", "b", "c"])
    a = np.array([10.0, 30.0, 5.0, 0.0])
    b = np.array([20.0, 20.0, 0.0, 0.0])
    c = np.array([1.0, 2.0, 3.0, 4.0])
    values, defined = run(a=a, b=b, c=c)
    assert defined.tolist() == [True, True, False, False]
    for i in (0, 1):
        exact = evaluate(compiled.expr, {"a": Fraction(a[i]), "b": Fraction(b[i]), "c": Fraction(c[i])})
        assert values[i] == pytest.approx(float(exact))


def _catalog_formulas():
    from kpiengine.engine import Engine

    engine = Engine.load(Path(__file__).resolve().parents[1])
    texts = []
    for kpi in engine.catalog.kpis:
        names = set(kpi.input_symbols) | {p.symbol for p in kpi.params}
        for d in kpi.definitions:
            texts.append((d.expr, frozenset(names)))
            names.add(d.symbol)
        texts.append((kpi.formula, frozenset(names)))
    return sorted(set(texts), key=str)


CATALOG_FORMULAS = _catalog_formulas()


def test_tree_does_not_depend_on_sympys_global_evaluate_flag():
    """The builder passes evaluate=False per constructor instead of `with sympy.evaluate(False)`
    (which clears sympy's cache twice per formula): the tree must be the one the context built."""
    for text, names in CATALOG_FORMULAS:
        plain = compile_formula(text, names).expr
        with sp.evaluate(False):
            inside = compile_formula(text, names).expr
        assert sp.srepr(plain) == sp.srepr(inside), text


def _outcome(expr, values):
    try:
        return ("value", evaluate(expr, values))
    except Undefined as exc:
        return ("undefined", str(exc), exc.denominator, exc.symbols)
    except MissingValue as exc:
        return ("missing", exc.symbol)


@pytest.mark.parametrize("fill", [0, 1, 3, Fraction(7, 2)], ids=["zeros", "ones", "threes", "halves"])
def test_program_gives_what_the_sympy_tree_gives(fill):
    """Every catalog formula: the cached program (no sympy) and the sympy tree agree exactly, also on 0 ÷ 0."""
    for text, names in CATALOG_FORMULAS:
        compiled = compile_formula(text, names)
        values = {n: Fraction(fill) + i for i, n in enumerate(sorted(compiled.symbols))} if fill else \
            {n: Fraction(0) for n in compiled.symbols}
        assert _outcome(compiled.program, values) == _outcome(compiled.expr, values), text
        assert _outcome(compiled.program, {}) == _outcome(compiled.expr, {}), text


def test_formula_rebuilt_from_its_program_has_the_same_tree():
    compiled = compile_formula("Min(a / b, 1) * 40 + c", NAMES)
    from kpiengine.formula import CompiledFormula

    cached = CompiledFormula(text=compiled.text, symbols=compiled.symbols, program=compiled.program)
    assert sp.srepr(cached.expr) == sp.srepr(compiled.expr)
