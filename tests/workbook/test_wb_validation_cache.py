"""Validation results kept between runs: the same result as validating afresh, and a miss on any change."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest
from wbhelpers import ROOT, YEAR, edit_workbook

from kpiengine import services
from kpiengine.engine import Engine
from kpiengine.workbook import validate, validation_cache
from kpiengine.workbook.reader import collect_actuals, read_workbook
from kpiengine.workbook.validation_cache import ValidationCache

SAMPLES = ROOT / "actuals" / str(YEAR)
MOJ = SAMPLES / "moj.xlsx"


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("KPI_CACHE_DIR", str(folder))
    monkeypatch.delenv("KPI_MAX_UPLOAD_MB", raising=False)
    return folder


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every workbook validated afresh from now on, in order."""
    seen: list[Path] = []
    real = validate.validate_workbook

    def counting(path, engine, *args, **kwargs):
        seen.append(Path(path))
        return real(path, engine, *args, **kwargs)

    monkeypatch.setattr(validate, "validate_workbook", counting)
    return seen


def assert_same(got, fresh) -> None:
    """Field by field, so that a difference names what differs."""
    (inputs, problems), (inputs0, problems0) = got, fresh
    assert (inputs is None) == (inputs0 is None)
    if inputs is not None:
        for f in dataclasses.fields(inputs):
            assert getattr(inputs, f.name) == getattr(inputs0, f.name), f.name
    assert len(problems) == len(problems0)
    for p, p0 in zip(problems, problems0, strict=True):
        for f in dataclasses.fields(p):
            assert getattr(p, f.name) == getattr(p0, f.name), (p0.code, f.name)
    assert got == fresh


def test_every_sample_workbook_reads_back_as_validated(engine: Engine, cache: Path, validations: list[Path]) -> None:
    files = sorted(SAMPLES.glob("*.xlsx"))
    assert len(files) == 33
    fresh = {}
    for path in files:
        v = validate.validate_workbook(path, engine)
        fresh[path] = (v.inputs, v.problems)
    assert all(inputs is not None and inputs.values and inputs.sample for inputs, _ in fresh.values())
    cold = ValidationCache(engine)
    for path in files:
        assert_same(cold.read(path, engine), fresh[path])
    cold.save()
    del validations[:]
    warm = ValidationCache(engine)
    for path in files:
        assert_same(warm.read(path, engine), fresh[path])
    assert validations == []  # every result from the cache
    assert list(cache.glob("validations-*.json"))


def test_a_folder_is_read_the_same_cold_and_warm(engine: Engine, cache: Path, validations: list[Path]) -> None:
    cold = collect_actuals(SAMPLES, engine, YEAR)
    assert len(validations) == 33
    assert collect_actuals(SAMPLES, engine, YEAR) == cold
    assert len(validations) == 33


def test_score_sample_output_is_byte_identical_cold_and_warm(kpi_cli, tmp_path: Path) -> None:
    env = {"KPI_CACHE_DIR": str(tmp_path / "cache")}
    args = ("score", "--year", str(YEAR), "--sample", "--format", "json")
    cold = kpi_cli(*args, env=env)
    assert cold.returncode == 0, cold.stderr
    [stored] = (tmp_path / "cache").glob("validations-*.json")
    warm = kpi_cli(*args, env=env)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout == cold.stdout and cold.stdout.startswith(("{", "["))
    stored.write_bytes(stored.read_bytes()[:1000])  # truncated mid-entry
    damaged = kpi_cli(*args, env=env)
    assert damaged.returncode == 0 and "Traceback" not in damaged.stderr, damaged.stderr
    assert damaged.stdout == cold.stdout


def test_changed_file_bytes_miss(engine: Engine, cache: Path, validations: list[Path], tmp_path: Path) -> None:
    path = tmp_path / "moj.xlsx"
    shutil.copyfile(MOJ, path)
    before = read_workbook(path, engine)
    assert read_workbook(path, engine) == before and validations == [path]
    inputs = before[0]
    kpi_id, row = next((k, r) for k, r in inputs.values.items() if any(v is not None for v in r.values()))
    symbol = next(s for s, v in row.items() if v is not None)
    edit_workbook(MOJ, path, values={f"{kpi_id}:{symbol}": row[symbol] + 1})
    after = read_workbook(path, engine)
    assert validations == [path, path]
    assert after[0].values[kpi_id][symbol] == row[symbol] + 1
    v = validate.validate_workbook(path, engine)
    assert after == (v.inputs, v.problems)


