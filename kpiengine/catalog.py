"""Loads the catalog (``formulas/``, ``targets/<year>/``) into frozen records and checks it.

This is the I/O edge of the core: YAML in, ``Catalog`` + a list of ``Problem`` out. Loading never
raises on bad data; every problem is collected so ``kpi check`` can list them all at once.
"""

from __future__ import annotations

import keyword
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from .catalog_root import BUNDLED_ROOT, CHECKOUT_ROOT, SHARED_FILE, CatalogNotFound, find_root, has_catalog  # noqa: F401 (re-exported)
from .evaluation import State, compile_kpi, evaluate_kpi
from .formula import FUNCTIONS, FormulaError
from .messages import Problem, problem, shorten
from .model import (
    Agency,
    Catalog,
    Component,
    Definition,
    Direction,
    Domain,
    Input,
    Kpi,
    Param,
    Stage,
    Target,
    TestCase,
)
from .numbers import NumberError, fraction_text, parse_exact, to_decimal
from .scoring import Policy
from .yaml_cache import ParsedYaml
from .yamlfile import YamlError, load_yaml

SYMBOL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
RESERVED = set(FUNCTIONS) | {"True", "False", "None"}
COMPARATORS = {">=", "<=", "="}
EXPECTED_COMPARATOR = {
    Direction.HIGHER: {">="}, Direction.STANDARDS: {">="}, Direction.MILESTONE: {">="},
    Direction.BINARY: {">=", "="}, Direction.LOWER: {"<="},
}


MAX_TEST_PLACES = 12  # a test case compares at most this many decimals


def _read_yaml(path: Path, problems: list[Problem], label: str | None = None, cache: ParsedYaml | None = None) -> Any:
    """The file's data through the one safe YAML loader (or its cache of earlier parses of the same bytes);
    a problem (and None) if it cannot be read."""
    try:
        return cache.load(path, label) if cache is not None else load_yaml(path, label)
    except YamlError as exc:
        problems.append(problem("catalog-yaml", {"file": label or path.name}, detail=str(exc)))
        return None


class _Reader:
    """Reads one YAML mapping, recording schema problems instead of raising."""

    def __init__(self, problems: list[Problem], loc: dict[str, Any]):
        self.problems = problems
        self.loc = loc

    def bad(self, field: str, detail: str) -> None:
        self.problems.append(problem("catalog-schema", self.loc, field=field, detail=detail))

    def text(self, data: dict, key: str, required: bool = True, default: str | None = None) -> str | None:
        value = data.get(key, default)
        if value is None:
            if required:
                self.bad(key, "為必填")
            return default
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or (required and not value.strip()):
            self.bad(key, "必須是非空白文字")
            return default
        return value

    def integer(self, data: dict, key: str, required: bool = True) -> int | None:
        value = data.get(key)
        if value is None:
            if required:
                self.bad(key, "為必填")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(key, "必須是整數")
            return None
        return value

    def number(self, value: Any, key: str) -> Fraction | None:
        try:
            return parse_exact(value)
        except NumberError as exc:
            self.bad(key, f"不是可接受的數字（{exc}）：{shorten(repr(value) if not isinstance(value, str) else value)}")
            return None
        except (ValueError, TypeError):
            self.bad(key, f"不是數字：{shorten(repr(value))}")
            return None

    def enum(self, data: dict, key: str, enum_type, default=None):
        value = data.get(key, default)
        try:
            return enum_type(value)
        except ValueError:
            self.bad(key, f"必須是 {'/'.join(e.value for e in enum_type)} 之一（現為 {value!r}）")
            return None


def _symbol_ok(symbol: Any) -> bool:
    return isinstance(symbol, str) and bool(SYMBOL_RE.match(symbol)) and not keyword.iskeyword(symbol) \
        and symbol not in RESERVED


