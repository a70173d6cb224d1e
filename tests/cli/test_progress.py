"""Long commands show a progress bar on a terminal (stderr is a pseudo-terminal here) and say where
their files are; off a terminal they print no bar at all."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

from tests.conftest import KPI_EXE, ROOT


def _run_on_terminal(*args: str, timeout: float = 300) -> tuple[int, str, str]:
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen([str(KPI_EXE), *args], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=slave, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    out = proc.communicate(timeout=30)[0].decode("utf-8")
    os.close(master)
    return proc.returncode, out, b"".join(chunks).decode("utf-8", "replace")


def test_report_shows_a_bar_on_a_terminal_and_says_where_files_are(tmp_path):
    code, out, terminal = _run_on_terminal("report", "--year", "107", "--agency", "moj", "--no-docx",
                                           "--out", str(tmp_path))
    assert code == 0, terminal
    assert "產生報告" in terminal and "\x1b[" in terminal  # the rich bar, drawn on the terminal
    assert str(tmp_path) in out and (tmp_path / "moj.html").exists()


def test_sample_says_where_files_are_without_a_bar_off_terminal(kpi_cli, tmp_path):
    proc = kpi_cli("sample", "--year", "107", "--agency", "moj", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert f"檔案位於 {tmp_path.resolve()}" in proc.stdout
    assert "\x1b[" not in proc.stderr + proc.stdout
