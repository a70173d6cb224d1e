"""Shared fixtures: the repository's real catalog, loaded once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kpiengine.engine import Engine

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.load(ROOT)


@pytest.fixture(scope="session")
def soffice(tmp_path_factory: pytest.TempPathFactory):
    """Run LibreOffice headless with a private profile; skipped only when KPI_SKIP_LIBREOFFICE=1."""
    if os.environ.get("KPI_SKIP_LIBREOFFICE") == "1":
        pytest.skip("KPI_SKIP_LIBREOFFICE=1")
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        pytest.fail("找不到 soffice：請安裝 LibreOffice（apt-get install libreoffice-calc），或設 KPI_SKIP_LIBREOFFICE=1 略過")
    profile = tmp_path_factory.mktemp("lo-profile")

    def convert(src: Path, fmt: str, outdir: Path) -> Path:
        outdir.mkdir(parents=True, exist_ok=True)
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", fmt, "--outdir", str(outdir), str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        result = outdir / f"{src.stem}.{fmt.split(':')[0]}"
        assert result.exists(), f"LibreOffice 轉檔失敗：{proc.stdout}\n{proc.stderr}"
        return result

    return convert


KPI_EXE = Path(__import__("sys").executable).with_name("kpi")


@pytest.fixture(scope="session")
def kpi_cli(tmp_path_factory: pytest.TempPathFactory):
    """Run the real installed ``kpi`` entry point in a subprocess (not Typer's runner, which swallows tracebacks).

    ``kpi_cli("score", "--year", "107", cwd=..., env={...}, timeout=60)`` returns the CompletedProcess;
    every call is bounded in time (and, with ``memory_mb``, in address space: a runaway allocation
    becomes a MemoryError traceback the caller sees), and the caller asserts on exit code, stdout and stderr.
    """

    default_ledger = tmp_path_factory.mktemp("default-ledger") / "ledger.sqlite"  # never the repository's var/

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120,
            input: str | None = None, memory_mb: int | None = None) -> subprocess.CompletedProcess:
        full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", "KPI_LEDGER": str(default_ledger), **(env or {})}

        def limit() -> None:
            import resource

            size = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

        return subprocess.run([str(KPI_EXE), *map(str, args)], cwd=cwd or ROOT, env=full_env, capture_output=True,
                              text=True, timeout=timeout, input=input, preexec_fn=limit if memory_mb else None)

    return run


def assert_clean_failure(proc: subprocess.CompletedProcess, *needles: str) -> None:
    """A refusal as users must see it: non-zero exit, Chinese message, no traceback."""
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "Traceback" not in out, out
    assert "錯誤" in out, out
    for n in needles:
        assert n in out, (n, out)


@pytest.fixture(scope="session")
def official_workbook(tmp_path_factory: pytest.TempPathFactory):
    """A filled workbook as an agency hands it in: the shipped sample of ``code`` with the sample mark removed.

    ``official_workbook("moj", values={"moj.1.2:seized_kg": 9000}, name="x.xlsx")`` writes a new file
    (values by machine key) and returns its path.
    """
    from workbook.wbhelpers import edit_workbook

    from kpiengine.workbook import layout as L

    folder = tmp_path_factory.mktemp("official")
    counter = iter(range(10**6))

    def make(code: str, values: dict | None = None, name: str | None = None) -> Path:
        dst = folder / f"{next(counter)}" / (name or f"{code}.xlsx")
        dst.parent.mkdir()
        return edit_workbook(ROOT / "actuals" / "107" / f"{code}.xlsx", dst, values=values,
                             meta={L.META_KIND: L.KIND_TEMPLATE})

    return make
