"""The README's two fresh-machine commands are the ones CI runs and the ones that exist."""

from __future__ import annotations

import re


def _commands(root):
    text = (root / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.+?)\n```", text, re.S)


def test_readme_has_exactly_two_commands_and_the_main_job(root):
    commands = _commands(root)
    assert len(commands) == 2
    assert "kpi score --year 107" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command(root):
    ci = (root / ".ci" / "run").read_text(encoding="utf-8")
    assert _commands(root)[1] in ci
