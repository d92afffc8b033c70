"""papercli's k-means, silhouette and row normalisation give scikit-learn's bits, on the points
and TF-IDF rows the topics really cluster (the RSS capture), so topics are the same without
importing scikit-learn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from papercli.sources.arxiv_rss import parse as parse_rss
from papercli.topics.text import Folder

from .conftest import FIXTURES

RSS = Path("arxiv-rss/jmmeus-aioarxiv-2024-11-28/rss_mock_feed.xml")


def _sklearn_version() -> tuple[int, ...]:
    import sklearn

    return tuple(int(part) for part in sklearn.__version__.split(".")[:2])


# papercli does scikit-learn 1.9's arithmetic (the version the topics were checked against);
# an older scikit-learn may add in another order, which says nothing about papercli.
same_as_sklearn = pytest.mark.skipif(
    _sklearn_version() < (1, 9), reason="compares with scikit-learn 1.9's arithmetic"
)


@pytest.fixture(scope="module")
def real():
    """(TF-IDF rows, the points k-means is given) of the 1,504 papers of the RSS capture."""
    from papercli.topics.features import count, encode, reduce, scale_for, weigh

    papers = parse_rss((FIXTURES / RSS).read_bytes()).papers
    folder = Folder()
    stream = encode(papers, folder, lambda stage, done: None)
    counts, bigrams = count(stream, len(folder.terms))
    scale = scale_for(len(papers))
    weights, idf, names, _ = weigh(counts, folder, bigrams, scale)
    points = reduce(weights, idf, names, scale, 0)[1]
    return weights, points.astype("float64")


@same_as_sklearn
@pytest.mark.parametrize(
    ("rows", "k", "n_init", "seed", "max_iter"),
    [
        (None, 60, 1, 0, 100),  # the finer groups of a large corpus
        (None, 20, 3, 0, 100),
        (None, 9, 3, 7, 100),
        (400, 40, 3, 1, 100),
        (None, 30, 1, 2, 3),  # stopped before converging: labels from the last centres
    ],
)
def test_kmeans_gives_scikit_learns_groups_to_the_bit(real, rows, k, n_init, seed, max_iter):
    import numpy as np
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    from papercli.topics.kmeans import kmeans

    points = real[1][:rows]
    with threadpool_limits(1):
        want = KMeans(k, n_init=n_init, max_iter=max_iter, random_state=seed).fit(points.copy())
        got = kmeans(points.copy(), k, n_init=n_init, seed=seed, max_iter=max_iter)
    assert np.array_equal(got.labels_, want.labels_)
    assert np.array_equal(got.cluster_centers_, want.cluster_centers_)
    assert got.inertia_ == want.inertia_


@same_as_sklearn
def test_kmeans_in_place_and_with_empty_groups_gives_scikit_learns_bits(real) -> None:
    # 40 distinct points each 5 times and 60 groups: groups fall empty and take the point
    # farthest from its centre. In place, the points come back as scikit-learn leaves them.
    import numpy as np
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    from papercli.topics.kmeans import kmeans

    points = np.repeat(real[1][:40], 5, axis=0)
    theirs, ours = points.copy(), points.copy()
    with (
        threadpool_limits(1),
        pytest.warns(Warning),  # scikit-learn: fewer distinct clusters than asked
    ):
        want = KMeans(60, n_init=3, max_iter=100, random_state=0, copy_x=False).fit(theirs)
    with threadpool_limits(1):
        got = kmeans(ours, 60, n_init=3, seed=0, in_place=True)
    assert np.array_equal(got.labels_, want.labels_)
    assert np.array_equal(got.cluster_centers_, want.cluster_centers_)
    assert np.array_equal(ours, theirs)


@same_as_sklearn
@pytest.mark.parametrize("k", [2, 12, 34])
def test_silhouette_is_scikit_learns(real, k) -> None:
    import numpy as np
    from sklearn.metrics import silhouette_score

    from papercli.topics.kmeans import kmeans, silhouette_cosine

    points = real[1][:900]
    labels = kmeans(points, k, n_init=1, seed=0).labels_
    labels[:3] = [k, k + 1, k + 1]  # a group of one point (scored 0) and a group of two
    want = silhouette_score(points, labels, metric="cosine")
    assert silhouette_cosine(points, labels) == want
    assert silhouette_cosine(points, labels * 3 + 5) == want  # any group numbers
    assert not np.isnan(want)


@same_as_sklearn
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rows_are_normalised_as_scikit_learn_normalises_them(real, dtype) -> None:
    import numpy as np
    from scipy import sparse
    from sklearn.preprocessing import normalize

    from papercli.topics.features import _NORMALIZE_BLOCK, normalize_rows

    weights = real[0].astype(dtype)
    weights.data *= 3.7  # not unit rows already
    empty = sparse.csr_matrix((2, weights.shape[1]), dtype=dtype)
    gaps = sparse.vstack([weights[:3], empty, weights[3:6]]).tocsr()
    tall = sparse.vstack([weights] * (_NORMALIZE_BLOCK // weights.shape[0] + 2)).tocsr()
    for matrix in [weights, gaps, tall]:  # empty rows; several blocks of rows
        want = normalize(matrix.copy())
        got = normalize_rows(matrix.copy())
        assert got.dtype == want.dtype
        assert np.array_equal(got.data, want.data) and np.array_equal(got.indices, want.indices)
    dense = np.asarray(real[1][:300], dtype=dtype) * 0.3
    dense[4] = 0.0
    dense[7] = 1e-17  # below 10 epsilons: left as it is
    assert np.array_equal(normalize_rows(dense.copy()), normalize(dense.copy()))


def test_topics_and_digests_do_not_import_scikit_learn(tmp_path, fixtures) -> None:
    # Importing it imports SciPy's statistics: a second of every run.
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from papercli.sources.arxiv_rss import parse\n"
        "from papercli.topics import build_topics\n"
        f"papers = parse(Path({str(fixtures / RSS)!r}).read_bytes()).papers[:400]\n"
        "build_topics(papers, None)\n"
        "build_topics(papers, 8)\n"
        "assert 'sklearn' not in sys.modules, 'scikit-learn imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


@same_as_sklearn
def test_squares_are_added_four_at_a_time_as_scikit_learns_loop_adds_them(real) -> None:
    # The centre shifts and the inertia: sums of squares in the order of its C loop, which
    # scikit-learn exposes for its own tests.
    import numpy as np

    common = pytest.importorskip("sklearn.cluster._k_means_common")
    from papercli.topics.kmeans import _unrolled_squares

    rng = np.random.default_rng(0)
    for width in [1, 3, 4, 7, 100]:
        a = rng.normal(size=(200, width)) * rng.choice([1e-3, 1.0, 1e3], size=(200, width))
        b = np.ascontiguousarray(real[1][:200, :width])
        got = _unrolled_squares(a - b)
        want = [
            common._euclidean_dense_dense_wrapper(x, y, True) for x, y in zip(a, b, strict=True)
        ]
        assert np.array_equal(got, want), width
