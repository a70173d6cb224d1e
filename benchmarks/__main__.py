"""``python -m benchmarks [--tiny] [--runs N] [--out FILE]``: every benchmark, written to benchmarks/RESULTS.md.

Each figure is the median of ``--runs`` runs and is reported as a ratio to a baseline measured in
the same run (seconds are printed too, but they depend on the machine and its load). ``--tiny``
runs everything at a toy size, once, to show that it runs (CI does this; nothing is judged).

Goals (issue 11): 1 start-up, 2 linear growth, 3 no re-parsing (caches), 4 the panel path.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from .bare_read import read_file
from .measure import KPI, PYTHON, ROOT, machine, median_run, median_time, peak_memory, run_time

YEAR = "107"
SECTIONS = ("start-up", "growth", "validation", "formulas", "panel")


class Report:
    """The rows of RESULTS.md, by section."""

    def __init__(self) -> None:
        self.sections: list[tuple[str, str, list[list[str]]]] = []

    def section(self, title: str, note: str, header: list[str]) -> list[list[str]]:
        rows: list[list[str]] = [header]
        self.sections.append((title, note, rows))
        return rows

    def markdown(self, head: dict[str, str]) -> str:
        lines = ["# Benchmark results", "", "Written by `python -m benchmarks` (see benchmarks/README.md). "
                 "Ratios are what to compare; seconds depend on the machine and its load.", ""]
        lines += [f"* **{k}:** {v}" for k, v in head.items()]
        for title, note, rows in self.sections:
            lines += ["", f"## {title}", "", note, "", "| " + " | ".join(rows[0]) + " |",
                      "|" + "---|" * len(rows[0])]
            lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(lines) + "\n"


def s(x: float) -> str:
    return f"{x:.3f} s" if x < 10 else f"{x:.1f} s"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×"


# --- goal 1: start-up -------------------------------------------------------------------------


def startup(rep: Report, runs: int, cache: Path) -> None:
    env = {"KPI_CACHE_DIR": str(cache)}
    score = [KPI, "score", "--year", YEAR, "--sample"]  # the shipped workbooks: what the baseline reads
    run_time(score, env)  # fill the caches, as any earlier run would have
    run_time([KPI, "agencies"], env)  # and the agency index (catalog_index)
    base = median_run(runs, [PYTHON, "-c", "import typer, yaml"])
    rows = rep.section("Goal 1 — start-up", "Each command as a user runs it (a new process), caches warm. "
                       "Baseline for `--help`/`agencies`: `python -c \"import typer, yaml\"`; for `score`: a bare "
                       "openpyxl read-only pass over every cell of the same 33 workbooks (`benchmarks/bare_read.py`).",
                       ["command", "median", "baseline", "ratio", "goal"])
    for args in (["--help"], ["agencies"]):
        t = median_run(runs, [KPI, *args], env)
        rows.append([f"`kpi {' '.join(args)}`", s(t), s(base), ratio(t, base), "≤ 1.5×"])
    bare = median_run(runs, [PYTHON, str(ROOT / "benchmarks" / "bare_read.py"), str(ROOT / "actuals" / YEAR)])
    t = median_run(runs, score, env)
    rows.append([f"`kpi score --year {YEAR} --sample`", s(t), s(bare), ratio(t, bare), "≤ 1.5×"])
    cold = []
    for _ in range(max(1, runs)):
        fresh = Path(tempfile.mkdtemp(prefix="kpi-cold-"))
        cold.append(run_time(score, {"KPI_CACHE_DIR": str(fresh)}))
        shutil.rmtree(fresh, ignore_errors=True)
    c = statistics.median(cold)
    rows.append([f"`kpi score --year {YEAR} --sample`, caches empty (first run)", s(c), s(bare), ratio(c, bare), "—"])
    rows.append(["  same, caches warm ÷ empty (goal 3: no re-parsing)", s(t), s(c), ratio(t, c), "< 1×"])


# --- goal 2: linear growth --------------------------------------------------------------------


def growth_run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, dict]:
    """(wall-clock seconds, CPU seconds of the whole process, the timings it measured inside) of one growth run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu, json.loads(proc.stdout)


