"""Search benchmark: a store of 100,000 papers (cs-daily's 7,970 real papers, authors included,
repeated with new ids), the index's build time (the migration of a store made before search) and
its size on disk, query latency, and what keeping the index in step costs a fetched page: the
store step of a real listing, in process, and the whole `papercli fetch SAVEDPAGE` process, each
with and without the index. Times are wall and CPU (user+sys); the machine may be shared.

    python benchmarks/search.py              # 100,000 papers
    python benchmarks/search.py --papers 10000 --rounds 10
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.common import CS_DAILY, FIXTURES  # noqa: E402

from papercli import store as store_module  # noqa: E402
from papercli.history.search import search  # noqa: E402
from papercli.models import Page, Paper  # noqa: E402
from papercli.sources import arxiv_listing  # noqa: E402
from papercli.sources.files import iter_jsonl  # noqa: E402
from papercli.store import Store  # noqa: E402

LISTING = FIXTURES / "arxiv-list" / "astro-ph_pastweek_show1000_2024-11-22_browser-saved.html"
# (label, query, filters); the store's first half is first seen on 2025-06-01, the rest a day on.
QUERIES = [
    ("rare words", "quokka OR zymurgy OR photonic", {}),
    ("common word (about half the store)", "model", {}),
    ("phrase", '"flow matching"', {}),
    ("prefix", "diffus*", {}),
    ("common word + --category cs.LG", "model", {"category": "cs.LG"}),
    ("common word + --since (second half)", "model", {"since": "2025-06-02"}),
    ("word + --author", "diffusion", {"author": "Wang"}),
    ("two words + --category cs.CL", "speculative decoding", {"category": "cs.CL"}),
]
RUNS = 7
FETCHES = 21
Row = tuple[str, str]


def papers(n: int) -> list[Paper]:
    """n real papers (one per id of cs-daily, with their authors), repeated with new ids."""
    with gzip.open(CS_DAILY) as lines:
        base = list({p.id: p for p in iter_jsonl(lines)}.values())
    return [
        replace(base[i % len(base)], id=f"{8000 + i // 100000:04d}.{i % 100000:05d}")
        for i in range(n)
    ]


def timed(action: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds `action` took in this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def ms(samples: list[tuple[float, float]], how: Callable[[list[float]], float]) -> str:
    wall, cpu = how([w for w, _ in samples]) * 1000, how([c for _, c in samples]) * 1000
    return f"{wall:.1f} ms ({cpu:.1f} ms CPU)"


def size_mb(path: Path) -> float:
    return path.stat().st_size / 1e6


def without_index(source: Path, target: Path) -> None:
    """A copy of the store `source` with no search index, at the same schema version."""
    shutil.copy(source, target)
    conn = sqlite3.connect(target, isolation_level=None)
    for name in ("insert", "update", "delete"):
        conn.execute(f"DROP TRIGGER papers_search_{name}")
    conn.execute("DROP TABLE papers_search")
    conn.execute("VACUUM")
    conn.close()


def compact(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.close()


def build(path: Path, every: list[Paper]) -> tuple[float, float]:
    half = len(every) // 2

    def store_all() -> None:
        with Store(path) as store:
            for i in range(0, len(every), 1000):
                day = "2025-06-01" if i < half else "2025-06-02"
                store.upsert_page("arxiv:cs", Page("jsonl", every[i : i + 1000]), fetched_at=day)

    return timed(store_all)


def migration(bare: Path, target: Path) -> tuple[float, float]:
    """Open a copy of `bare` set back to the schema before search: the index is built."""
    shutil.copy(bare, target)
    conn = sqlite3.connect(target, isolation_level=None)
    before = store_module.MIGRATIONS.index(store_module.m007_search_index)
    conn.execute(f"PRAGMA user_version = {before:d}")
    conn.close()
    return timed(lambda: Store(target).close())


def page_rounds(db: Path, rounds: int) -> list[tuple[float, float]]:
    """(wall, CPU) of storing the real listing's papers as new ones (fresh ids each round)."""
    page = arxiv_listing.parse(LISTING.read_bytes())
    samples = []
    with Store(db) as store:
        for round_ in range(rounds):
            fresh = [replace(p, id=f"7{round_:03d}.{i:05d}") for i, p in enumerate(page.papers)]
            samples.append(
                timed(partial(store.upsert_page, "arxiv:astro-ph", Page("arxiv-listing", fresh)))
            )
    return samples


def fetch_process(stores: dict[str, Path], work: Path, runs: int) -> dict[str, list]:
    """(wall, CPU) of `papercli --db COPY fetch LISTING` on a fresh copy of each store, the
    stores taking turns so that a busy moment of a shared machine falls on both alike."""
    papercli = shutil.which("papercli", path=str(Path(sys.executable).parent)) or "papercli"
    env = {**os.environ, "PAPERCLI_HOME": str(work / "home")}
    samples: dict[str, list] = {label: [] for label in stores}
    for _ in range(runs):
        for label, db in stores.items():
            copy = work / "fetch.db"
            shutil.copy(db, copy)
            os.sync()  # the copy's pages written out, not competing with the run
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(
                [papercli, "--db", str(copy), "fetch", str(LISTING)],
                env=env,
                check=True,
                capture_output=True,
            )
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            samples[label].append((wall, cpu))
            copy.unlink()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40, help="pages stored per store")
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path, bare, migrated = work / "papers.db", work / "bare.db", work / "migrated.db"
        every = papers(args.papers)
        rows.append((f"store {len(every):,} papers, pages of 1,000", ms([build(path, every)], max)))
        compact(path)
        without_index(path, bare)
        rows.append(("index build: migration of a store made before search",
                     ms([migration(bare, migrated)], max)))  # fmt: skip
        migrated.unlink()
        with_index, without = size_mb(path), size_mb(bare)
        rows.append(("store on disk without / with the index",
                     f"{without:.0f} MB / {with_index:.0f} MB (index {with_index - without:.0f}"
                     f" MB, {(with_index - without) / without:.0%})"))  # fmt: skip

        for label, query, filters in QUERIES:
            samples = []
            for _ in range(RUNS):  # a fresh connection each time, as a `papercli search` has
                with Store(path) as store:
                    samples.append(timed(partial(search, store, query, **filters)))
            with Store(path) as store:
                matched = len(search(store, query, limit=None, **filters))
            rows.append((f"query: {label} `{query}`",
                         f"{ms(samples, statistics.median)} median of {RUNS}, {matched:,}"
                         " matches, top 20"))  # fmt: skip

        # The same pages into each store in turn; the stores are copies, so each starts alike.
        pages = len(arxiv_listing.parse(LISTING.read_bytes()).papers)
        for label, db in (("without index", bare), ("with index", path)):
            copy = work / "rounds.db"
            shutil.copy(db, copy)
            samples = page_rounds(copy, args.rounds)
            copy.unlink()
            rows.append((f"store a page of {pages} new papers, {label}",
                         f"mean {ms(samples, statistics.mean)}, median"
                         f" {ms(samples, statistics.median)}, max {ms(samples, max)}"
                         f" over {args.rounds} pages"))  # fmt: skip
        stores = {"without index": bare, "with index": path}
        for label, samples in fetch_process(stores, work, FETCHES).items():
            rows.append((f"`papercli fetch SAVEDPAGE` process ({pages} new), {label}",
                         f"median {ms(samples, statistics.median)} of {FETCHES}"))  # fmt: skip
    width = max(len(name) for name, _ in rows)
    print(f"| {'benchmark'.ljust(width)} | result |")
    print(f"| {'-' * width} | --- |")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


if __name__ == "__main__":
    main()