def load_catalog(root: Path) -> tuple[Catalog, list[Problem]]:
    """Load every agency file and every year's targets under ``root``."""
    problems: list[Problem] = []
    cache = ParsedYaml(root)
    formulas_dir = root / "formulas"
    shared: dict[str, dict] = {}
    shared_path = formulas_dir / SHARED_FILE
    if shared_path.exists():
        data = _read_yaml(shared_path, problems, f"formulas/{SHARED_FILE}", cache)
        shared = (data.get("shared") if isinstance(data, dict) else None) or {}
        if not isinstance(shared, dict):
            problems.append(problem("catalog-schema", {"file": SHARED_FILE}, field="shared", detail="必須是對照表"))
            shared = {}
    agencies: list[Agency] = []
    kpis: list[Kpi] = []
    files = sorted(p for p in formulas_dir.glob("*.yaml") if p.name != SHARED_FILE)
    loaded = []
    for path in files:
        data = _read_yaml(path, problems, f"formulas/{path.name}", cache)
        if not isinstance(data, dict):
            if data is not None:
                problems.append(problem("catalog-schema", {"file": path.name}, field="(檔案)", detail="必須是對照表"))
            continue
        loaded.append((path, data))
    loaded.sort(key=lambda pd: (pd[1].get("chapter") if isinstance(pd[1].get("chapter"), int) else 999, pd[0].name))
    for path, data in loaded:
        agency, agency_kpis = _load_agency(path, data, shared, problems)
        if agency:
            agencies.append(agency)
            kpis.extend(agency_kpis)
    targets: dict[int, dict[str, Target]] = {}
    targets_dir = root / "targets"
    for year_dir in sorted(p for p in targets_dir.glob("*") if p.is_dir() and p.name.isdigit()):
        year = int(year_dir.name)
        targets[year] = {}
        for path in sorted(year_dir.glob("*.yaml")):
            if path.name == "policy.yaml":
                continue
            data = _read_yaml(path, problems, f"targets/{year}/{path.name}", cache)
            if isinstance(data, dict):
                for t in _load_targets(path, year, data, problems):
                    if t.kpi_id in targets[year]:
                        problems.append(problem("catalog-duplicate-id", {"file": path.name}, kpi_id=t.kpi_id))
                    targets[year][t.kpi_id] = t
    cache.save()
    return Catalog(tuple(agencies), tuple(kpis), targets), problems


def _load_agency(path: Path, data: dict, shared: dict, problems: list[Problem]) -> tuple[Agency | None, list[Kpi]]:
    r = _Reader(problems, {"file": path.name})
    name = r.text(data, "agency")
    code = r.text(data, "agency_code")
    chapter = r.integer(data, "chapter")
    goals_raw = data.get("goals") or {}
    if not isinstance(goals_raw, dict):
        r.bad("goals", "必須是 編號: 文字 的對照表")
        goals_raw = {}
    goals = {int(k): str(v) for k, v in goals_raw.items() if str(k).isdigit()}
    if name is None or code is None:
        return None, []
    if code != path.stem:
        r.bad("agency_code", f"應與檔名相同（{path.stem}）")
    agency = Agency(name=name, code=code, chapter=chapter or 0, goals=goals)
    kpis = []
    for i, entry in enumerate(data.get("kpis") or []):
        if not isinstance(entry, dict):
            r.bad(f"kpis[{i}]", "必須是對照表")
            continue
        kpi = _load_kpi(path, agency, entry, shared, problems, i)
        if kpi:
            kpis.append(kpi)
    return agency, kpis


