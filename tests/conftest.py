"""Shared fixtures: the repository's real catalog, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpiengine.engine import Engine

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.load(ROOT)
