"""The reporting cycle as services: what the CLI and the web portal both call.

"Score this year", "submit this file as this person", "review this KPI", "what changed between two
versions" each live here once, so an identity check, the sample-data rule or the stale-review rule
is never written twice. Results and refusals are values; the faces decide how to print them.

Official data comes only from the ledger. Sample workbooks (範例資料) are scored only when asked
(``sample=True``), and every result built from them says so; they are never recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .engine import AgencyInputs, Engine, ScoredKpi
from .evaluation import State
from .ledger import AlreadySubmitted, Ledger, LedgerError, Submission, open_for_reading, parse_as_of, utc_now
from .messages import Problem, problem
from .numbers import fraction_text
from .review import Review, ReviewError, make_review

if TYPE_CHECKING:
    from .workbook.validate import Validation


class ServiceError(ValueError):
    """A request refused before anything was recorded (message in Chinese, stable code)."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


def refuse(code: str, **params: Any) -> ServiceError:
    p = problem(code, **params)
    return ServiceError(p.code, p.message)


# -- years and agencies ----------------------------------------------------------------------

def check_year(engine: Engine, year: int) -> int:
    """``year`` if the catalog has its targets; otherwise a refusal listing the years there are."""
    years = engine.catalog.years
    if year in years:
        return year
    available = "、".join(str(y) for y in years) or "無"
    if year > 1911 and year - 1911 in years:
        raise refuse("year-western", year=year, roc=year - 1911, years=available)
    raise refuse("year-unknown", year=year, years=available)


def as_of_moment(as_of: str | dt.datetime | None) -> dt.datetime | None:
    if as_of is None or isinstance(as_of, dt.datetime):
        return as_of
    try:
        return parse_as_of(as_of)
    except LedgerError as exc:
        raise ServiceError("as-of-invalid", str(exc)) from None


# -- scoring ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class YearScores:
    """Every KPI of a year (or one agency) scored, and where the data came from."""

    year: int
    items: list[ScoredKpi]
    sample: bool  # built from 範例資料, not from the ledger
    sources: dict[str, str]  # agency code → where its data came from
    versions: dict[str, int]  # agency code → ledger version used (official data only)
    problems: list[Problem] = field(default_factory=list)  # found while reading sample workbooks
    ledger: Path | None = None
    ledger_head: str | None = None  # hash-chain head when read: pins the exact ledger state
    as_of: dt.datetime | None = None

    @property
    def not_submitted(self) -> list[str]:
        """Agency codes with no submission (未繳交), in catalog order."""
        seen: dict[str, None] = {}
        for i in self.items:
            if i.score.state is State.NOT_SUBMITTED:
                seen[i.kpi.agency_code] = None
        return list(seen)


def score_year(engine: Engine, year: int, *, ledger: Path | None = None, as_of: str | dt.datetime | None = None,
               agency: str | None = None, sample: bool = False, actuals: Path | None = None) -> YearScores:
    """Score ``year`` from the ledger's latest versions (as of a time), or from sample workbooks when asked.

    Official: an agency without a submission is 未繳交; nothing else is read. Sample (``sample=True``):
    the sample workbooks of ``actuals`` (default ``actuals/<year>/``), every row marked 範例資料.
    """
    check_year(engine, year)
    code = agency_code(engine, agency)
    moment = as_of_moment(as_of)
    reviews: list[Review] = []
    problems: list[Problem] = []
    head = None
    if sample:
        if moment is not None:
            raise refuse("sample-as-of")
        submissions, problems = read_samples(engine, year, actuals or engine.root / "actuals" / str(year))
        sources = {a.agency_code: f"範例資料 {Path(a.source).name}" for a in submissions}
        versions: dict[str, int] = {}
    else:
        led = open_for_reading(ledger) if ledger is not None else None
        submissions = []
        if led is not None:
            submissions = [led.inputs_of(s) for s in led.latest(year, moment)]
            reviews = led.reviews(year, moment, latest_only=False)
            head = led.head()
        sources = {a.agency_code: a.source for a in submissions}
        versions = {a.agency_code: a.version for a in submissions if a.version is not None}
    if code is not None:
        submissions = [a for a in submissions if a.agency_code == code]
        problems = [p for p in problems if p.location.get("agency_code") in (None, code)]
    items = engine.score_year(year, submissions, code, reviews)
    return YearScores(year, items, sample, sources, versions, problems, ledger, head, moment)


