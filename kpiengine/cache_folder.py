"""The one folder where kpiengine keeps what it can recompute (compiled formulas, parsed YAML, the agency index).

``$KPI_CACHE_DIR`` (``off``, ``0``, ``none`` or empty switch caching off), else
``$XDG_CACHE_HOME/kpiengine``, else ``~/.cache/kpiengine``. Deleting it is always safe. Kept apart
from the caches themselves so that a light command can find it without importing them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

KEEP_FILES = 8  # newest cache files kept per kind (several catalogs, e.g. test fixtures, share the folder)
MAX_CACHE_BYTES = 256 * 1024 * 1024  # a cache file larger than this is not ours (47,000 KPIs: about 60 MB); ignored


def read_cache(path: Path) -> bytes | None:
    """The bytes of a cache file, or None when it is absent, unreadable, not a plain file or too large to be ours."""
    try:
        if not os.path.isfile(path):  # a folder, a FIFO (opening it would wait forever), a device
            return None
        with open(path, "rb") as fh:
            blob = fh.read(MAX_CACHE_BYTES + 1)
        return blob if len(blob) <= MAX_CACHE_BYTES else None
    except OSError:
        return None


def write_cache(path: Path, blob: bytes) -> bool:
    """Replace ``path`` by ``blob`` atomically (other runs read the old or the new file, never half of one).

    False when the folder cannot be written (read-only, full, a file in its place); no temporary file is left behind.
    """
    import tempfile  # only when storing

    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name.split('-')[0]}-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return False


def cache_dir() -> Path | None:
    """Where cached data is kept (None when the cache is switched off)."""
    explicit = os.environ.get("KPI_CACHE_DIR")
    if explicit is not None:
        return None if explicit.strip().lower() in ("", "off", "0", "none") else Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no HOME and no account entry (a container's anonymous user): run without a cache
            return None
    return Path(base) / "kpiengine"


def hash_files(h: Any, paths: Iterable[Path], base: Path) -> None:
    """Feed each file's name (relative to ``base``) and SHA-256 into ``h``: what a cache key says of files."""
    import hashlib

    for path in paths:
        h.update(str(path.relative_to(base)).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
