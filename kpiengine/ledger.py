"""The ledger: an append-only, tamper-evident SQLite record of submissions, reviews and audit events.

Append-only: triggers RAISE on UPDATE, DELETE and on an INSERT that would REPLACE a row.
Tamper-evident: every submission, review and audit row is a link of one hash chain (table
``chain``): each link's hash covers the row's content — for a submission, every value, 初核 and
narrative and the stored file's SHA-256 — and the previous link's hash. ``verify`` recomputes the
chain and every stored file's SHA-256 and names the first break. A ledger whose tables or
triggers are missing is refused, never quietly re-created; reading opens the file read-only.

Values are stored as exact text (``87.05``, ``100/3``), so scoring from the ledger gives the same
Fractions as the workbook. Files are kept beside the ledger as
``submissions/<agency>/<year>/v<N>-<sha8>.xlsx``.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .engine import AgencyInputs
from .filehash import file_sha256
from .numbers import fraction_text, parse_exact
from .review import Review
from .scoring import Light
from .times import TimeError, parse_moment
from .workbook.layout import KIND_SAMPLE

if TYPE_CHECKING:  # the ledger records what validation found; it does not need openpyxl itself
    from .workbook.validate import Validation

DEFAULT_LEDGER = Path("var") / "ledger.sqlite"
SCHEMA_VERSION = 2
GENESIS = "0" * 64
LOCK_TIMEOUT_S = 30.0  # env KPI_LEDGER_TIMEOUT overrides (seconds)

SCHEMA = """
CREATE TABLE submissions (
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
CREATE TABLE submission_values (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    kpi_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    value TEXT,                          -- exact text, NULL = left empty
    raw TEXT,                            -- what the cell held, for audit
    cell TEXT,                           -- sheet!coordinate
    PRIMARY KEY (submission_id, kpi_id, symbol)
);
CREATE TABLE submission_kpis (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    kpi_id TEXT NOT NULL,
    self_rating TEXT,
    narrative TEXT,
    PRIMARY KEY (submission_id, kpi_id)
);
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    agency_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    kpi_id TEXT NOT NULL,
    light TEXT NOT NULL CHECK (light IN ('green', 'yellow', 'red', 'white')),
    reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    reviewed_by TEXT NOT NULL,
    reviewed_at TEXT NOT NULL,           -- UTC, ISO 8601 with microseconds
    version INTEGER,                     -- the submission version judged
    judged_actual TEXT,                  -- exact computed actual when judged
    judged_light TEXT,                   -- computed light when judged
    inputs_digest TEXT                   -- digest of the KPI's inputs when judged
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,                    -- UTC, ISO 8601 with microseconds
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE chain (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('submission', 'review', 'audit')),
    ref_id INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (kind, ref_id)
);
"""

# key columns of each table: an INSERT whose key exists would REPLACE a row, so it is refused
KEYS = {
    "submissions": ("id",),
    "submission_values": ("submission_id", "kpi_id", "symbol"),
    "submission_kpis": ("submission_id", "kpi_id"),
    "reviews": ("id",),
    "audit": ("id",),
    "chain": ("seq",),
}
TABLES = tuple(KEYS)


def _triggers() -> dict[str, str]:
    out = {}
    for t, cols in KEYS.items():
        same = " AND ".join(f"{c} = NEW.{c}" for c in cols)
        extra = " OR (agency_code = NEW.agency_code AND year = NEW.year AND version = NEW.version)" \
            if t == "submissions" else ""
        out[f"{t}_no_update"] = (f"CREATE TRIGGER {t}_no_update BEFORE UPDATE ON {t} "
                                 f"BEGIN SELECT RAISE(ABORT, '帳本只能新增，不可修改（{t}）'); END")
        out[f"{t}_no_delete"] = (f"CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t} "
                                 f"BEGIN SELECT RAISE(ABORT, '帳本只能新增，不可刪除（{t}）'); END")
        out[f"{t}_no_replace"] = (f"CREATE TRIGGER {t}_no_replace BEFORE INSERT ON {t} "
                                  f"WHEN EXISTS (SELECT 1 FROM {t} WHERE ({same}){extra}) "
                                  f"BEGIN SELECT RAISE(ABORT, '帳本只能新增，不可覆寫（{t}）'); END")
    return out


TRIGGERS = _triggers()


class LedgerError(ValueError):
    """The ledger cannot do what was asked (message in Chinese); nothing was recorded."""


class AlreadySubmitted(LedgerError):
    """The same file (same SHA-256) is already the agency's latest version: not a new version."""

    def __init__(self, existing: Submission):
        self.existing = existing
        super().__init__(f"此檔案與 {existing.agency_code} {existing.year} 年度第 {existing.version} 版完全相同"
                         f"（SHA-256 {existing.sha256[:12]}…），不另立新版本")


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


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    detail: dict[str, Any]


