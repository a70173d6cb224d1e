"""The submission ledger: append-only (UPDATE/DELETE raise), versions, stored files, as-of reads."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from fractions import Fraction
from pathlib import Path

import pytest
from workbook.wbhelpers import edit_workbook

from kpiengine.catalog import find_root
from kpiengine.engine import Engine
from kpiengine.ledger import (
    TABLES,
    AlreadySubmitted,
    Ledger,
    LedgerError,
    latest_inputs,
    ledger_path,
    parse_as_of,
)
from kpiengine.review import make_review
from kpiengine.workbook.sample import write_samples
from kpiengine.workbook.validate import validate_workbook

ROOT = find_root(Path(__file__).resolve().parent)
YEAR = 107
T0 = dt.datetime(2019, 1, 20, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(ROOT)


@pytest.fixture(scope="module")
def sample(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    code = engine.catalog.agencies[0].code
    ((path, _),) = write_samples(engine, YEAR, tmp_path_factory.mktemp("s"), [code])
    return path


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "var" / "ledger.sqlite")


def test_versions_files_and_exact_values(engine: Engine, sample: Path, ledger: Ledger, tmp_path: Path) -> None:
    v = validate_workbook(sample, engine, year=YEAR)
    first = ledger.submit(v, "王小明", now=T0)
    with pytest.raises(AlreadySubmitted, match="第 1 版完全相同"):  # the same bytes again: not a new version
        ledger.submit(v, "李小華", now=T0 + dt.timedelta(hours=1))
    resaved = edit_workbook(sample, tmp_path / "resaved.xlsx")  # same values, new bytes
    v2 = validate_workbook(resaved, engine, year=YEAR)
    second = ledger.submit(v2, "李小華", now=T0 + dt.timedelta(days=1))
    assert (first.version, second.version) == (1, 2)
    assert first.submitted_at == "2019-01-20T02:00:00.000000+00:00"
    digest = hashlib.sha256(sample.read_bytes()).hexdigest()
    assert first.sha256 == digest
    stored = ledger.folder / first.stored_path
    assert first.stored_path == f"submissions/{v.agency_code}/{YEAR}/v1-{digest[:8]}.xlsx"
    assert stored.read_bytes() == sample.read_bytes()
    assert ledger.verify().ok and ledger.verify().entries == 2
    (got,) = latest_inputs(ledger.path, YEAR)
    assert got.version == 2 and "第 2 版" in got.source
    assert got.values == v.inputs.values
    assert got.self_ratings == v.inputs.self_ratings and got.narratives == v.inputs.narratives
    assert all(isinstance(x, Fraction) for row in got.values.values() for x in row.values() if x is not None)
    (old,) = latest_inputs(ledger.path, YEAR, as_of=T0 + dt.timedelta(hours=1))
    assert old.version == 1
    assert latest_inputs(ledger.path, YEAR, as_of=T0 - dt.timedelta(seconds=1)) == []
    assert latest_inputs(ledger.path, YEAR + 1) == []
    assert [s.version for s in ledger.submissions(YEAR, v.agency_code)] == [1, 2]
    assert ledger.submissions(YEAR, "nobody") == []


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("statement", ["UPDATE {t} SET {c} = {c}", "DELETE FROM {t}"])
def test_ledger_is_append_only(table: str, statement: str, engine: Engine, sample: Path, ledger: Ledger) -> None:
    ledger.submit(validate_workbook(sample, engine), "王小明", now=T0)
    ledger.record_review(make_review("moj.1.1", YEAR, "green", "複核無誤", "國發會", T0.isoformat()), "moj")
    ledger.record_audit("國發會", "sign-in", {"ip": "127.0.0.1"}, now=T0)
    column = {"submissions": "submitted_by", "submission_values": "value", "submission_kpis": "narrative",
              "reviews": "reason", "audit": "actor", "chain": "hash"}[table]
    con = sqlite3.connect(ledger.path)
    try:
        (before,) = con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        assert before > 0
        with pytest.raises(sqlite3.DatabaseError, match="只能新增"):
            con.execute(statement.format(t=table, c=column))
        con.commit()
        assert con.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (before,)
    finally:
        con.close()


def test_invalid_workbook_is_not_recorded(engine: Engine, tmp_path: Path, ledger: Ledger) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    with pytest.raises(LedgerError, match="未予收件"):
        ledger.submit(validate_workbook(junk, engine), "王小明")
    assert ledger.submissions() == []
    assert not (ledger.folder / "submissions").exists()


def test_failed_insert_leaves_no_file(engine: Engine, sample: Path, ledger: Ledger, monkeypatch) -> None:
    v = validate_workbook(sample, engine)
    monkeypatch.setattr(v, "cells", None)  # breaks the value rows mid-transaction
    with pytest.raises(AttributeError):
        ledger.submit(v, "王小明")
    assert ledger.submissions() == []
    assert list((ledger.folder / "submissions").rglob("*.xlsx")) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("2019-01-31", dt.datetime(2019, 1, 31, 15, 59, 59, 999999, tzinfo=dt.UTC)),
    ("2019-01-31T17:30", dt.datetime(2019, 1, 31, 9, 30, tzinfo=dt.UTC)),
    ("2019-01-31T09:30:00+00:00", dt.datetime(2019, 1, 31, 9, 30, tzinfo=dt.UTC)),
    ("2019-01-31T09:30:00Z", dt.datetime(2019, 1, 31, 9, 30, tzinfo=dt.UTC)),
    ("107-12-31", dt.datetime(2018, 12, 31, 15, 59, 59, 999999, tzinfo=dt.UTC)),  # 民國 107 年 = 2018
    ("107/12/31", dt.datetime(2018, 12, 31, 15, 59, 59, 999999, tzinfo=dt.UTC)),
])
def test_parse_as_of(text: str, expected: dt.datetime) -> None:
    assert parse_as_of(text) == expected


@pytest.mark.parametrize("text", ["去年", "0001-01-01T00:00:00+05:00", "9" * 5000, "107-13-01"])
def test_parse_as_of_rejects_garbage(text: str) -> None:
    with pytest.raises(LedgerError, match="格式不正確|超出可用範圍|不是有效的日期"):
        parse_as_of(text)


def test_ledger_path(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KPI_LEDGER", raising=False)
    assert ledger_path(tmp_path) == tmp_path / "var" / "ledger.sqlite"
    monkeypatch.setenv("KPI_LEDGER", str(tmp_path / "x.sqlite"))
    assert ledger_path(tmp_path) == tmp_path / "x.sqlite"
    assert ledger_path(tmp_path, tmp_path / "y.sqlite") == tmp_path / "y.sqlite"
