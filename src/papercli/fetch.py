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

from papercli.errors import PapercliError, UnexpectedError, UsageError
from papercli.models import Page, Paper
from papercli.sources.base import SourceSpec, spec

if TYPE_CHECKING:
    from papercli.http import HttpClient
    from papercli.settings import Settings
    from papercli.spool import SpooledPapers
    from papercli.store import Store


def parse_spec(text: str) -> SourceSpec:
    """A source's one name, as written in the config file, on the command line or in the store.

    'hf' -> Hugging Face's latest day; 'hf:2024-08-01' -> that day; 'arxiv:cs.LG' -> the
    /list/cs.LG/new listing; 'arxiv:cs.LG/recent'; 'rss:cs.CL+cs.AI'; 'api:ti:diffusion';
    'https://...' -> that URL; anything else is a path to a saved file. The earlier spellings
    ('arxiv-listing:cs.LG/new', 'arxiv-rss:...', 'arxiv-api:...', 'url:...', 'file:...') are
    read too.
    """
    from papercli.sources import registry, web

    if text.startswith(web.SCHEMES):
        return spec("url", text)
    prefix, colon, rest = text.partition(":")
    source = registry.find(prefix)
    if source is not None and (colon or source.prefix == "hf"):
        return source.parse_name(rest)
    return spec("file", text)


def is_source_name(text: str) -> bool:
    """Does `text` start a source of its own on the `fetch` command line (rather than being a
    category or query word of the one before)? 'hf', 'arxiv', 'rss:cs.AI', URLs: yes;
    'cs.LG', 'ti:diffusion': no."""
    from papercli.sources import registry, web

    prefix, colon, _ = text.partition(":")
    return text.startswith(web.SCHEMES) or (
        registry.find(prefix) is not None and (bool(colon) or prefix in ARG_FORMS)
    )


# The sources that have a `papercli fetch PREFIX ARGS...` form.
ARG_FORMS = ("hf", "arxiv", "rss", "api")


def specs_from_args(args: Sequence[str], **options: Any) -> list[SourceSpec]:
    """The `papercli fetch` arguments, in any mix of the forms:

    `hf`, `arxiv CAT...`, `rss CATS`, `api QUERY` (the words up to the next source are its
    arguments), any source name (`arxiv:cs.LG`, `hf:2024-08-01`, ...), paths and URLs.
    `fetch hf arxiv:cs.LG x.html` -> [hf, arxiv:cs.LG, x.html].
    """
    from papercli.sources import registry

    specs: list[SourceSpec] = []
    i = 0
    while i < len(args):
        head = args[i]
        if head in ARG_FORMS:
            end = i + 1
            while end < len(args) and not is_source_name(args[end]):
                end += 1
            specs += registry.source(head).from_args(args[i + 1 : end], options)
            i = end
            continue
        found = parse_spec(head)
        if found.kind == "api" and options.get("max") is not None:
            found = spec("api", found.target, **{**found.opts, "max": options["max"]})
        specs.append(found)
        i += 1
    return specs


def source_filter(value: str, stored: Sequence[str]) -> str:
    """The prefix of stored source names that `--source VALUE` selects.

    'arxiv' -> 'arxiv' (every listing); 'arxiv-rss' -> 'rss' (an earlier spelling);
    'arxiv-listing:cs.LG/new' -> 'arxiv:cs.LG'; 'saved.html' -> its absolute path. Raises
    UsageError, listing the known names, for a value that is no source's name and that no
    stored source name starts with.
    """
    from papercli.sources import registry

    source = registry.find(value)
    if source is not None:
        return source.prefix
    if any(name.startswith(value) for name in stored):
        return value
    # A saved file by the name the tables show (its file name), when one stored file has it.
    named = [name for name in stored if name.startswith("/") and name.rsplit("/", 1)[1] == value]
    if len(named) == 1:
        return named[0]
    found = parse_spec(value)
    if found.kind != "file" or any(name.startswith(found.name) for name in stored):
        return found.name
    known = ", ".join(registry.prefixes()[:4])
    # A few of them: a store of many saved files would list every path in one line.
    listed = ", ".join(stored[:4])
    if len(stored) > 4:
        listed += f" and {len(stored) - 4} more (`papercli status` lists them)"
    in_store = f"; in this store: {listed}" if stored else ""
    raise UsageError(
        f"unknown source {value!r}",
        hint=f"use a name such as {known}, or a name or prefix of a stored source{in_store}",
    )


# --- pages -------------------------------------------------------------------------------------


def iter_pages(source: SourceSpec, client: HttpClient, settings: Settings) -> Iterator[Page]:
    """Every page of one source, read through `client` (or from disk for files)."""
    from papercli.sources.registry import source as source_of

    yield from source_of(source.kind).iter_pages(source, client, settings.fetch)


def read_papers(
    sources: Sequence[SourceSpec],
    settings: Settings,
    on_page: Callable[[SourceSpec, Page], None] | None = None,
    *,
    into: list[Paper] | SpooledPapers | None = None,
) -> tuple[Sequence[Paper], str | None]:
    """Papers of the given sources without touching the store (for `digest INPUT...`).

    Returns the papers (first occurrence of each id wins), appended to `into` if given (a
    `SpooledPapers` keeps their abstracts on disk), and the newest page date. `on_page` hears
    of each page as it is read.
    """
    from papercli.http import HttpClient

    papers = [] if into is None else into
    seen: set[str] = set()
    dates: list[str] = []
    with HttpClient(settings.fetch, settings.cache_dir) as client:
        for source in sources:
            for page in iter_pages(source, client, settings):
                if on_page is not None:
                    on_page(source, page)
                if page.date:
                    dates.append(page.date)
                for paper in page.papers:
                    if paper.id not in seen:
                        seen.add(paper.id)
                        papers.append(paper)
    return papers, max(dates) if dates else None


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
        # A file's error already names it as it was given (t/x.html for /home/.../t/x.html).
        named = source.name in exc.message or exc.message.startswith(f"{source.target}:")
        if not named:
            exc.message = f"{source.name}: {exc.message}"
        result.error = exc
    except Exception as exc:
        # A value no one foresaw in one source's data is that source's failure: it is logged
        # and reported (exit 1, as a bug), and the other sources of the run still go ahead.
        error = UnexpectedError(
            f"{source.name}: unexpected {type(exc).__name__}: {exc} "
            "(this is a bug: run again with --traceback and report it)"
        )
        error.__cause__ = exc
        result.error = error
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
