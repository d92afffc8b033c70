"""Locks: one run of a digest at a time, and one sender of the outbox at a time; the kernel
releases them when the holder dies."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from papercli.deliver.files import safe_name
from papercli.errors import LockedError

# A digest lock is named after the digest (safe_name never starts with a dot), so this one
# cannot be taken by a digest called "outbox".
OUTBOX_LOCK = ".outbox.lock"


@contextmanager
def digest_lock(lock_dir: Path, name: str) -> Iterator[Path]:
    """Hold `lock_dir/<name>.lock` while one digest runs; raise LockedError if another run has it.

    flock locks belong to the open file, so the kernel drops them when the holder exits or is
    killed: a crashed run never leaves a stale lock. The file stays (unlinking a lock file races
    with a process that just opened it) and holds the pid of the last holder.
    """
    with _flock(Path(lock_dir) / f"{safe_name(name)}.lock", f"digest {name} is already running"):
        yield Path(lock_dir) / f"{safe_name(name)}.lock"


@contextmanager
def outbox_lock(lock_dir: Path) -> Iterator[Path]:
    """Hold the outbox while one `send` goes through it: two at once would both send each item."""
    path = Path(lock_dir) / OUTBOX_LOCK
    with _flock(path, "the outbox is being sent by another papercli"):
        yield path


@contextmanager
def _flock(path: Path, busy: str) -> Iterator[None]:
    import fcntl  # POSIX only (Linux, macOS), so not at module level

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(
                f"{busy} (pid {_holder(fd)})", hint="try again when it finishes"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    """The pid the holder wrote, or 'unknown' if it has not written it yet."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"
