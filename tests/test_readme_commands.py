"""Every `papercli ...` command line in the README parses as a valid command line, so the
README stays true: its commands, options and option values exist as written."""

from __future__ import annotations

import re
import shlex

import pytest
import typer

from papercli import cli
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_command_lines() -> list[str]:
    """`papercli ...` from the fenced blocks and from inline code, each as written."""
    found: list[str] = []
    in_block = False
    for line in README.splitlines():
        if line.startswith("```"):
            in_block = not in_block
            continue
        if in_block:
            found += re.findall(r"(?:^|&& |\$\()(papercli [^#)]*)", line)
        else:
            found += [span for span in re.findall(r"`(papercli [^`]*)`", line)]
    commands = []
    for text in found:
        for part in re.split(r"&&|\||;|>>?|\$\(", text):
            part = part.strip().rstrip(")")
            if part.startswith("papercli ") and "..." not in part and "<" not in part:
                commands.append(part)
    return sorted(set(commands))


def check_parses(line: str) -> None:
    """Parse like a run would, without running: the group's options, then the command's."""
    args = shlex.split(line)[1:]
    group = typer.main.get_command(cli.app)
    eager = {"--install-completion", "--show-completion", "--version", "--help", "-h"}
    if set(args) & eager:  # these act while parsing: check that they exist, do not run them
        known = {opt for param in group.params for opt in param.opts}
        assert set(args) & eager <= known | {"--help", "-h"}, line
        return
    if not any(arg.startswith("-") for arg in args) and len(args) <= 2:
        # Prose naming a command ("`papercli schedule` prints ..."): the command must exist.
        command = group.get_command(None, args[0])  # type: ignore[arg-type]
        assert command is not None, line
        if len(args) == 2 and hasattr(command, "commands"):
            assert args[1] in command.commands, line
            return
        if len(args) == 1:
            return
    with group.make_context("papercli", ["--help"], resilient_parsing=True) as probe:
        args = cli.hoist_global_options(group, probe, args)
    ctx = group.make_context("papercli", args)
    name, command, rest = group.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
    assert command is not None, line
    sub = command.make_context(name, rest, parent=ctx)
    while isinstance(command, typer.core.TyperGroup) and sub._protected_args:
        name, command, rest = command.resolve_command(sub, [*sub._protected_args, *sub.args])
        sub = command.make_context(name, rest, parent=sub)


def test_the_readme_has_command_lines() -> None:
    lines = readme_command_lines()
    assert len(lines) > 20
    assert "papercli fetch hf arxiv:cs.LG" in lines


@pytest.mark.parametrize("line", readme_command_lines())
def test_each_readme_command_line_parses(line: str) -> None:
    check_parses(line)


@pytest.mark.parametrize(
    "line",
    ["papercli fetch --no-such-option", "papercli nosuch", "papercli digest --limit many"],
)
def test_a_wrong_command_line_is_caught(line: str) -> None:
    with pytest.raises(Exception):  # noqa: B017 (click's UsageError and kin)
        check_parses(line)
