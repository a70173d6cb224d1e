"""Nothing lost under load, against a real ``kpi serve``: twenty uploads at once become distinct,
consecutive versions; a server killed mid-upload leaves no half-written version.

Correctness only: no timing is asserted (speed is measured in benchmarks/bench_web.py).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from kpiengine.ledger import Ledger
from kpiengine.web.live import live_server
from kpiengine.workbook.sample import plan_agency
from kpiengine.workbook.template import Fill, write_template

from .conftest import PASSWORDS, csrf_of, make_accounts

pytestmark = pytest.mark.e2e
YEAR = 107


def _workbooks(engine, code: str, n: int, folder: Path) -> list[Path]:
    """``n`` complete workbooks of one agency that differ only in a narrative (so each is a new file)."""
    plan = [p for p in plan_agency(engine, code, YEAR) if p.intended is not None]
    values = {p.kpi.id: dict(p.values) for p in plan}
    ratings = {p.kpi.id: p.intended.label for p in plan}
    first = plan[0].kpi.id
    return [write_template(engine, code, YEAR, folder, Fill(values, ratings, {first: f"第 {i + 1} 份說明"}),
                           name=f"{code}-{i + 1}.xlsx") for i in range(n)]


def _client(url: str, name: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=120)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf": token})
    assert r.status_code == 303, r.text
    return c


def _upload(c: httpx.Client, code: str, path: Path) -> httpx.Response:
    token = csrf_of(c.get(f"/agency/{code}").text)
    with path.open("rb") as fh:
        return c.post(f"/agency/{code}/upload", data={"csrf": token, "year": str(YEAR)},
                      files={"file": (path.name, fh.read())})


def _assert_consistent(ledger: Path) -> dict[str, list[int]]:
    """Versions per agency are 1..n without gaps, and every recorded file is complete."""
    con = sqlite3.connect(ledger)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    versions: dict[str, list[int]] = {}
    for s in Ledger(ledger).submissions(YEAR):
        versions.setdefault(s.agency_code, []).append(s.version)
        stored = ledger.parent / s.stored_path
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == s.sha256, s
    for code, vs in versions.items():
        assert vs == list(range(1, len(vs) + 1)), (code, vs)
    return versions


def test_twenty_uploads_at_once_become_consecutive_versions(engine, root, tmp_path):
    ledger = tmp_path / "var" / "ledger.sqlite"
    make_accounts(ledger)
    jobs = [("moj", "moj-clerk", p) for p in _workbooks(engine, "moj", 12, tmp_path / "moj")]
    jobs += [("moi", "moi-clerk", p) for p in _workbooks(engine, "moi", 8, tmp_path / "moi")]
    with live_server(ledger, root, tmp_path / "server.log") as live:
        clients = [_client(live.url, name) for _code, name, _p in jobs]
        barrier = threading.Barrier(len(jobs))
        results: list = [None] * len(jobs)

        def run(n: int) -> None:
            code, _name, path = jobs[n]
            token = csrf_of(clients[n].get(f"/agency/{code}").text)
            data = path.read_bytes()
            barrier.wait(timeout=120)
            results[n] = clients[n].post(f"/agency/{code}/upload", data={"csrf": token, "year": str(YEAR)},
                                         files={"file": (path.name, data)})

        threads = [threading.Thread(target=run, args=(n,)) for n in range(len(jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        for c in clients:
            c.close()
    assert [r.status_code for r in results] == [200] * len(jobs)
    assert all("已收件" in r.text for r in results)
    assert _assert_consistent(ledger) == {"moi": list(range(1, 9)), "moj": list(range(1, 13))}


def test_killed_server_leaves_no_half_written_version(engine, root, tmp_path):
    ledger = tmp_path / "var" / "ledger.sqlite"
    make_accounts(ledger)
    files = _workbooks(engine, "moj", 9, tmp_path / "moj")
    with live_server(ledger, root, tmp_path / "server.log") as live:
        clients = [_client(live.url, "moj-clerk") for _ in files[:8]]

        def run(n: int) -> None:
            try:
                _upload(clients[n], "moj", files[n])
            except httpx.HTTPError:
                pass  # the server was killed under it

        threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(8)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not Ledger(ledger).submissions(YEAR):
            time.sleep(0.02)
        live.process.kill()  # SIGKILL: no clean shutdown, uploads still in flight
        live.process.wait(timeout=20)
        for t in threads:
            t.join(timeout=60)
    recorded = _assert_consistent(ledger).get("moj", [])
    assert 1 <= len(recorded) <= 8
    with live_server(ledger, root, tmp_path / "server2.log") as live:  # the same ledger serves on
        c = _client(live.url, "moj-clerk")
        r = _upload(c, "moj", files[8])
        c.close()
    assert r.status_code == 200 and f"第 <b>{len(recorded) + 1}</b> 版" in r.text
    _assert_consistent(ledger)
