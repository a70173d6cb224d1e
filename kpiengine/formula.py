"""The formula language: an AST allow-list gate, sympy built from the checked tree, exact evaluation.

Formula strings come only from the catalog, and even those are never handed to ``sympify`` or
``parse_expr`` (both call ``eval``). Instead ``compile_formula`` parses the text with ``ast``,
rejects every node outside a small allow-list, and builds the sympy expression node by node.
Values from workbooks or the command line are numbers, never expressions.

Evaluation is exact (``Fraction``). A zero denominator raises ``Undefined`` naming the
denominator, so callers report "cannot compute" instead of 0, NaN or a crash.

Each compiled formula also carries a *program*: the same tree as plain tuples (no sympy objects),
which ``evaluate`` runs exactly like the sympy tree and which can be stored as JSON, so scoring
from a cached catalog never imports sympy. sympy and numpy are imported only when a formula is
compiled or vectorised (start-up of ``kpi`` stays light).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import sympy as sp

__all__ = [
    "FormulaError",
    "Undefined",
    "MissingValue",
    "CompiledFormula",
    "compile_formula",
    "evaluate",
    "vectorize",
    "growth",
    "check_growth",
    "to_program",
]

MAX_FORMULA_LENGTH = 4000
MAX_EXPONENT = 10
MAX_LITERAL_DIGITS = 30
MAX_DEPTH = 60
# How many times the digits of the inputs an exact result may have: x**10 has 10×, (x**10)**10 100×,
# x*y 2×. Nested powers grow without limit (12 levels of **10 = 10^12× the digits: a hang, or memory
# exhausted), so formulas are refused above this; the catalog's formulas stay far below (see tests).
MAX_GROWTH = 200

FUNCTIONS = ("Min", "Max", "Abs", "AtLeast", "AtMost", "Piecewise")

_BINOPS = {ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow}
_COMPARE = {ast.Lt: "Lt", ast.LtE: "Le", ast.Gt: "Gt", ast.GtE: "Ge", ast.Eq: "Eq"}  # sympy class names


class FormulaError(ValueError):
    """A formula string outside the allowed language (message in Chinese, names the problem)."""


class Undefined(ArithmeticError):
    """The value cannot be computed: a denominator is 0 (or 0 raised to a negative power).

    ``denominator`` is its text as sympy prints it; ``symbols`` the names it depends on; ``expr``
    the sympy expression when the sympy tree was evaluated (None for a program).
    """

    def __init__(self, denominator: sp.Basic | str, symbols: tuple[str, ...] | None = None):
        super().__init__(f"無法計算：分母為 0（{denominator}）")
        self.expr = None if isinstance(denominator, str) else denominator
        self.denominator = str(denominator)
        if symbols is None:
            symbols = tuple(sorted(s.name for s in denominator.free_symbols)) if self.expr is not None else ()
        self.symbols = symbols


class MissingValue(KeyError):
    """A symbol has no value."""

    def __init__(self, symbol: str):
        super().__init__(symbol)
        self.symbol = symbol


@dataclass(frozen=True)
class CompiledFormula:
    """A checked formula: its text, the names it uses, its program, and (built on demand) its sympy tree."""

    text: str
    symbols: frozenset[str]  # names the text refers to
    program: tuple  # the sympy tree as plain tuples (see ``to_program``), evaluated by ``evaluate``
    sympy_expr: Any = field(default=None, compare=False, repr=False)

    @property
    def expr(self) -> sp.Basic:
        """The sympy expression (rebuilt through the gate when this formula came from the cache)."""
        if self.sympy_expr is None:
            object.__setattr__(self, "sympy_expr", _build(self.text, self.symbols)[0])
        return self.sympy_expr


def compile_formula(text: str, names: Mapping[str, object] | set[str] | frozenset[str],
                    growth_of: Mapping[str, int] | None = None) -> CompiledFormula:
    """Check ``text`` against the allow-list and build its sympy expression.

    ``names`` are the declared symbols (inputs, params, earlier definitions); ``growth_of`` the
    growth of earlier definitions (see ``growth``). Raises FormulaError with a Chinese message for
    anything outside the language, including a result that would grow beyond MAX_GROWTH.
    """
    expr, used = _build(text, names)
    check_growth(expr, growth_of)
    return CompiledFormula(text=text, symbols=frozenset(used), program=to_program(expr), sympy_expr=expr)


def _build(text: str, names) -> tuple[sp.Basic, set[str]]:
    """The gate proper: ``ast`` allow-list → sympy tree (never evaluated: 0/0 stays 0/0)."""
    import sympy as sp

    if not isinstance(text, str):
        raise FormulaError("公式必須是文字")
    if len(text) > MAX_FORMULA_LENGTH:
        raise FormulaError(f"公式過長（{len(text)} 字元，上限 {MAX_FORMULA_LENGTH}）")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"公式語法錯誤：{exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):  # NUL bytes, or nesting too deep for the parser
        raise FormulaError("公式無法解析（含不允許的字元或巢狀過深）") from None
    builder = _Builder(frozenset(names))
    expr = builder.build(tree.body, 0)
    if isinstance(expr, sp.logic.boolalg.Boolean) and not isinstance(expr, sp.Expr):
        raise FormulaError("公式的結果必須是數值，不能是條件")
    return expr, builder.used


def growth(expr: sp.Basic, known: Mapping[str, int] | None = None) -> int:
    """An upper bound of the result's digits as a multiple of the inputs' digits (see ``MAX_GROWTH``).

    A name counts as ``known[name]`` (a definition's own growth) or 1; products and sums add
    up, powers multiply, Min/Max/Abs/Piecewise take the largest. Capped just above MAX_GROWTH.
    """
    import sympy as sp

    known = known or {}
    cap = MAX_GROWTH + 1

    def walk(e: sp.Basic) -> int:
        if isinstance(e, sp.Symbol):
            return known.get(e.name, 1)
        if isinstance(e, sp.Pow) and isinstance(e.exp, sp.Integer):
            return min(cap, walk(e.base) * max(1, abs(int(e.exp))))
        if not e.args:
            return 1
        parts = [walk(a) for a in e.args if isinstance(a, sp.Basic)]
        if isinstance(e, (sp.Add, sp.Mul)):
            return min(cap, sum(parts))
        return max(parts, default=1)

    return walk(expr)


def check_growth(expr: sp.Basic, known: Mapping[str, int] | None = None) -> int:
    """``growth`` of ``expr``, or FormulaError when it is above MAX_GROWTH (checked before any evaluation)."""
    g = growth(expr, known)
    if g > MAX_GROWTH:
        raise FormulaError(f"公式的次方或巢狀使數值位數增長過大（超過輸入位數的 {MAX_GROWTH} 倍），請簡化公式")
    return g


class _Builder:
    """Builds the sympy tree node by node with ``evaluate=False`` on every constructor.

    Passing the flag per call (not ``with sympy.evaluate(False)``, which clears sympy's whole cache
    on entry and on exit) gives the same tree; tests/test_formula.py checks that it does.
    """

    def __init__(self, names: frozenset[str]):
        import sympy

        self.sp = sympy
        self.names = names
        self.used: set[str] = set()

    def build(self, node: ast.AST, depth: int, condition: bool = False):
        sp, ev = self.sp, False
        if depth > MAX_DEPTH:
            raise FormulaError("公式巢狀過深")
        d = depth + 1
        if isinstance(node, ast.Constant):
            return self._constant(node.value, condition)
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                raise FormulaError(f"公式使用了未宣告的名稱「{node.id}」")
            self.used.add(node.id)
            return sp.Symbol(node.id)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return sp.Mul(sp.Integer(-1), self.build(node.operand, d), evaluate=ev)
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand, d)
            raise FormulaError(f"不允許的運算子：{type(node.op).__name__}")
        if isinstance(node, ast.BinOp):
            if condition and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
                left = self.build(node.left, d, condition=True)
                right = self.build(node.right, d, condition=True)
                return sp.And(left, right, evaluate=ev) if isinstance(node.op, ast.BitAnd) else sp.Or(left, right, evaluate=ev)
            if type(node.op) not in _BINOPS:
                raise FormulaError(f"不允許的運算子：{type(node.op).__name__}")
            left = self.build(node.left, d)
            if isinstance(node.op, ast.Pow):
                exponent = self._exponent(node.right)
                return sp.Pow(left, sp.Integer(exponent), evaluate=ev)
            right = self.build(node.right, d)
            if isinstance(node.op, ast.Add):
                return sp.Add(left, right, evaluate=ev)
            if isinstance(node.op, ast.Sub):
                return sp.Add(left, sp.Mul(sp.Integer(-1), right, evaluate=ev), evaluate=ev)
            if isinstance(node.op, ast.Mult):
                return sp.Mul(left, right, evaluate=ev)
            return sp.Mul(left, sp.Pow(right, sp.Integer(-1), evaluate=ev), evaluate=ev)
        if isinstance(node, ast.Compare):
            if not condition:
                raise FormulaError("比較運算只能用在 Piecewise 的條件中")
            parts = []
            left = self.build(node.left, d)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                if type(op) not in _COMPARE:
                    raise FormulaError(f"不允許的比較運算子：{type(op).__name__}")
                right = self.build(comp, d)
                parts.append(getattr(sp, _COMPARE[type(op)])(left, right, evaluate=ev))
                left = right
            return parts[0] if len(parts) == 1 else sp.And(*parts, evaluate=ev)
        if isinstance(node, ast.Call):
            return self._call(node, d)
        raise FormulaError(f"公式中不允許的語法：{type(node).__name__}")

    def _constant(self, value, condition: bool):
        sp = self.sp
        if value is True and condition:
            return sp.true
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FormulaError(f"公式中不允許的常數：{value!r}")
        text = repr(value)
        if len(text.replace(".", "").replace("-", "")) > MAX_LITERAL_DIGITS or "e" in text or "inf" in text or "nan" in text:
            raise FormulaError(f"數字過大或格式不允許：{text}")
        return sp.Rational(text)

    def _exponent(self, node: ast.AST) -> int:
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, node = -1, node.operand
        if not (isinstance(node, ast.Constant) and type(node.value) is int):
            raise FormulaError("次方的指數必須是整數常數")
        exponent = sign * node.value
        if abs(exponent) > MAX_EXPONENT:
            raise FormulaError(f"次方的指數過大：{exponent}（上限 {MAX_EXPONENT}）")
        return exponent

    def _call(self, node: ast.Call, d: int):
        sp, ev = self.sp, False
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
            raise FormulaError(f"不允許的函數：{name}（可用：{'、'.join(FUNCTIONS)}）")
        if node.keywords:
            raise FormulaError("函數不接受具名參數")
        fn = node.func.id
        if fn == "Piecewise":
            pieces = []
            for arg in node.args:
                if not (isinstance(arg, ast.Tuple) and len(arg.elts) == 2):
                    raise FormulaError("Piecewise 的每一段必須是 (值, 條件)")
                pieces.append((self.build(arg.elts[0], d), self.build(arg.elts[1], d, condition=True)))
            if not pieces or pieces[-1][1] is not sp.true:
                raise FormulaError("Piecewise 的最後一段條件必須是 True（涵蓋所有情形）")
            return sp.Piecewise(*pieces, evaluate=ev)
        args = [self.build(a, d) for a in node.args]
        arity = {"Abs": 1, "AtLeast": 2, "AtMost": 2}.get(fn)
        if arity is not None and len(args) != arity:
            raise FormulaError(f"{fn} 需要 {arity} 個參數")
        if fn in ("Min", "Max") and len(args) < 2:
            raise FormulaError(f"{fn} 至少需要 2 個參數")
        if fn == "Min":
            return sp.Min(*args, evaluate=ev)
        if fn == "Max":
            return sp.Max(*args, evaluate=ev)
        if fn == "Abs":
            return sp.Abs(args[0], evaluate=ev)
        if fn == "AtLeast":
            return sp.Piecewise((sp.Integer(1), sp.Ge(args[0], args[1], evaluate=ev)), (sp.Integer(0), sp.true), evaluate=ev)
        return sp.Piecewise((sp.Integer(1), sp.Le(args[0], args[1], evaluate=ev)), (sp.Integer(0), sp.true), evaluate=ev)


# --- exact evaluation -------------------------------------------------------------------------


def evaluate(expr: sp.Basic | tuple, values: Mapping[str, Fraction]) -> Fraction:
    """Evaluate exactly (a sympy tree, or its program). Raises Undefined on a zero denominator,
    MissingValue on an unbound name."""
    result = _run(expr, values) if isinstance(expr, tuple) else _eval(expr, values)
    if isinstance(result, bool):
        raise FormulaError("公式的結果必須是數值")
    return result


def _eval(e: sp.Basic, v: Mapping[str, Fraction]):
    import sympy as sp

    if isinstance(e, sp.Symbol):
        try:
            return v[e.name]
        except KeyError:
            raise MissingValue(e.name) from None
    if isinstance(e, sp.Rational):
        return Fraction(int(e.p), int(e.q))
    if isinstance(e, sp.Add):
        total = Fraction(0)
        for a in e.args:
            total += _eval(a, v)
        return total
    if isinstance(e, sp.Mul):
        product = Fraction(1)
        for a in e.args:
            product *= _eval(a, v)
        return product
    if isinstance(e, sp.Pow):
        base = _eval(e.base, v)
        exponent = int(e.exp)
        if exponent < 0 and base == 0:
            raise Undefined(e.base)
        return base**exponent
    if isinstance(e, sp.Min):
        return min(_eval(a, v) for a in e.args)
    if isinstance(e, sp.Max):
        return max(_eval(a, v) for a in e.args)
    if isinstance(e, sp.Abs):
        return abs(_eval(e.args[0], v))
    if isinstance(e, sp.Piecewise):
        for value, cond in e.args:
            if _eval(cond, v):
                return _eval(value, v)
        raise FormulaError("Piecewise 沒有符合的條件")
    if e is sp.true:
        return True
    if e is sp.false:
        return False
    if isinstance(e, sp.And):
        return all(_eval(a, v) for a in e.args)
    if isinstance(e, sp.Or):
        return any(_eval(a, v) for a in e.args)
    if isinstance(e, sp.core.relational.Relational):
        lhs, rhs = _eval(e.lhs, v), _eval(e.rhs, v)
        return {"<": lhs < rhs, "<=": lhs <= rhs, ">": lhs > rhs, ">=": lhs >= rhs, "==": lhs == rhs}[e.rel_op]
    raise FormulaError(f"無法計算的運算：{type(e).__name__}")


# --- programs: the sympy tree as plain tuples ---------------------------------------------------
#
# ("s", name) symbol · ("n", p, q) rational · ("+", args) · ("*", args) · ("min", args) · ("max", args)
# ("abs", arg) · ("^", base, exponent, denominator text, denominator symbols) · ("pw", ((value, cond), …))
# ("T",) · ("F",) · ("and", args) · ("or", args) · ("rel", op, lhs, rhs) · ("?", type name)
# Each node mirrors one branch of ``_eval``, in the same order, so both give the same value,
# the same Undefined (same text) and the same MissingValue. Lists are accepted for tuples (JSON).


def to_program(e: sp.Basic) -> tuple:
    """The program of a sympy tree built by the gate (see the table above)."""
    import sympy as sp

    if isinstance(e, sp.Symbol):
        return ("s", e.name)
    if isinstance(e, sp.Rational):
        return ("n", int(e.p), int(e.q))
    for kind, op in ((sp.Add, "+"), (sp.Mul, "*")):
        if isinstance(e, kind):
            return (op, tuple(to_program(a) for a in e.args))
    if isinstance(e, sp.Pow):
        base = e.base
        return ("^", to_program(base), int(e.exp), str(base), tuple(sorted(s.name for s in base.free_symbols)))
    for kind, op in ((sp.Min, "min"), (sp.Max, "max")):
        if isinstance(e, kind):
            return (op, tuple(to_program(a) for a in e.args))
    if isinstance(e, sp.Abs):
        return ("abs", to_program(e.args[0]))
    if isinstance(e, sp.Piecewise):
        return ("pw", tuple((to_program(value), to_program(cond)) for value, cond in e.args))
    if e is sp.true:
        return ("T",)
    if e is sp.false:
        return ("F",)
    for kind, op in ((sp.And, "and"), (sp.Or, "or")):
        if isinstance(e, kind):
            return (op, tuple(to_program(a) for a in e.args))
    if isinstance(e, sp.core.relational.Relational):
        return ("rel", e.rel_op, to_program(e.lhs), to_program(e.rhs))
    return ("?", type(e).__name__)


def _run(p, v: Mapping[str, Fraction]):
    return _RUN[p[0]](p, v)


def _symbol(p, v):
    try:
        return v[p[1]]
    except KeyError:
        raise MissingValue(p[1]) from None


def _add(p, v):
    total = Fraction(0)
    for a in p[1]:
        total += _run(a, v)
    return total


def _mul(p, v):
    product = Fraction(1)
    for a in p[1]:
        product *= _run(a, v)
    return product


def _pow(p, v):
    base = _run(p[1], v)
    exponent = p[2]
    if exponent < 0 and base == 0:
        raise Undefined(p[3], tuple(p[4]))
    return base**exponent


def _piecewise(p, v):
    for value, cond in p[1]:
        if _run(cond, v):
            return _run(value, v)
    raise FormulaError("Piecewise 沒有符合的條件")


def _relation(p, v):
    lhs, rhs = _run(p[2], v), _run(p[3], v)
    return {"<": lhs < rhs, "<=": lhs <= rhs, ">": lhs > rhs, ">=": lhs >= rhs, "==": lhs == rhs}[p[1]]


def _unknown(p, v):
    raise FormulaError(f"無法計算的運算：{p[1] if len(p) > 1 else p[0]}")


_RUN: dict[str, Callable] = {
    "s": _symbol,
    "n": lambda p, v: Fraction(p[1], p[2]),
    "+": _add,
    "*": _mul,
    "^": _pow,
    "min": lambda p, v: min(_run(a, v) for a in p[1]),
    "max": lambda p, v: max(_run(a, v) for a in p[1]),
    "abs": lambda p, v: abs(_run(p[1], v)),
    "pw": _piecewise,
    "T": lambda p, v: True,
    "F": lambda p, v: False,
    "and": lambda p, v: all(_run(a, v) for a in p[1]),
    "or": lambda p, v: any(_run(a, v) for a in p[1]),
    "rel": _relation,
    "?": _unknown,
}


# --- vectorised evaluation --------------------------------------------------------------------


def vectorize(expr: sp.Basic, symbols: list[str]) -> Callable[..., np.ndarray]:
    """Compile ``expr`` with lambdify for many submissions at once (float64 arrays).

    Returns f(**arrays) → (values, defined) where ``defined`` is False wherever a denominator was
    zero or the result is not finite; those entries must be reported as undefined, not scored.
    This is for bulk what-if analysis and benchmarks; official scores use ``evaluate``.
    """
    import numpy as np
    import sympy as sp

    syms = [sp.Symbol(s) for s in symbols]
    fn = sp.lambdify(syms, expr, modules="numpy")
    # Every denominator (a base raised to a negative power), so that a zero hidden by Min/Max or a
    # cap is still reported: Min(5/0, 1) must be undefined, not 1.
    bases = sorted({p.base for p in expr.atoms(sp.Pow) if p.exp.is_negative}, key=str)
    denominators = [sp.lambdify(syms, b, modules="numpy") for b in bases]

    def run(**arrays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        args = [np.asarray(arrays[s], dtype=float) for s in symbols]
        shape = np.broadcast(*args).shape if args else ()
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.broadcast_to(np.asarray(fn(*args), dtype=float), shape)
            defined = np.isfinite(out)
            for d in denominators:
                defined &= np.broadcast_to(np.asarray(d(*args), dtype=float), shape) != 0
        return out, defined

    return run
