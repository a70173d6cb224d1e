"""複核: reviews are checked, kept append-only in the real SQLite ledger, and shown beside the
computed light without replacing it."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from kpiengine.ledger import Ledger
from kpiengine.review import ReviewError, make_review
from kpiengine.scoring import Light

runner = CliRunner()


def test_make_review_accepts_codes_and_chinese_labels():
    assert make_review("moj.1.1", 107, "黃燈", "資料待補正", "國發會", "t").light is Light.YELLOW
    assert make_review("moj.1.1", 107, "red", "理由", "", "t").reviewed_by == "未具名"


@pytest.mark.parametrize(("light", "reason", "says"), [("blue", "理由", "燈號"), ("green", "  ", "理由")])
def test_make_review_refuses(light, reason, says):
    with pytest.raises(ReviewError, match=says):
        make_review("moj.1.1", 107, light, reason, "x", "t")


def test_reviews_are_append_only_and_latest_wins(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.record_review(make_review("moj.1.1", 107, "green", "初次複核", "甲", "2019-02-01T00:00:00+00:00"), "moj")
    ledger.record_review(make_review("moj.1.1", 107, "yellow", "補件後改列", "乙", "2019-02-02T00:00:00+00:00"), "moj")
    assert [r.light for r in ledger.reviews(107)] == [Light.YELLOW]
    assert len(ledger.reviews(107, latest_only=False)) == 2
    con = sqlite3.connect(tmp_path / "ledger.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="不可修改"):
        con.execute("UPDATE reviews SET light = 'red'")
    with pytest.raises(sqlite3.DatabaseError, match="不可刪除"):
        con.execute("DELETE FROM reviews")
