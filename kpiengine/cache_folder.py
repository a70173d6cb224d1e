"""The one folder where kpiengine keeps what it can recompute (compiled formulas, parsed YAML, the agency index).

``$KPI_CACHE_DIR`` (``off``, ``0``, ``none`` or empty switch caching off), else
``$XDG_CACHE_HOME/kpiengine``, else ``~/.cache/kpiengine``. Deleting it is always safe. Kept apart
from the caches themselves so that a light command can find it without importing them.
"""

from __future__ import annotations

import os
from pathlib import Path

KEEP_FILES = 8  # newest cache files kept per kind (several catalogs, e.g. test fixtures, share the folder)


def cache_dir() -> Path | None:
    """Where cached data is kept (None when the cache is switched off)."""
    explicit = os.environ.get("KPI_CACHE_DIR")
    if explicit is not None:
        return None if explicit.strip().lower() in ("", "off", "0", "none") else Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kpiengine"
