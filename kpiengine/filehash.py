"""The SHA-256 of a file, read in chunks: what a submission records and `kpi verify` recomputes.

One definition, so that validation (which reports the upload's digest) and the ledger (which
stores and re-checks it) can never disagree on what "the same file" means.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 1 << 16


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the file's bytes (memory bounded: read 64 KiB at a time)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
