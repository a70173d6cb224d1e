"""Hostile catalog, policy and YAML files, through the real ``kpi`` in a subprocess, bounded in time and memory.

``kpi check`` lists every problem (exit 1); every other command refuses to work on a catalog it
cannot read or a policy it cannot trust, in Chinese, instead of a traceback, a hang or 2 GiB.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from conftest import assert_clean_failure

from tests.test_policyfile import BAD as BAD_POLICIES
from tests.test_yamlfile import ALIAS_BOMB

TIME = 90  # seconds: loading the catalog takes a few; a hang is what this catches
MEMORY = 768  # MB of address space: the alias bomb took 2 GiB


@pytest.fixture
def repo(tmp_path: Path, root: Path) -> Path:
    """A private copy of the catalog (formulas, targets, seeds) to break."""
    for name in ("formulas", "targets", "seeds"):
        shutil.copytree(root / name, tmp_path / name)
    return tmp_path


def edit_kpi(repo: Path, kpi_id: str, **changes) -> None:
    path = repo / "formulas" / f"{kpi_id.split('.')[0]}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    (entry,) = [k for k in data["kpis"] if k["id"] == kpi_id]
    for k, v in changes.items():
        if k == "places":
            entry["tests"][0]["places"] = v
        else:
            entry[k] = v
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("case", [c for c in BAD_POLICIES if c["why"].startswith(("inverted", "a missing", "a negative",
                                                                                  "places 1", "light blue", "an alias"))],
                         ids=lambda c: c["why"])
def test_bad_policy_checked_and_refused_by_every_command(kpi_cli, repo: Path, case: dict) -> None:
    (repo / "targets" / "107" / "policy.yaml").write_text(case["text"], encoding="utf-8")
    check = kpi_cli("check", "--agency", "moj", "--root", repo, timeout=TIME, memory_mb=MEMORY)
    assert check.returncode == 1 and "Traceback" not in check.stdout + check.stderr
    assert "policy.yaml" in check.stdout and case["says"] in check.stdout, check.stdout[-2000:]
    for args in (["score", "--year", "107"], ["list", "--agency", "moj"], ["eval", "moj.1.1", "indicted=6600"],
                 ["report", "--year", "107", "--agency", "moj", "--out", str(repo / "out")]):
        proc = kpi_cli(*args, "--root", repo, timeout=TIME, memory_mb=MEMORY)
        assert_clean_failure(proc, "policy.yaml", case["says"])


@pytest.mark.parametrize(("where", "content", "says"), [
    ("formulas/moj.yaml", ALIAS_BOMB.encode(), "錨點或別名"),
    ("formulas/moj.yaml", b"\xff\xfeagency: \x00\x00", "UTF-8"),
    ("targets/107/moj.yaml", "year: 107\ntargets: {}\n# 法務部\n".encode("big5"), "UTF-8"),
    ("formulas/_shared.yaml", b"shared: [1, 2\n", "格式錯誤"),
])
def test_unreadable_yaml_named_and_refused(kpi_cli, repo: Path, where: str, content: bytes, says: str) -> None:
    (repo / where).write_bytes(content)
    check = kpi_cli("check", "--root", repo, timeout=TIME, memory_mb=MEMORY)
    assert check.returncode == 1 and "Traceback" not in check.stdout + check.stderr
    assert where in check.stdout and says in check.stdout
    assert_clean_failure(kpi_cli("score", "--year", "107", "--root", repo, timeout=TIME, memory_mb=MEMORY), where, says)


@pytest.mark.parametrize(("places", "says"), [("abc", "places"), (100000000, "places"), (-1, "places")])
def test_test_case_places_checked(kpi_cli, repo: Path, places, says: str) -> None:
    edit_kpi(repo, "moj.1.1", places=places)
    check = kpi_cli("check", "--agency", "moj", "--root", repo, timeout=TIME, memory_mb=MEMORY)
    assert check.returncode == 1 and "Traceback" not in check.stdout + check.stderr
    assert "tests[1].places" in check.stdout and "moj.1.1" in check.stdout


def nested(depth: int, inner: str = "indicted") -> str:
    text = inner
    for _ in range(depth):
        text = f"({text})**10"
    return text


@pytest.mark.parametrize("changes", [
    {"formula": nested(12)},
    {"definitions": [{"symbol": f"D{i}", "label": "中間值", "expr": f"(D{i - 1})**10" if i else "indicted**10"}
                     for i in range(12)], "formula": "D11"},
    {"formula": "(((2**10)**10)**10)**10 + indicted"},
], ids=["direct", "through definitions", "constant"])
def test_power_growth_refused_at_check_time(kpi_cli, repo: Path, changes: dict) -> None:
    edit_kpi(repo, "moj.1.1", **changes)
    check = kpi_cli("check", "--agency", "moj", "--root", repo, timeout=TIME, memory_mb=MEMORY)
    assert check.returncode == 1 and "Traceback" not in check.stdout + check.stderr
    assert "formula-rejected" in check.stdout and "增長過大" in check.stdout
    # the other commands load the same catalog; the KPI is refused, not evaluated
    proc = kpi_cli("eval", "moj.1.1", "indicted=99999", "--root", repo, timeout=TIME, memory_mb=MEMORY)
    assert proc.returncode != 0 and "Traceback" not in proc.stdout + proc.stderr and "增長過大" in proc.stdout
