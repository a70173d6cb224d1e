"""Exact rational arithmetic on numpy int64 arrays: the panel cells floats cannot decide, decided exactly.

A panel cell whose float lands within the tolerance of a band edge, the target, a condition's
threshold or a rounding half-point is not a float question: it needs the exact value. The exact
path (``Engine.score_one``, Fractions) costs ~100 µs a cell; this module gets the same value for a
whole column of such cells at once, as a pair of int64 arrays (numerator, denominator > 0), and
scores it the way ``scoring.score`` does (same comparisons, same half-up rounding
as ``numbers.to_decimal``).

Why it is the exact path's value, not an approximation:

* an input is taken only where it is *certainly* the decimal the exact path parses: the float x is
  m / 10^k with m an integer, |m| < 10^15 and k ≤ ``MAX_DECIMALS``, checked by ``m / 10^k == x`` in
  float (IEEE division of two exactly representable numbers is correctly rounded). A decimal of at
  most 15 significant digits survives the trip to a double and back (DBL_DIG = 15), so the
  shortest repr of x, which ``numbers.parse_exact`` reads, is that same decimal;
* the formula run is the compiled *program* of the KPI (``formula.to_program``), the very tree
  ``formula.evaluate`` runs, definitions first, with the year's params — only on arrays;
* every product is estimated in float first; where it could reach ``LIMIT`` (2^62) the row is
  marked not ``ok`` and its value replaced by 0/1, so nothing wraps silently;
* a zero denominator makes the row ``undefined`` (the state UNDEFINED) only where the exact path
  evaluates that node: ``formula.evaluate`` runs definitions in order, every argument of +, *,
  Min, Max, but in a Piecewise only the conditions up to the first true one and that one value,
  and all()/any() stop early. Each node is run here on every row, with the mask of rows the exact
  path reaches it on (placeholders elsewhere, which can only cost a row its ``ok``).

Rows not ``ok`` go to the exact path itself. Nothing here is a tolerance.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

LIMIT = 2.0**62  # |numerator|, denominator and every product stay below this (int64 holds 2^63)
MAX_DECIMALS = 6  # an input with more decimals than this is left to the exact path
MAX_MANTISSA = 1e15  # at most 15 significant digits (DBL_DIG): the decimal is the float's repr
REDUCE_ABOVE = 2**31  # numbers are brought to lowest terms only once they grow past this


class Unsupported(Exception):
    """A program this module does not run (a constant beyond int64, an unknown node): exact path."""


Value = tuple  # (numerator, denominator) int64 arrays


class Rationals:
    """Exact arithmetic on ``n`` rows at once; ``ok`` is False where a row left the safe range,
    ``undefined`` True where the exact path meets a zero denominator."""

    def __init__(self, n: int):
        import numpy as np

        self.n = n
        self.ok = np.ones(n, dtype=bool)
        self.undefined = np.zeros(n, dtype=bool)  # a zero denominator the exact path reaches: UNDEFINED

    # --- values -------------------------------------------------------------------------------

    def constant(self, value: Fraction) -> Value:
        import numpy as np

        if abs(value.numerator) >= LIMIT or value.denominator >= LIMIT:
            raise Unsupported(str(value))
        return np.int64(value.numerator), np.int64(value.denominator)  # scalars: numpy broadcasts them

    def decimal(self, x: np.ndarray) -> Value:
        """``x`` (floats) as exact decimals m / 10^k; rows where that is not certain are marked not ok."""
        import numpy as np

        num = np.zeros(self.n, dtype=np.int64)
        den = np.ones(self.n, dtype=np.int64)
        todo = np.isfinite(x)
        self.ok &= todo
        with np.errstate(invalid="ignore", over="ignore"):
            for k in range(MAX_DECIMALS + 1):
                scale = 10.0**k
                m = np.round(x * scale)
                hit = todo & (np.abs(m) < MAX_MANTISSA) & (m / scale == x)
                np.copyto(num, m, where=hit, casting="unsafe")
                np.copyto(den, 10**k, where=hit)
                todo &= ~hit
                if not todo.any():
                    break
        self.ok &= ~todo
        return num, den

    def _reduce(self, num: np.ndarray, den: np.ndarray) -> Value:
        """Lowest terms, but only once the numbers grow (np.gcd costs ~50× a multiplication)."""
        import numpy as np

        if np.max(den, initial=0) < REDUCE_ABOVE and np.max(np.abs(num), initial=0) < REDUCE_ABOVE:
            return num, den
        g = np.gcd(num, den)
        g[g == 0] = 1  # only on rows already not ok (a product that did not fit)
        return num // g, den // g

    def _product(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a · b, marking not ok the rows where it could pass LIMIT (a float estimate, relative error 2^-52).

        Such rows keep whatever int64 made of it: they are never read again.
        """
        import numpy as np

        self.ok &= np.abs(np.multiply(a, b, dtype=float)) < LIMIT
        return a * b

    def add(self, a: Value, b: Value) -> Value:
        import numpy as np

        if a[1] is b[1] or (a[1].ndim == 0 and b[1].ndim == 0 and a[1] == b[1]):  # same denominator
            num, den = a[0] + b[0], a[1]
        else:
            num, den = self._product(a[0], b[1]) + self._product(b[0], a[1]), self._product(a[1], b[1])
        self.ok &= np.abs(num.astype(float)) < LIMIT  # each product < 2^62: the sum did not wrap
        return self._reduce(num, den)

    def mul(self, a: Value, b: Value) -> Value:
        return self._reduce(self._product(a[0], b[0]), self._product(a[1], b[1]))

    def inverse(self, a: Value, reach: np.ndarray) -> Value:
        """1 / a. Where a is 0 on a row the exact path evaluates (``reach``) the row is ``undefined``."""
        import numpy as np

        zero = a[0] == 0
        self.undefined |= zero & reach
        sign = np.where(a[0] < 0, -1, 1)
        return sign * a[1], np.where(zero, 1, np.abs(a[0]))

    def power(self, a: Value, exponent: int, reach: np.ndarray) -> Value:
        if exponent == 0:
            return self.constant(Fraction(1))
        base = self.inverse(a, reach) if exponent < 0 else a
        out = base
        for _ in range(abs(exponent) - 1):
            out = self.mul(out, base)
        return out

    def compare(self, a: Value, b: Value) -> tuple[np.ndarray, np.ndarray]:
        """(a·db, b·da): the two sides whose order is the order of a and b (denominators > 0)."""
        return self._product(a[0], b[1]), self._product(b[0], a[1])

    def select(self, mask: np.ndarray, a: Value, b: Value) -> Value:
        import numpy as np

        return np.where(mask, a[0], b[0]), np.where(mask, a[1], b[1])

    # --- programs -----------------------------------------------------------------------------

    def run(self, p, env: dict[str, Value], reach: np.ndarray):
        """Run a program (see ``formula.to_program``) on every row: a Value, or a bool array for a condition.

        ``reach`` holds the rows on which the exact path evaluates this node (Piecewise takes the
        first true piece and evaluates nothing after it; and/or stop early): only there does a
        zero denominator make the row ``undefined``, as ``formula.evaluate`` raises Undefined.
        """
        import numpy as np

        kind = p[0]
        if kind == "s":
            if p[1] not in env:
                raise Unsupported(p[1])
            return env[p[1]]
        if kind == "n":
            return self.constant(Fraction(p[1], p[2]))
        if kind in ("+", "*"):
            op = self.add if kind == "+" else self.mul
            args = [self.run(a, env, reach) for a in p[1]]
            out = args[0]
            for a in args[1:]:
                out = op(out, a)
            return out
        if kind == "^":
            return self.power(self.run(p[1], env, reach), int(p[2]), reach)
        if kind in ("min", "max"):
            args = [self.run(a, env, reach) for a in p[1]]
            out = args[0]
            for a in args[1:]:
                left, right = self.compare(a, out)
                out = self.select(left < right if kind == "min" else left > right, a, out)
            return out
        if kind == "abs":
            a = self.run(p[1], env, reach)
            return np.abs(a[0]), a[1]
        if kind == "pw":
            taken = np.zeros(self.n, dtype=bool)
            out = None
            for value, cond in p[1]:
                chosen = self.condition(cond, env, reach & ~taken) & ~taken
                v = self.run(value, env, reach & chosen)
                out = v if out is None else self.select(chosen, v, out)
                taken |= chosen
            if not taken.all():  # the gate makes the last condition True: never happens
                raise Unsupported("pw")
            return out
        raise Unsupported(kind)

    def condition(self, p, env: dict[str, Value], reach: np.ndarray) -> np.ndarray:
        import numpy as np

        kind = p[0]
        if kind in ("T", "F"):
            return np.full(self.n, kind == "T")
        if kind in ("and", "or"):
            out = np.full(self.n, kind == "and")
            for a in p[1]:  # all() / any(): an argument is evaluated while the answer is still open
                open_ = out if kind == "and" else ~out
                c = self.condition(a, env, reach & open_)
                out = (out & c) if kind == "and" else (out | c)
            return out
        if kind == "rel":
            left, right = self.compare(self.run(p[2], env, reach), self.run(p[3], env, reach))
            ops = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal}
            return ops[p[1]](left, right)
        raise Unsupported(kind)

    def kpi_value(self, definitions, formula, env: dict[str, Value]) -> Value:
        """A KPI's actual value: its definitions in order (as ``evaluation.evaluate_kpi``), then its formula.

        Rows left ``undefined`` are the exact path's UNDEFINED; their value is a placeholder 0.
        """
        import numpy as np

        env = dict(env)
        reach = np.ones(self.n, dtype=bool)
        for symbol, f in definitions:
            env[symbol] = self.run(f.program, env, reach)
        value = self.run(formula.program, env, reach)
        if not isinstance(value, tuple):
            raise Unsupported("condition")
        return self.select(self.undefined, self.constant(Fraction(0)), value)

    # --- scoring ------------------------------------------------------------------------------

    def at_least(self, a: Value, c: Fraction) -> np.ndarray:
        """a ≥ c, exactly."""
        left, right = self.compare(a, self.constant(c))
        return left >= right

    def rounded(self, a: Value, places: int) -> np.ndarray:
        """Half-up to ``places`` (``numbers.to_decimal``) as floats: the digits ``kpi score`` shows."""
        import numpy as np

        scaled = self._product(np.abs(a[0]), np.int64(10**places))
        with np.errstate(all="ignore"):  # a zero denominator only on rows already not ok
            q, r = np.divmod(scaled, a[1])
        q = q + (2 * r >= a[1])
        self.ok &= q < 2**53  # exactly a float, so q / 10^places is the nearest double to the decimal
        return np.where(a[0] < 0, -q, q) / 10**places + 0.0
