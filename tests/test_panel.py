"""The panel path agrees with the exact path, row by row, to the last displayed digit and the same light."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from kpiengine import panel
from kpiengine.engine import ScoredKpi, score_record
from kpiengine.numbers import parse_exact
from kpiengine.panel import PanelError, PanelStats, score_frame
from kpiengine.panel_sample import sample_panel
from kpiengine.workbook.reader import collect_actuals
from tests.conftest import assert_clean_failure

CASES = yaml.safe_load((Path(__file__).parent / "data" / "panel_cases.yaml").read_text(encoding="utf-8"))
ROWS = 10_000
CHECKED_PER_ROW = 2  # KPIs compared with the exact path on each row, rotating over the catalog


def _cell(result: pd.DataFrame, kpi_id: str, i: int) -> tuple:
    def clean(x):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA else x

    return tuple(clean(result[f"{kpi_id}:{f}"].iat[i]) for f in ("actual", "achievement", "achievement_raw", "light", "status"))


def _exact(engine, kpi, row: dict[str, float]) -> tuple:
    inputs = {s: parse_exact(v) for s, v in row.items() if not math.isnan(v)}
    scored = engine.score_one(kpi, 107, inputs)
    r = score_record(ScoredKpi(kpi, engine.catalog.target(kpi.id, 107), scored, inputs), 2, gap=False)
    return r["actual"], r["achievement"], r["achievement_raw"], r["light"], r["status"]


@pytest.fixture(scope="module")
def sample(engine, root):
    subs, _ = collect_actuals(root / "actuals" / "107", engine, 107)
    df = sample_panel(engine, ROWS, sample=subs)
    stats = PanelStats()
    return df, score_frame(df, 107, engine, stats), stats


def test_every_row_of_a_10000_row_sample_agrees_with_the_exact_path(engine, sample):
    """Every row, each against the exact path for CHECKED_PER_ROW KPIs (rotating: every KPI on ~40 rows);
    `python -m benchmarks` compares every cell of the same sample."""
    df, result, stats = sample
    kpis = [k for k in engine.catalog.kpis if f"{k.id}:status" in result.columns]
    assert len(result) == ROWS and len(kpis) == len(engine.catalog.kpis)
    assert 0 < stats.exact_cells < stats.cells / 4  # mostly vectorised, yet the edges went exact
    assert stats.fraction_evaluations == 0  # and exact int64 rationals decided every one of them
    rows: dict[str, list[int]] = {}
    for i in range(ROWS):
        for j in range(CHECKED_PER_ROW):
            rows.setdefault(kpis[(i * CHECKED_PER_ROW + j) % len(kpis)].id, []).append(i)
    for kpi in kpis:
        inputs = {s: df[f"{kpi.id}:{s}"].to_numpy() for s in kpi.input_symbols}
        got = [result[f"{kpi.id}:{f}"].to_numpy() for f in ("actual", "achievement", "achievement_raw", "light", "status")]
        for i in rows[kpi.id]:
            cell = tuple(None if (isinstance(x, float) and math.isnan(x)) or x is pd.NA or x is None else x
                         for x in (g[i] for g in got))
            row = {s: float(v[i]) for s, v in inputs.items()}
            assert cell == _exact(engine, kpi, row), (i, kpi.id, row)


def test_threads_change_nothing(engine, sample, monkeypatch):
    """KPIs are scored on several threads (panel._workers); one thread gives the very same frame and counts."""
    df, _, _ = sample
    monkeypatch.setattr(panel, "PARALLEL_FROM_ROWS", 1)  # the sample is below the size where threads pay
    monkeypatch.setenv("KPI_PANEL_THREADS", "2")
    assert panel._workers(len(df), len(engine.catalog.kpis)) == 2
    stats = PanelStats()
    threaded = score_frame(df, 107, engine, stats)
    monkeypatch.setenv("KPI_PANEL_THREADS", "1")
    assert panel._workers(len(df), len(engine.catalog.kpis)) == 1
    alone = PanelStats()
    pd.testing.assert_frame_equal(score_frame(df, 107, engine, alone), threaded)
    assert (alone.exact_cells, alone.fraction_cells, alone.cells) == (stats.exact_cells, stats.fraction_cells, stats.cells)


def test_a_panel_without_deliberate_edges_agrees_cell_by_cell(engine, root):
    """``sample_panel(edges=False)`` (the benchmark's "realistic" row): every value given and scaled;
    short decimals still land on half-points (x.xx5 after ÷ 4), and those cells go exact."""
    subs, _ = collect_actuals(root / "actuals" / "107", engine, 107)
    df = sample_panel(engine, 40, seed=7, sample=subs, edges=False)
    stats = PanelStats()
    result = score_frame(df, 107, engine, stats)
    assert not df.drop(columns="unit").isna().any().any()
    assert 0 < stats.exact_cells and stats.fraction_evaluations == 0
    for kpi in (k for k in engine.catalog.kpis if f"{k.id}:status" in result.columns):
        for i in range(len(df)):
            row = {s: float(df[f"{kpi.id}:{s}"].iat[i]) for s in kpi.input_symbols}
            assert _cell(result, kpi.id, i) == _exact(engine, kpi, row), (i, kpi.id, row)


def test_sample_covers_every_light_and_state(engine, sample):
    _, result, _ = sample
    lights = set().union(*(set(result[c].dropna()) for c in result.columns if c.endswith(":light")))
    states = set().union(*(set(result[c]) for c in result.columns if c.endswith(":status")))
    assert lights == {"green", "yellow", "red", "white"}
    assert {"scored", "no_data", "incomplete", "invalid", "undefined"} <= states


@pytest.mark.parametrize("case", CASES, ids=[f"{c['kpi']}-{c['status']}-{n}" for n, c in enumerate(CASES)])
def test_cases_where_floats_alone_are_wrong(engine, case):
    kpi = engine.catalog.kpi(case["kpi"])
    df = pd.DataFrame({f"{kpi.id}:{s}": [float(case["inputs"].get(s, np.nan))] for s in kpi.input_symbols})
    got = _cell(score_frame(df, 107, engine), kpi.id, 0)
    assert (got[0], got[1], got[3], got[4]) == (case["actual"], case["achievement"], case["light"], case["status"])
    assert got == _exact(engine, kpi, {s: float(case["inputs"].get(s, np.nan)) for s in kpi.input_symbols})


def test_the_float_alone_cases_really_need_the_fallback(engine, monkeypatch):
    """Without the fallback, each recorded case shows what `float_alone` says (so the cases test something)."""
    monkeypatch.setattr(panel, "TOLERANCE", -1.0)
    monkeypatch.setattr(panel, "_near_half", lambda v, places: np.zeros(v.shape, dtype=bool))
    for case in (c for c in CASES if "float_alone" in c):
        kpi = engine.catalog.kpi(case["kpi"])
        df = pd.DataFrame({f"{kpi.id}:{s}": [float(case["inputs"][s])] for s in kpi.input_symbols})
        got = _cell(score_frame(df, 107, engine), kpi.id, 0)
        assert (got[0], got[1], got[3]) != (case["actual"], case["achievement"], case["light"]), case["kpi"]


def test_the_fraction_path_runs_once_per_distinct_row(engine):
    """A cell at the target (hakka.3.1: after − before = 3.2) whose input is not certainly a short decimal
    (3.2 + 0.1 is 3.3000000000000003) goes to Engine.score_one — once per distinct row, across chunks too."""
    rows = [(3.2 + 0.1, 0.1)] * 5 + [(3.2 + 0.2, 0.2), (3.2 + 0.1, 0.1)]
    df = pd.DataFrame({"hakka.3.1:value_after": [a for a, _ in rows], "hakka.3.1:value_before": [b for _, b in rows]})
    stats = PanelStats()
    chunk = panel.CHUNK_ROWS
    try:
        panel.CHUNK_ROWS = 3
        result = score_frame(df, 107, engine, stats)
    finally:
        panel.CHUNK_ROWS = chunk
    kpi = engine.catalog.kpi("hakka.3.1")
    assert (stats.exact_cells, stats.fraction_cells, stats.fraction_evaluations) == (len(rows), len(rows), 2)
    for i, (after, before) in enumerate(rows):
        assert _cell(result, kpi.id, i) == _exact(engine, kpi, {"value_after": after, "value_before": before})


def test_light_bands_give_the_policys_light_and_the_edges_within_reach(engine):
    """``_Bands.decide`` at and around every edge: the light ``Policy.light_for`` gives the capped value,
    and "within TOLERANCE of an edge", for the real policy and for one whose edges nearly touch."""
    from fractions import Fraction

    from kpiengine.scoring import Band, Light, Policy

    close = Policy(107, (Band(Light.GREEN, Fraction(100)), Band(Light.YELLOW, Fraction(100) - Fraction(1, 10**8)),
                         Band(Light.WHITE, None)), cap=Fraction(120))
    for policy in (engine.policy(107), close):
        bands = panel._Bands(policy)
        values = np.array(sorted({e + d for e in bands.edges for d in (-1e-3, -1e-7, -1e-8, 0.0, 1e-8, 1e-7, 1e-3)}
                                 | {-5.0, 0.0, 50.0, 150.0}))
        light, near = bands.decide(values)
        for v, code, n in zip(values, light, near, strict=True):
            capped = min(Fraction(v), policy.cap)
            assert panel.LIGHTS[code] == policy.light_for(capped).value, (v, policy)
            assert n == any(abs(v - e) <= panel.TOLERANCE * max(1.0, abs(e)) for e in bands.edges), (v, policy)


def test_other_columns_and_the_index_are_kept(engine):
    df = pd.DataFrame({"unit": ["臺北市", "高雄市"], "mnd.1.1:done": [20, 18], "mnd.1.1:planned": [20, 20]},
                      index=["A", "B"])
    result = score_frame(df, 107, engine)
    assert list(result.index) == ["A", "B"] and list(result["unit"]) == ["臺北市", "高雄市"]
    assert list(result["mnd.1.1:light"]) == ["green", "yellow"]


@pytest.mark.parametrize(("frame", "says"), [
    ({"nosuch.1.1:x": [1.0]}, "找不到這些欄位的指標"),
    ({"mnd.1.1:done": ["二十"], "mnd.1.1:planned": [20]}, "非數字"),
    ({"mnd.1.1:done": [math.inf], "mnd.1.1:planned": [20]}, "無限大"),
    ({"mnd.1.1:done": [1e40], "mnd.1.1:planned": [20]}, "10 的 ±30 次方"),
])
def test_a_bad_panel_is_refused_in_chinese(engine, frame, says):
    with pytest.raises(PanelError, match=says):
        score_frame(pd.DataFrame(frame), 107, engine)


def test_kpi_score_panel_reads_parquet_and_csv(kpi_cli, tmp_path, engine):
    df = pd.DataFrame({"unit": ["甲", "乙", "丙"], "mnd.1.1:done": [20, 18, np.nan], "mnd.1.1:planned": [20, 20, 20]})
    df.to_parquet(tmp_path / "p.parquet")
    df.to_csv(tmp_path / "p.csv", index=False)
    for name in ("p.parquet", "p.csv"):
        proc = kpi_cli("score", "--year", "107", "--panel", str(tmp_path / name), "--format", "csv")
        assert proc.returncode == 0, proc.stderr
        got = pd.read_csv(__import__("io").StringIO(proc.stdout))
        assert list(got["mnd.1.1:light"].fillna("")) == ["green", "yellow", ""]
        assert list(got["mnd.1.1:status"]) == ["scored", "scored", "incomplete"]
    table = kpi_cli("score", "--year", "107", "--panel", str(tmp_path / "p.csv"))
    assert table.returncode == 0 and "mnd.1.1" in table.stdout and "3 個單位" in table.stdout


def test_kpi_score_panel_refuses_a_bad_file_cleanly(kpi_cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("nosuch.1.1:x\n1\n", encoding="utf-8")
    assert_clean_failure(kpi_cli("score", "--year", "107", "--panel", str(bad)), "找不到這些欄位的指標")
    assert_clean_failure(kpi_cli("score", "--year", "107", "--panel", str(tmp_path / "none.parquet")), "找不到檔案")
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    assert_clean_failure(kpi_cli("score", "--year", "107", "--panel", str(tmp_path / "x.xlsx")), ".parquet 或 .csv")


# --- probes of panel files as users send them (found by developer H; each a refusal in Chinese) ---

FILES_REFUSED = {  # file text → what the refusal must name
    "a row longer than the header shifts every value (pandas makes the extra cell the index)":
        ("mnd.1.1:done,mnd.1.1:planned\n1,2,3,4\n", "欄"),
    "a duplicated column (pandas renames the second mnd.1.1:done.1 and drops it silently)":
        ("mnd.1.1:done,mnd.1.1:done,mnd.1.1:planned\n1,2,3\n", "mnd.1.1:done"),
    "a symbol the KPI does not have (silently ignored; the row comes out invalid)":
        ("mnd.1.1:nosuch,mnd.1.1:planned\n1,2\n", "nosuch"),
    "no KPI column at all (nothing scored, exit 0)": ("foo,bar\n1,2\n", "指標"),
}


@pytest.mark.parametrize(("text", "says"), FILES_REFUSED.values(), ids=list(FILES_REFUSED))
def test_a_panel_file_that_would_be_misread_is_refused(engine, tmp_path, text, says):
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PanelError, match=says):
        score_frame(panel.read_panel(path), 107, engine)


def test_a_big5_csv_is_refused_as_not_utf8(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("單位,mnd.1.1:done,mnd.1.1:planned\n臺北市,20,20\n".encode("big5"))
    with pytest.raises(PanelError, match="UTF-8"):
        panel.read_panel(path)


NOT_NUMBERS = {
    "bool": [True, False],
    "datetime": pd.to_datetime(["2020-01-01", "2020-01-02"]),
    "timedelta": pd.to_timedelta([1, 2], unit="s"),
}


@pytest.mark.parametrize("values", NOT_NUMBERS.values(), ids=list(NOT_NUMBERS))
def test_a_parquet_column_that_is_not_numbers_is_refused(engine, tmp_path, values):
    path = tmp_path / "p.parquet"
    pd.DataFrame({"mnd.1.1:done": values, "mnd.1.1:planned": [20, 20]}).to_parquet(path)
    with pytest.raises(PanelError, match="非數字"):
        score_frame(panel.read_panel(path), 107, engine)


ODD_BUT_FINE = {  # a file that must score, with the light of its first row
    "a BOM": ("\ufeffmnd.1.1:done,mnd.1.1:planned\n20,20\n", "green"),
    "-0.0": ("mnd.1.1:done,mnd.1.1:planned\n-0.0,20\n", "white"),
    "nan is not filled": ("mnd.1.1:done,mnd.1.1:planned\nnan,20\n", None),
    "header only": ("mnd.1.1:done,mnd.1.1:planned\n", "no rows"),
}


@pytest.mark.parametrize(("text", "light"), ODD_BUT_FINE.values(), ids=list(ODD_BUT_FINE))
def test_odd_but_valid_panel_files_score(engine, tmp_path, text, light):
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    result = score_frame(panel.read_panel(path), 107, engine)
    if light == "no rows":
        assert len(result) == 0
    else:
        got = result["mnd.1.1:light"].iloc[0]
        assert (None if pd.isna(got) else got) == light


REFUSED_CLEANLY = {
    "text in a number column": ("mnd.1.1:done,mnd.1.1:planned\nabc,20\n", "非數字"),
    "1e308": ("mnd.1.1:done,mnd.1.1:planned\n1e308,20\n", "±30 次方"),
    "inf": ("mnd.1.1:done,mnd.1.1:planned\ninf,20\n", "無限大"),
    "an empty file": ("", "無法讀取"),
    "an unclosed quote": ('mnd.1.1:done,mnd.1.1:planned\n"1\n', "無法讀取"),
    "a NUL in a number": ("mnd.1.1:done,mnd.1.1:planned\n1\x00,2\n", "非數字"),
}


@pytest.mark.parametrize(("text", "says"), REFUSED_CLEANLY.values(), ids=list(REFUSED_CLEANLY))
def test_kpi_score_panel_refuses_bad_values_cleanly(kpi_cli, tmp_path, text, says):
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    assert_clean_failure(kpi_cli("score", "--year", "107", "--panel", path), "[panel]", says)


@pytest.mark.parametrize("typed", ["123456789012345678901", "-123456789012345678901", "12345678901234567890",
                                   "9007199254740993"])
def test_a_long_integer_is_refused_as_too_wide_not_as_text(engine, tmp_path, typed):
    """Wider than a float holds exactly (2^53): refused, never silently rounded, and not called text."""
    path = tmp_path / "p.csv"
    path.write_text(f"mnd.1.1:done,mnd.1.1:planned\n{typed},20\n", encoding="utf-8")
    with pytest.raises(PanelError, match="超過 15 位數的整數"):
        score_frame(panel.read_panel(path), 107, engine)


def test_an_integer_a_float_holds_exactly_is_scored(engine, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("mnd.1.1:done,mnd.1.1:planned\n9007199254740992,9007199254740992\n", encoding="utf-8")
    assert list(score_frame(panel.read_panel(path), 107, engine)["mnd.1.1:status"]) == ["scored"]
