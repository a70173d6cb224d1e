"""Gap analyses kept between runs, so ``kpi score --format json`` does not solve the same gaps again.

The gap of a missed KPI (``gap.analyse``: sympy's solver, tens of milliseconds per input — about
six seconds for the sample year's 200 missed KPIs, several times everything else the command
does) depends only on the KPI (id, direction, formulas, declared inputs with their labels,
units and domains), its target, the submitted values and the display places. Its JSON record
(``gap.gap_record``) is kept under the SHA-256 of all of them; the file name carries a hash of the
code that computes it (gap, formula, evaluation, numbers, model, the sympy and Python versions), so
changed code never reads an old record. Records are JSON data, never code. An analysis cut short by
its time limit (or the size bound) is never kept: it depends on the machine. Same folder as the
formula cache (``KPI_CACHE_DIR``, ``off`` disables it); deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .formula_cache import KEEP_FILES, cache_dir, sympy_version
from .numbers import fraction_text

if TYPE_CHECKING:
    from .engine import ScoredKpi

FORMAT = 1
MAX_ENTRIES = 50_000  # beyond this, only the records of the latest run are kept
_CODE = ("gap.py", "formula.py", "evaluation.py", "numbers.py", "model.py")


def _code_key() -> str:
    h = hashlib.sha256(f"{FORMAT}|{sys.version_info[0]}.{sys.version_info[1]}|sympy {sympy_version()}|".encode())
    here = Path(__file__).resolve().parent
    for name in _CODE:
        h.update(hashlib.sha256((here / name).read_bytes()).digest())
    return h.hexdigest()


def entry_key(item: ScoredKpi, places: int) -> str:
    """Everything a KPI's gap record depends on, hashed."""
    kpi, t = item.kpi, item.target
    parts = (kpi.id, kpi.direction.value, kpi.formula_key,
             tuple((i.symbol, i.label, i.unit, i.domain.value) for i in kpi.inputs),
             None if t is None else (fraction_text(t.value), t.comparator,
                                     tuple(sorted((k, fraction_text(v)) for k, v in t.params.items()))),
             tuple(sorted((k, fraction_text(v)) for k, v in item.inputs.items())), places)
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


class GapCache:
    """The gap records of earlier runs (one file per version of the code), for one batch of records."""

    def __init__(self) -> None:
        folder = cache_dir()
        self.path = None if folder is None else folder / f"gaps-{_code_key()[:24]}.json"
        self.known: dict[str, Any] = {}
        self.new: dict[str, Any] = {}
        if self.path is not None:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("entries"), dict):
                    self.known = data["entries"]
            except (OSError, ValueError):  # absent or damaged: analyse everything
                self.known = {}

    def record(self, item: ScoredKpi, places: int) -> dict | None:
        """``gap_record(analyse(…))`` of ``item``, from an earlier run when everything it depends on is the same."""
        key = entry_key(item, places)
        if key in self.known:
            return self.known[key]
        from .gap import analyse, gap_record  # sympy's solver: imported only when a gap must be computed

        gap = analyse(item.kpi, item.target, item.inputs, places)
        record = gap_record(gap, places)
        if gap is None or gap.complete:
            self.new[key] = record
        return record

    def save(self) -> None:
        """Keep the new records (with the earlier ones, up to ``MAX_ENTRIES``), if there are any."""
        if self.path is None or not self.new:
            return
        entries = {**self.known, **self.new} if len(self.known) + len(self.new) <= MAX_ENTRIES else dict(self.new)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".gaps-", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"format": FORMAT, "entries": entries}, fh, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, self.path)
            files = sorted(self.path.parent.glob("gaps-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in files[KEEP_FILES:]:
                old.unlink(missing_ok=True)
        except OSError:  # read-only or full: the records are simply computed again next time
            pass
