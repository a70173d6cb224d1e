"""The catalog's agencies (code, name, chapter, goal and KPI counts) kept between runs, keyed by its content.

``kpi agencies`` shows only these few facts, yet loading the catalog for them means parsing every
YAML file and importing the formula machinery. After a full load that succeeds (strictly: every file
readable, every year's policy valid) the command stores its rows here; the next run serves them
without loading, as long as the key is the same. The key hashes everything that load read — the
name and bytes of every ``formulas/*.yaml`` and ``targets/<year>/*.yaml`` — and the source of the
package's modules that did the loading, so any changed, added or removed file (or code) means a
full load again, with the same refusals as without the index. A broken catalog is never stored.
Kept as ``marshal`` (plain lists, strings and numbers; never code) in the cache folder
(``cache_folder``; ``KPI_CACHE_DIR=off`` disables it); deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from pathlib import Path
from typing import Any

from .cache_folder import KEEP_FILES, cache_dir, hash_files, read_cache, write_cache

FORMAT = 1
COLUMNS = ("code", "agency", "chapter", "goals", "kpis")
PACKAGE = Path(__file__).resolve().parent


def catalog_files(root: Path) -> list[Path]:
    """Every file a catalog load reads, in a fixed order: formulas/*.yaml, then targets/<year>/*.yaml."""
    files = sorted((root / "formulas").glob("*.yaml"))
    for year in sorted(p for p in (root / "targets").glob("*") if p.is_dir() and p.name.isdigit()):
        files += sorted(year.glob("*.yaml"))
    return files


def content_key(root: Path) -> str:
    """A hash of the catalog's files (names and bytes), the loading code and the Python version."""
    h = hashlib.sha256(f"{FORMAT}|{sys.version_info[0]}.{sys.version_info[1]}|".encode())
    hash_files(h, sorted([*PACKAGE.glob("*.py"), *PACKAGE.glob("cli/*.py")]), PACKAGE)  # loader, model, policy, CLI checks
    hash_files(h, catalog_files(root), root)
    return h.hexdigest()


def _file(root: Path) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"agencies-{hashlib.sha256(str(root).encode()).hexdigest()[:24]}.marshal"


def _typed(row: dict[str, Any]) -> bool:
    return isinstance(row["code"], str) and isinstance(row["agency"], str) and all(
        type(row[k]) is int for k in ("chapter", "goals", "kpis"))


class AgencyIndex:
    """The stored agency rows of the catalog at ``root`` (a resolved path), keyed by its content as of now.

    The key is taken before the caller loads the catalog: a file edited during that load gives rows
    stored under the key of its older bytes, so the next run misses instead of serving them.
    """

    def __init__(self, root: Path):
        self.path = _file(root)
        self.key: str | None = None
        if self.path is not None:
            try:
                self.key = content_key(root)
            except OSError:  # a file vanished or unreadable: the full load will say what is wrong
                self.path = None

    def rows(self) -> list[dict[str, Any]] | None:
        """The stored rows if the catalog is unchanged since they were stored, else None."""
        if self.path is None:
            return None
        blob = read_cache(self.path)
        try:
            data = None if blob is None else marshal.loads(blob)
        except (ValueError, EOFError, TypeError):  # damaged
            return None
        if not isinstance(data, dict) or data.get("key") != self.key or not isinstance(data.get("rows"), list):
            return None
        rows = data["rows"]
        if not all(isinstance(r, dict) and tuple(r) == COLUMNS and _typed(r) for r in rows):
            return None
        return rows

    def store(self, rows: list[dict[str, Any]]) -> None:
        """Keep the rows of a catalog that just loaded cleanly; a folder that cannot be written is skipped."""
        if self.path is None:
            return
        try:
            if not write_cache(self.path, marshal.dumps({"format": FORMAT, "key": self.key, "rows": rows})):
                return
            files = sorted(self.path.parent.glob("agencies-*.marshal"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in files[KEEP_FILES:]:
                old.unlink(missing_ok=True)
        except (OSError, ValueError):  # read-only or full folder, a file gone meanwhile: run without the index
            pass
