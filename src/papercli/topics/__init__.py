"""Topics: group papers by their titles and abstracts, label each group, match --topic queries.

Pure and seeded: the same papers, `n_topics` and seed give the same topics, labels and order
byte for byte, in any input order and on any number of threads: the papers are put in one
canonical order (by id, then text) before anything is counted, the numeric steps run on a
fixed number of threads (`threads`), and the few decisions that compare floats round first.
The pipeline, one module per stage:

    text        papers -> folded terms (spelling, plurals, hyphenation, stop words)
    features    -> counts of 1- and 2-grams, title counted 1.5x -> sublinear TF-IDF
                -> truncated SVD (LSA) -> points to cluster
    clustering  -> k-means on the leading directions, finer groups merged by average linkage
    labels      -> labels by class-based TF-IDF, written the way the papers spell them
    matching    TopicModel: finds a query's words and phrases with their variants (hyphenation,
                spelling, plural, acronyms the papers define) and the papers close to it in the
                LSA space
"""

from __future__ import annotations

from collections.abc import Sequence

from papercli import spool
from papercli.models import Paper
from papercli.topics.clustering import auto_k, find_clusters
from papercli.topics.features import Progress, Scale, count, encode, reduce, scale_for, weigh
from papercli.topics.labels import label_topics, surface
from papercli.topics.matching import Match, TopicModel
from papercli.topics.memory import collector_paused, give_back, keep_freed
from papercli.topics.text import Folder, acronyms
from papercli.topics.threads import pinned

__all__ = [
    "Folder",
    "Match",
    "Progress",
    "Scale",
    "TopicModel",
    "acronyms",
    "auto_k",
    "build_topics",
    "scale_for",
    "surface",
]


def build_topics(
    papers: Sequence[Paper],
    n_topics: int | None = None,
    *,
    seed: int = 0,
    progress: Progress | None = None,
) -> TopicModel:
    """Cluster `papers` into `n_topics` labelled topics (None: pick a number from the data).

    Topics come ordered by size (largest first) then label, ids 0..k-1 in that order, and
    `assignments[i]` is the topic of `papers[i]`. Fewer topics than asked come back when the
    papers do not have that many distinct texts; no papers give no topics. `progress` hears
    (stage, share done) for the stages reading, counting, reducing, clustering, labelling, done.

    Example: the arXiv RSS capture of 2024-11-28 (1,504 papers), n_topics=20, gives topics
    'LLMs, reasoning, AI' (209 papers), 'star, galaxies, stellar' (61), 'speech, ASR, speaker'
    (13) ...
    """
    report = progress or (lambda stage, done: None)
    if not papers:
        return TopicModel([], [], folder=Folder())
    with collector_paused():
        return _build_topics(papers, n_topics, seed, report)


def _build_topics(
    papers: Sequence[Paper], n_topics: int | None, seed: int, report: Progress
) -> TopicModel:
    import numpy as np

    folder = Folder()

    # Term numbers, k-means seeds and every tie follow the order papers come in; a canonical
    # order makes the topics the same however the store or the file happens to list them.
    order = canonical_order(papers)
    canonical = spool.Reordered(papers, order)
    position = np.empty(len(papers), dtype=np.int64)
    position[order] = np.arange(len(papers))
    scale = scale_for(len(papers))
    if not scale.trim_heap:
        keep_freed()  # the reduction's arrays reused, not faulted in afresh
    stream = encode(canonical, folder, report)
    if scale.trim_heap:
        give_back()  # the texts encoding made and dropped
    report("counting", 0.0)
    counts, bigram_keys = count(stream, len(folder.terms))
    weights, idf, names, variants = weigh(counts, folder, bigram_keys, scale)
    del counts, bigram_keys
    if scale.trim_heap:
        give_back()  # the counts of every term, now weighed down to the kept ones
    with pinned():
        report("reducing", 0.0)
        space, points = reduce(weights, idf, names, scale, seed)
        report("clustering", 0.0)
        clusters = find_clusters(points, n_topics, scale, seed)
    del points
    report("labelling", 0.0)
    topics, assignments, surfaces = label_topics(
        canonical, clusters, weights, names, folder, stream
    )
    report("done", 1.0)
    # Back to the caller's order, one structure at a time (each copy replaces its original).
    stream = stream.subset(position.tolist())
    space = space.reordered(position)
    return TopicModel(
        topics,
        [assignments[i] for i in position.tolist()],
        papers=papers,
        folder=folder,
        stream=stream,
        space=space,
        names=names,
        variants=variants,
        surfaces=surfaces,
    )


def canonical_order(papers: Sequence[Paper]) -> list[int]:
    """The indices of `papers` sorted by id, then title, then abstract: one order whatever the
    order they came in. The abstracts are compared only among papers of the same id and title,
    so a sequence that keeps them on disk (`papercli.spool`) is not read into memory whole."""
    heads = spool.heads(papers)
    order = sorted(range(len(papers)), key=heads.__getitem__)
    start = 0
    for end in range(1, len(order) + 1):
        if end == len(order) or heads[order[end]] != heads[order[start]]:
            if end - start > 1:
                order[start:end] = sorted(order[start:end], key=lambda i: papers[i].abstract)
            start = end
    return order