def growth(rep: Report, runs: int, cache: Path, sizes: list[int], work: Path) -> None:
    """Work inside the process (load + score) and the whole process, per KPI, at ×1 / ×10 / ×100 the catalog."""
    from .growth import write_copies

    env = {"KPI_CACHE_DIR": str(cache)}
    rows = rep.section("Goal 2 — linear growth", "The catalog copied under renamed agency codes "
                       "(`benchmarks/growth.py`), scored from every KPI's test inputs in a new process, caches warm. "
                       "Times per KPI are CPU seconds (user + system), which a loaded machine does not inflate as it "
                       "does wall-clock time. **work** = load + score, timed inside the process: what grows with the "
                       "catalog. **process** = the whole run, which also holds fixed costs any run pays once "
                       "(interpreter, imports, exit — **fixed** = process − work − building the inputs). **wall** = "
                       "the whole run by the clock (the < 15 s goal). **added per KPI** = the work this size adds over "
                       "the size before, per KPI added (the slope of time against KPIs, without any fixed part). "
                       "Baseline: the time per KPI of the real catalog (×1) in the same run.",
                       ["catalog", "KPIs", "work", "work per KPI", "÷ ×1", "added per KPI", "÷ ×1", "process",
                        "process per KPI", "÷ ×1", "fixed", "wall", "goal"])
    base_work = base_proc = None
    previous = (0, 0.0)
    for copies in sizes:
        root = write_copies(ROOT, work / f"x{copies}", copies)
        cmd = [PYTHON, "-m", "benchmarks.growth", str(root)]
        n = growth_run(cmd, env)[2]["kpis"]  # warms the caches, counts the KPIs
        results = [growth_run(cmd, env) for _ in range(max(1, runs))]
        wall = statistics.median(r[0] for r in results)
        proc = statistics.median(r[1] for r in results)
        work_s = statistics.median(r[2]["work_cpu_s"] for r in results)
        fixed = statistics.median(r[1] - r[2]["work_cpu_s"] - r[2]["inputs_cpu_s"] for r in results)
        per_work, per_proc = work_s / n, proc / n
        base_work, base_proc = base_work or per_work, base_proc or per_proc
        goal = "±20% (work)" + ("; < 15 s" if n >= 40000 else "")
        added = (work_s - previous[1]) / (n - previous[0])
        previous = (n, work_s)
        rows.append([f"×{copies}", f"{n:,}", s(work_s), f"{per_work * 1000:.3f} ms", f"{per_work / base_work:.2f}×",
                     f"{added * 1000:.3f} ms", f"{added / base_work:.2f}×", s(proc), f"{per_proc * 1000:.3f} ms",
                     f"{per_proc / base_proc:.2f}×", s(fixed), s(wall), goal])
        shutil.rmtree(root, ignore_errors=True)


