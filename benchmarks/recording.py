"""What every benchmark shares: best-of-N timing and recording one JSON line per run."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.jsonl"


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """(fastest seconds over ``repeat`` runs, the last result): the least-disturbed run is the fairest."""
    best, result = float("inf"), None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def record(benchmark: str, figures: dict[str, Any], keep: bool = True) -> dict[str, Any]:
    """Print the run's figures with date and machine; append them to results.jsonl unless ``keep`` is False."""
    result = {"benchmark": benchmark, "when": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
              **figures}
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if keep:
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(result, ensure_ascii=False) + "\n")
    return result
