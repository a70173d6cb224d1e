"""Report downloads for the portal: the same report model and renderers as ``kpi report``.

Each function writes into a private temporary folder with the report package's public writers
(``write_reports``, ``write_xlsx``, ``write_docx``, ``print_pdf``) and returns the file's bytes,
name and media type; the scores come from the ledger's latest official versions (``cycle``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..engine import Engine
from . import cycle

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "xlsx": XLSX, "docx": DOCX}


@dataclass(frozen=True)
class Download:
    data: bytes
    name: str
    media_type: str


def _models(engine: Engine, ledger: Path, year: int, agency: str | None):
    from ..report.model import build_agency_report
    from ..report.provenance import build_provenance

    scored = cycle.scores(engine, ledger, year, agency)
    places = engine.policy(year).places
    agencies = [engine.catalog.agency(agency)] if agency else list(engine.catalog.agencies)
    reports = [build_agency_report(a, year, scored.items, places) for a in agencies]
    provenance = build_provenance(engine.root, year, engine.policy(year), scored.versions, scored.sample,
                                  scored.ledger_head)
    return reports, provenance


def year_report(engine: Engine, ledger: Path, year: int, fmt: str) -> Download:
    """Every agency: the whole-year HTML document, its PDF, or the reviewers' workbook."""
    from ..report.html import YEAR_HTML, write_reports
    from ..report.pdf import print_pdf
    from ..report.xlsx import write_xlsx

    reports, provenance = _models(engine, ledger, year, None)
    title = f"{year}年度施政績效報告"
    with tempfile.TemporaryDirectory(prefix="kpi-report-") as d:
        folder = Path(d)
        if fmt == "xlsx":
            path = write_xlsx(reports, year, folder / f"{title}.xlsx", provenance=provenance)
        else:
            write_reports(reports, year, folder, provenance=provenance, overview=True)
            path = folder / YEAR_HTML.format(year=year)
            if fmt == "pdf":
                path = print_pdf(path, folder / f"{title}.pdf")
        return Download(path.read_bytes(), f"{title}.{fmt}", MEDIA[fmt])


def agency_report(engine: Engine, ledger: Path, year: int, code: str, fmt: str) -> Download:
    """One agency: HTML, PDF (printed by Chromium from that HTML) or Word."""
    from ..report.html import write_reports
    from ..report.pdf import print_pdf

    reports, provenance = _models(engine, ledger, year, code)
    (report,) = reports
    with tempfile.TemporaryDirectory(prefix="kpi-report-") as d:
        folder = Path(d)
        if fmt == "docx":
            from ..report.docx import write_docx

            path = write_docx(report, folder / f"{code}.docx", provenance)
        else:
            (path,) = write_reports(reports, year, folder, provenance=provenance, overview=False)
            if fmt == "pdf":
                path = print_pdf(path, path.with_suffix(".pdf"))
        return Download(path.read_bytes(), f"{year}年度{report.agency}施政績效報告.{fmt}", MEDIA[fmt])
