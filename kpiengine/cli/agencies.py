"""``kpi agencies``: the catalog's agencies, served from the agency index when the catalog is unchanged.

This command is run to see what there is, so it starts fast: it needs no formula, no sympy and no
Engine when ``catalog_index`` holds rows for the catalog's current content. Otherwise it loads the
catalog exactly as every command does (refusing a missing or broken catalog in Chinese) and stores
the rows for the next run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..catalog_index import AgencyIndex
from ..catalog_root import CatalogNotFound, find_root
from . import output
from .common import RootOpt, fail, load_engine


def register(app: typer.Typer) -> None:
    """Add ``agencies`` to ``app``."""

    @app.command("agencies")
    def agencies_cmd(root: RootOpt = None, fmt: output.FormatOpt = None, json_out: output.JsonOpt = False) -> None:
        """列出目錄中的機關 List the agencies in the catalog."""
        rows = agency_rows(root)
        if output.emit(output.chosen(fmt, json_out), rows, ["code", "agency", "chapter", "goals", "kpis"]):
            return
        typer.echo(output.table(["代碼", "機關", "章", "目標數", "指標數"],
                                [[r["code"], r["agency"], str(r["chapter"]), str(r["goals"]), str(r["kpis"])] for r in rows],
                                right=(2, 3, 4)))


def agency_rows(root: Path | None) -> list[dict[str, Any]]:
    """One row per agency (code, agency, chapter, goals, kpis): from the index, else from a full, strict load."""
    try:
        found = find_root(explicit=root)
    except CatalogNotFound as exc:
        fail(str(exc))
    index = AgencyIndex(found)
    rows = index.rows()
    if rows is None:
        engine = load_engine(found)
        rows = [{"code": a.code, "agency": a.name, "chapter": a.chapter, "goals": len(a.goals),
                 "kpis": len(engine.catalog.kpis_of(a.code))} for a in engine.catalog.agencies]
        index.store(rows)
    return rows
