"""One-pass validation of an uploaded workbook: every problem, each with a code, sheet and cell.

Checks, in order: the file itself (``safety``), its identity (agency, year, template version),
its structure (keys missing, unknown, duplicated), every value (``values``), and each KPI as a
whole (partly filled, a denominator of 0 via ``evaluate_kpi``, far from past actuals). The result
also carries the ``AgencyInputs`` the engine scores, unless the workbook's identity is unusable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..engine import AgencyInputs, Engine, bulk
from ..evaluation import State, evaluate_kpi
from ..filehash import file_sha256
from ..messages import Problem, shorten
from ..model import Kpi, Target
from ..numbers import display, fraction_text
from ..stages import uncounted_stages
from . import layout as L
from .errors import wb_problem
from .parse import KeyedCell, ParsedWorkbook, parse_workbook
from .safety import Limits
from .values import normalise_text, parse_cell

OUTLIER_FACTOR = 3  # an actual more than 3× (or less than ⅓ of) the past values is worth a warning

RATING_ALIASES = {
    **{label: label for label in L.RATING_LABELS},
    **{label[0]: label for label in L.RATING_LABELS},
    "green": "綠燈", "yellow": "黃燈", "red": "紅燈", "white": "白燈",
}


# Warnings that, if right, mean the value scored is not the one meant — and so the light is wrong:
# a percent typed as a fraction (0.9 for 90%) scores 45.95% 白燈, a value far from the past is
# usually a unit slip. ``kpi submit`` refuses them unless acknowledged (--confirm-warnings).
CONFIRM_CODES = frozenset({"wb-percent-fraction", "wb-outlier", "wb-stage-order", "wb-nothing-filled"})

# Repeated problems of one code are shown once, with every cell, so that one error is not buried
# under a dozen identical warnings (a forgotten 初核 column). Code → what the group says.
GROUPED = {
    "wb-rating-missing": "已填數據但未選初核燈號",
    "wb-not-given": "未填報，將標示為「無資料」",
    "wb-percent-format": "儲存格為百分比格式，以百分數匯入",
    "wb-note-ignored": "有不屬於填報表的列，其文字未匯入；說明文字請寫在「績效衡量暨達成情形分析」欄",
    "wb-formula": "為公式，以計算結果匯入；建議直接填數值",
}
GROUP_FROM = 3


def group_repeats(problems: list[Problem]) -> list[Problem]:
    """Errors first, then warnings, then notes; ``GROUP_FROM`` or more of a groupable code become one problem."""
    counts: dict[str, int] = {}
    for p in problems:
        counts[p.code] = counts.get(p.code, 0) + 1
    out: list[Problem] = []
    done: set[str] = set()
    for p in problems:
        if p.code not in GROUPED or counts[p.code] < GROUP_FROM:
            out.append(p)
            continue
        if p.code in done:
            continue
        done.add(p.code)
        same = [q for q in problems if q.code == p.code]
        where = [f"{q.location.get('cell', '')}（{q.location.get('kpi', '')}）" for q in same]
        kpis = sorted({str(q.location["kpi"]) for q in same if q.location.get("kpi")})
        message = f"共 {len(same)} 處{GROUPED[p.code]}：" + "、".join(where[:30]) + ("等" if len(where) > 30 else "")
        out.append(Problem(p.code, message, p.severity,
                           {"file": p.location.get("file"), "sheet": p.location.get("sheet"), "count": len(same),
                            "cells": [q.location.get("cell") for q in same], "kpis": kpis}))
    order = {"error": 0, "warning": 1}
    return sorted(out, key=lambda q: order.get(q.severity, 2))


@dataclass
class Validation:
    """The outcome of validating one workbook."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    inputs: AgencyInputs | None = None
    agency_code: str | None = None
    year: int | None = None
    template_version: str | None = None
    kind: str | None = None
    sha256: str = ""
    cells: dict[str, KeyedCell] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def needs_confirmation(self) -> list[Problem]:
        """Warnings that would change a light if the value is wrong: submitting needs an explicit acknowledgement."""
        return [p for p in self.problems if p.code in CONFIRM_CODES]

    @property
    def ok(self) -> bool:
        return not self.errors and self.inputs is not None

    def as_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "ok": self.ok, "agency_code": self.agency_code, "year": self.year,
                "template_version": self.template_version, "kind": self.kind, "sha256": self.sha256,
                "errors": len(self.errors), "warnings": len(self.warnings),
                "problems": [p.as_dict() for p in self.problems]}


