"""``kpi review`` / ``kpi reviews``: 國發會's 複核, recorded append-only in the ledger."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from ..engine import Engine
from ..ledger import Ledger, LedgerError, ledger_path, parse_as_of, utc_now
from ..review import Review, ReviewError, make_review
from . import output
from .common import AgencyOpt, LedgerOpt, RootOpt, YearOpt, fail, load_engine, require_agency


def load_reviews(engine: Engine, year: int, ledger: Path | None = None, as_of: str | dt.datetime | None = None) -> list[Review]:
    """The latest review of each KPI in the ledger (none when there is no ledger file)."""
    path = ledger_path(engine.root, ledger)
    if not path.exists():
        return []
    moment = parse_as_of(as_of) if isinstance(as_of, str) else as_of
    return Ledger(path).reviews(year, moment)


def register(app: typer.Typer) -> None:
    """Add the review commands to ``app``."""

    @app.command("review")
    def review_cmd(
        kpi_id: Annotated[str, typer.Argument(help="指標代碼 KPI id, e.g. moj.8.1")],
        light: Annotated[str, typer.Option("--light", help="複核燈號 green/yellow/red/white（或 綠燈/黃燈/紅燈/白燈）")],
        reason: Annotated[str, typer.Option("--reason", help="複核理由（必填）Reason, required.")],
        year: YearOpt = 107,
        by: Annotated[str, typer.Option("--by", help="複核人員 Reviewer.")] = "",
        ledger: LedgerOpt = None,
        root: RootOpt = None,
    ) -> None:
        """記錄國發會複核燈號（可附理由改列）Record 國發會's review light for a KPI, with a reason."""

        engine = load_engine(root)
        kpi = engine.catalog.kpi(kpi_id)
        if kpi is None:
            fail(f"找不到指標 {kpi_id}（請用 kpi list 查詢代碼）")
        try:
            review = make_review(kpi.id, year, light, reason, by, utc_now())
            Ledger(ledger_path(engine.root, ledger)).record_review(review, kpi.agency_code)
        except (ReviewError, LedgerError) as exc:
            fail(str(exc))
        typer.echo(f"已記錄 {kpi.id} {kpi.name} {year} 年度複核：{review.light.label}（{review.reason}）")

    @app.command("reviews")
    def reviews_cmd(
        year: YearOpt = 107,
        agency: AgencyOpt = None,
        history: Annotated[bool, typer.Option("--history", help="列出所有紀錄（含被後來複核取代者）List every record.")] = False,
        ledger: LedgerOpt = None,
        root: RootOpt = None,
        json_out: Annotated[bool, typer.Option("--json", help="輸出 JSON")] = False,
    ) -> None:
        """列出複核紀錄 List the year's reviews."""

        engine = load_engine(root)
        require_agency(engine, agency)
        path = ledger_path(engine.root, ledger)
        found = Ledger(path).reviews(year, latest_only=not history) if path.exists() else []
        if agency:
            code = engine.catalog.agency(agency).code
            found = [r for r in found if r.kpi_id.startswith(f"{code}.")]
        if json_out:
            typer.echo(output.to_json([{"id": r.kpi_id, "year": r.year, "light": r.light.value, "reason": r.reason,
                                        "by": r.reviewed_by, "at": r.reviewed_at} for r in found]))
            return
        typer.echo(output.table(["代碼", "複核燈號", "理由", "複核人員", "時間（UTC）"],
                                [[r.kpi_id, r.light.label, r.reason, r.reviewed_by, r.reviewed_at[:19]] for r in found]))
