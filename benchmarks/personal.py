"""Personal ranking: speed, and ranking quality for simulated readers, next to two baselines.

    python benchmarks/personal.py            # both tables
    python benchmarks/personal.py --quick    # fewer readers, for a quick look
    python benchmarks/personal.py --only speed

Quality, on the labelled cs abstracts in ../shared/fixtures/abstracts (7,970 papers; the arXiv ids
order them in time): each simulated reader is interested in one smaller category listed anywhere
on a paper (cs.RO, cs.GR, cs.HC, cs.SD, eess.IV, cs.CR, cs.IR). Their library is the 30 earliest
papers of that category; the later papers are cut into "days" of 300 in id order and each day is
ranked. A paper is relevant when it lists the category. Reported: precision@10, @20 and nDCG@20,
averaged over the days and then over the readers, for

- keyword: papercli's own `--topic` matching with a query naming the category's subject
  ("robotics", "graphics", ...), the matches first by match score, then the rest in id order;
- arxiv-sanity: arxiv-sanity-lite's recipe (TF-IDF as in its compute.py: 1-2-grams, sublinear
  tf, max_df 0.1, min_df 5, 20,000 features, English stop words, over title | authors | abstract;
  LinearSVC(C=0.01, class_weight="balanced") with the library as positives and every other paper
  seen so far, the day's included, as negatives), retrained for each day as that app does;
- personal: papercli's model (papercli.personal.model), trained once when the library is added,
  on the library and the 1,000 papers seen last before the first day (the weak negatives), then
  reused for every day, as the store's cache does;
- personal, retrained each day (not what papercli does; measured to choose): the weak
  negatives refreshed with every day, the 1,000 papers seen before it, and the same with the
  day's own papers among them. papercli keeps the negatives it had at the reader's latest
  signal (here the library add, before the first day), which is the "personal" row;
- personal + 10 dislikes: after the first day the reader dislikes the 10 off-topic papers the
  model ranked highest that day; the model is retrained; scored on the first day again, as the
  digest then shows it (the disliked papers hidden), and on the days after the first (compared
  with plain personal on the same days: whether the dislikes teach the model anything).

Targets (issue 13): personal >= 1.3x keyword in precision@20, >= arxiv-sanity, and the dislikes
raise precision@20.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

from papercli.models import Page, Paper
from papercli.personal.model import STRONG, WEAK, Example, Scorer, train
from papercli.selection import Matcher

READERS = {
    "cs.RO": ["robotics", "robot"],
    "cs.GR": ["computer graphics", "graphics"],
    "cs.HC": ["human-computer interaction"],
    "cs.SD": ["sound"],
    "eess.IV": ["image processing", "video processing"],
    "cs.CR": ["cryptography", "security"],
    "cs.IR": ["information retrieval"],
}
LIBRARY_SIZE = 30
DAY = 300
RECENT = 1000
DISLIKES = 10

Ranking = Callable[[Sequence[Paper]], list[float]]


# --- metrics ----------------------------------------------------------------------------------


def precision_at(relevant: list[bool], k: int) -> float:
    return sum(relevant[:k]) / k


def ndcg_at(relevant: list[bool], k: int) -> float | None:
    """Binary-relevance nDCG@k; None when the day holds nothing relevant."""
    ideal = sum(1 / math.log2(i + 2) for i in range(min(sum(relevant), k)))
    if not ideal:
        return None
    return sum(1 / math.log2(i + 2) for i, r in enumerate(relevant[:k]) if r) / ideal


def evaluate(days: list[list[Paper]], category: str, rank: Callable[[int], list[float]]):
    """(p@10, p@20, nDCG@20) averaged over the days; `rank(day index)` scores that day."""
    p10, p20, ndcg = [], [], []
    for index, day in enumerate(days):
        scores = rank(index)
        order = sorted(range(len(day)), key=lambda i: (-scores[i], day[i].id))
        relevant = [category in day[i].categories for i in order]
        p10.append(precision_at(relevant, 10))
        p20.append(precision_at(relevant, 20))
        value = ndcg_at(relevant, 20)
        if value is not None:
            ndcg.append(value)
    return _mean(p10), _mean(p20), _mean(ndcg)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# --- the rankers ------------------------------------------------------------------------------


def keyword(queries: list[str]) -> Ranking:
    matcher = Matcher(queries)

    def scores(day: Sequence[Paper]) -> list[float]:
        found = [matcher.match(p) for p in day]
        return [m.score if m is not None else 0.0 for m in found]

    return scores


def sanity_text(paper: Paper) -> str:
    return f"{paper.title} | {' '.join(paper.authors)} | {paper.abstract}"


def arxiv_sanity(library: list[Paper], seen: list[Paper]) -> list[float]:
    """arxiv-sanity-lite's recipe over `seen` (all papers so far); scores of all of `seen`."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(
        input="content", encoding="utf-8", decode_error="replace", strip_accents="unicode",
        lowercase=True, analyzer="word", stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2), max_features=20000,
        norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True, max_df=0.1, min_df=5,
    )  # fmt: skip
    matrix = vectorizer.fit_transform([sanity_text(p) for p in seen])
    positive = {p.id for p in library}
    labels = np.asarray([p.id in positive for p in seen], dtype=int)
    svm = LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=0.01)
    svm.fit(matrix, labels)
    return svm.decision_function(matrix).tolist()


