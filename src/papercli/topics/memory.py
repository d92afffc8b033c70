"""Memory: hand the C heap's free pages back to the system between the stages of the topics.

Counting a corpus's terms makes and drops many short-lived texts and arrays. glibc's malloc
keeps the pages they freed inside its heap, where the long-lived arrays built between them
(the term stream, the counts) pin them: on 75,000 abstracts the process held 240 MB after
encoding, for a term stream of 47 MB, and 180 MB once those pages were handed back.
`malloc_trim(0)` returns every wholly free page of the heap; it took 3 ms there and changes no
result. Other C libraries (macOS, musl) give pages back on their own: nothing is done.
Only from 10,000 papers (`Scale.trim_heap`): below, the pages are few and the next stages
fault them straight back in. At 3,000 abstracts trimming left the peak where it was (209 MB)
and cost 0.1-0.2 s of kernel time; at 10,000 it lowers the peak by 12 MB.

And Python's cycle collector is paused while the topics are built (`collector_paused`).
"""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache


def give_back() -> None:
    """Return the free pages of the C heap to the system, where glibc's malloc holds them."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
    except (AttributeError, OSError):
        return None  # not glibc (musl has no malloc_trim)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off inside the block, back to what it was after it.

    Folding a corpus makes an object or more per distinct word, and each 700 new objects
    start a collection, which walks every young object, and now and then one walks every
    object in the process (the papers, every module imported): 180 ms of 2.7 s on 3,000
    abstracts, 365 ms at 75,000. Building topics makes no reference cycles to reclaim (the
    memory it frees, refcounting frees), so nothing is kept longer for want of a collection.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
