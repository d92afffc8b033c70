"""Features: papers -> term counts -> TF-IDF weights -> the LSA space and the points to cluster.

    papers -> folded terms (text) -> counts of 1- and 2-grams, title counted 1.5x
           -> sublinear TF-IDF -> truncated SVD (LSA) -> points weighted to the leading
              directions, smoothed toward their neighbours mid-size

Each step is sized to the corpus by `scale_for`.
"""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from papercli import spool
from papercli.models import Paper
from papercli.topics.text import PAPER_END, TITLE_END, Folder

if TYPE_CHECKING:
    import numpy as np
    from scipy import sparse

Progress = Callable[[str, float], None]

TITLE_WEIGHT = 1.5  # a title word says more about the topic than an abstract word
_CHUNK = 4096  # papers encoded per batch, bounding the Python lists alive at once
BREAK = 0  # the term number between phrases
DECIMALS = 6  # the points to cluster are rounded to this (unit vectors: 1e-6 is far below noise)


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
    n_init: int  # k-means restarts, best inertia kept (plain k-means; see clustering.find_clusters)
    trim_heap: bool  # hand freed heap pages back between stages, else keep them (topics.memory)


def scale_for(n: int) -> Scale:
    """The settings for `n` papers: scale_for(67) -> min_df 2, max_df 0.5, 66 components ..."""
    return Scale(
        min_df=1 if n < 10 else max(2, round(n / 5000)),
        max_df=1.0 if n < 20 else 0.5,
        max_features=10_000,
        components=max(1, min(100, n - 1)),
        neighbors=10 if 200 <= n <= 5_000 else 0,
        n_init=3 if n <= 2_000 else 2,
        trim_heap=n >= 10_000,
    )


# --- the corpus as one stream of term numbers -----------------------------------------------


class Stream:
    """Every paper's title and abstract as one array of term numbers, 0 between phrases.

    Paper i spans [starts[i], starts[i + 1]); its title ends at title_ends[i]. Runs of breaks
    are squeezed to one, so a phrase with a break ('theory | mind') matches by equality.
    """

    def __init__(self, ids: np.ndarray, starts: np.ndarray, title_ends: np.ndarray) -> None:
        import numpy as np

        # The second of two breaks in a row goes; a position then moves back by the number of
        # items dropped before it (found by bisection: no array of the corpus's length is made).
        dropped = np.flatnonzero((ids[1:] == BREAK) & (ids[:-1] == BREAK)) + 1
        self.ids = np.delete(ids, dropped)

        def kept_before(positions: np.ndarray) -> np.ndarray:
            return positions - np.searchsorted(dropped, positions)

        self.starts = (
            np.append(kept_before(starts), len(self.ids)) if len(ids) else np.zeros(1, int)
        )
        self.title_ends = kept_before(title_ends) if len(ids) else np.zeros(0, int)

    def __len__(self) -> int:
        return len(self.starts) - 1

    def paper_of(self, positions: np.ndarray) -> np.ndarray:
        import numpy as np

        return np.searchsorted(self.starts, positions, side="right") - 1

    def layout(self, first: int = 0, last: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """For each position of papers [first, last): its paper (counted from `first`), and
        whether it is in the paper's title."""
        import numpy as np

        last = len(self) if last is None else last
        lengths = np.diff(self.starts[first : last + 1])
        paper = np.repeat(np.arange(last - first, dtype=np.int32), lengths)
        title_lengths = self.title_ends[first:last] - self.starts[first:last]
        in_title = np.repeat(
            np.tile(np.asarray([True, False]), last - first),
            np.column_stack([title_lengths, lengths - title_lengths]).ravel(),
        )
        return paper, in_title

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

    def subset(self, papers: Sequence[int]) -> Stream:
        """A stream of just these papers, in this order."""
        import numpy as np

        chosen = np.asarray(papers, dtype=np.int64)
        if not len(chosen):
            empty = np.zeros(0, dtype=np.int64)
            return Stream(np.zeros(0, dtype=self.ids.dtype), empty, empty)
        first, after = self.starts[chosen], self.starts[chosen + 1]
        starts = np.concatenate([[0], np.cumsum(after - first)])
        # Copied paper by paper into one array: no list of slices or of positions the size of
        # the corpus (a whole stream reordered at 75,000 abstracts is 12 million terms).
        ids = np.empty(starts[-1], dtype=self.ids.dtype)
        for at, a, b in zip(starts[:-1].tolist(), first.tolist(), after.tolist(), strict=True):
            ids[at : at + b - a] = self.ids[a:b]
        sub = Stream.__new__(Stream)
        sub.ids = ids
        sub.starts = starts
        sub.title_ends = starts[:-1] + (self.title_ends[chosen] - first)
        return sub


def encode(papers: Sequence[Paper], folder: Folder, report: Progress) -> Stream:
    """The papers' folded titles and abstracts as a `Stream`.

    Folding is plain Python, a word at a time (a third of `papercli topics` on a large file),
    so from HELPER_FROM papers on, a second process folds the second half while this one folds
    the first; `Folder.absorb` then numbers its terms as one folder reading every paper in turn
    would, so the stream and the folder are the same bits either way."""
    import numpy as np

    first_texts = spool.texts(papers, 0, _CHUNK)  # (also writes a spool's pending abstracts out)
    helper = None
    parts = []
    try:
        helper = _Helper.launch(papers, _helper_start(len(papers)))
        stop = helper.start if helper else len(papers)
        for start in range(0, stop, _CHUNK):
            report("reading", start / len(papers))
            texts = first_texts if start == 0 else spool.texts(papers, start, start + _CHUNK)
            parts.append(_encode_texts(texts, folder))
        del first_texts
        if helper:
            report("reading", stop / len(papers))
            parts += helper.finish(papers, folder)
    finally:
        if helper:
            helper.stop()  # (an error or Ctrl-C in this half: the helper's work is not needed)
    ids = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)  # no papers: no terms
    del parts
    paper_ends = np.flatnonzero(ids == PAPER_END)
    title_ends = np.flatnonzero(ids == TITLE_END)
    ids[(ids == PAPER_END) | (ids == TITLE_END)] = BREAK
    return Stream(ids, np.concatenate([[0], paper_ends[:-1] + 1]), title_ends)


