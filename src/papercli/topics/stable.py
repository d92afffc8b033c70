"""Stable topics: one topic model kept in the store and carried from one day to the next.

Each day's new papers, oldest day first, in store order:

    papers -> unit TF-IDF vectors of their folded 1- and 2-grams (topics.features; the IDF is
              counted over the IDF_WINDOW papers up to that day)
    -> each paper joins the nearest topic, live or retired, when its cosine to the topic's
       centroid is at least JOIN; the centroid (the sum of its papers' vectors) moves with it,
       and the label changes only when none of its terms is among the topic's TOP_TERMS
       heaviest terms any more (the id never changes)
    -> the papers that fit no topic, with those still waiting from the last PENDING_DAYS days,
       are clustered (topics.build_topics); a group of MIN_BIRTH papers or more, each within
       BIRTH of the rest of the group, is born as a topic with the next id; the rest wait, and
       when their wait is over join their nearest topic if within LATE_JOIN of it
    -> a topic that received no paper on the last RETIRE_AFTER days with papers retires; it keeps
       its id and comes back if papers join it again

A paper keeps its topic once it has one; `update(rebuild=True)` starts over. Everything is
seeded and read in store order, so the model is a function of the stored papers: rebuilding gives
the same ids as updating once after each day's fetches.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from papercli.models import Paper, StableTopic, TopicAssignment
from papercli.topics.features import Progress, count, encode, normalize_rows
from papercli.topics.text import Folder, dedupe

if TYPE_CHECKING:
    import numpy as np
    from scipy import sparse

    from papercli.store import Store

JOIN = 0.1  # cosine to a topic's centroid from which a paper belongs to it
MIN_BIRTH = 5  # papers that make a new topic
BIRTH = JOIN  # ... each as close to the rest of its group as a paper joining a topic
PENDING_DAYS = 3  # days (with papers) a paper that fits no topic waits for one to be born
LATE_JOIN = JOIN / 2  # ... then it joins its nearest topic if it is at least this close
RETIRE_AFTER = 7  # days (with papers) without a new paper after which a topic retires
CENTROID_TERMS = 300  # heaviest terms kept of a centroid (bounds the store)
TOP_TERMS = 15  # a label stays while one of its terms is among this many heaviest
SHOWN_TERMS = 8  # terms shown for a topic
LABEL_TERMS = 3
IDF_WINDOW = 5_000  # papers the IDF is counted over (the latest up to the day processed)
MODEL_VERSION = "1"  # stored with the model: the rules above that built it


@dataclass
class UpdateReport:
    """What one update did: the days it read, papers joined to existing topics, topics born,
    retired, revived and relabelled (ids), and the papers still waiting for a topic."""

    days: list[str] = field(default_factory=list)
    joined: int = 0
    born: list[int] = field(default_factory=list)
    retired: list[int] = field(default_factory=list)
    revived: list[int] = field(default_factory=list)
    relabelled: list[int] = field(default_factory=list)
    waiting: int = 0


def paper_day(paper: Paper) -> str:
    """The day a paper counts for: the date it was first seen, '2024-08-02T09:00:00Z' ->
    '2024-08-02'."""
    return (paper.first_seen or "")[:10]


def update(
    store: Store, *, rebuild: bool = False, seed: int = 0, progress: Progress | None = None
) -> UpdateReport:
    """Bring the store's topic model up to its papers (all of them again when `rebuild`) and
    save it in one transaction. Nothing new to read: nothing is written."""
    report = progress or (lambda stage, done: None)
    state = store.topic_model()
    papers = store.papers()
    model = _Model([] if rebuild else state.topics, {} if rebuild else state.assignments)
    result = model.add(papers, seed, report)
    if result.days or (rebuild and state.topics):
        settings = {"version": MODEL_VERSION, "through": result.days[-1] if result.days else ""}
        store.save_topic_model(
            [model.topics[i] for i in sorted(model.changed_topics)],
            [model.assignments[p] for p in sorted(model.changed_papers)],
            model.new_labels,
            settings,
            replace=rebuild,
        )
    report("done", 1.0)
    return result


class _Model:
    """The topics and assignments in memory while days are added; remembers what changed."""

    def __init__(
        self, topics: Sequence[StableTopic], assignments: dict[str, TopicAssignment]
    ) -> None:
        self.topics = {t.id: replace(t, centroid=dict(t.centroid)) for t in topics}
        self.assignments = dict(assignments)
        self.changed_topics: set[int] = set()
        self.changed_papers: set[str] = set()
        self.new_labels: list[tuple[int, str, str]] = []

    def add(self, papers: Sequence[Paper], seed: int, report: Progress) -> UpdateReport:
        result = UpdateReport()
        days = [paper_day(p) for p in papers]
        todo = [i for i, p in enumerate(papers) if p.id not in self.assignments]
        if not todo:
            return result
        store_days = sorted(set(days))
        new_days = sorted({days[i] for i in todo})
        # Papers still waiting as the first new day comes, including those whose wait ends then.
        waiting_from = store_days[max(0, store_days.index(new_days[0]) - PENDING_DAYS - 1)]
        waiting = [
            i
            for i, p in enumerate(papers)
            if (a := self.assignments.get(p.id)) is not None
            and a.topic_id is None
            and days[i] >= waiting_from
        ]
        start = max(0, min([todo[0] - IDF_WINDOW, *waiting]))
        report("reading", 0.0)
        terms = _Terms(papers[start:], report)
        for n, day in enumerate(new_days):
            report(f"day {day}", n / len(new_days))
            end = bisect_right(days, day)
            idf = terms.idf(max(start, end - IDF_WINDOW) - start, end - start)
            position = store_days.index(day)
            cutoff = store_days[max(0, position - PENDING_DAYS)]
            still = [i for i in waiting if days[i] >= cutoff]
            ended = [i for i in waiting if days[i] < cutoff]
            if ended:
                self._last_chance(papers, days, ended, terms, idf, start, result)
            fresh = [i for i in todo if days[i] == day]
            rows = sorted(set(still) | set(fresh))
            self._add_day(day, papers, days, rows, terms, idf, start, seed, result)
            waiting = [i for i in rows if self.assignments[papers[i].id].topic_id is None]
            recent = store_days[max(0, position - RETIRE_AFTER + 1)]
            self._retire(day, recent, result)
            result.days.append(day)
        result.waiting = len(waiting)
        return result

    def _add_day(
        self,
        day: str,
        papers: Sequence[Paper],
        days: list[str],
        rows: list[int],
        terms: _Terms,
        idf: np.ndarray,
        start: int,
        seed: int,
        result: UpdateReport,
    ) -> None:

        vectors = terms.vectors([i - start for i in rows], idf)
        joined, left = self._join_nearest(
            sorted(self.topics), vectors, terms, JOIN, papers, rows, days
        )
        for topic_id, members in joined.items():
            self._grow(topic_id, day, vectors[members], terms, [papers[rows[m]] for m in members])
            result.joined += len(members)
            if self.topics[topic_id].retired is not None:
                self.topics[topic_id].retired = None
                result.revived.append(topic_id)
            if self._relabel(topic_id, day):
                result.relabelled.append(topic_id)
        born = self._births(day, [papers[rows[m]] for m in left], vectors[left], terms, seed)
        for topic_id, members, scores in born:
            for member, score in zip(members, scores, strict=True):
                row = left[member]
                self._assign(papers[rows[row]], topic_id, days[rows[row]], score)
            result.born.append(topic_id)
        placed = {left[m] for _, members, _ in born for m in members}
        for row in left:
            paper = papers[rows[row]]
            if row not in placed and paper.id not in self.assignments:
                self._assign(paper, None, days[rows[row]], 0.0)

    def _last_chance(
        self,
        papers: Sequence[Paper],
        days: list[str],
        rows: list[int],
        terms: _Terms,
        idf: np.ndarray,
        start: int,
        result: UpdateReport,
    ) -> None:
        """Papers whose wait for a new topic is over join their nearest topic if they are at
        least LATE_JOIN close to it, of the live topics; the others stay without a topic."""

        ids = sorted(t for t, topic in self.topics.items() if topic.retired is None)
        if not ids:
            return
        vectors = terms.vectors([i - start for i in rows], idf)
        joined, _ = self._join_nearest(ids, vectors, terms, LATE_JOIN, papers, rows, days)
        for topic_id, members in joined.items():
            last = max(days[rows[m]] for m in members)
            self._grow(topic_id, last, vectors[members], terms, [papers[rows[m]] for m in members])
            result.joined += len(members)

    def _join_nearest(
        self,
        ids: list[int],
        vectors: sparse.csr_matrix,
        terms: _Terms,
        threshold: float,
        papers: Sequence[Paper],
        rows: list[int],
        days: list[str],
    ) -> tuple[dict[int, list[int]], list[int]]:
        """Assign each vector's paper to its nearest topic of `ids` when at least `threshold`
        close; returns (topic id -> rows joined, rows left without a topic)."""
        import numpy as np

        joined: dict[int, list[int]] = {}
        if not ids:
            return joined, list(range(len(rows)))
        centroids = terms.matrix([self.topics[t].centroid for t in ids])
        similarity = np.asarray((vectors @ centroids.T).todense())
        left: list[int] = []
        for row, column in enumerate(similarity.argmax(axis=1).tolist()):
            score = float(similarity[row, column])
            if score >= threshold:
                joined.setdefault(ids[column], []).append(row)
                self._assign(papers[rows[row]], ids[column], days[rows[row]], score)
            else:
                left.append(row)
        return joined, left

    def _assign(self, paper: Paper, topic_id: int | None, day: str, score: float) -> None:
        self.assignments[paper.id] = TopicAssignment(paper.id, topic_id, day, round(score, 6))
        self.changed_papers.add(paper.id)

    def _grow(
        self,
        topic_id: int,
        day: str,
        vectors: sparse.csr_matrix,
        terms: _Terms,
        members: Sequence[Paper],
    ) -> None:
        topic = self.topics[topic_id]
        topic.centroid = _cut(terms.add(topic.centroid, vectors))
        topic.size += vectors.shape[0]
        topic.last_seen = max(topic.last_seen, day)
        top = _heaviest(topic.centroid, SHOWN_TERMS)
        for term in top:
            if term not in topic.spellings:
                topic.spellings[term] = terms.spell(term, members)
        topic.terms = dedupe(topic.spellings[t] for t in top)
        self.changed_topics.add(topic_id)

    def _relabel(self, topic_id: int, day: str) -> bool:
        """A new label when the topic's content moved away from the one it has."""
        topic = self.topics[topic_id]
        heaviest = _heaviest(topic.centroid, TOP_TERMS)
        if set(topic.label_terms) & set(heaviest):
            return False
        chosen = _label_terms(heaviest)
        label = ", ".join(topic.spellings.get(t, t) for t in chosen)
        if not chosen or label == topic.label:
            return False
        topic.label, topic.label_terms = label, chosen
        self.new_labels.append((topic_id, day, label))
        return True

    def _births(
        self,
        day: str,
        papers: list[Paper],
        vectors: sparse.csr_matrix,
        terms: _Terms,
        seed: int,
    ) -> list[tuple[int, list[int], list[float]]]:
        """New topics from the papers that fit none: (id, member rows, similarities)."""
        import numpy as np

        from papercli.topics import build_topics

        if len(papers) < MIN_BIRTH:
            return []
        grouped = build_topics(papers, seed=seed)
        born = []
        for draft in grouped.topics:
            members = [i for i, t in enumerate(grouped.assignments) if t == draft.id]
            if len(members) < MIN_BIRTH:
                continue
            close = [m for m, s in zip(members, _cohesion(vectors[members]), strict=True)
                     if s >= BIRTH]  # fmt: skip
            if len(close) < MIN_BIRTH:
                continue
            topic_id = max(self.topics, default=-1) + 1
            centroid = _cut(terms.add({}, vectors[close]))
            scores = (vectors[close] @ terms.matrix([centroid]).T).toarray()
            spellings = {_fold(shown): shown for shown in draft.terms}
            label_terms = [_fold(part) for part in draft.label.split(", ")]
            self.topics[topic_id] = StableTopic(
                id=topic_id,
                label=draft.label,
                terms=list(draft.terms),
                size=len(close),
                born=day,
                last_seen=day,
                retired=None,
                centroid=centroid,
                label_terms=[t for t in label_terms if t],
                spellings=spellings,
            )
            self.changed_topics.add(topic_id)
            self.new_labels.append((topic_id, day, draft.label))
            born.append((topic_id, close, [float(s) for s in np.ravel(scores)]))
        return born

    def _retire(self, day: str, recent: str, result: UpdateReport) -> None:
        """Retire the live topics whose last paper came before `recent`."""
        for topic in self.topics.values():
            if topic.retired is None and topic.last_seen < recent:
                topic.retired = day
                self.changed_topics.add(topic.id)
                result.retired.append(topic.id)


