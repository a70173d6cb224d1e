"""The growth fixture: the catalog copied under renamed agency codes (×10, ×100), and one timed scoring run.

``write_copies(root, out, copies)`` writes ``out/formulas`` and ``out/targets/<year>`` holding the
real catalog plus ``copies - 1`` renamed copies of every agency (``moj`` → ``moj_c2`` …, KPI ids
and Chinese names renamed to match), so ×100 is 47,000 KPIs with the same formulas and targets.

``python -m benchmarks.growth ROOT`` (a fresh process, as a user's would be) loads the engine from
ROOT, scores the year from every KPI's hand-worked test inputs and prints the timings as JSON.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import yaml

YEAR = 107


def _rename(code: str, n: int) -> str:
    return code if n == 1 else f"{code}_c{n}"


def write_copies(root: Path, out: Path, copies: int) -> Path:
    """The catalog of ``root`` with ``copies`` copies of every agency, written under ``out``."""
    if out.exists():
        shutil.rmtree(out)
    (out / "formulas").mkdir(parents=True)
    (out / "targets" / str(YEAR)).mkdir(parents=True)
    shutil.copy(root / "formulas" / "_shared.yaml", out / "formulas" / "_shared.yaml")
    shutil.copy(root / "targets" / str(YEAR) / "policy.yaml", out / "targets" / str(YEAR) / "policy.yaml")
    load = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    dump = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    for path in sorted((root / "formulas").glob("*.yaml")):
        if path.name == "_shared.yaml":
            continue
        code = path.stem
        formulas = yaml.load(path.read_text(encoding="utf-8"), Loader=load)
        tpath = root / "targets" / str(YEAR) / path.name
        targets = yaml.load(tpath.read_text(encoding="utf-8"), Loader=load) if tpath.exists() else None
        for n in range(1, copies + 1):
            new = _rename(code, n)
            f = dict(formulas, agency_code=new, agency=formulas["agency"] + ("" if n == 1 else f"（副本{n}）"))
            f["kpis"] = [dict(k, id=new + k["id"][len(code):]) for k in formulas.get("kpis") or []]
            (out / "formulas" / f"{new}.yaml").write_text(yaml.dump(f, Dumper=dump, allow_unicode=True), encoding="utf-8")
            if targets is not None:
                t = dict(targets, agency_code=new)
                t["targets"] = {new + k[len(code):]: v for k, v in (targets.get("targets") or {}).items()}
                (out / "targets" / str(YEAR) / f"{new}.yaml").write_text(yaml.dump(t, Dumper=dump, allow_unicode=True),
                                                                        encoding="utf-8")
    return out


def main(root: Path) -> dict:
    """Load and score ``root``'s catalog once (in this process) and return the timings.

    ``import_s`` (the package's imports) is a fixed cost of any run, whatever the catalog's size;
    ``load_s`` + ``score_s`` (``work_s``; ``work_cpu_s`` in CPU seconds, which a loaded machine does
    not inflate) is the work that should grow linearly with the number of KPIs.
    """
    t_import = time.perf_counter()
    from kpiengine.engine import AgencyInputs, Engine

    t0, c0 = time.perf_counter(), time.process_time()
    engine = Engine.load(root)
    t1, c1 = time.perf_counter(), time.process_time()
    values: dict[str, dict[str, dict]] = {}
    for kpi in engine.catalog.kpis:
        case = next((c for c in kpi.tests if not c.expected_error), None)
        if case is not None:
            values.setdefault(kpi.agency_code, {})[kpi.id] = {s: v for s, v in case.inputs.items()
                                                            if s in kpi.input_symbols}
    inputs = [AgencyInputs(code, YEAR, v, source="benchmark") for code, v in values.items()]
    t2, c2 = time.perf_counter(), time.process_time()
    items = engine.score_year(YEAR, inputs)
    t3, c3 = time.perf_counter(), time.process_time()
    return {"kpis": len(items), "scored": sum(1 for i in items if i.score.light is not None),
            "import_s": t0 - t_import, "load_s": t1 - t0, "inputs_s": t2 - t1, "score_s": t3 - t2,
            "work_s": (t1 - t0) + (t3 - t2), "work_cpu_s": (c1 - c0) + (c3 - c2), "inputs_cpu_s": c2 - c1,
            "total_s": t3 - t_import}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