HELPER_FROM = 4 * _CHUNK  # papers from which a second process folds half of them


def _helper_start(n: int) -> int | None:
    """Where the helper's half begins (a chunk boundary), or None when one process is best:
    few papers (starting a process costs more than it saves), one core, or no fork."""
    import os
    import sys

    if n < HELPER_FROM or not sys.platform.startswith("linux"):
        return None  # macOS can fork, but its system libraries are not safe in a forked child
    if len(os.sched_getaffinity(0)) < 2:
        return None
    return (n // 2 + _CHUNK - 1) // _CHUNK * _CHUNK


def _encode_texts(texts: list[tuple[str, str]], folder: Folder) -> np.ndarray:
    return _join_prefixes(folder.encode_papers(texts), folder)


def _encode_range(papers: Sequence[Paper], start: int, folder: Folder) -> list[np.ndarray]:
    return [
        _encode_texts(spool.texts(papers, at, at + _CHUNK), folder)
        for at in range(start, len(papers), _CHUNK)
    ]


class _Helper:
    """A forked process folding papers [start, end) with a folder of its own, sending what it
    learnt and its term numbers back through a pipe.

    The child runs no code but the folding: it never writes to the parent's streams, runs no
    exit handlers (`os._exit`) and leaves Ctrl-C to the parent. Should it die or fail, its half
    is folded by the parent, where any error is raised as it would be without a helper."""

    def __init__(self, start: int, pid: int, results: int, mask: set[Any]) -> None:
        self.start = start
        self._pid = pid
        self._results = results  # the read end of the pipe
        self._mask = mask  # the signal mask to restore after holding Ctrl-C

    @classmethod
    def launch(cls, papers: Sequence[Paper], start: int | None) -> _Helper | None:
        """The helper for papers [start, end), None if `start` is None or no process can be had
        (a limit on processes, files or memory): then this process folds them all."""
        if start is None:
            return None
        import gc
        import os
        import signal

        # Ctrl-C and SIGTERM wait until both sides know their part: a child interrupted before
        # it ignores them would go on as a second papercli, and a parent interrupted before it
        # holds the helper could not stop it. Once they are held, nothing below is interrupted
        # (one caught just before is raised as the call holding them returns).
        before = signal.pthread_sigmask(signal.SIG_BLOCK, ())
        helper = None
        try:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            try:
                results, sender = os.pipe()
            except OSError:
                return None
            # The two processes share the papers' memory until either writes to it, and a
            # garbage collection writes to every object it walks: frozen, they are left alone
            # until the helper is done (without this, the helper saved a third as much time).
            gc.freeze()
            parent = os.getpid()
            try:
                pid = os.fork()
            except OSError:
                pid = -1
            if pid == 0:  # the child: nothing here may return into the caller's code
                try:
                    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent's to handle
                    _end_with(parent)
                    signal.pthread_sigmask(signal.SIG_SETMASK, before)
                    os.close(results)
                    _help(papers, start, sender)
                finally:
                    os._exit(1)
            os.close(sender)
            helper = cls(start, pid, results, before)
            if pid < 0:
                helper.stop()  # no process to be had: fold alone
                helper = None
        finally:
            try:
                signal.pthread_sigmask(signal.SIG_SETMASK, before)  # a pending Ctrl-C is raised
            except BaseException:
                if helper is not None:
                    helper.stop()
                raise
        return helper

    def finish(self, papers: Sequence[Paper], folder: Folder) -> list[np.ndarray]:
        """The helper's half in `folder`'s term numbers."""
        import pickle

        sent = None
        try:
            with open(self._results, "rb", closefd=False) as pipe:
                sent = pickle.load(pipe)
        except (EOFError, OSError, pickle.UnpicklingError):
            pass  # the helper died or failed: its half is folded here
        finally:
            self.stop()
        if sent is None:
            return _encode_range(papers, self.start, folder)
        learnt, parts = sent
        numbers = folder.absorb(learnt)
        return [numbers[part] for part in parts]

    def stop(self) -> None:
        """Ends the helper (if there is one still running) and waits for it, once, with Ctrl-C
        held until it is done."""
        import gc
        import os
        import signal

        if self._results < 0:
            return
        try:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        finally:  # (also when an interrupt caught just before is raised as they are held)
            results, self._results = self._results, -1
            try:
                with contextlib.suppress(OSError):
                    os.close(results)
                if self._pid > 0:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(self._pid, signal.SIGKILL)
                    os.waitpid(self._pid, 0)
            finally:
                gc.unfreeze()
                signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)


