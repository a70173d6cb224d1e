"""Parsed catalog YAML kept between runs: the same catalog either way, never stale, never required."""

from __future__ import annotations

import shutil

import pytest

from kpiengine import yaml_cache
from kpiengine.catalog import load_catalog


@pytest.fixture
def catalog_copy(tmp_path, root, monkeypatch):
    monkeypatch.setenv("KPI_CACHE_DIR", str(tmp_path / "cache"))
    dst = tmp_path / "repo"
    shutil.copytree(root / "formulas", dst / "formulas")
    shutil.copytree(root / "targets", dst / "targets")
    return dst


def test_second_load_reads_no_yaml_and_gives_the_same_catalog(catalog_copy, monkeypatch):
    first, problems = load_catalog(catalog_copy)
    assert list((catalog_copy.parent / "cache").glob("yaml-*.marshal"))

    def boom(*args, **kwargs):
        raise AssertionError("parsed although the cache had it")

    monkeypatch.setattr(yaml_cache.yamlfile, "load_yaml", boom)
    second, problems2 = load_catalog(catalog_copy)
    assert second == first and problems2 == problems


def test_an_edited_file_is_parsed_again(catalog_copy):
    load_catalog(catalog_copy)
    path = catalog_copy / "formulas" / "moj.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("agency: 法務部", "agency: 法務部（改）"), encoding="utf-8")
    catalog, _ = load_catalog(catalog_copy)
    assert catalog.agency("moj").name == "法務部（改）"


def test_a_broken_file_is_refused_the_same_with_a_warm_cache(catalog_copy):
    load_catalog(catalog_copy)
    (catalog_copy / "formulas" / "moj.yaml").write_text("agency: [unclosed\n", encoding="utf-8")
    for _ in range(2):
        catalog, problems = load_catalog(catalog_copy)
        assert catalog.agency("moj") is None
        assert any(p.code == "catalog-yaml" and "moj.yaml" in p.message for p in problems)


@pytest.mark.parametrize("damage", [b"", b"not marshal", b"\xe3\x00\x00"])
def test_a_damaged_cache_file_is_ignored(catalog_copy, damage):
    first, _ = load_catalog(catalog_copy)
    for f in (catalog_copy.parent / "cache").glob("yaml-*.marshal"):
        f.write_bytes(damage)
    again, _ = load_catalog(catalog_copy)
    assert again == first
