"""A command table that imports a command only when it runs, so ``kpi --help`` and ``kpi agencies`` start fast.

The top-level group knows each command's name, the module that defines it and the one line
``kpi --help`` shows, without importing anything. Running ``kpi NAME`` imports only NAME's module,
lets its ``register(app)`` add its commands to a Typer app of their own, and builds only NAME.
tests/cli/test_lazy.py checks that the table and the real commands cannot drift apart.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    """One entry of the table: ``kpi NAME`` is defined by ``kpiengine.cli.<module>``'s ``register(app)``."""

    name: str
    module: str
    help: str  # the command's one-line help as `kpi --help` lists it (its docstring's first line)

    def load(self) -> Any:
        """The real (click) command: import its module, register it on an app of its own, build it."""
        module = importlib.import_module(f"{__package__}.{self.module}")
        app = typer.Typer(add_completion=False, rich_markup_mode=None)
        module.register(app)
        return typer.main.get_group(app).commands[self.name]


def _defer_value_checks(params: list[Any]) -> None:
    """Let each parameter build Typer's value check only once it has a value (see ``_UnsetStaysNone``)."""
    for param in params:
        if hasattr(param, "get_runtime_param") and getattr(param, "_runtime_param", False) is None:
            param._runtime_param = _UnsetStaysNone()


class _UnsetStaysNone:
    """Typer's own value check of one parameter, built only once the parameter has a value.

    Typer 0.2x builds a pydantic adapter for each parameter (``--help`` too) when a command runs,
    even for one left unset (None), which it then passes through unchanged: importing pydantic for
    that alone was 40% of ``kpi agencies``. An unset parameter stays None here; a given value is
    checked by Typer exactly as before. (With a Typer that has no such adapters this does nothing.)
    """

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None and not (param.multiple or param.nargs == -1):
            return None
        param._runtime_param = None  # Typer builds its own from here on
        return param.get_runtime_param().coerce(value, param=param, ctx=ctx)


class LazyGroup(TyperGroup):
    """A Typer group whose commands come from ``table``, built on first use."""

    table: tuple[LazyCommand, ...] = ()

    def list_commands(self, ctx: Any) -> list[str]:
        return [entry.name for entry in self.table]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            entry = next((e for e in self.table if e.name == cmd_name), None)
            if entry is None:
                return None
            self.commands[cmd_name] = entry.load()
        return self.commands[cmd_name]

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _defer_value_checks(self.get_params(ctx))
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            _defer_value_checks(command.get_params(ctx))
        return name, command, rest

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The help's command list from the table alone (Click's layout and clipping): nothing imported."""
        if not self.table:
            return
        limit = formatter.width - 6 - max(len(entry.name) for entry in self.table)
        rows = [(entry.name, TyperCommand(entry.name, help=entry.help).get_short_help_str(limit)) for entry in self.table]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
