"""The submission ledger: an append-only SQLite record of every workbook an agency submitted.

Each submission is a new version (v1, v2 …) of (agency, year); nothing is ever updated or
deleted — SQLite triggers RAISE on UPDATE and DELETE — and the file itself is kept beside the
ledger as ``submissions/<agency>/<year>/v<N>-<sha8>.xlsx``. Values are stored as exact text
(``87.05``, ``100/3``), so scoring from the ledger gives the same Fractions as the workbook.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .engine import AgencyInputs
from .numbers import fraction_text, parse_exact
from .review import Review
from .scoring import Light
from .workbook.layout import KIND_SAMPLE

if TYPE_CHECKING:  # the ledger records what validation found; it does not need openpyxl itself
    from .workbook.validate import Validation

DEFAULT_LEDGER = Path("var") / "ledger.sqlite"
TAIPEI = dt.timezone(dt.timedelta(hours=8), "Asia/Taipei")
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    agency_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    version INTEGER NOT NULL,
    submitted_at TEXT NOT NULL,          -- UTC, ISO 8601 with microseconds
    submitted_by TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,             -- name as uploaded
    stored_path TEXT NOT NULL,           -- copy, relative to the ledger's folder
    template_version TEXT,
    kind TEXT,
    warnings INTEGER NOT NULL DEFAULT 0,
    problems_json TEXT NOT NULL DEFAULT '[]',
    UNIQUE (agency_code, year, version)
);
CREATE TABLE IF NOT EXISTS submission_values (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    kpi_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    value TEXT,                          -- exact text; NULL = left empty
    raw TEXT,                            -- what the cell held, for audit
    cell TEXT,                           -- sheet!coordinate
    PRIMARY KEY (submission_id, kpi_id, symbol)
);
CREATE TABLE IF NOT EXISTS submission_kpis (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    kpi_id TEXT NOT NULL,
    self_rating TEXT,
    narrative TEXT,
    PRIMARY KEY (submission_id, kpi_id)
);
"""

SCHEMA += """
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY,
    agency_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    kpi_id TEXT NOT NULL,
    light TEXT NOT NULL CHECK (light IN ('green', 'yellow', 'red', 'white')),
    reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    reviewed_by TEXT NOT NULL,
    reviewed_at TEXT NOT NULL            -- UTC, ISO 8601 with microseconds
);
"""

TABLES = ("submissions", "submission_values", "submission_kpis", "reviews")
TRIGGERS = "".join(
    f"""
CREATE TRIGGER IF NOT EXISTS {t}_no_update BEFORE UPDATE ON {t}
BEGIN SELECT RAISE(ABORT, '提交紀錄只能新增，不可修改（{t}）'); END;
CREATE TRIGGER IF NOT EXISTS {t}_no_delete BEFORE DELETE ON {t}
BEGIN SELECT RAISE(ABORT, '提交紀錄只能新增，不可刪除（{t}）'); END;
"""
    for t in TABLES
)


class LedgerError(ValueError):
    """A submission that cannot be recorded (message in Chinese)."""


@dataclass(frozen=True)
class Submission:
    id: int
    agency_code: str
    year: int
    version: int
    submitted_at: str
    submitted_by: str
    sha256: str
    file_name: str
    stored_path: str
    template_version: str | None
    kind: str | None
    warnings: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def ledger_path(root: Path, option: Path | None = None) -> Path:
    """The ledger file: the option, else env KPI_LEDGER, else ``var/ledger.sqlite`` under the repository root."""
    if option is not None:
        return Path(option)
    env = os.environ.get("KPI_LEDGER")
    return Path(env) if env else root / DEFAULT_LEDGER


def utc_now() -> str:
    return iso_utc(dt.datetime.now(dt.UTC))


def iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def parse_as_of(text: str) -> dt.datetime:
    """A point in time from the command line; times without an offset are Taipei time (UTC+8).

    A bare date (``2019-01-31``) means the end of that day, so it includes that day's submissions.
    """
    s = text.strip()
    try:
        if len(s) == 10:
            day = dt.date.fromisoformat(s)
            return dt.datetime.combine(day, dt.time.max, TAIPEI)
        moment = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise LedgerError(f"時間「{text}」格式不正確，請用 2019-01-31 或 2019-01-31T17:30 或 2019-01-31T09:30:00+00:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=TAIPEI)


class Ledger:
    """One ledger file (created on first use) and its folder of stored workbooks."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(SCHEMA + TRIGGERS)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @property
    def folder(self) -> Path:
        return self.path.parent

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            con.execute("PRAGMA foreign_keys = ON")
            yield con
        finally:
            con.close()

    def submit(self, validation: Validation, by: str, now: dt.datetime | None = None) -> Submission:
        """Record a validated workbook as the next version of its agency and year; copy the file."""
        inputs = validation.inputs
        if inputs is None or validation.errors:
            raise LedgerError(f"檔案有 {len(validation.errors)} 個錯誤，未予收件；請先以 kpi validate 檢查並修正")
        submitted_at = iso_utc(now) if now else utc_now()
        by = by.strip() or "未具名"
        copied: Path | None = None
        with self._connect() as con:
            try:
                con.execute("BEGIN IMMEDIATE")
                (last,) = con.execute("SELECT COALESCE(MAX(version), 0) FROM submissions WHERE agency_code = ? AND year = ?",
                                      (inputs.agency_code, inputs.year)).fetchone()
                version = last + 1
                rel = Path("submissions") / inputs.agency_code / str(inputs.year) / f"v{version}-{validation.sha256[:8]}.xlsx"
                copied = self.folder / rel
                copied.parent.mkdir(parents=True, exist_ok=True)
                tmp = copied.with_suffix(".tmp")
                shutil.copyfile(validation.path, tmp)
                tmp.replace(copied)
                copied.chmod(0o444)
                problems = [p.as_dict() for p in validation.problems]
                cur = con.execute(
                    "INSERT INTO submissions (agency_code, year, version, submitted_at, submitted_by, sha256, file_name,"
                    " stored_path, template_version, kind, warnings, problems_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (inputs.agency_code, inputs.year, version, submitted_at, by, validation.sha256,
                     validation.path.name, rel.as_posix(), validation.template_version, validation.kind,
                     len(validation.warnings), json.dumps(problems, ensure_ascii=False)))
                sid = cur.lastrowid
                rows = []
                for kpi_id, values in inputs.values.items():
                    for symbol, value in values.items():
                        cell = validation.cells.get(f"{kpi_id}:{symbol}")
                        raw = None if cell is None or cell.value is None else str(cell.value)
                        rows.append((sid, kpi_id, symbol, fraction_text(value), raw, cell.where if cell else None))
                con.executemany("INSERT INTO submission_values VALUES (?,?,?,?,?,?)", rows)
                kpi_ids = sorted(set(inputs.self_ratings) | set(inputs.narratives))
                con.executemany("INSERT INTO submission_kpis VALUES (?,?,?,?)",
                                [(sid, k, inputs.self_ratings.get(k), inputs.narratives.get(k)) for k in kpi_ids])
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                if copied is not None and copied.exists():
                    copied.chmod(0o644)
                    copied.unlink()
                raise
        return self.get(sid)

    def _row(self, row: tuple) -> Submission:
        return Submission(*row)

    _COLUMNS = ("id, agency_code, year, version, submitted_at, submitted_by, sha256, file_name, stored_path,"
                " template_version, kind, warnings")

    def get(self, submission_id: int) -> Submission:
        with self._connect() as con:
            row = con.execute(f"SELECT {self._COLUMNS} FROM submissions WHERE id = ?", (submission_id,)).fetchone()
        if row is None:
            raise LedgerError(f"找不到提交紀錄 {submission_id}")
        return self._row(row)

    def submissions(self, year: int | None = None, agency: str | None = None) -> list[Submission]:
        """Every version, oldest first, optionally of one year and/or agency."""
        sql = f"SELECT {self._COLUMNS} FROM submissions WHERE (? IS NULL OR year = ?) AND (? IS NULL OR agency_code = ?)" \
              " ORDER BY agency_code, year, version"
        with self._connect() as con:
            return [self._row(r) for r in con.execute(sql, (year, year, agency, agency))]

    def latest(self, year: int, as_of: dt.datetime | None = None) -> list[Submission]:
        """Each agency's latest version of ``year`` submitted at or before ``as_of`` (now if None)."""
        limit = iso_utc(as_of) if as_of else None
        sql = f"SELECT {self._COLUMNS} FROM submissions s WHERE year = ? AND (? IS NULL OR submitted_at <= ?)" \
              " AND version = (SELECT MAX(version) FROM submissions t WHERE t.agency_code = s.agency_code" \
              " AND t.year = s.year AND (? IS NULL OR t.submitted_at <= ?)) ORDER BY agency_code"
        with self._connect() as con:
            return [self._row(r) for r in con.execute(sql, (year, limit, limit, limit, limit))]

    def inputs_of(self, sub: Submission) -> AgencyInputs:
        """The AgencyInputs recorded in one submission."""
        with self._connect() as con:
            values: dict[str, dict] = {}
            for kpi_id, symbol, value in con.execute(
                    "SELECT kpi_id, symbol, value FROM submission_values WHERE submission_id = ? ORDER BY rowid", (sub.id,)):
                values.setdefault(kpi_id, {})[symbol] = None if value is None else parse_exact(value)
            ratings, narratives = {}, {}
            for kpi_id, rating, narrative in con.execute(
                    "SELECT kpi_id, self_rating, narrative FROM submission_kpis WHERE submission_id = ?", (sub.id,)):
                if rating:
                    ratings[kpi_id] = rating
                if narrative:
                    narratives[kpi_id] = narrative
        source = f"帳本 {sub.agency_code} {sub.year} 年度第 {sub.version} 版（{sub.submitted_at}，{sub.submitted_by}）"
        return AgencyInputs(sub.agency_code, sub.year, values, source=source, version=sub.version,
                            self_ratings=ratings, narratives=narratives, sample=sub.kind == KIND_SAMPLE)


    def record_review(self, review: Review, agency_code: str) -> Review:
        """Append a 複核; an earlier review of the same KPI stays in the ledger, the latest one counts."""
        with self._connect() as con:
            con.execute("INSERT INTO reviews (agency_code, year, kpi_id, light, reason, reviewed_by, reviewed_at)"
                        " VALUES (?,?,?,?,?,?,?)", (agency_code, review.year, review.kpi_id, review.light.value,
                                                    review.reason, review.reviewed_by, review.reviewed_at))
        return review

    def reviews(self, year: int, as_of: dt.datetime | None = None, latest_only: bool = True) -> list[Review]:
        """The reviews of ``year`` (at or before ``as_of``), in time order; by default the latest per KPI."""
        limit = iso_utc(as_of) if as_of else None
        with self._connect() as con:
            rows = con.execute("SELECT kpi_id, year, light, reason, reviewed_by, reviewed_at FROM reviews"
                               " WHERE year = ? AND (? IS NULL OR reviewed_at <= ?) ORDER BY reviewed_at, id",
                               (year, limit, limit)).fetchall()
        found = [Review(k, y, Light(lt), r, b, at) for k, y, lt, r, b, at in rows]
        if not latest_only:
            return found
        return list({r.kpi_id: r for r in found}.values())


def latest_inputs(ledger: Path, year: int, as_of: dt.datetime | str | None = None) -> list[AgencyInputs]:
    """Each agency's latest submitted version for ``year`` (at or before ``as_of``), ready for Engine.score_year."""
    if isinstance(as_of, str):
        as_of = parse_as_of(as_of)
    if not Path(ledger).exists():
        return []
    led = Ledger(ledger)
    return [led.inputs_of(s) for s in led.latest(year, as_of)]
