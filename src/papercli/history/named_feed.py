"""The Atom feed of a named digest: fetch its sources, keep what its topics match, render Atom.

A feed has no recipients and remembers nothing: it always shows the digest's papers of its
`since` window, and feed readers tell new entries from seen ones by their ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from papercli.errors import NoMatchError
from papercli.history.feed import FeedInfo, atom_feed, digest_papers, feed_id_for

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
    settings: Settings, name: str, *, fetch: bool = True, self_url: str | None = None
) -> NamedFeed:
    """Digest `name`'s feed: its sources fetched first (unless `fetch` is False), then the papers
    first seen within its `since` that its topics match (all of them when it has none)."""
    from papercli.digest import build_digest, parse_since
    from papercli.fetch import fetch_into_store, parse_spec
    from papercli.runner import DigestConfig
    from papercli.store import Store

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
        try:
            digest = build_digest(
                candidates, queries=config.topics, excludes=config.exclude,
                n_topics=config.n_topics, limit=config.limit, sort=config.sort,
                title=config.title or f"papercli: {name}", updates=config.updates,
                announce=config.announce, explain_no_match=False,
            ) if candidates else None  # fmt: skip
        except NoMatchError:
            digest = None
        papers = digest_papers(digest) if digest else []
        seen = store.version_seen([p.id for p in papers])
    info = FeedInfo(
        id=feed_id_for(name),
        title=config.title or f"papercli: {name}",
        self_url=self_url,
        subtitle=", ".join(config.topics) or None,
    )
    return NamedFeed(atom_feed(papers, info, version_seen=seen), papers, fetched)
