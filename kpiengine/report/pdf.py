"""Prints the HTML reports to PDF with headless Chromium (the same rendering the tests check).

An edge of the world: it runs a browser, so it lives here and not in the report model.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-pdf-header-footer", "--generate-pdf-document-outline"]


class PdfError(RuntimeError):
    """The PDF could not be printed (message in Chinese)."""


def find_browser() -> str | None:
    return next((p for name in BROWSERS if (p := shutil.which(name))), None)


def print_pdf(html: Path, pdf: Path, timeout: int = 300) -> Path:
    """Print one HTML file to ``pdf`` with headless Chromium."""
    browser = find_browser()
    if browser is None:
        raise PdfError("找不到 Chromium，無法產生 PDF（請安裝：apt-get install chromium）")
    with tempfile.TemporaryDirectory(prefix="kpi-chromium-") as profile:
        cmd = [browser, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", html.resolve().as_uri()]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium 列印 {html.name} 逾時") from None
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise PdfError(f"Chromium 未能列印 {html.name}")
    return pdf


def split_by_outline(pdf: Path, names: dict[str, str], out: Path) -> dict[str, Path]:
    """Cut the combined PDF into one PDF per agency at its top-level outline entries (its <h1>).

    ``names`` maps agency name → code; an entry whose title starts with a name starts that
    agency's pages, which run to the next top-level entry. One browser run prints the whole
    year, so per-agency PDFs cost a split instead of a browser each.
    """
    from pypdf import PdfReader, PdfWriter

    out.mkdir(parents=True, exist_ok=True)
    reader = PdfReader(pdf)
    starts: list[tuple[int, str | None]] = []
    for entry in reader.outline:
        if isinstance(entry, list):
            continue
        code = next((c for n, c in sorted(names.items(), key=lambda x: -len(x[0])) if entry.title.startswith(n)), None)
        starts.append((reader.get_destination_page_number(entry), code))
    starts.sort(key=lambda s: s[0])
    written: dict[str, Path] = {}
    for i, (first, code) in enumerate(starts):
        if code is None:
            continue
        last = starts[i + 1][0] if i + 1 < len(starts) else len(reader.pages)
        writer = PdfWriter()
        for page in reader.pages[first:max(last, first + 1)]:
            writer.add_page(page)
        writer.add_metadata({"/Title": next(n for n, c in names.items() if c == code) + "施政績效報告"})
        path = out / f"{code}.pdf"
        with path.open("wb") as fh:
            writer.write(fh)
        written[code] = path
    return written
