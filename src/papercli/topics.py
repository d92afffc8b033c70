"""Topics: group papers by their titles and abstracts, label each group, match --topic queries.

Pure and seeded: the same papers, `n_topics` and seed give the same topics, labels and order
byte for byte (on one machine: BLAS sums in an order that can depend on its thread count).
The pipeline, each step sized to the corpus by `scale_for`:

    papers -> folded terms (topics_text) -> counts of 1- and 2-grams, title counted 1.5x
           -> sublinear TF-IDF -> truncated SVD (LSA) -> k-means on the leading directions,
              finer groups merged by average linkage -> labels by class-based TF-IDF,
              written the way the papers spell them

Matching a query finds its words and phrases with their variants (hyphenation, spelling,
plural, acronyms the papers define) and the papers close to it in the LSA space.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from papercli.models import Paper, Topic
from papercli.topics_text import (
    PAPER_END,
    PREFIXES,
    TITLE_END,
    Folder,
    dedupe,
    ngrams,
    phrase,
)

if TYPE_CHECKING:
    import numpy as np
    from scipy import sparse

Progress = Callable[[str, float], None]

TITLE_WEIGHT = 1.5  # a title word says more about the topic than an abstract word
LABEL_TERMS = 3  # terms in a label
TOPIC_TERMS = 8  # terms kept on a Topic
MAX_AUTO_TOPICS = 40  # a digest reader will not scan more groups than this
OVERSPLIT = 3  # k-means groups per topic before merging (see _cluster)
# Papers per topic from which groups are merged: each of the finer groups then holds 15 or more
# papers, enough for its centre to be more than noise.
MERGE_FROM = 50
MAX_TOPIC_SHARE = 6.0  # merging never makes a topic larger than this many mean topic sizes
# A paper that does not name the query still matches when its cosine to the query in the LSA
# space is at least this, and at least that of the typical paper naming the query.
SEMANTIC_MIN = 0.35
COMPLETE_SHARE = 0.5  # a neighbour word in half the uses of a term joins its phrase
_CHUNK = 4096  # papers encoded per batch, bounding the Python lists alive at once
_LABEL_SAMPLE = 500  # papers of a topic read to word its label
_SURFACE_SAMPLE = 12  # papers read to find how a term is written
_BREAK = 0


@dataclass
class Match:
    """A paper that matched --topic: its index in the input, how well, and which terms did it."""

    index: int
    score: float
    terms: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Scale:
    """Settings that depend on the number of papers.

    arxiv-sanity's min_df=5, max_df=0.1 fit 30,000 abstracts; on a 60-paper page they would
    keep nothing, so both grow with the corpus instead.
    """

    min_df: int  # a term must be in this many papers to count
    max_df: float  # ... and in at most this share of them
    max_features: int  # the commonest terms kept beyond that (bounds SVD time and memory)
    components: int  # LSA dimensions
    neighbors: int  # kNN smoothing before k-means (0: none; it costs n^2, pays off mid-size)
    n_init: int  # k-means restarts, best inertia kept (plain k-means; see _cluster)


def scale_for(n: int) -> Scale:
    """The settings for `n` papers: scale_for(67) -> min_df 2, max_df 0.5, 66 components ..."""
    return Scale(
        min_df=1 if n < 10 else max(2, round(n / 5000)),
        max_df=1.0 if n < 20 else 0.5,
        max_features=10_000,
        components=max(1, min(100, n - 1)),
        neighbors=10 if 200 <= n <= 5_000 else 0,
        n_init=3 if n <= 2_000 else 2,
    )


# --- the corpus as one stream of term numbers -----------------------------------------------


class _Stream:
    """Every paper's title and abstract as one array of term numbers, 0 between phrases.

    Paper i spans [starts[i], starts[i + 1]); its title ends at title_ends[i]. Runs of breaks
    are squeezed to one, so a phrase with a break ('theory | mind') matches by equality.
    """

    def __init__(self, ids: np.ndarray, starts: np.ndarray, title_ends: np.ndarray) -> None:
        import numpy as np

        keep = np.ones(len(ids), dtype=bool)
        keep[1:] = (ids[1:] != _BREAK) | (ids[:-1] != _BREAK)
        before = np.cumsum(keep) - keep  # kept items before each position
        self.ids = ids[keep]
        self.starts = np.append(before[starts], len(self.ids)) if len(ids) else np.zeros(1, int)
        self.title_ends = before[title_ends] if len(ids) else np.zeros(0, int)

    def __len__(self) -> int:
        return len(self.starts) - 1

    def paper_of(self, positions: np.ndarray) -> np.ndarray:
        import numpy as np

        return np.searchsorted(self.starts, positions, side="right") - 1

    def find(self, phrase_ids: Sequence[int]) -> np.ndarray:
        """Start positions of a phrase (term numbers) lying within one paper."""
        import numpy as np

        ids, length = self.ids, len(phrase_ids)
        if not length or length > len(ids):
            return np.zeros(0, dtype=np.int64)
        found = np.flatnonzero(ids[: len(ids) - length + 1] == phrase_ids[0])
        for offset, term in enumerate(phrase_ids[1:], 1):
            found = found[ids[found + offset] == term]
        return found[self.paper_of(found) == self.paper_of(found + length - 1)]

    def subset(self, papers: Sequence[int]) -> _Stream:
        """A stream of just these papers, in this order."""
        import numpy as np

        spans = [(self.starts[i], self.starts[i + 1], self.title_ends[i]) for i in papers]
        if not spans:
            empty = np.zeros(0, dtype=np.int64)
            return _Stream(np.zeros(0, dtype=self.ids.dtype), empty, empty)
        ids = np.concatenate([self.ids[a:b] for a, b, _ in spans])
        lengths = np.asarray([b - a for a, b, _ in spans])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        title_ends = starts + np.asarray([t - a for a, _, t in spans])
        sub = _Stream.__new__(_Stream)
        sub.ids = ids
        sub.starts = np.append(starts, len(ids))
        sub.title_ends = title_ends
        return sub


def _encode(papers: Sequence[Paper], folder: Folder, report: Progress) -> _Stream:
    """The papers' folded titles and abstracts as a `_Stream`."""
    import numpy as np

    parts = []
    for start in range(0, len(papers), _CHUNK):
        report("reading", start / len(papers))
        chunk = papers[start : start + _CHUNK]
        ids = folder.encode_papers((p.title, p.abstract) for p in chunk)
        parts.append(_join_prefixes(ids, folder))
    ids = np.concatenate(parts)
    paper_ends = np.flatnonzero(ids == PAPER_END)
    title_ends = np.flatnonzero(ids == TITLE_END)
    ids[(ids == PAPER_END) | (ids == TITLE_END)] = _BREAK
    return _Stream(ids, np.concatenate([[0], paper_ends[:-1] + 1]), title_ends)


