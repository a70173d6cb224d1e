"""Accounts: Argon2 hashes, roles and agencies, append-only events, disabled accounts cannot sign in."""

from __future__ import annotations

import json
import sqlite3

import pytest
from argon2 import PasswordHasher

from kpiengine.accounts import AccountError, Accounts, Role

FAST = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


@pytest.fixture
def accounts(tmp_path):
    return Accounts(tmp_path / "ledger.sqlite", hasher=FAST)


def audited(accounts) -> list[tuple[str, str]]:
    """(actor, action) of the ledger's audit rows about accounts."""
    con = sqlite3.connect(accounts.path)
    return con.execute("SELECT actor, action FROM audit WHERE action LIKE 'account.%' ORDER BY id").fetchall()


def test_add_authenticate_and_hash_only(accounts):
    a = accounts.add("陳小明", "correct horse battery", role="ministry", agency_code="moj", by="admin", agencies={"moj"})
    assert a.role is Role.MINISTRY and a.agency_code == "moj"
    assert accounts.authenticate("陳小明", "correct horse battery").name == "陳小明"
    assert accounts.authenticate("陳小明", "wrong password!!") is None
    assert accounts.authenticate("nobody", "correct horse battery") is None
    rows = sqlite3.connect(accounts.path).execute("SELECT password_hash FROM account_events").fetchall()
    assert rows[0][0].startswith("$argon2id$") and "correct horse" not in rows[0][0]
    assert audited(accounts) == [("admin", "account.create")]
    (detail,) = sqlite3.connect(accounts.path).execute("SELECT detail_json FROM audit").fetchone()
    assert json.loads(detail) | {"event_sha256": "…"} == {"name": "陳小明", "role": "ministry", "agency": "moj", "event": 1,
                                                          "event_sha256": "…"}


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
    assert audited(accounts) == [("t", "account.create"), ("admin", "account.disable"), ("admin", "account.enable"),
                                 ("admin", "account.password")]
    with pytest.raises(AccountError, match="找不到帳號"):
        accounts.disable("ghost", "admin")


def test_events_cannot_be_rewritten(accounts):
    accounts.add("u1", "long-enough-1", role="admin", agency_code=None, by="t")
    con = sqlite3.connect(accounts.path)
    for sql in ("UPDATE account_events SET role = 'admin'", "DELETE FROM account_events",
                "REPLACE INTO account_events (id, name, name_key, action, at, by) VALUES (1, 'u1', 'u1', 'disable', 'x', 'y')"):
        with pytest.raises(sqlite3.DatabaseError, match="只能新增"):
            con.execute(sql)


def test_events_are_pinned_in_the_chain(accounts):
    """A swapped password hash or a changed role (triggers dropped first) is named by kpi verify."""
    from kpiengine.ledger import verify_path

    accounts.add("u1", "long-enough-1", role="reviewer", agency_code=None, by="t")
    accounts.set_password("u1", "another-secret-2", "admin")
    report = verify_path(accounts.path)
    assert report.problems == [] and report.entries == 2
    con = sqlite3.connect(accounts.path, isolation_level=None)
    con.execute("DROP TRIGGER account_events_no_update")
    con.execute("UPDATE account_events SET role = 'admin' WHERE action = 'create'")
    con.execute("UPDATE account_events SET password_hash = 'x' WHERE action = 'password'")
    con.close()
    problems = verify_path(accounts.path).problems
    assert [p for p in problems if "帳號 u1" in p] == ["帳號 u1 的 create 事件（紀錄 1）：內容與雜湊不符，紀錄遭修改",
                                                      "帳號 u1 的 password 事件（紀錄 2）：內容與雜湊不符，紀錄遭修改"]


def test_an_event_written_outside_the_program_is_named(accounts):
    from kpiengine.ledger import verify_path

    accounts.add("u1", "long-enough-1", role="reviewer", agency_code=None, by="t")
    con = sqlite3.connect(accounts.path, isolation_level=None)
    con.execute("INSERT INTO account_events (name, name_key, action, role, at, by) VALUES ('evil', 'evil', 'create', 'admin', 'x', 'y')")
    con.close()
    assert verify_path(accounts.path).problems == ["帳號 evil 的 create 事件（紀錄 2）：不在雜湊鏈中（未經系統寫入）"]


# --- probes: kpi verify on a ledger whose account rows or their audit details were edited by hand ---

TAMPERED = {  # SQL run with the triggers dropped → what kpi verify must name
    "an audit detail nested 100,000 deep": ("UPDATE audit SET detail_json = '" + "[" * 100_000 + "' WHERE id = 1",
                                            ["稽核紀錄 1", "帳號 u1 的 create 事件（紀錄 1）：不在雜湊鏈中"]),
    "an audit detail stored as a blob": ("UPDATE audit SET detail_json = x'ff00' WHERE id = 1",
                                         ["第 1 筆（稽核紀錄 1）：內容與雜湊不符", "帳號 u1 的 create 事件（紀錄 1）：不在雜湊鏈中"]),
    "an audit detail that is a JSON list": ("UPDATE audit SET detail_json = '[1]' WHERE id = 1",
                                            ["第 1 筆（稽核紀錄 1）：內容與雜湊不符", "不在雜湊鏈中"]),
    "an event pointing at itself as true": (
        """UPDATE audit SET detail_json = '{"event": true, "event_sha256": "x"}' WHERE id = 1""",
        ["第 1 筆（稽核紀錄 1）：內容與雜湊不符", "帳號 u1 的 create 事件（紀錄 1）：內容與雜湊不符"]),
    "an account name made a blob": ("UPDATE account_events SET name = x'ff' WHERE id = 2",
                                    ["的 create 事件（紀錄 2）：內容與雜湊不符"]),
    "an account renamed": ("UPDATE account_events SET name = 'root' WHERE id = 2",
                           ["帳號 root 的 create 事件（紀錄 2）：內容與雜湊不符"]),
    "an event smuggled in": ("INSERT INTO account_events (name, name_key, action, role, at, by) "
                             "VALUES ('evil', 'evil', 'create', 'admin', 'x', 'y')",
                             ["帳號 evil 的 create 事件（紀錄 3）：不在雜湊鏈中"]),
}


@pytest.mark.parametrize(("sql", "says"), TAMPERED.values(), ids=TAMPERED.keys())
def test_kpi_verify_names_tampered_account_rows_without_a_traceback(kpi_cli, accounts, sql, says):
    accounts.add("u1", "long-enough-1", role="reviewer", agency_code=None, by="t")
    accounts.add("u2", "long-enough-2", role="ministry", agency_code="moj", by="t")
    assert kpi_cli("verify", "--ledger", accounts.path).returncode == 0
    con = sqlite3.connect(accounts.path, isolation_level=None)
    for (trigger,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {trigger}")
    con.execute(sql)
    con.close()
    proc = kpi_cli("verify", "--ledger", accounts.path, "--format", "json", memory_mb=1024)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out, out
    for needle in says:
        assert needle in out, (needle, out)