def validate_workbook(path: Path, engine: Engine, year: int | None = None, agency: str | None = None,
                      limits: Limits | None = None) -> Validation:
    """Validate ``path`` against the catalog; ``year`` / ``agency`` are what the caller expects it to be."""
    with bulk():  # tens of thousands of cells and records, none in a reference cycle
        return _validate(Path(path), engine, year, agency, limits)


def _validate(path: Path, engine: Engine, year: int | None, agency: str | None, limits: Limits | None) -> Validation:
    result = Validation(path)
    parsed = parse_workbook(path, limits)
    result.problems.extend(parsed.problems)
    if not parsed.readable:
        return result
    result.sha256 = file_sha256(path)
    fatal = _check_identity(parsed, engine, year, agency, result)
    if result.agency_code is None or result.year is None:
        return result
    kpis = engine.catalog.kpis_of(result.agency_code)
    by_key = _check_structure(parsed, engine, kpis, result)
    _check_unseen(parsed, engine, result)
    values, ratings, narratives = _read_values(parsed, engine, kpis, result.year, by_key, result)
    if values and all(v is None for row in values.values() for v in row.values()):
        # an untouched template would become the version in force and blank every KPI of the year
        result.problems.append(wb_problem("wb-nothing-filled", _loc(path, L.DATA_SHEET), count=len(values)))
    result.problems = group_repeats(result.problems)
    for p in result.problems:  # services.submit_workbook refuses these unless confirmed (--confirm-warnings)
        if p.code in CONFIRM_CODES:
            p.location["confirm"] = True
    if not fatal:
        result.inputs = AgencyInputs(result.agency_code, result.year, values, source=str(path),
                                     self_ratings=ratings, narratives=narratives, sample=result.kind == L.KIND_SAMPLE)
    return result


def _loc(path: Path, sheet: str | None = None, cell: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"file": path.name, "sheet": sheet, "cell": cell, **extra}


def _check_identity(parsed: ParsedWorkbook, engine: Engine, year: int | None, agency: str | None,
                    result: Validation) -> bool:
    """Agency, year, version of the workbook; True when the workbook must not be used for scoring."""
    path, meta = parsed.path, parsed.meta

    def at(field_name: str) -> dict[str, Any]:
        return _loc(path, L.META_SHEET, parsed.meta_cells.get(field_name), field=field_name)

    add = result.problems.append
    if not parsed.meta_sheet_found:
        add(wb_problem("wb-meta-missing", _loc(path, L.META_SHEET), sheet=L.META_SHEET, field="—"))
        return True
    code = str(meta.get(L.META_AGENCY) or "").strip()
    if not code:
        add(wb_problem("wb-meta-missing", at(L.META_AGENCY), sheet=L.META_SHEET, field=L.META_AGENCY))
        return True
    found = engine.catalog.agency(code)
    if found is None:
        add(wb_problem("wb-agency-unknown", at(L.META_AGENCY), agency_code=code))
        return True
    fatal = False
    if agency is not None:
        expected = engine.catalog.agency(agency)
        if expected is None or expected.code != found.code:
            add(wb_problem("wb-agency-mismatch", at(L.META_AGENCY), found=f"{found.name}（{found.code}）",
                           expected=agency if expected is None else f"{expected.name}（{expected.code}）"))
            fatal = True
    result.agency_code = found.code
    raw_year = meta.get(L.META_YEAR)
    try:
        wb_year = int(str(raw_year).strip())
    except (TypeError, ValueError):
        add(wb_problem("wb-meta-invalid", at(L.META_YEAR), field=L.META_YEAR, value=raw_year))
        result.year = year if year in engine.catalog.years else None
        return True
    if wb_year not in engine.catalog.years:
        add(wb_problem("wb-year-unknown", at(L.META_YEAR), year=wb_year,
                       years="、".join(str(y) for y in engine.catalog.years) or "無"))
        fatal = True
    if year is not None and wb_year != year:
        add(wb_problem("wb-year-mismatch", at(L.META_YEAR), found=wb_year, expected=year))
        fatal = True
    if wb_year in engine.catalog.years:
        result.year = wb_year
    elif year in engine.catalog.years:
        result.year = year
    elif engine.catalog.years:
        result.year = max(engine.catalog.years)
    version = str(meta.get(L.META_VERSION) or "").strip()
    result.template_version = version or None
    if version != L.TEMPLATE_VERSION:
        add(wb_problem("wb-template-version", at(L.META_VERSION), found=version or "（無）",
                       expected=L.TEMPLATE_VERSION))
    result.kind = str(meta.get(L.META_KIND) or "").strip() or None
    if result.kind == L.KIND_SAMPLE:
        add(wb_problem("wb-sample-data", at(L.META_KIND)))
    digest = str(meta.get(L.META_DIGEST) or "").strip()
    if result.year is not None and not fatal and digest != L.catalog_digest(engine.catalog.kpis_of(found.code), result.year):
        add(wb_problem("wb-catalog-changed", at(L.META_DIGEST)))
    return fatal


