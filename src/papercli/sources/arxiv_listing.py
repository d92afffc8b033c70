"""The arXiv listing-page source (kind "arxiv-listing"): /list URLs, and pages parsed into a Page.

https://arxiv.org/list/<category>/new | recent | pastweek, in both layouts users have saved:
- current (since May 2024): `<div id='dlpage'>`, one `<dl id='articles'>` per section opened by
  an `<h3>` ("New submissions (showing 53 of 53 entries)", "Cross submissions", "Replacement
  submissions", or a day such as "Fri, 24 Jul 2026 (showing 23 of 23 entries )"), the listing's
  day in "Showing new listings for Friday, 3 March 2023", and "Total of N entries".
- old: `<h3>` headings before each `<dl>` ("New submissions for Fri, 20 Jul 18", "Cross-lists for
  ...", "Replacements for ...", or a day), `span.list-identifier`, "[ total of N entries: ...]".
In both, an entry is a `<dt>` (the /abs/ link, "(cross-list from X)", "(replaced)") followed by a
`<dd>` holding `div.list-title`, `div.list-authors`, optional `div.list-comments` and
`div.list-journal-ref`, `div.list-subjects` and, on /new, the abstract in `<p class='mathjax'>`.
A listing with no entries ("No updates today.") is an ordinary quiet day, not an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from papercli.errors import ParseError, UsageError
from papercli.models import CROSS, NEW, REPLACE, REPLACE_CROSS, Page, Paper, split_arxiv_id
from papercli.sources.base import SourceSpec, spec

if TYPE_CHECKING:
    from lxml.html import HtmlElement

    from papercli.http import HttpClient
    from papercli.settings import FetchSettings

KIND = "arxiv-listing"
LISTINGS = ("new", "recent", "pastweek")
MAX_SHOW = 2000  # the most entries arXiv serves on one listing page

_SNIFF_BYTES = 64 * 1024
_UPDATE_HINT = "the page layout may have changed: papercli may need an update"
_TRUNCATED_HINT = "the page may be truncated: fetch it again; if this persists, " + _UPDATE_HINT

# "cs", "cs.LG", "astro-ph.CO", "cond-mat.stat-mech", "q-fin.ST", "physics.acc-ph", "math-ph".
_CATEGORY = re.compile(r"[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]+(?:-[a-z]+)?)?")
_LIST_LINK = re.compile(r"/list/([^/?#\s]+)/(?:new|recent|pastweek)\b")
_TOTAL = re.compile(r"total of\s+(\d+)\s+entries", re.IGNORECASE)
_RANGE = re.compile(r"\s*(\d+)\s*-\s*\d+\s*$")
_SHOWING = re.compile(r"showing\s+(\d+)\s+of\s+\d+", re.IGNORECASE)
# "Friday, 3 March 2023", "Fri, 24 Jul 2026", and the old layout's "Fri, 20 Jul 18".
_DAY = re.compile(r"\b(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4}|\d{2})\b")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_SUBJECT_CODE = re.compile(r"\(([^()]+)\)\s*$")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x9f]")  # split() already folds \t-\r, \x1c-\x1f


# --- URLs --------------------------------------------------------------------------------------


def listing_url(
    base_url: str, category: str, listing: str = "new", *, skip: int = 0, show: int = MAX_SHOW
) -> str:
    """The URL of one page of an arXiv listing.

    `listing_url("https://arxiv.org", "cs.LG")` -> 'https://arxiv.org/list/cs.LG/new?skip=0&show=2000'.
    Raises UsageError for a category that is not an arXiv name, an unknown listing, or a bad page.
    """
    if not _CATEGORY.fullmatch(category):
        raise UsageError(
            f"arXiv listing: {category!r} is not an arXiv category",
            hint="use a name such as cs.LG, astro-ph.CO or math (see https://arxiv.org/category_taxonomy)",
        )
    if listing not in LISTINGS:
        raise UsageError(
            f"arXiv listing: {listing!r} is not a listing", hint=f"use one of {', '.join(LISTINGS)}"
        )
    if skip < 0 or not 1 <= show <= MAX_SHOW:
        raise UsageError(
            f"arXiv listing: cannot ask for skip={skip}, show={show}",
            hint=f"skip must be 0 or more and show between 1 and {MAX_SHOW}",
        )
    return f"{base_url.rstrip('/')}/list/{category}/{listing}?skip={skip}&show={show}"


def iter_pages(
    get: Callable[[str], bytes],
    base_url: str,
    category: str,
    listing: str = "new",
    *,
    show: int = MAX_SHOW,
) -> Iterator[Page]:
    """Every page of a listing, fetched through `get(url) -> bytes`, until the total is read.

    The first page's "Total of N entries" says how many to read; each next page skips the
    entries read so far. On /new a server may return fewer entries than `show` asked for (a
    server-side cap), so only the total or an empty page ends the walk; on /recent and /pastweek
    a short page ends it too (see below).
    """
    skip = read = 0
    total: int | None = None
    seen: set[str] = set()
    while True:
        url = listing_url(base_url, category, listing, skip=skip, show=show)
        page = parse(get(url), url=url)
        if total is None:
            total = page.total
        fresh = {paper.id for paper in page.papers} - seen
        if page.papers and not fresh:
            raise ParseError(
                f"arXiv listing: {url} repeated entries already read instead of the next page",
                hint="try again later; arXiv may be updating the listing",
            )
        seen |= fresh
        read += len(page.papers)
        skip += len(page.papers)
        yield page
        short = listing != "new" and len(page.papers) < show
        if total is None or read >= total or not page.papers or short:
            break
    # On /new the total counts exactly the entries of the day's sections, so a shortfall means
    # lost entries. On /recent and /pastweek arXiv counts the total across the days it lists and
    # the pages may show fewer (arxiv-browse's own test backend announces 320 and shows 264), so
    # there a short page just ends the listing.
    if listing == "new" and total is not None and read < total:
        raise ParseError(
            f"arXiv listing: {category} /{listing} announces {total} entries "
            f"but only {read} could be read",
            hint="try again later (the listing may have changed while paging); " + _UPDATE_HINT,
        )


# --- parsing -----------------------------------------------------------------------------------


def sniff(data: bytes) -> bool:
    """Does this body look like an arXiv /list page (either layout)? Looks at the first 64 KB."""
    head = data[:_SNIFF_BYTES]
    return b"dlpage" in head and (
        b"/list/" in head or b"list-identifier" in head or b"list-title" in head
    )


def parse(data: bytes, *, url: str | None = None) -> Page:
    """Read one arXiv listing page into a Page of kind "arxiv-listing".

    `url` (the address the page came from) supplies the skip offset and the category when the
    page itself does not show them. Raises ParseError for anything that is not a listing page
    and for a page that announces entries but yields none.
    """
    scope = _listing_root(data)
    header = _read_header(scope)
    start = header.start if header.start is not None else _skip_from(url)
    reader = _EntryReader()
    reader.read(scope)
    papers = reader.papers
    if not papers and header.total is None and not reader.headings:
        raise ParseError(
            "arXiv listing: the page has no listing in it",
            hint="check the category and the URL (e.g. https://arxiv.org/list/cs.LG/new)",
        )
    if not papers and header.total and start < header.total:
        raise ParseError(
            f"arXiv listing: the page announces {header.total} entries but none could be read",
            hint=_UPDATE_HINT,
        )
    if reader.shortfall:
        raise _truncated(reader.shortfall)
    category = _category_from(url) or header.category
    title = header.heading
    if title and category:
        title = f"{title} ({category})"
    return Page(
        kind=KIND,
        papers=papers,
        date=reader.first_date,
        total=header.total,
        start=start,
        title=title or category,
    )


def _listing_root(data: bytes) -> HtmlElement:
    """The page's `<div id='dlpage'>`, or a ParseError saying what the body is instead."""
    from lxml import etree, html

    head = data[:4096].lstrip()
    if not head and not data.strip():
        raise ParseError(
            "arXiv listing: the page is empty", hint="check the URL, or try again later"
        )
    if head[:1] in (b"{", b"["):
        raise ParseError(
            "arXiv listing: got JSON, not an arXiv listing page",
            hint="check the URL (e.g. https://arxiv.org/list/cs.LG/new)",
        )
    # libxml2 would turn bad bytes into U+FFFD silently, and the store keeps a stored title at
    # the same version, so a garbled title would outlive the next good fetch: refuse instead.
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ParseError(
            f"arXiv listing: the page is not valid UTF-8 (byte 0x{data[error.start]:02x} at "
            f"offset {error.start})",
            hint="fetch it again; if it keeps failing, the server sent something else",
        ) from None
    # arXiv serves UTF-8 without saying so in the page; libxml2 would otherwise assume Latin-1.
    parser = html.HTMLParser(encoding="utf-8")
    try:
        root = html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as error:
        raise ParseError(
            f"arXiv listing: the page cannot be read as HTML ({error})",
            hint="check the URL, or fetch the page again",
        ) from error
    scope = root.find(".//div[@id='dlpage']")
    if scope is None:
        raise ParseError(
            "arXiv listing: this is not an arXiv listing page (an error or login page?)",
            hint="check the category and the URL (e.g. https://arxiv.org/list/cs.LG/new)",
        )
    return scope


