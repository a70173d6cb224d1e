"""``kpi score --panel`` at the command line: bounded before pandas reads the file; CSV safe to open in Excel."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.conftest import assert_clean_failure

HEADER = "mnd.1.1:done,mnd.1.1:planned"


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(kpi_cli, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "\n" + "20,20\n" * 1000, encoding="utf-8")
    proc = kpi_cli("score", "--year", "107", "--panel", path, env={"KPI_MAX_PANEL_MB": "0.001"})
    assert_clean_failure(proc, "[panel-too-large]", "p.csv", "KPI_MAX_PANEL_MB")


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "abc"])
def test_a_nonsense_size_limit_is_the_default(kpi_cli, tmp_path, value):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "\n20,20\n", encoding="utf-8")
    proc = kpi_cli("score", "--year", "107", "--panel", path, env={"KPI_MAX_PANEL_MB": value})
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_million_columns_are_refused_before_pandas_parses_them(kpi_cli, tmp_path, suffix):
    """pandas alone needs minutes for a header of a million columns: the count is read first."""
    path = tmp_path / f"p{suffix}"
    if suffix == ".csv":
        path.write_text(",".join(f"c{i}" for i in range(1_000_000)) + "\n", encoding="utf-8")
        count = "1,000,000 欄"
    else:
        pd.DataFrame({f"c{i}": [0.0] for i in range(5000)}).to_parquet(path)
        count = "5,000 欄"
    proc = kpi_cli("score", "--year", "107", "--panel", path, memory_mb=2048)
    assert_clean_failure(proc, "[panel-columns]", count)


def test_csv_output_is_safe_to_open_in_a_spreadsheet(kpi_cli, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('unit,=cmd|calc,' + HEADER + '\n=HYPERLINK("http://x"),@SUM(1),20,20\n', encoding="utf-8")
    proc = kpi_cli("score", "--year", "107", "--panel", path, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("\ufeff")
    got = pd.read_csv(io.StringIO(proc.stdout.lstrip("\ufeff")), index_col=0)
    assert list(got["unit"]) == ["'=HYPERLINK(\"http://x\")"]
    assert "'=cmd|calc" in got.columns and list(got["'=cmd|calc"]) == ["'@SUM(1)"]
    assert list(got["mnd.1.1:light"]) == ["green"]


def test_a_compressed_parquet_too_many_cells_is_refused_before_it_is_read(kpi_cli, tmp_path):
    """A small parquet can hold far more cells than its size suggests: counted from its metadata."""
    path = tmp_path / "bomb.parquet"
    pd.DataFrame({"mnd.1.1:done": [0.0] * 1_000_000, "mnd.1.1:planned": [1.0] * 1_000_000}).to_parquet(path)
    assert path.stat().st_size < 1024 * 1024
    proc = kpi_cli("score", "--year", "107", "--panel", path, env={"KPI_MAX_PANEL_MB": "1"}, memory_mb=2048)
    assert_clean_failure(proc, "[panel-too-large]", "1,000,000 列 × 2 欄")


@pytest.mark.parametrize("extra", [["--sample"], ["--as-of", "2019-01-31"], ["--actuals", "."]])
def test_options_the_panel_would_ignore_are_refused(kpi_cli, tmp_path, extra):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "\n20,20\n", encoding="utf-8")
    assert_clean_failure(kpi_cli("score", "--year", "107", "--panel", path, *extra), "[panel]", extra[0])


def test_a_folder_named_as_the_panel_is_refused_as_a_folder(kpi_cli, tmp_path):
    (tmp_path / "p.csv").mkdir()
    assert_clean_failure(kpi_cli("score", "--year", "107", "--panel", tmp_path / "p.csv"), "[panel]", "是資料夾")
