"""``kpi report``: writes the 施政績效報告 HTML for 國發會's review (thin over report.model/html)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import AgencyOpt, RootOpt, YearOpt, fail, load_engine, require_agency


def register(app: typer.Typer) -> None:
    """Add the report command to ``app``."""

    @app.command("report")
    def report_cmd(
        year: YearOpt = 107,
        agency: AgencyOpt = None,
        out: Annotated[Path | None, typer.Option("--out", help="輸出資料夾 Output folder (default: reports/<year>/).")] = None,
        actuals: Annotated[Path | None, typer.Option("--actuals", help="實際值資料夾 Folder of actuals (default: actuals/<year>/).")] = None,
        root: RootOpt = None,
        xlsx: Annotated[bool, typer.Option("--xlsx/--no-xlsx", help="另產生審查用 Excel 檔 Also write the reviewers' .xlsx.")] = True,
        pdf: Annotated[bool, typer.Option("--pdf", help="另以 Chromium 列印各機關 PDF Also print each agency's page to PDF.")] = False,
    ) -> None:
        """產生施政績效報告（HTML 與 Excel）Write the year's achievement reports (HTML and .xlsx)."""
        from ..report.html import write_reports  # imported here: other commands never load jinja2 / openpyxl
        from ..report.model import build_agency_report
        from ..report.pdf import PdfError, print_pdf
        from ..report.xlsx import write_xlsx
        from .reviews import load_reviews
        from .workbooks import gather_inputs

        engine = load_engine(root)
        require_agency(engine, agency)
        folder = actuals or engine.root / "actuals" / str(year)
        submissions, _problems, _sources = gather_inputs(engine, year, folder, agency=agency)
        sample = any(s.sample for s in submissions)
        items = engine.score_year(year, submissions, agency, load_reviews(engine, year))
        places = engine.policy(year).places
        agencies = [engine.catalog.agency(agency)] if agency else list(engine.catalog.agencies)
        reports = [build_agency_report(a, year, items, places) for a in agencies]
        folder = out or engine.root / "reports" / str(year)
        paths = write_reports(reports, year, folder, sample=sample)
        if xlsx:
            paths.append(write_xlsx(reports, year, folder / f"{year}年度施政績效報告.xlsx", sample=sample))
        if pdf:
            try:
                paths += [print_pdf(p, p.with_suffix(".pdf")) for p in paths if p.suffix == ".html" and p.name != "index.html"]
            except PdfError as exc:
                fail(str(exc))
        typer.echo(f"已產生 {len(paths)} 個檔案於 {folder}（總覽：{paths[0].name}）")
