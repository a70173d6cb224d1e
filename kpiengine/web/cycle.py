"""What the portal asks of the reporting cycle: submit a file, score the year, record a 複核, and
the status board — each a call into ``kpiengine.services``, the layer the CLI calls too.

No rule is decided here: identity, samples, duplicates and stale reviews are the services'. The
only addition is a small cache of scored years keyed by the ledger's hash-chain head, so pages
read while nothing changed do not score all KPIs again (any new row moves the head).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from .. import services
from ..engine import Engine, ScoredKpi
from ..ledger import Submission, open_for_reading
from ..messages import Problem
from ..review import Review, ReviewState
from ..workbook.validate import Validation

TAIPEI = dt.timezone(dt.timedelta(hours=8))


def taipei_time(utc_iso: str | None) -> str:
    """``2019-01-20T02:00:00.000000+00:00`` → ``2019-01-20 10:00`` (Taipei time) for people."""
    if not utc_iso:
        return "—"
    moment = dt.datetime.fromisoformat(utc_iso).astimezone(TAIPEI)
    return moment.strftime("%Y-%m-%d %H:%M")


@dataclass
class UploadOutcome:
    """What became of one upload: refused with problems, identical to an earlier version, or recorded."""

    validation: Validation
    submission: Submission | None = None
    identical_to: int | None = None  # version already holding the same file
    refusal: str | None = None  # a Chinese sentence when nothing was recorded
    refusal_code: str | None = None

    @property
    def problems(self) -> list[Problem]:
        return self.validation.problems

    @property
    def needs_confirmation(self) -> bool:
        return self.refusal_code == "submit-confirm"


def submit_upload(engine: Engine, ledger: Path, file: Path, *, year: int, agency: str, by: str,
                  confirm_warnings: bool = False) -> UploadOutcome:
    """``services.submit_workbook`` as the portal shows it. Blocking: called off the event loop."""
    out = services.submit_workbook(engine, ledger, file, by=by, year=year, agency=agency,
                                   confirm_warnings=confirm_warnings)
    if out.duplicate and out.submission is not None:
        return UploadOutcome(out.validation, identical_to=out.submission.version,
                             refusal=f"此檔案與第 {out.submission.version} 版完全相同（SHA-256 相同），未建立新版本。")
    if out.refusal is not None:
        return UploadOutcome(out.validation, refusal=str(out.refusal), refusal_code=out.refusal.code)
    return UploadOutcome(out.validation, submission=out.submission)


_cache: OrderedDict[tuple, services.YearScores] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 32


def _head(ledger: Path) -> str | None:
    led = open_for_reading(ledger)
    return led.head() if led is not None else None


def scores(engine: Engine, ledger: Path, year: int, agency: str | None = None) -> services.YearScores:
    """The year's official scores (未繳交 where nothing was submitted), cached per ledger state."""
    key = (id(engine), str(Path(ledger).resolve()), year, agency, _head(ledger))
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    result = services.score_year(engine, year, ledger=ledger, agency=agency)
    if result.ledger_head == key[-1]:  # nothing was recorded while scoring: safe to keep
        with _cache_lock:
            _cache[key] = result
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return result


def year_scores(engine: Engine, ledger: Path, year: int, agency: str | None = None) -> list[ScoredKpi]:
    return scores(engine, ledger, year, agency).items


def record_review(engine: Engine, ledger: Path, kpi_id: str, year: int, light: str, reason: str, by: str) -> Review:
    """``services.record_review``: bound to the version and computed value it judged."""
    review, _item = services.record_review(engine, ledger, kpi_id, year, light, reason, by)
    return review


def submissions(ledger: Path, year: int, agency: str | None = None) -> list[Submission]:
    led = open_for_reading(ledger)
    return led.submissions(year, agency) if led is not None else []


@dataclass
class BoardRow:
    """One agency on 國發會's status board."""

    code: str
    name: str
    latest: Submission | None
    versions: int
    kpis: int
    lights: dict[str, int] = field(default_factory=dict)  # light value → count
    stale: int = 0  # 需重新複核
    awaiting: int = 0  # submitted, not yet reviewed
    reviewed: int = 0

    @property
    def submitted(self) -> bool:
        return self.latest is not None

    @property
    def warnings(self) -> int:
        return self.latest.warnings if self.latest else 0


def status_board(engine: Engine, ledger: Path, year: int) -> list[BoardRow]:
    """Every agency of the catalog: 未繳交 or its latest version, warnings, and where its reviews stand."""
    items = year_scores(engine, ledger, year)
    latest: dict[str, Submission] = {}
    counts: dict[str, int] = {}
    for s in submissions(ledger, year):
        latest[s.agency_code] = s
        counts[s.agency_code] = counts.get(s.agency_code, 0) + 1
    rows = []
    for a in engine.catalog.agencies:
        mine = [i for i in items if i.kpi.agency_code == a.code]
        row = BoardRow(a.code, a.name, latest.get(a.code), counts.get(a.code, 0), len(mine))
        for i in mine:
            if i.score.light is not None:
                row.lights[i.score.light.value] = row.lights.get(i.score.light.value, 0) + 1
            if not i.submitted:
                continue
            if i.review_state is ReviewState.STALE:
                row.stale += 1
            elif i.review_state is ReviewState.AWAITING:
                row.awaiting += 1
            else:
                row.reviewed += 1
        rows.append(row)
    return rows
