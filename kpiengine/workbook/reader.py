"""Workbooks → ``AgencyInputs`` for ``kpi score``: one file, or a folder of them.

A thin layer over ``validate``: scoring uses whatever a readable workbook holds (cells in error
become missing values, so their KPIs show as incomplete or invalid) and reports every problem.
Results of unchanged workbooks come from ``validation_cache`` (scoring only: ``kpi validate``,
``kpi submit`` and the web upload call ``validate_workbook`` themselves and always validate afresh).
"""

from __future__ import annotations

from pathlib import Path

from ..engine import AgencyInputs, Engine
from ..messages import Problem
from .errors import wb_problem
from .validation_cache import ValidationCache


def read_workbook(path: Path, engine: Engine, cache: ValidationCache | None = None
                  ) -> tuple[AgencyInputs | None, list[Problem]]:
    """The inputs of one workbook (None when the file or its identity is unusable) and all its problems.

    Without ``cache``, one is opened and saved for this workbook alone; a folder shares one.
    """
    own = cache is None
    cache = ValidationCache(engine) if cache is None else cache
    result = cache.read(Path(path), engine)
    if own:
        cache.save()
    return result


def workbook_files(folder: Path) -> list[Path]:
    """The *.xlsx files of ``folder`` in name order, without Office lock files (``~$…``)."""
    return sorted(p for p in Path(folder).glob("*.xlsx") if not p.name.startswith(("~$", ".~lock")) and p.is_file())


def collect_actuals(folder: Path, engine: Engine, year: int) -> tuple[list[AgencyInputs], list[Problem]]:
    """Every workbook of ``year`` in ``folder``: one AgencyInputs per agency, and all problems."""
    found: dict[str, list[tuple[Path, AgencyInputs]]] = {}
    problems: list[Problem] = []
    cache = ValidationCache(engine)
    for path in workbook_files(folder):
        inputs, probs = read_workbook(path, engine, cache)
        problems.extend(probs)
        if inputs is None or inputs.year != year:
            continue
        found.setdefault(inputs.agency_code, []).append((path, inputs))
    cache.save()
    out = []
    for code, items in found.items():
        used_path, used = items[-1]
        if len(items) > 1:
            problems.append(wb_problem("wb-agency-duplicate", {"file": used_path.name}, agency_code=code, year=year,
                                       files="、".join(p.name for p, _ in items), used=used_path.name))
        out.append(used)
    return out, problems