@dataclass
class _Header:
    heading: str | None = None  # the h1: "Cosmology and Nongalactic Astrophysics"
    category: str | None = None  # from the page's own /list/<category>/ links
    total: int | None = None
    start: int | None = None


def _read_header(scope: HtmlElement) -> _Header:
    """The h1, the category, the total and the offset, all shown before the first entry."""
    header = _Header()
    for element in scope.iter("h1", "a", "div", "small", "dl", "dt"):
        tag = element.tag
        if tag in ("dl", "dt"):
            break
        if tag == "h1" and header.heading is None:
            header.heading = _squash(element.text_content()) or None
        elif tag == "a" and header.category is None:
            match = _LIST_LINK.search(element.get("href") or "")
            if match and _CATEGORY.fullmatch(match.group(1)):
                header.category = match.group(1)
        elif tag in ("div", "small") and header.total is None:
            match = _TOTAL.search(element.text or "")
            if match:
                header.total = int(match.group(1))
                header.start = _page_offset(element)
    return header


def _page_offset(paging: HtmlElement) -> int | None:
    """The offset of this page: its range ("26-50") is the one paging item that is not a link."""
    for item in paging:
        if item.tag in ("span", "b"):
            match = _RANGE.match(item.text or "")
            if match:
                return max(int(match.group(1)) - 1, 0)
    return None


