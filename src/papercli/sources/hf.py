"""Hugging Face Daily Papers: read the JSON API and the /papers HTML page into Pages.

Two bodies carry the same items. The API
(`https://huggingface.co/api/daily_papers?date=2024-08-02`, also `week=2024-W31`, `month=2024-08`)
answers with a JSON list, at most `limit` items per call (`p` pages on). The HTML page
(`https://huggingface.co/papers/date/2024-08-01`) embeds the same list in the `data-props` of the
element with `data-target="DailyPapers"`. Both go through one item parser, which has read every
schema era since 2024 (keys were only ever added).

Papers keep `url=None`: their abstract page is arXiv's; `paper_url` gives the Hugging Face one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import date as Date
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from papercli.errors import ParseError, UsageError
from papercli.models import Page, Paper, split_arxiv_id
from papercli.sources.base import SourceSpec, spec

if TYPE_CHECKING:
    from papercli.http import HttpClient
    from papercli.settings import FetchSettings

API_KIND = "hf-api"
PAGE_KIND = "hf-page"
API_SOURCE = "Hugging Face API"
PAGE_SOURCE = "Hugging Face page"
DEFAULT_LIMIT = 50
MAX_LIMIT = 100  # the API refuses larger pages

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_DATE_IN_PATH = re.compile(r"/papers/date/(\d{4}-\d{2}-\d{2})")
_HF_DIV = re.compile(rb"data-target\s*=\s*[\"']DailyPapers[\"']")
_MARKER = re.compile(r"data-target\s*=\s*[\"']DailyPapers[\"']")


def paper_url(paper_id: str, base_url: str = "https://huggingface.co") -> str:
    """The paper's Hugging Face page: `2408.00714` -> 'https://huggingface.co/papers/2408.00714'."""
    return f"{base_url.rstrip('/')}/papers/{paper_id}"


# --- URLs and paging -------------------------------------------------------------------------


