"""Gatekeeping of uploaded files before openpyxl touches them.

An upload is untrusted: it may be a renamed .xls, an encrypted file (OLE compound document), a
macro-enabled workbook, or a zip bomb. Each is refused with a Chinese message and a stable code,
looking only at the file size, the signature and the zip directory (never decompressing).
"""

from __future__ import annotations

import os
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
                return cls(max_bytes=int(float(raw) * MB))
            except ValueError:
                pass
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
    with zipfile.ZipFile(path) as zf, zf.open("[Content_Types].xml") as fh:
        content_types = fh.read(200_000)
    if b"macroEnabled" in content_types:
        return [wb_problem("wb-macro", loc)]
    return []


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