def _end_with(parent: int) -> None:
    """Has the kernel kill this process when `parent` ends (killed by SIGKILL, or by a SIGTERM
    from cron's timeout): a helper has nothing to do once no one reads its result."""
    import ctypes
    import os
    import signal

    set_death_signal = 1  # PR_SET_PDEATHSIG, linux/prctl.h
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(set_death_signal, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before the death signal was set
        os._exit(1)


def _help(papers: Sequence[Paper], start: int, sender: int) -> NoReturn:
    """The helper process: fold papers [start, end), send back what it learnt, and exit."""
    import os
    import pickle

    status = 1  # nothing sent: the parent folds the half again, and reports what went wrong
    try:
        folder = Folder()
        parts = _encode_range(papers, start, folder)
        with open(sender, "wb") as pipe:
            pickle.dump((folder.learnt(), parts), pipe, protocol=pickle.HIGHEST_PROTOCOL)
        status = 0
    finally:
        os._exit(status)


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


def count(stream: Stream, n_terms: int) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Counts of every unigram and bigram per paper, title terms weighing TITLE_WEIGHT.

    Columns: term numbers first, then one per distinct bigram; the second array holds each
    bigram's (first * n_terms + second) so names are only spelled out for kept columns.
    Counted in blocks of papers, so the temporary arrays stay the size of a block (at 75,000
    abstracts the corpus-wide ones peaked at 300 MB).
    """
    import numpy as np
    from scipy import sparse

    blocks = []
    for first in range(0, len(stream), _COUNT_BLOCK):
        last = min(first + _COUNT_BLOCK, len(stream))
        keys = _pairs(stream, first, last, n_terms)
        distinct, inverse = np.unique(keys, return_inverse=True)
        blocks.append((first, last, distinct, inverse.ravel().astype(np.int32)))
    bigram_keys = _sorted_unique(np.concatenate([np.zeros(0, np.int64)] + [b[2] for b in blocks]))
    rows = [
        _count_block(
            stream,
            first,
            last,
            n_terms,
            n_terms + np.searchsorted(bigram_keys, distinct)[inverse],
            len(bigram_keys),
        )
        for first, last, distinct, inverse in blocks
    ]
    if not rows:
        return sparse.csr_matrix((0, n_terms), dtype=np.float32), bigram_keys
    return sparse.vstack(rows, format="csr"), bigram_keys


_COUNT_BLOCK = 8192  # papers counted at once


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy 2's hashing unique is several times slower on int64 keys)."""
    import numpy as np

    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if len(values) else values


def _pairs(stream: Stream, first: int, last: int, n_terms: int) -> np.ndarray:
    """The bigram keys (first * n_terms + second) of papers [first, last), in text order."""
    import numpy as np

    ids = stream.ids[stream.starts[first] : stream.starts[last]]
    pair = (ids[:-1] != BREAK) & (ids[1:] != BREAK) & (ids[:-1] != ids[1:])
    return ids[:-1][pair].astype(np.int64) * n_terms + ids[1:][pair]


def _count_block(
    stream: Stream, first: int, last: int, n_terms: int, bigram_columns: np.ndarray, n_bigrams: int
) -> sparse.csr_matrix:
    """The counts of papers [first, last), `bigram_columns` the column of each of their pairs."""
    import numpy as np
    from scipy import sparse

    ids = stream.ids[stream.starts[first] : stream.starts[last]]
    paper, in_title = stream.layout(first, last)
    weight = np.where(in_title, np.float32(TITLE_WEIGHT), np.float32(1.0))
    word = ids != BREAK
    pair = (ids[:-1] != BREAK) & (ids[1:] != BREAK) & (ids[:-1] != ids[1:])
    shape = (last - first, n_terms + n_bigrams)
    unigrams = sparse.csr_matrix((weight[word], (paper[word], ids[word])), shape=shape)
    bigrams = sparse.csr_matrix(
        (weight[:-1][pair], (paper[:-1][pair], bigram_columns)), shape=shape
    )
    return unigrams + bigrams


def term_names(columns: np.ndarray, terms: list[str], bigram_keys: np.ndarray) -> list[str]:
    """The term of each count column: a word, or a bigram "first second" (its key in
    `bigram_keys` is first * len(terms) + second)."""
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


def weigh(
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
    names = term_names(keep, folder.terms, bigram_keys)
    counts, names, variants = _merge_spellings(counts[:, keep], names, df[keep])
    weights = counts.astype(np.float32, copy=False)  # a new matrix already: weighed in place
    del counts
    weights.data = 1 + np.log(weights.data)
    df = np.bincount(weights.indices, minlength=weights.shape[1])
    idf = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
    weights = (weights @ sparse.diags(idf)).tocsr()
    if weights.shape[1]:
        weights = normalize_rows(weights)
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


def normalize_rows(matrix: Any) -> Any:
    """Each row scaled to unit length, in place: scikit-learn's normalize(matrix, copy=False),
    to the bit, without importing scikit-learn (see `topics.kmeans`).

    A dense row whose length is below 10 machine epsilons is left as it is; a sparse row's
    squares (products in its own type) are added one by one in double precision, as its loop
    does, and each entry is divided by the root in double."""
    import numpy as np
    from scipy import sparse

    if not sparse.issparse(matrix):
        norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))
        norms[norms < 10 * np.finfo(norms.dtype).eps] = 1.0
        matrix /= norms[:, None]
        return matrix
    matrix = matrix.tocsr()
    data, indptr = matrix.data, matrix.indptr
    for first in range(0, matrix.shape[0], _NORMALIZE_BLOCK):  # temporaries a block in size
        last = min(first + _NORMALIZE_BLOCK, matrix.shape[0])
        lo, hi = indptr[first], indptr[last]
        values = data[lo:hi]
        squares = sparse.csr_matrix(
            (
                (values * values).astype(np.float64),
                matrix.indices[lo:hi],
                indptr[first : last + 1] - lo,
            ),
            shape=(last - first, matrix.shape[1]),
        )
        # A CSR matrix times a vector of ones sums each row's entries in order, from zero.
        norms = np.repeat(
            np.sqrt(squares @ np.ones(matrix.shape[1])), np.diff(indptr[first : last + 1])
        )
        scaled = norms != 0
        values[scaled] = (values[scaled].astype(np.float64) / norms[scaled]).astype(values.dtype)
    return matrix


