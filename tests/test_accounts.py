"""Accounts: Argon2 hashes, roles and agencies, append-only events, disabled accounts cannot sign in."""

from __future__ import annotations

import sqlite3

import pytest
from argon2 import PasswordHasher

from kpiengine.accounts import AccountError, Accounts, Role

FAST = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


@pytest.fixture
def accounts(tmp_path):
    seen = []
    acc = Accounts(tmp_path / "ledger.sqlite", audit=lambda *a: seen.append(a), hasher=FAST)
    acc.seen = seen
    return acc


def test_add_authenticate_and_hash_only(accounts):
    a = accounts.add("陳小明", "correct horse battery", role="ministry", agency_code="moj", by="admin", agencies={"moj"})
    assert a.role is Role.MINISTRY and a.agency_code == "moj"
    assert accounts.authenticate("陳小明", "correct horse battery").name == "陳小明"
    assert accounts.authenticate("陳小明", "wrong password!!") is None
    assert accounts.authenticate("nobody", "correct horse battery") is None
    rows = sqlite3.connect(accounts.path).execute("SELECT password_hash FROM account_events").fetchall()
    assert rows[0][0].startswith("$argon2id$") and "correct horse" not in rows[0][0]
    assert accounts.seen == [("admin", "account.create", {"name": "陳小明", "role": "ministry", "agency": "moj"})]


@pytest.mark.parametrize("kwargs, needle", [
    ({"name": "x", "password": "short", "role": "admin", "agency_code": None}, "至少"),
    ({"name": "x", "password": "long-enough-1", "role": "boss", "agency_code": None}, "角色"),
    ({"name": "x", "password": "long-enough-1", "role": "ministry", "agency_code": None}, "必須指定機關"),
    ({"name": "x", "password": "long-enough-1", "role": "ministry", "agency_code": "zzz"}, "找不到機關"),
    ({"name": "a b", "password": "long-enough-1", "role": "admin", "agency_code": None}, "不可用的字元"),
    ({"name": "<script>", "password": "long-enough-1", "role": "admin", "agency_code": None}, "不可用的字元"),
    ({"name": " ", "password": "long-enough-1", "role": "admin", "agency_code": None}, "空白"),
])
def test_refusals_are_chinese(accounts, kwargs, needle):
    with pytest.raises(AccountError, match=needle):
        accounts.add(by="admin", agencies={"moj"}, **kwargs)


def test_names_are_case_insensitive_and_unique(accounts):
    accounts.add("Chen", "long-enough-1", role="reviewer", agency_code=None, by="t")
    with pytest.raises(AccountError, match="已存在"):
        accounts.add("chen", "long-enough-2", role="reviewer", agency_code=None, by="t")
    assert accounts.authenticate("CHEN", "long-enough-1") is not None


def test_disable_enable_password_are_events(accounts):
    accounts.add("u1", "long-enough-1", role="reviewer", agency_code=None, by="t")
    accounts.disable("u1", "admin")
    assert accounts.get("u1").disabled and accounts.authenticate("u1", "long-enough-1") is None
    accounts.enable("u1", "admin")
    accounts.set_password("u1", "another-secret-2", "admin")
    assert accounts.authenticate("u1", "long-enough-1") is None
    assert accounts.authenticate("u1", "another-secret-2") is not None
    actions = [r[0] for r in sqlite3.connect(accounts.path).execute("SELECT action FROM account_events ORDER BY id")]
    assert actions == ["create", "disable", "enable", "password"]
    assert [s[1] for s in accounts.seen] == ["account.create", "account.disable", "account.enable", "account.password"]
    with pytest.raises(AccountError, match="找不到帳號"):
        accounts.disable("ghost", "admin")


def test_events_cannot_be_rewritten(accounts):
    accounts.add("u1", "long-enough-1", role="admin", agency_code=None, by="t")
    con = sqlite3.connect(accounts.path)
    for sql in ("UPDATE account_events SET role = 'admin'", "DELETE FROM account_events",
                "REPLACE INTO account_events (id, name, name_key, action, at, by) VALUES (1, 'u1', 'u1', 'disable', 'x', 'y')"):
        with pytest.raises(sqlite3.DatabaseError, match="只能新增"):
            con.execute(sql)
