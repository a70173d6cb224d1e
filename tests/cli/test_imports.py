"""Start-up stays light: commands import only what they use (a test of imports, never of time).

Each command runs through the real ``kpi`` entry point with ``PYTHONPROFILEIMPORTTIME=1``, which makes
Python list every module it imports on stderr; the heavy libraries must not be among them.
"""

from __future__ import annotations

import re

import pytest

from kpiengine.cli.main import COMMANDS

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


def modules(stderr: str) -> set[str]:
    """Every module named in Python's -X importtime report."""
    return {m.group(1) for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", stderr, re.M)}


def imported(stderr: str) -> set[str]:
    """Top-level package names from Python's -X importtime report."""
    return {name.split(".")[0] for name in modules(stderr)}


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


# `kpi --help` and a warm `kpi agencies` start in a blink: no command module, no catalog loader, no
# pydantic (Typer's value checks), no Click beside Typer's own copy, no YAML parser for `--help`.
LIGHT = {"pydantic", "click", "sympy", "kpiengine.engine", "kpiengine.catalog", "kpiengine.evaluation",
         "kpiengine.formula", "kpiengine.model", "kpiengine.ledger", "kpiengine.accounts", "kpiengine.services"}


def test_help_imports_no_command(kpi_cli, tmp_path):
    proc = kpi_cli("--help", env={"PYTHONPROFILEIMPORTTIME": "1", "KPI_CACHE_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = modules(proc.stderr)
    assert {m for m in found if m.startswith("kpiengine.")} == {"kpiengine.cli", "kpiengine.cli.main",
                                                                "kpiengine.cli.language", "kpiengine.cli.lazy"}
    assert found & LIGHT == set() and "yaml" not in found


def test_agencies_from_the_index_loads_no_catalog(kpi_cli, tmp_path):
    """The first run loads the catalog and stores the agency index; the second serves it, same output."""
    env = {"PYTHONPROFILEIMPORTTIME": "1", "KPI_CACHE_DIR": str(tmp_path)}
    first = kpi_cli("agencies", env=env)
    second = kpi_cli("agencies", env=env)
    as_json = kpi_cli("agencies", "--json", env=env)
    assert first.returncode == second.returncode == as_json.returncode == 0, first.stderr[-2000:]
    assert "kpiengine.catalog" in modules(first.stderr)  # cold: the full, strict load
    assert modules(second.stderr) & LIGHT == set() and modules(as_json.stderr) & LIGHT == set()
    assert second.stdout == first.stdout and len(second.stdout.splitlines()) == 35  # 2 header lines + 33 agencies


@pytest.mark.parametrize("entry", COMMANDS, ids=lambda e: e.name)
def test_a_command_imports_no_other_command(kpi_cli, tmp_path, entry):
    """`kpi NAME --help` builds NAME alone: no other command's module is imported."""
    proc = kpi_cli(entry.name, "--help", env={"PYTHONPROFILEIMPORTTIME": "1", "KPI_CACHE_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    others = {f"kpiengine.cli.{e.module}" for e in COMMANDS if e.module != entry.module}
    assert modules(proc.stderr) & others == set()
