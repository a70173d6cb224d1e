"""Workbook commands of ``kpi``: template, validate, submit, submissions, sample.

Registered onto the main app by ``register(app)`` (called at the bottom of ``main.py``), so this
module never imports ``main`` and either can be imported first. ``gather_inputs`` is what
``kpi score`` uses to read workbooks, plain YAML files and the ledger.
"""

from __future__ import annotations

import getpass
import os
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..engine import AgencyInputs, Engine
from ..messages import Problem
from . import output
from .common import AgencyOpt, LedgerOpt, RootOpt, YearOpt, fail, load_engine, require_agency
from .progress import progress

SEVERITY_TAGS = {"error": "錯誤", "warning": "警告", "info": "說明"}


class ReportFormat(StrEnum):
    text = "text"
    json = "json"


class ListFormat(StrEnum):
    table = "table"
    json = "json"


def _require_year(engine: Engine, year: int) -> None:
    if year not in engine.catalog.years:
        fail(f"指標目錄沒有 {year} 年度的目標值（可用年度：{'、'.join(map(str, engine.catalog.years)) or '無'}）")


def problem_line(p: Problem) -> str:
    """One problem for people: severity, code, where (sheet!cell and key), message."""
    loc = p.location
    where = ""
    if loc.get("sheet") and loc.get("cell"):
        where = f"{loc['sheet']}!{loc['cell']}"
    elif loc.get("sheet"):
        where = str(loc["sheet"])
    if loc.get("key"):
        where += f"（{loc['key']}）"
    elif loc.get("kpi") and loc.get("kpi") not in where:
        where += f"（{loc['kpi']}）"
    tag = SEVERITY_TAGS.get(p.severity, p.severity)
    return f"{tag} [{p.code}] {where + '：' if where else ''}{p.message}"


def gather_inputs(engine: Engine, year: int, folder: Path, ledger: Path | None = None, as_of: str | None = None,
                  use_ledger: bool = False, agency: str | None = None) -> tuple[list[AgencyInputs], list[Problem], list[str]]:
    """What ``kpi score`` scores: plain YAML, then workbooks, then the ledger (later sources win per agency).

    Returns the inputs, the problems found while reading, and one line per agency saying which source was used.
    """
    from ..actuals import read_plain_dir
    from ..ledger import latest_inputs, ledger_path
    from ..workbook.reader import collect_actuals

    by_agency: dict[str, AgencyInputs] = {}
    problems: list[Problem] = []
    if folder.is_dir():
        for a in read_plain_dir(folder):
            if a.year == year:
                by_agency[a.agency_code] = a
        books, problems = collect_actuals(folder, engine, year)
        for a in books:
            by_agency[a.agency_code] = a
    path = ledger_path(engine.root, ledger)
    if use_ledger or ledger is not None or path.exists():
        for a in latest_inputs(path, year, as_of):
            by_agency[a.agency_code] = a
    order = {a.code: n for n, a in enumerate(engine.catalog.agencies)}
    chosen = sorted(by_agency.values(), key=lambda a: order.get(a.agency_code, 999))
    only = engine.catalog.agency(agency).code if agency and engine.catalog.agency(agency) else None
    if only is not None:
        problems = [p for p in problems if only in (p.location.get("agency_code"), _file_agency(engine, p))]
        chosen = [a for a in chosen if a.agency_code == only]
    lines = [f"{a.agency_code}：{a.source if a.version is not None else Path(a.source).name}" for a in chosen]
    return chosen, problems, lines


