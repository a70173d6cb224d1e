"""``kpi users add|list|disable|enable|password``: the web portal's accounts, kept in the ledger file.

A password never travels as a command-line argument (it would show in ``ps`` and shell history):
it is typed at a hidden prompt, or read from standard input (``--password-stdin``) or from the
environment variable ``KPI_PASSWORD`` for scripts. Every change is an audit entry in the ledger.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Annotated

import typer

from ..accounts import AccountError, Accounts
from ..ledger import ledger_path
from . import output
from .common import LedgerOpt, RootOpt, fail, load_engine

PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="由標準輸入讀取密碼（第一行）Read the password from standard input.")]
ByOpt = Annotated[str | None, typer.Option("--by", help="操作人員 Who makes the change (default: login name).")]


def _operator(by: str | None) -> str:
    if by:
        return by
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:未具名"


def _read_password(from_stdin: bool) -> str:
    """The new password: stdin, KPI_PASSWORD, or a hidden prompt typed twice."""
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    env = os.environ.get("KPI_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        fail("請輸入密碼：在終端機執行以隱藏方式輸入，或使用 --password-stdin，或設定環境變數 KPI_PASSWORD")
    first = getpass.getpass("密碼：")
    second = getpass.getpass("再輸入一次密碼：")
    if first != second:
        fail("兩次輸入的密碼不一致")
    return first


def register(app: typer.Typer) -> None:
    """Add the ``users`` command group to ``app``."""
    users = typer.Typer(help="網站帳號管理 Accounts of the web portal (kpi serve).", no_args_is_help=True,
                        add_completion=False, rich_markup_mode=None)
    app.add_typer(users, name="users")

    def _accounts(root, ledger) -> tuple[Accounts, object]:
        engine = load_engine(root)
        path = ledger_path(engine.root, ledger)
        return Accounts(path), engine

    @users.command("add")
    def add_cmd(name: Annotated[str, typer.Argument(help="帳號名稱 Account name.")],
                role: Annotated[str, typer.Option("--role", help="ministry（部會）/ reviewer（國發會審查）/ admin（管理者）")],
                agency: Annotated[str | None, typer.Option("--agency", help="機關代碼或名稱（部會帳號必填）Agency, required for ministry accounts.")] = None,
                password_stdin: PasswordStdin = False, by: ByOpt = None,
                ledger: LedgerOpt = None, root: RootOpt = None) -> None:
        """新增網站帳號 Add an account (password from a hidden prompt, --password-stdin or KPI_PASSWORD)."""
        accounts, engine = _accounts(root, ledger)
        code = None
        if agency:
            found = engine.catalog.agency(agency)
            if found is None:
                codes = "、".join(f"{a.code}（{a.name}）" for a in engine.catalog.agencies)
                fail(f"找不到機關「{agency}」。可用：{codes}")
            code = found.code
        password = _read_password(password_stdin)
        try:
            acc = accounts.add(name, password, role=role, agency_code=code, by=_operator(by),
                               agencies={a.code for a in engine.catalog.agencies})
        except AccountError as exc:
            fail(str(exc))
        where = f"，機關 {code}" if code else ""
        typer.echo(f"已新增帳號「{acc.name}」（{acc.role.label}{where}）；帳本：{accounts.path}")

    @users.command("list")
    def list_cmd(ledger: LedgerOpt = None, root: RootOpt = None,
                 json_out: Annotated[bool, typer.Option("--json", help="輸出 JSON")] = False) -> None:
        """列出網站帳號 List the accounts (disabled ones too)."""
        accounts, _ = _accounts(root, ledger)
        found = accounts.list()
        if json_out:
            typer.echo(output.to_json([a.as_dict() for a in found]))
            return
        if not found:
            typer.echo(f"帳本（{accounts.path}）中尚無帳號；請以 kpi users add NAME --role admin 建立第一個管理者。")
            return
        rows = [[a.name, a.role.label, a.agency_code or "—", "停用" if a.disabled else "啟用",
                 a.created_at[:19].replace("T", " ") + " UTC", a.created_by] for a in found]
        typer.echo(output.table(["帳號", "角色", "機關", "狀態", "建立時間", "建立者"], rows))

    @users.command("disable")
    def disable_cmd(name: Annotated[str, typer.Argument(help="帳號名稱 Account name.")], by: ByOpt = None,
                    ledger: LedgerOpt = None, root: RootOpt = None) -> None:
        """停用帳號（無法再登入，已登入者立即失效）Disable an account."""
        accounts, _ = _accounts(root, ledger)
        try:
            acc = accounts.disable(name, _operator(by))
        except AccountError as exc:
            fail(str(exc))
        typer.echo(f"已停用帳號「{acc.name}」")

    @users.command("enable")
    def enable_cmd(name: Annotated[str, typer.Argument(help="帳號名稱 Account name.")], by: ByOpt = None,
                   ledger: LedgerOpt = None, root: RootOpt = None) -> None:
        """重新啟用帳號 Enable a disabled account."""
        accounts, _ = _accounts(root, ledger)
        try:
            acc = accounts.enable(name, _operator(by))
        except AccountError as exc:
            fail(str(exc))
        typer.echo(f"已啟用帳號「{acc.name}」")

    @users.command("password")
    def password_cmd(name: Annotated[str, typer.Argument(help="帳號名稱 Account name.")],
                     password_stdin: PasswordStdin = False, by: ByOpt = None,
                     ledger: LedgerOpt = None, root: RootOpt = None) -> None:
        """重設帳號密碼 Set a new password."""
        accounts, _ = _accounts(root, ledger)
        password = _read_password(password_stdin)
        try:
            acc = accounts.set_password(name, password, _operator(by))
        except AccountError as exc:
            fail(str(exc))
        typer.echo(f"已重設帳號「{acc.name}」的密碼")
