"""What a clerk typed → an exact number, per input domain; never ``eval``.

Accepts what real clerks type: numbers stored as text, thousands separators, full-width digits
(１２３), trailing spaces, the input's own unit after the number ("6,500人"), percent signs
("90%") and cells formatted as percent (0.9 shown as 90% means 90). Text is normalised with
NFKC by ``numbers.parse_number`` — the one number parser of every entry point, bounded in digits
and exponent — which refuses footnote markers, inner spaces, underscores and exponents.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

from ..messages import shorten
from ..model import Domain, Input
from ..numbers import MAX_TEXT_LENGTH, NumberError, fraction_text, parse_number, to_decimal

MAX_CELL_TEXT = MAX_TEXT_LENGTH + 20  # a number, a unit and spaces
PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
YES = {"是", "已完成", "完成", "y", "yes", "v", "✓", "✔", "true"}
NO = {"否", "未完成", "n", "no", "x", "✗", "false"}
PERCENT_DOMAINS = (Domain.PERCENT, Domain.SCORE)


@dataclass(frozen=True)
class Parsed:
    """A cell's value (None = empty) and (code, params) of what is wrong or worth saying."""

    value: Fraction | None
    errors: tuple[tuple[str, dict[str, Any]], ...] = ()
    notes: tuple[tuple[str, dict[str, Any]], ...] = ()  # warnings / info
    given: bool = False  # something was typed (even if wrong)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Ctx:
    inp: Input
    shown: str
    errors: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def params(self, **extra: Any) -> dict[str, Any]:
        return {"label": self.inp.label, "value": self.shown, "kind": self.inp.domain.label,
                "unit": self.inp.unit or "—", **extra}


@lru_cache(maxsize=1024)  # a workbook has a handful of formats and thousands of cells
def is_percent_format(number_format: str | None) -> bool:
    """True if an Excel number format scales by 100 (an unquoted, unescaped %)."""
    if not number_format:
        return False
    fmt = re.sub(r'"[^"]*"', "", number_format)
    fmt = re.sub(r"\\.", "", fmt)
    return "%" in fmt


def displayed(number: Fraction, number_format: str | None) -> str | None:
    """What a number format shows for ``number`` when it hides digits (rounds, scales, hides), else None.

    Covers the formats clerks meet: fixed decimals (``0``, ``#,##0``, ``0.0``), percent, thousands
    scaling (``#,##0,``) and empty sections (``;;;``). General and unrecognised formats return None:
    they show what was typed.
    """
    if not number_format or number_format.strip().lower() == "general" or "@" in number_format:
        return None
    sections = number_format.split(";")
    section = sections[0]
    if number < 0 and len(sections) > 1:
        section = sections[1]
    elif number == 0 and len(sections) > 2:
        section = sections[2]
    plan = _section_plan(section)
    if not isinstance(plan, _Plan):
        return plan
    scaled = abs(number)
    if plan.percent:
        scaled *= 100
    scaled /= Fraction(1000) ** plan.thousands  # trailing commas scale by 1000
    rounded = to_decimal(scaled, plan.places)
    if Fraction(rounded) == scaled:
        return None
    text = f"{rounded:,.{plan.places}f}" if plan.grouped else f"{rounded:.{plan.places}f}"
    sign = "-" if number < 0 and (len(sections) == 1 or plan.minus) else ""
    return sign + text + ("%" if plan.percent else "")


@dataclass(frozen=True)
class _Plan:
    """What one section of a number format does to a number (see ``displayed``)."""

    percent: bool
    thousands: int  # trailing commas: each divides by 1000
    places: int
    grouped: bool  # thousands separators
    minus: bool  # the section writes its own minus sign


@lru_cache(maxsize=1024)  # parsed once per format, not once per cell
def _section_plan(section: str) -> _Plan | str | None:
    """The section's ``_Plan``; "" when it shows nothing at all, None when it shows what was typed."""
    fmt = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.', "", section)
    if not fmt.strip() or not re.search(r"[0#?]", fmt):
        return "" if not fmt.strip() else None  # ;;; shows nothing at all
    if re.search(r"[eE][+-]|[ymdhs]", fmt):
        return None  # scientific notation, dates: not for these cells
    body = re.search(r"[0#?,.]+", fmt).group(0)
    integer, _, decimals = body.partition(".")
    return _Plan(percent="%" in fmt, thousands=len(integer) - len(integer.rstrip(",")),
                 places=sum(1 for ch in decimals if ch in "0#?"), grouped="," in integer.rstrip(","),
                 minus="-" in fmt)


def normalise_text(text: str) -> str:
    """NFKC (full-width digits, ％, ，), unify minus signs, drop all spaces."""
    s = unicodedata.normalize("NFKC", text)
    s = s.replace("\u2212", "-").replace("\u2013", "-")
    return re.sub(r"\s+", "", s)