@dataclass
class VerifyReport:
    """What ``verify`` found: the chain's length and head, and every break (first one first)."""

    path: Path
    entries: int = 0
    head: str = GENESIS
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def ledger_path(root: Path, option: Path | None = None) -> Path:
    """The ledger file: the option, else env KPI_LEDGER, else ``var/ledger.sqlite`` under the repository root."""
    if option is not None:
        return Path(option)
    env = os.environ.get("KPI_LEDGER")
    if env:
        return Path(env)
    if root.name == "_catalog":  # the catalog installed inside the package: keep data out of site-packages
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        return base / "kpiengine" / "ledger.sqlite"
    return root / DEFAULT_LEDGER


def utc_now() -> str:
    return iso_utc(dt.datetime.now(dt.UTC))


def iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def parse_as_of(text: str) -> dt.datetime:
    """A point in time from the command line (ISO or 民國 dates, Taipei time by default): see ``times``."""

    try:
        return parse_moment(text)
    except TimeError as exc:
        raise LedgerError(str(exc)) from None


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def link_hash(prev_hash: str, kind: str, content: Any) -> str:
    """One link of the chain: the previous hash, the kind of row and its canonical content."""
    h = hashlib.sha256()
    h.update(prev_hash.encode("ascii") + b"\n" + kind.encode("ascii") + b"\n")
    h.update(_canonical(content))
    return h.hexdigest()


def _timeout() -> float:
    try:
        value = float(os.environ.get("KPI_LEDGER_TIMEOUT", LOCK_TIMEOUT_S))
    except ValueError:
        return LOCK_TIMEOUT_S
    return value if 0 <= value <= 600 else LOCK_TIMEOUT_S


def _sqlite_message(exc: BaseException, path: Path) -> str:
    """The Chinese message for an error SQLite or the file system raised while using the ledger."""
    text = str(exc).lower()
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return f"磁碟空間不足，無法寫入帳本 {path}；未記錄任何資料"
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"沒有權限寫入帳本資料夾 {path.parent}（唯讀或權限不足）；未記錄任何資料"
    if "locked" in text or "busy" in text:
        return f"帳本 {path} 正由其他程序使用，等候 {_timeout():g} 秒後仍無法取得；未記錄任何資料，請稍後再試"
    if "full" in text or "too large" in text or "disk i/o" in text:
        return f"磁碟空間不足或無法寫入帳本 {path}；未記錄任何資料"
    if "readonly" in text or "read-only" in text:
        return f"帳本 {path} 是唯讀的，無法寫入；未記錄任何資料"
    if "not a database" in text or "malformed" in text:
        return f"{path} 不是有效的 SQLite 帳本檔（檔案可能損毀或不是帳本）"
    if "unable to open" in text:
        return f"無法開啟帳本 {path}（路徑不存在、不是檔案或權限不足）"
    if "只能新增" in str(exc):
        return str(exc)
    return f"帳本 {path} 無法使用：{exc}"