def _file_agency(engine: Engine, p: Problem) -> str | None:
    kpi = engine.catalog.kpi(str(p.location.get("kpi", "")))
    return kpi.agency_code if kpi else None


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
                   year: YearOpt = 107, agency: AgencyOpt = None,
                   by: Annotated[str | None, typer.Option("--by", help="提交人 Submitted by (default: login name).")] = None,
                   ledger: LedgerOpt = None, root: RootOpt = None) -> None:
        """檢查後收件，記入提交帳本（新版本，不覆蓋）Validate, then record a new version in the ledger."""
        from ..ledger import Ledger, LedgerError, ledger_path
        from ..workbook.validate import validate_workbook

        engine = load_engine(root)
        _require_year(engine, year)
        v = validate_workbook(file, engine, year=year, agency=require_agency(engine, agency))
        if not v.ok:
            _print_validation(engine, v, err=True)
            fail("檔案未通過檢查，未予收件。")
        submitter = by or os.environ.get("KPI_SUBMITTER") or _login_name()
        path = ledger_path(engine.root, ledger)
        try:
            sub = Ledger(path).submit(v, submitter)
        except LedgerError as exc:
            fail(str(exc))
        a = engine.catalog.agency(sub.agency_code)
        for p in v.warnings:
            typer.echo(problem_line(p))
        typer.echo(f"已收件：{a.name if a else sub.agency_code}（{sub.agency_code}）{sub.year} 年度第 {sub.version} 版，"
                   f"提交人 {sub.submitted_by}，{sub.submitted_at}")
        typer.echo(f"SHA-256：{sub.sha256}")
        typer.echo(f"檔案已存於：{path.parent / sub.stored_path}")

    @app.command("submissions")
    def submissions_cmd(year: Annotated[int | None, typer.Option("--year", help="民國年度 ROC year.")] = None,
                        agency: AgencyOpt = None, ledger: LedgerOpt = None, root: RootOpt = None,
                        fmt: Annotated[ListFormat, typer.Option("--format", help="輸出格式 table / json.")] = ListFormat.table) -> None:
        """列出提交帳本中的各版本 List the versions recorded in the ledger."""
        from ..ledger import Ledger, ledger_path

        engine = load_engine(root)
        code = require_agency(engine, agency)
        path = ledger_path(engine.root, ledger)
        subs = Ledger(path).submissions(year, code) if path.exists() else []
        if fmt is ListFormat.json:
            typer.echo(output.to_json([s.as_dict() for s in subs]))
            return
        if not subs:
            typer.echo(f"帳本（{path}）中沒有符合條件的提交紀錄。")
            return
        rows = [[s.agency_code, str(s.year), f"v{s.version}", s.submitted_at[:19].replace("T", " ") + " UTC",
                 s.submitted_by, s.sha256[:12], s.stored_path] for s in subs]
        typer.echo(output.table(["機關", "年度", "版本", "提交時間", "提交人", "SHA-256", "存檔"], rows))
        typer.echo(f"\n共 {len(subs)} 筆（帳本：{path}）")

    @app.command("sample")
    def sample_cmd(year: YearOpt = 107, agency: AgencyOpt = None,
                   out: Annotated[Path | None, typer.Option("--out", help="輸出資料夾 Output folder (default: actuals/<year>/).")] = None,
                   root: RootOpt = None) -> None:
        """產製範例填報表（固定、可重現）Write deterministic sample workbooks for every agency."""
        from ..workbook.sample import write_samples

        engine = load_engine(root)
        _require_year(engine, year)
        folder = out or engine.root / "actuals" / str(year)
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


def _print_validation(engine: Engine, v, err: bool = False) -> None:
    a = engine.catalog.agency(v.agency_code) if v.agency_code else None
    head = f"檢查 {v.path.name}"
    if a is not None:
        head += f"（{a.name} {a.code}，{v.year} 年度，範本 {v.template_version or '—'}）"
    typer.echo(head, err=err)
    for p in v.problems:
        typer.echo(problem_line(p), err=err)
    n_err, n_warn = len(v.errors), len(v.warnings)
    verdict = "可以提交。" if v.ok else "請修正錯誤後再上傳。"
    typer.echo(f"結果：{n_err} 個錯誤、{n_warn} 個警告。{verdict}", err=err)
