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


# --- probes: a damaged, wrong-typed, oversized or misplaced index; a cache folder that cannot be written ---

WRONG_ROWS = {
    "chapter is text": [{**ROWS[0], "chapter": "x" * 10}],
    "code is missing a value": [{**ROWS[0], "code": None}],
    "agency is bytes": [{**ROWS[0], "agency": b"\xff"}],
    "a row is a list": [list(ROWS[0].values())],
}


@pytest.mark.parametrize("rows", WRONG_ROWS.values(), ids=WRONG_ROWS.keys())
def test_rows_of_the_wrong_type_under_the_right_key_are_ignored(repo: Path, rows) -> None:
    import marshal

    index = AgencyIndex(repo)
    index.path.parent.mkdir(parents=True)
    index.path.write_bytes(marshal.dumps({"format": 1, "key": index.key, "rows": rows}))
    assert AgencyIndex(repo).rows() is None


def test_an_oversized_index_file_is_not_read(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kpiengine import cache_folder

    AgencyIndex(repo).store(ROWS)
    monkeypatch.setattr(cache_folder, "MAX_CACHE_BYTES", 16)
    assert AgencyIndex(repo).rows() is None


def test_a_folder_in_the_index_files_place_leaves_no_temporary_file(repo: Path) -> None:
    index = AgencyIndex(repo)
    index.path.mkdir(parents=True)  # os.replace onto a folder fails
    index.store(ROWS)
    index.store(ROWS)
    assert AgencyIndex(repo).rows() is None
    assert [p.name for p in index.path.parent.iterdir()] == [index.path.name]


def test_a_cache_folder_that_is_a_file_is_run_without(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = repo.parent / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    for where in (blocker, blocker / "sub"):
        monkeypatch.setenv("KPI_CACHE_DIR", str(where))
        AgencyIndex(repo).store(ROWS)
        assert AgencyIndex(repo).rows() is None
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_no_home_folder_at_all_means_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HOME, no XDG_CACHE_HOME and no account entry (a container's anonymous user): no cache, no crash."""
    from kpiengine import cache_folder

    def nowhere() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("KPI_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(cache_folder.Path, "home", staticmethod(nowhere))
    assert cache_folder.cache_dir() is None


CACHE_FILES = ("agencies-*.marshal", "yaml-*.marshal", "formulas-*.json")
DAMAGED = {"json list": b"[]", "json text": b'"x"', "json huge number": b"1e999999", "not UTF-8": b"\xff\xfe\x00",
           "marshal of a list": __import__("marshal").dumps([1, 2]), "truncated": b"\xfb"}


COMMANDS = (("agencies",), ("score", "--year", "107", "--agency", "mnd"))  # between them, all three caches


@pytest.mark.parametrize("damage", DAMAGED.values(), ids=DAMAGED.keys())
def test_kpi_runs_through_any_damaged_cache_file(kpi_cli, repo: Path, damage: bytes) -> None:
    """Every cache file (agency index, parsed YAML, compiled formulas) overwritten: the same answers, no traceback."""
    env = {"KPI_CACHE_DIR": str(repo.parent / "cache")}
    first = [kpi_cli(*cmd, "--root", repo, env=env) for cmd in COMMANDS]
    assert all(p.returncode == 0 for p in first), [p.stderr for p in first]
    files = [f for pattern in CACHE_FILES for f in (repo.parent / "cache").glob(pattern)]
    assert len(files) == 3
    for f in files:
        f.write_bytes(damage)
    again = [kpi_cli(*cmd, "--root", repo, env=env) for cmd in COMMANDS]
    assert [(p.returncode, p.stdout, "Traceback" in p.stderr) for p in again] == [(0, p.stdout, False) for p in first]


def test_two_kpi_processes_racing_to_write_the_index_both_answer(repo: Path) -> None:
    """Both start with an empty cache folder and store at about the same time: each answers, the file is whole."""
    import os
    import subprocess

    from tests.conftest import KPI_EXE

    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "KPI_CACHE_DIR": str(repo.parent / "cache")}
    procs = [subprocess.Popen([str(KPI_EXE), "agencies", "--root", str(repo), "--format", "json"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outs]
    assert len({out for out, _ in outs}) == 1
    assert AgencyIndex(repo).rows() is not None
    assert not [p for p in (repo.parent / "cache").iterdir() if p.name.startswith(".")]  # no temporary file left


CHANGES = {
    "an agency renamed": (lambda repo: (repo / "formulas" / "moj.yaml").write_text(
        (repo / "formulas" / "moj.yaml").read_text(encoding="utf-8").replace("agency: 法務部", "agency: 法務部改"),
        encoding="utf-8"), "法務部改"),
    "a chapter renumbered": (lambda repo: (repo / "formulas" / "moj.yaml").write_text(
        (repo / "formulas" / "moj.yaml").read_text(encoding="utf-8").replace("chapter: 7\n", "chapter: 77\n"),
        encoding="utf-8"), "77"),
}


@pytest.mark.parametrize("case", CHANGES.values(), ids=CHANGES.keys())
def test_kpi_agencies_never_serves_a_stale_index(kpi_cli, repo: Path, case) -> None:
    env = {"KPI_CACHE_DIR": str(repo.parent / "cache")}
    assert kpi_cli("agencies", "--root", repo, env=env).returncode == 0
    change, shows = case
    change(repo)
    proc = kpi_cli("agencies", "--root", repo, env=env)
    moj = next(line for line in proc.stdout.splitlines() if line.startswith("moj"))
    assert proc.returncode == 0 and shows in moj, proc.stdout + proc.stderr


def _edit(repo: Path, rel: str, old: str, new: str) -> None:
    path = repo / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


CATALOG_EDITS = {  # every cache warm, then the catalog edited: what `kpi eval mnd.1.1 done=19 planned=20` must say
    "a target changed": (("targets/107/mnd.yaml", 'text: 100%\n    value: "100"', 'text: 90%\n    value: "90"'),
                         {"target": "90", "actual_exact": "95", "light": "green"}),
    "a formula changed": (("formulas/mnd.yaml", "formula: done / planned * 100", "formula: done / planned * 50"),
                          {"target": "100", "actual_exact": "47.5"}),
    "an agency renamed": (("formulas/mnd.yaml", "agency: 國防部", "agency: 國防部改"), {"agency": "國防部改"}),
}


@pytest.mark.parametrize(("edit", "expected"), CATALOG_EDITS.values(), ids=CATALOG_EDITS.keys())
def test_no_cache_serves_a_catalog_edited_after_it_was_stored(kpi_cli, repo: Path, edit, expected) -> None:
    """The parsed-YAML, compiled-formula and agency caches all warm; after the edit every command sees it."""
    import json

    env = {"KPI_CACHE_DIR": str(repo.parent / "cache")}
    args = ("eval", "mnd.1.1", "done=19", "planned=20", "--year", "107", "--root", repo, "--format", "json")
    for _ in range(2):
        assert kpi_cli("agencies", "--root", repo, env=env).returncode == 0
        before = kpi_cli(*args, env=env)
        assert before.returncode == 0, before.stderr
    assert json.loads(before.stdout)["actual_exact"] == "95"
    _edit(repo, *edit)
    after = json.loads(kpi_cli(*args, env=env).stdout)
    assert {k: after[k] for k in expected} == expected
    if "agency" in expected:
        assert expected["agency"] in kpi_cli("agencies", "--root", repo, env=env).stdout
