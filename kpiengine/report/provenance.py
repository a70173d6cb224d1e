"""Provenance of a report: the catalog's content hash (and commit), the policy, the data versions.

An edge: it reads the catalog files and asks git, so it lives beside the renderers.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Mapping
from pathlib import Path

from ..numbers import display
from ..scoring import Policy
from .overview import Provenance


def catalog_hash(root: Path, year: int) -> str:
    """SHA-256 over formulas/*.yaml and targets/<year>/*.yaml (names and contents, sorted)."""
    digest = hashlib.sha256()
    files = sorted((root / "formulas").glob("*.yaml")) + sorted((root / "targets" / str(year)).glob("*.yaml"))
    for f in files:
        digest.update(f.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(f.read_bytes() + b"\0")
    return digest.hexdigest()


def catalog_commit(root: Path) -> str | None:
    """The git commit of the catalog, when it is a clean checkout (else None: the hash is what counts)."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=False)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "formulas", "targets"],
                               capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if head.returncode != 0 or dirty.returncode != 0 or dirty.stdout.strip():
        return None
    return head.stdout.strip() or None


def policy_text(root: Path, policy: Policy) -> str:
    path = root / "targets" / str(policy.year) / "policy.yaml"
    bands = "、".join(f"{b.light.label} ≥{display(b.minimum, 0)}%" if b.minimum is not None else f"{b.light.label} 其餘"
                     for b in policy.bands)
    where = f"targets/{policy.year}/policy.yaml"
    if path.exists():
        where += f"（sha256 {hashlib.sha256(path.read_bytes()).hexdigest()[:12]}）"
    return f"{where}：{bands}；達成度上限 {display(policy.cap, 0)}%"


def build_provenance(root: Path, year: int, policy: Policy, versions: Mapping[str, int], sample: bool,
                     ledger_head: str | None = None) -> Provenance:
    if versions:
        used = "帳本版本 " + "、".join(f"{code} 第 {v} 版" for code, v in versions.items())
        if ledger_head:
            used += f"（帳本狀態 {ledger_head[:12]}）"
    else:
        used = "無帳本版本"
    if sample:
        used += "；含範例資料（非機關提交）"
    return Provenance(catalog_hash(root, year), catalog_commit(root), policy_text(root, policy), used,
                      tuple(versions.items()))
