"""Errors a user can cause or meet, each with a one-line message and a documented exit code.

The CLI turns any `PapercliError` into `Error: <message>` on stderr and exits with its code;
everything else is a bug and exits with `ExitCode.BUG` (the traceback only with `--traceback`).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum


class ExitCode(IntEnum):
    """papercli's exit codes: public API, listed in the README and tested one by one."""

    OK = 0
    BUG = 1  # an unexpected error: please report it (run again with --traceback)
    USAGE = 2  # bad command line (unknown option, bad value)
    CONFIG = 3  # the config file or an environment setting is wrong
    NETWORK = 4  # a server could not be reached, timed out or kept failing
    PARSE = 5  # a page or file is not what it should be (not a listing, truncated, wrong shape)
    STORE = 6  # the local store is unreadable, foreign, or locked
    NO_MATCH = 7  # the --topic queries matched no paper
    DELIVERY = 8  # the digest could not be written or sent (kept in the outbox)
    LOCKED = 9  # another run of the same digest, or another send of the outbox, is in progress
    INTERRUPTED = 130  # stopped with Ctrl-C (SIGINT), as shells report it


class PapercliError(Exception):
    """Base of the errors papercli reports to the user in one line."""

    exit_code: ExitCode = ExitCode.BUG

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message

    def lines(self) -> list[str]:
        """What the user reads, one line each."""
        return [str(self)]


class UsageError(PapercliError):
    exit_code = ExitCode.USAGE


class ConfigError(PapercliError):
    """A wrong config file or setting; it may carry the file's other problems in `more`."""

    exit_code = ExitCode.CONFIG

    def __init__(
        self, message: str, *, hint: str | None = None, more: Sequence[ConfigError] = ()
    ) -> None:
        super().__init__(message, hint=hint)
        self.more = list(more)

    @classmethod
    def all_of(cls, problems: Sequence[ConfigError]) -> ConfigError:
        """One error for several problems: the first, carrying the others (one line each)."""
        flat = [each for problem in problems for each in (problem, *problem.more)]
        return cls(flat[0].message, hint=flat[0].hint, more=flat[1:])

    def lines(self) -> list[str]:
        return [str(self), *(str(problem) for problem in self.more)]


class NetworkError(PapercliError):
    exit_code = ExitCode.NETWORK


class ParseError(PapercliError):
    """A page or file that cannot be read as the source it claims (or was taken) to be."""

    exit_code = ExitCode.PARSE


class StoreError(PapercliError):
    exit_code = ExitCode.STORE


class NoMatchError(PapercliError):
    exit_code = ExitCode.NO_MATCH


class DeliveryError(PapercliError):
    exit_code = ExitCode.DELIVERY


class LockedError(PapercliError):
    exit_code = ExitCode.LOCKED


class UnexpectedError(PapercliError):
    """Something papercli did not foresee went wrong inside one source's fetch: that source
    fails (and says it is a bug) while the others go on."""

    exit_code = ExitCode.BUG


class Interrupted(PapercliError):
    """Ctrl-C: reported as one line and exit 130, like any other way a command can end."""

    exit_code = ExitCode.INTERRUPTED