def read_samples(engine: Engine, year: int, folder: Path) -> tuple[list[AgencyInputs], list[Problem]]:
    """The sample workbooks (and plain YAML files) of ``folder``, every one marked 範例資料.

    A workbook that is not a sample is skipped with a problem: an agency's real file counts only
    once it is submitted to the ledger.
    """
    from .actuals import read_plain_dir
    from .workbook.reader import collect_actuals

    if not folder.is_dir():
        raise refuse("sample-folder-missing", folder=folder)
    found: dict[str, AgencyInputs] = {}
    for a in read_plain_dir(folder):
        if a.year == year:
            found[a.agency_code] = _as_sample(a)
    books, problems = collect_actuals(folder, engine, year)
    for a in books:
        if not a.sample:
            problems.append(problem("sample-not-sample", {"file": Path(a.source).name, "agency_code": a.agency_code},
                                    file=Path(a.source).name))
            continue
        found[a.agency_code] = a
    order = {a.code: n for n, a in enumerate(engine.catalog.agencies)}
    return sorted(found.values(), key=lambda a: order.get(a.agency_code, 999)), problems


def _as_sample(a: AgencyInputs) -> AgencyInputs:
    return AgencyInputs(a.agency_code, a.year, a.values, a.source, None, a.self_ratings, a.narratives, sample=True)


def agency_code(engine: Engine, agency: str | None) -> str | None:
    """The code of an agency given by code or Chinese name (None for None); a refusal listing them all."""
    if agency is None:
        return None
    found = engine.catalog.agency(agency)
    if found is None:
        codes = "、".join(f"{a.code}（{a.name}）" for a in engine.catalog.agencies)
        raise refuse("agency-unknown", agency=agency, codes=codes)
    return found.code


# -- submitting ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SubmitOutcome:
    """What became of an upload: the validation report and the version recorded (or already there)."""

    validation: Validation
    submission: Submission | None = None  # the new version, or the identical earlier one
    duplicate: bool = False  # identical to the latest version: nothing new recorded
    refusal: ServiceError | None = None

    @property
    def recorded(self) -> bool:
        return self.submission is not None and not self.duplicate


def submit_workbook(engine: Engine, ledger: Path, file: Path, *, by: str, year: int | None = None,
                    agency: str | None = None, confirm_warnings: bool = False,
                    limits: Any = None) -> SubmitOutcome:
    """Validate ``file`` and record it as the next version of the agency and year *the workbook says*.

    ``year`` / ``agency`` are what the submitter expects; a workbook that disagrees is refused, and
    so is a sample workbook. An identical file (same SHA-256 as the latest version) is not a new version.
    """
    from .workbook.layout import KIND_SAMPLE
    from .workbook.validate import validate_workbook

    if year is not None:
        check_year(engine, year)
    code = agency_code(engine, agency)
    v = validate_workbook(Path(file), engine, year=year, agency=code, limits=limits)
    if not v.ok:
        return SubmitOutcome(v, refusal=refuse("submit-invalid", errors=len(v.errors)))
    if v.kind == KIND_SAMPLE:
        return SubmitOutcome(v, refusal=refuse("submit-sample", file=Path(file).name))
    needing = [p for p in v.warnings if p.location.get("confirm")]
    if needing and not confirm_warnings:
        return SubmitOutcome(v, refusal=refuse("submit-confirm", n=len(needing)))
    submitter = by.strip()
    if not submitter:
        return SubmitOutcome(v, refusal=refuse("submit-no-submitter"))
    try:
        sub = Ledger(ledger).submit(v, submitter)
    except AlreadySubmitted as dup:
        return SubmitOutcome(v, dup.existing, duplicate=True)
    except LedgerError as exc:
        return SubmitOutcome(v, refusal=ServiceError("ledger", str(exc)))
    return SubmitOutcome(v, sub)


# -- reviewing -------------------------------------------------------------------------------