class _EntryReader:
    """Walks the headings and entries of a listing in page order, keeping the section state."""

    def __init__(self) -> None:
        self.papers: list[Paper] = []
        self.headings = 0
        self.first_date: str | None = None
        self._section: str | None = None  # NEW | CROSS | REPLACE, or None under a day heading
        self._day: str | None = None
        self._heading = ""
        self._announced: int | None = None  # "showing N of M entries" under the current heading
        self._counted = 0
        self.shortfall: str | None = None  # the first section that yielded fewer than it shows

    def read(self, scope: HtmlElement) -> None:
        entry: HtmlElement | None = None
        for element in scope.iter("h3", "dt", "dd"):
            tag = element.tag
            if tag == "dt":
                if entry is not None:
                    raise _truncated(f"entry {_entry_label(entry)} has no details")
                entry = element
            elif tag == "dd":
                if entry is not None:
                    self.papers.append(self._paper(entry, element))
                    self._counted += 1
                    entry = None
            else:
                if entry is not None:
                    raise _truncated(f"entry {_entry_label(entry)} has no details")
                self._close_section()
                self._open_section(_squash(element.text_content()))
        if entry is not None:
            raise _truncated(f"entry {_entry_label(entry)} has no details")
        self._close_section()

    def _open_section(self, heading: str) -> None:
        self.headings += 1
        lowered = heading.lower()
        if lowered.startswith("cross"):
            self._section = CROSS
        elif lowered.startswith("replace"):
            self._section = REPLACE
        elif lowered.startswith("new submissions"):
            self._section = NEW
        else:  # a day ("Fri, 24 Jul 2026") or the /new page's "Showing new listings for ..."
            self._section = None
        day = _heading_date(heading)
        if day:
            self._day = day
            self.first_date = self.first_date or day
        showing = _SHOWING.search(heading)
        self._heading = heading
        self._announced = int(showing.group(1)) if showing else None
        self._counted = 0

    def _close_section(self) -> None:
        # Each section counts its own entries, even where arXiv's page total is off, so a section
        # that yields fewer than it shows was cut short or changed shape.
        if self._announced is not None and self._counted != self._announced:
            self.shortfall = self.shortfall or (
                f"section {self._heading!r} shows {self._announced} entries "
                f"but {self._counted} could be read"
            )
        self._announced = None

    def _paper(self, dt: HtmlElement, dd: HtmlElement) -> Paper:
        paper_id, version = _identifier(dt)
        marker = dt.text_content()
        crossed = "(cross-list from" in marker
        if self._section == REPLACE or "(replaced)" in marker:
            announce = REPLACE_CROSS if crossed else REPLACE
        elif self._section == CROSS or crossed:
            announce = CROSS
        else:
            announce = NEW
        paper = Paper(
            id=paper_id,
            title="",
            version=version,
            published=self._day,
            announce_type=announce,
            url=f"https://arxiv.org/abs/{paper_id}",
        )
        _fill_details(paper, dd)
        if not paper.title:
            raise _truncated(f"entry {paper_id} has no title")
        return paper


