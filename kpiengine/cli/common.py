"""What every ``kpi`` command shares: the common options, loading the engine, failing in Chinese."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from ..engine import Engine

RootOpt = Annotated[Path | None, typer.Option("--root", help="專案根目錄（含 formulas/、targets/）Repository root holding formulas/ and targets/.", envvar="KPI_ROOT")]
YearOpt = Annotated[int, typer.Option("--year", help="民國年度 ROC year, e.g. 107 (= 2018).")]
AgencyOpt = Annotated[str | None, typer.Option("--agency", help="機關代碼或名稱 Agency code or Chinese name, e.g. moj / 法務部.")]
LedgerOpt = Annotated[Path | None, typer.Option("--ledger", help="提交帳本 Ledger file (default: var/ledger.sqlite; env KPI_LEDGER).", envvar="KPI_LEDGER")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="帳本時點 Use what the ledger held at this time (2019-01-31 = end of that day, Taipei time).")]

T = TypeVar("T")


def load_engine(root: Path | None, strict: bool = True) -> Engine:
    """The engine over the catalog at ``root`` (``--root``/``KPI_ROOT``) or the one found; fail in Chinese.

    Unless ``strict`` is off (``kpi check``), an unreadable catalog file or a bad policy fails here.
    """
    from ..catalog_root import CatalogNotFound
    from ..engine import Engine
    from ..policyfile import PolicyError

    try:
        engine = Engine.load(root)
    except CatalogNotFound as exc:
        fail(str(exc))
    if strict:
        unreadable = [p for p in engine.load_problems if p.code == "catalog-yaml"]
        if unreadable:
            fail("指標目錄有檔案無法讀取（請執行 kpi check 查看全部問題）：" + "；".join(p.message for p in unreadable))
        try:
            for year in engine.catalog.years:
                engine.policy(year)
        except PolicyError as exc:
            fail(f"{exc}（請執行 kpi check 查看全部問題）")
    return engine


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a Chinese error to stderr and exit non-zero (no traceback)."""
    typer.echo(f"錯誤：{message}", err=True)
    raise typer.Exit(code)


def guarded(call: Callable[[], T]) -> T:
    """Run a service call; a refusal (ServiceError, LedgerError) becomes a Chinese error and exit 1."""
    from ..actuals import ActualsError
    from ..ledger import LedgerError
    from ..services import ServiceError

    try:
        return call()
    except ServiceError as exc:
        fail(f"[{exc.code}] {exc}")
    except LedgerError as exc:
        fail(f"[ledger] {exc}")
    except ActualsError as exc:  # a plain YAML actuals file that cannot be read (size, encoding, numbers)
        fail(f"[actuals] {exc}")


def output_folder(out: Path, option: str = "--out") -> Path:
    """``out`` as a folder to write into (created if missing), or fail in Chinese: a file, unwritable, …"""
    out = Path(out)
    if out.exists() and not out.is_dir():
        fail(f"{option} 指定的「{out}」是檔案，不是資料夾；請指定輸出資料夾")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"無法建立輸出資料夾「{out}」（{exc.strerror or type(exc).__name__}）")
    if not os.access(out, os.W_OK):
        fail(f"沒有寫入輸出資料夾「{out}」的權限")
    return out


def require_folder(path: Path | None, option: str) -> Path | None:
    """An existing folder given as ``option``, or fail in Chinese (a file, a missing path)."""
    if path is not None and not Path(path).is_dir():
        fail(f"{option} 指定的「{path}」{'是檔案，不是資料夾' if Path(path).exists() else '不存在'}")
    return path


def require_agency(engine: Engine, agency: str | None) -> str | None:
    """The agency's code, or fail listing the agencies there are."""
    from ..services import agency_code

    return guarded(lambda: agency_code(engine, agency))


def require_year(engine: Engine, year: int) -> int:
    """``year`` if the catalog has its targets; else fail listing the years (and 2018 = 107)."""
    from ..services import check_year

    return guarded(lambda: check_year(engine, year))


def resolve_ledger(engine: Engine, ledger: Path | None) -> Path:
    from ..ledger import ledger_path

    return ledger_path(engine.root, ledger)
