"""The personal ranking model: TF-IDF of folded titles and abstracts -> a seeded linear classifier.

    examples (positives, strong and weak negatives) -> the counts of folded 1- and 2-grams the
    topics build (papercli.topics.features: encode, count; title terms weigh 1.5) -> sublinear
    TF-IDF fitted on the examples -> logistic regression with balanced class weights -> a plain
    dict (terms, idf, weights, the positives' vectors), which the store keeps as JSON and
    `Scorer` reads back without scikit-learn's fitted objects.

Why logistic regression rather than arxiv-sanity-lite's LinearSVC: the same linear model on the
same features, but its score is a probability (0-1), so `--min-score 0.5` means the same thing
whatever the number of signals, and its per-term weights explain a score term by term.
Deterministic: liblinear's coordinate descent is seeded, and the inputs come in a fixed order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from papercli.topics.text import Folder

if TYPE_CHECKING:
    from scipy import sparse

MODEL_VERSION = 1
# Regularisation: the signals of one reader are few and the terms many, so the weights are kept
# small (measured in benchmarks/personal.py: 0.3-3 rank about the same; far from it, worse).
C = 1.0
# A dislike weighs this many unrated papers. Measured in benchmarks/personal.py (14 readers: its 7
# and 7 held-out categories): 30x, a fixed quarter of the negative side, or lowering a score by
# the similarity to the closest dislike all rank days 2-N worse than 3x (p@20 -0.002 to -0.007),
# since the off-topic papers a reader dislikes sit next to the on-topic ones.
STRONG = 3.0
WEAK = 1.0  # an unrated recent paper: a weak negative (balanced against the positives below)
MAX_TERMS = 30_000
POSITIVE_TERMS = 200  # nonzero weights kept per positive, to explain "closest to"


@dataclass
class Example:
    """A paper the model learns from: its id, title and abstract, label and weight."""

    id: str
    title: str
    abstract: str
    label: int  # 1 positive, 0 negative
    weight: float = 1.0
    kind: str = ""  # liked, library, disliked, unrated


def term_counts(texts: Sequence[tuple[str, str]]) -> tuple[sparse.csr_matrix, list[str]]:
    """(title, abstract) pairs -> (counts of each term per text, the terms' names), with the
    topics' own folding and counting: ('Diffusion Models', '') -> [[1.5, 1.5, 1.5]],
    ['diffusion', 'model', 'diffusion model']."""
    import numpy as np

    from papercli.models import Paper
    from papercli.topics.features import count, encode, term_names

    folder = Folder()
    papers = [Paper("", title, abstract=abstract) for title, abstract in texts]
    stream = encode(papers, folder, lambda stage, done: None)
    counts, bigram_keys = count(stream, len(folder.terms))
    used = np.flatnonzero(counts.getnnz(axis=0))
    return counts[:, used].tocsr(), term_names(used, folder.terms, bigram_keys)


def tfidf(counts: Any, idf: Any) -> Any:
    """Sublinear TF-IDF rows, L2-normalised: tf -> 1 + log(tf), times idf."""
    import numpy as np
    from scipy import sparse

    weights = counts.copy().astype(np.float64)
    weights.data = 1.0 + np.log(weights.data)
    weights = weights @ sparse.diags(idf)
    norms = np.sqrt(np.asarray(weights.multiply(weights).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ weights)


def train(examples: Sequence[Example], *, seed: int = 0) -> dict[str, Any]:
    """Fit the model on `examples` (at least one positive and one negative)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    n = len(examples)
    counts, names = term_counts([(e.title, e.abstract) for e in examples])
    df = np.asarray(counts.getnnz(axis=0)).ravel()
    min_df = 1 if n < 200 else 2
    max_df = n if n < 20 else 0.5 * n
    keep = np.flatnonzero((df >= min_df) & (df <= max_df))
    if len(keep) > MAX_TERMS:  # the commonest, ties by name
        keep = np.asarray(sorted(keep.tolist(), key=lambda j: (-df[j], names[j]))[:MAX_TERMS])
    keep = np.asarray(sorted(keep.tolist(), key=lambda j: names[j]), dtype=np.int64)
    terms = [names[j] for j in keep.tolist()]
    idf = np.log((1 + n) / (1 + df[keep])) + 1.0
    matrix = tfidf(counts[:, keep], idf)
    labels = np.asarray([e.label for e in examples])
    weights = np.asarray([e.weight for e in examples], dtype=float)
    # Balanced: the positives weigh as much in all as the negatives, however few they are.
    for label in (0, 1):
        mask = labels == label
        weights[mask] *= n / (2 * max(weights[mask].sum(), 1e-9))
    classifier = LogisticRegression(C=C, solver="liblinear", random_state=seed, max_iter=1000)
    classifier.fit(matrix, labels, sample_weight=weights)
    positives = [
        _sparse_row(matrix, i) | {"id": e.id, "title": e.title, "kind": e.kind}
        for i, e in enumerate(examples)
        if e.label == 1
    ]
    return {
        "version": MODEL_VERSION,
        "terms": terms,
        "idf": [round(float(v), 6) for v in idf],
        "coef": [round(float(v), 6) for v in classifier.coef_[0]],
        "intercept": float(classifier.intercept_[0]),
        "positives": positives,
        "counts": {
            kind: sum(1 for e in examples if e.kind == kind)
            for kind in ("liked", "library", "disliked", "unrated")
        },
    }


def _sparse_row(matrix: Any, i: int) -> dict[str, list]:
    row = matrix.getrow(i)
    pairs = zip(row.data.tolist(), row.indices.tolist(), strict=True)
    order = sorted(pairs, reverse=True)[:POSITIVE_TERMS]
    return {"idx": [j for _, j in order], "val": [round(v, 5) for v, _ in order]}


@dataclass
class Scored:
    """One paper's score (0-1), the liked/library paper it is closest to, the terms that
    weighed most."""

    score: float
    closest: dict[str, Any] | None
    similarity: float
    terms: list[str]


class Scorer:
    """A trained model read back from its dict; `score(papers)` needs no scikit-learn fit."""

    def __init__(self, model: dict[str, Any]) -> None:
        import numpy as np
        from scipy import sparse

        self.model = model
        self.terms: list[str] = model["terms"]
        self.index = {term: i for i, term in enumerate(self.terms)}
        self.idf = np.asarray(model["idf"], dtype=float)
        self.coef = np.asarray(model["coef"], dtype=float)
        self.intercept = float(model["intercept"])
        self.positives = model["positives"]
        rows = [
            (i, j, v)
            for i, p in enumerate(self.positives)
            for j, v in zip(p["idx"], p["val"], strict=True)
        ]
        self.positive_matrix = sparse.csr_matrix(
            ([v for *_, v in rows], ([i for i, *_ in rows], [j for _, j, _ in rows])),
            shape=(len(self.positives), len(self.terms)),
        )

    def vectors(self, texts: Sequence[tuple[str, str]]) -> sparse.csr_matrix:
        """(title, abstract) pairs as rows of the model's TF-IDF (terms it never saw dropped)."""
        import numpy as np
        from scipy import sparse

        counts, names = term_counts(texts)
        columns = np.asarray([self.index.get(name, -1) for name in names], dtype=np.int64)
        known = np.flatnonzero(columns >= 0)
        counts = counts[:, known].tocoo()
        mapped = sparse.csr_matrix(
            (counts.data, (counts.row, columns[known][counts.col])),
            shape=(len(texts), len(self.terms)),
        )
        return tfidf(mapped, self.idf)

    def score(self, texts: Sequence[tuple[str, str]], *, explain: bool = True) -> list[Scored]:
        """Each text's probability of being liked, with what explains it."""
        import numpy as np

        matrix = self.vectors(texts)
        margins = matrix @ self.coef + self.intercept
        probabilities = 1.0 / (1.0 + np.exp(-margins))
        if not explain or not self.positives:
            return [Scored(float(p), None, 0.0, []) for p in probabilities]
        similarities = (matrix @ self.positive_matrix.T).toarray()
        out = []
        for i, probability in enumerate(probabilities):
            best = int(np.argmax(similarities[i])) if similarities.shape[1] else 0
            similarity = float(similarities[i, best]) if similarities.shape[1] else 0.0
            out.append(
                Scored(
                    float(probability),
                    self.positives[best] if similarity > 0 else None,
                    similarity,
                    self._top_terms(matrix.getrow(i)),
                )
            )
        return out

    def _top_terms(self, row: Any, n: int = 3) -> list[str]:
        """The terms of a paper that pull its score up most (weight x TF-IDF)."""
        pulls = row.data * self.coef[row.indices]
        order = sorted(
            zip(pulls.tolist(), row.indices.tolist(), strict=True), key=lambda x: (-x[0], x[1])
        )
        return [self.terms[j] for pull, j in order[:n] if pull > 0]

    def top_terms(self, n: int = 10) -> tuple[list[str], list[str]]:
        """(the n terms that pull a paper up most, the n that push it down most)."""
        order = sorted(range(len(self.coef)), key=lambda j: (-self.coef[j], self.terms[j]))
        up = [self.terms[j] for j in order[:n] if self.coef[j] > 0]
        down = [self.terms[j] for j in reversed(order[-n:]) if self.coef[j] < 0]
        return up, down