def big_workbook(copies: int, work: Path):
    """(path, engine) of one agency's filled workbook holding moj's 17 KPIs ``copies`` times (≈ 211 rows each)."""
    import yaml

    from kpiengine.engine import Engine
    from kpiengine.workbook.template import Fill, write_template

    src = yaml.safe_load((ROOT / "formulas" / "moj.yaml").read_text(encoding="utf-8"))
    tsrc = yaml.safe_load((ROOT / "targets" / YEAR / "moj.yaml").read_text(encoding="utf-8"))
    goals = len(src["goals"])
    root = work / f"wb{copies}"
    shutil.rmtree(root, ignore_errors=True)
    (root / "formulas").mkdir(parents=True)
    (root / "targets" / YEAR).mkdir(parents=True)
    shutil.copy(ROOT / "formulas" / "_shared.yaml", root / "formulas")
    shutil.copy(ROOT / "targets" / YEAR / "policy.yaml", root / "targets" / YEAR)
    f = dict(src, agency_code="big", agency="大機關")
    f["goals"] = {g + goals * n: t for n in range(copies) for g, t in src["goals"].items()}
    f["kpis"], targets, originals = [], {}, {}
    for n in range(copies):
        for k in src["kpis"]:
            g = k["goal_no"] + goals * n
            new_id = f"big.{g}.{k['kpi_no']}"
            kpi = dict(copy.deepcopy(k), id=new_id, goal_no=g)  # no shared objects: no YAML aliases
            kpi.pop("tests", None)  # keeps the file under the loader's size limit; values come from moj's
            kpi.pop("note", None)
            kpi["source"] = {"page": "—", "standard": "—"}
            f["kpis"].append(kpi)
            originals[new_id] = k["id"]
            if k["id"] in tsrc["targets"]:
                targets[new_id] = tsrc["targets"][k["id"]]
    (root / "formulas" / "big.yaml").write_text(yaml.safe_dump(f, allow_unicode=True), encoding="utf-8")
    (root / "targets" / YEAR / "big.yaml").write_text(
        yaml.safe_dump({"year": int(YEAR), "agency_code": "big", "targets": targets}, allow_unicode=True), encoding="utf-8")
    engine = Engine.load(root)
    if engine.catalog.agency("big") is None:
        raise RuntimeError("; ".join(p.message for p in engine.load_problems[:3]))
    moj = Engine.load(ROOT).catalog
    values = {}
    for kpi in engine.catalog.kpis:
        case = next((c for c in moj.kpi(originals[kpi.id]).tests if not c.expected_error), None)
        if case:
            values[kpi.id] = {s_: v for s_, v in case.inputs.items() if s_ in kpi.input_symbols}
    return write_template(engine, "big", int(YEAR), root, Fill(values=values)), engine


def validation(rep: Report, runs: int, sizes: list[int], work: Path) -> None:
    """One agency's workbook with its KPIs repeated: validate vs a bare read of the same file."""
    import openpyxl

    from kpiengine.workbook.validate import validate_workbook

    rows = rep.section("Goal 2 — validation of one workbook", "An agency's workbook with moj's 17 KPIs "
                       "repeated (values filled in), validated by `validate_workbook` (every row read: the run stops "
                       "if the workbook is refused); baseline: a bare openpyxl read-only pass over every cell of the "
                       "same file. CPU seconds of this process (which a loaded machine does not inflate).",
                       ["rows", "validate", "bare read", "ratio", "goal"])
    for copies in sizes:
        path, engine = big_workbook(copies, work)
        first = validate_workbook(path, engine)  # compiles the formulas once, as the first upload would
        if first.inputs is None or len(first.inputs.values) != len(engine.catalog.kpis):  # e.g. refused as too large
            raise RuntimeError(f"{path.name} ({copies}×) not read whole: "
                               + "; ".join(p.message for p in first.errors[:3]))
        t_bare, _ = median_time(runs, lambda path=path: read_file(path), cpu=True)
        t_val, v = median_time(runs, lambda path=path, engine=engine: validate_workbook(path, engine), cpu=True)
        n_rows = max(ws.max_row for ws in openpyxl.load_workbook(path, read_only=True).worksheets)
        rows.append([f"{n_rows:,}", s(t_val), s(t_bare), ratio(t_val, t_bare), "≤ 1.5×"])
        shutil.rmtree(path.parents[0], ignore_errors=True)


# --- goal 3: compiled formulas ----------------------------------------------------------------


