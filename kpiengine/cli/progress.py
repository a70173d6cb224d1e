"""Progress for long commands: a rich bar on a terminal, nothing in JSON or when output is not a TTY."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress(total: int, label: str, enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """Yield ``step(what)``: advance the bar by one and say what is being done.

    The bar goes to stderr and vanishes when done, so stdout stays clean for files and pipes.
    """
    if not enabled or not sys.stderr.isatty():
        yield lambda what="": None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def step(what: str = "") -> None:
            bar.update(task, advance=1, description=f"{label} {what}".rstrip())

        yield step