class _Terms:
    """The corpus's sublinear term counts (title terms 1.5x, as topics.features counts them),
    and the means to turn rows into unit TF-IDF vectors and term dicts into rows."""

    def __init__(self, papers: Sequence[Paper], report: Progress) -> None:
        import numpy as np

        self.folder = Folder()
        stream = encode(papers, self.folder, report) if papers else None
        if stream is None:
            from scipy import sparse

            self.counts = sparse.csr_matrix((0, 0))
            self.bigram_keys = np.zeros(0, dtype=np.int64)
        else:
            self.counts, self.bigram_keys = count(stream, len(self.folder.terms))
            self.counts = self.counts.astype(np.float64)
            self.counts.data = 1 + np.log(self.counts.data)
        self.n_terms = len(self.folder.terms)
        self._columns: dict[str, int | None] = {}

    def idf(self, lo: int, hi: int) -> np.ndarray:
        """Smoothed IDF over rows lo..hi (as in topics.features.weigh)."""
        import numpy as np

        block = self.counts[lo:hi]
        df = np.bincount(block.indices, minlength=self.counts.shape[1])
        return np.log((1 + (hi - lo)) / (1 + df)) + 1

    def vectors(self, rows: list[int], idf: np.ndarray) -> sparse.csr_matrix:
        """Unit TF-IDF rows of these papers."""
        from scipy import sparse

        weighted = self.counts[rows] @ sparse.diags(idf)
        return normalize_rows(sparse.csr_matrix(weighted))

    def name(self, column: int) -> str:
        if column < self.n_terms:
            return self.folder.terms[column]
        first, second = divmod(int(self.bigram_keys[column - self.n_terms]), self.n_terms)
        return f"{self.folder.terms[first]} {self.folder.terms[second]}"

    def column(self, name: str) -> int | None:
        """The column of a folded term or 'first second' bigram; None if the corpus lacks it."""
        if name not in self._columns:
            import numpy as np

            parts = [self.folder.find(part) for part in name.split(" ")]
            found: int | None = None
            if len(parts) == 1:
                found = parts[0]
            elif len(parts) == 2 and None not in parts:
                key = int(parts[0]) * self.n_terms + int(parts[1])  # type: ignore[arg-type]
                at = int(np.searchsorted(self.bigram_keys, key))
                if at < len(self.bigram_keys) and int(self.bigram_keys[at]) == key:
                    found = self.n_terms + at
            self._columns[name] = found
        return self._columns[name]

    def matrix(self, centroids: list[dict[str, float]]) -> sparse.csr_matrix:
        """One unit row per centroid over this corpus's columns (terms it lacks count in the
        norm, not in the row)."""
        import numpy as np
        from scipy import sparse

        rows, columns, values = [], [], []
        for row, centroid in enumerate(centroids):
            norm = math.sqrt(sum(w * w for w in centroid.values())) or 1.0
            for term, weight in centroid.items():
                column = self.column(term)
                if column is not None:
                    rows.append(row)
                    columns.append(column)
                    values.append(weight / norm)
        return sparse.csr_matrix(
            (np.asarray(values, dtype=np.float64), (rows, columns)),
            shape=(len(centroids), self.counts.shape[1]),
        )

    def add(self, centroid: dict[str, float], vectors: sparse.csr_matrix) -> dict[str, float]:
        """The centroid plus these vectors' sum, by term."""
        from scipy import sparse

        total = dict(centroid)
        summed = sparse.csr_matrix(vectors.sum(axis=0))
        for column, weight in zip(summed.indices.tolist(), summed.data.tolist(), strict=True):
            term = self.name(column)
            total[term] = total.get(term, 0.0) + weight
        return total

    def spell(self, term: str, papers: Sequence[Paper]) -> str:
        from papercli.topics import surface

        return surface(term, self.folder.spellings, papers)


