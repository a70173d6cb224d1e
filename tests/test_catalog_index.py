"""The agency index serves ``kpi agencies`` only while the catalog is byte-for-byte what it was.

Any edit, added or removed file is a miss (a full, strict load again), a damaged index file is
ignored, and a catalog broken after its index was stored is refused exactly as without an index.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kpiengine.catalog_index import AgencyIndex
from tests.conftest import assert_clean_failure
from tests.test_policyfile import BAD as BAD_POLICIES
from tests.test_yamlfile import ALIAS_BOMB

ROWS = [{"code": "moj", "agency": "法務部", "chapter": 11, "goals": 9, "kpis": 21}]


@pytest.fixture
def repo(tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the catalog, with a private cache folder."""
    monkeypatch.setenv("KPI_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("formulas", "targets"):
        shutil.copytree(root / name, tmp_path / "repo" / name)
    return (tmp_path / "repo").resolve()


def append(path: str) -> Callable[[Path], None]:
    return lambda repo: (repo / path).write_text((repo / path).read_text(encoding="utf-8") + "\n# 註\n", encoding="utf-8")


EDITS: dict[str, Callable[[Path], None]] = {
    "an agency file edited": append("formulas/moj.yaml"),
    "a shared file edited": append("formulas/_shared.yaml"),
    "a year's targets edited": append("targets/107/moj.yaml"),
    "a policy edited": append("targets/107/policy.yaml"),
    "an agency file removed": lambda repo: (repo / "formulas" / "moj.yaml").unlink(),
    "an agency file added": lambda repo: shutil.copy(repo / "formulas" / "moj.yaml", repo / "formulas" / "zz.yaml"),
    "a year added": lambda repo: shutil.copytree(repo / "targets" / "107", repo / "targets" / "999"),
    "an agency file renamed": lambda repo: (repo / "formulas" / "moj.yaml").rename(repo / "formulas" / "moj2.yaml"),
}


def test_stored_rows_are_served_while_nothing_changed(repo: Path) -> None:
    assert AgencyIndex(repo).rows() is None
    AgencyIndex(repo).store(ROWS)
    assert AgencyIndex(repo).rows() == ROWS


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_any_change_to_the_catalog_is_a_miss(repo: Path, edit: Callable[[Path], None]) -> None:
    AgencyIndex(repo).store(ROWS)
    edit(repo)
    assert AgencyIndex(repo).rows() is None


def test_the_key_is_taken_before_the_load(repo: Path) -> None:
    """A file edited while the catalog loads: the rows are stored under the older key, so the next run misses."""
    index = AgencyIndex(repo)
    append("formulas/moj.yaml")(repo)
    index.store(ROWS)
    assert AgencyIndex(repo).rows() is None


@pytest.mark.parametrize("damage", [b"", b"\x00garbage", b"\xe3\x01\x00\x00\x00"], ids=["empty", "garbage", "truncated"])
def test_a_damaged_index_is_ignored(repo: Path, damage: bytes) -> None:
    index = AgencyIndex(repo)
    index.store(ROWS)
    index.path.write_bytes(damage)
    assert AgencyIndex(repo).rows() is None


def test_switched_off_it_stores_nothing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_CACHE_DIR", "off")
    index = AgencyIndex(repo)
    index.store(ROWS)
    assert index.path is None and index.rows() is None


BREAKS: dict[str, tuple[Callable[[Path], None], tuple[str, ...]]] = {
    "an alias bomb": (lambda repo: (repo / "formulas" / "moj.yaml").write_text(ALIAS_BOMB, encoding="utf-8"),
                      ("formulas/moj.yaml", "錨點或別名")),
    "targets not UTF-8": (lambda repo: (repo / "targets" / "107" / "moj.yaml").write_bytes(
        "year: 107\ntargets: {}\n# 法務部\n".encode("big5")), ("targets/107/moj.yaml", "UTF-8")),
    "an inverted policy": (lambda repo: (repo / "targets" / "107" / "policy.yaml").write_text(
        next(c["text"] for c in BAD_POLICIES if c["why"].startswith("inverted")), encoding="utf-8"), ("policy.yaml",)),
    "no agency left": (lambda repo: [p.unlink() for p in (repo / "formulas").glob("*.yaml")], ("--root",)),
}


@pytest.mark.parametrize("case", BREAKS.values(), ids=BREAKS.keys())
def test_a_catalog_broken_after_its_index_was_stored_is_refused(kpi_cli, repo: Path, case) -> None:
    env = {"KPI_CACHE_DIR": str(repo.parent / "cache")}
    ok = kpi_cli("agencies", "--root", repo, env=env)
    assert ok.returncode == 0 and "法務部" in ok.stdout, ok.stderr
    assert kpi_cli("agencies", "--root", repo, env=env).stdout == ok.stdout  # served from the index
    breaks, says = case
    breaks(repo)
    assert_clean_failure(kpi_cli("agencies", "--root", repo, env=env, timeout=90, memory_mb=768), *says)