def test_a_changed_target_misses(cache: Path, validations: list[Path], tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for name in ("formulas", "targets"):
        shutil.copytree(ROOT / name, repo / name)
    engine = Engine.load(repo)
    read_workbook(MOJ, engine)
    read_workbook(MOJ, engine)
    assert len(validations) == 1
    target = repo / "targets" / str(YEAR) / "moj.yaml"
    target.write_bytes(target.read_bytes() + b"\n# edited\n")
    read_workbook(MOJ, engine)
    assert len(validations) == 2


def test_a_changed_limit_misses(engine: Engine, cache: Path, validations: list[Path],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    read_workbook(MOJ, engine)
    monkeypatch.setenv("KPI_MAX_UPLOAD_MB", "0.01")
    inputs, problems = read_workbook(MOJ, engine)
    assert len(validations) == 2
    assert inputs is None and [p.code for p in problems] == ["wb-too-large"]
    monkeypatch.delenv("KPI_MAX_UPLOAD_MB")
    assert read_workbook(MOJ, engine)[0] is not None
    assert len(validations) == 2  # back to the first limits: their result is still kept


def test_changed_code_misses(engine: Engine, cache: Path, validations: list[Path], tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    read_workbook(MOJ, engine)
    copy = tmp_path / "kpiengine"
    shutil.copytree(validation_cache.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(validation_cache, "PACKAGE", copy)
    read_workbook(MOJ, engine)
    assert len(validations) == 1  # the same code
    for edited in ("stages.py", "workbook/values.py"):
        (copy / edited).write_text((copy / edited).read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
        read_workbook(MOJ, engine)
    assert len(validations) == 3


@pytest.mark.parametrize("damage", [b"", b"{\"format\": 1, \"entries\": {", b"\x00\xff garbage", b"[1, 2]"])
def test_a_damaged_cache_file_is_ignored(engine: Engine, cache: Path, validations: list[Path], damage: bytes) -> None:
    fresh = read_workbook(MOJ, engine)
    [stored] = cache.glob("validations-*.json")
    stored.write_bytes(damage)
    assert read_workbook(MOJ, engine) == fresh
    assert len(validations) == 2


def test_a_fifo_in_place_of_the_cache_file_is_ignored(engine: Engine, cache: Path, validations: list[Path]) -> None:
    fresh = read_workbook(MOJ, engine)
    [stored] = cache.glob("validations-*.json")
    stored.unlink()
    os.mkfifo(stored)  # opening it to read would wait for a writer forever
    assert read_workbook(MOJ, engine) == fresh
    assert len(validations) == 2


def test_a_damaged_entry_is_validated_afresh(engine: Engine, cache: Path, validations: list[Path]) -> None:
    fresh = read_workbook(MOJ, engine)
    damaged = ValidationCache(engine)
    [key] = damaged.known
    entry = damaged.known[key]
    kpi_id = next(iter(entry["inputs"]["values"]))
    symbol = next(iter(entry["inputs"]["values"][kpi_id]))
    entry["inputs"]["values"][kpi_id][symbol] = "1/0"
    assert damaged.read(MOJ, engine) == fresh
    assert len(validations) == 2


def test_cache_off_stores_nothing(engine: Engine, validations: list[Path], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    first = collect_actuals(SAMPLES, engine, YEAR)
    assert collect_actuals(SAMPLES, engine, YEAR) == first
    assert len(validations) == 66
    assert not list(tmp_path.rglob("*"))


def test_submitting_never_uses_the_cache(engine: Engine, cache: Path, official_workbook, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Official data is always validated afresh: submit works with the cache unusable."""
    def forbidden(*args, **kwargs):
        raise AssertionError("the validation cache was used")

    monkeypatch.setattr(validation_cache.ValidationCache, "__init__", forbidden)
    outcome = services.submit_workbook(engine, tmp_path / "ledger.sqlite", official_workbook("moj"), by="測試")
    assert outcome.recorded
    assert not cache.exists()
