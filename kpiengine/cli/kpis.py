"""``kpi list`` and ``kpi check``: the catalog's KPIs with a year's targets, and every problem of the catalog."""

from __future__ import annotations

from typing import Annotated

import typer

from ..engine import kpi_record
from ..numbers import fraction_text
from . import output
from .common import AgencyOpt, RootOpt, YearOpt, load_engine, require_agency, require_year
from .output import Format


def register(app: typer.Typer) -> None:
    """Add ``list`` and ``check`` to ``app``."""

    @app.command("list")
    def list_cmd(agency: AgencyOpt = None, year: YearOpt = 107, root: RootOpt = None,
                 fmt: output.FormatOpt = None, json_out: output.JsonOpt = False,
                 notes: Annotated[bool, typer.Option("--notes", help="只列出原文有疑義的指標及其註記 Only KPIs with an ambiguity note, with the note.")] = False) -> None:
        """列出關鍵績效指標及年度目標值 List KPIs with the year's targets."""
        engine = load_engine(root)
        require_agency(engine, agency)
        require_year(engine, year)
        kpis = engine.catalog.kpis_of(agency)
        fmt = output.chosen(fmt, json_out)
        json_out = fmt is not Format.table
        if notes:
            noted = []
            for k in kpis:
                t = engine.catalog.target(k.id, year)
                texts = [n.strip() for n in (k.note, t.note if t else None) if n]
                if texts:
                    noted.append((k, texts))
            kpis = tuple(k for k, _ in noted)
            if not json_out:
                for k, texts in noted:
                    typer.echo(f"{k.id} {k.agency} {k.name}（{k.page}）")
                    for n in texts:
                        typer.echo(f"  ※ {n}")
                typer.echo(f"\n共 {len(kpis)} 項指標有註記")
                return
        if fmt is Format.json:
            typer.echo(output.to_json([kpi_record(k, engine.catalog.target(k.id, year)) for k in kpis]))
            return
        if fmt is Format.csv:
            flat = []
            for k in kpis:
                t = engine.catalog.target(k.id, year)
                flat.append({"id": k.id, "agency": k.agency, "agency_code": k.agency_code, "goal_no": k.goal_no,
                             "kpi_no": k.kpi_no, "name": k.name, "direction": k.direction.value, "unit": k.unit,
                             "target": fraction_text(t.value) if t else None, "target_text": t.text if t else None,
                             "note": "；".join(n.strip() for n in (k.note, t.note if t else None) if n)})
            output.emit(fmt, flat, ["id", "agency", "agency_code", "goal_no", "kpi_no", "name", "direction", "unit",
                                    "target", "target_text", "note"])
            return
        rows = []
        for k in kpis:
            t = engine.catalog.target(k.id, year)
            rows.append([k.id, output.clip(k.name, 30), t.text if t else "（無）", k.direction.value, "※" if k.note else ""])
        typer.echo(output.table(["代碼", "關鍵績效指標", f"{year}年目標值", "方向", "註"], rows))
        typer.echo(f"\n共 {len(kpis)} 項指標（※ 表示原文有疑義，已加註）")

    @app.command("check")
    def check_cmd(agency: AgencyOpt = None, root: RootOpt = None,
                  fmt: output.FormatOpt = None, json_out: output.JsonOpt = False) -> None:
        """檢查整個目錄（格式、公式、代號、目標值、測試案例、原文對照、計分政策）Validate the whole catalog; exit 1 on any error."""
        engine = load_engine(root, strict=False)
        require_agency(engine, agency)
        problems = engine.check(agency)
        errors = [p for p in problems if p.is_error]
        if output.emit(output.chosen(fmt, json_out), [p.as_dict() for p in problems],
                       ["severity", "code", "file", "kpi", "field", "message"]):
            pass
        else:
            for p in problems:
                tag = "錯誤" if p.is_error else "警告"
                typer.echo(f"{tag} [{p.code}] {p.where()}：{p.message}")
            kpis = engine.catalog.kpis_of(agency)
            tests = sum(len(k.tests) for k in kpis)
            typer.echo(f"檢查 {len(kpis)} 項指標、{tests} 個測試案例：{len(errors)} 個錯誤，{len(problems) - len(errors)} 個警告。")
        raise typer.Exit(1 if errors else 0)
