"""Official scoring reads the ledger, never a workbook, and ``report`` reads and scores the year once (issue 11, goal 3).

The workbook readers are replaced by tripwires while ``kpi score`` and ``kpi report`` run: any read of an
.xlsx (openpyxl's loader, the parser, the validator) fails the test, and the ledger and scoring calls are
counted. No timing: what is checked is what is read, and how often.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from kpiengine import services
from kpiengine.cli.main import app
from kpiengine.engine import Engine
from kpiengine.ledger import Ledger
from kpiengine.workbook import parse, reader, validate

YEAR = 107
runner = CliRunner()


@pytest.fixture
def ledger(tmp_path: Path, engine: Engine, official_workbook) -> Path:
    """A ledger holding moj's submitted workbook (read once, at submission, before any tripwire)."""
    path = tmp_path / "ledger.sqlite"
    outcome = services.submit_workbook(engine, path, official_workbook("moj"), by="測試員", year=YEAR,
                                       confirm_warnings=True)
    assert outcome.recorded, outcome.refusal
    return path


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Counter:
    """Workbook reads forbidden; ledger reads and year scorings counted."""
    calls: Counter = Counter()
    monkeypatch.setattr(Engine, "load", staticmethod(lambda root=None: engine))
    monkeypatch.delenv("KPI_LEDGER", raising=False)

    def forbidden(name: str):
        def trip(*args, **kwargs):
            calls[f"read:{name}"] += 1
            raise AssertionError(f"official scoring opened a workbook ({name})")
        return trip

    monkeypatch.setattr(openpyxl, "load_workbook", forbidden("openpyxl.load_workbook"))
    monkeypatch.setattr(parse, "load_workbook", forbidden("parse.load_workbook"))
    monkeypatch.setattr(parse, "parse_workbook", forbidden("parse_workbook"))
    monkeypatch.setattr(validate, "validate_workbook", forbidden("validate_workbook"))
    monkeypatch.setattr(reader, "collect_actuals", forbidden("collect_actuals"))

    def counted(owner, name: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            calls[name] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    counted(Engine, "score_year")
    counted(Ledger, "latest")
    counted(Ledger, "inputs_of")
    counted(Ledger, "reviews")
    return calls


def test_official_score_reads_the_ledger_once_and_no_workbook(ledger: Path, watched: Counter) -> None:
    result = runner.invoke(app, ["score", "--year", str(YEAR), "--ledger", str(ledger), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    moj = [r for r in rows if r["agency_code"] == "moj"]
    assert moj and all(r["version"] == 1 and r["source"].startswith("帳本") for r in moj)
    assert all(r["status"] == "not_submitted" for r in rows if r["agency_code"] != "moj")
    assert not [k for k in watched if k.startswith("read:")]
    assert (watched["score_year"], watched["latest"], watched["inputs_of"], watched["reviews"]) == (1, 1, 1, 1)


def test_official_report_reads_and_scores_once_and_no_workbook(ledger: Path, watched: Counter, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    result = runner.invoke(app, ["report", "--year", str(YEAR), "--ledger", str(ledger), "--out", str(out), "--no-docx"])
    assert result.exit_code == 0, result.output
    assert (out / "index.html").exists() and (out / "moj.html").exists() and list(out.glob("*.xlsx"))
    assert not [k for k in watched if k.startswith("read:")]
    assert (watched["score_year"], watched["latest"], watched["inputs_of"], watched["reviews"]) == (1, 1, 1, 1)
