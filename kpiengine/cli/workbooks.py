"""Workbook commands of ``kpi``: template, validate, submit, submissions, sample.

Registered onto the main app by ``register(app)`` (called at the bottom of ``main.py``), so this
module never imports ``main`` and either can be imported first. Submitting goes through
``services.submit_workbook``, the same call the web portal makes.
"""

from __future__ import annotations

import getpass
import math
import os
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..engine import Engine
from ..freetext import FreeTextError, check_free_text
from ..times import show_time
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
    output_folder,
    require_agency,
    require_year,
    resolve_ledger,
)
from .output import Format, problem_line
from .progress import progress

MAX_UPLOAD_MB = 1000  # --max-mb above this is a typo, not a policy


class ReportFormat(StrEnum):
    text = "text"
    json = "json"


def _require_year(engine: Engine, year: int) -> None:
    require_year(engine, year)


def register(app: typer.Typer) -> None:
    """Add the workbook commands to ``app``."""

    @app.command("template")
    def template_cmd(year: YearOpt = 107, agency: AgencyOpt = None,
                     all_agencies: Annotated[bool, typer.Option("--all", help="所有機關 Every agency of the catalog.")] = False,
                     out: Annotated[Path, typer.Option("--out", help="輸出資料夾 Output folder.")] = Path("."),
                     root: RootOpt = None) -> None:
        """產製機關填報表（.xlsx）Write the fill-in workbook of an agency (or --all)."""
        from ..workbook.template import write_template

        engine = load_engine(root)
        _require_year(engine, year)
        if all_agencies == (agency is not None):
            fail("請指定 --agency 機關，或以 --all 產製所有機關的填報表")
        codes = [a.code for a in engine.catalog.agencies] if all_agencies else [require_agency(engine, agency)]
        out = output_folder(out)
        with progress(len(codes), "產製填報表") as step:
            for code in codes:
                step(code)
                path = write_template(engine, code, year, out)
                typer.echo(f"已產製：{path}（{len(engine.catalog.kpis_of(code))} 項指標）")
        typer.echo(f"檔案位於 {out.resolve()}")

    @app.command("validate")
    def validate_cmd(file: Annotated[Path, typer.Argument(help="填報表檔案 Workbook (.xlsx) to check.")],
                     fmt: Annotated[ReportFormat, typer.Option("--format", help="輸出格式 text / json.")] = ReportFormat.text,
                     year: Annotated[int | None, typer.Option("--year", help="預期年度 Expected ROC year.")] = None,
                     agency: AgencyOpt = None,
                     max_mb: Annotated[float | None, typer.Option("--max-mb", help="檔案大小上限（MB）Size limit (default 20, env KPI_MAX_UPLOAD_MB).")] = None,
                     root: RootOpt = None) -> None:
        """檢查上傳之填報表，一次列出所有問題 Validate an uploaded workbook; exit 1 on any error."""
        from ..workbook.safety import MB, Limits
        from ..workbook.validate import validate_workbook

        if max_mb is not None and not (math.isfinite(max_mb) and 0 < max_mb <= MAX_UPLOAD_MB):
            fail(f"--max-mb 必須是大於 0、不超過 {MAX_UPLOAD_MB} 的數字（現為 {max_mb}）")
        engine = load_engine(root)
        limits = Limits(max_bytes=int(max_mb * MB)) if max_mb else None
        v = validate_workbook(file, engine, year=year, agency=require_agency(engine, agency), limits=limits)
        if fmt is ReportFormat.json:
            typer.echo(output.to_json(v.as_dict()))
        else:
            _print_validation(engine, v)
        raise typer.Exit(0 if v.ok else 1)

    @app.command("submit")
    def submit_cmd(file: Annotated[Path, typer.Argument(help="填報表檔案 Workbook (.xlsx) to submit.")],
                   year: Annotated[int | None, typer.Option("--year", help="預期年度 Expected ROC year (the workbook's own year decides).")] = None,
                   agency: AgencyOpt = None,
                   by: Annotated[str | None, typer.Option("--by", help="提交人 Submitted by (default: env KPI_SUBMITTER, else login name).")] = None,
                   confirm_warnings: Annotated[bool, typer.Option("--confirm-warnings", help="已確認可能改變燈號的警告無誤 Confirm warnings that would change a light.")] = False,
                   ledger: LedgerOpt = None, root: RootOpt = None) -> None:
        """檢查後收件，記入提交帳本（新版本，不覆蓋）Validate, then record a new version in the ledger.

        The workbook's own identity (agency, year, template version) decides whose data it is.
        """
        from ..services import submit_workbook

        engine = load_engine(root)
        if year is not None:
            _require_year(engine, year)
        submitter = by or os.environ.get("KPI_SUBMITTER") or _login_name()
        try:
            submitter = check_free_text(submitter, "提交人（--by）", 100)
        except FreeTextError as exc:
            fail(str(exc))
        path = resolve_ledger(engine, ledger)
        outcome = guarded(lambda: submit_workbook(engine, path, file, by=submitter, year=year,
                                                  agency=require_agency(engine, agency),
                                                  confirm_warnings=confirm_warnings))
        v = outcome.validation
        if outcome.refusal is not None:
            _print_validation(engine, v, err=True, verdict=False)
            fail(f"[{outcome.refusal.code}] {outcome.refusal}")
        sub = outcome.submission
        a = engine.catalog.agency(sub.agency_code)
        who = f"{a.name if a else sub.agency_code}（{sub.agency_code}）{sub.year} 年度"
        if outcome.duplicate:
            typer.echo(f"未新增版本：此檔案與{who}第 {sub.version} 版完全相同（SHA-256 {sub.sha256[:12]}…，"
                       f"{show_time(sub.submitted_at)} 由 {sub.submitted_by} 提交）。")
            return
        for p in v.warnings:
            typer.echo(problem_line(p))
        typer.echo(f"已收件：{who}第 {sub.version} 版，提交人 {sub.submitted_by}，{show_time(sub.submitted_at)}")
        typer.echo(f"SHA-256：{sub.sha256}")
        typer.echo(f"檔案已存於：{path.parent / sub.stored_path}")

    @app.command("submissions")
    def submissions_cmd(year: Annotated[int | None, typer.Option("--year", help="民國年度 ROC year.")] = None,
                        agency: AgencyOpt = None, ledger: LedgerOpt = None, as_of: AsOfOpt = None, root: RootOpt = None,
                        fmt: output.FormatOpt = None) -> None:
        """列出提交帳本中的各版本 List the versions recorded in the ledger."""
        fmt = output.chosen(fmt)
        from ..ledger import open_for_reading
        from ..services import as_of_moment

        engine = load_engine(root)
        if year is not None:
            _require_year(engine, year)
        code = require_agency(engine, agency)
        path = resolve_ledger(engine, ledger)
        moment = guarded(lambda: as_of_moment(as_of))
        led = guarded(lambda: open_for_reading(path))
        subs = guarded(lambda: led.submissions(year, code, moment)) if led else []
        if fmt is Format.json:
            typer.echo(output.to_json([s.as_dict() for s in subs]))
            return
        if fmt is Format.csv:
            typer.echo(output.to_csv([s.as_dict() for s in subs], list(subs[0].as_dict()) if subs else ["id"]), nl=False)
            return
        if not subs:
            typer.echo(f"帳本（{path}）中沒有符合條件的提交紀錄。")
            return
        rows = [[s.agency_code, str(s.year), f"v{s.version}", show_time(s.submitted_at),
                 s.submitted_by, s.sha256[:12], s.stored_path] for s in subs]
        typer.echo(output.table(["機關", "年度", "版本", "提交時間（臺北）", "提交人", "SHA-256", "存檔"], rows))
        typer.echo(f"\n共 {len(subs)} 筆（帳本：{path}）")

    @app.command("sample")
    def sample_cmd(year: YearOpt = 107, agency: AgencyOpt = None,
                   out: Annotated[Path | None, typer.Option("--out", help="輸出資料夾 Output folder (default: actuals/<year>/).")] = None,
                   root: RootOpt = None) -> None:
        """產製範例填報表（固定、可重現）Write deterministic sample workbooks for every agency."""
        from ..workbook.sample import write_samples

        engine = load_engine(root)
        _require_year(engine, year)
        folder = output_folder(out) if out is not None else engine.root / "actuals" / str(year)
        codes = [require_agency(engine, agency)] if agency else [a.code for a in engine.catalog.agencies]
        totals: Counter[str] = Counter()
        order = ["綠燈", "黃燈", "紅燈", "白燈", "無資料"]
        with progress(len(codes), "產製範例填報表") as step:
            for code in codes:
                step(code)
                for path, plan in write_samples(engine, year, folder, [code]):
                    counts = Counter(p.intended.label if p.intended else "無資料" for p in plan)
                    totals.update(counts)
                    typer.echo(f"已產製：{path}（" + "，".join(f"{k} {counts[k]}" for k in order if counts[k]) + "）")
        typer.echo("合計：" + "，".join(f"{k} {totals[k]} 項" for k in order if totals[k]))
        typer.echo(f"檔案位於 {folder.resolve()}")


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "未具名"


def _print_validation(engine: Engine, v, err: bool = False, verdict: bool = True) -> None:
    a = engine.catalog.agency(v.agency_code) if v.agency_code else None
    head = f"檢查 {v.path.name}"
    if a is not None:
        head += f"（{a.name} {a.code}，{v.year} 年度，範本 {v.template_version or '—'}）"
    typer.echo(head, err=err)
    for p in v.problems:
        typer.echo(problem_line(p), err=err)
    n_err, n_warn = len(v.errors), len(v.warnings)
    if v.ok and v.kind == "sample":
        advice = "此為範例資料，不可提交。"
    else:
        advice = ("可以提交。" if v.ok else "請修正錯誤後再上傳。") if verdict else ""
    typer.echo(f"結果：{n_err} 個錯誤、{n_warn} 個警告。{advice}", err=err)
