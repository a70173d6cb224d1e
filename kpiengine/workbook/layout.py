"""What the template writes and the reader looks for: sheet names, machine keys, metadata fields.

One module so the writer and the reader can never disagree about where things are. Rows are found
by their machine key in column A (``moj.8.1:effective``), so rows may move; the value is read from
the template's own value column (``COL_VALUE``, counted from the key: a column inserted before A
moves both), never from a column a header text points to — a clerk can type any header into any
cell. The row's locked label must still be beside its key, so a shifted layout is an error, not a
silently different cell.
"""

from __future__ import annotations

import hashlib
import re

from ..model import Kpi

TEMPLATE_VERSION = "1.0"  # bump when the workbook layout changes incompatibly

COVER_SHEET = "封面"
DATA_SHEET = "關鍵績效指標填報"
META_SHEET = "_meta"  # hidden, protected: machine-readable identity of the workbook

VALUE_HEADER = "填報值"  # header text of the value column (for people; the reader uses COL_VALUE)
KEY_HEADER = "系統代碼（請勿修改）"

# columns of the data sheet (1 = A)
COL_KEY, COL_LABEL, COL_VALUE, COL_UNIT, COL_KIND, COL_NOTE = 1, 2, 3, 4, 5, 6
LAST_COL = COL_NOTE
READ_COLS = LAST_COL + 4  # the reader never looks further right (a clerk may have inserted a column or two)

# bounds on what the reader will iterate, checked before iterating (cost follows the cells that exist)
MAX_SHEET_ROWS = 30_000  # the largest agency's data sheet has a few hundred rows; 25,000 are validated in benchmarks
MAX_SHEET_CELLS = 500_000  # cells present in one sheet's XML, anywhere

# labels of the template's own rows without a key (KPI facts, the input header)
INFO_LABELS = ("關鍵策略目標", "關鍵績效指標", "衡量標準", "評估方式／指標方向", "子項目", "說明", "填報項目", "項目")
INFO_SUFFIX = "年度目標值"

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
