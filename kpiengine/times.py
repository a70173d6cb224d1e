"""Times as people here read and type them: Taiwan time (Asia/Taipei), ROC dates accepted.

Stored and exchanged times are UTC ISO 8601 with offset; people see Taipei time without
microseconds. ``--as-of`` accepts ``2019-01-31``, ``107-12-31`` (民國), ``2019-01-31T17:30`` and
full ISO 8601 with an offset; a bare date means the end of that day.
"""

from __future__ import annotations

import datetime as dt
import re

TAIPEI = dt.timezone(dt.timedelta(hours=8), "Asia/Taipei")
ROC_OFFSET = 1911  # 民國 107 年 = 西元 2018 年
MAX_TEXT = 64

_ROC = re.compile(r"^(?P<y>\d{2,3})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?P<rest>[T ].*)?$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class TimeError(ValueError):
    """A time that cannot be read (message in Chinese)."""


def parse_moment(text: str) -> dt.datetime:
    """A point in time typed by a person; without an offset it is Taipei time."""
    s = str(text).strip()
    hint = "請用 2019-01-31、107-12-31（民國）、2019-01-31T17:30 或 2019-01-31T09:30:00+00:00"
    if not s or len(s) > MAX_TEXT:
        raise TimeError(f"時間「{s[:MAX_TEXT]}」格式不正確，{hint}")
    roc = _ROC.match(s)
    if roc:
        year = int(roc["y"]) + ROC_OFFSET
        s = f"{year:04d}-{int(roc['m']):02d}-{int(roc['d']):02d}" + (roc["rest"] or "")
    try:
        if _DAY.match(s):
            moment = dt.datetime.combine(dt.date.fromisoformat(s), dt.time.max, TAIPEI)
        else:
            moment = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=TAIPEI)
        moment.astimezone(dt.UTC)  # out of range once in UTC (year 1 with +05:00) is refused here
    except (ValueError, OverflowError):
        raise TimeError(f"時間「{text}」格式不正確或超出範圍，{hint}") from None
    return moment


def show_time(iso: str | dt.datetime | None) -> str:
    """Taipei time for people: ``2019-01-20 10:00:00``; '—' for none."""
    if iso is None:
        return "—"
    moment = iso if isinstance(iso, dt.datetime) else dt.datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M:%S")
