"""``kpi score --panel FILE``: many reporting units or periods at once (thin over kpiengine.panel)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from . import output
from .common import fail, load_engine, require_agency

if TYPE_CHECKING:
    from ..engine import Engine

DEFAULT_MAX_MB = 1024  # a CSV of 100,000 units × 470 KPIs is about 0.5 GB; env KPI_MAX_PANEL_MB overrides
EXTRA_COLUMNS = 1000  # columns a panel may carry besides one per KPI input of the catalog (unit, period, notes…)
MAX_HEADER_BYTES = 64 * 1024 * 1024  # a CSV header line longer than this is refused before it is parsed


def score_panel(path: Path, year: int, agency: str | None, root: Path | None, fmt: str) -> None:
    """Score a panel file; CSV/JSON give every row, the table one line per KPI with its light counts."""
    from ..evaluation import State
    from ..panel import PanelError, PanelStats, read_panel, score_frame
    from ..scoring import Light

    engine = load_engine(root)
    code = require_agency(engine, agency)
    check_bounds(Path(path), engine)
    stats = PanelStats()
    try:
        df = read_panel(path)
        if code is not None:
            df = df[[c for c in df.columns if ":" not in str(c) or str(c).startswith(f"{code}.")]]
        result = score_frame(df, year, engine, stats)
    except PanelError as exc:
        fail(f"[panel] {exc}")
    if fmt == "csv":
        typer.echo(spreadsheet_safe_csv(result), nl=False)
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


def max_bytes() -> int:
    """The panel file size limit: ``KPI_MAX_PANEL_MB`` (a positive number), else DEFAULT_MAX_MB."""
    raw = os.environ.get("KPI_MAX_PANEL_MB", "")
    try:
        mb = float(raw)
    except ValueError:
        mb = DEFAULT_MAX_MB
    if not 0 < mb < float("inf"):  # nan, inf, 0 and negatives mean the default
        mb = DEFAULT_MAX_MB
    return int(mb * 1024 * 1024)


def check_bounds(path: Path, engine: Engine) -> None:
    """Refuse, before pandas reads it, a panel too large in bytes or with more columns than any panel needs.

    Parsing a header of a million columns alone takes pandas minutes; a 2 GB file, several GB of memory.
    """
    if path.is_dir():
        fail(f"[panel] --panel 指定的「{path}」是資料夾，不是檔案；請指定 .csv 或 .parquet 檔")
    if not path.is_file():
        return  # read_panel names the missing file
    size = path.stat().st_size
    limit = max_bytes()
    if size > limit:
        fail(f"[panel-too-large] --panel 指定的「{path.name}」有 {size / 1048576:,.1f} MB，超過上限 {limit / 1048576:,.1f} MB"
             "（請分批計分，或以環境變數 KPI_MAX_PANEL_MB 調高上限）")
    most = sum(len(k.inputs) for k in engine.catalog.kpis) + EXTRA_COLUMNS
    columns, rows = _shape(path)
    if columns is not None and columns > most:
        fail(f"[panel-columns] --panel 指定的「{path.name}」有 {columns:,} 欄，超過上限 {most:,} 欄"
             f"（每個指標輸入項一欄，另可有 {EXTRA_COLUMNS} 欄說明欄位）")
    if columns is not None and rows is not None and columns * rows > limit // 2:
        # a parquet file is compressed: 1.8 MB of zeros can hold 400 million cells (3 GB once read)
        fail(f"[panel-too-large] --panel 指定的「{path.name}」有 {rows:,} 列 × {columns:,} 欄，超過上限 {limit // 2:,} 格"
             "（與同大小的 CSV 相同；請分批計分，或以環境變數 KPI_MAX_PANEL_MB 調高上限）")


def _shape(path: Path) -> tuple[int | None, int | None]:
    """(columns, rows) the file declares without reading its data: CSV its first line (rows unknown), parquet its
    metadata; None where unknown here (read_panel then refuses an unreadable file with its own message)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            import csv

            with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
                line = fh.readline(MAX_HEADER_BYTES)
            if len(line) >= MAX_HEADER_BYTES:
                return 2**31, None  # a header this long has more columns than any limit
            return len(next(csv.reader([line]), [])), None
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            meta = pq.read_metadata(path)
            return meta.num_columns, meta.num_rows
    except (OSError, ValueError, ImportError):
        return None, None
    return None, None


def spreadsheet_safe_csv(result) -> str:
    """The scored panel as CSV for Excel: a UTF-8 BOM first; formula-like text (a unit named ``=HYPERLINK(…)``) neutralised."""
    from ..freetext import neutralise

    safe = result.rename(columns=lambda c: neutralise(c) if isinstance(c, str) else c)
    text_columns = [c for c in safe.columns if safe[c].dtype == object or str(safe[c].dtype) in ("string", "str")]
    if text_columns:
        safe = safe.copy(deep=False)
        for c in text_columns:
            safe[c] = safe[c].map(neutralise)
    if safe.index.dtype == object:
        safe.index = safe.index.map(neutralise)
    return "\ufeff" + safe.to_csv()
