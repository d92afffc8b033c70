"""Where a command's output goes: the `Environment` of one papercli invocation.

An Environment holds the two rich consoles (stdout for data, stderr for progress, summaries and
errors), the global options (--quiet, --traceback, --db, --config, --offline) and nothing else.
`cli.run()` makes one per invocation and passes it down (as Typer's `ctx.obj`); tests build their
own with consoles writing to strings, so they see exactly what a user sees and reset nothing.

The consoles are made on first use, so `papercli --help` does not pay for importing rich.

For code that is not handed the Environment, `current()` is the one of the invocation running
(set by `cli.run()` in a context variable for its duration), and the module-level `info()`,
`error()`, `out` and `err` go through it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    out: Console
    err: Console
    quiet: bool

# Newlines and other control characters from a page or a server would break the one-line error.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
UNWRAPPED = 10_000  # columns of a console that is not a terminal


@dataclass
class Environment:
    """One invocation's consoles and global options."""

    stdout: Console | None = None  # made on first use unless given
    stderr: Console | None = None
    quiet: bool = False  # -q: only data and errors
    traceback: bool = False  # --traceback: show the traceback of an error
    db: Path | None = None  # --db
    config: Path | None = None  # --config
    offline: bool | None = None  # --offline (None: not given, the environment/config decide)
    _made: dict[str, Console] = field(default_factory=dict, repr=False)

    @property
    def out(self) -> Console:
        """The console for data (digests, tables, --json)."""
        return self.stdout or self._console("out")

    @property
    def err(self) -> Console:
        """The console for progress, summaries and errors."""
        return self.stderr or self._console("err")

    def _console(self, name: str) -> Console:
        if name not in self._made:
            from rich.console import Console

            stream = sys.stderr if name == "err" else sys.stdout
            # Not a terminal (a cron log, a pipe): no 80-column wrapping or cut table columns,
            # one line stays one line.
            width = None if stream.isatty() else UNWRAPPED
            self._made[name] = Console(
                stderr=name == "err", highlight=False, soft_wrap=name == "out", width=width
            )
        return self._made[name]

    def info(self, message: str) -> None:
        """A diagnostic line on stderr, unless --quiet."""
        if not self.quiet:
            self.err.print(message, markup=False)

    def warning(self, message: str) -> None:
        """A line on stderr about something that went wrong but did not fail the command
        (the exit code stays 0), unless --quiet."""
        if not self.quiet:
            line = _CONTROL.sub(" ", message)
            self.err.print(f"Warning: {line}", markup=False, highlight=False, soft_wrap=True)

    def error(self, message: str) -> None:
        """The one-line error every failure ends in."""
        line = _CONTROL.sub(" ", message)
        self.err.print(f"Error: {line}", markup=False, highlight=False, soft_wrap=True)

    def write(self, text: str) -> None:
        """Raw text (a rendered digest, JSON lines) on stdout, as it is."""
        self.out.file.write(text)
        self.out.file.flush()


_current: ContextVar[Environment | None] = ContextVar("papercli_environment", default=None)


def current() -> Environment:
    """The Environment of the invocation running, or a default one outside any invocation."""
    env = _current.get()
    return env if env is not None else Environment()


@contextmanager
def using(env: Environment) -> Iterator[Environment]:
    """Make `env` the current Environment for the duration of the block."""
    token = _current.set(env)
    try:
        yield env
    finally:
        _current.reset(token)


def __getattr__(name: str) -> Any:
    """`console.out`, `console.err` and `console.quiet` of the current Environment (PEP 562)."""
    if name in ("out", "err", "quiet"):
        return getattr(current(), name)
    raise AttributeError(name)


def info(message: str) -> None:
    """A diagnostic line on stderr of the current invocation, unless --quiet."""
    current().info(message)


def warning(message: str) -> None:
    """A warning line of the current invocation (see Environment.warning)."""
    current().warning(message)


def error(message: str) -> None:
    """The one-line error of the current invocation."""
    current().error(message)
