"""The cache folder: where it is, and reading/writing a cache file that may be damaged, huge or unwritable."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from kpiengine import cache_folder
from kpiengine.cache_folder import cache_dir, read_cache, write_cache


@pytest.mark.parametrize("value", ["off", "OFF", "0", "none", "", "  "])
def test_switched_off(monkeypatch, value):
    monkeypatch.setenv("KPI_CACHE_DIR", value)
    assert cache_dir() is None


def test_a_full_disk_leaves_no_temporary_file(tmp_path, monkeypatch):
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fd, *args, **kwargs):
            self.fh = real_fdopen(fd, *args, **kwargs)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache_folder.os, "fdopen", Full)
    assert write_cache(tmp_path / "c" / "x-1.marshal", b"data") is False
    assert list((tmp_path / "c").iterdir()) == []


def test_a_write_replaces_whole_files_only(tmp_path):
    path = tmp_path / "x-1.marshal"
    assert write_cache(path, b"old") and write_cache(path, b"new")
    assert read_cache(path) == b"new" and [p.name for p in tmp_path.iterdir()] == ["x-1.marshal"]


def test_what_is_not_a_plain_readable_file_reads_as_absent(tmp_path, monkeypatch):
    assert read_cache(tmp_path / "absent") is None
    (tmp_path / "folder").mkdir()
    assert read_cache(tmp_path / "folder") is None
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert read_cache(fifo) is None  # opening a FIFO would wait for a writer forever
    big = tmp_path / "big"
    big.write_bytes(b"x" * 100)
    monkeypatch.setattr(cache_folder, "MAX_CACHE_BYTES", 99)
    assert read_cache(big) is None
    monkeypatch.setattr(cache_folder, "MAX_CACHE_BYTES", 100)
    assert read_cache(big) == b"x" * 100


def test_under_a_file_nothing_is_written(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("keep", encoding="utf-8")
    assert write_cache(blocker / "x-1.marshal", b"data") is False
    assert blocker.read_text(encoding="utf-8") == "keep"


def test_default_folder_without_home(monkeypatch):
    monkeypatch.delenv("KPI_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    assert cache_dir() == Path("/somewhere/kpiengine")
