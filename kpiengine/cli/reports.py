"""``kpi report``: the year's 施政績效報告 for 國發會 (thin over report.model/overview and the renderers).

A full run writes the overview (index.html, the reviewers' xlsx, the combined PDF) and every
agency's files; a one-agency run (--agency) writes only that agency's files, never the overview.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import (
    AgencyOpt,
    AsOfOpt,
    LedgerOpt,
    RootOpt,
    YearOpt,
    fail,
    guarded,
    load_engine,
    output_folder,
    require_agency,
    resolve_ledger,
)
from .progress import progress


def register(app: typer.Typer) -> None:
    """Add the report command to ``app``."""

    @app.command("report")
    def report_cmd(
        year: YearOpt = 107,
        agency: AgencyOpt = None,
        out: Annotated[Path | None, typer.Option("--out", help="輸出資料夾 Output folder (default: reports/<year>/).")] = None,
        sample: Annotated[bool, typer.Option("--sample", help="改用範例資料產生報告（每頁標示範例資料，預設輸出至 reports/<year>/sample/）Report on the sample workbooks.")] = False,
        actuals: Annotated[Path | None, typer.Option("--actuals", help="範例資料夾（須搭配 --sample）Folder of sample workbooks (with --sample).")] = None,
        ledger: LedgerOpt = None,
        as_of: AsOfOpt = None,
        root: RootOpt = None,
        xlsx: Annotated[bool, typer.Option("--xlsx/--no-xlsx", help="另產生審查用 Excel 檔 Also write the reviewers' .xlsx.")] = True,
        docx: Annotated[bool, typer.Option("--docx/--no-docx", help="另產生各機關 Word 檔 Also write a .docx per agency.")] = True,
        pdf: Annotated[bool, typer.Option("--pdf", help="另以 Chromium 列印 PDF（全年合訂本及各機關）Also print PDFs.")] = False,
    ) -> None:
        """產生施政績效報告（HTML、Excel、Word，可選 PDF）Write the year's achievement reports."""
        from ..services import score_year

        engine = load_engine(root)
        code = require_agency(engine, agency)
        if actuals is not None and not sample:
            fail("--actuals 只能與 --sample 一起使用：正式報告一律取自帳本")
        result = guarded(lambda: score_year(engine, year, ledger=resolve_ledger(engine, ledger), as_of=as_of,
                                            agency=agency, sample=sample, actuals=actuals))
        if not sample and result.not_submitted:
            typer.echo(f"未繳交機關 {len(result.not_submitted)} 個：" + "、".join(result.not_submitted), err=True)
        # -- output side ---------------------------------------------------------------------
        folder = output_folder(out) if out is not None else engine.root / "reports" / str(year) / ("sample" if sample else "")
        _write(engine, year, code, result.items, result.versions, result.ledger_head, folder, xlsx, docx, pdf)


def _write(engine, year: int, code: str | None, items, versions: dict[str, int], ledger_head: str | None,
           out: Path | None, xlsx: bool, docx: bool, pdf: bool) -> None:
    # imported here: other commands never load jinja2 / openpyxl / matplotlib / python-docx
    from ..report.docx import write_docx
    from ..report.html import YEAR_HTML, write_reports
    from ..report.model import build_agency_report
    from ..report.pdf import PdfError, print_pdf, split_by_outline
    from ..report.provenance import build_provenance
    from ..report.xlsx import write_xlsx

    places = engine.policy(year).places
    sample = any(i.sample for i in items)
    provenance = build_provenance(engine.root, year, engine.policy(year), versions, sample, ledger_head)
    agencies = [engine.catalog.agency(code)] if code else list(engine.catalog.agencies)
    folder = out or engine.root / "reports" / str(year)
    steps = len(agencies) * (2 if docx else 1) + 2 + (1 if pdf else 0)
    with progress(steps, "產生報告") as step:
        reports = []
        for a in agencies:
            step(a.name)
            reports.append(build_agency_report(a, year, items, places))
        step("HTML")
        paths = write_reports(reports, year, folder, sample=sample, provenance=provenance, overview=code is None)
        step("Excel")
        if xlsx:
            name = f"{year}年度施政績效報告.xlsx" if code is None else f"{code}.xlsx"
            paths.append(write_xlsx(reports, year, folder / name, sample=sample, provenance=provenance))
        if docx:
            for r in reports:
                step(f"Word {r.agency}")
                paths.append(write_docx(r, folder / f"{r.agency_code}.docx", provenance))
        if pdf:
            step("PDF（Chromium）")
            try:
                if code is None:
                    whole = print_pdf(folder / YEAR_HTML.format(year=year), folder / f"{year}年度施政績效報告.pdf")
                    names = {a.name: a.code for a in agencies}
                    paths += [whole, *split_by_outline(whole, names, folder).values()]
                else:
                    paths.append(print_pdf(folder / f"{code}.html", folder / f"{code}.pdf"))
            except PdfError as exc:
                fail(str(exc))
    first = "總覽 index.html" if code is None else f"{code}.html"
    typer.echo(f"已產生 {len(paths)} 個檔案於 {folder}（{first}）")
    if code is not None:
        typer.echo("（僅產生此機關之檔案；年度總覽未變更）")
