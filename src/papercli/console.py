"""The two rich consoles: stdout for data, stderr for progress, summaries and errors.

They are made on first use, so `papercli --help` does not pay for importing rich. Tests swap them
with `use_consoles()` to see exactly what a user sees.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    out: Console
    err: Console

quiet = False

# Newlines and other control characters from a page or a server would break the one-line error.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def __getattr__(name: str) -> Any:
    """`console.out` / `console.err`, created on first use (PEP 562)."""
    if name not in ("out", "err"):
        raise AttributeError(name)
    from rich.console import Console

    made = Console(stderr=name == "err", highlight=False, soft_wrap=name == "out")
    setattr(sys.modules[__name__], name, made)
    return made


def use_consoles(stdout: Console, stderr: Console) -> None:
    module = sys.modules[__name__]
    setattr(module, "out", stdout)  # noqa: B010 (mypy cannot see lazily made attributes)
    setattr(module, "err", stderr)  # noqa: B010


def _err() -> Console:
    # Inside this module a bare `err` is a global lookup, which PEP 562 does not cover.
    made: Console = getattr(sys.modules[__name__], "err")  # noqa: B009
    return made


def info(message: str) -> None:
    """A diagnostic line on stderr, unless --quiet."""
    if not quiet:
        _err().print(message, markup=False)


def error(message: str) -> None:
    """The one-line error every failure ends in."""
    line = _CONTROL.sub(" ", message)
    _err().print(f"Error: {line}", markup=False, highlight=False, soft_wrap=True)
