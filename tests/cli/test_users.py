"""``kpi users add|list|disable`` through the real entry point; passwords never as arguments."""

from __future__ import annotations

import json

from conftest import assert_clean_failure

from kpiengine.accounts import Accounts
from kpiengine.ledger import Ledger


def test_first_admin_then_ministry_then_disable(kpi_cli, tmp_path):
    ledger = str(tmp_path / "ledger.sqlite")
    p = kpi_cli("users", "add", "root-admin", "--role", "admin", "--ledger", ledger, "--password-stdin",
                input="admin-password-1\n")
    assert p.returncode == 0, p.stderr
    assert "已新增帳號「root-admin」" in p.stdout
    p = kpi_cli("users", "add", "moj-clerk", "--role", "ministry", "--agency", "法務部", "--ledger", ledger,
                env={"KPI_PASSWORD": "moj-password-1"})
    assert p.returncode == 0, p.stderr
    listed = json.loads(kpi_cli("users", "list", "--ledger", ledger, "--json").stdout)
    assert [(a["name"], a["role"], a["agency_code"], a["disabled"]) for a in listed] == [
        ("moj-clerk", "ministry", "moj", False), ("root-admin", "admin", None, False)]
    p = kpi_cli("users", "disable", "moj-clerk", "--ledger", ledger)
    assert p.returncode == 0 and "已停用" in p.stdout
    table = kpi_cli("users", "list", "--ledger", ledger).stdout
    assert "moj-clerk" in table and "停用" in table
    assert Accounts(tmp_path / "ledger.sqlite").authenticate("moj-clerk", "moj-password-1") is None
    assert Accounts(tmp_path / "ledger.sqlite").authenticate("root-admin", "admin-password-1") is not None
    entries = sorted(Ledger(tmp_path / "ledger.sqlite", write=False).audit(), key=lambda e: e.id)
    audit = [(e.action, e.detail.get("name")) for e in entries]
    assert audit == [("account.create", "root-admin"), ("account.create", "moj-clerk"), ("account.disable", "moj-clerk")]
    assert kpi_cli("verify", "--ledger", ledger).returncode == 0


def test_refusals(kpi_cli, tmp_path):
    ledger = str(tmp_path / "ledger.sqlite")
    assert_clean_failure(kpi_cli("users", "add", "x", "--role", "ministry", "--ledger", ledger, "--password-stdin",
                                 input="long-enough-1\n"), "必須指定機關")
    assert_clean_failure(kpi_cli("users", "add", "x", "--role", "ministry", "--agency", "nope", "--ledger", ledger,
                                 "--password-stdin", input="long-enough-1\n"), "找不到機關")
    assert_clean_failure(kpi_cli("users", "add", "x", "--role", "king", "--ledger", ledger, "--password-stdin",
                                 input="long-enough-1\n"), "角色")
    assert_clean_failure(kpi_cli("users", "add", "x", "--role", "admin", "--ledger", ledger, "--password-stdin",
                                 input="short\n"), "至少")
    # no terminal, no --password-stdin, no KPI_PASSWORD: says how to give one, records nothing
    assert_clean_failure(kpi_cli("users", "add", "x", "--role", "admin", "--ledger", ledger, input=""), "--password-stdin")
    assert_clean_failure(kpi_cli("users", "disable", "ghost", "--ledger", ledger), "找不到帳號")
    p = kpi_cli("users", "list", "--ledger", ledger)
    assert p.returncode == 0 and "尚無帳號" in p.stdout


def test_no_password_option_exists(kpi_cli):
    p = kpi_cli("users", "add", "--help")
    assert p.returncode == 0
    assert "--password-stdin" in p.stdout and "--password " not in p.stdout
