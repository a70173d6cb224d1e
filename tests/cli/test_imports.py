"""Start-up stays light: commands import only what they use (a test of imports, never of time).

Each command runs through the real ``kpi`` entry point with ``PYTHONPROFILEIMPORTTIME=1``, which makes
Python list every module it imports on stderr; the heavy libraries must not be among them.
"""

from __future__ import annotations

import re

import pytest

HEAVY = {"sympy", "numpy", "openpyxl", "jinja2", "pandas", "pyarrow", "matplotlib", "docx", "pypdf"}

# command → heavy libraries it may import (none, for everything that does not read a workbook)
CASES = [
    (["--help"], set()),
    (["agencies"], set()),
    (["agencies", "--json"], set()),
    (["list", "--agency", "moj"], set()),
    (["score", "--help"], set()),
    (["report", "--help"], set()),
    (["gap", "--help"], set()),
]


def imported(stderr: str) -> set[str]:
    """Top-level package names from Python's -X importtime report."""
    return {m.group(1).split(".")[0] for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", stderr, re.M)}


@pytest.mark.parametrize(("args", "allowed"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_command_imports_no_heavy_library(kpi_cli, tmp_path, args, allowed):
    proc = kpi_cli(*args, env={"PYTHONPROFILEIMPORTTIME": "1", "KPI_CACHE_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = imported(proc.stderr)
    assert "kpiengine" in modules  # the report was read
    assert (modules & HEAVY) - allowed == set()


def test_scoring_from_a_warm_cache_imports_no_sympy(kpi_cli, tmp_path):
    """The second run takes compiled formulas from the cache: no sympy, same output."""
    env = {"PYTHONPROFILEIMPORTTIME": "1", "KPI_CACHE_DIR": str(tmp_path)}
    first = kpi_cli("score", "--year", "107", "--agency", "moj", "--format", "csv", "--sample", env=env)
    second = kpi_cli("score", "--year", "107", "--agency", "moj", "--format", "csv", "--sample", env=env)
    assert first.returncode == second.returncode == 0, first.stderr[-2000:]
    assert "sympy" in imported(first.stderr)  # cold: compiled, then stored
    assert "sympy" not in imported(second.stderr)
    assert second.stdout == first.stdout
