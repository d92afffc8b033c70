"""Search over every stored paper: what a person types -> an FTS5 query -> ranked hits.

The store does the matching with its FTS5 index (bm25, titles weighted above abstracts); this
module turns a typed query into FTS5 syntax and the store's rows into hits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from papercli.errors import UsageError
from papercli.models import Paper

if TYPE_CHECKING:
    from papercli.store import Store

DEFAULT_LIMIT = 20
_OPERATORS = {"AND", "OR", "NOT", "NEAR"}
# A quoted phrase (perhaps unclosed: FTS5 then reports it), a bracket, or a bare word.
_TOKEN = re.compile(r'"(?:[^"]|"")*"?|[(),]|[^\s"(),]+')
_WORD = re.compile(r"(?:(\w+):)?(\^?)(.*)", re.DOTALL)


@dataclass
class Hit:
    """One paper found, with its place in the ranking and its relevance (higher is better)."""

    rank: int
    score: float
    paper: Paper

    def to_json(self) -> dict[str, Any]:
        """The paper as `papers --json` gives it, after its rank and score."""
        return {"rank": self.rank, "score": self.score, **self.paper.to_json()}


def fts_query(text: str) -> str:
    """A query as typed, in FTS5 syntax: words FTS5 would misread become quoted phrases.

    'self-supervised diffus*' -> '"self-supervised" diffus*' (FTS5 reads a bare '-' as a
    column filter); 'GPT-4 OR "flow matching"' -> '"GPT-4" OR "flow matching"';
    'title:cs.CL' -> 'title:"cs.CL"'. Kept as FTS5 reads them: phrases, prefixes (word*),
    column filters (title:, abstract:, authors:), title:^word (the title's first word),
    AND/OR/NOT, NEAR() and brackets.
    """
    return " ".join(_fts_token(token) for token in _TOKEN.findall(text))


def _fts_token(token: str) -> str:
    if token.startswith('"') or token in ("(", ")", ",") or token in _OPERATORS:
        return token
    column, caret, body = _WORD.fullmatch(token).groups()  # type: ignore[union-attr]
    prefix = (f"{column}:" if column else "") + caret
    if not body or re.fullmatch(r"\w+\*?", body):
        return prefix + body
    star = "*" if body.endswith("*") else ""
    phrase = body[: len(body) - len(star)]
    return prefix + '"' + phrase.replace('"', '""') + '"' + star


def _author_filter(author: str) -> str:
    """'Yann LeCun' -> 'authors : "Yann LeCun"': the names as one phrase, in the authors only."""
    return 'authors : "' + author.replace('"', '""') + '"'


def search(
    store: Store,
    query: str,
    *,
    since: str | None = None,
    author: str | None = None,
    category: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Hit]:
    """The stored papers matching `query`, best first (see `fts_query` for what it may hold).

    `author`: papers with an author whose name holds these words in order ('lecun', 'Yann
    LeCun'; accents ignored). `category`: papers listed in it or a subcategory ('cs', 'cs.LG').
    `since`: an ISO date or time, papers first seen then or later. Raises UsageError for a query
    FTS5 cannot read, an empty query or a limit below 1.
    """
    match = fts_query(query)
    if not match.strip():
        raise UsageError("the search query is empty", hint='give words, e.g. "flow matching"')
    if limit is not None and limit < 1:
        raise UsageError(f"--limit {limit} is below 1", hint="give a positive number")
    if author is not None and author.strip():
        match = f"({match}) AND {_author_filter(author.strip())}"
    found = store.search(match, since=since, category=category, limit=limit)
    # bm25 as SQLite gives it is lower-is-better; hits read more naturally the other way round.
    return [
        Hit(rank=rank, score=round(-score, 4), paper=paper)
        for rank, (paper, score) in enumerate(found, start=1)
    ]
