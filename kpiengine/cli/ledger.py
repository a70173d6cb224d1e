"""Ledger commands of ``kpi``: ``diff`` (what changed between two versions) and ``verify`` (tamper check)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..numbers import display
from ..times import show_time
from . import output
from .common import AgencyOpt, LedgerOpt, RootOpt, YearOpt, fail, guarded, load_engine, resolve_ledger
from .output import Format


def register(app: typer.Typer) -> None:
    """Add the ledger commands to ``app``."""

    @app.command("diff")
    def diff_cmd(
        year: YearOpt = 107,
        agency: AgencyOpt = None,
        from_version: Annotated[int | None, typer.Option("--from", help="舊版本 Older version (default: the one before --to).")] = None,
        to_version: Annotated[int | None, typer.Option("--to", help="新版本 Newer version (default: the latest).")] = None,
        ledger: LedgerOpt = None,
        root: RootOpt = None,
        fmt: output.FormatOpt = None,
    ) -> None:
        """比較同一機關兩個提交版本的差異 What changed, per KPI, between two versions of an agency's year."""
        fmt = output.chosen(fmt)
        from ..services import diff_versions

        engine = load_engine(root)
        if agency is None:
            fail("請以 --agency 指定機關（例如 --agency moj）")
        places = engine.policy(year).places if year in engine.catalog.years else 2
        d = guarded(lambda: diff_versions(engine, resolve_ledger(engine, ledger), year, agency, from_version, to_version))
        records = []
        for c in d.changes:
            b, a = c.before.score, c.after.score
            records.append({
                "id": c.kpi_id, "name": c.name, "changed": c.fields,
                "inputs": [{"symbol": s, "label": label, "before": old, "after": new} for s, label, old, new in c.inputs],
                "actual_before": display(b.actual, places) if b.actual is not None else None,
                "actual_after": display(a.actual, places) if a.actual is not None else None,
                "achievement_before": display(b.achievement, places) if b.achievement is not None else None,
                "achievement_after": display(a.achievement, places) if a.achievement is not None else None,
                "light_before": b.light.value if b.light else b.state.value,
                "light_after": a.light.value if a.light else a.state.value,
                "self_rating_before": c.before.self_rating, "self_rating_after": c.after.self_rating,
            })
        if fmt is Format.json:
            typer.echo(output.to_json({"agency_code": d.agency_code, "year": d.year, "from": d.before.version,
                                       "to": d.after.version, "changes": records}))
            return
        if fmt is Format.csv:
            flat = [{**r, "changed": "、".join(r["changed"]),
                     "inputs": "；".join(f"{i['symbol']}: {i['before']} → {i['after']}" for i in r["inputs"])}
                    for r in records]
            typer.echo(output.to_csv(flat, ["id", "name", "changed", "inputs", "actual_before", "actual_after",
                                            "achievement_before", "achievement_after", "light_before", "light_after",
                                            "self_rating_before", "self_rating_after"]), nl=False)
            return
        a = engine.catalog.agency(d.agency_code)
        typer.echo(f"{a.name}（{d.agency_code}）{d.year} 年度：第 {d.before.version} 版"
                   f"（{show_time(d.before.submitted_at)}，{d.before.submitted_by}）→ 第 {d.after.version} 版"
                   f"（{show_time(d.after.submitted_at)}，{d.after.submitted_by}）")
        if not d.changes:
            typer.echo("兩個版本的輸入值、實際值、達成度、燈號、初核與說明皆相同。")
            return
        for c in d.changes:
            b, after = c.before.score, c.after.score
            typer.echo(f"\n{c.kpi_id} {c.name}")
            for symbol, label, old, new in c.inputs:
                typer.echo(f"  {label}（{symbol}）：{old if old is not None else '（空白）'} → {new if new is not None else '（空白）'}")
            if "actual" in c.fields:
                typer.echo(f"  實際值：{display(b.actual, places)} → {display(after.actual, places)}")
            if "achievement" in c.fields:
                typer.echo(f"  達成度：{display(b.achievement, places)}% → {display(after.achievement, places)}%")
            if "light" in c.fields:
                typer.echo(f"  燈號：{_light(c.before)} → {_light(c.after)}")
            if "self_rating" in c.fields:
                typer.echo(f"  初核：{c.before.self_rating or '—'} → {c.after.self_rating or '—'}")
            if "narrative" in c.fields:
                typer.echo("  績效衡量暨達成情形分析：已修改")
        typer.echo(f"\n共 {len(d.changes)} 項指標有變動。")

    @app.command("verify")
    def verify_cmd(
        ledger: LedgerOpt = None,
        root: RootOpt = None,
        fmt: output.FormatOpt = None,
    ) -> None:
        """驗證帳本雜湊鏈與原始檔，指出第一個被竄改處 Verify the ledger's hash chain and stored files; exit 1 on any break."""
        fmt = output.chosen(fmt)
        from ..services import verify_ledger

        engine = load_engine(root)
        path: Path = resolve_ledger(engine, ledger)
        report = guarded(lambda: verify_ledger(path))
        record = {"ledger": str(path), "ok": report.ok, "entries": report.entries, "files": report.files,
                  "head": report.head, "problems": report.problems}
        if fmt is Format.json:
            typer.echo(output.to_json(record))
        elif fmt is Format.csv:
            output.emit(fmt, [record], list(record))
        elif report.ok:
            typer.echo(f"帳本 {path} 驗證通過：雜湊鏈 {report.entries} 筆、原始檔 {report.files} 個皆相符。")
            typer.echo(f"鏈尾雜湊：{report.head}（可記下以供日後比對）")
        else:
            typer.echo(f"錯誤：帳本 {path} 驗證未通過（{len(report.problems)} 處）。第一個問題：{report.problems[0]}", err=True)
            for p in report.problems[1:]:
                typer.echo(f"  {p}", err=True)
        raise typer.Exit(0 if report.ok else 1)


def _light(item) -> str:
    s = item.score
    return s.light.label if s.light else s.state.label
