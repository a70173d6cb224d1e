"""``kpi score --panel FILE``: many reporting units or periods at once (thin over kpiengine.panel)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer

from . import output
from .common import fail, load_engine, require_agency


def score_panel(path: Path, year: int, agency: str | None, root: Path | None, fmt: str) -> None:
    """Score a panel file; CSV/JSON give every row, the table one line per KPI with its light counts."""
    from ..evaluation import State
    from ..panel import PanelError, PanelStats, read_panel, score_frame
    from ..scoring import Light

    engine = load_engine(root)
    code = require_agency(engine, agency)
    stats = PanelStats()
    try:
        df = read_panel(path)
        if code is not None:
            df = df[[c for c in df.columns if ":" not in str(c) or str(c).startswith(f"{code}.")]]
        result = score_frame(df, year, engine, stats)
    except PanelError as exc:
        fail(str(exc))
    if fmt == "csv":
        typer.echo(result.to_csv(), nl=False)
        return
    if fmt == "json":
        typer.echo(result.to_json(orient="records", force_ascii=False, indent=2))
        return
    labels = [light.label for light in Light] + [state.label for state in State if state is not State.SCORED]
    rows = []
    for kpi in (k for k in engine.catalog.kpis if f"{k.id}:status" in result.columns):
        lights = Counter(result[f"{kpi.id}:light"].dropna())
        states = Counter(result[f"{kpi.id}:status"])
        counts = {Light(k).label: v for k, v in lights.items()}
        counts.update({State(k).label: v for k, v in states.items() if k != State.SCORED.value})
        rows.append([kpi.id, output.clip(kpi.name, 26)] + [str(counts.get(label, 0)) for label in labels])
    typer.echo(output.table(["代碼", "關鍵績效指標", *labels], rows, right=tuple(range(2, 2 + len(labels)))))
    typer.echo(f"\n{stats.rows} 個單位 × {stats.kpis} 項指標＝{stats.cells} 格；"
               f"其中 {stats.exact_cells} 格接近門檻，以精確算法（分數）計算。")
