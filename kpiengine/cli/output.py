"""Printing helpers for the terminal: CJK-aware column alignment, JSON, CSV."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..freetext import neutralise

if TYPE_CHECKING:
    from ..messages import Problem


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, size: int, right: bool = False) -> str:
    gap = " " * max(0, size - width(text))
    return gap + text if right else text + gap


def clip(text: str, size: int) -> str:
    out, w = "", 0
    for c in text:
        cw = width(c)
        if w + cw > size - 1 and width(text) > size:
            return out + "…"
        out += c
        w += cw
    return out


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(pad(h, widths[i], i in right) for i, h in enumerate(headers)).rstrip(),
             "  ".join("─" * w for w in widths)]
    for r in rows:
        lines.append("  ".join(pad(c, widths[i], i in right) for i, c in enumerate(r)).rstrip())
    return "\n".join(lines)


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def to_csv(records: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """CSV for Excel on a Traditional-Chinese Windows: a UTF-8 BOM first, formula-like text neutralised."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for r in records:
        writer.writerow({k: neutralise("；".join(map(str, v)) if isinstance(v, list) else v) for k, v in r.items()})
    return buf.getvalue()


class Format(StrEnum):
    """How a listing is printed: one convention for every command (``--json`` stays as an alias)."""

    table = "table"
    json = "json"
    csv = "csv"


# The option's default is None (= table), shown as "table": Typer validates every value it is given, and
# validating a default would import pydantic into commands that are meant to start in a blink.
FormatOpt = Annotated[Format | None, typer.Option("--format", help="輸出格式 table / json / csv.", show_default="table")]
JsonOpt = Annotated[bool, typer.Option("--json", help="同 --format json（舊用法）Same as --format json.")]


def chosen(fmt: Format | None, json_flag: bool = False) -> Format:
    """The format asked for: ``--json`` wins, no ``--format`` is a table."""
    return Format.json if json_flag else (fmt or Format.table)


def emit(fmt: Format, records: list[dict[str, Any]], columns: Sequence[str]) -> bool:
    """Print ``records`` as JSON or CSV and return True; False for table (the caller prints its own)."""
    if fmt is Format.json:
        typer.echo(to_json(records))
        return True
    if fmt is Format.csv:
        typer.echo(to_csv(records, columns), nl=False)
        return True
    return False


SEVERITY_TAGS = {"error": "錯誤", "warning": "警告", "info": "說明"}


def problem_line(p: Problem) -> str:
    """One problem for people: severity, code, where (sheet!cell and key), message."""
    loc = p.location
    where = ""
    if loc.get("sheet") and loc.get("cell"):
        where = f"{loc['sheet']}!{loc['cell']}"
    elif loc.get("sheet"):
        where = str(loc["sheet"])
    if loc.get("key"):
        where += f"（{loc['key']}）"
    elif loc.get("kpi") and loc.get("kpi") not in where:
        where += f"（{loc['kpi']}）"
    tag = SEVERITY_TAGS.get(p.severity, p.severity)
    return f"{tag} [{p.code}] {where + '：' if where else ''}{p.message}"