def personal_model(library: list[Paper], disliked: list[Paper], unrated: list[Paper]) -> Scorer:
    examples = [Example(p.id, p.title, p.abstract, 1, 1.0, "library") for p in library]
    examples += [Example(p.id, p.title, p.abstract, 0, STRONG, "disliked") for p in disliked]
    examples += [Example(p.id, p.title, p.abstract, 0, WEAK, "unrated") for p in unrated]
    return Scorer(train(examples))


def personal_scores(scorer: Scorer, day: Sequence[Paper]) -> list[float]:
    return [s.score for s in scorer.score([(p.title, p.abstract) for p in day], explain=False)]


# --- one reader -------------------------------------------------------------------------------


def simulate(papers: list[Paper], category: str, queries: list[str]) -> dict[str, tuple]:
    """Every ranker's (p@10, p@20, nDCG@20) for one reader."""
    mine = [i for i, p in enumerate(papers) if category in p.categories]
    cut = mine[LIBRARY_SIZE - 1] + 1
    library = [papers[i] for i in mine[:LIBRARY_SIZE]]
    library_ids = {p.id for p in library}
    later = papers[cut:]
    days = [later[i : i + DAY] for i in range(0, len(later), DAY)]
    days = [d for d in days if len(d) >= DAY // 2]
    before = [p for p in papers[:cut] if p.id not in library_ids]
    unrated = before[-RECENT:]

    results: dict[str, tuple] = {}
    kw = keyword(queries)
    results["keyword"] = evaluate(days, category, lambda i: kw(days[i]))

    def sanity(i: int) -> list[float]:
        seen = papers[: cut + sum(len(d) for d in days[: i + 1])]
        scores = arxiv_sanity(library, seen)
        return scores[-len(days[i]) :]

    results["arxiv-sanity"] = evaluate(days, category, sanity)
    scorer = personal_model(library, [], unrated)
    results["personal"] = evaluate(days, category, lambda i: personal_scores(scorer, days[i]))

    def daily(i: int, *, own: bool = False) -> list[float]:
        seen = before + [p for d in days[: i + 1 if own else i] for p in d]
        return personal_scores(personal_model(library, [], seen[-RECENT:]), days[i])

    results["personal, retrained each day"] = evaluate(days, category, daily)
    results["same, the day's own papers as negatives"] = evaluate(
        days, category, lambda i: daily(i, own=True)
    )

    # Ten dislikes from the first day, then the later days only.
    first = days[0]
    scores = personal_scores(scorer, first)
    ranked = sorted(range(len(first)), key=lambda i: (-scores[i], first[i].id))
    disliked = [first[i] for i in ranked if category not in first[i].categories][:DISLIKES]
    # Both retrained after the first day (its papers join the weak negatives): the only
    # difference is the ten dislikes.
    plain = personal_model(library, [], (before + first)[-RECENT:])
    recent = [p for p in (before + first) if p not in disliked][-RECENT:]
    retrained = personal_model(library, disliked, recent)
    # The same day again, as `digest --rank personal` shows it once the ten are disliked: the
    # model retrained, the disliked papers hidden.
    shown = [p for p in first if p not in disliked]
    results["personal, day 1"] = evaluate([first], category, lambda i: scores)
    results["+10 dislikes, day 1 again"] = evaluate(
        [shown], category, lambda i: personal_scores(retrained, shown)
    )
    rest = days[1:]
    results["personal, days 2+"] = evaluate(
        rest, category, lambda i: personal_scores(plain, rest[i])
    )
    results["+10 dislikes, days 2+"] = evaluate(
        rest, category, lambda i: personal_scores(retrained, rest[i])
    )
    return results


# --- speed ------------------------------------------------------------------------------------


def speed(papers: list[Paper]) -> list[tuple[str, float, str]]:
    """Seconds to train on 1,000 signals (through the store, as `digest` does) and to score
    1,000 new papers with the reasons."""
    from papercli.personal.ranking import Ranker, current_model
    from papercli.personal.signals import DISLIKE, LIKE, LibraryEntry, Signals
    from papercli.store import Store

    stored, new = papers[:3000], papers[3000:4000]
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "papers.db") as store:
        store.upsert_page("bench", Page("jsonl", stored), fetched_at="2026-01-01T00:00:00Z")
        signals = Signals(store)
        signals.add_library(
            [LibraryEntry(p.id, p.title, p.abstract, p.authors, p.id) for p in stored[:500]]
        )
        signals.rate([p.id for p in stored[500:900]], LIKE)
        signals.rate([p.id for p in stored[900:1000]], DISLIKE)
        import sklearn.linear_model  # noqa: F401  (the import, ~1 s, is paid once per run)

        start = time.perf_counter()
        model = current_model(signals)
        trained = time.perf_counter() - start
        assert model is not None
        ranker = Ranker(model, ["Yann LeCun", "Fei-Fei Li"])
        ranker.judge(new[:10])  # imports paid once, as in any digest
        start = time.perf_counter()
        judged = ranker.judge(new)
        scored = time.perf_counter() - start
        assert len(judged) == 1000 and all(j.why for j in judged)
        start = time.perf_counter()
        again = current_model(signals)
        cached = time.perf_counter() - start
        assert again is not None and again.trained_at == model.trained_at
    return [
        ("train on 1,000 signals (+1,000 weak negatives)", trained, "< 5 s"),
        ("score 1,000 new papers, with reasons", scored, "< 1 s"),
        ("load the cached model (signals unchanged)", cached, "-"),
    ]


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="three readers only")
    parser.add_argument("--only", choices=["speed", "quality"], help="one of the two tables")
    args = parser.parse_args(argv)
    papers, _ = common.load_jsonl(common.CS_DAILY)
    papers.sort(key=lambda p: p.id)

    if args.only != "quality":
        print("| measure | seconds | target |")
        print("|---|---:|---|")
        for name, seconds, target in speed(papers):
            print(f"| {name} | {seconds:.2f} | {target} |")
        print()
    if args.only != "speed":
        quality(papers, args.quick)


