"""Matching: a fitted TopicModel answers --topic queries and excludes.

A query matches by its words and phrases with their variants (hyphenation, spelling, plural,
acronyms the papers define), or by closeness to the papers in the LSA space.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from papercli.models import Paper, Topic
from papercli.topics.features import BREAK, Space, Stream, normalize_rows
from papercli.topics.labels import SURFACE_SAMPLE, surface
from papercli.topics.text import Folder, acronyms, dedupe, ngrams, phrase

if TYPE_CHECKING:
    import numpy as np

# A paper that does not name the query still matches when its cosine to the query in the LSA
# space is at least this, and at least that of the typical paper naming the query.
SEMANTIC_MIN = 0.35


@dataclass
class Match:
    """A paper that matched --topic: its index in the input, how well, and which terms did it."""

    index: int
    score: float
    terms: list[str] = field(default_factory=list)


class TopicModel:
    """Topics of a list of papers, and the means to match queries against those papers."""

    def __init__(
        self,
        topics: list[Topic],
        assignments: list[int],
        *,
        papers: Sequence[Paper] = (),
        folder: Folder | None = None,
        stream: Stream | None = None,
        space: Space | None = None,
        names: list[str] | None = None,
        variants: dict[str, list[str]] | None = None,
        surfaces: dict[str, str] | None = None,
    ) -> None:
        self.topics = topics
        self.assignments = assignments
        self._papers = papers  # a list, or papers kept on disk (papercli.spool)
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
            self._centres = normalize_rows(np.vstack(centres))
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
            sample = [self._papers[i] for i in list(papers)[:SURFACE_SAMPLE]]
            self._surfaces[term] = surface(term, self._folder.spellings, sample)
        return self._surfaces[term]

    def _lexical(self, query: str) -> dict[int, tuple[bool, list[str]]]:
        """index -> (found in a title, forms found) for the papers whose text holds the query."""
        hits: dict[int, tuple[bool, list[str]]] = {}
        if self._stream is None:
            return hits
        stream = self._stream
        for folded, shown in self._forms(query).items():
            ids = [BREAK if w == "|" else self._folder.find(w) for w in folded.split()]
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
