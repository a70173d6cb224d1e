"""Exact rational arithmetic on numpy int64 arrays: the panel cells floats cannot decide, decided exactly.

A panel cell whose float lands within the tolerance of a band edge, the target, a condition's
threshold or a rounding half-point is not a float question: it needs the exact value. The exact
path (``Engine.score_one``, Fractions) costs ~100 µs a cell; this module gets the same value for a
whole column of such cells at once, as a pair of int64 arrays (numerator, denominator > 0) kept in
lowest terms, and scores it the way ``scoring.score`` does (same comparisons, same half-up rounding
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
* a zero denominator anywhere (even in a Piecewise branch the exact path would not take) also marks
  the row not ``ok``: the state UNDEFINED and its reasons stay the exact path's business.

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


class Unsupported(Exception):
    """A program this module does not run (a constant beyond int64, an unknown node): exact path."""


Value = tuple  # (numerator, denominator) int64 arrays


class Rationals:
    """Exact arithmetic on ``n`` rows at once; ``ok`` is False where a row left the safe range."""

    def __init__(self, n: int):
        import numpy as np

        self.n = n
        self.ok = np.ones(n, dtype=bool)

    # --- values -------------------------------------------------------------------------------

    def constant(self, value: Fraction) -> Value:
        import numpy as np

        if abs(value.numerator) >= LIMIT or value.denominator >= LIMIT:
            raise Unsupported(str(value))
        return (np.full(self.n, value.numerator, dtype=np.int64), np.full(self.n, value.denominator, dtype=np.int64))

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
                num[hit] = m[hit]
                den[hit] = 10**k
                todo &= ~hit
                if not todo.any():
                    break
        self.ok &= ~todo
        return self._reduce(num, den)

    def _reduce(self, num: np.ndarray, den: np.ndarray) -> Value:
        import numpy as np

        g = np.gcd(num, den)  # den > 0, so g ≥ 1
        return num // g, den // g

    def _fits(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Where a * b certainly stays below LIMIT in magnitude (float estimate, relative error 2^-52)."""
        import numpy as np

        return np.abs(a.astype(float) * b) < LIMIT

    def _product(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        import numpy as np

        fits = self._fits(a, b)
        self.ok &= fits
        return np.where(fits, a * b, 0)

    def add(self, a: Value, b: Value) -> Value:
        import numpy as np

        den = self._product(a[1], b[1])
        num = self._product(a[0], b[1]) + self._product(b[0], a[1])  # each < 2^62: the sum fits int64
        bad = ~(np.abs(num.astype(float)) < LIMIT) | (den == 0)
        self.ok &= ~bad
        return self._reduce(np.where(bad, 0, num), np.where(bad, 1, den))

    def mul(self, a: Value, b: Value) -> Value:
        import numpy as np

        num, den = self._product(a[0], b[0]), self._product(a[1], b[1])
        return self._reduce(num, np.where(den == 0, 1, den))

    def inverse(self, a: Value) -> Value:
        """1 / a; a zero denominator marks the row not ok (the exact path says UNDEFINED, with its reason)."""
        import numpy as np

        zero = a[0] == 0
        self.ok &= ~zero
        sign = np.where(a[0] < 0, -1, 1)
        return sign * a[1], np.where(zero, 1, np.abs(a[0]))

    def power(self, a: Value, exponent: int) -> Value:
        base = self.inverse(a) if exponent < 0 else a
        out = base
        for _ in range(abs(exponent) - 1):
            out = self.mul(out, base)
        if exponent == 0:
            return self.constant(Fraction(1))
        return out

    def compare(self, a: Value, b: Value) -> tuple[np.ndarray, np.ndarray]:
        """(a·db, b·da): the two sides whose order is the order of a and b (denominators > 0)."""
        return self._product(a[0], b[1]), self._product(b[0], a[1])

    def select(self, mask: np.ndarray, a: Value, b: Value) -> Value:
        import numpy as np

        return np.where(mask, a[0], b[0]), np.where(mask, a[1], b[1])

    # --- programs -----------------------------------------------------------------------------

    def run(self, p, env: dict[str, Value]):
        """Run a program (see ``formula.to_program``): a Value, or a bool array for conditions."""
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
            args = [self.run(a, env) for a in p[1]]
            out = args[0]
            for a in args[1:]:
                out = op(out, a)
            return out
        if kind == "^":
            return self.power(self.run(p[1], env), int(p[2]))
        if kind in ("min", "max"):
            args = [self.run(a, env) for a in p[1]]
            out = args[0]
            for a in args[1:]:
                left, right = self.compare(a, out)
                out = self.select(left < right if kind == "min" else left > right, a, out)
            return out
        if kind == "abs":
            a = self.run(p[1], env)
            return np.abs(a[0]), a[1]
        if kind == "pw":  # the first true condition wins: fold from the last piece back
            pieces = [(self.run(v, env), self._condition(c, env)) for v, c in p[1]]
            out = pieces[-1][0]
            for value, cond in reversed(pieces[:-1]):
                out = self.select(cond, value, out)
            return out
        raise Unsupported(kind)

    def _condition(self, p, env) -> np.ndarray:
        import numpy as np

        kind = p[0]
        if kind in ("T", "F"):
            return np.full(self.n, kind == "T")
        if kind in ("and", "or"):
            conds = [self._condition(a, env) for a in p[1]]
            out = conds[0]
            for c in conds[1:]:
                out = (out & c) if kind == "and" else (out | c)
            return out
        if kind == "rel":
            left, right = self.compare(self.run(p[2], env), self.run(p[3], env))
            ops = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal}
            return ops[p[1]](left, right)
        raise Unsupported(kind)

    def kpi_value(self, definitions, formula, env: dict[str, Value]) -> Value:
        """A KPI's actual value: its definitions in order (as ``evaluation.evaluate_kpi``), then its formula."""
        env = dict(env)
        for symbol, f in definitions:
            env[symbol] = self.run(f.program, env)
        value = self.run(formula.program, env)
        if not isinstance(value, tuple):
            raise Unsupported("condition")
        return value

    # --- scoring ------------------------------------------------------------------------------

    def at_least(self, a: Value, c: Fraction) -> np.ndarray:
        """a ≥ c, exactly."""
        left, right = self.compare(a, self.constant(c))
        return left >= right

    def rounded(self, a: Value, places: int) -> np.ndarray:
        """Half-up to ``places`` (``numbers.to_decimal``) as floats: the digits ``kpi score`` shows."""
        import numpy as np

        scaled = self._product(np.abs(a[0]), np.full(self.n, 10**places, dtype=np.int64))
        q, r = np.divmod(scaled, a[1])
        q = q + (2 * r >= a[1])
        self.ok &= q < 2**53  # exactly a float, so q / 10^places is the nearest double to the decimal
        return np.where(a[0] < 0, -q, q) / 10**places + 0.0
