"""Every source papercli reads, registered here and nowhere else.

Adding a source is one new module under `papercli/sources/` with a class that follows
`base.Source`, plus one line in SOURCES. The order of SOURCES is the order in which a saved
file's content is sniffed: feeds before HTML (both are markup), structured kinds before plain
text (the loosest sniff, so the last resort).
"""

from __future__ import annotations

from collections.abc import Iterator

from papercli.errors import UsageError
from papercli.sources import arxiv_api, arxiv_listing, arxiv_rss, files, hf, web
from papercli.sources.base import Parser, Sniff, Source

SOURCES: tuple[Source, ...] = (
    arxiv_api.SOURCE,
    arxiv_rss.SOURCE,
    arxiv_listing.SOURCE,
    hf.SOURCE,
    files.SOURCE,
    web.SOURCE,
)


def source(prefix: str) -> Source:
    """The source whose names start with `prefix` (or one of its earlier spellings)."""
    for candidate in SOURCES:
        if prefix == candidate.prefix or prefix in candidate.aliases:
            return candidate
    raise UsageError(f"unknown source {prefix!r}", hint="known: " + ", ".join(prefixes()))


def find(prefix: str) -> Source | None:
    """Like `source`, but None for a prefix no source has."""
    try:
        return source(prefix)
    except UsageError:
        return None


def prefixes() -> list[str]:
    return [candidate.prefix for candidate in SOURCES]


def sniffers() -> Iterator[tuple[Sniff, Parser]]:
    """Every (sniff, parse) pair, in the order a saved body is asked about."""
    for candidate in SOURCES:
        yield from candidate.sniffers
