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

Below 10,000 papers the heap keeps what it frees instead (`keep_freed`): the reduction makes
and drops arrays of a few MB, which glibc first maps and unmaps one by one, then, once its
thresholds have risen, takes from the top of its heap and trims off again, so each is faulted
in afresh. Starting at the thresholds glibc itself rises to (32 MB for a map of its own, trim
from 64 MB free) took 1,000 abstracts from 19k page faults to 11k and 0.38 s to 0.32 s (12
fresh processes each way, 11 faster), 3,000 from 27k to 12k and 0.51 s to 0.49 s (6 each, 5
faster, a quieter hour), with 1 or 2 MB more at the peak. At 10,000 it saved no time and raised
the peak by 13 MB, so there the pages go back instead.

And Python's cycle collector is paused while the topics are built (`collector_paused`).
"""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

MMAP_THRESHOLD = 32 << 20  # glibc's own ceiling for the threshold it raises (64-bit)
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # ... and the trim threshold it sets beside it
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)


def keep_freed() -> bool:
    """Let glibc's malloc keep freed memory for reuse: blocks up to 32 MB from its heap, trimmed
    only past 64 MB free; True if it took both. For the rest of the process (mallopt cannot go
    back to the dynamic thresholds); `give_back` still hands everything back on demand."""
    mallopt = _libc("mallopt")
    if mallopt is None:
        return False
    took = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    return bool(took and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def give_back() -> None:
    """Return the free pages of the C heap to the system, where glibc's malloc holds them."""
    trim = _libc("malloc_trim")
    if trim is not None:
        trim(0)


@cache
def _libc(name: str):
    """A function of glibc's malloc, None on another system or C library."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)  # the C library the interpreter runs on
        if not hasattr(libc, "gnu_get_libc_version"):
            return None  # not glibc: musl's mallopt does nothing, and it has no malloc_trim
        return getattr(libc, name)
    except (AttributeError, OSError):
        return None


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
