"""Accounts of the web portal: who may sign in, for which agency, in which role.

Stored in the ledger's own SQLite file as append-only *account events* (created, disabled,
enabled, password changed); an account's state is the fold of its events, so nothing about an
account is ever overwritten and the history stays readable. Passwords are kept only as Argon2id
hashes (argon2-cffi). Each event is audited, with who did it and the event row's SHA-256, as a
link of the ledger's hash chain in the event's own transaction, so ``kpi verify`` names an edited
or smuggled event (a swapped password hash, a changed role). This module knows nothing of the web or the CLI.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import unicodedata
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD = 10
MAX_PASSWORD = 256
MAX_NAME = 64

SCHEMA = """
CREATE TABLE IF NOT EXISTS account_events (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,              -- casefolded name: 'Chen' and 'chen' are one account
    action TEXT NOT NULL CHECK (action IN ('create', 'disable', 'enable', 'password')),
    agency_code TEXT,
    role TEXT CHECK (role IS NULL OR role IN ('ministry', 'reviewer', 'admin')),
    password_hash TEXT,
    at TEXT NOT NULL,                    -- UTC, ISO 8601 with microseconds
    by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS account_events_key ON account_events (name_key, id);
CREATE TRIGGER IF NOT EXISTS account_events_no_update BEFORE UPDATE ON account_events
BEGIN SELECT RAISE(ABORT, '帳號紀錄只能新增，不可修改'); END;
CREATE TRIGGER IF NOT EXISTS account_events_no_delete BEFORE DELETE ON account_events
BEGIN SELECT RAISE(ABORT, '帳號紀錄只能新增，不可刪除'); END;
CREATE TRIGGER IF NOT EXISTS account_events_no_replace BEFORE INSERT ON account_events
WHEN EXISTS (SELECT 1 FROM account_events WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, '帳號紀錄只能新增，不可覆寫（REPLACE）'); END;
"""


class Role(StrEnum):
    MINISTRY = "ministry"  # a ministry's planning office: its own agency only
    REVIEWER = "reviewer"  # 國發會: every agency, 複核, reports
    ADMIN = "admin"  # accounts

    @property
    def label(self) -> str:
        return {"ministry": "部會填報人員", "reviewer": "國發會審查人員", "admin": "系統管理者"}[self.value]


class AccountError(ValueError):
    """An account change that cannot be made (message in Chinese)."""


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    agency_code: str | None
    disabled: bool
    created_at: str
    created_by: str
    password_hash: str = field(default="", repr=False)

    def as_dict(self) -> dict:
        return {"name": self.name, "role": self.role.value, "role_label": self.role.label,
                "agency_code": self.agency_code, "disabled": self.disabled,
                "created_at": self.created_at, "created_by": self.created_by}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def check_name(name: str) -> str:
    """An account name: 1–64 printable characters without spaces (Chinese names are fine)."""
    text = unicodedata.normalize("NFC", name.strip())
    if not text:
        raise AccountError("帳號名稱不可空白")
    if len(text) > MAX_NAME:
        raise AccountError(f"帳號名稱過長（最多 {MAX_NAME} 字）")
    for ch in text:
        cat = unicodedata.category(ch)
        if ch.isspace() or cat.startswith("C") or cat.startswith("Z") or ch in "/\\<>\"'`":
            raise AccountError(f"帳號名稱「{text}」含有不可用的字元（空白、控制字元、引號、斜線或角括號）")
    return text


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密碼至少需要 {MIN_PASSWORD} 個字元")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"密碼過長（最多 {MAX_PASSWORD} 個字元）")
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        raise AccountError("密碼不可含控制字元")
    return password


def _pin_event(con: sqlite3.Connection, event_id: int, by: str, action: str, detail: dict) -> None:
    """Audit the event, with its digest, in the event's own transaction: ``kpi verify`` then names any edit of it."""
    from .ledger import append_audit, row_digest, utc_now

    pinned = {**detail, "event": event_id, "event_sha256": row_digest(con, "account_events", event_id)}
    append_audit(con, utc_now(), by, f"account.{action}", pinned)


class Accounts:
    """The accounts kept in one ledger file (table ``account_events``)."""

    def __init__(self, path: Path, hasher: PasswordHasher | None = None):
        self.path = Path(path)
        self.hasher = hasher or PasswordHasher()
        self._dummy = self.hasher.hash("kpiengine-timing-equaliser")

    @contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        if write and not self.path.exists():
            from .ledger import Ledger

            Ledger(self.path)  # the ledger's own schema first: accounts live beside it, never instead of it
        elif not self.path.exists():
            raise AccountError(f"找不到帳本 {self.path}：請先以 kpi users add 建立第一個帳號")
        con = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            if write:
                con.executescript(SCHEMA)
            yield con
        finally:
            con.close()

    def _events(self, con: sqlite3.Connection, key: str | None = None) -> list[tuple]:
        exists = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'account_events'").fetchone()
        if not exists:
            return []
        return con.execute("SELECT name, name_key, action, agency_code, role, password_hash, at, by FROM account_events"
                           " WHERE (? IS NULL OR name_key = ?) ORDER BY id", (key, key)).fetchall()

    @staticmethod
    def _fold(events: list[tuple]) -> dict[str, Account]:
        found: dict[str, Account] = {}
        for name, key, action, agency, role, pw_hash, at, by in events:
            if action == "create":
                found[key] = Account(name, Role(role), agency, False, at, by, pw_hash)
                continue
            cur = found.get(key)
            if cur is None:
                continue
            if action == "disable":
                found[key] = _with(cur, disabled=True)
            elif action == "enable":
                found[key] = _with(cur, disabled=False)
            elif action == "password":
                found[key] = _with(cur, password_hash=pw_hash)
        return found

    def list(self) -> list[Account]:
        """Every account, disabled ones included, by name."""
        if not self.path.exists():
            return []
        with self._connect() as con:
            return sorted(self._fold(self._events(con)).values(), key=lambda a: a.name.casefold())

    def get(self, name: str) -> Account | None:
        if not self.path.exists():
            return None
        key = unicodedata.normalize("NFC", name.strip()).casefold()
        with self._connect() as con:
            return self._fold(self._events(con, key)).get(key)

    def add(self, name: str, password: str, *, role: str, agency_code: str | None, by: str,
            agencies: Collection[str] | None = None) -> Account:
        """Create an account; a ministry account needs one of ``agencies`` (the catalog's codes)."""
        name = check_name(name)
        try:
            chosen = Role(role)
        except ValueError:
            raise AccountError(f"角色「{role}」不正確，請用 ministry（部會）、reviewer（國發會審查）或 admin（管理者）") from None
        agency = (agency_code or "").strip() or None
        if chosen is Role.MINISTRY and agency is None:
            raise AccountError("部會帳號必須指定機關（--agency，例如 moj）")
        if agency is not None and agencies is not None and agency not in agencies:
            raise AccountError(f"找不到機關代碼「{agency}」（可用：{'、'.join(sorted(agencies))}）")
        pw_hash = self.hasher.hash(check_password(password))
        key = name.casefold()
        with self._connect(write=True) as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                if key in self._fold(self._events(con, key)):
                    raise AccountError(f"帳號「{name}」已存在")
                at = _now()
                cur = con.execute("INSERT INTO account_events (name, name_key, action, agency_code, role, password_hash,"
                                  " at, by) VALUES (?,?,?,?,?,?,?,?)", (name, key, "create", agency, chosen.value, pw_hash, at, by))
                _pin_event(con, cur.lastrowid, by, "create", {"name": name, "role": chosen.value, "agency": agency})
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return Account(name, chosen, agency, False, at, by, pw_hash)

    def _change(self, name: str, action: str, by: str, pw_hash: str | None = None) -> Account:
        key = unicodedata.normalize("NFC", name.strip()).casefold()
        with self._connect(write=True) as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                current = self._fold(self._events(con, key)).get(key)
                if current is None:
                    raise AccountError(f"找不到帳號「{name}」")
                cur = con.execute("INSERT INTO account_events (name, name_key, action, agency_code, role, password_hash,"
                                  " at, by) VALUES (?,?,?,?,?,?,?,?)", (current.name, key, action, None, None, pw_hash, _now(), by))
                _pin_event(con, cur.lastrowid, by, action, {"name": current.name})
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        updated = self.get(current.name)
        assert updated is not None
        return updated

    def disable(self, name: str, by: str) -> Account:
        """Disable an account: it can no longer sign in, and its open sessions stop working."""
        return self._change(name, "disable", by)

    def enable(self, name: str, by: str) -> Account:
        return self._change(name, "enable", by)

    def set_password(self, name: str, password: str, by: str) -> Account:
        return self._change(name, "password", by, self.hasher.hash(check_password(password)))

    def authenticate(self, name: str, password: str) -> Account | None:
        """The account if the password matches and it is enabled; None otherwise (same work either way)."""
        try:
            account = self.get(name) if name.strip() else None
        except AccountError:
            account = None
        stored = account.password_hash if account else self._dummy
        try:
            self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if account is None or account.disabled:
            return None
        return account


def _with(account: Account, **changes) -> Account:
    return replace(account, **changes)
