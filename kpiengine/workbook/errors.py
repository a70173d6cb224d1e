"""Problem codes of uploaded workbooks: stable ``wb-*`` codes with Chinese messages.

Kept apart from ``messages.CATALOGUE`` so the core catalogue stays about the catalog and the
formulas; every entry still builds a ``messages.Problem`` so reports treat all problems alike.
"""

from __future__ import annotations

from typing import Any

from ..messages import Problem

# code → (severity, template). Templates are filled with str.format(**params).
WORKBOOK_CATALOGUE: dict[str, tuple[str, str]] = {
    # the file itself: refused before openpyxl reads it
    "wb-file-missing": ("error", "找不到檔案「{name}」"),
    "wb-file-empty": ("error", "檔案「{name}」是空的（0 位元組）"),
    "wb-too-large": ("error", "檔案過大（{size_mb} MB，上限 {limit_mb} MB），請刪除多餘內容後另存再上傳"),
    "wb-encrypted": ("error", "檔案為加密（設有開啟密碼）或舊版 Excel 97-2003（.xls）格式，無法讀取；"
                              "請取消密碼保護並另存為「Excel 活頁簿（.xlsx）」後再上傳"),
    "wb-not-xlsx": ("error", "檔案不是 Excel 活頁簿（.xlsx）：{detail}；請以本系統產製之填報表填寫並存為 .xlsx"),
    "wb-macro": ("error", "檔案含有巨集（.xlsm 或 vbaProject.bin），基於資訊安全不予受理；"
                          "請另存為不含巨集之「Excel 活頁簿（.xlsx）」"),
    "wb-zip-bomb": ("error", "檔案解壓縮後異常龐大（{detail}），疑似惡意檔案，不予受理"),
    "wb-active-content": ("error", "活頁簿含有{detail}，基於資訊安全不予受理；請刪除該公式或連結，改填數值後另存再上傳"),
    "wb-unreadable": ("error", "無法開啟活頁簿：{detail}"),
    "wb-sheet-too-large": ("error", "工作表「{sheet}」的資料範圍異常龐大（最後一列為第 {rows} 列、共 {cells} 個儲存格；"
                                    "上限 {max_rows} 列、{max_cells} 格），不予讀取；請刪除多餘的列與欄後另存再上傳"),
    "wb-hidden-sheet": ("error", "隱藏的工作表「{sheet}」含有填報列（{cell}），其數值看不到也無法核對，不予匯入；"
                                "請刪除該工作表，或取消隱藏並移回「關鍵績效指標填報」工作表"),
    # identity: which agency, year and template the workbook is for
    "wb-meta-missing": ("error", "找不到填報表識別資料（隱藏工作表「{sheet}」或其中的「{field}」），"
                                 "請使用本系統產製之填報表，勿複製貼上到新檔案"),
    "wb-meta-invalid": ("error", "填報表識別資料「{field}」的內容「{value}」不正確"),
    "wb-agency-unknown": ("error", "填報表的機關代碼「{agency_code}」不在指標目錄中"),
    "wb-agency-mismatch": ("error", "此填報表屬於「{found}」，不是指定的「{expected}」"),
    "wb-year-unknown": ("error", "填報表年度為 {year} 年，但指標目錄沒有該年度的目標值（可用年度：{years}）"),
    "wb-year-mismatch": ("error", "此填報表為 {found} 年度，不是指定的 {expected} 年度"),
    "wb-template-version": ("error", "填報表版本為「{found}」，目前受理版本為「{expected}」，請下載最新填報表重新填寫"),
    "wb-catalog-changed": ("warning", "填報表產製後指標目錄已有異動，請確認已下載最新填報表"),
    "wb-sample-data": ("warning", "本檔為範例資料（非真實數據），不應作為正式填報"),
    # structure: the machine keys in column A
    "wb-kpi-missing": ("error", "找不到指標 {kpi_id}「{name}」的填報列（可能被刪除），請使用原始填報表"),
    "wb-kpi-unknown": ("error", "指標代碼 {kpi_id} 不屬於{agency}的指標目錄{extra}"),
    "wb-input-row-missing": ("error", "指標 {kpi_id} 缺少填報項目「{label}」（{symbol}）的列（可能被刪除）"),
    "wb-input-unknown": ("error", "指標 {kpi_id} 沒有填報項目「{symbol}」"),
    "wb-layout-changed": ("error", "{key} 這一列的欄位被搬動（「應填內容」應為「{expected}」，現為「{found}」），"
                                   "無法確定填報值是否在 {cell}；請勿在 A 至 F 欄之間插入或刪除欄，請使用原始填報表"),
    "wb-key-duplicate": ("error", "系統代碼 {key} 重複出現（另見 {other}），請勿複製列"),
    # values
    "wb-hidden-input": ("error", "「{label}」的填報值位於被隱藏的列或欄（{cell}），填報人與審查人都看不到；請取消隱藏並確認數值"),
    "wb-note-ignored": ("warning", "第 {row} 列不是填報表原有的列，其文字「{text}」未匯入（指標 {kpi_id} 附近）；"
                                   "說明文字請寫在該指標的「績效衡量暨達成情形分析」欄"),
    "wb-not-number": ("error", "「{label}」應填{kind}，但填的是「{value}」"),
    "wb-number-refused": ("error", "「{label}」的值「{value}」無法接受：{reason}"),
    "wb-display-differs": ("error", "「{label}」儲存格顯示為「{shown}」，但存的數值是 {value}（儲存格格式隱藏了部分位數）；"
                                    "計分以存的數值為準，請改填顯示的數值，或將儲存格格式改為「通用格式」後確認"),
    "wb-negative": ("error", "「{label}」不可為負數（填的是 {value}）"),
    "wb-not-integer": ("error", "「{label}」應為整數（填的是 {value}）"),
    "wb-rank-range": ("error", "「{label}」為名次或級別，須為 1 以上的整數（第1級填 1；填的是 {value}）"),
    "wb-score-range": ("error", "「{label}」為 0-100 分，不可超過 100（填的是 {value}）"),
    "wb-bool-invalid": ("error", "「{label}」只能填 1（是／已完成）或 0（否／未完成），填的是「{value}」"),
    "wb-percent-unexpected": ("error", "「{label}」應填{kind}（單位：{unit}），不是百分比（填的是「{value}」）"),
    "wb-percent-fraction": ("warning", "「{label}」填 {value}，是否誤將百分比以小數填寫？百分比請填百分數（例如 90% 請填 90）"),
    "wb-percent-format": ("info", "「{label}」儲存格為百分比格式，{shown} 以 {value} 匯入"),
    "wb-formula-no-cache": ("error", "「{label}」為公式「{formula}」但檔案中沒有計算結果；請改填數值，或以 Excel 重新計算後存檔"),
    "wb-formula": ("warning", "「{label}」為公式「{formula}」，以計算結果 {value} 匯入；建議直接填數值"),
    "wb-partial": ("error", "指標 {kpi_id} 只填了部分項目，尚缺：{labels}；本年度若無資料請整項留白"),
    "wb-not-given": ("warning", "指標 {kpi_id}「{name}」未填報，將標示為「無資料」"),
    "wb-undefined": ("error", "指標 {kpi_id} 無法計算：分母為 0（{denominator}），請檢查 {cells}"),
    "wb-nothing-filled": ("warning", "{count} 項指標都沒有填任何數值：送出後這份空白的填報將成為最新版本，"
                                     "各指標均標示為「無資料」。若是誤傳了空白範本，請改傳已填寫的檔案"),
    "wb-stage-order": ("warning", "指標 {kpi_id} 勾選了{later}，但「{missing}」尚未完成：依階段型指標通則，"
                                  "前一階段完成後才計入後續階段，故實際值以 {actual} 計；若該階段確已完成，請更正後再上傳"),
    "wb-outlier": ("warning", "指標 {kpi_id} 試算實際值 {actual} 與歷年實際值（{past}）相差懸殊，請確認填報數值與單位"),
    "wb-rating-invalid": ("error", "初核燈號只能選「綠燈／黃燈／紅燈／白燈」，填的是「{value}」"),
    "wb-rating-missing": ("warning", "指標 {kpi_id} 已填數據但未選初核燈號"),
    # folders of workbooks
    "wb-agency-duplicate": ("error", "{agency_code} 在 {year} 年度有多個填報檔（{files}），僅採用「{used}」"),
}


def wb_problem(code: str, location: dict[str, Any] | None = None, severity: str | None = None,
               **params: Any) -> Problem:
    """Build a Problem from the workbook catalogue; unknown codes are a programming error."""
    default_severity, template = WORKBOOK_CATALOGUE[code]
    return Problem(code=code, message=template.format(**params), severity=severity or default_severity,
                   location={k: v for k, v in (location or {}).items() if v not in (None, "")})
