"""Search benchmark: a store of 100,000 papers (cs-daily's 7,970 real papers repeated with new
ids), query latency, the index's build time and size on disk, and what keeping the index in step
costs a fetched page (parse a real listing, store it) with and without the index.

    python benchmarks/search.py              # 100,000 papers
    python benchmarks/search.py --papers 10000
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.common import FIXTURES, load_jsonl  # noqa: E402

from papercli.history.search import search  # noqa: E402
from papercli.models import Page  # noqa: E402
from papercli.sources import arxiv_listing  # noqa: E402
from papercli.store import Store  # noqa: E402

LISTING = FIXTURES / "arxiv-list" / "astro-ph_pastweek_show1000_2024-11-22_browser-saved.html"
QUERIES = [
    ("one common word", "model", {}),
    ("one rare word", "quokka OR zymurgy OR photonic", {}),
    ("phrase", '"flow matching"', {}),
    ("prefix", "diffus*", {}),
    ("two words + category", "speculative decoding", {"category": "cs.CL"}),
    ("word + author", "diffusion", {"author": "Wang"}),
    ("word + since", "reinforcement learning", {"since": "2025-06-02"}),
]


def papers(n: int):
    base, _ = load_jsonl()
    return [
        replace(base[i % len(base)], id=f"{8000 + i // 100000:04d}.{i % 100000:05d}")
        for i in range(n)
    ]


def size_mb(path: Path) -> float:
    return path.stat().st_size / 1e6


def drop_index(conn: sqlite3.Connection) -> None:
    for name in ("insert", "update", "delete"):
        conn.execute(f"DROP TRIGGER papers_search_{name}")
    conn.execute("DROP TABLE papers_search")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=100_000)
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "papers.db"
        every = papers(args.papers)
        half = len(every) // 2
        started = time.perf_counter()
        with Store(path) as store:
            for i in range(0, len(every), 1000):
                day = "2025-06-01" if i < half else "2025-06-02"
                store.upsert_page("arxiv:cs", Page("jsonl", every[i : i + 1000]), fetched_at=day)
        rows.append(
            (
                f"store {len(every):,} papers in pages of 1,000",
                f"{time.perf_counter() - started:.1f} s",
            )
        )
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        started = time.perf_counter()
        conn.execute("INSERT INTO papers_search (papers_search) VALUES ('rebuild')")
        rows.append(
            (
                "index build (migration on an existing store)",
                f"{time.perf_counter() - started:.1f} s",
            )
        )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        with_index = size_mb(path)
        bare = Path(tmp) / "bare.db"
        shutil.copy(path, bare)
        bare_conn = sqlite3.connect(bare, isolation_level=None)
        drop_index(bare_conn)
        bare_conn.execute("VACUUM")
        bare_conn.close()
        without = size_mb(bare)
        rows.append(
            ("store on disk without / with the index", f"{without:.0f} MB / {with_index:.0f} MB")
        )
        rows.append(
            (
                "index size on disk",
                f"{with_index - without:.0f} MB ({(with_index - without) / without:.0%} of the"
                " store without it)",
            )
        )
        conn.close()

        with Store(path) as store:
            for label, query, filters in QUERIES:
                times = []
                for _ in range(7):
                    started = time.perf_counter()
                    hits = search(store, query, **filters)
                    times.append(time.perf_counter() - started)
                matched = len(search(store, query, limit=None, **filters))
                median, worst = statistics.median(times) * 1000, max(times) * 1000
                rows.append(
                    (f"query: {label} `{query}`",
                     f"median {median:.1f} ms, max {worst:.1f} ms (top {len(hits)} of {matched:,})")
                )  # fmt: skip

        # A fetched page: parse the real listing, store its papers as new ones (fresh ids each
        # round), in the 100,000-paper store with the index and in a copy without it.
        data = LISTING.read_bytes()
        for label, db in (("with index", path), ("without index", bare)):
            totals, stores = [], []
            with Store(db) as store:
                for round_ in range(7):
                    started = time.perf_counter()
                    page = arxiv_listing.parse(data)
                    fresh = [
                        replace(p, id=f"7{round_}{i:03d}.{i:05d}")
                        for i, p in enumerate(page.papers)
                    ]
                    parsed = time.perf_counter()
                    store.upsert_page("arxiv:astro-ph/pastweek", Page("arxiv-listing", fresh))
                    done = time.perf_counter()
                    totals.append(done - started)
                    stores.append(done - parsed)
            total, stored = statistics.median(totals) * 1000, statistics.median(stores) * 1000
            rows.append(
                (f"fetched page ({len(fresh)} new papers) {label}",
                 f"parse+store {total:.0f} ms (store {stored:.0f} ms)")
            )  # fmt: skip
    width = max(len(name) for name, _ in rows)
    print(f"| {'benchmark'.ljust(width)} | result |")
    print(f"| {'-' * width} | --- |")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


if __name__ == "__main__":
    main()
