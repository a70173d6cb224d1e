"""``kpi review`` / ``kpi reviews``: 國發會's 複核, recorded append-only in the ledger.

A review is bound to the submission version and computed value it judged (``services.record_review``);
``kpi reviews`` shows, per review, whether it still stands or needs a new 複核 (需重新複核).
"""

from __future__ import annotations

from typing import Annotated

import typer

from ..times import show_time
from . import output
from .common import AgencyOpt, AsOfOpt, LedgerOpt, RootOpt, YearOpt, guarded, load_engine, resolve_ledger
from .output import Format


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
        """記錄國發會複核燈號（綁定所複核的提交版本）Record 國發會's review of a KPI, bound to the version judged."""
        from ..services import record_review

        engine = load_engine(root)
        review, item = guarded(lambda: record_review(engine, resolve_ledger(engine, ledger), kpi_id, year, light,
                                                     reason, by))
        computed = item.score.light.label if item.score.light else item.score.state.label
        typer.echo(f"已記錄 {item.kpi.id} {item.kpi.name} {year} 年度複核：{review.light.label}（{review.reason}）；"
                   f"所複核：第 {review.version} 版，計算燈號 {computed}")

    @app.command("reviews")
    def reviews_cmd(
        year: YearOpt = 107,
        agency: AgencyOpt = None,
        history: Annotated[bool, typer.Option("--history", help="列出所有紀錄（含被後來複核取代者）List every record.")] = False,
        ledger: LedgerOpt = None,
        as_of: AsOfOpt = None,
        root: RootOpt = None,
        fmt: output.FormatOpt = None,
        json_out: output.JsonOpt = False,
    ) -> None:
        """列出複核紀錄及其是否仍有效 List the year's reviews and whether each still stands."""
        fmt = output.chosen(fmt, json_out)
        from ..services import score_year

        engine = load_engine(root)
        result = guarded(lambda: score_year(engine, year, ledger=resolve_ledger(engine, ledger), as_of=as_of,
                                            agency=agency))
        rows = []
        for item in result.items:
            if item.review is None:
                continue
            current = [(item.review, item.review_state.value, item.review_state.label)]
            earlier = [(r, "superseded", "已被取代") for r in item.review_history] if history else []
            for r, status, label in [*earlier, *current]:
                rows.append({"id": r.kpi_id, "year": r.year, "light": r.light.value, "light_label": r.light.label,
                             "reason": r.reason, "by": r.reviewed_by, "at": r.reviewed_at, "version": r.version,
                             "judged_actual": r.judged_actual,
                             "judged_light": r.judged_light.value if r.judged_light else None,
                             "status": status, "status_label": label})
        if fmt is Format.json:
            typer.echo(output.to_json(rows))
            return
        if fmt is Format.csv:
            typer.echo(output.to_csv(rows, ["id", "year", "light", "light_label", "reason", "by", "at", "version",
                                            "judged_actual", "judged_light", "status", "status_label"]), nl=False)
            return
        if not rows:
            typer.echo(f"{year} 年度沒有複核紀錄。")
            return
        typer.echo(output.table(["代碼", "複核燈號", "理由", "複核人員", "時間（臺北）", "所複核版本", "狀態"],
                                [[r["id"], r["light_label"], r["reason"], r["by"], show_time(r["at"]),
                                  f"第{r['version']}版" if r["version"] else "—", r["status_label"]] for r in rows]))
