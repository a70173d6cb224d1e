"""A typed catalogue of problems: stable codes, Chinese message templates, locations.

Every problem the engine reports — in the catalog, in a workbook, in an evaluation — is a
``Problem`` value built from this catalogue, so codes stay stable and messages stay consistent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# code → (severity, template). Templates are filled with str.format(**params).
CATALOGUE: dict[str, tuple[str, str]] = {
    # catalog
    "catalog-yaml": ("error", "無法讀取 YAML：{detail}"),
    "catalog-schema": ("error", "欄位「{field}」{detail}"),
    "catalog-duplicate-id": ("error", "指標代碼 {kpi_id} 重複"),
    "catalog-id-mismatch": ("error", "指標代碼 {kpi_id} 與 目標{goal_no}／指標{kpi_no} 不符（應為 {expected}）"),
    "catalog-unknown-goal": ("error", "目標編號 {goal_no} 不在 goals 中"),
    "catalog-unknown-shared": ("error", "找不到共用公式「{shared}」"),
    "formula-rejected": ("error", "公式未通過檢查：{detail}"),
    "formula-symbol-unused": ("warning", "宣告的輸入「{symbol}」未用於公式"),
    "catalog-symbol-invalid": ("error", "代號「{symbol}」不合規則（須為英文字母開頭的 ASCII 識別字，且不可為保留字）"),
    "catalog-symbol-duplicate": ("error", "代號「{symbol}」重複宣告"),
    "policy-invalid": ("error", "計分政策欄位「{field}」{detail}"),
    "target-missing": ("error", "{year} 年度缺少目標值"),
    "target-orphan": ("error", "{year} 年度目標值指向不存在的指標"),
    "target-param-missing": ("error", "{year} 年度目標缺少參數「{symbol}」的值"),
    "target-param-unknown": ("error", "{year} 年度目標含有未宣告的參數「{symbol}」"),
    "target-comparator": ("error", "比較方式「{comparator}」與方向「{direction}」不一致"),
    "target-stage-unknown": ("error", "階段「{symbol}」不是此指標的輸入"),
    "test-missing": ("error", "沒有任何測試案例"),
    "test-failed": ("error", "測試案例 {n} 不符：預期 {expected}，計算得 {got}"),
    "test-input-unknown": ("error", "測試案例 {n} 使用未宣告的代號「{symbol}」"),
    "provenance-order": ("error", "「{field}」欄依指標順序串接後不是原文的子序列：此列或前一列的文字可能歸錯列"),
    "provenance-not-found": ("error", "「{field}」的文字不是本機關章節原文的子序列（第 {position} 字「{char}」之後找不到）"),
    # evaluation
    "input-missing": ("error", "缺少輸入值：{labels}"),
    "input-invalid": ("error", "輸入值不合規定：{label}＝{value}（{detail}）"),
    "input-unknown": ("error", "指標 {kpi_id} 沒有輸入代號「{symbol}」（可用：{symbols}）"),
    "division-by-zero": ("error", "無法計算：分母為 0（{denominator}）"),
    "kpi-unknown": ("error", "找不到指標 {kpi_id}"),
    "target-none": ("error", "指標 {kpi_id} 沒有 {year} 年度目標值"),
    # the reporting cycle (services)
    "year-unknown": ("error", "指標目錄沒有 {year} 年度的目標值（可用年度：{years}）"),
    "year-western": ("error", "{year} 是西元年：西元 {year} 年 = 民國 {roc} 年，請用 --year {roc}（可用年度：{years}）"),
    "agency-unknown": ("error", "找不到機關「{agency}」。可用：{codes}"),
    "sample-as-of": ("error", "範例資料沒有提交時間，--as-of 只能用於帳本中的正式資料"),
    "sample-folder-missing": ("error", "找不到範例資料夾 {folder}（可用 kpi sample 產製）"),
    "sample-not-sample": ("warning", "{file} 不是範例資料，未納入範例計分；機關的正式資料須以 kpi submit 提交後才計分"),
    "submit-invalid": ("error", "檔案有 {errors} 個錯誤，未予收件；請修正後再提交"),
    "submit-sample": ("error", "{file} 是範例資料（kpi sample 產製），不可作為機關正式資料提交；請用 kpi template 下載的填報表填寫"),
    "submit-confirm": ("error", "有 {n} 個警告可能改變燈號，須確認無誤後再提交（命令列加 --confirm-warnings）；未予收件"),
    "submit-no-submitter": ("error", "必須指明提交人（--by）"),
    "review-not-submitted": ("error", "{agency} 尚未繳交 {year} 年度資料，指標 {kpi_id} 沒有可複核的資料"),
    "diff-too-few": ("error", "{agency} {year} 年度在帳本中只有 {n} 個版本，無從比較；請以 --from/--to 指定"),
    "diff-no-version": ("error", "{agency} {year} 年度沒有第 {version} 版（現有版本：{versions}）"),
    "diff-same": ("error", "--from 與 --to 都是第 {version} 版，請指定兩個不同版本"),
}


@dataclass(frozen=True)
class Problem:
    """One problem found anywhere: a code, where it is, and a filled-in Chinese message."""

    code: str
    message: str
    severity: str = "error"
    location: dict[str, Any] = field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message, **self.location}

    def where(self) -> str:
        parts = [f"{k}={v}" for k, v in self.location.items() if v not in (None, "")]
        return " ".join(parts)


def shorten(text: str, size: int = 24) -> str:
    """A long text for a message: its start and its length, never the whole (possibly huge) text."""
    shown = text if len(text) <= size else f"{text[:size]}…（共 {len(text):,} 字元）"
    return "".join(f"\\x{ord(c):02x}" if ord(c) < 32 or ord(c) == 127 else c for c in shown)  # control characters made visible


def problem(code: str, location: dict[str, Any] | None = None, severity: str | None = None, **params: Any) -> Problem:
    """Build a Problem from the catalogue; unknown codes are a programming error."""
    default_severity, template = CATALOGUE[code]
    return Problem(code=code, message=template.format(**params), severity=severity or default_severity,
                   location=dict(location or {}))
