"""Benchmark: the portal under 50 concurrent users, against the CLI ``kpi submit`` for the same files.

Run:  .venv/bin/python benchmarks/bench_web.py [--users 50] [--files 66] [--pages 200]

Loopback only (a ``kpi serve`` child on a free 127.0.0.1 port), bounded loops, and it stops by
itself. Baseline: the same workbooks submitted one after another with the CLI (``kpi submit`` in
a subprocess each, as a script on 國發會's machine would). Measured in the same run:

* uploads/s through the portal with ``--users`` clients at once (ministry clerks of every agency,
  each uploading its agency's workbooks), and the ratio to the CLI's uploads/s;
* page latency (median and 95th percentile) of 國發會's status board, score table and an agency
  page, fetched by reviewers while those uploads run, and again with the server idle.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from recording import record  # noqa: E402  (benchmarks/ is the script folder)

from kpiengine.accounts import Accounts
from kpiengine.engine import Engine
from kpiengine.ledger import Ledger
from kpiengine.web.live import live_server
from kpiengine.workbook.sample import plan_agency
from kpiengine.workbook.template import Fill, write_template

HERE = Path(__file__).resolve().parent
YEAR = 107
PASSWORD = "bench-password-1"


def workbooks(engine: Engine, n: int, folder: Path) -> list[tuple[str, Path]]:
    """``n`` complete official workbooks, round-robin over the agencies, each a distinct file."""
    codes = [a.code for a in engine.catalog.agencies]
    plans = {}
    out = []
    for i in range(n):
        code = codes[i % len(codes)]
        if code not in plans:
            plans[code] = [p for p in plan_agency(engine, code, YEAR) if p.intended is not None]
        plan = plans[code]
        fill = Fill({p.kpi.id: dict(p.values) for p in plan}, {p.kpi.id: p.intended.label for p in plan},
                    {plan[0].kpi.id: f"第 {i} 份"} if plan else {})
        out.append((code, write_template(engine, code, YEAR, folder, fill, name=f"{code}-{i}.xlsx")))
    return out


def cli_submit(files: list[tuple[str, Path]], ledger: Path) -> float:
    kpi = Path(sys.executable).with_name("kpi")
    t0 = time.perf_counter()
    for _code, path in files:
        subprocess.run([str(kpi), "submit", str(path), "--year", str(YEAR), "--ledger", str(ledger), "--by", "bench",
                        "--root", str(HERE.parent)], check=True, capture_output=True, timeout=300)
    return time.perf_counter() - t0


def csrf_of(html: str) -> str:
    import re

    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def signed_in(url: str, name: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=300)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"name": name, "password": PASSWORD, "csrf": token})
    if r.status_code != 303:
        raise RuntimeError(f"sign-in of {name} failed: {r.status_code}")
    return c


def pages_latency(clients: list[httpx.Client], paths: list[str], per_client: int, stop: threading.Event | None = None
                  ) -> list[float]:
    """Each reviewer fetches the pages in turn, ``per_client`` times at most (or until ``stop``)."""
    times: list[float] = []
    lock = threading.Lock()

    def run(c: httpx.Client) -> None:
        for n in range(per_client):
            if stop is not None and stop.is_set():
                return
            t0 = time.perf_counter()
            r = c.get(paths[n % len(paths)])
            dt = time.perf_counter() - t0
            if r.status_code != 200:
                raise RuntimeError(f"{paths[n % len(paths)]}: {r.status_code}")
            with lock:
                times.append(dt)

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=900)
    return times


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent portal users (clerks + reviewers)")
    parser.add_argument("--files", type=int, default=66, help="workbooks uploaded (round-robin over agencies)")
    parser.add_argument("--pages", type=int, default=10, help="page loads per reviewer")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    engine = Engine.load(HERE.parent)
    with tempfile.TemporaryDirectory(prefix="kpi-bench-web-") as d:
        tmp = Path(d)
        files = workbooks(engine, args.files, tmp / "books")
        cli_s = cli_submit(files, tmp / "cli" / "ledger.sqlite")

        ledger = tmp / "web" / "ledger.sqlite"
        accounts = Accounts(ledger, hasher=PasswordHasher())  # the real cost of a sign-in
        codes = sorted({code for code, _ in files})
        clerks = len(codes)  # one clerk per agency uploads that agency's files, one after another
        reviewers = max(1, args.users - clerks)
        for code in codes:
            accounts.add(f"clerk-{code}", PASSWORD, role="ministry", agency_code=code, by="bench")
        for n in range(reviewers):
            accounts.add(f"reviewer-{n}", PASSWORD, role="reviewer", agency_code=None, by="bench")
        paths = ["/board", f"/scores?year={YEAR}", f"/agency/{codes[0]}?year={YEAR}"]
        with live_server(ledger, HERE.parent, tmp / "server.log") as live:
            t0 = time.perf_counter()
            clerk_clients = {code: signed_in(live.url, f"clerk-{code}") for code in codes}
            reviewer_clients = [signed_in(live.url, f"reviewer-{n}") for n in range(reviewers)]
            sign_in_s = (time.perf_counter() - t0) / (len(codes) + reviewers)
            idle = pages_latency(reviewer_clients[:5], paths, args.pages)

            by_code: dict[str, list[Path]] = {}
            for code, path in files:
                by_code.setdefault(code, []).append(path)
            statuses: list[int] = []
            lock = threading.Lock()

            def upload(code: str) -> None:
                c = clerk_clients[code]
                for path in by_code[code]:
                    token = csrf_of(c.get(f"/agency/{code}").text)
                    r = c.post(f"/agency/{code}/upload", data={"csrf": token, "year": str(YEAR)},
                               files={"file": (path.name, path.read_bytes())})
                    with lock:
                        statuses.append(r.status_code)

            stop = threading.Event()
            busy: list[float] = []
            readers = threading.Thread(target=lambda: busy.extend(
                pages_latency(reviewer_clients, paths, args.pages, stop)))
            uploaders = [threading.Thread(target=upload, args=(code,)) for code in codes]
            t0 = time.perf_counter()
            readers.start()
            for t in uploaders:
                t.start()
            for t in uploaders:
                t.join(timeout=1800)
            web_s = time.perf_counter() - t0
            stop.set()
            readers.join(timeout=900)
            for c in [*clerk_clients.values(), *reviewer_clients]:
                c.close()
        recorded = len(Ledger(ledger).submissions(YEAR))
        if statuses.count(200) != len(files) or recorded != len(files):
            raise SystemExit(f"uploads lost: {statuses.count(200)} answered 200, {recorded} recorded of {len(files)}")
    figures = {
        "files": len(files), "users": clerks + reviewers, "clerks": clerks, "reviewers": reviewers,
        "cli_uploads_per_s": round(len(files) / cli_s, 2),
        "web_uploads_per_s": round(len(files) / web_s, 2),
        "ratio_web_over_cli": round(cli_s / web_s, 2),
        "sign_in_s": round(sign_in_s, 3),
        "page_idle_p50_ms": round(statistics.median(idle) * 1000, 1), "page_idle_p95_ms": round(pct(idle, 0.95) * 1000, 1),
        "page_busy_p50_ms": round(statistics.median(busy) * 1000, 1) if busy else None,
        "page_busy_p95_ms": round(pct(busy, 0.95) * 1000, 1) if busy else None,
        "page_loads_busy": len(busy),
    }
    record("web", figures, keep=not args.no_record)


if __name__ == "__main__":
    main()