def _cohesion(vectors: sparse.csr_matrix) -> list[float]:
    """Each unit vector's cosine to the sum of the others: how close a paper is to its group
    without counting itself (in a group of five a paper is a fifth of its own centroid)."""
    import numpy as np

    total = np.asarray(vectors.sum(axis=0)).ravel()
    dots = np.asarray(vectors @ total).ravel()
    rest = np.sqrt(np.maximum(float(total @ total) - 2 * dots + 1, 1e-12))
    return ((dots - 1) / rest).tolist()


def _cut(centroid: dict[str, float]) -> dict[str, float]:
    """The CENTROID_TERMS heaviest terms (ties by term), weights rounded for a stable store."""
    kept = _heaviest(centroid, CENTROID_TERMS)
    return {term: round(centroid[term], 9) for term in sorted(kept)}


def _heaviest(centroid: dict[str, float], n: int) -> list[str]:
    return sorted(centroid, key=lambda t: (-centroid[t], t))[:n]


def _label_terms(heaviest: list[str]) -> list[str]:
    """LABEL_TERMS of the heaviest terms, skipping a word already inside a chosen phrase."""
    chosen: list[str] = []
    for term in heaviest:
        words = set(term.split())
        if any(words <= set(c.split()) or set(c.split()) <= words for c in chosen):
            continue
        chosen.append(term)
        if len(chosen) == LABEL_TERMS:
            break
    return chosen


