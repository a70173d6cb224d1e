"""The command line in the user's language: Click/Typer's own parse errors in Traditional Chinese.

Typer prints its usage errors in English (``Missing option '--reason'``, ``No such option``,
``'abc' is not a valid integer``). ``KpiTyper`` runs the app without Click's standalone handling
and prints every such error as ``錯誤：…`` in Chinese, keeping the English flag names, with a
pointer to ``--help``; the exit code stays Click's (2 for usage errors).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

import typer

# (pattern of Click's English message, Chinese template using the groups)
TRANSLATIONS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"Missing option '([^']+)'(?:\s*/\s*'([^']+)')?\.?"), lambda m: f"缺少必要選項 {m[1]}"),
    (re.compile(r"Missing argument '([^']+)'\.?"), lambda m: f"缺少必要參數 {m[1]}"),
    (re.compile(r"Missing parameter:? '?([^'.]+)'?\.?"), lambda m: f"缺少必要參數 {m[1]}"),
    (re.compile(r"No such option: (\S+?)(?:\s+Did you mean (\S+?)\?|\s+\(Possible options: (.+)\))?\.?$"),
     lambda m: f"沒有選項 {m[1]}" + (f"（是否要用 {m[2] or m[3]}？）" if m[2] or m[3] else "")),
    (re.compile(r"No such command '([^']*)'\.?"), lambda m: f"沒有指令「{m[1]}」" if m[1] else "指令不可為空白"),
    (re.compile(r"Option '([^']+)' requires an argument\.?"), lambda m: f"選項 {m[1]} 後面需要填一個值"),
    (re.compile(r"Option '([^']+)' requires (\d+) arguments\.?"), lambda m: f"選項 {m[1]} 後面需要填 {m[2]} 個值"),
    (re.compile(r"Option '([^']+)' does not take a value\.?"), lambda m: f"選項 {m[1]} 不需要值"),
    (re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)\.?"), lambda m: f"有無法辨識的多餘參數：{m[1]}"),
    (re.compile(r"Invalid value for '([^']+)': '(.*)' is not a valid integer(?: range)?\.?", re.S),
     lambda m: f"選項 {m[1]} 的值「{m[2]}」不是整數"),
    (re.compile(r"Invalid value for '([^']+)': '(.*)' is not a valid float(?: range)?\.?", re.S),
     lambda m: f"選項 {m[1]} 的值「{m[2]}」不是數字"),
    (re.compile(r"Invalid value for '([^']+)': '(.*)' is not one of (.+?)\.?$", re.S),
     lambda m: f"選項 {m[1]} 的值「{m[2]}」不在可用範圍內（可用：{m[3].replace(chr(39), '')}）"),
    (re.compile(r"Invalid value for '([^']+)': '(.*)' is not a valid boolean\.?", re.S),
     lambda m: f"選項 {m[1]} 的值「{m[2]}」不是是／否（請用 true / false）"),
    (re.compile(r"Invalid value for '([^']+)': (?:File|Path|Directory) '(.*)' does not exist\.?", re.S),
     lambda m: f"{m[1]} 指定的「{m[2]}」不存在"),
    (re.compile(r"Invalid value for '([^']+)': (?:File|Path) '(.*)' is a directory\.?", re.S),
     lambda m: f"{m[1]} 指定的「{m[2]}」是資料夾，不是檔案"),
    (re.compile(r"Invalid value for '([^']+)': (?:Directory|Path) '(.*)' is a file\.?", re.S),
     lambda m: f"{m[1]} 指定的「{m[2]}」是檔案，不是資料夾"),
    (re.compile(r"Invalid value for '([^']+)': (.*)", re.S), lambda m: f"選項 {m[1]} 的值{_inner(m[2])}"),
    (re.compile(r"Input should be a valid integer.*", re.S), lambda m: "輸入的值不是整數"),
]


INNER: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"Input should be a valid integer.*", re.S), lambda m: "須為整數"),
    (re.compile(r"Unable to parse input string as an integer.*", re.S), lambda m: "須為整數（位數過多）"),
    (re.compile(r"Input should be a valid (?:number|float).*", re.S), lambda m: "須為數字"),
    (re.compile(r"Input should be a valid boolean.*", re.S), lambda m: "須為 true 或 false"),
    (re.compile(r"(?:Value error, )?'(.*)' is not one of (.+?)\.?$", re.S),
     lambda m: f"「{m[1]}」不是可用的值（可用：{m[2].replace(chr(39), '')}）"),
]


def _inner(text: str) -> str:
    for pattern, template in INNER:
        m = pattern.match(text.strip())
        if m:
            return template(m)
    return f"不正確（{text.strip()}）"


MAX_QUOTED = 60  # characters of a user's argument echoed back in an error (a 100 kB argument is not repeated)


def _clip_quoted(text: str) -> str:
    """Each quoted or parenthesised piece of the user's input longer than MAX_QUOTED, shortened with its length."""
    def clip(m: re.Match[str]) -> str:
        inner = m[2]
        return f"{m[1]}{inner[:MAX_QUOTED]}…（共 {len(inner)} 字）{m[3]}" if len(inner) > MAX_QUOTED else m[0]

    return re.sub(r"(')([^']*)(')", clip, re.sub(r"(\()(.*)(\))", clip, text, flags=re.S))