def _identifier(dt: HtmlElement) -> tuple[str, int | None]:
    """The id from the entry's /abs/ link and the version the entry shows, if any.

    The link text ("arXiv:2403.09589v2") or href gives the id; listings rarely show a version
    there, but the "html" link names the announced version ("/html/2411.14419v1").
    """
    abs_id: tuple[str, int | None] | None = None
    html_version: int | None = None
    for link in dt.iter("a"):
        href = link.get("href") or ""
        try:
            if abs_id is None and "/abs/" in href:
                text = (link.text or "").strip()
                abs_id = split_arxiv_id(text if text.startswith("arXiv:") else href)
            elif "/html/" in href:
                html_version = split_arxiv_id(href)[1]
        except ValueError:
            continue
    if abs_id is None:
        raise ParseError(
            f"arXiv listing: entry {_entry_label(dt)} has no arXiv id", hint=_UPDATE_HINT
        )
    paper_id, version = abs_id
    return paper_id, version if version is not None else html_version


def _fill_details(paper: Paper, dd: HtmlElement) -> None:
    """Copy the title, authors, comments, journal ref, subjects and abstract of one `<dd>`."""
    for element in dd.iter("div", "p"):
        if element.tag == "p":
            if "mathjax" in (element.get("class") or "") and not paper.abstract:
                paper.abstract = _text(element)
            continue
        kind = element.get("class") or ""
        if "list-title" in kind:
            paper.title = _text(element).removeprefix("Title:").strip()
        elif "list-authors" in kind:
            paper.authors = [name for name in map(_author, element.iter("a")) if name]
        elif "list-comments" in kind:
            paper.comments = _text(element).removeprefix("Comments:").strip() or None
        elif "list-journal-ref" in kind:
            paper.journal_ref = _text(element).removeprefix("Journal-ref:").strip() or None
        elif "list-subjects" in kind:
            paper.categories, paper.primary_category = _subjects(element)


def _author(link: HtmlElement) -> str:
    """One author link's name; arXiv keeps an Oxford comma's "and" inside the last link."""
    name = _squash(link.text_content() if len(link) else link.text or "")
    return name[4:] if name.startswith("and ") else name


def _subjects(element: HtmlElement) -> tuple[list[str], str | None]:
    """Category codes, primary first, from "Subjects: Name (astro-ph.CO); Name (astro-ph.GA)"."""
    primary: str | None = None
    for span in element.iter("span"):
        if "primary-subject" in (span.get("class") or ""):
            primary = _subject_code(span.text_content())
            break
    codes = [primary] if primary else []
    for part in _text(element).split(";"):
        code = _subject_code(part)
        if code and code not in codes:
            codes.append(code)
    return codes, primary or (codes[0] if codes else None)


def _subject_code(text: str) -> str | None:
    """`Cosmology and Nongalactic Astrophysics (astro-ph.CO)` -> 'astro-ph.CO'."""
    match = _SUBJECT_CODE.search(text)
    if match and _CATEGORY.fullmatch(match.group(1).strip()):
        return match.group(1).strip()
    return None


def _text(element: HtmlElement) -> str:
    """An element's text with whitespace collapsed, without its "Title:"-style label and without
    the duplicate glyphs MathJax renders in a browser-saved page: a formula becomes its TeX
    source again (`<script type="math/tex">H_0</script>` -> '$H_0$').
    """
    if len(element) == 0:
        return _squash(element.text or "")
    if len(element) == 1 and _skipped(element[0]):  # the common case: just the label
        return _squash((element.text or "") + (element[0].tail or ""))
    parts = [element.text or ""]
    # Depth-first with an explicit stack (no recursion limit on odd pages); each entry keeps
    # the tail to add once the element's own content is done.
    stack: list[tuple[Iterator[HtmlElement], str]] = [(iter(element), "")]
    while stack:
        children, tail = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            parts.append(tail)
        elif not isinstance(child.tag, str) or _skipped(child):  # comments, labels, glyphs
            parts.append(_tex(child) + (child.tail or ""))
        else:
            parts.append(child.text or "")
            stack.append((iter(child), child.tail or ""))
    return _squash("".join(parts))


