"""``kpi gap``: how far a missed KPI is from its target, input by input (thin over kpiengine.gap)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..evaluation import State
from . import output
from .common import AsOfOpt, LedgerOpt, RootOpt, YearOpt, fail, guarded, load_engine, resolve_ledger
from .output import Format

GAP_COLUMNS = ["id", "year", "status", "light", "sample", "symbol", "label", "unit", "domain", "current", "needed",
               "needed_exact", "change", "sensitivity", "sentence"]


def register(app: typer.Typer) -> None:
    """Add the gap command to ``app``."""

    @app.command("gap")
    def gap_cmd(
        kpi_id: Annotated[str, typer.Argument(help="指標代碼 KPI id, e.g. moj.8.1")],
        year: YearOpt = 107,
        root: RootOpt = None,
        fmt: output.FormatOpt = None,
        sample: Annotated[bool, typer.Option("--sample", help="改用範例資料 Use the sample workbooks instead of the ledger.")] = False,
        actuals: Annotated[Path | None, typer.Option("--actuals", help="範例資料夾（須搭配 --sample）Folder of sample workbooks (with --sample).")] = None,
        ledger: LedgerOpt = None,
        as_of: AsOfOpt = None,
    ) -> None:
        """距目標差距分析：各輸入項需達多少方達目標 Gap to target: the value of each input that meets it."""
        fmt = output.chosen(fmt)
        from ..gap import analyse, gap_record, sensitivity_text, sentence, value_text
        from ..services import score_year

        engine = load_engine(root)
        kpi = engine.catalog.kpi(kpi_id)
        if kpi is None:
            fail(f"找不到指標 {kpi_id}（請用 kpi list 查詢代碼）")
        if actuals is not None and not sample:
            fail("--actuals 只能與 --sample 一起使用：正式資料一律取自帳本")
        result = guarded(lambda: score_year(engine, year, ledger=resolve_ledger(engine, ledger), as_of=as_of,
                                            agency=kpi.agency_code, sample=sample, actuals=actuals))
        item = next(i for i in result.items if i.kpi.id == kpi.id)
        places = engine.policy(year).places
        gap = analyse(kpi, item.target, item.inputs, places)
        s = item.score
        status = s.light.label if s.light else State(s.state).label
        record = {"id": kpi.id, "name": kpi.name, "year": year, "status": s.state.value,
                  "light": s.light.value if s.light else None, "sample": item.sample, "gap": gap_record(gap, places)}
        if fmt is Format.json:
            typer.echo(output.to_json(record))
            return
        if fmt is Format.csv:  # one row per input that could close the gap (none when there is no gap)
            rows = [{**{k: record[k] for k in ("id", "year", "status", "light", "sample")}, **g}
                    for g in (record["gap"] or {}).get("inputs", [])]
            output.emit(fmt, rows, GAP_COLUMNS)
            return
        typer.echo(f"{kpi.id} {kpi.name}（{year}年度）" + ("〔範例資料〕" if item.sample else ""))
        typer.echo(f"  實際值：{value_text(s.actual, places) if s.actual is not None else '—'}"
                   f"{kpi.unit if s.actual is not None else ''}　目標值：{item.target.text if item.target else '—'}　{status}")
        if gap is None:
            reason = "已達目標" if s.actual is not None and item.target else f"無法分析（{status}）"
            typer.echo(f"  {reason}，無差距可分析。")
            return
        if gap.best:
            typer.echo(f"  {sentence(gap.best, places)}。")
        rows = [[g.symbol, output.clip(g.label, 30), value_text(g.current, places) + g.unit,
                 value_text(g.needed, places) + g.unit,
                 ("+" if g.change > 0 else "") + value_text(g.change, places),
                 sensitivity_text(g)]
                for g in gap.inputs]
        if rows:
            typer.echo(output.table(["代號", "輸入項", "目前", "需達", "差距", f"敏感度（{kpi.unit}／單位）"], rows,
                                    right=(2, 3, 4, 5)))
        for sk in gap.skipped:
            typer.echo(f"  {sk.symbol}（{output.clip(sk.label, 30)}）：{sk.reason}")
        if gap.note:
            typer.echo(f"  註：{gap.note}")
