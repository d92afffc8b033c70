"""Papers to group, with their abstracts waiting on disk until they are read.

`papercli topics FILE` on a large file needs every abstract twice: once to count its terms and
a few of them again to word the labels. In between, the abstracts, two thirds of what a paper
takes in memory, would sit idle beside the features built from them. `SpooledPapers` keeps
each paper's id and title in memory and its abstract in an unnamed temporary file (gone when
the file is closed or the process ends), and builds the paper again when it is asked for.

    >>> spool = SpooledPapers()
    >>> spool.append(Paper(id="2401.00001", title="A", abstract="Flow matching ..."))
    >>> spool[0].abstract
    'Flow matching ...'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from array import array
from collections.abc import Sequence
from typing import overload

from papercli.errors import ConfigError
from papercli.models import Paper


class SpooledPapers(Sequence[Paper]):
    """A sequence of papers with only their id, title and abstract (what topics read); the
    abstracts are written to a temporary file as papers are appended and read back by index."""

    def __init__(self) -> None:
        try:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        except OSError as exc:
            raise _spool_error(exc) from exc
        self._ids: list[str] = []
        self._titles: list[str] = []
        self._ends = array("q", [0])  # abstract i is bytes [_ends[i], _ends[i + 1]) of the file
        self._unflushed = False

    def append(self, paper: Paper) -> None:
        data = paper.abstract.encode("utf-8", "surrogatepass")
        try:
            self._file.write(data)
        except OSError as exc:
            raise _spool_error(exc) from exc
        self._unflushed = True
        self._ids.append(paper.id)
        self._titles.append(paper.title)
        self._ends.append(self._ends[-1] + len(data))

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> Paper: ...

    @overload
    def __getitem__(self, index: slice) -> list[Paper]: ...

    def __getitem__(self, index: int | slice) -> Paper | list[Paper]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("paper index out of range")
        start, end = self._ends[index], self._ends[index + 1]
        try:
            if self._unflushed:
                self._file.flush()
                self._unflushed = False
            abstract = os.pread(self._file.fileno(), end - start, start) if end > start else b""
        except OSError as exc:
            raise _spool_error(exc) from exc
        return Paper(
            id=self._ids[index],
            title=self._titles[index],
            abstract=abstract.decode("utf-8", "surrogatepass"),
        )

    def heads(self) -> list[tuple[str, str]]:
        """Each paper's (id, title), read from memory alone."""
        return list(zip(self._ids, self._titles, strict=True))

    def close(self) -> None:
        # The file goes even when its last write fails; what it could not take is not needed.
        with contextlib.suppress(OSError):
            self._file.close()

    def __enter__(self) -> SpooledPapers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def heads(papers: Sequence[Paper]) -> list[tuple[str, str]]:
    """(id, title) of each paper; for a `SpooledPapers`, without reading an abstract back."""
    if isinstance(papers, SpooledPapers):
        return papers.heads()
    return [(p.id, p.title) for p in papers]


def _spool_error(exc: OSError) -> ConfigError:
    return ConfigError(
        f"cannot keep the abstracts in a temporary file in {tempfile.gettempdir()}:"
        f" {exc.strerror or exc}",
        hint="free some space there, or set TMPDIR to a folder with room",
    )
