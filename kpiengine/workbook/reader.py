"""Workbooks → ``AgencyInputs`` for ``kpi score``: one file, or a folder of them.

A thin layer over ``validate``: scoring uses whatever a readable workbook holds (cells in error
become missing values, so their KPIs show as incomplete or invalid) and reports every problem.
"""

from __future__ import annotations

from pathlib import Path

from ..engine import AgencyInputs, Engine
from ..messages import Problem
from .errors import wb_problem
from .validate import validate_workbook


def read_workbook(path: Path, engine: Engine) -> tuple[AgencyInputs | None, list[Problem]]:
    """The inputs of one workbook (None when the file or its identity is unusable) and all its problems."""
    v = validate_workbook(Path(path), engine)
    return v.inputs, v.problems


def workbook_files(folder: Path) -> list[Path]:
    """The *.xlsx files of ``folder`` in name order, without Office lock files (``~$…``)."""
    return sorted(p for p in Path(folder).glob("*.xlsx") if not p.name.startswith(("~$", ".~lock")) and p.is_file())


def collect_actuals(folder: Path, engine: Engine, year: int) -> tuple[list[AgencyInputs], list[Problem]]:
    """Every workbook of ``year`` in ``folder``: one AgencyInputs per agency, and all problems."""
    found: dict[str, list[tuple[Path, AgencyInputs]]] = {}
    problems: list[Problem] = []
    for path in workbook_files(folder):
        inputs, probs = read_workbook(path, engine)
        problems.extend(probs)
        if inputs is None or inputs.year != year:
            continue
        found.setdefault(inputs.agency_code, []).append((path, inputs))
    out = []
    for code, items in found.items():
        used_path, used = items[-1]
        if len(items) > 1:
            problems.append(wb_problem("wb-agency-duplicate", {"file": used_path.name}, agency_code=code, year=year,
                                       files="、".join(p.name for p, _ in items), used=used_path.name))
        out.append(used)
    return out, problems
