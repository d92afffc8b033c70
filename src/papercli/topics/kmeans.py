"""k-means and the silhouette, in NumPy: scikit-learn's KMeans (Lloyd, k-means++) and
silhouette_score(metric="cosine"), step for step, without importing scikit-learn.

Importing scikit-learn imports SciPy's statistics, about a second of every `digest` and
`topics` run (1,000 papers to HTML took 2.3 s, 1.0 s of it that import). The arithmetic here
is the arithmetic of scikit-learn 1.9 on one thread, operation for operation, so the groups
are the same bits (`tests/test_kmeans.py` compares labels, centres and inertia with
KMeans on real points):

- k-means++ draws from the same `RandomState` in the same order and measures distances with
  the same NumPy products;
- Lloyd's assignment step runs the same BLAS call (SciPy's, `dgemm` with alpha -2 and beta 1
  on the centres' squared norms, 256 points at a time);
- a centre sums its points in the order of the points, as scikit-learn's loop does: a
  sparse one-hot matrix times the points adds each row in turn, starting from zero;
- the centre shift and the inertia add their squares four at a time, as its C loops do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from papercli.topics.features import normalize_rows

if TYPE_CHECKING:
    import numpy as np

_CHUNK = 256  # points per assignment block (scikit-learn's CHUNK_SIZE)


class KMeansFit(NamedTuple):
    labels_: np.ndarray  # int32, a group per point
    cluster_centers_: np.ndarray  # (k, dimensions)
    inertia_: float


def kmeans(
    points: np.ndarray,
    k: int,
    *,
    n_init: int,
    seed: int,
    max_iter: int = 100,
    tol: float = 1e-4,
    in_place: bool = False,
) -> KMeansFit:
    """KMeans(k, n_init=n_init, max_iter=max_iter, tol=tol, random_state=seed,
    copy_x=not in_place).fit(points) for C-ordered float64 `points`. `in_place` centres the
    points themselves and adds the mean back after (their last bits may change)."""
    import numpy as np

    if points.dtype != np.float64 or not points.flags.c_contiguous:
        points = np.ascontiguousarray(points, dtype=np.float64)
    elif not in_place:
        points = points.copy()
    tolerance = float(np.mean(np.var(points, axis=0)) * tol) if tol else 0.0
    random = np.random.RandomState(seed)
    mean = points.mean(axis=0)
    points -= mean
    squared_norms = _row_norms_squared(points)
    best: KMeansFit | None = None
    for _ in range(n_init):
        centres = _plus_plus(points, k, squared_norms, random)
        labels, inertia, centres = _lloyd(points, centres, max_iter, tolerance)
        if best is None or (
            inertia < best.inertia_ and not _same_clustering(labels, best.labels_, k)
        ):
            best = KMeansFit(labels, centres, inertia)
    assert best is not None
    if in_place:
        points += mean
    best.cluster_centers_[...] += mean
    return best


def _row_norms_squared(points: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.einsum("ij,ij->i", points, points)


def _distances(rows: np.ndarray, points: np.ndarray, squared_norms: np.ndarray) -> np.ndarray:
    """Squared distances from `rows` to every point, as euclidean_distances(squared=True)."""
    import numpy as np

    distances = -2 * (rows @ points.T)
    distances += _row_norms_squared(rows)[:, None]
    distances += squared_norms.reshape(1, -1)
    np.maximum(distances, 0, out=distances)
    return distances


def _plus_plus(
    points: np.ndarray, k: int, squared_norms: np.ndarray, random: np.random.RandomState
) -> np.ndarray:
    """k-means++ seeds: each of k - 1 steps samples 2 + ln k candidates in proportion to their
    squared distance from the seeds so far and keeps the one that lowers the total most."""
    import numpy as np

    n, dimensions = points.shape
    weight = np.ones(n, dtype=points.dtype)
    centres = np.empty((k, dimensions), dtype=points.dtype)
    trials = 2 + int(np.log(k))
    first = random.choice(n, p=weight / weight.sum())
    centres[0] = points[first]
    closest = _distances(centres[0, np.newaxis], points, squared_norms)
    potential = closest @ weight
    for c in range(1, k):
        values = random.uniform(size=trials) * potential
        candidates = np.searchsorted(np.cumsum(weight * closest), values)
        np.clip(candidates, None, closest.size - 1, out=candidates)
        to_candidates = _distances(points[candidates], points, squared_norms)
        np.minimum(closest, to_candidates, out=to_candidates)
        potentials = to_candidates @ weight.reshape(-1, 1)
        best = np.argmin(potentials)
        potential = potentials[best]
        closest = to_candidates[best]
        centres[c] = points[candidates[best]]
    return centres


def _lloyd(
    points: np.ndarray, centres: np.ndarray, max_iter: int, tolerance: float
) -> tuple[np.ndarray, float, np.ndarray]:
    """Lloyd's iterations from `centres`: (labels, inertia, centres)."""
    import numpy as np

    labels_old = np.full(len(points), -1, dtype=np.int32)
    strict = False
    for _ in range(max_iter):
        labels = _assign(points, centres)
        new, shift = _update(points, centres, labels)
        centres = new
        if np.array_equal(labels, labels_old):
            strict = True
            break
        if float((shift**2).sum()) <= tolerance:
            break
        labels_old = labels
    if not strict:
        labels = _assign(points, centres)
    return labels, _inertia(points, centres, labels), centres


