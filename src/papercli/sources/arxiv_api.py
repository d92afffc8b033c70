"""The arXiv API source (kind "arxiv-api"): query URLs, Atom answers parsed into Pages, paging.

export.arxiv.org/api/query answers in Atom: one `<entry>` per paper, the query's size in
`<opensearch:totalResults>`, this page's offset in `<opensearch:startIndex>`. Both the 2016 and
the 2026 shapes of the answer are read (they differ only in element order and where the
namespaces are declared). A bad query comes back as a single entry titled "Error" whose id is
under `/api/errors`, usually with HTTP 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from papercli.errors import ParseError, UsageError
from papercli.models import Page, Paper, split_arxiv_id
from papercli.sources.base import SourceSpec, spec
from papercli.sources.xmlsafe import clean_text, iso_date, parse_xml

if TYPE_CHECKING:
    from lxml import etree

    from papercli.http import HttpClient
    from papercli.settings import FetchSettings

KIND = "arxiv-api"
DEFAULT_BASE_URL = "https://export.arxiv.org"

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"

SORT_BY = ("relevance", "lastUpdatedDate", "submittedDate")
SORT_ORDER = ("ascending", "descending")
MAX_PAGE_SIZE = 2000  # the most the API returns per request
_FIX_QUERY = "fix the query (see https://info.arxiv.org/help/api/user-manual.html)"
_ERROR_ID = re.compile(r"/api/errors\b")


# --- URLs --------------------------------------------------------------------------------------


def query_url(
    base_url: str = DEFAULT_BASE_URL,
    *,
    search_query: str | None = None,
    id_list: list[str] | None = None,
    start: int = 0,
    max_results: int = 100,
    sort_by: str = "submittedDate",
    sort_order: str = "descending",
) -> str:
    """The /api/query URL for a search, a list of ids, or both (ids filtered by the search).

    `query_url(search_query="ti:diffusion AND cat:cs.LG", max_results=50)` ->
    'https://export.arxiv.org/api/query?search_query=ti%3Adiffusion+AND+cat%3Acs.LG&start=0&max_results=50&sortBy=submittedDate&sortOrder=descending'.
    Newest first by default: a digest wants this week's papers, not the most relevant ever.
    """
    from urllib.parse import urlencode

    ids = [i.strip() for i in id_list or [] if i.strip()]
    query = (search_query or "").strip()
    if not query and not ids:
        raise UsageError("arXiv API: give a search query or a list of ids", hint=_FIX_QUERY)
    if start < 0 or not 1 <= max_results <= MAX_PAGE_SIZE:
        raise UsageError(
            f"arXiv API: start must be >= 0 and max_results 1..{MAX_PAGE_SIZE} "
            f"(got start={start}, max_results={max_results})"
        )
    if sort_by not in SORT_BY or sort_order not in SORT_ORDER:
        raise UsageError(
            f"arXiv API: cannot sort by {sort_by!r} {sort_order!r}",
            hint=f"sort by one of {', '.join(SORT_BY)}, order {' or '.join(SORT_ORDER)}",
        )
    params: list[tuple[str, str | int]] = []
    if query:
        params.append(("search_query", query))
    if ids:
        params.append(("id_list", ",".join(ids)))
    params += [
        ("start", start),
        ("max_results", max_results),
        ("sortBy", sort_by),
        ("sortOrder", sort_order),
    ]
    return f"{base_url.rstrip('/')}/api/query?{urlencode(params)}"


def iter_pages(
    get: Callable[[str], bytes],
    base_url: str = DEFAULT_BASE_URL,
    *,
    search_query: str | None = None,
    id_list: list[str] | None = None,
    max_results: int = 100,
    page_size: int = 100,
    sort_by: str = "submittedDate",
    sort_order: str = "descending",
) -> Iterator[Page]:
    """Every page of a query until `max_results` entries or the announced total are read.

    Under load the API sometimes answers a page with no entries although its total says more
    exist. On the first page that is an error (ParseError: retry later), since nothing was read;
    after that the walk stops cleanly with what it has, and the pages' `total` shows the
    shortfall, because the entries already read are good and a digest of them beats none.
    """
    if max_results < 1 or page_size < 1:
        raise UsageError(f"arXiv API: max_results and page_size must be >= 1 (got {max_results})")
    read = 0
    while read < max_results:
        url = query_url(
            base_url,
            search_query=search_query,
            id_list=id_list,
            start=read,
            max_results=min(page_size, max_results - read, MAX_PAGE_SIZE),
            sort_by=sort_by,
            sort_order=sort_order,
        )
        page = parse(get(url), url=url)
        count = len(page.papers)
        if count == 0 and read == 0 and page.total:
            raise ParseError(
                f"arXiv API ({url}): no entries although {page.total} match (the API does "
                "this when busy)",
                hint="retry in a few minutes",
            )
        yield page
        read += count
        if count == 0 or (page.total is not None and read >= page.total):
            return


# --- parsing -----------------------------------------------------------------------------------


def sniff(data: bytes) -> bool:
    """Does `data` look like an answer of the arXiv API (an Atom feed from arxiv.org/api)?"""
    head = data[:4096].lower()
    return b"<feed" in head and b"www.w3.org/2005/atom" in head and b"arxiv.org/api" in head


def parse(data: bytes, *, url: str | None = None) -> Page:
    """The papers of one API answer; ParseError for the API's Error entry or a non-Atom body."""
    source = f"arXiv API ({url})" if url else "arXiv API"
    root = parse_xml(data, source)
    if root.tag != f"{_ATOM}feed":
        raise ParseError(
            f"{source}: not an Atom feed (the document is <{str(root.tag).rpartition('}')[2]}>)",
            hint="give an arXiv API URL such as https://export.arxiv.org/api/query?search_query=ti:x",
        )
    entries = root.findall(f"{_ATOM}entry")
    for entry in entries:
        _raise_if_error(entry)
    papers = [_paper(entry, number, source) for number, entry in enumerate(entries, 1)]
    return Page(
        KIND,
        papers,
        date=iso_date(root.findtext(f"{_ATOM}updated")),
        total=_int(root.findtext(f"{_OPENSEARCH}totalResults"), source, "totalResults"),
        start=_int(root.findtext(f"{_OPENSEARCH}startIndex"), source, "startIndex") or 0,
        title=clean_text(root.findtext(f"{_ATOM}title")) or None,
    )


