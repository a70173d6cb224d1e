"""Free text people type (review reasons, names) in, and text written to spreadsheets and CSV out.

* ``check_free_text`` refuses control characters (a ``\\x01`` in a 複核 reason once broke
  ``kpi report`` for every agency) and bidirectional overrides (text that displays differently from
  what it holds); line breaks are kept. Message in Chinese, naming the field.
* ``neutralise`` makes text that a spreadsheet would run as a formula — starting with
  ``= + - @``, a tab or a carriage return (CSV/formula injection, ``=HYPERLINK(…)``) — plain text by
  prefixing an apostrophe (CSV has no cell types); ``is_formula_like`` is the one test, shared with
  the reviewers' xlsx (``report.cells`` stores such text as a string with a quote prefix).
"""

from __future__ import annotations

import unicodedata

__all__ = ["FreeTextError", "check_free_text", "is_formula_like", "neutralise", "FORMULA_STARTS", "MAX_FREE_TEXT"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_FREE_TEXT = 4000
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


class FreeTextError(ValueError):
    """Free text that cannot be recorded (message in Chinese, naming the field)."""


def check_free_text(text: str, field: str, max_length: int = MAX_FREE_TEXT) -> str:
    """``text`` stripped, or FreeTextError if it holds control characters or is too long."""
    s = str(text).replace("\r\n", "\n").strip()
    if len(s) > max_length:
        raise FreeTextError(f"{field}過長（{len(s)} 字，上限 {max_length} 字）")
    for n, ch in enumerate(s, start=1):
        if ch == "\n":
            continue
        if unicodedata.category(ch) == "Cc" or ch in _BIDI:
            raise FreeTextError(f"{field}含有控制字元（第 {n} 字，U+{ord(ch):04X}），請刪除後重新輸入")
    return s


def is_formula_like(text: str) -> bool:
    """True for text a spreadsheet would run as a formula (the reviewers' xlsx stores it with a quote prefix)."""
    return text.startswith(FORMULA_STARTS)


def neutralise(value: object) -> object:
    """For CSV: text a spreadsheet would treat as a formula gets a leading apostrophe; anything else is unchanged."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value
