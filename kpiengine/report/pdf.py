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
         "--no-pdf-header-footer"]


class PdfError(RuntimeError):
    """The PDF could not be printed (message in Chinese)."""


def find_browser() -> str | None:
    return next((p for name in BROWSERS if (p := shutil.which(name))), None)


def print_pdf(html: Path, pdf: Path, timeout: int = 120) -> Path:
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
