"""Fetching: turn source specs ("hf", "arxiv:cs.LG/new", a path or URL) into pages and store them.

This is the only module that joins the HTTP client, the source parsers and the store. Each page
is stored in its own transaction; a failing source is logged and reported, and the other sources
in the same run still go ahead.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from papercli.errors import PapercliError, UsageError
from papercli.models import Page, Paper

if TYPE_CHECKING:
    from papercli.http import HttpClient
    from papercli.settings import Settings
    from papercli.store import Store

KINDS = ("hf", "arxiv", "rss", "api")
LISTINGS = ("new", "recent", "pastweek")


@dataclass(frozen=True)
class SourceSpec:
    """One thing to fetch. `kind` is hf | arxiv | rss | api | url | file."""

    kind: str
    target: str = ""  # category, categories, query, URL or path
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def opts(self) -> dict[str, Any]:
        return dict(self.options)

    @property
    def name(self) -> str:
        """The name stored with each paper and in the fetch log.

        `SourceSpec("arxiv", "cs.LG", (("listing", "new"),))` -> 'arxiv-listing:cs.LG/new'.
        """
        opts = self.opts
        if self.kind == "hf":
            when = opts.get("date") or opts.get("week") or opts.get("month")
            return f"hf:{when}" if when else "hf"
        if self.kind == "arxiv":
            return f"arxiv-listing:{self.target}/{opts.get('listing', 'new')}"
        if self.kind == "rss":
            return f"arxiv-rss:{self.target}"
        if self.kind == "api":
            return f"arxiv-api:{self.target}"
        if self.kind == "file":
            return f"file:{Path(self.target).name}"
        return f"url:{self.target}"


def spec(kind: str, target: str = "", **options: Any) -> SourceSpec:
    clean = tuple(sorted((k, v) for k, v in options.items() if v is not None))
    return SourceSpec(kind, target, clean)


def parse_spec(text: str) -> SourceSpec:
    """A source as written in the config file's `sources` list or on the command line.

    'hf' -> hf today; 'hf:2024-08-01' -> that day; 'arxiv:cs.LG' -> /list/cs.LG/new;
    'arxiv:cs.LG/recent'; 'rss:cs.CL+cs.AI'; 'api:ti:diffusion'; 'https://...' -> that URL;
    anything else is a path to a saved file.
    """
    kind, _, rest = text.partition(":")
    if text.startswith(("http://", "https://")):
        return spec("url", text)
    if kind == "hf" and not rest:
        return spec("hf")
    if kind == "hf":
        key = "week" if "W" in rest else "date" if rest.count("-") == 2 else "month"
        return spec("hf", **{key: rest})
    if kind == "arxiv" and rest:
        category, _, listing = rest.partition("/")
        return spec("arxiv", category, listing=listing or "new")
    if kind == "rss" and rest:
        return spec("rss", rest)
    if kind == "api" and rest:
        return spec("api", rest)
    return spec("file", text)


def specs_from_args(args: Sequence[str], **options: Any) -> list[SourceSpec]:
    """The `papercli fetch` arguments: `hf`, `arxiv CAT`, `rss CATS`, `api QUERY`, or paths/URLs."""
    if not args:
        return []
    head, rest = args[0], list(args[1:])
    if head == "hf":
        if rest:
            raise UsageError(f"`fetch hf` takes no arguments (got {rest[0]!r}); use --date/--week")
        return [
            spec(
                "hf", date=options.get("date"), week=options.get("week"), month=options.get("month")
            )
        ]
    if head in ("arxiv", "rss", "api"):
        if not rest:
            what = {
                "arxiv": "a category, e.g. cs.LG",
                "rss": "categories, e.g. cs.CL+cs.AI",
                "api": "a query, e.g. 'ti:diffusion'",
            }[head]
            raise UsageError(f"`fetch {head}` needs {what}")
        if head == "arxiv":
            return [spec("arxiv", c, listing=options.get("listing") or "new") for c in rest]
        if head == "rss":
            return [spec("rss", "+".join(rest))]
        return [spec("api", " ".join(rest), max=options.get("max"))]
    return [
        spec("url", a) if a.startswith(("http://", "https://")) else spec("file", a) for a in args
    ]


# --- pages -------------------------------------------------------------------------------------


def _route_url(url: str) -> SourceSpec | None:
    """A known upstream URL as a spec, so paging works the same as `fetch arxiv CAT`.

    'https://arxiv.org/list/cs.LG/recent' -> SourceSpec('arxiv', 'cs.LG', listing=recent).
    """
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    match = re.fullmatch(r"/list/([\w.\-]+)/(new|recent|pastweek)/?", parts.path)
    if match:
        return spec("arxiv", match.group(1), listing=match.group(2))
    match = re.fullmatch(r"/rss/([\w.\-+]+)/?", parts.path)
    if match:
        return spec("rss", match.group(1))
    if parts.path.rstrip("/") == "/api/daily_papers":
        return spec("hf", date=query.get("date"), week=query.get("week"), month=query.get("month"))
    return None


def iter_pages(source: SourceSpec, client: HttpClient, settings: Settings) -> Iterator[Page]:
    """Every page of one source, read through `client` (or from disk for files)."""
    from papercli.sources import detect

    fetch = settings.fetch
    opts = source.opts
    if source.kind == "hf":
        from papercli.sources import hf

        yield from hf.iter_pages(
            client,
            fetch.hf_url,
            date=opts.get("date"),
            week=opts.get("week"),
            month=opts.get("month"),
        )
    elif source.kind == "arxiv":
        from papercli.sources import arxiv_listing

        yield from arxiv_listing.iter_pages(
            client, fetch.arxiv_url, source.target, opts.get("listing", "new")
        )
    elif source.kind == "rss":
        from papercli.sources import arxiv_rss

        yield from arxiv_rss.iter_pages(client, fetch.rss_url, source.target)
    elif source.kind == "api":
        from papercli.sources import arxiv_api

        yield from arxiv_api.iter_pages(
            client.api_get,
            fetch.api_url,
            search_query=source.target,
            max_results=opts.get("max") or 100,
        )
    elif source.kind == "file":
        yield from detect.iter_file_pages(Path(source.target).expanduser())
    else:
        routed = _route_url(source.target)
        if routed is not None:
            yield from iter_pages(routed, client, settings)
        else:
            yield detect.parse_any(client(source.target), url=source.target, name=source.target)


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