def _load_kpi(path: Path, agency: Agency, entry: dict, shared: dict, problems: list[Problem], index: int) -> Kpi | None:
    kpi_id = entry.get("id", f"kpis[{index}]")
    r = _Reader(problems, {"file": path.name, "kpi": kpi_id})
    if entry.get("shared"):
        base = shared.get(entry["shared"])
        if base is None:
            problems.append(problem("catalog-unknown-shared", r.loc, shared=entry["shared"]))
            return None
        source = {**(base.get("source") or {}), **(entry.get("source") or {})}
        entry = {**base, **entry, "source": source}
    goal_no = r.integer(entry, "goal_no")
    kpi_no = r.integer(entry, "kpi_no")
    name = r.text(entry, "name")
    system = r.integer(entry, "system")
    method = r.text(entry, "method")
    related = r.text(entry, "related", default="無")
    direction = r.enum(entry, "direction", Direction)
    unit = r.text(entry, "unit", required=False, default="") or ""
    formula = r.text(entry, "formula")
    source = entry.get("source") or {}
    if not isinstance(source, dict):
        r.bad("source", "必須是對照表")
        source = {}
    page = r.text(source, "page")
    standard = r.text(source, "standard")
    if system is not None and not 1 <= system <= 5:
        r.bad("system", "評估體制須為 1-5")
    if goal_no is not None and goal_no not in agency.goals:
        problems.append(problem("catalog-unknown-goal", r.loc, goal_no=goal_no))
    expected_id = f"{agency.code}.{goal_no}.{kpi_no}"
    if kpi_id != expected_id:
        problems.append(problem("catalog-id-mismatch", r.loc, kpi_id=kpi_id, goal_no=goal_no, kpi_no=kpi_no,
                                expected=expected_id))
    seen: set[str] = set()

    def declare(symbol: Any) -> bool:
        if not _symbol_ok(symbol):
            problems.append(problem("catalog-symbol-invalid", r.loc, symbol=symbol))
            return False
        if symbol in seen:
            problems.append(problem("catalog-symbol-duplicate", r.loc, symbol=symbol))
            return False
        seen.add(symbol)
        return True

    inputs = []
    for raw in entry.get("inputs") or []:
        if not isinstance(raw, dict) or not declare(raw.get("symbol")):
            continue
        dom = r.enum(raw, "domain", Domain)
        inputs.append(Input(raw["symbol"], r.text(raw, "label") or raw["symbol"], str(raw.get("unit") or ""),
                            dom or Domain.REAL))
    params = []
    for raw in entry.get("params") or []:
        if isinstance(raw, dict) and declare(raw.get("symbol")):
            params.append(Param(raw["symbol"], r.text(raw, "label") or raw["symbol"], str(raw.get("unit") or "")))
    definitions = []
    for raw in entry.get("definitions") or []:
        if isinstance(raw, dict) and declare(raw.get("symbol")):
            definitions.append(Definition(raw["symbol"], r.text(raw, "label") or raw["symbol"], r.text(raw, "expr") or "0"))
    tests = []
    for n, raw in enumerate(entry.get("tests") or [], start=1):
        if not isinstance(raw, dict):
            r.bad(f"tests[{n}]", "必須是對照表")
            continue
        values = {}
        for s, v in (raw.get("inputs") or {}).items():
            num = r.number(v, f"tests[{n}].inputs.{s}")
            if num is not None:
                values[str(s)] = num
        expected = r.number(raw["expected"], f"tests[{n}].expected") if raw.get("expected") is not None else None
        if expected is None and not raw.get("expected_error"):
            r.bad(f"tests[{n}]", "需要 expected 或 expected_error")
        places = raw.get("places")
        if places is not None and (isinstance(places, bool) or not isinstance(places, int)
                                   or not 0 <= places <= MAX_TEST_PLACES):
            r.bad(f"tests[{n}].places", f"必須是 0 到 {MAX_TEST_PLACES} 的整數（現為 {shorten(repr(places))}）")
            places = None
        tests.append(TestCase(values, expected, raw.get("expected_error"), places, str(raw.get("why") or "")))
    if None in (goal_no, kpi_no, name, system, method, direction, formula, page, standard):
        return None
    return Kpi(
        id=kpi_id, agency=agency.name, agency_code=agency.code, goal_no=goal_no,
        goal=agency.goals.get(goal_no, ""), kpi_no=kpi_no, name=name, system=system, method=method,
        related=related or "無", direction=direction, unit=unit, inputs=tuple(inputs), params=tuple(params),
        definitions=tuple(definitions), formula=formula, page=page, standard=standard,
        note=entry.get("note") or None, tests=tuple(tests), shared=entry.get("shared"),
        review_required=bool(entry.get("review_required", False)), source_file=path.name,
    )


