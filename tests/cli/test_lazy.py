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
