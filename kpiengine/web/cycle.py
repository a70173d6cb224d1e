"""What the portal asks of the reporting cycle: submit a file, score the year, record a 複核, and
the status board — each a call into the same engine, ledger and validation the CLI uses.

No rule is decided here: identity, duplicates and stale reviews are the ledger's, validation's
and the engine's. Functions take plain paths and return values; routes only render them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..engine import Engine, ScoredKpi
from ..evaluation import State
from ..ledger import Ledger, LedgerError, Submission, latest_inputs, utc_now
from ..messages import Problem
from ..numbers import fraction_text
from ..review import Review, ReviewError, ReviewState, make_review
from ..workbook.validate import Validation, validate_workbook

TAIPEI = dt.timezone(dt.timedelta(hours=8))


def taipei_time(utc_iso: str | None) -> str:
    """``2019-01-20T02:00:00.000000+00:00`` → ``2019-01-20 10:00``（臺北時間） for people."""
    if not utc_iso:
        return "—"
    moment = dt.datetime.fromisoformat(utc_iso).astimezone(TAIPEI)
    return moment.strftime("%Y-%m-%d %H:%M")


@dataclass
class UploadOutcome:
    """What became of one upload: refused with problems, identical to an earlier version, or recorded."""

    validation: Validation
    submission: Submission | None = None
    identical_to: int | None = None  # version already holding the same SHA-256
    refusal: str | None = None  # a Chinese sentence when nothing was recorded

    @property
    def problems(self) -> list[Problem]:
        return self.validation.problems


def submit_upload(engine: Engine, ledger: Path, file: Path, *, year: int, agency: str, by: str) -> UploadOutcome:
    """Validate ``file`` as ``agency``'s workbook for ``year`` and record it as the next version.

    Blocking (openpyxl, SQLite): the web layer calls it off the event loop.
    """
    v = validate_workbook(file, engine, year=year, agency=agency)
    if not v.ok:
        return UploadOutcome(v, refusal=f"檔案有 {len(v.errors)} 個錯誤，未予收件；請修正後重新上傳。")
    if v.kind == "sample":
        return UploadOutcome(v, refusal="本檔為範例資料，不可作為機關正式填報。")
    led = Ledger(ledger)
    same = [s for s in led.submissions(year, agency) if s.sha256 == v.sha256]
    if same:
        return UploadOutcome(v, identical_to=same[-1].version,
                             refusal=f"此檔案與第 {same[-1].version} 版完全相同（SHA-256 相同），未建立新版本。")
    try:
        sub = led.submit(v, by)
    except LedgerError as exc:
        return UploadOutcome(v, refusal=str(exc))
    return UploadOutcome(v, submission=sub)


def year_scores(engine: Engine, ledger: Path, year: int, agency: str | None = None) -> list[ScoredKpi]:
    """Every KPI of the year from each agency's latest official version (未繳交 where none), with reviews."""
    if not Path(ledger).exists():
        return engine.score_year(year, [], agency, [])
    submissions = [s for s in latest_inputs(ledger, year) if not s.sample]
    reviews = Ledger(ledger).reviews(year, latest_only=False)
    return engine.score_year(year, submissions, agency, reviews)


def record_review(engine: Engine, ledger: Path, kpi_id: str, year: int, light: str, reason: str, by: str) -> Review:
    """A 複核 bound to the version and computed value it judged; refused for a KPI not yet submitted."""
    kpi = engine.catalog.kpi(kpi_id)
    if kpi is None:
        raise ReviewError(f"找不到指標 {kpi_id}")
    if year not in engine.catalog.years:
        raise ReviewError(f"{year} 年度沒有目標值，無法複核")
    (item,) = [i for i in year_scores(engine, ledger, year, kpi.agency_code) if i.kpi.id == kpi.id]
    if item.score.state is State.NOT_SUBMITTED:
        raise ReviewError(f"{kpi.agency}尚未繳交 {year} 年度資料，無法複核")
    review = make_review(kpi.id, year, light, reason, by, utc_now(), version=item.version,
                         judged_actual=fraction_text(item.score.actual) if item.score.actual is not None else None,
                         judged_light=item.score.light, inputs=item.inputs)
    return Ledger(ledger).record_review(review, kpi.agency_code)


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


def status_board(engine: Engine, ledger: Path, year: int, items: list[ScoredKpi] | None = None) -> list[BoardRow]:
    """Every agency of the catalog: 未繳交 or its latest version, warnings, and where its reviews stand."""
    items = items if items is not None else year_scores(engine, ledger, year)
    subs = Ledger(ledger).submissions(year) if Path(ledger).exists() else []
    latest: dict[str, Submission] = {}
    counts: dict[str, int] = {}
    for s in subs:
        if s.kind == "sample":
            continue
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
