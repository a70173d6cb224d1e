"""The lazy command table of ``kpi`` and the real commands cannot drift apart.

``kpi --help`` lists commands from ``main.COMMANDS`` without importing them; each entry must name the
module whose ``register(app)`` defines that very command, with the same one-line help, and every
command those modules define must be in the table.
"""

from __future__ import annotations

import importlib

import pytest
import typer

from kpiengine.cli.main import COMMANDS, app

MODULES = sorted({entry.module for entry in COMMANDS})


def registered(module: str) -> dict[str, object]:
    """The commands ``kpiengine.cli.<module>.register`` defines, by name (built as Typer builds them)."""
    sub = typer.Typer(add_completion=False, rich_markup_mode=None)
    importlib.import_module(f"kpiengine.cli.{module}").register(sub)
    return dict(typer.main.get_group(sub).commands)


@pytest.mark.parametrize("entry", COMMANDS, ids=lambda e: e.name)
def test_each_entry_is_a_real_command_with_the_same_help(entry):
    commands = registered(entry.module)
    assert entry.name in commands, f"kpiengine.cli.{entry.module} does not define `kpi {entry.name}`"
    real = commands[entry.name]
    assert real.get_short_help_str(limit=10_000) == entry.help
    assert entry.load().get_short_help_str(limit=10_000) == entry.help  # what running it builds


def test_every_registered_command_is_in_the_table_once():
    names = [entry.name for entry in COMMANDS]
    assert len(names) == len(set(names))
    defined = {name for module in MODULES for name in registered(module)}
    assert defined == set(names)


def test_help_lists_every_command_with_its_chinese_help():
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    listed = result.stdout.split("Commands:", 1)[1]
    for entry in COMMANDS:
        line = next(line for line in listed.splitlines() if line.split()[:1] == [entry.name])
        chinese = entry.help.split(" ", 1)[0]
        assert chinese[:10] in line, (entry.name, line)


# --- probes: the top level as a hostile or careless user meets it (through the real `kpi`) ---

from tests.conftest import KPI_EXE, assert_clean_failure  # noqa: E402


@pytest.mark.parametrize("entry", COMMANDS, ids=lambda e: e.name)
def test_help_of_every_command_through_the_real_kpi(kpi_cli, entry):
    proc = kpi_cli(entry.name, "--help")
    assert proc.returncode == 0 and f"Usage: kpi {entry.name}" in proc.stdout and not proc.stderr, proc.stderr


MISTAKES = {
    "a typo": (["lis"], ["沒有指令「lis」", "是否要用 list"]),
    "upper case": (["LIST"], ["是否要用 list"]),
    "a near miss": (["verfy"], ["是否要用 verify"]),
    "nothing close": (["zzz"], ["沒有指令「zzz」"]),
    "an empty argument": ([""], ["指令不可為空白"]),
    "--version": (["--version"], ["沒有選項 --version"]),
    "an option before the command": (["--year", "107", "list"], ["沒有選項 --year"]),
    "not UTF-8": (["\udcff\udcfe"], ["沒有指令"]),  # the bytes 0xff 0xfe (subprocess encodes surrogates back)
    "a huge year": (["list", "--year", "9" * 5000], ["--year", "須為整數"]),
    "an option without its value": (["list", "--agency"], ["--agency 後面需要填一個值", "kpi list --help"]),
}


@pytest.mark.parametrize(("args", "says"), MISTAKES.values(), ids=MISTAKES.keys())
def test_mistakes_at_the_top_level_are_chinese_refusals(kpi_cli, args, says):
    assert_clean_failure(kpi_cli(*args), *says)


@pytest.mark.parametrize("args", [["x" * 100_000], ["list", "--format", "j" * 100_000], ["list", "--year", "107", "y" * 100_000]],
                         ids=["command", "option value", "extra argument"])
def test_a_huge_argument_is_not_echoed_back_whole(kpi_cli, args):
    proc = kpi_cli(*args)
    assert_clean_failure(proc, "…（共 1000")
    assert len(proc.stderr) < 1000


def test_no_arguments_is_the_help(kpi_cli):
    proc = kpi_cli()
    assert proc.returncode == 0 and "Usage: kpi" in proc.stdout and "agencies" in proc.stdout


def _run(args: list[str], env: dict[str, str], **kwargs):
    import os
    import subprocess

    full = {k: v for k, v in os.environ.items() if k not in ("HOME", "XDG_CACHE_HOME", "KPI_CACHE_DIR", "LANG", "LC_ALL")}
    return subprocess.run([str(KPI_EXE), *args], env={**full, **env}, capture_output=True, timeout=120, **kwargs)


@pytest.mark.parametrize("env", [{"LANG": "C", "LC_ALL": "C"}, {"LC_ALL": "C", "PYTHONIOENCODING": "ascii"}, {}],
                         ids=["C locale", "ascii output", "no HOME, no XDG"])
def test_odd_environments_still_answer_in_chinese(env):
    proc = _run(["agencies"], env)
    assert proc.returncode == 0 and "法務部" in proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8", "replace")
    bad = _run(["lis"], env)
    assert bad.returncode == 2 and "沒有指令" in bad.stderr.decode("utf-8") and b"Traceback" not in bad.stderr


def test_stdin_and_stdout_closed():
    import os

    closed_in = _run(["agencies"], {}, preexec_fn=lambda: os.close(0))
    assert closed_in.returncode == 0 and b"Traceback" not in closed_in.stderr
    closed_out = _run(["list", "--year", "107"], {}, preexec_fn=lambda: os.close(1))
    assert b"Traceback" not in closed_out.stderr and b"Exception ignored" not in closed_out.stderr, closed_out.stderr


@pytest.mark.parametrize("args", [["list", "--year", "107", "--format", "json"], ["score", "--sample", "--year", "107"]],
                         ids=["list", "score"])
def test_a_reader_that_stops_early_gets_no_broken_pipe_traceback(args):
    """``kpi list | head -1``: the output is far larger than the pipe; the reader closes after one line."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen([str(KPI_EXE), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err and b"Exception ignored" not in err, err
