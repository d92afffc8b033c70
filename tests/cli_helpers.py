"""Run papercli in-process the way a user would and capture exactly what they see."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

from rich.console import Console

from papercli import cli
from papercli.console import Environment


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*args: str, terminal: bool = False, width: int = 200) -> Result:
    """`papercli ARGS...` in this process, with stdout/stderr captured as plain text.

    `terminal=True` makes stderr look like a terminal, so progress bars are drawn.
    """
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        env = Environment(
            stdout=Console(width=width, no_color=True, highlight=False, soft_wrap=True),
            stderr=Console(
                stderr=True,
                width=width,
                no_color=True,
                highlight=False,
                force_terminal=terminal or None,
            ),
        )
        code = cli.run(list(args), env=env)
    return Result(int(code), out.getvalue(), err.getvalue())