class Ledger:
    """One ledger file and its folder of stored workbooks.

    ``Ledger(path)`` opens for writing and creates an empty ledger when the file does not exist;
    ``Ledger(path, write=False)`` opens an existing file read-only (works on read-only storage).
    Either way a file that is not a complete ledger of this schema is refused with LedgerError.
    """

    def __init__(self, path: Path, write: bool = True, *, check_schema: bool = True):
        self.path = Path(path)
        self.write = write
        self._check_path()
        if write and not self.path.exists():
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LedgerError(_sqlite_message(exc, self.path)) from None
        with self._connect() as con:
            if write:
                con.execute("BEGIN IMMEDIATE")  # two first users at once: one creates, the other waits and checks
            objects = con.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
            if not objects and write:
                for statement in [*SCHEMA.split(";"), *TRIGGERS.values()]:
                    if statement.strip():
                        con.execute(statement)
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            if write:
                con.execute("COMMIT")
            if (objects or not write) and check_schema:
                self._check_schema(con, objects)

    # -- opening -----------------------------------------------------------------------------

    def _check_path(self) -> None:
        p = self.path
        if p.exists():
            mode = p.stat().st_mode
            if stat.S_ISDIR(mode):
                raise LedgerError(f"帳本路徑 {p} 是資料夾，不是檔案；請以 --ledger 指定帳本檔（例如 var/ledger.sqlite）")
            if not stat.S_ISREG(mode):
                raise LedgerError(f"帳本路徑 {p} 不是一般檔案；請以 --ledger 指定帳本檔（例如 var/ledger.sqlite）")
        elif not self.write:
            raise LedgerError(f"找不到帳本 {p}；請以 --ledger 或環境變數 KPI_LEDGER 指定")

    def _check_schema(self, con: sqlite3.Connection, objects: list[tuple]) -> None:
        problems = schema_problems(con, objects, self.path)
        if problems:
            raise LedgerError(problems[0])

    @property
    def folder(self) -> Path:
        return self.path.parent

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            if self.write:
                con = sqlite3.connect(self.path, isolation_level=None, timeout=_timeout())
            else:
                con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                                      timeout=_timeout())
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(_sqlite_message(exc, self.path)) from None
        try:
            con.execute("PRAGMA foreign_keys = ON")
            yield con
        except (sqlite3.Error, OSError) as exc:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise LedgerError(_sqlite_message(exc, self.path)) from None
        finally:
            con.close()

    # -- the chain ---------------------------------------------------------------------------

    @staticmethod
    def _head(con: sqlite3.Connection) -> str:
        row = con.execute("SELECT hash FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
        return row[0] if row else GENESIS

    def _link(self, con: sqlite3.Connection, kind: str, ref_id: int) -> str:
        return link_row(con, kind, ref_id)

    def _require_write(self) -> None:
        if not self.write:
            raise LedgerError(f"帳本 {self.path} 以唯讀開啟，不能寫入")

    # -- writing -----------------------------------------------------------------------------

    def submit(self, validation: Validation, by: str, now: dt.datetime | None = None) -> Submission:
        """Record a validated workbook as the next version of its agency and year; copy the file.

        Raises AlreadySubmitted when the file is identical (same SHA-256) to the latest version.
        """
        self._require_write()
        inputs = validation.inputs
        if inputs is None or validation.errors:
            raise LedgerError(f"檔案有 {len(validation.errors)} 個錯誤，未予收件；請先以 kpi validate 檢查並修正")
        submitted_at = iso_utc(now) if now else utc_now()
        by = by.strip() or "未具名"
        copied: Path | None = None
        try:
            with self._connect() as con:
                try:
                    con.execute("BEGIN IMMEDIATE")
                    last = con.execute(f"SELECT {self._COLUMNS} FROM submissions WHERE agency_code = ? AND year = ?"
                                       " ORDER BY version DESC LIMIT 1", (inputs.agency_code, inputs.year)).fetchone()
                    if last is not None and last[6] == validation.sha256:
                        raise AlreadySubmitted(Submission(*last))
                    version = (last[3] if last else 0) + 1
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
                    self._link(con, "submission", sid)
                    con.execute("COMMIT")
                except BaseException:
                    if con.in_transaction:
                        con.execute("ROLLBACK")
                    raise
        except BaseException:
            if copied is not None and copied.exists():
                copied.chmod(0o644)
                copied.unlink()
            raise
        return self.get(sid)

    def record_review(self, review: Review, agency_code: str) -> Review:
        """Append a 複核; an earlier review of the same KPI stays in the ledger, the latest one counts."""
        self._require_write()
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            cur = con.execute(
                "INSERT INTO reviews (agency_code, year, kpi_id, light, reason, reviewed_by, reviewed_at, version,"
                " judged_actual, judged_light, inputs_digest) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (agency_code, review.year, review.kpi_id, review.light.value, review.reason, review.reviewed_by,
                 review.reviewed_at, review.version, review.judged_actual,
                 review.judged_light.value if review.judged_light else None, review.inputs_digest))
            self._link(con, "review", cur.lastrowid)
            con.execute("COMMIT")
        return review

    def record_audit(self, actor: str, action: str, detail: dict[str, Any] | None = None,
                     now: dt.datetime | None = None) -> AuditEntry:
        """Append one audit event (sign-in, upload, review, account change …) to the chain."""
        self._require_write()
        at = iso_utc(now) if now else utc_now()
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            audit_id = append_audit(con, at, actor, action, detail or {})
            con.execute("COMMIT")
        return AuditEntry(audit_id, at, actor, action, json.loads(json.dumps(detail or {}, ensure_ascii=False)))

    # -- reading -----------------------------------------------------------------------------

    _COLUMNS = ("id, agency_code, year, version, submitted_at, submitted_by, sha256, file_name, stored_path,"
                " template_version, kind, warnings")

    def get(self, submission_id: int) -> Submission:
        with self._connect() as con:
            row = con.execute(f"SELECT {self._COLUMNS} FROM submissions WHERE id = ?", (submission_id,)).fetchone()
        if row is None:
            raise LedgerError(f"找不到提交紀錄 {submission_id}")
        return Submission(*row)

    def submissions(self, year: int | None = None, agency: str | None = None,
                    as_of: dt.datetime | None = None) -> list[Submission]:
        """Every version, oldest first, optionally of one year and/or agency, up to ``as_of``."""
        limit = iso_utc(as_of) if as_of else None
        sql = f"SELECT {self._COLUMNS} FROM submissions WHERE (? IS NULL OR year = ?) AND (? IS NULL OR agency_code = ?)" \
              " AND (? IS NULL OR submitted_at <= ?) ORDER BY agency_code, year, version"
        with self._connect() as con:
            return [Submission(*r) for r in con.execute(sql, (year, year, agency, agency, limit, limit))]

    def version(self, agency: str, year: int, version: int) -> Submission | None:
        with self._connect() as con:
            row = con.execute(f"SELECT {self._COLUMNS} FROM submissions WHERE agency_code = ? AND year = ? AND version = ?",
                              (agency, year, version)).fetchone()
        return Submission(*row) if row else None

    def latest(self, year: int, as_of: dt.datetime | None = None) -> list[Submission]:
        """Each agency's latest version of ``year`` submitted at or before ``as_of`` (now if None)."""
        limit = iso_utc(as_of) if as_of else None
        sql = f"SELECT {self._COLUMNS} FROM submissions s WHERE year = ? AND (? IS NULL OR submitted_at <= ?)" \
              " AND version = (SELECT MAX(version) FROM submissions t WHERE t.agency_code = s.agency_code" \
              " AND t.year = s.year AND (? IS NULL OR t.submitted_at <= ?)) ORDER BY agency_code"
        with self._connect() as con:
            return [Submission(*r) for r in con.execute(sql, (year, limit, limit, limit, limit))]

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

    def reviews(self, year: int, as_of: dt.datetime | None = None, latest_only: bool = True) -> list[Review]:
        """The reviews of ``year`` (at or before ``as_of``), in time order; by default the latest per KPI."""
        limit = iso_utc(as_of) if as_of else None
        with self._connect() as con:
            rows = con.execute("SELECT kpi_id, year, light, reason, reviewed_by, reviewed_at, version, judged_actual,"
                               " judged_light, inputs_digest FROM reviews"
                               " WHERE year = ? AND (? IS NULL OR reviewed_at <= ?) ORDER BY reviewed_at, id",
                               (year, limit, limit)).fetchall()
        found = [Review(k, y, Light(lt), r, b, at, v, ja, Light(jl) if jl else None, d)
                 for k, y, lt, r, b, at, v, ja, jl, d in rows]
        if not latest_only:
            return found
        return list({r.kpi_id: r for r in found}.values())

    def audit(self, limit: int | None = None) -> list[AuditEntry]:
        """Audit events, newest first."""
        with self._connect() as con:
            rows = con.execute("SELECT id, at, actor, action, detail_json FROM audit ORDER BY id DESC LIMIT ?",
                               (-1 if limit is None else limit,)).fetchall()
        return [AuditEntry(i, at, actor, action, json.loads(d)) for i, at, actor, action, d in rows]

    def head(self) -> str:
        """The hash of the chain's last link: pins the exact state of the ledger that was read."""
        with self._connect() as con:
            return self._head(con)

    # -- verification ------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Recompute the hash chain and every stored file's SHA-256; list every break, first first."""
        report = VerifyReport(self.path)
        with self._connect() as con:
            objects = con.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
            report.problems.extend(schema_problems(con, objects, self.path))
            names = {name for _t, name, _s in objects}
            if not set(TABLES) <= names:
                return report
            prev = GENESIS
            linked: dict[str, set[int]] = {k: set() for k in _CONTENT}
            for seq, kind, ref_id, prev_hash, digest in con.execute(
                    "SELECT seq, kind, ref_id, prev_hash, hash FROM chain ORDER BY seq").fetchall():
                label = _describe(con, kind, ref_id)
                if prev_hash != prev:
                    report.problems.append(f"第 {seq} 筆（{label}）：前一筆的雜湊不符，鏈結中斷（有紀錄被刪除或插入）")
                try:
                    content = _CONTENT[kind](con, ref_id)
                except LookupError:
                    report.problems.append(f"第 {seq} 筆（{label}）：紀錄已不存在")
                    content = None
                if content is not None and _link_hash_or_none(prev_hash, kind, content) != digest:
                    report.problems.append(f"第 {seq} 筆（{label}）：內容與雜湊不符，紀錄遭修改")
                linked.setdefault(kind, set()).add(ref_id)
                prev = digest
                report.entries += 1
            report.head = prev
            if "account_events" in names:  # created with the first portal account
                report.problems.extend(_account_problems(con))
            for kind, table, key in (("submission", "submissions", "id"), ("review", "reviews", "id"),
                                     ("audit", "audit", "id")):
                for (ref_id,) in con.execute(f"SELECT {key} FROM {table} ORDER BY {key}"):
                    if ref_id not in linked[kind]:
                        report.problems.append(f"{_describe(con, kind, ref_id)}：不在雜湊鏈中（未經系統寫入）")
            for table in ("submission_values", "submission_kpis"):
                (n,) = con.execute(f"SELECT COUNT(*) FROM {table} WHERE submission_id NOT IN (SELECT id FROM submissions)"
                                   ).fetchone()
                if n:
                    report.problems.append(f"{table} 有 {n} 列不屬於任何提交紀錄")
            stored = con.execute("SELECT id, sha256, stored_path FROM submissions ORDER BY id").fetchall()
        for sid, sha, rel in stored:
            path = self.folder / rel
            report.files += 1
            if not path.is_file():
                report.problems.append(f"提交紀錄 {sid} 的原始檔 {rel} 不見了")
            elif file_sha256(path) != sha:
                report.problems.append(f"提交紀錄 {sid} 的原始檔 {rel} 內容已被修改（SHA-256 不符）")
        return report


