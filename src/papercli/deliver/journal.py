"""The delivery journal: deliveries the SMTP server accepted while the store could not record
them (busy, locked), kept in an append-only file until the store takes them.

A message the server accepted must never be sent again, and must never be lost either: keeping
it in the outbox would send it twice, dropping the record would let the next run send its papers
again. One JSON line per accepted message, written with O_APPEND and fsync under an flock, so
concurrent writers and the replaying reader never see or cause half a line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Accepted:
    """One message the server accepted (250 to its body) for every one of `recipients`."""

    digest: str
    recipients: list[str]
    paper_ids: list[str]
    message_id: str
    delivered_at: str


class Journal:
    """`path` holds one `Accepted` per line, oldest first."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def append(self, entry: Accepted) -> None:
        line = json.dumps(asdict(entry), ensure_ascii=False) + "\n"
        with self._locked(os.O_WRONLY | os.O_APPEND | os.O_CREAT) as fd:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)

    def entries(self) -> list[Accepted]:
        """What waits, without taking it; a torn last line (a kill mid-write) is skipped."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        return list(_parse(text))

    @contextmanager
    def taking(self) -> Iterator[list[Accepted]]:
        """The entries, held under the lock; they are removed when the block ends normally and
        kept when it raises (the store was still busy)."""
        if not self.path.exists():
            yield []
            return
        with self._locked(os.O_RDWR) as fd:
            size = os.fstat(fd).st_size
            text = os.pread(fd, size, 0).decode("utf-8", "replace")
            yield list(_parse(text))
            os.ftruncate(fd, 0)
            os.fsync(fd)

    @contextmanager
    def _locked(self, flags: int) -> Iterator[int]:
        import fcntl  # POSIX only, so not at module level

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)


def _parse(text: str) -> Iterator[Accepted]:
    for line in text.splitlines():
        try:
            data = json.loads(line)
            yield Accepted(
                digest=str(data["digest"]),
                recipients=[str(r) for r in data["recipients"]],
                paper_ids=[str(p) for p in data["paper_ids"]],
                message_id=str(data["message_id"]),
                delivered_at=str(data["delivered_at"]),
            )
        except (ValueError, KeyError, TypeError):
            continue
