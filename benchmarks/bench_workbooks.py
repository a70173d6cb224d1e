"""Benchmark: reading and validating the sample workbooks, as a ratio against openpyxl alone.

Run:  .venv/bin/python benchmarks/bench_workbooks.py [--repeat 3]

Baseline: ``openpyxl.load_workbook(read_only=True)`` of every workbook in actuals/107 and one pass
over every cell value of every sheet (the least any importer must do). Measured: ``validate_workbook`` (safety checks, both formula/value loads, every rule) and the
whole ``Engine.score_year`` on what it read. The ratio validate ÷ baseline is the price of the
one-pass validation; it is recorded in benchmarks/results.jsonl with the date and machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bare_read import read_files  # noqa: E402  (benchmarks/ is the script folder)
from recording import best_of, record  # noqa: E402  (benchmarks/ is the script folder)

from kpiengine.engine import Engine
from kpiengine.workbook.reader import workbook_files
from kpiengine.workbook.validate import validate_workbook

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    engine = Engine.load(HERE.parent)
    files = workbook_files(HERE.parent / "actuals" / "107")
    t_base, _ = best_of(args.repeat, lambda: read_files(files))
    t_validate, validations = best_of(args.repeat, lambda: [validate_workbook(f, engine) for f in files])
    inputs = [v.inputs for v in validations if v.inputs is not None]
    t_score, items = best_of(args.repeat, lambda: engine.score_year(107, inputs))
    record("workbooks", {
        "workbooks": len(files), "kpis_scored": len(items),
        "openpyxl_load_s": round(t_base, 3), "validate_s": round(t_validate, 3), "score_s": round(t_score, 3),
        "ratio_validate_over_load": round(t_validate / t_base, 2),
        "ratio_score_over_load": round(t_score / t_base, 3),
    }, keep=not args.no_record)

if __name__ == "__main__":
    main()
