"""How well papercli's topics recover arXiv's own categories, and how fast, next to references.

Prints one table: dataset, method, n, k, NMI, ARI, seconds. Each dataset is also clustered in
the same run by scikit-learn's documented LSA + k-means pipeline ("Clustering text documents
using k-means": TfidfVectorizer(max_df=0.5, min_df=5, stop_words="english") -> TruncatedSVD(100)
-> Normalizer -> KMeans) and by plain TF-IDF + k-means, so the figures compare like with like.

    python benchmarks/topics_quality.py            # quality table
    python benchmarks/topics_quality.py --scale    # time and peak memory at 1k/10k/100k papers

Targets: RSS fixture NMI >= 0.50 in < 2 s; cs-daily NMI >= 0.30; 1,000 abstracts < 1 s;
100,000 abstracts < 45 s and < 1.5 GB, never slower than the documented pipeline.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

from papercli.models import Paper
from papercli.topics import build_topics

Clusterer = Callable[[Sequence[Paper], int | None, int], list[int]]


def papercli_topics(papers: Sequence[Paper], k: int | None, seed: int) -> list[int]:
    return build_topics(papers, k, seed=seed).assignments


def _texts(papers: Sequence[Paper]) -> list[str]:
    return [f"{p.title}. {p.abstract}" for p in papers]


def lsa_kmeans(papers: Sequence[Paper], k: int | None, seed: int) -> list[int]:
    """scikit-learn's documented LSA + k-means pipeline (n_init=5, max_iter=100)."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    vectors = TfidfVectorizer(max_df=0.5, min_df=5, stop_words="english").fit_transform(
        _texts(papers)
    )
    lsa = make_pipeline(TruncatedSVD(n_components=100, random_state=seed), Normalizer(copy=False))
    points = lsa.fit_transform(vectors)
    return KMeans(k or 20, max_iter=100, n_init=5, random_state=seed).fit_predict(points).tolist()


def tfidf_kmeans(papers: Sequence[Paper], k: int | None, seed: int) -> list[int]:
    """Plain TF-IDF + k-means, same vectoriser, no LSA."""
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectors = TfidfVectorizer(max_df=0.5, min_df=5, stop_words="english").fit_transform(
        _texts(papers)
    )
    return KMeans(k or 20, max_iter=100, n_init=5, random_state=seed).fit_predict(vectors).tolist()


METHODS: dict[str, Clusterer] = {
    "papercli": papercli_topics,
    "lsa+kmeans (sklearn doc)": lsa_kmeans,
    "tfidf+kmeans": tfidf_kmeans,
}


def datasets() -> list[tuple[str, list[Paper], list[str]]]:
    """(name with its role, papers, labels) for every labelled set."""
    rss = common.load_rss()
    cs = common.load_jsonl()
    cs_early, cs_late = common.split_cs_daily(cs)
    cut = common.CS_DAILY_HELD_OUT_FROM
    return [
        ("rss 2024-11-28, archive [tuned]", *rss),
        ("cs-daily, category [tuned]", *cs),
        (f"cs-daily ids < {cut}, category [tuned]", *cs_early),
        (f"cs-daily ids >= {cut}, category [consulted]", *cs_late),
        ("rss cs.* only, category [consulted]", *_within(rss, "cs")),
        ("api-2026 q=testing, category [consulted]", *common.load_atom()),
        ("astro-ph /new, category [consulted]", *common.load_listing()),
        ("rss math.* only, category [held out]", *_within(rss, "math")),
        ("rss physics/cond-mat, category [held out]", *_within(rss, "physics", "cond-mat")),
        ("arxiv-browse /new pages, category [held out]", *common.load_listings()),
    ]


def _within(data: common.Labelled, *archives: str) -> common.Labelled:
    """The papers of some archives, labelled by their full primary category."""
    kept = [p for p in data[0] if common.archive(p.categories[0]) in archives]
    return kept, [p.categories[0] for p in kept]


def _score(labels: list[str], assigned: list[int]) -> tuple[float, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return normalized_mutual_info_score(labels, assigned), adjusted_rand_score(labels, assigned)


def quality(seeds: int) -> None:
    import numpy as np

    build_topics(common.load_seed()[:5])  # import scikit-learn before any clock starts
    rows = []
    for name, papers, labels in datasets():
        true_k = len(set(labels))
        for method, cluster in METHODS.items():
            ks = [true_k, None] if method == "papercli" else [true_k]
            for k in ks:
                runs = []
                for seed in range(seeds):
                    start = time.perf_counter()
                    assigned = cluster(papers, k, seed)
                    elapsed = time.perf_counter() - start
                    runs.append((*_score(labels, assigned), elapsed, len(set(assigned))))
                nmi, ari, seconds, found = (float(v) for v in np.mean(runs, axis=0))
                spread = float(np.std([r[0] for r in runs]))
                shown_k = f"{true_k}" if k else f"auto={found:.0f}"
                rows.append((name, method, len(papers), shown_k, nmi, spread, ari, seconds))
                print(_row(rows[-1]), flush=True)
    print(
        "\ntuned: chose settings; consulted: looked at while choosing the merge thresholds; "
        f"held out: not used for any choice. Means over seeds 0..{seeds - 1}."
    )


def _row(row: tuple) -> str:
    name, method, n, k, nmi, spread, ari, seconds = row
    return (
        f"{name:46} {method:24} n={n:<5} k={k:<7} NMI={nmi:.3f}±{spread:.3f} "
        f"ARI={ari:.3f} {seconds:6.2f}s"
    )


def scale_one(method: str, n: int) -> None:
    """Child process: cluster n papers (repeated cs-daily abstracts), print seconds and peak MB."""
    papers = common.scaled(common.load_jsonl()[0], n)
    build_topics(common.load_seed()[:5]) if method == "papercli" else lsa_kmeans(papers[:50], 2, 0)
    start = time.perf_counter()
    METHODS[method](papers, 20, 0)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def scale(sizes: list[int]) -> None:
    for n in sizes:
        for method in ("papercli", "lsa+kmeans (sklearn doc)"):
            out = subprocess.run(
                [sys.executable, __file__, "--scale-one", method, str(n)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            print(
                f"n={n:<7} {method:26} k=20 {result['seconds']:7.2f}s  "
                f"peak RSS {result['peak_mb']:7.0f} MB (whole process)",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="store_true", help="time and memory at scale")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--scale-one", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale_one:
        scale_one(args.scale_one[0], int(args.scale_one[1]))
    elif args.scale:
        scale([int(s) for s in args.sizes.split(",")])
    else:
        quality(args.seeds)


if __name__ == "__main__":
    main()