def api_url(
    base_url: str,
    *,
    date: str | None = None,
    week: str | None = None,
    month: str | None = None,
    page: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> str:
    """The API URL for one page of a day, an ISO week or a month (the latest day when none).

    `api_url("https://huggingface.co", date="2024-08-02")` ->
    'https://huggingface.co/api/daily_papers?date=2024-08-02&p=0&limit=50'.
    Raises UsageError for a malformed date, week or month, or more than one of them.
    """
    when = _check_when(date=date, week=week, month=month)
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"Hugging Face: limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if page < 0:
        raise UsageError(f"Hugging Face: page must be 0 or more, not {page}")
    query = {**when, "p": page, "limit": limit}
    return f"{base_url.rstrip('/')}/api/daily_papers?{urlencode(query)}"


def page_url(base_url: str, date: str | None = None) -> str:
    """The HTML page of one day, or of the latest day.

    `page_url("https://huggingface.co", "2024-08-01")` -> 'https://huggingface.co/papers/date/2024-08-01'.
    """
    base = base_url.rstrip("/")
    if date is None:
        return f"{base}/papers"
    _check_when(date=date)
    return f"{base}/papers/date/{date}"


def iter_pages(
    get: Callable[[str], bytes],
    base_url: str,
    *,
    date: str | None = None,
    week: str | None = None,
    month: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Iterator[Page]:
    """Every API page of a day, week or month, each paper once.

    Pages until one holds fewer than `limit` items. A full page with nothing new also ends the
    walk: a server that ignores `p` would otherwise be asked forever. And the range bounds the
    walk: no day has had more than MAX_PER_DAY papers, so a server still sending full pages of
    new papers past that many for the range is refused (ParseError) rather than followed.
    """
    seen: set[str] = set()
    number = 0
    _check_when(date=date, week=week, month=month)
    most = max_pages(date=date, week=week, month=month, limit=limit)
    while True:
        if number >= most:
            when = date or week or month or "the latest day"
            raise ParseError(
                f"Hugging Face: still full pages of new papers after {number * limit} for "
                f"{when}, more than it can hold; stopped",
                hint="the server pages without end; try again later or report it",
            )
        url = api_url(base_url, date=date, week=week, month=month, page=number, limit=limit)
        page = parse_api(get(url), url=url)
        served = len(page.papers)
        page.papers = [paper for paper in page.papers if paper.id not in seen]
        seen.update(paper.id for paper in page.papers)
        yield page
        if served < limit or not page.papers:
            return
        number += 1


# Hugging Face's busiest days list about 150 papers; twice that bounds any real day.
MAX_PER_DAY = 300


def max_pages(
    *, date: str | None = None, week: str | None = None, month: str | None = None, limit: int
) -> int:
    """The most pages a range can fill, plus the one that shows nothing follows.

    `max_pages(limit=50)` -> 7 (a day); `max_pages(week="2024-W31", limit=50)` -> 43;
    `max_pages(month="2024-02", limit=100)` -> 88.
    """
    import calendar

    days = 1
    if week is not None:
        days = 7
    elif month is not None:
        year, number = (int(part) for part in month.split("-"))
        days = calendar.monthrange(year, number)[1]
    return -(-days * MAX_PER_DAY // limit) + 1


def _check_when(
    *, date: str | None = None, week: str | None = None, month: str | None = None
) -> dict[str, str]:
    named = (("date", date), ("week", week), ("month", month))
    given = {name: value for name, value in named if value is not None}
    if len(given) > 1:
        raise UsageError("Hugging Face: give one of date, week or month, not several")
    for name, value in given.items():
        if not _valid_when(name, value):
            example = {"date": "2024-08-02", "week": "2024-W31", "month": "2024-08"}[name]
            raise UsageError(f"Hugging Face: bad {name} {value!r}; write it like {example}")
    return given


def relative_day(text: str, today: Date | None = None) -> str:
    """'today' and 'yesterday' as ISO dates (local time); any other text as it is.

    `relative_day("yesterday", Date(2024, 8, 1))` -> '2024-07-31'.
    """
    from datetime import timedelta

    offsets = {"today": 0, "yesterday": 1}
    if text.strip().lower() not in offsets:
        return text
    day = (today or Date.today()) - timedelta(days=offsets[text.strip().lower()])
    return day.isoformat()


def _valid_when(name: str, value: str) -> bool:
    """Well formed and on the calendar: '2024-02-30' and '2021-W53' are not."""
    pattern = {"date": _ISO_DATE, "week": _WEEK, "month": _MONTH}[name]
    match = pattern.fullmatch(value)
    if not match:
        return False
    try:
        if name == "date":
            Date.fromisoformat(value)
        elif name == "week":
            Date.fromisocalendar(int(match[1]), int(match[2]), 1)
        else:
            Date(int(match[1]), int(match[2]), 1)
    except ValueError:
        return False
    return True


# --- the API ---------------------------------------------------------------------------------


def sniff_api(data: bytes) -> bool:
    """Is this an API body: a list of items that each hold a `paper`, or the API's error body?"""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    # The error body is tiny; a big object is someone else's (JSON lines start with '{' too).
    if head != b"[" and not (head == b"{" and len(data) < 4096):
        return False
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        return False
    if isinstance(body, dict):
        return list(body) == ["error"] and isinstance(body["error"], str)
    return isinstance(body, list) and (
        not body or (isinstance(body[0], dict) and isinstance(body[0].get("paper"), dict))
    )


def parse_api(data: bytes, *, url: str | None = None) -> Page:
    """Read one API response. An empty list is an empty day, not an error."""
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise _not_json(data, exc) from None
    if isinstance(body, dict) and "error" in body:
        raise ParseError(
            f"{API_SOURCE}: the server answered with an error: {str(body['error'])!r}",
            hint="check the date and the URL",
        )
    if not isinstance(body, list):
        raise ParseError(
            f"{API_SOURCE}: not a Daily Papers response (a JSON {_kind_of(body)}, "
            "not a list of papers)",
            hint="check the URL",
        )
    papers = _papers_from_items(body, API_SOURCE)
    query = parse_qs(urlsplit(url).query) if url else {}
    limit, number = _query_int(query, "limit"), _query_int(query, "p")
    when = _first(query, "date") or _first(query, "week") or _first(query, "month")
    day = _first(query, "date") or _common_day(body)
    return Page(
        kind=API_KIND,
        papers=papers,
        date=day,
        start=(number or 0) * (limit or DEFAULT_LIMIT),
        title=_title(when or day),
    )


def _not_json(data: bytes, exc: Exception) -> ParseError:
    """Say what came instead of the API's JSON: nothing, a web page, bad bytes, or broken JSON."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if not head:
        return ParseError(f"{API_SOURCE}: the response is empty", hint="fetch it again later")
    if head == b"<":
        return ParseError(
            f"{API_SOURCE}: got an HTML or XML page, not the API's JSON (an error or login page?)",
            hint="check the URL; the server may be showing an error page",
        )
    if isinstance(exc, UnicodeDecodeError):
        return ParseError(
            f"{API_SOURCE}: the response is not valid UTF-8 "
            f"(byte 0x{exc.object[exc.start]:02x} at offset {exc.start})",
            hint="fetch it again; if it keeps failing, the server sent something other than JSON",
        )
    return ParseError(
        f"{API_SOURCE}: not a Daily Papers response (not JSON: {exc})",
        hint="check the URL, or fetch it again",
    )


# --- the HTML page ---------------------------------------------------------------------------


def sniff_page(data: bytes) -> bool:
    """Is this a /papers page: does it hold the DailyPapers element with its list of papers?"""
    if _HF_DIV.search(data) is None:  # cheap, and rules out nearly everything
        return False
    try:
        props = _daily_papers_props(data.decode("utf-8", errors="replace"))
    except ParseError:
        return False
    return isinstance(props.get("dailyPapers"), list)


def parse_page(data: bytes, *, url: str | None = None) -> Page:
    """Read a saved or fetched /papers or /papers/date/YYYY-MM-DD page."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Replacing bad bytes would store garbled titles the next good fetch cannot repair.
        raise ParseError(
            f"{PAGE_SOURCE}: the page is not valid UTF-8 "
            f"(byte 0x{data[exc.start]:02x} at offset {exc.start})",
            hint="save or fetch the page again",
        ) from None
    props = _daily_papers_props(text)
    items = props.get("dailyPapers")
    if not isinstance(items, list):
        raise ParseError(
            f"{PAGE_SOURCE}: the DailyPapers data holds no list of papers",
            hint="save the page again, or use the API (papercli fetch hf)",
        )
    match = _DATE_IN_PATH.search(url or "")
    day = _day(props.get("date")) or (match[1] if match else None) or _common_day(items)
    return Page(
        kind=PAGE_KIND,
        papers=_papers_from_items(items, PAGE_SOURCE),
        date=day,
        title=_title(day),
    )


def _daily_papers_props(text: str) -> dict[str, Any]:
    """The decoded `data-props` of the element with `data-target="DailyPapers"`.

    BeautifulSoup (on lxml) reads the page, building only the elements that carry a
    data-target, so attribute order, quoting, case and a '>' inside the props do not matter.
    """
    if _MARKER.search(text) is not None:
        from bs4 import BeautifulSoup, SoupStrainer

        strainer = SoupStrainer(attrs={"data-target": True})
        for element in BeautifulSoup(text, "lxml", parse_only=strainer).find_all(True):
            if element.get("data-target") != "DailyPapers":
                continue
            raw = element.get("data-props")
            try:
                props = json.loads(raw if isinstance(raw, str) else "")
            except (ValueError, RecursionError) as exc:
                raise ParseError(
                    f"{PAGE_SOURCE}: the DailyPapers data is not readable JSON ({exc})",
                    hint="the page may be cut short: save it again",
                ) from exc
            if isinstance(props, dict):
                return props
    raise ParseError(
        f'{PAGE_SOURCE}: no Daily Papers data (data-target="DailyPapers") in this page',
        hint="save the whole page again, or use the API (papercli fetch hf)",
    )


# --- items, shared by both -------------------------------------------------------------------


def _papers_from_items(items: list[Any], source: str) -> list[Paper]:
    return [paper_from_item(item, source=source, number=n) for n, item in enumerate(items, 1)]


def paper_from_item(item: Any, *, source: str = API_SOURCE, number: int = 1) -> Paper:
    """One Daily Papers item (`{"paper": {...}, "title": ..., "numComments": ...}`) as a Paper.

    Raises ParseError naming the item when it is not such an object or lacks an id or title.
    """
    paper = item.get("paper") if isinstance(item, dict) else None
    if not isinstance(paper, dict):
        what = "an object without a 'paper'" if isinstance(item, dict) else f"a {_kind_of(item)}"
        raise ParseError(
            f"{source}: not a Daily Papers response: item {number} is {what}",
            hint="check the URL, or fetch it again",
        )
    raw_id = paper.get("id")
    title = _text(item.get("title")) or _text(paper.get("title"))
    if not isinstance(raw_id, str) or not raw_id.strip() or not title:
        raise ParseError(f"{source}: item {number} has no paper id or title", hint="fetch it again")
    paper_id, version, url = _identify(raw_id.strip())
    return Paper(
        id=paper_id,
        title=title,
        authors=_author_names(paper.get("authors")),
        abstract=_text(paper.get("summary")) or _text(item.get("summary")) or "",
        version=version,
        published=_day(paper.get("publishedAt")),
        url=url,
        upvotes=_int(paper.get("upvotes")),
        num_comments=_int(item.get("numComments")),
        github_repo=_text(paper.get("githubRepo")),
        github_stars=_int(paper.get("githubStars")),
        project_page=_text(paper.get("projectPage")),
        ai_summary=_text(paper.get("ai_summary")),
        ai_keywords=_strings(paper.get("ai_keywords")),
    )


def _identify(raw_id: str) -> tuple[str, int | None, str | None]:
    """(id, version, url): arXiv ids as they are; anything else keeps its Hugging Face page."""
    try:
        paper_id, version = split_arxiv_id(raw_id)
    except ValueError:
        return raw_id, None, paper_url(raw_id)
    if raw_id not in (paper_id, f"{paper_id}v{version}"):
        return raw_id, None, paper_url(raw_id)
    return paper_id, version, None


def _author_names(authors: Any) -> list[str]:
    if not isinstance(authors, list):
        return []
    names = (_text(author.get("name")) for author in authors if isinstance(author, dict))
    return [name for name in names if name]


def _common_day(items: list[Any]) -> str | None:
    """The day all items were on the daily page, when they agree on one."""
    days = {_daily_day(item) for item in items}
    return days.pop() if len(days) == 1 else None


def _daily_day(item: Any) -> str | None:
    # Newer items say when they joined the daily page; in older ones the item's own
    # publishedAt is that moment (the paper's publishedAt is arXiv's).
    if not isinstance(item, dict):
        return None
    paper = item.get("paper")
    stamp = paper.get("submittedOnDailyAt") if isinstance(paper, dict) else None
    return _day(stamp) or _day(item.get("publishedAt"))


def _title(when: str | None) -> str:
    return f"Hugging Face Daily Papers, {when}" if when else "Hugging Face Daily Papers"


def _day(value: Any) -> str | None:
    """'2024-08-01T17:00:08.000Z' -> '2024-08-01'."""
    return value[:10] if isinstance(value, str) and _ISO_DATE.match(value) else None


def _text(value: Any) -> str | None:
    """Whitespace folded (titles and abstracts arrive wrapped at 80 columns); '' -> None."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


_INT64 = 2**63  # SQLite's integers are 64-bit: a count beyond that is not a count


def _int(value: Any) -> int | None:
    """A count as the API gives it, or None: `_int(12)` -> 12; `_int(True)`, `_int("12")`,
    `_int(-1)`, `_int(2**70)` -> None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _INT64:
        return value
    return None


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    texts = (_text(item) for item in value)
    return [text for text in texts if text]


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _query_int(query: dict[str, list[str]], name: str) -> int | None:
    value = _first(query, name)
    return int(value) if value and value.isdigit() else None


def _kind_of(value: Any) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


# --- the source ----------------------------------------------------------------------------


class HuggingFace:
    """`hf` (the latest day), `hf:2024-08-01`, `hf:2024-W31`, `hf:2024-08`: the Daily Papers API."""

    prefix = "hf"
    aliases: tuple[str, ...] = ()
    sniffers = ((sniff_page, parse_page), (sniff_api, parse_api))

    def parse_name(self, rest: str) -> SourceSpec:
        """'' -> the latest day; '2024-08-01' -> a day, '2024-W31' a week, '2024-08' a month."""
        if not rest:
            return spec("hf")
        when = {"week" if "W" in rest else "date" if rest.count("-") == 2 else "month": rest}
        _check_when(**when)
        return spec("hf", date=when.get("date"), week=when.get("week"), month=when.get("month"))

    def name(self, source: SourceSpec) -> str:
        opts = source.opts
        when = opts.get("date") or opts.get("week") or opts.get("month")
        return f"hf:{when}" if when else "hf"

    def from_args(self, args: Sequence[str], options: dict[str, Any]) -> list[SourceSpec]:
        if args:
            raise UsageError(f"`fetch hf` takes no arguments (got {args[0]!r}); use --date/--week")
        date, week, month = (options.get(key) for key in ("date", "week", "month"))
        date = relative_day(date) if date else date
        _check_when(date=date, week=week, month=month)
        return [spec("hf", date=date, week=week, month=month)]

    def from_url(self, url: str) -> SourceSpec | None:
        """'https://huggingface.co/api/daily_papers?date=2024-08-01' -> hf:2024-08-01 there."""
        parts = urlsplit(url)
        if parts.path.rstrip("/") != "/api/daily_papers":
            return None
        query = parse_qs(parts.query)
        return spec(
            "hf",
            date=_first(query, "date"),
            week=_first(query, "week"),
            month=_first(query, "month"),
            base=f"{parts.scheme}://{parts.netloc}",
        )

    def iter_pages(
        self, source: SourceSpec, client: HttpClient, fetch: FetchSettings
    ) -> Iterator[Page]:
        opts = source.opts
        yield from iter_pages(
            client,
            opts.get("base") or fetch.hf_url,
            date=opts.get("date"),
            week=opts.get("week"),
            month=opts.get("month"),
        )


SOURCE = HuggingFace()
