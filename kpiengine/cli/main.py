"""``kpi`` — 行政院施政計畫關鍵績效指標計分工具 (KPI scoring for the Executive Yuan's annual plans).

Only the top level lives here: the app and its command table. Each command is a thin layer in its
own module (parse options, ask the Engine or the services, print), imported only when it runs, so
``kpi --help`` imports no command at all (see ``lazy``).
"""

from __future__ import annotations

import sys

from .language import KpiTyper
from .lazy import LazyCommand, LazyGroup

# name, module (kpiengine.cli.<module>.register defines it), the line `kpi --help` shows (its docstring's first)
COMMANDS = (
    LazyCommand("agencies", "agencies", "列出目錄中的機關 List the agencies in the catalog."),
    LazyCommand("list", "kpis", "列出關鍵績效指標及年度目標值 List KPIs with the year's targets."),
    LazyCommand("check", "kpis", "檢查整個目錄（格式、公式、代號、目標值、測試案例、原文對照、計分政策）"
                "Validate the whole catalog; exit 1 on any error."),
    LazyCommand("score", "scores", "依帳本中各機關最新提交版本計算達成度與燈號 Score every KPI of the year from the ledger "
                "(or --sample)."),
    LazyCommand("eval", "scores", "以命令列輸入值試算單一指標 Evaluate one KPI from SYMBOL=VALUE pairs."),
    LazyCommand("template", "workbooks", "產製機關填報表（.xlsx）Write the fill-in workbook of an agency (or --all)."),
    LazyCommand("validate", "workbooks", "檢查上傳之填報表，一次列出所有問題 Validate an uploaded workbook; exit 1 on any error."),
    LazyCommand("submit", "workbooks", "檢查後收件，記入提交帳本（新版本，不覆蓋）Validate, then record a new version in the ledger."),
    LazyCommand("submissions", "workbooks", "列出提交帳本中的各版本 List the versions recorded in the ledger."),
    LazyCommand("sample", "workbooks", "產製範例填報表（固定、可重現）Write deterministic sample workbooks for every agency."),
    LazyCommand("report", "reports", "產生施政績效報告（HTML、Excel、Word，可選 PDF）Write the year's achievement reports."),
    LazyCommand("review", "reviews", "記錄國發會複核燈號（綁定所複核的提交版本）Record 國發會's review of a KPI, bound to the "
                "version judged."),
    LazyCommand("reviews", "reviews", "列出複核紀錄及其是否仍有效 List the year's reviews and whether each still stands."),
    LazyCommand("gap", "gap", "距目標差距分析：各輸入項需達多少方達目標 Gap to target: the value of each input that meets it."),
    LazyCommand("serve", "serve", "啟動網站（部會填報、國發會審查與帳號管理）Start the web portal."),
    LazyCommand("diff", "ledger", "比較同一機關兩個提交版本的差異 What changed, per KPI, between two versions of an agency's year."),
    LazyCommand("verify", "ledger", "驗證帳本雜湊鏈與原始檔，指出第一個被竄改處 Verify the ledger's hash chain and stored files; "
                "exit 1 on any break."),
    LazyCommand("users", "users", "網站帳號管理 Accounts of the web portal (kpi serve)."),
)


class KpiGroup(LazyGroup):
    table = COMMANDS


app = KpiTyper(
    cls=KpiGroup,
    help="kpiengine：行政院施政計畫關鍵績效指標計分工具 — KPI catalog, workbooks and scoring for the Executive Yuan's annual plans.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@app.callback()
def kpi() -> None:
    """Nothing to do before a command (Typer needs a callback to make a group of a table)."""


def main() -> None:  # pragma: no cover
    sys.exit(app())
