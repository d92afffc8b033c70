"""The two rich consoles: stdout for data, stderr for progress, summaries and errors.

Tests swap them with `use_consoles()` to see exactly what a user sees.
"""

from __future__ import annotations

from rich.console import Console

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)
quiet = False


def use_consoles(stdout: Console, stderr: Console) -> None:
    global out, err
    out, err = stdout, stderr


def info(message: str) -> None:
    """A diagnostic line on stderr, unless --quiet."""
    if not quiet:
        err.print(message, markup=False)


def error(message: str) -> None:
    """The one-line error every failure ends in."""
    err.print(f"Error: {message}", markup=False, highlight=False, soft_wrap=True)