def _load_targets(path: Path, year: int, data: dict, problems: list[Problem]) -> list[Target]:
    out = []
    if data.get("year") not in (None, year):
        problems.append(problem("catalog-schema", {"file": path.name}, field="year", detail=f"應為 {year}"))
    for kpi_id, raw in (data.get("targets") or {}).items():
        r = _Reader(problems, {"file": f"{year}/{path.name}", "kpi": kpi_id})
        if not isinstance(raw, dict):
            r.bad("(目標)", "必須是對照表")
            continue
        text = r.text(raw, "text")
        value = r.number(raw.get("value"), "value") if raw.get("value") is not None else None
        if raw.get("value") is None:
            r.bad("value", "為必填")
        comparator = str(raw.get("comparator", ">="))
        if comparator not in COMPARATORS:
            r.bad("comparator", f"必須是 {' / '.join(sorted(COMPARATORS))} 之一")
        params = {}
        for s, v in (raw.get("params") or {}).items():
            num = r.number(v, f"params.{s}")
            if num is not None:
                params[str(s)] = num
        components = tuple(Component(str(c.get("label", "")), str(c.get("target", "")), str(c.get("weight", "")))
                           for c in raw.get("components") or [] if isinstance(c, dict))
        stages = tuple(Stage(str(s.get("symbol", "")), str(s.get("text", "")),
                             r.number(s["value"], "stages.value") if s.get("value") is not None else None)
                       for s in raw.get("stages") or [] if isinstance(s, dict))
        past = {}
        for y, v in (raw.get("past") or {}).items():
            num = r.number(v, f"past.{y}")
            if num is not None and str(y).isdigit():
                past[int(y)] = num
        if text is None or value is None:
            continue
        out.append(Target(str(kpi_id), year, text, value, str(raw.get("unit") or ""), comparator, params,
                          components, stages, past, raw.get("note") or None))
    return out


def load_policy(root: Path, year: int) -> Policy:
    """The year's scoring policy from ``targets/<year>/policy.yaml`` (see ``policyfile``)."""
    from .policyfile import load_policy as _load

    return _load(root, year)


# --- checks ----------------------------------------------------------------------------------


def check_catalog(catalog: Catalog, load_problems: list[Problem], root: Path, agency: str | None = None) -> list[Problem]:
    """Every problem of the catalog at once: schema, formulas, symbols, ids, targets, tests, provenance."""
    problems = list(load_problems)
    kpis = catalog.kpis_of(agency)
    code = catalog.agency(agency).code if agency is not None and catalog.agency(agency) else None
    if code is not None:
        problems = [p for p in problems if p.location.get("file", "").endswith(f"{code}.yaml")
                    or p.location.get("kpi", "").startswith(f"{code}.")]
    seen: set[str] = set()
    for kpi in kpis:
        if kpi.id in seen:
            problems.append(problem("catalog-duplicate-id", {"file": kpi.source_file}, kpi_id=kpi.id))
        seen.add(kpi.id)
        problems.extend(_check_kpi(kpi, catalog))
    ids = {k.id for k in kpis}
    all_ids = {k.id for k in catalog.kpis}
    for year, year_targets in catalog.targets.items():
        for kpi_id in year_targets:
            if kpi_id not in all_ids and (code is None or kpi_id.startswith(f"{code}.")):
                problems.append(problem("target-orphan", {"kpi": kpi_id}, year=year))
    problems.extend(check_provenance(catalog, root, ids))
    from .policyfile import check_policy

    for year in catalog.years:
        problems.extend(check_policy(root, year)[1])
    return problems


def _check_kpi(kpi: Kpi, catalog: Catalog) -> list[Problem]:
    loc = {"file": kpi.source_file, "kpi": kpi.id}
    out: list[Problem] = []
    try:
        compiled = compile_kpi(kpi)
    except FormulaError as exc:
        return [problem("formula-rejected", loc, detail=str(exc))]
    used = set(compiled.formula.symbols).union(*(f.symbols for _, f in compiled.definitions))
    for inp in kpi.inputs:
        if inp.symbol not in used:
            out.append(problem("formula-symbol-unused", loc, symbol=inp.symbol))
    for year in catalog.years:
        target = catalog.target(kpi.id, year)
        if target is None:
            out.append(problem("target-missing", loc, year=year))
            continue
        declared = {p.symbol for p in kpi.params}
        for p in declared - set(target.params):
            out.append(problem("target-param-missing", loc, year=year, symbol=p))
        for p in set(target.params) - declared:
            out.append(problem("target-param-unknown", loc, year=year, symbol=p))
        if target.comparator not in EXPECTED_COMPARATOR[kpi.direction]:
            out.append(problem("target-comparator", loc, comparator=target.comparator, direction=kpi.direction.value))
        for stage in target.stages:
            if kpi.input(stage.symbol) is None:
                out.append(problem("target-stage-unknown", loc, symbol=stage.symbol))
    if not kpi.tests:
        out.append(problem("test-missing", loc))
    default_params = {}
    if catalog.years:
        t = catalog.target(kpi.id, max(catalog.years))
        default_params = dict(t.params) if t else {}
    for n, case in enumerate(kpi.tests, start=1):
        result = run_test_case(kpi, case, default_params)
        if result is not None:
            code, params = result
            out.append(problem(code, loc, n=n, **params))
    return out