def _check_unseen(parsed: ParsedWorkbook, engine: Engine, result: Validation) -> None:
    """Values in hidden rows or columns (errors) and text in rows the template does not have (warnings)."""
    add = result.problems.append
    for sheet, cell, key in parsed.hidden:
        kpi_id, field_name = L.parse_key(key)
        kpi = engine.catalog.kpi(kpi_id)
        inp = kpi.input(field_name) if kpi else None
        label = inp.label if inp else {L.RATING: "初核燈號", L.NARRATIVE: "績效衡量暨達成情形分析"}.get(field_name, key)
        add(wb_problem("wb-hidden-input", _loc(parsed.path, sheet, cell, kpi=kpi_id, key=key), label=label, cell=cell))
    for sheet, cell, text, kpi_id in parsed.stray:
        add(wb_problem("wb-note-ignored", _loc(parsed.path, sheet, cell, kpi=kpi_id),
                       row=cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), text=shorten(text, 40), kpi_id=kpi_id))


def _check_structure(parsed: ParsedWorkbook, engine: Engine, kpis: tuple[Kpi, ...],
                     result: Validation) -> dict[str, KeyedCell]:
    """Keys: duplicated, unknown, missing. Returns the first cell of each key."""
    path, add = parsed.path, result.problems.append
    agency = engine.catalog.agency(result.agency_code or "")
    own = {k.id: k for k in kpis}
    by_key: dict[str, KeyedCell] = {}
    reported_unknown: set[str] = set()
    for c in parsed.cells:
        loc = _loc(path, c.sheet, c.key_cell, key=c.key)
        if c.key in by_key:
            first = by_key[c.key]
            add(wb_problem("wb-key-duplicate", loc, key=c.key, other=f"{first.sheet}!{first.key_cell}"))
            continue
        by_key[c.key] = c
        kpi = own.get(c.kpi_id)
        if kpi is None:
            if c.kpi_id not in reported_unknown:
                reported_unknown.add(c.kpi_id)
                other = engine.catalog.kpi(c.kpi_id)
                extra = f"（此為{other.agency}的指標，請確認是否貼錯檔案）" if other else ""
                add(wb_problem("wb-kpi-unknown", loc, kpi_id=c.kpi_id, agency=agency.name if agency else "本機關",
                               extra=extra))
            continue
        if not c.field.startswith("#") and kpi.input(c.field) is None:
            add(wb_problem("wb-input-unknown", loc, kpi_id=kpi.id, symbol=c.field))
        elif not c.field.startswith("#") and str(c.kind or "").strip() != kpi.input(c.field).domain.label:
            add(wb_problem("wb-layout-changed", _loc(path, c.sheet, c.cell, key=c.key), key=c.key, cell=c.cell,
                           expected=kpi.input(c.field).domain.label, found=shorten(str(c.kind or "（空白）"))))
    first_key: dict[str, str] = {}  # kpi id → its first key (one pass, not a scan of every key per KPI)
    for k, c in by_key.items():
        first_key.setdefault(c.kpi_id, k)
    for kpi in kpis:
        if kpi.id not in first_key:
            add(wb_problem("wb-kpi-missing", _loc(path, L.DATA_SHEET, kpi=kpi.id), kpi_id=kpi.id, name=kpi.name))
            continue
        mark = by_key.get(L.key(kpi.id, L.KPI_MARK)) or by_key[first_key[kpi.id]]
        for inp in kpi.inputs:
            if L.key(kpi.id, inp.symbol) not in by_key:
                add(wb_problem("wb-input-row-missing", _loc(path, mark.sheet, mark.key_cell, kpi=kpi.id,
                                                            key=L.key(kpi.id, inp.symbol)),
                               kpi_id=kpi.id, label=inp.label, symbol=inp.symbol))
    result.cells = by_key
    return by_key


