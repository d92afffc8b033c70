"""Fetching: turn source specs ("hf", "arxiv:cs.LG/new", a path or URL) into pages and store them.

This is the only module that joins the HTTP client, the sources (papercli.sources.registry) and
the store. Each page
is stored in its own transaction; a failing source is logged and reported, and the other sources
in the same run still go ahead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from papercli.errors import PapercliError
from papercli.models import Page, Paper
from papercli.sources.base import SourceSpec, spec

if TYPE_CHECKING:
    from papercli.http import HttpClient
    from papercli.settings import Settings
    from papercli.store import Store


def parse_spec(text: str) -> SourceSpec:
    """A source as written in the config file's `sources` list or on the command line.

    'hf' -> hf today; 'hf:2024-08-01' -> that day; 'arxiv:cs.LG' -> /list/cs.LG/new;
    'arxiv:cs.LG/recent'; 'rss:cs.CL+cs.AI'; 'api:ti:diffusion'; 'https://...' -> that URL;
    anything else is a path to a saved file.
    """
    from papercli.sources import registry, web

    if text.startswith(web.SCHEMES):
        return spec("url", text)
    prefix, colon, rest = text.partition(":")
    source = registry.find(prefix)
    if source is not None and (colon or source.prefix == "hf"):
        return source.parse_name(rest)
    return spec("file", text)


def specs_from_args(args: Sequence[str], **options: Any) -> list[SourceSpec]:
    """The `papercli fetch` arguments: `hf`, `arxiv CAT`, `rss CATS`, `api QUERY`, or paths/URLs."""
    from papercli.sources import registry, web

    if not args:
        return []
    head, rest = args[0], list(args[1:])
    if head in ("hf", "arxiv", "rss", "api"):
        return registry.source(head).from_args(rest, options)
    return [spec("url", a) if a.startswith(web.SCHEMES) else spec("file", a) for a in args]


# --- pages -------------------------------------------------------------------------------------


def iter_pages(source: SourceSpec, client: HttpClient, settings: Settings) -> Iterator[Page]:
    """Every page of one source, read through `client` (or from disk for files)."""
    from papercli.sources.registry import source as source_of

    yield from source_of(source.kind).iter_pages(source, client, settings.fetch)


def read_papers(
    sources: Sequence[SourceSpec],
    settings: Settings,
    on_page: Callable[[SourceSpec, Page], None] | None = None,
) -> tuple[list[Paper], str | None]:
    """Papers of the given sources without touching the store (for `digest INPUT...`).

    Returns the papers (first occurrence of each id wins) and the newest page date. `on_page`
    hears of each page as it is read.
    """
    from papercli.http import HttpClient

    papers: dict[str, Paper] = {}
    dates: list[str] = []
    with HttpClient(settings.fetch, settings.cache_dir) as client:
        for source in sources:
            for page in iter_pages(source, client, settings):
                if on_page is not None:
                    on_page(source, page)
                if page.date:
                    dates.append(page.date)
                for paper in page.papers:
                    papers.setdefault(paper.id, paper)
    return list(papers.values()), max(dates) if dates else None


# --- fetch into the store ----------------------------------------------------------------------


@dataclass
class SourceResult:
    """What one source's fetch did, for the summary table, --json and the fetch log."""

    source: str
    pages: int = 0
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    status: int | None = None
    from_cache: bool = False
    error: PapercliError | None = None
    seconds: float = 0.0
    messages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "pages": self.pages,
            "fetched": self.fetched,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "status": self.status,
            "from_cache": self.from_cache,
            "ok": self.ok,
            "error": str(self.error) if self.error else None,
            "exit_code": int(self.error.exit_code) if self.error else 0,
            "seconds": round(self.seconds, 3),
        }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def fetch_into_store(
    sources: Sequence[SourceSpec],
    settings: Settings,
    store: Store,
    *,
    on_page: Callable[[SourceSpec, Page], None] | None = None,
) -> list[SourceResult]:
    """Fetch each source, storing page by page; one source failing does not stop the others."""
    from papercli.http import HttpClient

    results = []
    with HttpClient(settings.fetch, settings.cache_dir) as client:
        for source in sources:
            results.append(_fetch_one(source, client, settings, store, on_page))
    return results


def _fetch_one(source, client, settings, store, on_page) -> SourceResult:
    result = SourceResult(source.name)
    started, clock = _now(), time.monotonic()
    first_request = len(client.history)
    try:
        for page in iter_pages(source, client, settings):
            counts = store.upsert_page(source.name, page, fetched_at=started)
            result.pages += 1
            for name in ("fetched", "new", "updated", "unchanged"):
                setattr(result, name, getattr(result, name) + getattr(counts, name))
            if on_page:
                on_page(source, page)
    except PapercliError as exc:
        # With several sources in one cron run, a bare "host refused the connection" or
        # "response too large" would not say which source to look at.
        if source.name not in exc.message:
            exc.message = f"{source.name}: {exc.message}"
        result.error = exc
    requests = client.history[first_request:]
    if requests:
        result.status = requests[-1].status
        result.from_cache = all(r.from_cache for r in requests)
    result.seconds = time.monotonic() - clock
    store.log_fetch(
        source.name,
        url=requests[-1].url if requests else source.target or None,
        status=result.status,
        counts=_counts(result),
        error=str(result.error) if result.error else None,
        started_at=started,
        finished_at=_now(),
        from_cache=result.from_cache,
    )
    return result


def _counts(result: SourceResult):
    from papercli.store import UpsertCounts

    return UpsertCounts(result.fetched, result.new, result.updated, result.unchanged)