_NORMALIZE_BLOCK = 8192  # rows


@dataclass
class Space:
    """The fitted vocabulary and LSA projection: turns text into a point papers can be near."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    components: np.ndarray | None  # (dimensions, terms); None when the corpus is too small
    documents: Any  # one unit row per paper, in the LSA space (TF-IDF rows if no components)
    weights: sparse.csr_matrix  # TF-IDF, one row per paper

    def vector(self, grams: list[str]) -> np.ndarray:
        """The unit vector of a bag of terms in the space of `documents` (zeros if unknown)."""
        import numpy as np

        # In float64, and from the query's own columns only, so that another BLAS changes no
        # decision taken on the similarities (`similarity` rounds them).
        dense = np.zeros(len(self.idf), dtype=np.float64)
        for gram, count in Counter(g for g in grams if g in self.vocabulary).items():
            column = self.vocabulary[gram]
            dense[column] = (1 + math.log(count)) * self.idf[column]
        if self.components is None:
            point = dense
        else:
            columns = np.flatnonzero(dense)
            point = self.components[:, columns].astype(np.float64) @ dense[columns]
        norm = float(np.linalg.norm(point))
        return point / norm if norm > 0 else point

    def reordered(self, order: np.ndarray) -> Space:
        """The same space with its papers in `order` (row i becomes row order[i])."""
        return Space(
            self.vocabulary, self.idf, self.components, self.documents[order], self.weights[order]
        )

    def similarity(self, point: np.ndarray) -> np.ndarray:
        """Cosine of every paper to a unit vector, to DECIMALS places (float64)."""
        import numpy as np

        return np.round(np.asarray(self.documents @ point).ravel(), DECIMALS)

    def explain(self, index: int, point: np.ndarray, names: list[str], n: int = 3) -> list[str]:
        """The terms of paper `index` that bring it closest to `point`."""
        import numpy as np

        row = self.weights.getrow(index)
        basis = self.components[:, row.indices] if self.components is not None else None
        pull = row.data * (point @ basis if basis is not None else point[row.indices])
        order = np.argsort(-pull, kind="stable")[:n]
        return [names[row.indices[j]] for j in order if pull[j] > 0]


def reduce(
    weights: sparse.csr_matrix, idf: np.ndarray, names: list[str], scale: Scale, seed: int
) -> tuple[Space, np.ndarray]:
    """The LSA space (for matching) and the points to cluster.

    Clustering uses U·Σ³ rather than LSA's U·Σ: weighting the leading directions up makes
    k-means split along the corpus's main themes instead of along noise (on arXiv abstracts
    it raises NMI against the categories by 0.01-0.04 over plain LSA; benchmarks/).
    """
    import numpy as np
    from scipy import sparse

    vocabulary = {t: i for i, t in enumerate(names)}
    dimensions = min(scale.components, weights.shape[1] - 1)
    if dimensions < 2:
        return Space(vocabulary, idf, None, weights, weights), weights.toarray()
    # In float64: in float32 the factorisations of another BLAS (another CPU, or the same CPU
    # with other kernels) moved the points by up to 2e-5, past any rounding, and k-means then
    # split 7,970 abstracts another way. In float64 they agree to the last of the 6 decimals kept.
    wide = sparse.csr_matrix(
        (weights.data.astype(np.float64), weights.indices, weights.indptr), shape=weights.shape
    )
    points, singular, directions = truncated_svd(wide, dimensions, seed)
    del wide  # (the float64 copy shared the float32 matrix's indices)
    components = directions.astype(np.float32)
    space = Space(vocabulary, idf, components, normalize_rows(points.astype(np.float32)), weights)
    points *= singular**2
    leading = normalize_rows(points)
    del points
    if scale.neighbors:
        leading = _smooth(leading, scale.neighbors)
    # k-means starts from these; a last bit set by the machine's BLAS stays out of them.
    return space, np.round(leading, DECIMALS)


_BLOCK = 16  # columns of the SVD's sampled range computed at once


def truncated_svd(
    matrix: sparse.csr_matrix, k: int, seed: int, n_iter: int = 3, oversamples: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(matrix @ directions.T, singular values, directions): the k leading right singular
    vectors of `matrix` (float64), by the randomized SVD of Halko, Martinsson and Tropp.

    The arithmetic of scikit-learn's TruncatedSVD(k, algorithm="randomized", n_iter,
    random_state=seed).fit_transform (LU between power iterations, the narrower side sampled,
    signs fixed by each direction's largest entry), but for the orthonormal basis of the sampled
    range: Cholesky QR, twice, in place of Householder QR. The LU steps leave that range well
    conditioned (a condition number of 300-400 on arXiv abstracts), where two Cholesky passes
    give a basis as orthonormal as Householder's, in matrix products instead of a
    column-at-a-time factorisation: a third of the SVD's time at 1,000 abstracts. The results
    agree with TruncatedSVD's to 1e-12, far inside the 6 decimals the points keep; where the
    range is too ill-conditioned for Cholesky (a rank below k + oversamples), Householder QR
    runs and the results are TruncatedSVD's bits. It also keeps less alive at once: the
    factorisations overwrite their input, the left singular vectors of a tall matrix are never
    formed, and no explained variance is computed (at 75,000 abstracts TruncatedSVD raised the
    peak by 90 MB).
    """
    import numpy as np
    from scipy import linalg

    samples, features = matrix.shape
    transpose = samples < features
    wide = matrix.T if transpose else matrix
    basis = np.random.RandomState(seed).normal(size=(wide.shape[1], k + oversamples))
    for _ in range(n_iter):
        basis = linalg.lu(wide @ basis, permute_l=True, overwrite_a=True, check_finite=False)[0]
        basis = linalg.lu(wide.T @ basis, permute_l=True, overwrite_a=True, check_finite=False)[0]
    sampled = _cholesky_qr2(wide @ basis)
    if sampled is None:
        # QR works on a column-major copy of its input: the product is written column-major
        # block by block (each entry the same sum as in one product), and QR then overwrites it.
        sampled = np.empty((wide.shape[0], basis.shape[1]), order="F")
        for start in range(0, basis.shape[1], _BLOCK):
            sampled[:, start : start + _BLOCK] = wide @ basis[:, start : start + _BLOCK]
        sampled = linalg.qr(sampled, overwrite_a=True, mode="economic", check_finite=False)[0]
    del basis
    small = sampled.T @ wide
    left, singular, right = linalg.svd(small, full_matrices=False, lapack_driver="gesdd")
    del small
    # Wide: the sampled side was the terms', so the directions are its left vectors.
    directions = (sampled @ left)[:, :k].T if transpose else right[:k, :]
    del sampled, left, right
    directions = np.ascontiguousarray(directions)  # (the sign search reads it row by row)
    largest = np.argmax(np.abs(directions), axis=1)
    indices = largest + np.arange(directions.shape[0]) * directions.shape[1]
    directions *= np.sign(np.take(np.reshape(directions, (-1,)), indices, axis=0))[:, np.newaxis]
    return matrix @ directions.T, singular[:k], directions