def formulas(rep: Report, runs: int) -> None:
    """Exact evaluation from the cached programs vs walking the sympy tree (the earlier evaluator)."""
    from kpiengine.engine import Engine
    from kpiengine.evaluation import compile_kpi
    from kpiengine.formula import Undefined, evaluate

    engine = Engine.load(ROOT)
    work = []
    for kpi in engine.catalog.kpis:
        target = engine.catalog.target(kpi.id, int(YEAR))
        compiled = compile_kpi(kpi)
        for case in kpi.tests:
            work.append((compiled, {**(target.params if target else {}), **case.inputs}))

    def run(which: str) -> int:
        for compiled, values in work:
            v = dict(values)
            try:
                for symbol, f in compiled.definitions:
                    v[symbol] = evaluate(getattr(f, which), v)
                evaluate(getattr(compiled.formula, which), v)
            except (Undefined, KeyError):
                pass
        return len(work)

    t_tree, n = median_time(runs, lambda: run("expr"))
    t_prog, _ = median_time(runs, lambda: run("program"))
    rows = rep.section("Goal 3 — compiled formulas", "Every catalog test case evaluated exactly (Fractions). "
                       "Baseline: walking the sympy tree, as `kpi score` did before programs.",
                       ["evaluator", "median", "baseline", "ratio", "evaluations/s"])
    rows.append(["program (cached, no sympy)", s(t_prog), s(t_tree), ratio(t_prog, t_tree), f"{n / t_prog:,.0f}"])


# --- goal 4: the panel path -------------------------------------------------------------------


