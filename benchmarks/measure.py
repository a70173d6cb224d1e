"""What every benchmark of ``python -m benchmarks`` shares: medians, subprocess timing, peak memory, the machine.

Machines here are shared and noisy, so every figure is the median of several runs and is reported
as a ratio to a baseline measured in the same run, never as a bare number of seconds.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
KPI = str(Path(sys.executable).with_name("kpi"))


def median_time(runs: int, fn: Callable[[], Any], cpu: bool = False) -> tuple[float, Any]:
    """(median seconds over ``runs`` calls, the last result); ``cpu``: this process's CPU seconds, not the clock's."""
    clock = time.process_time if cpu else time.perf_counter
    times, result = [], None
    for _ in range(max(1, runs)):
        t0 = clock()
        result = fn()
        times.append(clock() - t0)
    return statistics.median(times), result


def run_time(cmd: Sequence[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> float:
    """Wall-clock seconds of one subprocess (it must succeed)."""
    t0 = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-1500:]}")
    return elapsed


def median_run(runs: int, cmd: Sequence[str], env: dict[str, str] | None = None) -> float:
    return statistics.median(run_time(cmd, env) for _ in range(max(1, runs)))


def peak_memory(fn: Callable[[], Any]) -> tuple[int, Any]:
    """(peak bytes allocated by Python and numpy while ``fn`` runs, its result)."""
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result


def machine() -> dict[str, str]:
    """The machine and the versions that matter for these figures."""
    from importlib.metadata import PackageNotFoundError, version

    def v(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "—"

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "—"
    return {
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}",
        "load average at start": load,
        "python": platform.python_version(),
        "versions": ", ".join(f"{p} {v(p)}" for p in ("sympy", "numpy", "pandas", "openpyxl", "pyyaml", "typer", "pyarrow")),
    }