def _join_prefixes(ids: np.ndarray, folder: Folder) -> np.ndarray:
    """'pre training' -> 'pretraining': a prefix written apart glued to the next term."""
    import numpy as np

    if not folder.prefix_ids:
        return ids
    prefix = np.isin(ids[:-1], sorted(folder.prefix_ids)) & (ids[1:] > PAPER_END)
    glued: list[int] = []
    for at in np.flatnonzero(prefix).tolist():
        if glued and glued[-1] == at:
            continue  # 'pre pre training': the second prefix is already glued
        ids[at] = folder.join(int(ids[at]), int(ids[at + 1]))
        glued.append(at + 1)
    return np.delete(ids, glued) if glued else ids


def _count(stream: _Stream, n_terms: int) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Counts of every unigram and bigram per paper, title terms weighing TITLE_WEIGHT.

    Columns: term numbers first, then one per distinct bigram; the second array holds each
    bigram's (first * n_terms + second) so names are only spelled out for kept columns.
    """
    import numpy as np
    from scipy import sparse

    ids = stream.ids
    lengths = np.diff(stream.starts)
    paper = np.repeat(np.arange(len(stream), dtype=np.int32), lengths)
    title_lengths = stream.title_ends - stream.starts[:-1]
    in_title = np.repeat(
        np.tile(np.asarray([True, False]), len(stream)),
        np.column_stack([title_lengths, lengths - title_lengths]).ravel(),
    )
    weight = np.where(in_title, np.float32(TITLE_WEIGHT), np.float32(1.0))
    word = ids != _BREAK
    unigrams = sparse.csr_matrix(
        (weight[word], (paper[word], ids[word])), shape=(len(stream), n_terms)
    )
    pair = (ids[:-1] != _BREAK) & (ids[1:] != _BREAK) & (ids[:-1] != ids[1:])
    keys = ids[:-1][pair].astype(np.int64) * n_terms + ids[1:][pair]
    bigram_keys, column = np.unique(keys, return_inverse=True)
    bigrams = sparse.csr_matrix(
        (weight[:-1][pair], (paper[:-1][pair], column.ravel())),
        shape=(len(stream), len(bigram_keys)),
    )
    return sparse.hstack([unigrams, bigrams], format="csr"), bigram_keys


def _names(columns: np.ndarray, terms: list[str], bigram_keys: np.ndarray) -> list[str]:
    n_terms = len(terms)
    names = []
    for column in columns.tolist():
        if column < n_terms:
            names.append(terms[column])
        else:
            first, second = divmod(int(bigram_keys[column - n_terms]), n_terms)
            names.append(f"{terms[first]} {terms[second]}")
    return names


# --- weighting and reducing -------------------------------------------------------------------


def _weigh(
    counts: sparse.csr_matrix, folder: Folder, bigram_keys: np.ndarray, scale: Scale
) -> tuple[sparse.csr_matrix, np.ndarray, list[str], dict[str, list[str]]]:
    """Sublinear TF-IDF over the terms neither too rare nor too common: (weights, idf, names,
    variants). A term written solid and apart ('finetuning', 'fine tuning') becomes one column
    named by its commoner form; `variants` maps each form to the other."""
    import numpy as np
    from scipy import sparse

    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    keep = np.flatnonzero((df >= scale.min_df) & (df <= max(1.0, scale.max_df * n)))
    if len(keep) > scale.max_features:
        commonest = np.argsort(-df[keep], kind="stable")[: scale.max_features]
        keep = np.sort(keep[commonest])
    names = _names(keep, folder.terms, bigram_keys)
    counts, names, variants = _merge_spellings(counts[:, keep], names, df[keep])
    weights = counts.astype(np.float32)
    weights.data = 1 + np.log(weights.data)
    df = np.bincount(weights.indices, minlength=weights.shape[1])
    idf = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
    weights = (weights @ sparse.diags(idf)).tocsr()
    if weights.shape[1]:
        weights = _normalize_rows(weights)
    return weights, idf, names, variants


def _merge_spellings(
    counts: sparse.csr_matrix, names: list[str], df: np.ndarray
) -> tuple[sparse.csr_matrix, list[str], dict[str, list[str]]]:
    import numpy as np
    from scipy import sparse

    position = {t: i for i, t in enumerate(names)}
    target = np.arange(len(names))
    variants: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        solid = position.get(name.replace(" ", "")) if " " in name else None
        if solid is None:
            continue
        kept, dropped = (i, solid) if df[i] >= df[solid] else (solid, i)
        target[dropped] = kept
        variants.setdefault(names[kept], []).append(names[dropped])
        variants.setdefault(names[dropped], []).append(names[kept])
    if not variants:
        return counts, names, variants
    survivors = np.flatnonzero(target == np.arange(len(names)))
    new_index = np.full(len(names), -1)
    new_index[survivors] = np.arange(len(survivors))
    mapping = sparse.csr_matrix(
        (np.ones(len(names), dtype=counts.dtype), (np.arange(len(names)), new_index[target])),
        shape=(len(names), len(survivors)),
    )
    return (counts @ mapping).tocsr(), [names[i] for i in survivors], variants


def _normalize_rows(matrix: Any) -> Any:
    from sklearn.preprocessing import normalize

    return normalize(matrix, copy=False)


@dataclass
class _Space:
    """The fitted vocabulary and LSA projection: turns text into a point papers can be near."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    components: np.ndarray | None  # (dimensions, terms); None when the corpus is too small
    documents: Any  # one unit row per paper, in the LSA space (TF-IDF rows if no components)
    weights: sparse.csr_matrix  # TF-IDF, one row per paper

    def vector(self, grams: list[str]) -> np.ndarray:
        """The unit vector of a bag of terms in the space of `documents` (zeros if unknown)."""
        import numpy as np

        dense = np.zeros(len(self.idf), dtype=np.float32)
        for gram, count in Counter(g for g in grams if g in self.vocabulary).items():
            column = self.vocabulary[gram]
            dense[column] = (1 + math.log(count)) * self.idf[column]
        point = dense @ self.components.T if self.components is not None else dense
        norm = float(np.linalg.norm(point))
        return point / norm if norm > 0 else point

    def similarity(self, point: np.ndarray) -> np.ndarray:
        """Cosine of every paper to a unit vector."""
        import numpy as np

        return np.asarray(self.documents @ point).ravel()

    def explain(self, index: int, point: np.ndarray, names: list[str], n: int = 3) -> list[str]:
        """The terms of paper `index` that bring it closest to `point`."""
        import numpy as np

        row = self.weights.getrow(index)
        basis = self.components[:, row.indices] if self.components is not None else None
        pull = row.data * (point @ basis if basis is not None else point[row.indices])
        order = np.argsort(-pull, kind="stable")[:n]
        return [names[row.indices[j]] for j in order if pull[j] > 0]