def record_review(engine: Engine, ledger: Path, kpi_id: str, year: int, light: str, reason: str,
                  by: str, *, now: str | None = None) -> tuple[Review, ScoredKpi]:
    """Record 國發會's 複核 of one KPI, bound to the submission version and computed value it judged."""
    check_year(engine, year)
    kpi = engine.catalog.kpi(kpi_id)
    if kpi is None:
        raise refuse("kpi-unknown", kpi_id=kpi_id)
    if engine.catalog.target(kpi.id, year) is None:
        raise refuse("target-none", kpi_id=kpi.id, year=year)
    current = score_year(engine, year, ledger=ledger, agency=kpi.agency_code)
    (item,) = [i for i in current.items if i.kpi.id == kpi.id]
    if item.score.state is State.NOT_SUBMITTED:
        raise refuse("review-not-submitted", kpi_id=kpi.id, agency=kpi.agency, year=year)
    try:
        review = make_review(kpi.id, year, light, reason, by, now or utc_now(), version=item.version,
                             judged_actual=fraction_text(item.score.actual), judged_light=item.score.light,
                             inputs=item.inputs)
    except ReviewError as exc:
        raise ServiceError("review-invalid", str(exc)) from None
    try:
        Ledger(ledger).record_review(review, kpi.agency_code)
    except LedgerError as exc:
        raise ServiceError("ledger", str(exc)) from None
    return review, item


# -- what changed ----------------------------------------------------------------------------

@dataclass(frozen=True)
class KpiChange:
    """One KPI whose inputs, actual, 達成度, light, 初核 or narrative differ between two versions."""

    kpi_id: str
    name: str
    inputs: tuple[tuple[str, str, str | None, str | None], ...]  # (symbol, label, before, after)
    before: ScoredKpi
    after: ScoredKpi

    @property
    def fields(self) -> list[str]:
        b, a = self.before, self.after
        out = ["inputs"] if self.inputs else []
        if b.score.actual != a.score.actual:
            out.append("actual")
        if b.score.achievement != a.score.achievement:
            out.append("achievement")
        if (b.score.light, b.score.state) != (a.score.light, a.score.state):
            out.append("light")
        if b.self_rating != a.self_rating:
            out.append("self_rating")
        if (b.narrative or "") != (a.narrative or ""):
            out.append("narrative")
        return out


@dataclass(frozen=True)
class VersionDiff:
    agency_code: str
    year: int
    before: Submission
    after: Submission
    changes: list[KpiChange]


def diff_versions(engine: Engine, ledger: Path, year: int, agency: str, from_version: int | None = None,
                  to_version: int | None = None) -> VersionDiff:
    """Per KPI, what changed between two versions of an agency's year (the latest two by default)."""
    check_year(engine, year)
    code = agency_code(engine, agency)
    led = open_for_reading(ledger)
    subs = led.submissions(year, code) if led else []
    by_version = {s.version: s for s in subs}
    if len(subs) < 2 and (from_version is None or to_version is None):
        raise refuse("diff-too-few", agency=code, year=year, n=len(subs))
    to_v = to_version if to_version is not None else subs[-1].version
    from_v = from_version if from_version is not None else to_v - 1
    for v in (from_v, to_v):
        if v not in by_version:
            raise refuse("diff-no-version", agency=code, year=year, version=v,
                         versions="、".join(str(s.version) for s in subs) or "無")
    if from_v == to_v:
        raise refuse("diff-same", version=from_v)
    before_sub, after_sub = by_version[from_v], by_version[to_v]
    before = {i.kpi.id: i for i in engine.score_year(year, [led.inputs_of(before_sub)], code)}
    after = {i.kpi.id: i for i in engine.score_year(year, [led.inputs_of(after_sub)], code)}
    changes = []
    for kpi in engine.catalog.kpis_of(code):
        b, a = before[kpi.id], after[kpi.id]
        inputs = tuple((i.symbol, i.label, _text(b.inputs.get(i.symbol)), _text(a.inputs.get(i.symbol)))
                       for i in kpi.inputs if b.inputs.get(i.symbol) != a.inputs.get(i.symbol))
        change = KpiChange(kpi.id, kpi.name, inputs, b, a)
        if change.fields:
            changes.append(change)
    return VersionDiff(code, year, before_sub, after_sub, changes)


def _text(value: Fraction | None) -> str | None:
    return fraction_text(value)


# -- verification ----------------------------------------------------------------------------

def verify_ledger(ledger: Path):
    """Recompute the ledger's hash chain and stored files (see ``Ledger.verify``)."""
    from .ledger import verify_path

    return verify_path(ledger)
