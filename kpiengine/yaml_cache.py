"""Parsed catalog YAML kept between runs, keyed by each file's SHA-256, so start-up does not re-parse.

Parsing the catalog's 67 YAML files through the safe loader is most of ``kpi agencies`` and grows
with the catalog (47,000 KPIs: 3,300 files). A file whose bytes hash to a known digest gives the
data parsed from those very bytes earlier; any other file is parsed (and refused) by
``yamlfile.load_yaml`` exactly as without the cache. Only successfully parsed data is kept, as
``marshal`` (plain dicts, lists, strings and numbers; never code, never executed); data marshal cannot
hold (dates) is simply not cached. The file name carries a hash of the loader's source and the
Python version, so a changed loader never reads an old cache. Same folder as the formula cache
(``KPI_CACHE_DIR``, ``off`` disables it); deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from pathlib import Path
from typing import Any

from . import yamlfile
from .cache_folder import KEEP_FILES, cache_dir, read_cache, write_cache

FORMAT = 1


class ParsedYaml:
    """The parsed-data cache of one catalog folder, for the duration of one load."""

    def __init__(self, root: Path):
        folder = cache_dir()
        self.path = None if folder is None else folder / f"yaml-{_key(root)[:24]}.marshal"
        self.known: dict[bytes, bytes] = {}  # file digest → marshal of its parsed data
        self.used: dict[bytes, bytes] = {}
        if self.path is not None:
            blob = read_cache(self.path)
            try:
                data = None if blob is None else marshal.loads(blob)
                if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("files"), dict):
                    self.known = data["files"]
            except (ValueError, EOFError, TypeError):  # damaged: parse everything
                self.known = {}

    def load(self, path: Path, label: str | None = None) -> Any:
        """``yamlfile.load_yaml(path, label)``, from the cache when the bytes are the same."""
        try:
            raw = path.read_bytes() if path.stat().st_size <= yamlfile.MAX_YAML_BYTES else None
        except OSError:
            raw = None
        if raw is None:
            return yamlfile.load_yaml(path, label)  # refuses it with the right message
        digest = hashlib.sha256(raw).digest()
        blob = self.known.get(digest)
        if isinstance(blob, bytes):
            try:
                data = marshal.loads(blob)
                self.used[digest] = blob
                return data
            except (ValueError, EOFError, TypeError):
                pass
        data = yamlfile.load_yaml(path, label)
        try:  # the bytes of the data as parsed, before the loader's caller touches it
            self.used[digest] = marshal.dumps(data)
        except ValueError:  # a value marshal cannot hold (a YAML date): not cached
            pass
        return data

    def save(self) -> None:
        """Keep what this load parsed (only the files still in the catalog), if anything changed."""
        if self.path is None or self.used.keys() == self.known.keys():
            return
        blob = marshal.dumps({"format": FORMAT, "files": self.used})
        if not write_cache(self.path, blob):  # read-only or full: the catalog loads without the cache
            return
        try:
            files = sorted(self.path.parent.glob("yaml-*.marshal"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in files[KEEP_FILES:]:
                old.unlink(missing_ok=True)
        except OSError:  # read-only or full: the catalog loads without the cache
            pass


def _key(root: Path) -> str:
    h = hashlib.sha256()
    h.update(f"{FORMAT}|{sys.version_info[0]}.{sys.version_info[1]}|{Path(root).resolve()}|".encode())
    h.update(hashlib.sha256(Path(yamlfile.__file__).read_bytes()).digest())
    return h.hexdigest()
