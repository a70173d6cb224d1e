"""``kpi score`` and ``kpi eval``: the year's 達成度 and lights from the ledger, or one KPI from typed values.

Values given on the command line are parsed as plain numbers, never as expressions.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..engine import Engine, ScoredKpi, score_record, score_records
from ..evaluation import State
from ..messages import shorten
from ..numbers import NumberError, display, parse_number
from ..review import ReviewState
from ..scoring import Light
from . import output
from .common import (
    AgencyOpt,
    AsOfOpt,
    LedgerOpt,
    RootOpt,
    YearOpt,
    fail,
    guarded,
    load_engine,
    require_year,
    resolve_ledger,
)
from .output import Format

if TYPE_CHECKING:
    from ..services import YearScores


def register(app: typer.Typer) -> None:
    """Add ``score`` and ``eval`` to ``app``."""

    @app.command("score")
    def score_cmd(year: YearOpt = 107, agency: AgencyOpt = None, root: RootOpt = None,
                  fmt: output.FormatOpt = None,
                  sample: Annotated[bool, typer.Option("--sample", help="改用範例資料（actuals/<year>/ 的範例填報表）計分，結果一律標示範例資料 Score the shipped sample workbooks instead of the ledger.")] = False,
                  actuals: Annotated[Path | None, typer.Option("--actuals", help="範例資料夾（須搭配 --sample）Folder of sample workbooks (with --sample; default actuals/<year>/).")] = None,
                  ledger: LedgerOpt = None, as_of: AsOfOpt = None,
                  panel: Annotated[Path | None, typer.Option("--panel", help="多單位面板資料 A .parquet/.csv panel (one row per unit or period, columns <kpi_id>:<symbol>), scored vectorised.")] = None) -> None:
        """依帳本中各機關最新提交版本計算達成度與燈號 Score every KPI of the year from the ledger (or --sample)."""
        fmt = output.chosen(fmt)
        if panel is not None:
            if sample or actuals is not None or as_of is not None:  # the panel file is the only data scored
                fail("[panel] --panel 只計算面板檔中的資料，不能與 --sample、--actuals 或 --as-of 一起使用")
            from .panel import score_panel

            score_panel(panel, year, agency, root, fmt.value)
            return
        from ..services import score_year

        engine = load_engine(root)
        if actuals is not None and not sample:
            fail("--actuals 只能與 --sample 一起使用：正式資料一律取自帳本（以 kpi submit 提交）")
        result = guarded(lambda: score_year(engine, year, ledger=resolve_ledger(engine, ledger), as_of=as_of,
                                            agency=agency, sample=sample, actuals=actuals))
        if sample:
            typer.echo(f"資料來源：範例資料（{len(result.sources)} 個機關的範例填報表，非正式資料）", err=True)
        else:
            for code, line in result.sources.items():
                typer.echo(f"資料來源 {code}：{line}", err=True)
        for p in result.problems:
            if p.is_error or p.code == "sample-not-sample":
                typer.echo(output.problem_line(p), err=True)
        if not sample and not result.versions:
            typer.echo(f"帳本中沒有 {year} 年度的提交紀錄，各機關均為未繳交；要查看範例資料請加 --sample", err=True)
        _print_scores(engine, result, fmt, engine.policy(year).places)

    @app.command("eval")
    def eval_cmd(kpi_id: Annotated[str, typer.Argument(help="指標代碼 KPI id, e.g. moj.8.1")],
                 values: Annotated[list[str] | None, typer.Argument(help="輸入值 SYMBOL=VALUE …（純數字 plain numbers only）")] = None,
                 year: YearOpt = 107, root: RootOpt = None,
                 fmt: output.FormatOpt = None, json_out: output.JsonOpt = False) -> None:
        """以命令列輸入值試算單一指標 Evaluate one KPI from SYMBOL=VALUE pairs."""
        engine = load_engine(root)
        require_year(engine, year)
        kpi = engine.catalog.kpi(kpi_id)
        if kpi is None:
            fail(f"找不到指標 {shorten(kpi_id)}（請用 kpi list 查詢代碼）")
        inputs = {}
        errors = []
        for pair in values or []:
            symbol, sep, raw = pair.partition("=")
            symbol = symbol.strip()
            if not sep:
                errors.append(f"「{pair}」格式應為 代號=數值")
                continue
            if kpi.input(symbol) is None:
                errors.append(f"未知的代號「{symbol}」")
                continue
            try:
                inputs[symbol] = parse_number(raw)
            except NumberError as exc:
                errors.append(f"「{symbol}」的值「{shorten(raw)}」無法接受：{exc}")
        given = {pair.partition("=")[0].strip() for pair in values or []}
        missing = [i for i in kpi.inputs if i.symbol not in given]
        if missing:
            errors.append("缺少輸入：" + "、".join(f"{i.symbol}（{i.label}）" for i in missing))
        if errors:
            hint = "；".join(f"{i.symbol}＝{i.label}（{i.unit}）" for i in kpi.inputs)
            fail("；".join(errors) + f"\n此指標的輸入：{hint}")
        s = engine.score_one(kpi, year, inputs)
        item = ScoredKpi(kpi, engine.catalog.target(kpi.id, year), s, inputs)
        places = engine.policy(year).places
        fmt = output.chosen(fmt, json_out)
        if fmt is Format.json:
            typer.echo(output.to_json(score_record(item, places)))
        elif fmt is Format.csv:
            records = [score_record(item, places, gap=False)]
            output.emit(fmt, records, list(records[0]))
        else:
            typer.echo(f"{kpi.id} {kpi.name}")
            for k, v in s.intermediates.items():
                typer.echo(f"  {k} = {display(v, 6)}")
            typer.echo(f"  實際值：{display(s.actual, places)}{kpi.unit if s.actual is not None else ''}")
            typer.echo(f"  目標值：{item.target.text if item.target else '—'}")
            if s.achievement is not None:
                typer.echo(f"  達成度：{display(s.achievement, places)}%（未設上限：{display(s.achievement_raw, places)}%）")
            typer.echo(f"  燈號：{s.light.label if s.light else State(s.state).label}")
            for p in s.problems:
                typer.echo(f"  {p.message}")
            for n in s.notes:
                typer.echo(f"  註：{n}")
        if s.state not in (State.SCORED, State.AWAITING_REVIEW):
            raise typer.Exit(1)


def _data_label(item: ScoredKpi) -> str:
    """Where a row's data came from, for people: 範例資料, 第N版, or 未繳交."""
    if item.sample:
        return "範例資料"
    if item.version is not None:
        return f"第{item.version}版"
    return "—"