def parse_cell(value: Any, number_format: str | None, inp: Input) -> Parsed:
    """Read one input cell for ``inp``; domain rules are checked here so each error names the cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Parsed(None)
    ctx = _Ctx(inp, shorten(str(value).strip()) if isinstance(value, str) else str(value).strip())
    number = _to_number(value, number_format, ctx)
    if number is not None and not ctx.errors:
        _check_domain(number, ctx, is_percent_format(number_format) or ctx.shown.endswith(("%", "％")))
    if ctx.errors:
        return Parsed(number, tuple(ctx.errors), tuple(ctx.notes), given=True)
    return Parsed(number, (), tuple(ctx.notes), given=True)


def _to_number(value: Any, number_format: str | None, ctx: _Ctx) -> Fraction | None:
    inp = ctx.inp
    if isinstance(value, bool):
        if inp.domain is Domain.BOOL:
            return Fraction(int(value))
        ctx.errors.append(("wb-not-number", ctx.params()))
        return None
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        ctx.shown = f"{value}（日期／時間）"
        ctx.errors.append(("wb-not-number", ctx.params()))
        return None
    if isinstance(value, (int, float)):
        try:
            number = parse_number(value)
        except NumberError as exc:
            ctx.shown = "無限大或非數字" if isinstance(value, float) and not math.isfinite(value) else shorten(repr(value))
            ctx.errors.append(("wb-number-refused", ctx.params(reason=str(exc))))
            return None
        shown = displayed(number, number_format)
        if shown is not None:  # the cell shows something else than what it holds: what is seen must be what is scored
            if inp.domain is Domain.COUNT and number.denominator != 1:  # one error saying both
                ctx.errors.append(("wb-not-integer", ctx.params(value=f"{fraction_text(number)}，儲存格卻顯示為 {shown}")))
                return number
            ctx.errors.append(("wb-display-differs", ctx.params(shown=shown or "（空白）", value=fraction_text(number))))
            return None
        if is_percent_format(number_format):
            if inp.domain not in PERCENT_DOMAINS:
                ctx.shown = f"{fraction_text(number * 100)}%"
                ctx.errors.append(("wb-percent-unexpected", ctx.params()))
                return None
            ctx.notes.append(("wb-percent-format", ctx.params(shown=f"{fraction_text(number * 100)}%",
                                                               value=fraction_text(number * 100))))
            return number * 100
        return number
    raw = str(value).strip()
    if len(raw) > MAX_CELL_TEXT:  # bounded before any normalisation or conversion
        ctx.shown = shorten(raw)
        ctx.errors.append(("wb-number-refused", ctx.params(reason=f"文字過長（{len(raw)} 字元）")))
        return None
    if inp.domain is Domain.BOOL:
        low = normalise_text(raw).lower()
        if low in YES:
            return Fraction(1)
        if low in NO:
            return Fraction(0)
    core = raw
    unit = inp.unit or ""
    if unit and unit not in ("%", "是/否") and core.endswith(unit) and len(core) > len(unit):
        core = core[: -len(unit)].rstrip()
    percent = core.endswith(("%", "％"))
    if percent:
        core = core[:-1].rstrip()
    try:
        number = parse_number(core)
    except NumberError as exc:
        plain = normalise_text(core)
        if PLAIN.match(plain) or GROUPED.match(plain):  # digits, but not as typed: say exactly why
            ctx.errors.append(("wb-number-refused", ctx.params(reason=str(exc))))
        else:
            ctx.errors.append(("wb-not-number", ctx.params()))
        return None
    if percent and inp.domain not in PERCENT_DOMAINS:
        ctx.errors.append(("wb-percent-unexpected", ctx.params()))
        return None
    return number


_BREACH_CODE = {"minimum": "wb-negative", "integer": "wb-not-integer", "maximum": "wb-score-range",
                "only": "wb-bool-invalid"}


def _check_domain(number: Fraction, ctx: _Ctx, percent_typed: bool) -> None:
    """``Domain.rule`` decides; here a breach becomes the cell's error code."""
    d = ctx.inp.domain
    breach = d.rule.breach(number)
    if breach is not None:
        code = "wb-rank-range" if d is Domain.RANK else _BREACH_CODE[breach]
        shown = ctx.shown if breach == "only" else fraction_text(number) or ctx.shown
        ctx.errors.append((code, ctx.params(value=shown)))
    elif d is Domain.PERCENT and not percent_typed and 0 < number <= 1:
        ctx.notes.append(("wb-percent-fraction", ctx.params(value=fraction_text(number) or ctx.shown)))