def panel(rep: Report, runs: int, sizes: list[int], compare_rows: int) -> None:
    import time

    import numpy as np

    from kpiengine.engine import Engine, ScoredKpi, score_record
    from kpiengine.evaluation import compile_kpi
    from kpiengine.numbers import parse_exact
    from kpiengine.panel import PanelStats, _program, score_frame
    from kpiengine.panel_sample import sample_panel
    from kpiengine.workbook.reader import collect_actuals

    engine = Engine.load(ROOT)
    subs, _ = collect_actuals(ROOT / "actuals" / YEAR, engine, int(YEAR))
    score_frame(sample_panel(engine, 2, sample=subs), int(YEAR), engine)  # lambdify once (setup, not per unit)
    rows = rep.section("Goal 4 — panel path", "`score_frame` over a deterministic sample panel "
                       "(`kpiengine/panel_sample.py`: 5% of the cells repeat the sample workbooks' edge values, 20% are "
                       "blank, partial, zero or negative on purpose). Baseline: the lambdified formulas alone on the same "
                       "arrays (float only, no states, no checks, no fallback) — the floor. cells/s is wall-clock (the "
                       "machine is shared: it moves with the load); CPU cells/s divides by this process's CPU time "
                       "(`time.process_time`), steadier under load. Exact cells: within 10⁻⁹ of an edge or a half-point, "
                       "decided by exact int64 rationals (`kpiengine/panel_exact.py`) or, where those cannot, by "
                       "`Engine.score_one` (Fraction evaluations: distinct rows per KPI). The last row is a panel without "
                       "the deliberate hard cases (`sample_panel(edges=False)`: every value scaled, none blank).",
                       ["units", "cells", "median", "float-only floor", "ratio", "cells/s", "CPU cells/s",
                        "exact cells", "Fraction evaluations", "peak memory"])
    realistic = sizes[1] if len(sizes) > 1 else sizes[0]
    for n, edges in [*((n, True) for n in sizes), (realistic, False)]:
        df = sample_panel(engine, n, sample=subs, edges=edges)
        walls, cpus, last = [], [], {}
        for _ in range(max(1, runs if n <= 10_000 else 1)):
            last["stats"] = PanelStats()
            w0, c0 = time.perf_counter(), time.process_time()
            result = score_frame(df, int(YEAR), engine, last["stats"])
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        t, cpu, stats = statistics.median(walls), statistics.median(cpus), last["stats"]
        floor_args = []
        for kpi in engine.catalog.kpis:
            target = engine.catalog.target(kpi.id, int(YEAR))
            if target is None or f"{kpi.id}:status" not in result.columns:
                continue
            prog = _program(kpi, compile_kpi(kpi), target)
            cols = [df[f"{kpi.id}:{s_}"].to_numpy() if f"{kpi.id}:{s_}" in df.columns else np.zeros(n) for s_ in prog.symbols]
            floor_args.append((prog.fn, cols))

        def floor(floor_args: list = floor_args) -> None:
            with np.errstate(all="ignore"):
                for fn, cols in floor_args:
                    fn(*cols)

        t_floor, _ = median_time(runs, floor)
        mem, _ = peak_memory(lambda df=df: score_frame(df, int(YEAR), engine))
        label = f"{n:,}" if edges else f"{n:,} realistic (no deliberate edges)"
        rows.append([label, f"{stats.cells:,}", s(t), s(t_floor), ratio(t, t_floor), f"{stats.cells / t:,.0f}",
                     f"{stats.cells / cpu:,.0f}", f"{stats.exact_cells / max(1, stats.cells):.1%}",
                     f"{stats.fraction_evaluations:,}", f"{mem / 2**20:,.0f} MiB"])
        if n == sizes[0] and edges:
            checked = mismatches = 0
            for kpi in engine.catalog.kpis:
                if f"{kpi.id}:status" not in result.columns:
                    continue
                target = engine.catalog.target(kpi.id, int(YEAR))
                cols = {s_: df[f"{kpi.id}:{s_}"].to_numpy() for s_ in kpi.input_symbols}
                got = [result[f"{kpi.id}:{f}"].to_numpy() for f in ("actual", "achievement", "achievement_raw", "light", "status")]
                for i in range(min(n, compare_rows)):
                    inputs = {s_: parse_exact(float(v[i])) for s_, v in cols.items() if not np.isnan(v[i])}
                    r = score_record(ScoredKpi(kpi, target, engine.score_one(kpi, int(YEAR), inputs), inputs), 2, gap=False)
                    want = (r["actual"], r["achievement"], r["achievement_raw"], r["light"], r["status"])
                    cell = tuple(None if (isinstance(x, float) and x != x) or x is None or str(x) == "nan" else x
                                 for x in (g[i] for g in got))
                    checked += 1
                    mismatches += cell != want
            rep.agreement = (checked, mismatches)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="toy sizes, one run: shows that everything runs (CI)")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (median); default 5, tiny 1")
    parser.add_argument("--out", type=Path, default=None, help="default benchmarks/RESULTS.md (tiny: a temporary file)")
    parser.add_argument("--only", choices=SECTIONS, action="append", default=None,
                        help="run only these sections (repeatable); the default file is then a temporary one")
    args = parser.parse_args()
    runs = args.runs or (1 if args.tiny else 5)
    partial = args.tiny or args.only
    out = args.out or (Path(tempfile.gettempdir()) / "kpiengine-RESULTS-partial.md" if partial
                       else ROOT / "benchmarks" / "RESULTS.md")
    head = {"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), **machine(),
            "runs per figure": f"{runs} (median)" + (" — tiny sizes" if args.tiny else "")}
    rep = Report()
    work = Path(tempfile.mkdtemp(prefix="kpi-bench-"))
    cache = work / "cache"
    try:
        for name, step in (
            ("start-up", lambda: startup(rep, runs, cache)),
            ("growth", lambda: growth(rep, runs, cache, [1, 2] if args.tiny else [1, 10, 100], work)),
            ("validation", lambda: validation(rep, runs, [1, 2] if args.tiny else [1, 10, 119], work)),  # ≈ 25,000 rows
            ("formulas", lambda: formulas(rep, runs)),
            ("panel", lambda: panel(rep, runs, [100, 200] if args.tiny else [1_000, 10_000, 100_000],
                                    20 if args.tiny else 1_000)),
        ):
            if args.only and name not in args.only:
                continue
            print(f"… {name}", file=sys.stderr, flush=True)
            step()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    checked, mismatches = getattr(rep, "agreement", (0, 0))
    head["panel agreement"] = f"{checked:,} cells of the smallest panel compared with the exact path: {mismatches} differ"
    text = rep.markdown(head)
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"written: {out}", file=sys.stderr)
    if mismatches:
        sys.exit(1)


if __name__ == "__main__":
    main()