def schema_problems(con: sqlite3.Connection, objects: list[tuple], path: Path) -> list[str]:
    """Why the database at ``path`` is not a complete ledger of this schema (empty when it is)."""
    (version,) = con.execute("PRAGMA user_version").fetchone()
    names = {name for _type, name, _sql in objects}
    if not objects:
        return [f"{path} 是空的資料庫，不是本系統的帳本"]
    if version != SCHEMA_VERSION and not (set(TABLES) <= names):
        return [f"{path} 不是本系統的帳本（結構版本 {version}，需要 {SCHEMA_VERSION}）；請以 --ledger 指定正確的帳本檔"]
    problems = []
    if version != SCHEMA_VERSION:
        problems.append(f"帳本 {path} 的結構版本為 {version}，本程式需要 {SCHEMA_VERSION}；帳本可能遭修改")
    missing = [t for t in TABLES if t not in names] + [t for t in TRIGGERS if t not in names]
    sql = {name: " ".join((s or "").split()) for _t, name, s in objects}
    altered = [t for t, text in TRIGGERS.items() if t in sql and sql[t] != " ".join(text.split())]
    if missing or altered:
        problems.append(f"帳本 {path} 結構不完整或遭修改（{'、'.join(missing + altered)}）：可能遭竄改，已拒絕使用；"
                        "請以 kpi verify 檢查並聯絡系統管理者，勿自行重建")
    return problems


