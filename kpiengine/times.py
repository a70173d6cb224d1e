"""Time for people in Taiwan: parsing what they type (ISO or 民國 dates) and showing Taipei time.

* ``parse_moment`` reads ``--as-of`` and the like: ``2019-01-31`` (the end of that day), ROC dates
  ``107-12-31`` / ``107/12/31`` / ``民國107年12月31日``, ``2019-01-31T17:30`` (Taipei time when no
  offset is given) or full ISO 8601 with an offset. Years outside ``MIN_YEAR``–``MAX_YEAR`` are
  refused before any arithmetic (``0001-01-01T00:00:00+05:00`` used to overflow).
* ``for_people`` shows a moment as Taipei time without microseconds; ``iso`` keeps ISO 8601 with
  its offset for JSON and storage.

Every refusal is a ``TimeError`` whose message is Chinese and quotes what was typed.
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["TAIPEI", "TimeError", "parse_moment", "for_people", "show_time", "iso", "MIN_YEAR", "MAX_YEAR"]

try:
    from zoneinfo import ZoneInfo

    TAIPEI: dt.tzinfo = ZoneInfo("Asia/Taipei")
except Exception:  # pragma: no cover - no tz database: Taiwan has kept UTC+8 since 1979
    TAIPEI = dt.timezone(dt.timedelta(hours=8), "Asia/Taipei")

MIN_YEAR = 1912  # 民國元年
MAX_YEAR = 9998
ROC_OFFSET = 1911

_ROC = re.compile(r"^(?:民國)?\s*(\d{1,4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?"
                  r"(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_YEAR = re.compile(r"^[+-]?(\d+)-")
_EXAMPLES = "2019-01-31、107-12-31（民國）、2019-01-31T17:30 或 2019-01-31T09:30:00+00:00"


class TimeError(ValueError):
    """A time that cannot be used (message in Chinese, quoting what was typed)."""


def _refuse(text: str, why: str = "格式不正確") -> TimeError:
    shown = text if len(text) <= 40 else text[:40] + "…"
    return TimeError(f"時間「{shown}」{why}，請用 {_EXAMPLES}")


def _check_year(text: str, year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _refuse(text, f"超出可用範圍（西元 {MIN_YEAR}–{MAX_YEAR} 年）")


def parse_moment(text: str) -> dt.datetime:
    """An aware datetime from what a person typed (see module doc); a bare date means the end of that day."""
    s = str(text).strip()
    if not s or len(s) > 64:
        raise _refuse(s)
    m = _ROC.match(s)
    if m and len(m[1]) <= 3:  # 民國 years have at most three digits; 4 digits is a western year
        year = int(m[1]) + ROC_OFFSET
        _check_year(s, year)
        try:
            day = dt.date(year, int(m[2]), int(m[3]))
        except ValueError:
            raise _refuse(s, "不是有效的日期") from None
        if m[4] is None:
            return dt.datetime.combine(day, dt.time.max, TAIPEI)
        try:
            return dt.datetime.combine(day, dt.time(int(m[4]), int(m[5]), int(m[6] or 0)), TAIPEI)
        except ValueError:
            raise _refuse(s, "不是有效的時間") from None
    y = _YEAR.match(s)
    if y is None:
        raise _refuse(s)
    _check_year(s, int(y[1]))
    try:
        if len(s) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(s), dt.time.max, TAIPEI)
        moment = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise _refuse(s) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=TAIPEI)
    try:
        moment.astimezone(dt.UTC)
    except OverflowError:
        raise _refuse(s, "超出可用範圍") from None
    return moment


def _aware(moment: dt.datetime | str) -> dt.datetime:
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def for_people(moment: dt.datetime | str | None) -> str:
    """``2019-01-31 17:30:05`` in Taipei time (no microseconds); '—' for none. Accepts ISO text."""
    if moment is None or moment == "":
        return "—"
    try:
        return _aware(moment).astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, OverflowError):
        return str(moment)


def iso(moment: dt.datetime | str) -> str:
    """ISO 8601 with the Taipei offset and whole seconds, for JSON meant to be read (``2019-01-31T17:30:05+08:00``)."""
    return _aware(moment).astimezone(TAIPEI).isoformat(timespec="seconds")


show_time = for_people  # the name the ledger and the CLI use