def _assign(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The nearest centre of each point (the first of equals), by ||c||^2 - 2 x.c."""
    import numpy as np
    from scipy.linalg import blas

    norms = _row_norms_squared(centres)
    labels = np.empty(len(points), dtype=np.int32)
    for start in range(0, len(points), _CHUNK):
        block = points[start : start + _CHUNK]
        filled = np.empty((len(centres), len(block)), order="F")
        filled[...] = norms[:, None]
        # scikit-learn's row-major gemm is this column-major one: (centres x points) =
        # -2 * centres^T' (the C-ordered centres read column-major, transposed) @ the block
        # read column-major, + the norms; the same call, so the same kernel and sums.
        distances = blas.dgemm(-2.0, centres.T, block.T, beta=1.0, c=filled, trans_a=True,
                               overwrite_c=True)  # fmt: skip
        labels[start : start + len(block)] = np.argmin(distances, axis=0)
    return labels


def _update(
    points: np.ndarray, centres: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(new centres, how far each moved): each centre the mean of its points, an empty group
    given the point farthest from its centre."""
    import numpy as np
    from scipy import sparse

    n, k = len(points), len(centres)
    members = sparse.csr_matrix(
        (np.ones(n), (labels, np.arange(n))), shape=(k, n)
    )  # row i: the points of group i, in order
    sums = np.asarray(members @ points)
    weight = np.bincount(labels, minlength=k).astype(points.dtype)
    empty = np.flatnonzero(weight == 0)
    if len(empty):
        distances = ((points - centres[labels]) ** 2).sum(axis=1)
        far = np.argpartition(distances, -len(empty))[: -len(empty) - 1 : -1]
        if np.max(distances) != 0:
            for group, point in zip(empty.tolist(), far.tolist(), strict=True):
                old = labels[point]
                sums[old] -= points[point]
                sums[group] = points[point]
                weight[group] = 1.0
                weight[old] -= 1.0
    largest = int(np.argmax(weight))
    for group in range(k):
        if weight[group] > 0:
            sums[group] *= 1.0 / weight[group]
        else:
            sums[group] = sums[largest]
    return sums, np.sqrt(_unrolled_squares(sums - centres))


def _unrolled_squares(differences: np.ndarray) -> np.ndarray:
    """Each row's sum of squares, added as scikit-learn's C loop adds them: four at a time,
    ((a^2 + b^2) + c^2) + d^2, each four added to the total in turn, then the rest one by one."""
    import numpy as np

    squares = differences * differences
    whole = squares.shape[1] // 4 * 4
    a, b, c, d = (squares[:, i:whole:4] for i in range(4))
    fours = ((a + b) + c) + d
    parts = np.concatenate([np.zeros((len(squares), 1)), fours, squares[:, whole:]], axis=1)
    return np.cumsum(parts, axis=1)[:, -1]


def _inertia(points: np.ndarray, centres: np.ndarray, labels: np.ndarray) -> float:
    """The sum of squared distances to the assigned centres, added point after point (a block
    of points at a time, so no copy of all the points is made)."""
    import numpy as np

    total = 0.0
    for start in range(0, len(points), 4096):
        block = slice(start, start + 4096)
        squared = _unrolled_squares(points[block] - centres[labels[block]])
        total = float(np.cumsum(np.concatenate([[total], squared]))[-1])
    return total


def _same_clustering(a: np.ndarray, b: np.ndarray, k: int) -> bool:
    """Are two labellings the same groups, whatever their numbers?"""
    mapping = [-1] * k
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        if mapping[x] == -1:
            mapping[x] = y
        elif mapping[x] != y:
            return False
    return True


def silhouette_cosine(points: np.ndarray, labels: np.ndarray) -> float:
    """silhouette_score(points, labels, metric="cosine"): the mean over points of
    (b - a) / max(a, b), a the mean cosine distance to the point's own group, b to the nearest
    other group; 0 for a point alone in its group."""
    import numpy as np

    labels = np.unique(labels, return_inverse=True)[1]
    labels = labels.ravel()
    sizes = np.bincount(labels)
    n = len(points)
    unit = normalize_rows(np.array(points, dtype=np.float64))  # as cosine_distances does
    intra = np.empty(n)
    inter = np.empty(n)
    for start in range(0, n, 1024):
        distances = unit[start : start + 1024] @ unit.T
        distances *= -1
        distances += 1
        np.clip(distances, 0, 2, out=distances)
        rows = np.arange(start, min(start + 1024, n))
        distances[rows - start, rows] = 0.0
        by_group = np.empty((len(distances), len(sizes)))
        for i in range(len(distances)):
            by_group[i] = np.bincount(labels, weights=distances[i], minlength=len(sizes))
        own = labels[start : start + 1024]
        intra[start : start + len(own)] = by_group[np.arange(len(own)), own]
        by_group[np.arange(len(own)), own] = np.inf
        inter[start : start + len(own)] = (by_group / sizes).min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        intra /= sizes[labels] - 1
        scores = (inter - intra) / np.maximum(intra, inter)
    return float(np.mean(np.nan_to_num(scores)))
