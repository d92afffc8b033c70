"""How many threads each numeric step of the topics should get: time on one and two threads,
alone and beside a CPU-bound process, and whether two threads give the same bits.

    python benchmarks/threads.py               # 1,000, 7,970 (cs-daily) and 75,000 abstracts
    python benchmarks/threads.py --sizes 1000  # one size

A step may run on more than one thread only if its result is the same bit for bit (else the
topics would depend on the machine) and the thread pays, alone and under load.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import load_jsonl, scaled


def _burn(stop: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def steps(n: int) -> list[tuple[str, Callable[[], object]]]:
    """The numeric steps of build_topics on n abstracts, each a thunk returning its output."""
    import numpy as np

    from papercli.topics import clustering, features
    from papercli.topics.features import count, encode, reduce, scale_for, weigh
    from papercli.topics.text import Folder

    base, _ = load_jsonl()
    papers = base[:n] if n <= len(base) else scaled(base, n)
    folder = Folder()
    scale = scale_for(n)
    stream = encode(papers, folder, lambda stage, done: None)
    counts, keys = count(stream, len(folder.terms))
    weights, idf, names, _ = weigh(counts, folder, keys, scale)
    _, points = reduce(weights, idf, names, scale, 0)
    k = 20
    fine = clustering.OVERSPLIT * k
    sample = points[: min(n, 3000)]
    return [
        ("svd (reduce)", lambda: reduce(weights, idf, names, scale, 0)[1]),
        ("smoothing", lambda: features._smooth(points, 10)),
        (f"k-means {fine} groups", lambda: clustering._kmeans(points, fine, 1, 0)),
        (f"k-means {k}, n_init {scale.n_init}", lambda: clustering._kmeans(points, k, 2, 0)),
        ("silhouette pick", lambda: clustering.auto_k(sample, 0)),
        ("merge", lambda: clustering._merge(points[: fine * 5 : 5], np.ones(fine), k)),
    ]


def timed(thunk: Callable[[], object], threads: int) -> tuple[float, object]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        start = time.perf_counter()
        out = thunk()
        return time.perf_counter() - start, out


def same(a: object, b: object) -> bool:
    import numpy as np

    if isinstance(a, tuple):
        return all(same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,7970,75000")
    args = parser.parse_args()
    print("| n | step | 1 thread | 2 threads | 1 thread, loaded | 2 threads, loaded | same bits |")
    print("|---|---|---|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        for name, thunk in steps(n):
            alone = [timed(thunk, t) for t in (1, 2)]
            stop = multiprocessing.Event()
            burner = multiprocessing.Process(target=_burn, args=(stop,))
            burner.start()
            try:
                loaded = [timed(thunk, t)[0] for t in (1, 2)]
            finally:
                stop.set()
                burner.join()
            bits = "yes" if same(alone[0][1], alone[1][1]) else "NO"
            print(
                f"| {n:,} | {name} | {alone[0][0]:.2f} s | {alone[1][0]:.2f} s "
                f"| {loaded[0]:.2f} s | {loaded[1]:.2f} s | {bits} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