def _read_values(parsed: ParsedWorkbook, engine: Engine, kpis: tuple[Kpi, ...], year: int,
                 by_key: dict[str, KeyedCell], result: Validation
                 ) -> tuple[dict[str, dict[str, Fraction | None]], dict[str, str], dict[str, str]]:
    path, add = parsed.path, result.problems.append
    values: dict[str, dict[str, Fraction | None]] = {}
    ratings: dict[str, str] = {}
    narratives: dict[str, str] = {}
    keyed = {c.kpi_id for c in by_key.values()}
    for kpi in kpis:
        if kpi.id not in keyed:
            continue
        row: dict[str, Fraction | None] = {}
        given: list[str] = []
        bad = False
        for inp in kpi.inputs:
            c = by_key.get(L.key(kpi.id, inp.symbol))
            row[inp.symbol] = None
            if c is None:
                bad = True
                continue
            loc = _loc(path, c.sheet, c.cell, kpi=kpi.id, key=c.key)
            raw = c.value
            if c.formula is not None:
                if raw is None or (isinstance(raw, str) and not raw.strip()):
                    add(wb_problem("wb-formula-no-cache", loc, label=inp.label, formula=c.formula))
                    given.append(inp.symbol)
                    bad = True
                    continue
            p = parse_cell(raw, c.number_format, inp)
            for code, params in p.errors:
                add(wb_problem(code, loc, **params))
            for code, params in p.notes:
                add(wb_problem(code, loc, **params))
            if c.formula is not None and p.given:
                add(wb_problem("wb-formula", loc, label=inp.label, formula=c.formula,
                               value=fraction_text(p.value) if p.value is not None else raw))
            if p.given:
                given.append(inp.symbol)
            if p.errors:
                bad = True
            row[inp.symbol] = p.value
        values[kpi.id] = row
        _read_rating(by_key.get(L.key(kpi.id, L.RATING)), kpi, bool(given), path, ratings, add)
        n = by_key.get(L.key(kpi.id, L.NARRATIVE))
        if n is not None and n.value is not None and str(n.value).strip():
            narratives[kpi.id] = str(n.value).strip()
        if not given:  # reported at the input cells the clerk would fill, not at the KPI's title row
            cells = [by_key[L.key(kpi.id, i.symbol)] for i in kpi.inputs if L.key(kpi.id, i.symbol) in by_key]
            mark = cells[0] if cells else by_key.get(L.key(kpi.id, L.KPI_MARK))
            add(wb_problem("wb-not-given", _loc(path, mark.sheet if mark else None,
                                                ",".join(c.cell for c in cells) if cells else (mark.key_cell if mark else None),
                                                kpi=kpi.id), kpi_id=kpi.id, name=kpi.name))
            continue
        missing = [i for i in kpi.inputs if i.symbol not in given and L.key(kpi.id, i.symbol) in by_key]
        if missing:
            cells = [by_key[L.key(kpi.id, i.symbol)] for i in missing]
            add(wb_problem("wb-partial", _loc(path, cells[0].sheet, ",".join(c.cell for c in cells), kpi=kpi.id),
                           kpi_id=kpi.id, labels="、".join(f"「{i.label}」（{c.cell}）" for i, c in zip(missing, cells, strict=True))))
            continue
        if bad:
            continue
        _check_kpi(kpi, engine.catalog.target(kpi.id, year), row, by_key, path, add)
    return values, ratings, narratives