def _fold(text: str) -> str:
    """A label's term as folded terms: 'LLMs' -> 'llm', 'diffusion models' -> 'diffusion model'."""
    folder = Folder()
    return " ".join(folder.terms[i] for i in folder.encode(text) if i)


@dataclass
class TopicView:
    """A stable topic as one period shows it: its papers of the period, closest first."""

    topic: StableTopic
    papers: list[Paper]


def view(
    store: Store, *, since: str | None = None, source: str | None = None
) -> tuple[list[TopicView], list[Paper]]:
    """The stored topics that have papers first seen since `since` (all papers when None; of
    `source` when given, as `Store.papers` filters), most papers first (then id), and the
    papers of the period still waiting for a topic."""
    state = store.topic_model()
    topics = {t.id: t for t in state.topics}
    members: dict[int, list[tuple[float, Paper]]] = {}
    waiting = []
    for paper in store.papers(since=since, source=source):
        assigned = state.assignments.get(paper.id)
        if assigned is None or assigned.topic_id is None:
            waiting.append(paper)
        else:
            members.setdefault(assigned.topic_id, []).append((assigned.similarity, paper))
    views = [
        TopicView(topics[t], [p for _, p in sorted(found, key=lambda sp: (-sp[0], sp[1].id))])
        for t, found in members.items()
    ]
    views.sort(key=lambda v: (-len(v.papers), v.topic.id))
    return views, waiting
