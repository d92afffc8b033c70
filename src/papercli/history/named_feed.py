"""The Atom feed of a named digest: fetch its sources, keep what its topics match, render Atom.

A feed has no recipients and remembers nothing: it always shows the digest's papers of its
`since` window, and feed readers tell new entries from seen ones by their ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from papercli.errors import NoMatchError
from papercli.history.feed import FeedInfo, atom_feed, digest_papers, digest_why, feed_id_for

if TYPE_CHECKING:
    from papercli.fetch import SourceResult
    from papercli.models import Paper
    from papercli.settings import Settings


@dataclass
class NamedFeed:
    """A named digest's feed, and what fetching its sources did."""

    text: str
    papers: list[Paper]
    fetched: list[SourceResult] = field(default_factory=list)


def build_named_feed(
    settings: Settings,
    name: str,
    *,
    fetch: bool = True,
    self_url: str | None = None,
    info: Callable[[str], None] = lambda line: None,
) -> NamedFeed:
    """Digest `name`'s feed: its sources fetched first (unless `fetch` is False), then the papers
    first seen within its `since` that its topics match (all of them when it has none), ranked
    and cut as the digest's email is (its rank, min_score and max_papers)."""
    from papercli.digest import build_digest, parse_since
    from papercli.fetch import fetch_into_store, parse_spec
    from papercli.personal.ranking import ranker_from_store
    from papercli.runner import DigestConfig
    from papercli.store import Store
    from papercli.trends import digest_topics

    config = DigestConfig.from_settings(settings, name)
    specs = [parse_spec(s) for s in config.sources]
    with Store(settings.db_path) as store:
        fetched = fetch_into_store(specs, settings, store) if fetch and specs else []
        since = parse_since(config.since)
        found: dict[str, Paper] = {}
        sources: list[str | None] = [spec.name for spec in specs] or [None]
        for source in sources:
            for paper in store.papers(since=since, source=source):
                found.setdefault(paper.id, paper)
        candidates = sorted(found.values(), key=lambda p: (p.first_seen or "", p.id))
        # The same papers, order and cut as the named digest's email: its rank, min_score,
        # max_papers and stable topics apply here too.
        ranker = ranker_from_store(store, config.rank, info) if candidates else None
        stable = digest_topics(store) if candidates and config.stable_topics else None
        try:
            digest = build_digest(
                candidates, queries=config.topics, excludes=config.exclude,
                n_topics=config.n_topics, limit=config.limit, sort=config.sort,
                title=config.title or f"papercli: {name}", max_papers=config.max_papers,
                updates=config.updates, announce=config.announce, explain_no_match=False,
                ranker=ranker, min_score=config.min_score, stable=stable,
            ) if candidates else None  # fmt: skip
        except NoMatchError:
            digest = None
        papers = digest_papers(digest) if digest else []
        why = digest_why(digest) if digest else {}
        seen = store.version_seen([p.id for p in papers])
    feed_info = FeedInfo(
        id=feed_id_for(name),
        title=config.title or f"papercli: {name}",
        self_url=self_url,
        subtitle=", ".join(config.topics) or None,
    )
    return NamedFeed(atom_feed(papers, feed_info, version_seen=seen, why=why), papers, fetched)
