"""Clustering: the points -> topic numbers. k-means into finer groups merged by average
linkage, and the number of topics picked by silhouette when none is given."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from papercli.topics.features import Scale
from papercli.topics.kmeans import KMeansFit, kmeans, silhouette_cosine

if TYPE_CHECKING:
    import numpy as np

MAX_AUTO_TOPICS = 40  # a digest reader will not scan more groups than this
OVERSPLIT = 3  # k-means groups per topic before merging (see find_clusters)
# Papers per topic from which groups are merged: each of the finer groups then holds 15 or more
# papers, enough for its centre to be more than noise.
MERGE_FROM = 50
MAX_TOPIC_SHARE = 6.0  # merging never makes a topic larger than this many mean topic sizes
# Similarities and silhouettes are rounded to this many decimals before they are compared, so a
# near tie falls to the lower index (a canonical order) instead of to a last bit that another
# BLAS, CPU or thread count may set differently.
DECIMALS = 6


def find_clusters(points: np.ndarray, n_topics: int | None, scale: Scale, seed: int) -> np.ndarray:
    """Cluster labels: k-means into OVERSPLIT x k groups, merged into k by average linkage.

    Plain k-means cuts a corpus into groups of similar size, splitting a big field in arbitrary
    halves; merging finer groups by similarity lets topics be as uneven as the papers are. On
    arXiv abstracts with 75-600 papers per topic it raises NMI against the categories by
    0.01-0.03, held-out sets included (benchmarks/topics_quality.py); with fewer papers per
    topic the finer groups are too small and plain k-means does better.
    """
    import numpy as np

    # k-means and the silhouettes in float64 too: in float32 a distance another BLAS sums in
    # another order moved a paper to another group, and the groups after it (3,000 abstracts).
    # The last k-means centres `points` in place: the caller does not use them after.
    points = np.asarray(points, dtype=np.float64)
    n, dimensions = points.shape
    if dimensions == 0 or n < 2:
        return np.zeros(n, dtype=np.int64)
    k = auto_k(points, seed) if n_topics is None else n_topics
    k = max(1, min(k, _distinct(points, k)))
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    fine = min(OVERSPLIT * k, n // 2)
    if n < MERGE_FROM * k or fine <= k:
        return _kmeans(points, k, scale.n_init, seed, in_place=True)
    # One k-means run is enough here: the merge evens out where its seeds fell (three runs
    # gave the same NMI within 0.005 on the RSS and cs-daily sets, in 1.5x the time).
    groups = _kmeans_model(points, fine, 1, seed, in_place=True)
    sizes = np.bincount(groups.labels_, minlength=fine)
    merged = _merge(groups.cluster_centers_, sizes, k)
    return merged[groups.labels_]


def _distinct(points: np.ndarray, enough: int) -> int:
    """How many distinct rows `points` holds to 4 decimals, counted up to `enough`: the count
    np.unique(points.round(4), axis=0) gives, capped, without sorting a rounded copy of every
    point (at 75,000 papers that raised the peak by 170 MB; here a corpus stops at k rows)."""
    seen: set[bytes] = set()
    for start in range(0, len(points), 1024):
        block = points[start : start + 1024].round(4) + 0.0  # -0.0 and 0.0: one value
        for row in block:
            seen.add(row.tobytes())
            if len(seen) >= enough:
                return enough
    return len(seen)


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
    similarity = np.round((centres @ centres.T).astype(np.float64), DECIMALS)
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
        joined = np.round(joined, DECIMALS)
        similarity[i, :] = similarity[:, i] = joined
        similarity[j, :] = similarity[:, j] = -np.inf
        similarity[i, i] = -np.inf
        papers[i] += papers[j]
        alive[j] = False
        cluster[cluster == j] = i
    return np.unique(cluster, return_inverse=True)[1].ravel()


def _kmeans(
    points: np.ndarray, k: int, n_init: int, seed: int, *, in_place: bool = False
) -> np.ndarray:
    return _kmeans_model(points, k, n_init, seed, in_place=in_place).labels_


def _kmeans_model(
    points: np.ndarray, k: int, n_init: int, seed: int, *, in_place: bool = False
) -> KMeansFit:
    """k-means of float64 `points` (scikit-learn's KMeans, see `topics.kmeans`). `in_place`:
    it centres `points` themselves and adds the mean back after, which may change their last
    bits, instead of centring a copy (60 MB at 75,000 papers); the groups are the same."""
    return kmeans(points, k, n_init=n_init, seed=seed, max_iter=100, in_place=in_place)


def auto_k(points: np.ndarray, seed: int) -> int:
    """A number of topics: the best silhouette among a few sizes around sqrt(n/2)
    (5-9 for 67 papers, 22-40 for 1,500), at most MAX_AUTO_TOPICS. Silhouettes equal to 4
    decimals count as a tie, won by the smaller k."""
    import numpy as np

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
        score = round(silhouette_cosine(points[sample], labels), 4)
        if score > best_score:
            best, best_score = k, score
    return best