def _raise_if_error(entry: etree._Element) -> None:
    """The API reports a bad query as an entry: id .../api/errors#..., title Error."""
    entry_id = entry.findtext(f"{_ATOM}id") or ""
    titled_error = (
        clean_text(entry.findtext(f"{_ATOM}title")) == "Error" and "/abs/" not in entry_id
    )
    if _ERROR_ID.search(entry_id) or titled_error:
        reason = clean_text(entry.findtext(f"{_ATOM}summary")) or entry_id.rpartition("#")[2]
        raise ParseError(f"arXiv API: {reason or 'the query was refused'}", hint=_FIX_QUERY)


def _paper(entry: etree._Element, number: int, source: str) -> Paper:
    fields: dict[str, str] = {}
    authors: list[str] = []
    categories: list[str] = []
    primary = ""
    url = ""
    for child in entry:
        tag = child.tag
        if tag == f"{_ATOM}author":
            name = clean_text(child.findtext(f"{_ATOM}name"))
            if name:
                authors.append(name)
        elif tag == f"{_ATOM}category":
            term = clean_text(child.get("term"))
            if term and term not in categories:
                categories.append(term)
        elif tag == f"{_ARXIV}primary_category":
            primary = clean_text(child.get("term"))
        elif tag == f"{_ATOM}link":
            if child.get("rel") == "alternate" and not url:
                url = clean_text(child.get("href"))
        elif isinstance(tag, str):
            fields[tag] = child.text if len(child) == 0 else "".join(child.itertext())
    try:
        arxiv_id, version = split_arxiv_id(fields.get(f"{_ATOM}id", ""))
    except ValueError:
        arxiv_id, version = "", None
    title = clean_text(fields.get(f"{_ATOM}title"))
    if not arxiv_id or not title:
        raise ParseError(
            f"{source}: entry {number} has no {'arXiv id' if not arxiv_id else 'title'}",
            hint="the answer is damaged; fetch it again",
        )
    if primary:
        categories = [primary, *(c for c in categories if c != primary)]
    return Paper(
        id=arxiv_id,
        title=title,
        authors=authors,
        abstract=clean_text(fields.get(f"{_ATOM}summary")),
        version=version,
        categories=categories,
        primary_category=primary or (categories[0] if categories else None),
        published=iso_date(fields.get(f"{_ATOM}published")),
        updated=iso_date(fields.get(f"{_ATOM}updated")),
        comments=clean_text(fields.get(f"{_ARXIV}comment")) or None,
        journal_ref=clean_text(fields.get(f"{_ARXIV}journal_ref")) or None,
        doi=clean_text(fields.get(f"{_ARXIV}doi")) or None,
        url=url or None,
    )


def _int(text: str | None, source: str, what: str) -> int | None:
    if text is None or not text.strip():
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise ParseError(
            f"{source}: opensearch:{what} is not a number ({text.strip()[:40]!r})",
            hint="the answer is damaged; fetch it again",
        ) from None


# --- the source ----------------------------------------------------------------------------


class ArxivApi:
    """`api:ti:diffusion`: an arXiv API search, newest first, at most `max` results."""

    prefix = "api"
    aliases = ("arxiv-api",)
    sniffers = ((sniff, parse),)

    def parse_name(self, rest: str) -> SourceSpec:
        if not rest.strip():
            raise UsageError("`api` needs a query", hint="e.g. api:ti:diffusion")
        return spec("api", rest)

    def name(self, source: SourceSpec) -> str:
        return f"{KIND}:{source.target}"

    def from_args(self, args: Sequence[str], options: dict[str, Any]) -> list[SourceSpec]:
        if not args:
            raise UsageError("`fetch api` needs a query, e.g. 'ti:diffusion'")
        return [spec("api", " ".join(args), max=options.get("max"))]

    def from_url(self, url: str) -> SourceSpec | None:
        """None: an API URL is asked once, exactly as written (its own start and max)."""
        return None

    def iter_pages(
        self, source: SourceSpec, client: HttpClient, fetch: FetchSettings
    ) -> Iterator[Page]:
        opts = source.opts
        yield from iter_pages(
            client.api_get,
            opts.get("base") or fetch.api_url,
            search_query=source.target,
            max_results=opts.get("max") or 100,
        )


SOURCE = ArxivApi()
