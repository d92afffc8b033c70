"""Run papercli in-process the way a user would and capture exactly what they see."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

from rich.console import Console

from papercli import cli, console


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
    saved = console.out, console.err, console.quiet
    console.use_consoles(
        Console(width=width, no_color=True, highlight=False, soft_wrap=True),
        Console(
            stderr=True,
            width=width,
            no_color=True,
            highlight=False,
            force_terminal=terminal or None,
        ),
    )
    cli.state.__init__()  # type: ignore[misc]
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = cli.run(list(args))
    finally:
        console.out, console.err, console.quiet = saved
    return Result(int(code), out.getvalue(), err.getvalue())