def _print_scores(engine: Engine, result: YearScores, fmt: Format, places: int) -> None:
    items: list[ScoredKpi] = result.items
    if fmt is Format.json:
        typer.echo(output.to_json(score_records(items, places)))  # gaps cached between runs (gap_cache)
        return
    if fmt is Format.csv:  # no gap column: skip the gap analysis
        records = [score_record(i, places, gap=False) for i in items]
        typer.echo(output.to_csv(records, ["id", "agency", "goal_no", "kpi_no", "name", "actual", "unit", "target",
                                           "target_text", "achievement", "achievement_raw", "light", "light_label",
                                           "status", "status_label", "self_rating", "review_status", "final_light",
                                           "sample", "messages", "version"]), nl=False)
        return
    rows = []
    for i in items:
        s = i.score
        light = s.light.label if s.light else State(s.state).label
        review = i.review.light.label if i.review and i.review_state is ReviewState.REVIEWED else i.review_state.label
        if s.state is State.NOT_SUBMITTED or i.sample:  # nothing to review: 未繳交, or 範例資料 (never official)
            review = "—"
        rows.append([i.kpi.id, output.clip(i.kpi.name, 26),
                     display(s.actual, places) + (i.kpi.unit if s.actual is not None else ""),
                     output.clip(i.target.text, 16) if i.target else "—",
                     display(s.achievement, places) + ("%" if s.achievement is not None else ""),
                     light, review, _data_label(i)])
    headers = ["代碼", "關鍵績效指標", "實際值", "目標值", "達成度", "燈號／狀態", "複核", "資料"]
    if result.sample:
        typer.echo("※ 範例資料（kpi sample 產製，非機關正式資料；不得作為績效報告或正式紀錄）")
    typer.echo(output.table(headers, rows, right=(2, 4)))
    counts = Counter(i.score.light.label if i.score.light else State(i.score.state).label for i in items)
    order = [light.label for light in Light] + [state.label for state in State]
    summary = "，".join(f"{k} {counts[k]} 項" for k in order if counts[k])
    reviews = Counter(i.review_state.label for i in items if i.submitted and not i.sample)
    review_order = [st.label for st in ReviewState]
    summary += "；複核：" + "，".join(f"{k} {reviews[k]} 項" for k in review_order if reviews[k]) if reviews else ""
    typer.echo("\n" + ("【範例資料】" if result.sample else "") + summary)
    if result.not_submitted and not result.sample:
        names = "、".join(engine.catalog.agency(code).name for code in result.not_submitted)
        typer.echo(f"未繳交機關（{len(result.not_submitted)}）：{names}")
    for i in items:
        for p in i.score.problems:
            typer.echo(f"  {i.kpi.id}：{p.message}")