def _skipped(node: HtmlElement) -> bool:
    """A field's label, MathJax's rendering of a formula, or the script holding its TeX."""
    if node.tag == "script":
        return True
    kind = node.get("class") or ""
    return kind == "descriptor" or kind.startswith("MathJax")


def _tex(node: HtmlElement) -> str:
    """The TeX source MathJax keeps in `<script type="math/tex">`, in its $ fences again."""
    kind = (node.get("type") or "") if node.tag == "script" else ""
    if not kind.startswith("math/tex"):
        return ""
    fence = "$$" if "display" in kind else "$"
    return f"{fence}{node.text or ''}{fence}"


def _heading_date(heading: str) -> str | None:
    """The ISO date in a heading: `New submissions for Fri, 20 Jul 18` -> '2018-07-20'."""
    match = _DAY.search(heading)
    if not match:
        return None
    day, month_name, year_text = match.groups()
    month = _MONTHS.get(month_name[:3].lower())
    year = int(year_text)
    if len(year_text) == 2:  # arXiv began in 1991, so '91-'99 are the 1900s
        year += 1900 if year >= 91 else 2000
    if month is None:
        return None
    try:
        return date(year, month, int(day)).isoformat()
    except ValueError:
        return None


def _skip_from(url: str | None) -> int:
    """`https://arxiv.org/list/cs/new?skip=25&show=25` -> 25 (0 when absent)."""
    if not url:
        return 0
    values = parse_qs(urlsplit(url).query).get("skip", [])
    return int(values[0]) if values and values[0].isdigit() else 0


def _category_from(url: str | None) -> str | None:
    """`https://arxiv.org/list/astro-ph.CO/new?skip=0` -> 'astro-ph.CO'."""
    match = _LIST_LINK.search(urlsplit(url).path) if url else None
    return match.group(1) if match and _CATEGORY.fullmatch(match.group(1)) else None


def _entry_label(dt: HtmlElement) -> str:
    return _squash(dt.text_content())[:60] or "?"


def _truncated(what: str) -> ParseError:
    return ParseError(f"arXiv listing: {what}", hint=_TRUNCATED_HINT)


def _squash(text: str) -> str:
    """Whitespace collapsed and control characters dropped: page text ends up in titles and in
    error messages, and an ESC sequence there would drive the reader's terminal."""
    return " ".join(_CONTROL.sub(" ", text).split())


# --- the source ----------------------------------------------------------------------------


class ArxivListing:
    """`arxiv:cs.LG` (the /new listing), `arxiv:cs.LG/recent`, `arxiv:cs.LG/pastweek`."""

    prefix = "arxiv"
    aliases = ("arxiv-listing",)
    sniffers = ((sniff, parse),)

    def parse_name(self, rest: str) -> SourceSpec:
        """'cs.LG' -> /list/cs.LG/new; 'cs.LG/recent' -> /list/cs.LG/recent."""
        category, _, listing = rest.partition("/")
        if not category:
            raise UsageError(
                "`arxiv` needs a category", hint="e.g. arxiv:cs.LG or arxiv:cs.LG/recent"
            )
        return spec("arxiv", category, listing=listing or "new")

    def name(self, source: SourceSpec) -> str:
        return f"{KIND}:{source.target}/{source.opts.get('listing', 'new')}"

    def from_args(self, args: Sequence[str], options: dict[str, Any]) -> list[SourceSpec]:
        if not args:
            raise UsageError("`fetch arxiv` needs a category, e.g. cs.LG")
        return [spec("arxiv", c, listing=options.get("listing") or "new") for c in args]

    def from_url(self, url: str) -> SourceSpec | None:
        """'https://arxiv.org/list/cs.LG/recent' -> arxiv:cs.LG/recent, paged there."""
        parts = urlsplit(url)
        match = re.fullmatch(r"/list/([\w.\-]+)/(new|recent|pastweek)/?", parts.path)
        if not match:
            return None
        base = f"{parts.scheme}://{parts.netloc}"
        return spec("arxiv", match.group(1), listing=match.group(2), base=base)

    def iter_pages(
        self, source: SourceSpec, client: HttpClient, fetch: FetchSettings
    ) -> Iterator[Page]:
        opts = source.opts
        base = opts.get("base") or fetch.arxiv_url
        yield from iter_pages(client, base, source.target, opts.get("listing", "new"))


SOURCE = ArxivListing()
