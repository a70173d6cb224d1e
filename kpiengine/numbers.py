"""Exact numbers: every quantity the engine scores is a ``Fraction``; rounding is for display only.

``parse_number`` is the one parser for numbers people type — workbook cells, ``kpi eval``
arguments, plain YAML actuals, forms — and ``parse_exact`` the one for machine text (the
catalog, the ledger). Both are bounded *before* any int/Decimal conversion (Python's text → int
conversion is quadratic, and an unbounded exponent allocates without limit):

* at most ``MAX_DIGITS`` (30) significant digits, and a magnitude within 10^±``MAX_EXPONENT`` (30);
  no real KPI value comes near (a national budget in 元 has 13 digits);
* at most ``MAX_TEXT_LENGTH`` characters of text at all.

Typed text accepts what clerks type — full-width digits, thousands separators in groups of three,
a leading sign, spaces around the number — and refuses everything that could silently change a
value: footnote markers (``8329¹``), spaces inside (``12 34``), underscores (``1_000``), misplaced
separators (``2,5,0,0``), exponents (``1e400``), ``inf``/``nan``.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from fractions import Fraction

__all__ = ["NumberError", "MAX_DIGITS", "MAX_EXPONENT", "MAX_TEXT_LENGTH", "parse_number", "parse_exact",
           "to_decimal", "display", "fraction_text"]

MAX_DIGITS = 30  # significant digits of any number accepted anywhere
MAX_EXPONENT = 30  # |decimal exponent|: values between 10^-30 and 10^30 (and 0)
MAX_TEXT_LENGTH = 60  # characters of a typed number (30 digits, 9 separators, sign, point … with room)
_MAX_INT = 10**MAX_EXPONENT

_TYPED = re.compile(r"^[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.[0-9]*)?$")  # after normalisation
_MACHINE = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,6})?$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_MINUS = {"\u2212": "-", "\u2013": "-", "\uff0d": "-", "\ufe63": "-"}


class NumberError(ValueError):
    """Text that is not an acceptable number; the message (Chinese) says why, without the value."""


def _bounded(sign: str, digits: str, point: int, exponent: int = 0) -> Fraction:
    """``sign digits × 10^(exponent - (len(digits) - point))`` after checking the bounds."""
    int_part, frac_part = digits[:point], digits[point:]
    int_part = int_part.lstrip("0")
    frac_part = frac_part.rstrip("0")
    if not int_part:
        lead = len(frac_part) - len(frac_part.lstrip("0"))
        significant = frac_part.lstrip("0")
        magnitude = -lead - 1 + exponent  # position of the first significant digit
    else:
        significant = int_part + frac_part
        magnitude = len(int_part) - 1 + exponent
    significant = significant.rstrip("0") if not frac_part else significant
    if not significant:
        return Fraction(0)
    if len(significant) > MAX_DIGITS:
        raise NumberError(f"有效位數過多（{len(significant)} 位，上限 {MAX_DIGITS} 位）")
    if magnitude >= MAX_EXPONENT or magnitude < -MAX_EXPONENT:
        raise NumberError(f"數值過大或過小（超過 10 的 ±{MAX_EXPONENT} 次方）")
    value = Fraction(int(int_part + frac_part or "0"), 10 ** len(frac_part))
    if exponent:  # the same value either way; most numbers have no exponent
        value *= Fraction(10) ** exponent
    return -value if sign == "-" else value


def _check_length(s: str) -> None:
    if len(s) > MAX_TEXT_LENGTH:
        raise NumberError(f"文字過長（{len(s)} 字元，數字上限 {MAX_DIGITS} 位有效數字）")


def _from_int(value: int) -> Fraction:
    if abs(value) >= _MAX_INT:  # compare before any int → str conversion
        raise NumberError(f"數值過大（超過 10 的 {MAX_EXPONENT} 次方）")
    return Fraction(value)


def _from_machine_text(s: str) -> Fraction:
    _check_length(s)
    if not _MACHINE.match(s):
        raise NumberError("不是數字")
    mantissa, _, exp = s.replace("E", "e").partition("e")
    sign = "-" if mantissa.startswith("-") else ""
    mantissa = mantissa.lstrip("+-")
    whole, _, frac = mantissa.partition(".")
    return _bounded(sign, whole + frac, len(whole), int(exp) if exp else 0)


def _non_text(value: object) -> Fraction | None:
    if type(value) is int:  # the commonest case (YAML and cell integers), decided first
        return _from_int(value)
    if isinstance(value, bool):
        raise NumberError("是／否不是數字")
    if isinstance(value, Fraction):
        if abs(value.numerator) >= _MAX_INT ** 2 or value.denominator >= _MAX_INT ** 2:
            raise NumberError("數值位數過多")
        return value
    if isinstance(value, int):
        return _from_int(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise NumberError("不是有限的數字")
        return _from_machine_text(repr(value))  # the shortest repr: 0.1 → 1/10, never the binary value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NumberError("不是有限的數字")
        return _from_machine_text(str(value))
    return None


def _numberish(ch: str) -> bool:
    """Characters a number could be typed with (so that a refusal can say exactly what is wrong)."""
    return ch in "0123456789+-.,_eE，．－" or ch in _MINUS or ch.isspace() or (
        unicodedata.category(ch) in ("Nd", "No") and unicodedata.normalize("NFKC", ch) in "0123456789")


def parse_number(value: str | int | float | Decimal | Fraction) -> Fraction:
    """What a person typed → an exact Fraction, under the rules above; NumberError (Chinese) otherwise.

    Numbers that are already numbers (a numeric cell, a YAML number) are bounded the same way.
    Units and percent signs are the caller's business (they depend on the input).
    """
    done = _non_text(value)
    if done is not None:
        return done
    if not isinstance(value, str):
        raise NumberError("不是數字")
    s = value.strip()
    if not s:
        raise NumberError("空白")
    _check_length(s)
    if not all(_numberish(ch) for ch in s):
        raise NumberError("不是數字")
    for ch in s:
        if ch.isspace():
            raise NumberError("數字中間有空白")
        if unicodedata.decomposition(ch).startswith(("<super>", "<sub>", "<fraction>", "<circle>")):
            raise NumberError(f"含有上標、下標或註記符號「{ch}」")
    s = unicodedata.normalize("NFKC", s)
    for k, v in _MINUS.items():
        s = s.replace(k, v)
    if "_" in s:
        raise NumberError("含有底線「_」")
    if not _TYPED.match(s) or not any(c in "0123456789" for c in s):
        if "," in s:
            raise NumberError("千分位逗號位置不正確")
        if "e" in s.lower():
            raise NumberError("不接受科學記號（如 1e5），請填完整數字")
        raise NumberError("不是數字")
    sign = "-" if s.startswith("-") else ""
    body = s.lstrip("+-").replace(",", "")
    whole, _, frac = body.partition(".")
    return _bounded(sign, whole + frac, len(whole))


def parse_exact(text: str | int | float | Fraction | Decimal) -> Fraction:
    """Machine text (the catalog, the ledger) → exact Fraction: "87.05", "-5", "1.5e-05", "100/3".

    Floats are accepted only through their shortest repr (0.1 → 1/10), never their binary value.
    Bounded like ``parse_number``; raises NumberError (a ValueError) for anything else.
    """
    done = _non_text(text)
    if done is not None:
        return done
    s = str(text).strip()
    if not s:
        raise NumberError("空白")
    if "/" in s:
        num, den = (part.strip() for part in s.split("/", 1))
        if len(num) > 2 * MAX_TEXT_LENGTH or len(den) > 2 * MAX_TEXT_LENGTH:
            raise NumberError("文字過長")
        if not (_INTEGER.match(num) and _INTEGER.match(den)):
            raise NumberError("不是分數")
        n, d = int(num), int(den)
        if d == 0:
            raise NumberError("分母為 0")
        return Fraction(n, d)
    return _from_machine_text(s)


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
    """Exact machine text: '87.05' when the decimal terminates, else 'p/q'. Never loses a digit."""
    if value is None:
        return None
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    scaled = abs(value.numerator) * (10**places // value.denominator)  # exact: the denominator divides 10^places
    digits = str(scaled).rjust(places + 1, "0")
    text = digits[: len(digits) - places] + ("." + digits[len(digits) - places:] if places else "")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return ("-" if value < 0 else "") + text
