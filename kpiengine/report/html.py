"""Renders report models to self-contained HTML (no scripts, no external assets), autoescaped.

Narratives and notes come from workbooks and the catalog: Jinja's autoescape keeps them text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from .model import AgencyReport

_NUMERALS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 13 → 十三, 21 → 二十一 (goal numbers as printed in the plan)."""
    if n < 10:
        return _NUMERALS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _NUMERALS[tens]) + "十" + (_NUMERALS[ones] if ones else "")


@cache
def _env() -> Environment:
    """One environment per process: building it (and compiling its templates) for each of the 34 pages
    cost more than rendering them."""
    env = Environment(loader=PackageLoader("kpiengine.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["numeral"] = chinese_numeral
    return env


def render_agency(report: AgencyReport, sample: bool = False, generated: datetime | None = None) -> str:
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return _env().get_template("agency.html.j2").render(r=report, sample=sample, generated=when)


def render_index(reports: list[AgencyReport], year: int, sample: bool = False, generated: datetime | None = None) -> str:
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return _env().get_template("index.html.j2").render(reports=reports, year=year, sample=sample, generated=when)


def write_reports(reports: list[AgencyReport], year: int, out: Path, sample: bool = False) -> list[Path]:
    """Write index.html and one <agency_code>.html per agency into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    paths = []
    for r in reports:
        path = out / f"{r.agency_code}.html"
        path.write_text(render_agency(r, sample, now), encoding="utf-8")
        paths.append(path)
    index = out / "index.html"
    index.write_text(render_index(reports, year, sample, now), encoding="utf-8")
    return [index, *paths]