def _reduce(
    weights: sparse.csr_matrix, idf: np.ndarray, names: list[str], scale: Scale, seed: int
) -> tuple[_Space, np.ndarray]:
    """The LSA space (for matching) and the points to cluster.

    Clustering uses U·Σ³ rather than LSA's U·Σ: weighting the leading directions up makes
    k-means split along the corpus's main themes instead of along noise (on arXiv abstracts
    it raises NMI against the categories by 0.01-0.04 over plain LSA; benchmarks/).
    """
    import numpy as np
    from sklearn.decomposition import TruncatedSVD

    vocabulary = {t: i for i, t in enumerate(names)}
    dimensions = min(scale.components, weights.shape[1] - 1)
    if dimensions < 2:
        return _Space(vocabulary, idf, None, weights, weights), weights.toarray()
    svd = TruncatedSVD(dimensions, algorithm="randomized", n_iter=3, random_state=seed)
    points = svd.fit_transform(weights).astype(np.float32)
    components = svd.components_.astype(np.float32)
    space = _Space(vocabulary, idf, components, _normalize_rows(points.copy()), weights)
    leading = _normalize_rows(points * (svd.singular_values_.astype(np.float32) ** 2))
    if scale.neighbors:
        leading = _smooth(leading, scale.neighbors)
    return space, leading


def _smooth(points: np.ndarray, neighbors: int, keep: float = 0.2) -> np.ndarray:
    """Each point moved toward the mean of its nearest neighbours, then renormalised.

    Short abstracts are noisy samples of their topic; averaging with close neighbours cleans
    the groups k-means then finds (blockwise, so memory stays at block x n).
    """
    import numpy as np

    neighbors = min(neighbors, len(points) - 1)
    smoothed = np.empty_like(points)
    block = 1024
    for start in range(0, len(points), block):
        similarity = points[start : start + block] @ points.T
        nearest = np.argpartition(-similarity, neighbors, axis=1)[:, : neighbors + 1]
        mean = points[nearest].mean(axis=1)
        smoothed[start : start + block] = keep * points[start : start + block] + (1 - keep) * mean
    return _normalize_rows(smoothed)


