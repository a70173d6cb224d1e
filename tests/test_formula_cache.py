"""The on-disk cache of compiled formulas: used when its key matches, ignored otherwise, never required."""

from __future__ import annotations

import json

import pytest

from kpiengine import evaluation, formula_cache
from kpiengine.evaluation import compile_kpi, evaluate_kpi


@pytest.fixture
def fresh_memory(monkeypatch):
    """An empty in-process memo, as in a new ``kpi`` process."""
    monkeypatch.setattr(evaluation, "_CACHE", {})
    monkeypatch.setattr(evaluation, "_PARTS", {})


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_CACHE_DIR", str(tmp_path))
    return tmp_path


def _no_compiling(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("compiled although the cache had it")

    monkeypatch.setattr(evaluation, "compile_formula", boom)


def test_second_run_takes_every_formula_from_the_cache(engine, cache_dir, fresh_memory, monkeypatch):
    path = formula_cache.compile_and_store(engine.catalog)
    assert path is not None and path.parent == cache_dir
    expected = {k.id: evaluate_kpi(k, dict(k.tests[0].inputs)) for k in engine.catalog.kpis if k.tests}
    monkeypatch.setattr(evaluation, "_CACHE", {})
    monkeypatch.setattr(evaluation, "_PARTS", {})
    assert formula_cache.load(engine.catalog) == len({evaluation.content_key(k) for k in engine.catalog.kpis})
    _no_compiling(monkeypatch)
    for kpi in engine.catalog.kpis:
        compile_kpi(kpi)
        if kpi.tests:
            assert evaluate_kpi(kpi, dict(kpi.tests[0].inputs)) == expected[kpi.id], kpi.id


@pytest.mark.parametrize("damage", ["other key", "not json", "wrong shape", "empty"])
def test_a_damaged_or_foreign_file_is_ignored(engine, cache_dir, fresh_memory, damage):
    path = formula_cache.compile_and_store(engine.catalog)
    data = json.loads(path.read_text(encoding="utf-8"))
    if damage == "other key":
        data["key"] = "0" * 64
        path.write_text(json.dumps(data), encoding="utf-8")
    elif damage == "not json":
        path.write_text("{not json", encoding="utf-8")
    elif damage == "wrong shape":
        data["entries"] = [[1, 2]]
        path.write_text(json.dumps(data), encoding="utf-8")
    else:
        path.write_text("", encoding="utf-8")
    evaluation._PARTS.clear()
    assert formula_cache.load(engine.catalog) == 0


def test_key_changes_with_any_formula(engine):
    keys = [evaluation.content_key(k) for k in engine.catalog.kpis]
    changed = [("a + 1", *keys[0][1:]), *keys[1:]]
    assert formula_cache.catalog_key(keys) == formula_cache.catalog_key(list(reversed(keys)))
    assert formula_cache.catalog_key(keys) != formula_cache.catalog_key(changed)


def test_cache_can_be_switched_off(engine, monkeypatch, tmp_path, fresh_memory):
    monkeypatch.setenv("KPI_CACHE_DIR", "off")
    assert formula_cache.cache_dir() is None
    assert formula_cache.compile_and_store(engine.catalog) is None
    assert formula_cache.load(engine.catalog) == 0
    assert compile_kpi(engine.catalog.kpis[0]).formula.program  # scoring works without it


def test_default_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("KPI_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert formula_cache.cache_dir() == tmp_path / "kpiengine"


@pytest.mark.parametrize("content", [b"[]", b'"x"', b"1e999999", b"null", b"\xff\xfe not UTF-8"],
                         ids=["a list", "a string", "a huge number", "null", "not UTF-8"])
def test_a_file_of_the_wrong_type_is_ignored(engine, cache_dir, fresh_memory, content):
    path = formula_cache.compile_and_store(engine.catalog)
    path.write_bytes(content)
    evaluation._PARTS.clear()
    assert formula_cache.load(engine.catalog) == 0


def test_an_oversized_or_misplaced_file_is_ignored_and_leaves_no_temporary_file(engine, cache_dir, fresh_memory,
                                                                               monkeypatch):
    from kpiengine import cache_folder

    path = formula_cache.compile_and_store(engine.catalog)
    limit = cache_folder.MAX_CACHE_BYTES
    monkeypatch.setattr(cache_folder, "MAX_CACHE_BYTES", 16)
    evaluation._PARTS.clear()
    assert formula_cache.load(engine.catalog) == 0
    monkeypatch.setattr(cache_folder, "MAX_CACHE_BYTES", limit)
    path.unlink()
    path.mkdir()  # a folder where the file goes: storing fails quietly
    evaluation._PARTS.clear()
    assert formula_cache.compile_and_store(engine.catalog) is None
    assert [p.name for p in cache_dir.iterdir()] == [path.name]
