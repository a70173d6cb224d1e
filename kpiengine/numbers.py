"""Exact numbers: every quantity the engine scores is a ``Fraction``; rounding is for display only."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

__all__ = ["parse_exact", "to_decimal", "display", "fraction_text"]


def parse_exact(text: str | int | float | Fraction | Decimal) -> Fraction:
    """Parse a decimal or fraction string ("87.05", "-5", "100/3") into an exact Fraction.

    Floats are accepted only through their shortest repr (0.1 → 1/10), never their binary value.
    Raises ValueError for anything that is not a finite number.
    """
    if isinstance(text, bool):
        raise ValueError(f"not a number: {text!r}")
    if isinstance(text, Fraction):
        return text
    if isinstance(text, int):
        return Fraction(text)
    if isinstance(text, Decimal):
        if not text.is_finite():
            raise ValueError(f"not a finite number: {text!r}")
        return Fraction(text)
    if isinstance(text, float):
        text = repr(text)
    s = str(text).strip()
    if not s:
        raise ValueError("empty number")
    try:
        if "/" in s:
            num, den = s.split("/", 1)
            return Fraction(Decimal(num.strip())) / Fraction(Decimal(den.strip()))
        d = Decimal(s)
    except (InvalidOperation, ZeroDivisionError) as exc:
        raise ValueError(f"not a number: {text!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    return Fraction(d)


def to_decimal(value: Fraction, places: int = 2) -> Decimal:
    """Round an exact value half-up (四捨五入, halves away from zero) to ``places`` decimals, exactly."""
    scaled = abs(value) * 10**places
    q, r = divmod(scaled.numerator, scaled.denominator)
    if 2 * r >= scaled.denominator:
        q += 1
    sign = "-" if value < 0 and q else ""
    return Decimal(f"{sign}{q}").scaleb(-places)


def display(value: Fraction | None, places: int = 2) -> str:
    """Text for people: half-up rounded, thousands separators, '—' for no value."""
    if value is None:
        return "—"
    d = to_decimal(value, places)
    return f"{d:,.{places}f}"


def fraction_text(value: Fraction | None) -> str | None:
    """Exact machine text: '87.05' when the decimal terminates, else 'p/q'."""
    if value is None:
        return None
    den = value.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den == 1:
        d = Decimal(value.numerator) / Decimal(value.denominator)
        s = format(d.normalize(), "f")
        return s
    return f"{value.numerator}/{value.denominator}"
