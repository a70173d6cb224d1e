"""Gatekeeping of uploaded files before openpyxl touches them.

An upload is untrusted: it may be a renamed .xls, an encrypted file (OLE compound document), a
macro-enabled workbook, a zip bomb, or a workbook that reaches outside itself (external links,
data connections, WEBSERVICE / DDE formulas anywhere, not only in input cells). Each is refused
with a Chinese message and a stable code, looking at the file size, the signature and the zip
directory first, then streaming the formula text of the sheets (bounded by the unpacked size).
"""

from __future__ import annotations

import math
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..messages import Problem
from .errors import wb_problem

OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")  # encrypted OOXML and legacy .xls
ZIP_SIGNATURE = b"PK\x03\x04"
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Upload limits; ``KPI_MAX_UPLOAD_MB`` overrides the file size limit."""

    max_bytes: int = 20 * MB  # the file as uploaded
    max_unpacked_bytes: int = 200 * MB  # all zip members, uncompressed
    max_ratio: int = 200  # uncompressed ÷ compressed, for members above ratio_floor
    ratio_floor: int = 1 * MB
    max_members: int = 2000

    @classmethod
    def from_env(cls) -> Limits:
        raw = os.environ.get("KPI_MAX_UPLOAD_MB")
        if raw:
            try:
                mb = float(raw)
            except ValueError:
                mb = float("nan")
            if math.isfinite(mb) and 0 < mb <= 1000:  # nan, inf, negative: the default, never a crash
                return cls(max_bytes=int(mb * MB))
        return cls()


def check_file(path: Path, limits: Limits | None = None) -> list[Problem]:
    """Problems that make the file unacceptable (empty list = safe to hand to openpyxl)."""
    limits = limits or Limits.from_env()
    loc = {"file": path.name}
    if not path.is_file():
        return [wb_problem("wb-file-missing", loc, name=str(path))]
    size = path.stat().st_size
    if size == 0:
        return [wb_problem("wb-file-empty", loc, name=path.name)]
    if size > limits.max_bytes:
        return [wb_problem("wb-too-large", loc, size_mb=f"{size / MB:.1f}", limit_mb=f"{limits.max_bytes / MB:g}")]
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(OLE_SIGNATURE):
        return [wb_problem("wb-encrypted", loc)]
    if path.suffix.lower() in (".xlsm", ".xltm", ".xlam"):
        return [wb_problem("wb-macro", loc)]
    if not head.startswith(ZIP_SIGNATURE):
        kind = "看起來是文字檔（CSV 等）" if _looks_like_text(head) else "檔案格式無法辨識"
        return [wb_problem("wb-not-xlsx", loc, detail=kind)]
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return [wb_problem("wb-not-xlsx", loc, detail=f"壓縮結構損毀（{exc}）")]
    if len(infos) > limits.max_members:
        return [wb_problem("wb-zip-bomb", loc, detail=f"內含 {len(infos)} 個檔案")]
    total = sum(i.file_size for i in infos)
    if total > limits.max_unpacked_bytes:
        return [wb_problem("wb-zip-bomb", loc, detail=f"解壓縮後共 {total / MB:.0f} MB")]
    for i in infos:
        if i.file_size > limits.ratio_floor and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            return [wb_problem("wb-zip-bomb", loc,
                               detail=f"{i.filename} 壓縮比 {i.file_size // max(i.compress_size, 1)} 倍")]
    names = {i.filename for i in infos}
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        return [wb_problem("wb-macro", loc)]
    if "mimetype" in names and "content.xml" in names:
        return [wb_problem("wb-not-xlsx", loc, detail="此為 OpenDocument 試算表（.ods），請另存為 .xlsx")]
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        return [wb_problem("wb-not-xlsx", loc, detail="壓縮檔內沒有 Excel 活頁簿內容（可能是 Word、其他壓縮檔）")]
    with zipfile.ZipFile(path) as zf:
        with zf.open("[Content_Types].xml") as fh:
            content_types = fh.read(200_000)
        if b"macroEnabled" in content_types:
            return [wb_problem("wb-macro", loc)]
        active = active_content(zf)
    if active:
        return [wb_problem("wb-active-content", loc, detail=active)]
    return []


# Parts that make a workbook reach outside itself: links to other files, data connections (web
# queries, DDE, ODBC), and formulas that fetch or run (WEBSERVICE, DDE's app|topic!item, CALL …).
LINK_PARTS = ("xl/externallinks/", "xl/connections.xml", "xl/querytables/", "customxml/")
ACTIVE_FUNCTIONS = re.compile(rb"(?i)\b(WEBSERVICE|FILTERXML|IMPORTXML|IMPORTDATA|IMPORTHTML|IMPORTRANGE|IMPORTFEED"
                              rb"|CALL|REGISTER|REGISTER\.ID|EXEC|RTD|DDE|DDEAUTO|INFO|HYPERLINK)\s*\(")
DDE_LINK = re.compile(rb"[A-Za-z0-9_.\-]+\|'?[^'<]*'?!")  # app|topic!item
EXTERNAL_REF = re.compile(rb"\[\d+\]|'?(?:file|https?|ftp)://", re.I)
FORMULA_TEXT = re.compile(rb"<(?:[a-z]+:)?(?:f|definedName)\b[^>]*>([^<]{1,100000})</", re.S)
SCANNED_PARTS = re.compile(r"^xl/(worksheets/[^/]+\.xml|workbook\.xml|chartsheets/[^/]+\.xml)$", re.I)
CHUNK = 1 << 20


def active_content(zf: zipfile.ZipFile) -> str | None:
    """What in the workbook reaches outside it (Chinese, naming the part), or None. Reads in chunks."""
    for info in zf.infolist():
        name = info.filename.lower()
        if name.startswith(LINK_PARTS) and not name.endswith("/"):
            return f"外部連結或資料連線（{info.filename}）"
        if name.endswith(".rels"):
            with zf.open(info) as fh:
                rels = fh.read(1_000_000)
            if b'TargetMode="External"' in rels and (b"externalLink" in rels or b"oleObject" in rels
                                                     or b"attachedTemplate" in rels or b"frame" in rels):
                return f"指向外部檔案的關聯（{info.filename}）"
    for info in zf.infolist():
        if not SCANNED_PARTS.match(info.filename):
            continue
        tail = b""
        with zf.open(info) as fh:
            while chunk := fh.read(CHUNK):
                text = tail + chunk
                for m in FORMULA_TEXT.finditer(text) if _may_hold_formulas(text) else ():
                    formula = m.group(1)
                    found = ACTIVE_FUNCTIONS.search(formula) or DDE_LINK.search(formula) or EXTERNAL_REF.search(formula)
                    if found:
                        shown = found.group(0).decode("utf-8", "replace")[:40]
                        return f"會連線或執行外部程式的公式「{shown}」（{info.filename}）"
                tail = text[-200_000:]
    return None


def _may_hold_formulas(text: bytes) -> bool:
    """False only when ``FORMULA_TEXT`` cannot match: no ``<f``, no prefixed ``:f``, no ``definedName``.

    A plain substring test is far quicker than the pattern's search on sheets without formulas.
    """
    return b"<f" in text or b":f" in text or b"definedName" in text


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
