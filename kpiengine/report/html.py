"""Renders report models to self-contained HTML (no scripts, no external assets), autoescaped.

Narratives and notes come from workbooks and the catalog: Jinja's autoescape keeps them text.
Charts are inline SVG drawn on the server (``charts``), marked safe only because we drew them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from .model import AgencyReport
from .overview import Overview, Provenance, build_overview

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


def _when(generated: datetime | None) -> str:
    return (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")


def _charts(overview: Overview) -> dict[str, str]:
    from .charts import achievement_histogram, lights_by_agency

    return {"lights": lights_by_agency(overview), "histogram": achievement_histogram(overview)}


def render_agency(report: AgencyReport, sample: bool = False, generated: datetime | None = None,
                  provenance: Provenance | None = None) -> str:
    return _env().get_template("agency.html.j2").render(r=report, sample=sample or report.sample,
                                                        generated=_when(generated), provenance=provenance)


def render_index(overview: Overview, generated: datetime | None = None, provenance: Provenance | None = None,
                 charts: dict[str, str] | None = None) -> str:
    """The year's overview page (index.html)."""
    return _env().get_template("index.html.j2").render(o=overview, charts=charts or _charts(overview),
                                                       generated=_when(generated), provenance=provenance)


def render_year(overview: Overview, generated: datetime | None = None, provenance: Provenance | None = None,
                charts: dict[str, str] | None = None) -> str:
    """The whole year in one document (overview, then every agency from a new page), for the combined PDF."""
    return _env().get_template("year.html.j2").render(o=overview, charts=charts or _charts(overview),
                                                      generated=_when(generated), provenance=provenance)


YEAR_HTML = "{year}年度施政績效報告.html"


def write_reports(reports: list[AgencyReport], year: int, out: Path, sample: bool = False,
                  provenance: Provenance | None = None, overview: bool = True) -> list[Path]:
    """Write one <agency_code>.html per agency into ``out``; with ``overview`` also index.html and the
    whole-year document (input of the combined PDF). A one-agency run passes ``overview=False`` and
    so never replaces the year's overview."""
    out.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    paths = []
    for r in reports:
        path = out / f"{r.agency_code}.html"
        path.write_text(render_agency(r, sample, now, provenance), encoding="utf-8")
        paths.append(path)
    if not overview:
        return paths
    model = build_overview(year, reports)
    charts = _charts(model)
    index = out / "index.html"
    index.write_text(render_index(model, now, provenance, charts), encoding="utf-8")
    whole = out / YEAR_HTML.format(year=year)
    whole.write_text(render_year(model, now, provenance, charts), encoding="utf-8")
    return [index, *paths, whole]
