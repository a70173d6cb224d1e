"""The catalog-format document names exactly the directions, domains and functions the code knows."""

from __future__ import annotations

import re

from kpiengine.formula import FUNCTIONS
from kpiengine.model import Direction, Domain


def _doc(root) -> str:
    return (root / "docs" / "catalog-format.md").read_text(encoding="utf-8")


def test_directions_table_matches_the_enum(root):
    section = _doc(root).split("### Directions", 1)[1].split("###", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", section, re.M))
    assert documented == {d.value for d in Direction}


def test_domains_match_the_enum(root):
    section = _doc(root).split("### Domains", 1)[1].split("##", 1)[0]
    assert set(re.findall(r"`(\w+)`", section)) == {d.value for d in Domain}


def test_every_formula_function_is_documented(root):
    section = _doc(root).split("### Formula language", 1)[1].split("###", 1)[0]
    for fn in FUNCTIONS:
        assert f"`{fn}(" in section, fn
