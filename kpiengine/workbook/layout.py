"""What the template writes and the reader looks for: sheet names, machine keys, metadata fields.

One module so the writer and the reader can never disagree about where things are. Import never
depends on row or column positions: every input row carries a key such as ``moj.8.1:effective``
and the value column is found by its header text.
"""

from __future__ import annotations

import hashlib
import re

from ..model import Kpi

TEMPLATE_VERSION = "1.0"  # bump when the workbook layout changes incompatibly

COVER_SHEET = "封面"
DATA_SHEET = "關鍵績效指標填報"
META_SHEET = "_meta"  # hidden, protected: machine-readable identity of the workbook

VALUE_HEADER = "填報值"  # header text of the value column; the reader finds the column by it
KEY_HEADER = "系統代碼（請勿修改）"

RATING = "#rating"
NARRATIVE = "#narrative"
KPI_MARK = "#kpi"

RATING_LABELS = ("綠燈", "黃燈", "紅燈", "白燈")

# metadata fields of the hidden sheet (column A = field, column B = value)
META_AGENCY = "agency_code"
META_AGENCY_NAME = "agency"
META_YEAR = "year"
META_VERSION = "template_version"
META_DIGEST = "catalog_digest"
META_KIND = "kind"  # "template" or "sample"

KIND_TEMPLATE = "template"
KIND_SAMPLE = "sample"

KEY_RE = re.compile(r"^(?P<kpi>[a-z][a-z0-9_]*\.\d+\.\d+):(?P<field>#?[A-Za-z_][A-Za-z0-9_]*)$")

FONT_NAME = "Noto Sans CJK TC"


def key(kpi_id: str, field: str) -> str:
    """The machine key of one row, e.g. ``moj.8.1:effective`` or ``moj.8.1:#rating``."""
    return f"{kpi_id}:{field}"


def parse_key(text: object) -> tuple[str, str] | None:
    """(kpi id, field) of a key cell's text, or None if the text is not a key."""
    if not isinstance(text, str):
        return None
    m = KEY_RE.match(text.strip())
    return (m["kpi"], m["field"]) if m else None


def catalog_digest(kpis: tuple[Kpi, ...] | list[Kpi], year: int) -> str:
    """Fingerprint of what a workbook asks for (KPI ids and their input symbols) in a year."""
    text = f"{year}|" + "|".join(f"{k.id}:{','.join(k.input_symbols)}" for k in kpis)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