def quality(papers: list[Paper], quick: bool) -> None:

    readers = list(READERS.items())[: 3 if quick else None]
    names = [
        "keyword",
        "arxiv-sanity",
        "personal",
        "personal, retrained each day",
        "same, the day's own papers as negatives",
        "personal, day 1",
        "+10 dislikes, day 1 again",
        "personal, days 2+",
        "+10 dislikes, days 2+",
    ]
    totals: dict[str, list[tuple]] = {n: [] for n in names}
    print("| reader | ranker | p@10 | p@20 | nDCG@20 |")
    print("|---|---|---:|---:|---:|")
    for category, queries in readers:
        results = simulate(papers, category, queries)
        for name in names:
            p10, p20, ndcg = results[name]
            totals[name].append(results[name])
            print(f"| {category} | {name} | {p10:.3f} | {p20:.3f} | {ndcg:.3f} |")
    print(f"| **mean of {len(readers)}** | | | | |")
    means = {n: [_mean([r[k] for r in totals[n]]) for k in range(3)] for n in names}
    for name in names:
        p10, p20, ndcg = means[name]
        print(f"| mean | {name} | {p10:.3f} | {p20:.3f} | {ndcg:.3f} |")
    print()
    ratio = means["personal"][1] / max(means["keyword"][1], 1e-9)
    print(f"personal / keyword, p@20: {ratio:.2f}x (target >= 1.3)")
    print(
        f"personal - arxiv-sanity, p@20: {means['personal'][1] - means['arxiv-sanity'][1]:+.3f}"
        " (target >= 0)"
    )
    daily = means["personal, retrained each day"][1] - means["personal"][1]
    print(f"retrained each day - trained once, p@20: {daily:+.3f}")
    again = means["+10 dislikes, day 1 again"][1] - means["personal, day 1"][1]
    print(f"10 dislikes, p@20 of day 1 shown again: {again:+.3f}")
    gain = means["+10 dislikes, days 2+"][1] - means["personal, days 2+"][1]
    print(f"10 dislikes, p@20 on days 2+: {gain:+.3f} (target > 0)")


if __name__ == "__main__":
    main()