def run_test_case(kpi: Kpi, case: TestCase, default_params: dict[str, Fraction]) -> tuple[str, dict] | None:
    """None if the case reproduces, else (problem code, template params)."""
    declared = set(kpi.input_symbols) | {p.symbol for p in kpi.params}
    for s in case.inputs:
        if s not in declared:
            return "test-input-unknown", {"symbol": s}
    params = {**default_params, **{s: v for s, v in case.inputs.items() if s not in kpi.input_symbols}}
    inputs = {s: v for s, v in case.inputs.items() if s in kpi.input_symbols}
    ev = evaluate_kpi(kpi, inputs, params)
    if case.expected_error:
        got_error = {State.UNDEFINED: "division_by_zero", State.INVALID: "invalid",
                     State.INCOMPLETE: "incomplete", State.NO_DATA: "no_data"}.get(ev.state)
        if got_error != case.expected_error:
            got = fraction_text(ev.value) if ev.value is not None else ev.state.value
            return "test-failed", {"expected": case.expected_error, "got": got}
        return None
    if ev.state is not State.SCORED or ev.value is None:
        detail = "；".join(p.message for p in ev.problems) or ev.state.value
        return "test-failed", {"expected": fraction_text(case.expected), "got": detail}
    if case.places is not None:
        ok = to_decimal(ev.value, case.places) == to_decimal(case.expected, case.places)
    else:
        ok = ev.value == case.expected
    if not ok:
        return "test-failed", {"expected": fraction_text(case.expected), "got": fraction_text(ev.value)}
    return None


# --- provenance: every extracted field is a subsequence of the agency's seed section ------------


def seed_sections(root: Path) -> dict[str, str]:
    """Agency name → its 貳 section text, from ``seeds/kpi_sections``."""
    out = {}
    for path in sorted((root / "seeds" / "kpi_sections").glob("*.txt")):
        name = path.stem.split("_", 1)[-1]
        out[name] = path.read_text(encoding="utf-8")
    return out


def subsequence_gap(needle: str, haystack: str, start: int = 0) -> tuple[int, int]:
    """(index in needle of the first char not found in order, end position in haystack).

    Returns (len(needle), end) when the whole needle is a subsequence of haystack[start:].
    Whitespace in the needle is ignored (YAML folding may add it).
    """
    pos = start
    for i, ch in enumerate(needle):
        if ch.isspace():
            continue
        found = haystack.find(ch, pos)
        if found < 0:
            return i, pos
        pos = found + 1
    return len(needle), pos


def _fields(kpi: Kpi, catalog: Catalog) -> list[tuple[str, str]]:
    """The extracted fields of a KPI, in the table's column order."""
    fields = [("goal", kpi.goal), ("name", kpi.name), ("standard", kpi.standard)]
    t = catalog.target(kpi.id, 107)
    if t is not None:
        fields.append(("target.text", t.text))
    return fields


def check_provenance(catalog: Catalog, root: Path, ids: set[str]) -> list[Problem]:
    """Each extracted field is a subsequence of the agency's section, and rows keep the seed's order.

    Row order: for each column (name, standard, target text), the fields of an agency's KPIs
    concatenated in catalog order must also be a subsequence — a KPI put in the wrong row, or a
    piece of text given to the wrong row, breaks it.
    """
    sections = seed_sections(root)
    if not sections:
        return []
    out = []
    for agency in catalog.agencies:
        text = sections.get(agency.name)
        kpis = [k for k in catalog.kpis_of(agency.code) if k.id in ids]
        if text is None or not kpis:
            continue
        for kpi in kpis:
            for field, value in _fields(kpi, catalog):
                i, _ = subsequence_gap(value, text)
                if i < len(value):
                    out.append(problem("provenance-not-found", {"file": kpi.source_file, "kpi": kpi.id}, field=field,
                                       position=i + 1, char=value[i]))
        for column in ("name", "standard", "target.text"):
            pos = 0
            for kpi in kpis:
                value = dict(_fields(kpi, catalog)).get(column, "")
                i, end = subsequence_gap(value, text, pos)
                if i < len(value):
                    out.append(problem("provenance-order", {"file": kpi.source_file, "kpi": kpi.id}, field=column))
                    break
                pos = end
    return out
