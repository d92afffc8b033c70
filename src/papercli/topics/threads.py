"""Threads: how many threads each numeric step of the topics may use.

BLAS and OpenMP split sums across threads, and a sum added in another order can differ in its
last bit; k-means and the silhouette pick then flip on it (2,838 cs abstracts gave 30 topics on
one thread and 40 on two). So every step runs on a fixed number of threads, whatever the machine
or OMP_NUM_THREADS/OPENBLAS_NUM_THREADS say, and a step gets more than one thread only where its
result is the same bit for bit and the extra thread pays (benchmarks/threads.py measures both).
One thread also keeps the speed steady on a busy machine, where spinning threads wait for a
core (75,000 abstracts: 21 s alone, 145 s under load when scikit-learn's k-means, since replaced
by `topics.kmeans`, ran on two OpenMP threads; BLAS threads spin the same way).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

NUMERIC = 1  # every step: see benchmarks/threads.py for the measurements behind it


@contextmanager
def pinned(threads: int = NUMERIC) -> Iterator[None]:
    """BLAS and OpenMP limited to `threads` inside the block, restored after it."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        yield