def verify_path(path: Path) -> VerifyReport:
    """Verify the ledger at ``path`` read-only, reporting a damaged schema instead of refusing to open."""
    return Ledger(path, write=False, check_schema=False).verify()


def _submission_content(con: sqlite3.Connection, ref_id: int) -> dict[str, Any]:
    row = con.execute("SELECT * FROM submissions WHERE id = ?", (ref_id,)).fetchone()
    if row is None:
        raise LookupError(ref_id)
    values = con.execute("SELECT kpi_id, symbol, value, raw, cell FROM submission_values WHERE submission_id = ?"
                         " ORDER BY kpi_id, symbol", (ref_id,)).fetchall()
    kpis = con.execute("SELECT kpi_id, self_rating, narrative FROM submission_kpis WHERE submission_id = ?"
                       " ORDER BY kpi_id", (ref_id,)).fetchall()
    return {"row": list(row), "values": [list(v) for v in values], "kpis": [list(k) for k in kpis]}


def _row_content(table: str):
    def content(con: sqlite3.Connection, ref_id: int) -> list[Any]:
        row = con.execute(f"SELECT * FROM {table} WHERE id = ?", (ref_id,)).fetchone()
        if row is None:
            raise LookupError(ref_id)
        return list(row)

    return content


_CONTENT = {"submission": _submission_content, "review": _row_content("reviews"), "audit": _row_content("audit")}


