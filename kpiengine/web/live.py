"""Running ``kpi serve`` as a child process on a free loopback port: for end-to-end tests and benchmarks.

Starts the real entry point (not an in-process app), waits until the port accepts, and stops it
(SIGTERM, then SIGKILL) on exit. Only ever binds 127.0.0.1.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    port: int
    ledger: Path
    log: Path
    process: subprocess.Popen


@contextmanager
def live_server(ledger: Path, root: Path, log: Path, startup_s: float = 60,
                env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """``kpi serve --host 127.0.0.1 --port <free> --ledger <ledger>`` for the duration of the block."""
    import os

    exe = Path(sys.executable).with_name("kpi")
    port = free_port()
    out = log.open("w")
    proc = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--ledger", str(ledger),
                             "--root", str(root)], stdout=out, stderr=subprocess.STDOUT, cwd=log.parent,
                            env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"kpi serve exited: {log.read_text(encoding='utf-8')}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"kpi serve did not start in {startup_s:g} s") from None
                time.sleep(0.2)
        yield LiveServer(f"http://127.0.0.1:{port}", port, ledger, log, proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)
        out.close()