def _read_rating(c: KeyedCell | None, kpi: Kpi, given: bool, path: Path, ratings: dict[str, str], add) -> None:
    if c is None:
        return
    text = normalise_text(str(c.value)) if c.value is not None else ""
    loc = _loc(path, c.sheet, c.cell, kpi=kpi.id, key=c.key)
    if not text:
        if given:
            add(wb_problem("wb-rating-missing", loc, kpi_id=kpi.id))
        return
    label = RATING_ALIASES.get(text) or RATING_ALIASES.get(text.lower())
    if label is None:
        add(wb_problem("wb-rating-invalid", loc, value=str(c.value).strip()))
        return
    ratings[kpi.id] = label


def _check_kpi(kpi: Kpi, target: Target | None, row: dict[str, Fraction | None], by_key: dict[str, KeyedCell],
               path: Path, add) -> None:
    """Whole-KPI checks on complete, well-formed inputs: a zero denominator, far from past actuals."""
    params = dict(target.params) if target else {}
    evaluation = evaluate_kpi(kpi, row, params)
    if evaluation.state is State.UNDEFINED:
        symbols = list(evaluation.zero_denominator_inputs or kpi.input_symbols)
        cells = [by_key[L.key(kpi.id, s)] for s in symbols if L.key(kpi.id, s) in by_key]
        labels = "、".join(f"{kpi.input(s).label}（{s}）" for s in symbols if kpi.input(s))
        add(wb_problem("wb-undefined", _loc(path, cells[0].sheet if cells else None,
                                            ",".join(c.cell for c in cells), kpi=kpi.id),
                       kpi_id=kpi.id, denominator=labels, cells="、".join(c.where for c in cells)))
        return
    if evaluation.state is not State.SCORED or evaluation.value is None:
        for p in evaluation.problems:
            add(Problem(p.code, p.message, p.severity, {"file": path.name, **p.location}))
        return
    skipped = uncounted_stages(kpi, row, params)
    if skipped is not None:
        missing, later = skipped
        cells = [by_key[L.key(kpi.id, s)] for s in (missing, *later) if L.key(kpi.id, s) in by_key]
        add(wb_problem("wb-stage-order", _loc(path, cells[0].sheet if cells else None,
                                              ",".join(c.cell for c in cells), kpi=kpi.id),
                       kpi_id=kpi.id, missing=kpi.input(missing).label,
                       later="、".join(f"「{kpi.input(s).label}」" for s in later),
                       actual=display(evaluation.value) + ("%" if kpi.unit in ("%", "％") else "")))
    if target is not None and is_outlier(evaluation.value, target):
        cells = [by_key[L.key(kpi.id, s)] for s in kpi.input_symbols if L.key(kpi.id, s) in by_key]
        past = "、".join(f"{y}年 {display(v)}" for y, v in sorted(target.past.items()))
        add(wb_problem("wb-outlier", _loc(path, cells[0].sheet if cells else None,
                                          ",".join(c.cell for c in cells), kpi=kpi.id),
                       kpi_id=kpi.id, actual=display(evaluation.value), past=past))


def is_outlier(actual: Fraction, target: Target) -> bool:
    """Far outside the past actuals (and the target): more than 3× the largest, or under ⅓ of the smallest."""
    if not target.past:
        return False
    refs = [*target.past.values(), target.value]
    biggest = max(abs(r) for r in refs)
    smallest = min(refs)
    return (biggest > 0 and abs(actual) > OUTLIER_FACTOR * biggest) or (smallest > 0 and actual < smallest / OUTLIER_FACTOR)