# --- clustering -------------------------------------------------------------------------------


def _cluster(points: np.ndarray, n_topics: int | None, scale: Scale, seed: int) -> np.ndarray:
    """Cluster labels: k-means into OVERSPLIT x k groups, merged into k by average linkage.

    Plain k-means cuts a corpus into groups of similar size, splitting a big field in arbitrary
    halves; merging finer groups by similarity lets topics be as uneven as the papers are. On
    arXiv abstracts with 75-600 papers per topic it raises NMI against the categories by
    0.01-0.03, held-out sets included (benchmarks/topics_quality.py); with fewer papers per
    topic the finer groups are too small and plain k-means does better.
    """
    import numpy as np

    n, dimensions = points.shape
    if dimensions == 0 or n < 2:
        return np.zeros(n, dtype=np.int64)
    k = auto_k(points, seed) if n_topics is None else n_topics
    k = max(1, min(k, len(np.unique(points.round(4), axis=0))))
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    fine = min(OVERSPLIT * k, n // 2)
    if n < MERGE_FROM * k or fine <= k:
        return _kmeans(points, k, scale.n_init, seed)
    # One k-means run is enough here: the merge evens out where its seeds fell (three runs
    # gave the same NMI within 0.005 on the RSS and cs-daily sets, in 1.5x the time).
    groups = _kmeans_model(points, fine, 1, seed)
    sizes = np.bincount(groups.labels_, minlength=fine)
    merged = _merge(groups.cluster_centers_, sizes, k)
    return merged[groups.labels_]


def _merge(centres: np.ndarray, sizes: np.ndarray, k: int) -> np.ndarray:
    """Average-linkage (UPGMA) agglomeration of groups down to k clusters, from the groups' mean
    points (not normalised: with unit points the dot product of two means is the mean cosine
    between the groups' papers, so a tight group is nearer than a diffuse one whose centre points
    the same way), weighting each group by its papers. Two guards for readers: a cluster of
    fewer than a tenth of the mean topic size joins its nearest neighbour first (no topic of a
    stray paper or two), and no merge makes a topic of more than MAX_TOPIC_SHARE mean sizes (no
    catch-all topic). Returns a cluster per centre.

    Against unit centres merged group by group, on the RSS and cs-daily sets this raised NMI
    0.461 -> 0.473 and 0.289 -> 0.296 (8 seeds; with MAX_TOPIC_SHARE 6 instead of 4)."""
    import numpy as np

    mean_size = sizes.sum() / k
    similarity = (centres @ centres.T).astype(np.float64)
    np.fill_diagonal(similarity, -np.inf)
    papers = sizes.astype(np.float64)
    alive = np.ones(len(centres), dtype=bool)
    cluster = np.arange(len(centres))
    for _ in range(len(centres) - k):
        live = np.flatnonzero(alive)
        smallest = live[np.argmin(papers[live])]
        if papers[smallest] < max(2.0, 0.1 * mean_size):
            i, j = smallest, live[np.argmax(similarity[smallest, live])]
        else:
            block = similarity[np.ix_(live, live)]
            too_big = papers[live][:, None] + papers[live][None, :] > MAX_TOPIC_SHARE * mean_size
            if not too_big.all():
                block = np.where(too_big, -np.inf, block)
            a, b = np.unravel_index(np.argmax(block), block.shape)
            i, j = live[a], live[b]
        joined = (papers[i] * similarity[i] + papers[j] * similarity[j]) / (papers[i] + papers[j])
        similarity[i, :] = similarity[:, i] = joined
        similarity[j, :] = similarity[:, j] = -np.inf
        similarity[i, i] = -np.inf
        papers[i] += papers[j]
        alive[j] = False
        cluster[cluster == j] = i
    return np.unique(cluster, return_inverse=True)[1].ravel()


def _kmeans(points: np.ndarray, k: int, n_init: int, seed: int) -> np.ndarray:
    return _kmeans_model(points, k, n_init, seed).labels_


def _kmeans_model(points: np.ndarray, k: int, n_init: int, seed: int) -> Any:
    from sklearn.cluster import KMeans

    return KMeans(k, n_init=n_init, max_iter=100, random_state=seed).fit(points)


def auto_k(points: np.ndarray, seed: int) -> int:
    """A number of topics: the best silhouette among a few sizes around sqrt(n/2)
    (5-9 for 67 papers, 22-40 for 1,500), at most MAX_AUTO_TOPICS."""
    import numpy as np
    from sklearn.metrics import silhouette_score

    n = len(points)
    if n < 4:
        return 1
    guess = math.sqrt(n / 2)
    candidates = sorted(
        {max(2, min(MAX_AUTO_TOPICS, n - 1, round(guess * f))) for f in (0.8, 1.0, 1.25, 1.5)}
    )
    sample = np.sort(np.random.default_rng(seed).choice(n, size=min(n, 3000), replace=False))
    best, best_score = candidates[0], -2.0
    for k in candidates:
        labels = _kmeans(points[sample], k, 3, seed)
        if len(set(labels.tolist())) < 2:
            continue
        score = float(silhouette_score(points[sample], labels, metric="cosine"))
        if score > best_score + 1e-9:
            best, best_score = k, score
    return best


# --- labels -----------------------------------------------------------------------------------


def _label(
    papers: Sequence[Paper],
    clusters: np.ndarray,
    weights: sparse.csr_matrix,
    names: list[str],
    folder: Folder,
    stream: _Stream,
) -> tuple[list[Topic], list[int], dict[str, str]]:
    """Topics with readable labels, ordered by size then label; assignments follow the order."""
    import numpy as np

    found = sorted(set(clusters.tolist()))
    samples = [np.flatnonzero(clusters == c)[:_LABEL_SAMPLE].tolist() for c in found]
    synonyms = acronyms([papers[i] for sample in samples for i in sample[:150]], folder)
    surfaces: dict[str, str] = {}
    scores = _distinctive(clusters, found, weights)
    drafts = []
    for row, (cluster, members) in enumerate(zip(found, samples, strict=True)):
        order = np.argsort(-scores[row], kind="stable")[:40]
        candidates = {names[j]: float(scores[row, j]) for j in order if scores[row, j] > 0}
        text = _TopicText(stream.subset(members), folder)
        ranked = sorted(candidates, key=lambda t: (-candidates[t] * (1 + text.title_share(t)), t))

        def holding(
            term: str, members: list[int] = members, text: _TopicText = text
        ) -> list[Paper]:
            return [papers[members[i]] for i in text.papers_with(term)[:_SURFACE_SAMPLE]]

        def fragment(term: str) -> bool:
            return " " not in term and _hyphen_bound(term, folder.spellings, holding(term))

        shown = []
        for term in _pick_terms(ranked, text, TOPIC_TERMS, synonyms, fragment):
            if term not in surfaces:
                surfaces[term] = surface(term, folder.spellings, holding(term))
            shown.append(surfaces[term])
        drafts.append((cluster, int((clusters == cluster).sum()), dedupe(shown)))
    ordered = sorted(_unique_labels(drafts), key=lambda d: (-d[1], d[3], d[0]))
    new_id = {cluster: i for i, (cluster, *_rest) in enumerate(ordered)}
    topics = [
        Topic(id=new_id[c], label=label, terms=shown, size=size)
        for c, size, shown, label in ordered
    ]
    return topics, [new_id[c] for c in clusters.tolist()], surfaces


def _distinctive(clusters: np.ndarray, found: list[int], weights: sparse.csr_matrix) -> np.ndarray:
    """Class-based TF-IDF, (clusters, terms): a term's mean weight in the cluster times
    log(1 + its share of the cluster's papers / its smoothed share of the other papers).
    A term must be in two of the cluster's papers (one if the cluster has one)."""
    import numpy as np
    from scipy import sparse

    n = weights.shape[0]
    rows = np.searchsorted(found, clusters)
    member = sparse.csr_matrix(
        (np.ones(n, dtype=np.float32), (rows, np.arange(n))), shape=(len(found), n)
    )
    present = weights.copy()
    present.data[:] = 1
    sizes = np.asarray(member.sum(axis=1)).ravel()
    df_in = (member @ present).toarray()
    share_in = df_in / sizes[:, None]
    share_out = (df_in.sum(axis=0)[None, :] - df_in + 1) / (n - sizes[:, None] + 2)
    mean_weight = (member @ weights).toarray() / sizes[:, None]
    enough = df_in >= np.minimum(2, sizes)[:, None]
    return np.where(enough, mean_weight * np.log1p(share_in / share_out), 0.0)


class _TopicText:
    """The folded titles and abstracts of one topic's papers, to count and grow phrases."""

    def __init__(self, stream: _Stream, folder: Folder) -> None:
        self.stream = stream
        self.folder = folder

    def _ids(self, term: str) -> list[int]:
        return [self.folder.find(word) or -1 for word in term.split()]

    def papers_with(self, term: str) -> list[int]:
        """The topic's papers (positions in its sample) that hold `term`."""
        return sorted(set(self.stream.paper_of(self.stream.find(self._ids(term))).tolist()))

    def df(self, term: str) -> int:
        """How many of the topic's papers hold `term`."""
        return len(self.papers_with(term))

    def title_share(self, term: str) -> float:
        """The share of the topic's titles that hold `term`: titles name topics."""
        stream = self.stream
        found = stream.find(self._ids(term))
        in_title = found < stream.title_ends[stream.paper_of(found)]
        return len(set(stream.paper_of(found[in_title]).tolist())) / max(1, len(stream))

    def complete(self, term: str) -> str:
        """`term` grown by a word that nearly always goes with it in this topic.

        'language model' -> 'large language model' when most of its uses say 'large ...'.
        """
        grown = True
        while grown and len(term.split()) < 3:
            grown = False
            for before in (True, False):
                neighbour = self._neighbour(term, before)
                if neighbour:
                    term = f"{neighbour} {term}" if before else f"{term} {neighbour}"
                    grown = True
                    break
        return term

    def _neighbour(self, term: str, before: bool) -> str | None:
        import numpy as np

        ids = self._ids(term)
        found = self.stream.find(ids)
        if len(found) < 2:
            return None
        at = found - 1 if before else found + len(ids)
        at = at[(at >= 0) & (at < len(self.stream.ids))]
        words = self.stream.ids[at]
        words = words[(words != _BREAK) & ~np.isin(words, ids)]
        if not len(words):
            return None
        values, counts = np.unique(words, return_counts=True)
        best = int(np.argmax(counts))  # ties: the lowest term number, fixed for a corpus
        if counts[best] >= 2 and counts[best] >= COMPLETE_SHARE * len(found):
            return self.folder.terms[int(values[best])]
        return None


def _pick_terms(
    ranked: list[str],
    text: _TopicText,
    limit: int,
    synonyms: dict[str, list[str]],
    fragment: Callable[[str], bool],
) -> list[str]:
    """Up to `limit` terms that share no word, so no fragment repeats inside a phrase.

    ['fine', 'grained', 'fine grained', 'image'] -> ['fine grained', 'image']: a phrase takes
    the place of its words when it covers at least half of their uses, else it is skipped;
    overlapping phrases join when the papers say the joined phrase
    ('next token' + 'token prediction' -> 'next token prediction'). An acronym and its
    expansion count as one term ('llm', 'large language model'). A word the papers only write
    as part of a hyphenated word ('fine' of 'fine-tuning', 'fine-grained') is never a term.
    """
    chosen: list[str] = []
    for candidate in ranked:
        if len(chosen) >= limit:
            break
        term = text.complete(candidate)
        if any(_same_thing(term, c, synonyms) for c in chosen) or fragment(term):
            continue
        words = set(term.split())
        overlapping = [c for c in chosen if words & set(c.split())]
        if not overlapping:
            chosen.append(term)
            continue
        if len(overlapping) > 1 or any(term == c or _inside(term, c) for c in overlapping):
            continue
        old = overlapping[0]
        if _inside(old, term):
            if text.df(term) >= 0.5 * text.df(old):
                chosen[chosen.index(old)] = term
            continue
        joined = _join_overlap(old, term) or _join_overlap(term, old)
        if joined and text.df(joined) >= 2:
            chosen[chosen.index(old)] = joined
    return chosen


def _same_thing(a: str, b: str, synonyms: dict[str, list[str]]) -> bool:
    """Do two terms name one thing through an acronym? ('gs', '3d gaussian splatting') -> True
    when the papers define 'Gaussian Splatting (GS)'."""
    return any(
        other == whole or _inside(other, whole)
        for short, whole in ((a, b), (b, a))
        for other in synonyms.get(short, [])
    )


def _join_overlap(first: str, second: str) -> str | None:
    """'next token', 'token prediction' -> 'next token prediction'; None if they do not chain."""
    a, b = first.split(), second.split()
    for size in range(min(len(a), len(b)) - 1, 0, -1):
        if a[-size:] == b[:size]:
            return " ".join(a + b[size:])
    return None


def _inside(small: str, big: str) -> bool:
    """Is phrase `small` a whole-word part of phrase `big`? ('fine', 'fine grained') -> True."""
    return small != big and f" {small} " in f" {big} "


def surface(term: str, spellings: Callable[[str], list[str]], papers: Sequence[Paper]) -> str:
    """The way the papers most often write a folded term.

    'diffusion model' -> 'diffusion models'; 'pretraining' -> 'pre-training';
    'llm' -> 'LLMs'. Abstracts are searched first (titles capitalise every word).
    """
    pattern = _spelling_pattern(term, spellings)
    first = term.split()[0][:4]
    for texts in ([p.abstract for p in papers], [p.title for p in papers]):
        seen = Counter(
            " ".join(m.group(0).split())
            for text in texts
            if first in text.lower()
            for m in pattern.finditer(text)
        )
        if seen:
            return _commonest_spelling(seen)
    return term


def _hyphen_bound(
    word: str, spellings: Callable[[str], list[str]], papers: Sequence[Paper]
) -> bool:
    """Do the papers write `word` mostly (80%) glued by a hyphen to another word?"""
    pattern = _spelling_pattern(word, spellings)
    bound = total = 0
    for paper in papers:
        for text in (paper.title, paper.abstract):
            for match in pattern.finditer(text):
                total += 1
                start, end = match.start(), match.end()
                bound += text[end : end + 1] in _DASHES or text[start - 1 : start] in _DASHES
    return total > 0 and bound >= 0.8 * total


_DASHES = frozenset("-‐‑")


def _spelling_pattern(term: str, spellings: Callable[[str], list[str]]) -> re.Pattern[str]:
    def forms(word: str) -> str:
        written = {w for w in spellings(word) if "'" not in w and "’" not in w} | {word}
        for prefix in PREFIXES:
            rest = word[len(prefix) :]
            if word.startswith(prefix) and len(rest) > 2:
                written |= {f"{prefix} {r}" for r in [*spellings(rest), rest]}
        alternatives = sorted(written, key=lambda w: (-len(w), w))
        return "|".join(re.escape(w).replace(r"\ ", r"[\s\-‐‑]+") for w in alternatives)

    body = r"[\s\-‐‑]+".join(f"(?:{forms(w)})" for w in term.split())
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _commonest_spelling(seen: Counter[str]) -> str:
    """The commonest spelling ignoring case, in its commonest case, or lower case when that is
    not rare (capitals from starting a sentence or from Title Case are not the word's own)."""
    by_fold: Counter[str] = Counter()
    for written, count in seen.items():
        by_fold[written.casefold()] += count
    best = min(by_fold, key=lambda w: (-by_fold[w], w))
    cases = sorted(
        ((count, written) for written, count in seen.items() if written.casefold() == best),
        key=lambda item: (-item[0], item[1]),
    )
    lower = [(count, written) for count, written in cases if written == written.lower()]
    if lower and lower[0][0] * 3 >= cases[0][0]:
        return lower[0][1]
    return cases[0][1]


def _unique_labels(
    drafts: list[tuple[int, int, list[str]]],
) -> list[tuple[int, int, list[str], str]]:
    """Labels of LABEL_TERMS terms, changed where two topics would read the same."""
    used: set[str] = set()
    labelled = []
    for cluster, size, shown in sorted(drafts, key=lambda d: (-d[1], d[0])):
        options = [shown[:LABEL_TERMS]] + [
            [*shown[: LABEL_TERMS - 1], extra] for extra in shown[LABEL_TERMS:]
        ]
        labels = [", ".join(option) for option in options if option]
        base = labels[0] if labels else "other"
        labels += [base] + [f"{base} ({i})" for i in range(2, len(drafts) + 2)]
        label = next(label for label in labels if label not in used)
        used.add(label)
        labelled.append((cluster, size, shown, label))
    return labelled


# --- acronyms ---------------------------------------------------------------------------------

_ACRONYM = re.compile(r"\(\s*([A-Z][A-Za-z0-9\-]*[A-Z0-9])(s?)\s*\)")
_JOINERS = frozenset(["of", "and", "for", "the", "in", "on", "to", "with", "a", "an", "by"])


def acronyms(papers: Sequence[Paper], folder: Folder) -> dict[str, list[str]]:
    """Acronyms the papers define, folded, mapped both ways.

    'Large Language Models (LLMs)' -> {'llm': ['large language model'],
    'large language model': ['llm']}
    """
    table: dict[str, set[str]] = {}
    for paper in papers:
        for text in (paper.title, paper.abstract):
            for match in _ACRONYM.finditer(text):
                before = text[max(0, match.start() - 120) : match.start()].split()[-8:]
                acronym = match.group(1)
                capitals = "".join(c for c in acronym if c.isupper())
                expansion = _expansion(before, acronym) or _expansion(before, capitals)
                if not expansion:
                    continue
                short = phrase(folder, match.group(1) + match.group(2))
                long = phrase(folder, " ".join(expansion))
                if short and long and short != long and "|" not in long:
                    table.setdefault(short, set()).add(long)
                    table.setdefault(long, set()).add(short)
    return {key: sorted(values) for key, values in sorted(table.items())}


def _expansion(words: list[str], acronym: str) -> list[str]:
    """The trailing words whose initials spell the acronym, or [] if they do not.

    (['we', 'use', 'Retrieval-Augmented', 'Generation'], 'RAG') ->
    ['Retrieval-Augmented', 'Generation']; LoRA is tried as 'LoRA' and as 'LRA'.
    """
    letters = [c.lower() for c in acronym if c.isalpha()]
    taken: list[str] = []
    for word in reversed(words):
        if not letters:
            break
        initials = [part[0].lower() for part in word.split("-") if part and part[0].isalnum()]
        if initials and initials == letters[-len(initials) :]:
            del letters[-len(initials) :]
            taken.append(word)
        elif initials and initials[-1] == letters[-1]:
            letters.pop()
            taken.append(word)
        elif word.lower() in _JOINERS and taken:
            taken.append(word)
        else:
            return []
    if letters or not taken or taken[-1].lower() in _JOINERS:
        return []
    return taken[::-1]


# --- the model --------------------------------------------------------------------------------


class TopicModel:
    """Topics of a list of papers, and the means to match queries against those papers."""

    def __init__(
        self,
        topics: list[Topic],
        assignments: list[int],
        *,
        papers: Sequence[Paper] = (),
        folder: Folder | None = None,
        stream: _Stream | None = None,
        space: _Space | None = None,
        names: list[str] | None = None,
        variants: dict[str, list[str]] | None = None,
        surfaces: dict[str, str] | None = None,
    ) -> None:
        self.topics = topics
        self.assignments = assignments
        self._papers = list(papers)
        self._folder = folder or Folder()
        self._stream = stream
        self._space = space
        self._names = names or []
        self._variants = variants or {}
        self._surfaces = surfaces or {}
        self._acronyms: dict[str, list[str]] | None = None
        self._centres: np.ndarray | None = None

    def match(self, queries: Sequence[str], excludes: Sequence[str] = ()) -> list[Match]:
        """Papers matching any query and no exclude, best first (score desc, then index).

        A paper matches a query when its text holds the query's words or a variant of them
        (score 0.5-1: higher in the title and the closer the paper is to the query), or, without
        naming it, lies close to it in the topic space (score below 0.5). Excludes remove the
        papers whose text holds them (or a variant).
        """
        found: dict[int, Match] = {}
        for query in queries:
            for match in self._match_one(query):
                best = found.get(match.index)
                if best is None:
                    found[match.index] = match
                else:
                    best.terms = dedupe(best.terms + match.terms)
                    best.score = max(best.score, match.score)
        excluded = self.excluded(excludes)
        kept = [m for i, m in found.items() if i not in excluded]
        return sorted(kept, key=lambda m: (-m.score, m.index))

    def excluded(self, excludes: Sequence[str]) -> set[int]:
        """Indices of the papers whose text holds any of `excludes` (or a variant of one).

        Only words count here, never closeness: an exclude removes what names it.
        """
        return {i for exclude in excludes for i in self._lexical(exclude)}

    def closest_topics(self, query: str, n: int = 3) -> list[Topic]:
        """The `n` topics nearest to `query` (for "matched nothing; closest topics: ...")."""
        if not self.topics or self._space is None:
            return self.topics[:n]
        similarity = self._topic_centres() @ self._space.vector(self._grams(query))
        return sorted(self.topics, key=lambda t: (-round(float(similarity[t.id]), 6), t.id))[:n]

    def _topic_centres(self) -> np.ndarray:
        import numpy as np

        assert self._space is not None
        if self._centres is None:
            labels = np.asarray(self.assignments)
            documents = self._space.documents
            centres = [
                np.asarray(documents[labels == t.id].mean(axis=0)).ravel() for t in self.topics
            ]
            self._centres = _normalize_rows(np.vstack(centres))
        return self._centres

    def _grams(self, query: str) -> list[str]:
        return ngrams(self._folder.tokens(query))

    def _forms(self, query: str) -> dict[str, str]:
        """The folded phrases that count as the query -> how to show each one.

        'fine-tuning' -> {'fine tuning': 'fine-tuning', 'finetuning': 'finetuning'};
        'LLMs' -> {'llm': 'LLMs', 'large language model': 'large language models'}
        """
        folded = phrase(self._folder, query)
        if not folded:
            return {}
        forms = {folded: query.strip()}
        for variant in self._variants.get(folded, []):
            forms.setdefault(variant, "")
        for other in self._acronym_table().get(folded, []):
            forms.setdefault(other, other.upper() if " " not in other else "")
        return forms

    def _acronym_table(self) -> dict[str, list[str]]:
        if self._acronyms is None:
            self._acronyms = acronyms(self._papers, self._folder)
        return self._acronyms

    def _shown(self, term: str, papers: Sequence[int]) -> str:
        """A folded term as the papers write it (looked up once per term)."""
        if term not in self._surfaces:
            sample = [self._papers[i] for i in list(papers)[:_SURFACE_SAMPLE]]
            self._surfaces[term] = surface(term, self._folder.spellings, sample)
        return self._surfaces[term]

    def _lexical(self, query: str) -> dict[int, tuple[bool, list[str]]]:
        """index -> (found in a title, forms found) for the papers whose text holds the query."""
        hits: dict[int, tuple[bool, list[str]]] = {}
        if self._stream is None:
            return hits
        stream = self._stream
        for folded, shown in self._forms(query).items():
            ids = [_BREAK if w == "|" else self._folder.find(w) for w in folded.split()]
            if any(i is None for i in ids):
                continue
            found = stream.find(ids)  # type: ignore[arg-type]
            papers = stream.paper_of(found)
            in_title = found < stream.title_ends[papers]
            shown = shown or self._shown(folded, papers.tolist())
            for paper, title in zip(papers.tolist(), in_title.tolist(), strict=True):
                was_title, before = hits.get(paper, (False, []))
                hits[paper] = (was_title or title, before if shown in before else [*before, shown])
        return hits

    def _match_one(self, query: str) -> list[Match]:
        import numpy as np

        hits = self._lexical(query)
        grams = self._grams(query)
        if self._space is None or not grams:
            return [Match(i, 0.75 if t else 0.5, s) for i, (t, s) in sorted(hits.items())]
        point = self._space.vector(grams)
        similarity = self._space.similarity(point)
        matches = []
        for i, (in_title, shown) in sorted(hits.items()):
            closeness = max(float(similarity[i]), 0.0)
            matches.append(Match(i, _score(0.5 + 0.25 * in_title + 0.25 * closeness), shown))
        typical = float(np.median(similarity[sorted(hits)])) if hits else 0.0
        close = similarity >= max(SEMANTIC_MIN, typical)
        for i in map(int, close.nonzero()[0]):
            if i not in hits:
                why = self._space.explain(i, point, self._names)
                shown = [self._shown(t, [i]) for t in why]
                matches.append(Match(i, _score(0.5 * float(similarity[i])), shown))
        return matches


def _score(value: float) -> float:
    """Scores to 4 decimals: enough to rank, and the same whatever BLAS's thread count."""
    return round(value, 4)


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
    folder = Folder()
    if not papers:
        return TopicModel([], [], folder=folder)
    scale = scale_for(len(papers))
    stream = _encode(papers, folder, report)
    report("counting", 0.0)
    counts, bigram_keys = _count(stream, len(folder.terms))
    weights, idf, names, variants = _weigh(counts, folder, bigram_keys, scale)
    del counts, bigram_keys
    report("reducing", 0.0)
    space, points = _reduce(weights, idf, names, scale, seed)
    report("clustering", 0.0)
    clusters = _cluster(points, n_topics, scale, seed)
    report("labelling", 0.0)
    topics, assignments, surfaces = _label(papers, clusters, weights, names, folder, stream)
    report("done", 1.0)
    return TopicModel(
        topics,
        assignments,
        papers=papers,
        folder=folder,
        stream=stream,
        space=space,
        names=names,
        variants=variants,
        surfaces=surfaces,
    )
