"""Fixtures of the workbook tests: the engine, sample workbooks, LibreOffice."""

from __future__ import annotations

from pathlib import Path

import pytest
from wbhelpers import ROOT, YEAR

from kpiengine.engine import Engine
from kpiengine.workbook.sample import write_samples


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.load(ROOT)


@pytest.fixture(scope="session")
def samples(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list]]:
    """Freshly generated sample workbooks of every agency: code → (path, plan)."""
    out = tmp_path_factory.mktemp("samples")
    return {path.stem: (path, plan) for path, plan in write_samples(engine, YEAR, out)}