def _cholesky_qr2(sampled: np.ndarray) -> np.ndarray | None:
    """An orthonormal basis of the columns of `sampled` (C-ordered, overwritten), by Cholesky
    QR twice (Fukaya, Nakatsukasa et al., "CholeskyQR2", 2014), or None where that would not
    be as exact as Householder QR: the first pass must leave columns orthonormal to 1e-3
    (a condition number below about 1e6; two passes then reach the last bits)."""
    import numpy as np
    from scipy import linalg

    try:
        for check in (False, True):
            gram = sampled.T @ sampled
            if check and np.max(np.abs(gram - np.eye(len(gram)))) > 1e-3:
                return None
            upper = linalg.cholesky(gram, lower=False, check_finite=False)
            # sampled = Q R, so R^T Q^T = sampled^T: solved in place (sampled.T is F-ordered).
            sampled = linalg.solve_triangular(
                upper, sampled.T, trans="T", overwrite_b=True, check_finite=False
            ).T
    except linalg.LinAlgError:
        return None  # not positive definite: the columns are (nearly) dependent
    return sampled if np.isfinite(sampled).all() else None


_SMOOTH_BLOCK = 256  # points whose neighbours are found at once


def _smooth(points: np.ndarray, neighbors: int, keep: float = 0.2) -> np.ndarray:
    """Each point moved toward the mean of its nearest neighbours, then renormalised.

    Short abstracts are noisy samples of their topic; averaging with close neighbours cleans
    the groups k-means then finds. Blockwise, so memory stays at block x n: the neighbours'
    mean is summed one neighbour at a time into a block-sized array, in the order, and so to
    the bit, of `points[nearest].mean(axis=1)`, which held block x neighbours x dimensions
    at once (at 5,000 abstracts the step peaked at 169 MB; now 35 MB).
    """
    import numpy as np

    neighbors = min(neighbors, len(points) - 1)
    smoothed = np.empty_like(points)
    for start in range(0, len(points), _SMOOTH_BLOCK):
        rows = points[start : start + _SMOOTH_BLOCK]
        similarity = rows @ points.T
        np.negative(similarity, out=similarity)  # nearest first
        nearest = np.argpartition(similarity, neighbors, axis=1)[:, : neighbors + 1]
        del similarity
        total = np.take(points, nearest[:, 0], axis=0)
        taken = np.empty_like(total)
        for column in range(1, neighbors + 1):
            total += np.take(points, nearest[:, column], axis=0, out=taken)
        total /= neighbors + 1
        total *= 1 - keep
        moved = smoothed[start : start + _SMOOTH_BLOCK]
        np.multiply(rows, keep, out=moved)
        moved += total
    return normalize_rows(smoothed)