def translate(message: str) -> str:
    """Click's English usage message → Traditional Chinese (flag names kept); unknown ones are wrapped."""
    text = _clip_quoted(message.strip())
    for pattern, template in TRANSLATIONS:
        m = pattern.fullmatch(text) or pattern.match(text)
        if m:
            return template(m)
    return f"命令列參數有誤（{text}）"


def explain(exc: Exception) -> str:
    """The Chinese line for a Click exception, with where to find the usage."""
    fmt = getattr(exc, "format_message", None)
    message = translate(fmt() if callable(fmt) else str(exc))
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or _command_path()
    return f"錯誤：{message}{_nearest_command(exc, ctx)}。用法請見：{path} --help"


def _command_path() -> str:
    """``kpi NAME`` from the command line when Click gives no context (``kpi list --agency`` with no value)."""
    from .main import COMMANDS

    first = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    return f"kpi {first}" if first in {entry.name for entry in COMMANDS} else "kpi"


def _nearest_command(exc: Exception, ctx: Any) -> str:
    """For a mistyped command (``kpi lis``): the command meant, when one is close."""
    import difflib

    m = re.match(r"No such command '([^']*)'", str(getattr(exc, "message", "")))
    command = getattr(ctx, "command", None)
    if not m or not hasattr(command, "list_commands"):
        return ""
    names = command.list_commands(ctx)
    close = difflib.get_close_matches(m[1][:MAX_QUOTED].lower(), names, n=1, cutoff=0.6)
    return f"（是否要用 {close[0]}？）" if close else ""


def _exception_types() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """Click's usage errors and aborts. Typer ≥ 0.20 raises those of its own copy of Click (Click itself
    is then not imported: no command of ours uses it); an older Typer, those of Click."""
    try:
        from typer._click.exceptions import ClickException
        from typer.exceptions import Abort
    except ImportError:  # pragma: no cover - older Typer, built on Click
        from click.exceptions import Abort, ClickException
    return (ClickException,), (Abort,)


class KpiTyper(typer.Typer):
    """A Typer app whose own parse errors reach the user in Chinese (see module doc)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        usage, abort = _exception_types()
        kwargs["standalone_mode"] = False
        try:
            code = super().__call__(*args, **kwargs)
        except usage as exc:
            if type(exc).__name__ == "NoArgsIsHelpError" and getattr(exc, "ctx", None) is not None:
                typer.echo(exc.ctx.get_help())  # `kpi` alone: the help, as before
                sys.exit(0)
            typer.echo(explain(exc), err=True)
            sys.exit(getattr(exc, "exit_code", 2))
        except abort:
            typer.echo("錯誤：已中止。", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)