def row_digest(con: sqlite3.Connection, table: str, ref_id: int) -> str:
    """SHA-256 of one row's canonical content: how a row kept outside the chain (an account event) is pinned by an audit link."""
    return hashlib.sha256(_canonical(_row_content(table)(con, ref_id))).hexdigest()


def append_audit(con: sqlite3.Connection, at: str, actor: str, action: str, detail: dict[str, Any]) -> int:
    """Insert one audit row and link it, inside the caller's transaction."""
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True)
    cur = con.execute("INSERT INTO audit (at, actor, action, detail_json) VALUES (?,?,?,?)", (at, actor, action, text))
    link_row(con, "audit", cur.lastrowid)
    return cur.lastrowid


def _account_problems(con: sqlite3.Connection) -> list[str]:
    """Every account event must be pinned, by its digest, in an audit link written in the same transaction."""
    pinned: dict[int, str] = {}
    for (text,) in con.execute("SELECT detail_json FROM audit WHERE action LIKE 'account.%' ORDER BY id"):
        try:
            detail = json.loads(text)
        except (ValueError, TypeError, RecursionError):  # not JSON text (a blob, nesting 100,000 deep): edited
            continue
        if isinstance(detail, dict) and isinstance(detail.get("event"), int):
            pinned[detail["event"]] = str(detail.get("event_sha256"))
    problems = []
    for event_id, name, action in con.execute("SELECT id, name, action FROM account_events ORDER BY id").fetchall():
        label = f"帳號 {name} 的 {action} 事件（紀錄 {event_id}）"
        if event_id not in pinned:
            problems.append(f"{label}：不在雜湊鏈中（未經系統寫入）")
        elif _digest_or_none(con, event_id) != pinned[event_id]:
            problems.append(f"{label}：內容與雜湊不符，紀錄遭修改")
    return problems


def _link_hash_or_none(prev_hash: str, kind: str, content: Any) -> str | None:
    """``link_hash``, or None for content the program never writes (a blob put in by hand): no hash can match."""
    try:
        return link_hash(prev_hash, kind, content)
    except (TypeError, ValueError):
        return None


def _digest_or_none(con: sqlite3.Connection, event_id: int) -> str | None:
    try:
        return row_digest(con, "account_events", event_id)
    except (TypeError, ValueError):  # a blob put in by hand
        return None


def link_row(con: sqlite3.Connection, kind: str, ref_id: int) -> str:
    """Append the row ``ref_id`` of ``kind`` to the chain, inside the caller's transaction (so a row is never unlinked)."""
    row = con.execute("SELECT hash FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
    prev = row[0] if row else GENESIS
    digest = link_hash(prev, kind, _CONTENT[kind](con, ref_id))
    con.execute("INSERT INTO chain (kind, ref_id, prev_hash, hash) VALUES (?,?,?,?)", (kind, ref_id, prev, digest))
    return digest


def _describe(con: sqlite3.Connection, kind: str, ref_id: int) -> str:
    if kind == "submission":
        row = con.execute("SELECT agency_code, year, version FROM submissions WHERE id = ?", (ref_id,)).fetchone()
        return f"提交 {row[0]} {row[1]} 年度第 {row[2]} 版" if row else f"提交紀錄 {ref_id}"
    if kind == "review":
        row = con.execute("SELECT kpi_id, year FROM reviews WHERE id = ?", (ref_id,)).fetchone()
        return f"複核 {row[0]} {row[1]} 年度（紀錄 {ref_id}）" if row else f"複核紀錄 {ref_id}"
    return f"稽核紀錄 {ref_id}"


def open_for_reading(path: Path) -> Ledger | None:
    """The ledger at ``path`` opened read-only, or None when there is no file (nothing submitted yet)."""
    if not Path(path).exists():
        return None
    return Ledger(path, write=False)


def latest_inputs(ledger: Path, year: int, as_of: dt.datetime | str | None = None) -> list[AgencyInputs]:
    """Each agency's latest submitted version for ``year`` (at or before ``as_of``), ready for Engine.score_year."""
    if isinstance(as_of, str):
        as_of = parse_as_of(as_of)
    led = open_for_reading(ledger)
    if led is None:
        return []
    return [led.inputs_of(s) for s in led.latest(year, as_of)]
