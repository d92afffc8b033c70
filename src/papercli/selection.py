"""Which papers a digest keeps: each paper is judged on its own text and the digest's settings.

A paper matches a query when its title or abstract names it, folded the way topics fold text
(plural, British/American spelling, hyphenation, prefixes written apart) or through an acronym the
paper itself defines ("Large Language Models (LLMs)" matches `LLM`). An exclude drops the papers
that name it the same way. Nothing about the other papers of the day enters the decision, so a
named digest keeps the same papers whatever else the store holds: the day's pool can change the
topics and the order, never whether a paper is in.

    >>> Matcher(["diffusion models"]).match(Paper("1", "A Diffusion-Model Study"))
    Match(score=0.8125, terms=['diffusion models'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from papercli.models import Paper
from papercli.topics.text import Folder, acronyms, phrase

TITLE_BONUS = 0.25  # a query in the title says more than one in the abstract
REPEAT_BONUS = 0.25  # ... and a query the abstract keeps coming back to, up to REPEAT_FULL uses
REPEAT_FULL = 4


@dataclass
class Match:
    """How well one paper matches the digest's queries, and the words that did it."""

    score: float
    terms: list[str] = field(default_factory=list)


@dataclass
class _Query:
    shown: str  # as the user wrote it
    folded: str  # its terms, space-joined, '|' where a phrase breaks


class Matcher:
    """Queries and excludes folded once; `match(paper)` judges one paper at a time."""

    def __init__(self, queries: Sequence[str], excludes: Sequence[str] = ()) -> None:
        self._folder = Folder()
        self._queries = self._fold(queries)
        self._excludes = self._fold(excludes)

    def _fold(self, texts: Sequence[str]) -> list[_Query]:
        folded = [_Query(text.strip(), phrase(self._folder, text)) for text in texts]
        return [query for query in folded if query.folded]

    def match(self, paper: Paper) -> Match | None:
        """The paper's match (score 0.5-1), or None when it names no query or an exclude.

        Without queries every paper not excluded matches, with score 0.
        """
        if not self._queries and not self._excludes:
            return Match(0.0)  # nothing to look for: no need to fold the paper's text
        title = f" {phrase(self._folder, paper.title)} "
        abstract = f" {phrase(self._folder, paper.abstract)} "
        acronyms: dict[str, list[str]] | None = None

        def forms(query: _Query) -> list[str]:
            nonlocal acronyms
            if acronyms is None:
                acronyms = _acronyms(paper, self._folder)
            return [query.folded, *acronyms.get(query.folded, [])]

        for exclude in self._excludes:
            if any(f" {form} " in title + abstract for form in forms(exclude)):
                return None
        if not self._queries:
            return Match(0.0)
        best: Match | None = None
        for query in self._queries:
            in_title = uses = 0
            for form in forms(query):
                needle = f" {form} "
                in_title |= needle in title
                uses += title.count(needle) + abstract.count(needle)
            if not uses:
                continue
            repeat = min(uses, REPEAT_FULL) / REPEAT_FULL
            score = round(0.5 + TITLE_BONUS * in_title + REPEAT_BONUS * repeat, 4)
            if best is None:
                best = Match(score, [query.shown])
            else:
                best = Match(max(best.score, score), [*best.terms, query.shown])
        return best


def _acronyms(paper: Paper, folder: Folder) -> dict[str, list[str]]:
    """The acronyms this paper defines, folded, both ways (only when it has a parenthesis)."""
    if "(" not in paper.title and "(" not in paper.abstract:
        return {}
    return acronyms([paper], folder)
