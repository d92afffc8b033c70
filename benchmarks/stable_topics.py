"""Stable topics on the 32 days of the cs-daily sample, added one day at a time.

After each day: the update's wall time, the share of the papers that had a topic before whose
topic id is unchanged, the topics born and retired that day, the papers waiting for a topic.
At the end: how many assigned papers would still pick their own topic if assigned afresh to
today's centroids (a measure of drift the ids hide), and a rebuild from scratch: its time and
whether it gives the same ids as the day-by-day updates.

    python benchmarks/stable_topics.py            # all 32 days (a few minutes)
    python benchmarks/stable_topics.py --days 10
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.common import FIXTURES  # noqa: E402
from tests.multiday import add_cs_day, cs_daily_days  # noqa: E402

from papercli.store import Store, TopicModelState  # noqa: E402
from papercli.topics import stable  # noqa: E402


def _ids(state: TopicModelState) -> dict[str, int | None]:
    return {paper: a.topic_id for paper, a in state.assignments.items()}


def _agreement(store: Store) -> tuple[int, int]:
    """(assigned papers whose nearest topic today is their own, assigned papers)."""
    import numpy as np

    state = store.topic_model()
    papers = store.papers()
    terms = stable._Terms(papers, lambda stage, done: None)
    idf = terms.idf(max(0, len(papers) - stable.IDF_WINDOW), len(papers))
    rows = [i for i, p in enumerate(papers) if state.assignments[p.id].topic_id is not None]
    vectors = terms.vectors(rows, idf)
    ids = [t.id for t in state.topics]
    similarity = (vectors @ terms.matrix([t.centroid for t in state.topics]).T).toarray()
    nearest = np.asarray(ids)[similarity.argmax(axis=1)]
    own = np.asarray([state.assignments[papers[i].id].topic_id for i in rows])
    return int((nearest == own).sum()), len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=None, help="only the first N days")
    args = parser.parse_args()
    days = cs_daily_days(FIXTURES)[: args.days]
    work = Path(tempfile.mkdtemp(prefix="papercli-stable-"))
    path = work / "papers.db"
    print("| day | papers | update s | ids kept | born | retired | live | all | waiting |")
    print("|---|---|---|---|---|---|---|---|---|")
    total_time = total_cpu = 0.0
    kept_all = had_all = 0
    with Store(path) as store:
        before: dict[str, int | None] = {}
        for day, data in days:
            added = add_cs_day(store, day, data)
            start, cpu = time.perf_counter(), time.process_time()
            report = stable.update(store)
            took = time.perf_counter() - start
            total_time += took
            total_cpu += time.process_time() - cpu
            state = store.topic_model()
            after = _ids(state)
            placed = {p: t for p, t in before.items() if t is not None}
            kept = sum(after[p] == t for p, t in placed.items())
            kept_all, had_all = kept_all + kept, had_all + len(placed)
            share = f"{kept}/{len(placed)}" if placed else "-"
            live = sum(t.retired is None for t in state.topics)
            waiting = sum(t is None for t in after.values())
            print(
                f"| {day} | {added} | {took:.2f} | {share} | {len(report.born)} |"
                f" {len(report.retired)} | {live} | {len(state.topics)} | {waiting} |"
            )
            before = after
        agree, assigned = _agreement(store)
        final = store.topic_model()
    copy = work / "rebuilt.db"
    shutil.copy(path, copy)
    with Store(copy) as store:
        start, cpu = time.perf_counter(), time.process_time()
        stable.update(store, rebuild=True)
        rebuild = time.perf_counter() - start
        rebuild_cpu = time.process_time() - cpu
        rebuilt = store.topic_model()
    same = _ids(rebuilt) == _ids(final) and [(t.id, t.label) for t in rebuilt.topics] == [
        (t.id, t.label) for t in final.topics
    ]
    print()
    print(f"days: {len(days)}, papers: {len(final.assignments)}")
    print(
        f"topic ids kept across the days: {kept_all}/{had_all} ({kept_all / max(1, had_all):.1%})"
    )
    born = len(final.topics)
    retired = sum(t.retired is not None for t in final.topics)
    print(f"topics born: {born}, retired at the end: {retired}")
    print(f"nearest topic today is their own: {agree}/{assigned} ({agree / max(1, assigned):.1%})")
    print(
        f"updates: {total_time:.1f} s wall ({total_cpu:.1f} s CPU) in all,"
        f" {total_time / len(days):.2f} s wall per day"
    )
    print(
        f"rebuild: {rebuild:.1f} s wall ({rebuild_cpu:.1f} s CPU),"
        f" same ids and labels as day by day: {same}"
    )
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
