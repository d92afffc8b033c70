"""The arXiv RSS source (kind "arxiv-rss"): feed URLs, and feeds parsed into a Page.

Two formats are read, told apart by their root element:
- RSS 2.0 (rss.arxiv.org, since 2024): one `<item>` per announcement with
  `<arxiv:announce_type>`, one `<category>` per category (primary first), a `<description>` of
  "arXiv:IDvN Announce Type: new \\nAbstract: ..." and `<dc:creator>` as one comma-separated string.
- RDF / RSS 1.0 (export.arxiv.org/rss, before 2024): titles end "(arXiv:IDvN [cat] UPDATED)" and
  `<dc:creator>` holds escaped HTML links, one per author.
A feed with no items is an ordinary quiet day (weekends, holidays), not an error.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from papercli.errors import ParseError, UsageError
from papercli.models import CROSS, NEW, REPLACE, REPLACE_CROSS, Page, Paper, split_arxiv_id
from papercli.sources.base import SourceSpec, spec
from papercli.sources.xmlsafe import clean_text, iso_date, parse_xml

if TYPE_CHECKING:
    from lxml import etree

    from papercli.http import HttpClient
    from papercli.settings import FetchSettings

KIND = "arxiv-rss"

_DC = "{http://purl.org/dc/elements/1.1/}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_RSS1 = "{http://purl.org/rss/1.0/}"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"

_CHECK_CATEGORIES = (
    "check the category names (e.g. cs.LG+cs.AI; see https://arxiv.org/category_taxonomy)"
)

# "cs", "cs.LG", "astro-ph.CO", "cond-mat.stat-mech", "q-fin.ST", "physics.acc-ph".
_CATEGORY = re.compile(r"[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]+(?:-[a-z]+)?)?")
_DESCRIPTION_HEAD = re.compile(
    r"\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?"
)
_RDF_TITLE_TAIL = re.compile(
    r"\.?\s*\(arXiv:(?P<id>[^\s\[\]()]+)\s*\[(?P<cat>[^\]]*)\]\s*(?P<flags>[A-Z ]*)\)\s*$"
)
_TAG = re.compile(r"<[^>]*>")
_ANCHOR = re.compile(r"<a\b[^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_INNER_PARENS = re.compile(r"\([^()]*\)")
_AUTHOR_SEPARATOR = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*;\s*")
_ET_AL = re.compile(r"^et\.? al\.?$|additional authors not shown", re.IGNORECASE)


# --- URLs --------------------------------------------------------------------------------------


def feed_url(base_url: str, categories: str) -> str:
    """The RSS feed of one or more categories, joined by '+' (commas and spaces also accepted).

    `feed_url("https://rss.arxiv.org", "cs.LG+cs.AI")` -> 'https://rss.arxiv.org/rss/cs.LG+cs.AI'.
    Raises UsageError for anything that is not a list of arXiv category names.
    """
    names = [name for name in re.split(r"[+,\s]+", categories.strip()) if name]
    bad = [name for name in names if not _CATEGORY.fullmatch(name)]
    if not names or bad:
        shown = bad[0] if bad else categories
        raise UsageError(f"arXiv RSS: {shown!r} is not an arXiv category", hint=_CHECK_CATEGORIES)
    return f"{base_url.rstrip('/')}/rss/{'+'.join(names)}"


def iter_pages(get: Callable[[str], bytes], base_url: str, categories: str) -> Iterator[Page]:
    """The feed of `categories` as one Page: arXiv serves each day's feed whole."""
    url = feed_url(base_url, categories)
    yield parse(get(url), url=url)


# --- parsing -----------------------------------------------------------------------------------


def sniff(data: bytes) -> bool:
    """Does `data` look like an arXiv RSS feed (either format)?"""
    head = data[:4096].lstrip().lower()
    return (b"<rss" in head or b"<rdf:rdf" in head) and b"arxiv" in head


def parse(data: bytes, *, url: str | None = None) -> Page:
    """The papers of an arXiv RSS 2.0 or RDF feed; ParseError when `data` is not one."""
    source = f"arXiv RSS feed {url}" if url else "arXiv RSS feed"
    root = parse_xml(data, source)
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is not None:
            return _parse_rss2(channel, source, url)
    elif root.tag == f"{_RDF}RDF" and root.find(f"{_RSS1}channel") is not None:
        return _parse_rdf(root, source)
    raise ParseError(
        f"{source}: not an RSS feed (the document is <{_local(root.tag)}>)",
        hint="give an arXiv RSS URL such as https://rss.arxiv.org/rss/cs.LG",
    )


def _parse_rss2(channel: etree._Element, source: str, url: str | None) -> Page:
    title = clean_text(channel.findtext("title"))
    if title.startswith("Feed error"):
        feed = url or clean_text(channel.findtext("link")) or "feed"
        reason = (clean_text(channel.findtext("description")) or title).rstrip(".")
        raise ParseError(f"arXiv RSS feed {feed}: {reason}", hint=_CHECK_CATEGORIES)
    items = enumerate(channel.iterfind("item"), 1)
    papers = [_rss2_paper(item, number, source) for number, item in items]
    return Page(KIND, papers, date=_rfc822_date(channel.findtext("pubDate")), title=title)


def _rss2_paper(item: etree._Element, number: int, source: str) -> Paper:
    fields: dict[str, str] = {}
    categories: list[str] = []
    for child in item:
        text = child.text or ""
        if child.tag == "category":
            if text.strip() and text.strip() not in categories:
                categories.append(text.strip())
        else:
            fields[child.tag] = text if len(child) == 0 else "".join(child.itertext())
    description = fields.get("description", "")
    head = _DESCRIPTION_HEAD.match(description)
    abstract = description[head.end() :] if head else description
    arxiv_id, version = _item_id(
        head.group("id") if head else "", fields.get("guid", ""), fields.get("link", "")
    )
    title = clean_text(fields.get("title"))
    _check_item(arxiv_id, title, number, source)
    announce = clean_text(fields.get(f"{_ARXIV}announce_type")) or (
        head.group("type") if head else ""
    )
    return Paper(
        id=arxiv_id,
        title=title,
        authors=split_authors(fields.get(f"{_DC}creator", "")),
        abstract=clean_text(abstract),
        version=version,
        categories=categories,
        primary_category=categories[0] if categories else None,
        published=_rfc822_date(fields.get("pubDate")),
        journal_ref=clean_text(fields.get(f"{_ARXIV}journal_reference")) or None,
        doi=clean_text(fields.get(f"{_ARXIV}DOI")) or None,
        announce_type=announce or None,
        url=clean_text(fields.get("link")) or None,
    )


def _check_item(arxiv_id: str, title: str, number: int, source: str) -> None:
    if not arxiv_id or not title:
        what = "arXiv id" if not arxiv_id else "title"
        raise ParseError(
            f"{source}: item {number} has no {what}", hint="the feed is damaged; fetch it again"
        )


def _item_id(*candidates: str) -> tuple[str, int | None]:
    """The first arXiv id among `candidates` (description head, guid, link)."""
    for text in candidates:
        if text.strip():
            try:
                return split_arxiv_id(text)
            except ValueError:
                continue
    return "", None


def _parse_rdf(root: etree._Element, source: str) -> Page:
    channel = root.find(f"{_RSS1}channel")
    assert channel is not None  # parse() checked
    items = enumerate(root.iterfind(f"{_RSS1}item"), 1)
    papers = [_rdf_paper(item, number, source) for number, item in items]
    return Page(
        KIND,
        papers,
        date=iso_date(channel.findtext(f"{_DC}date")),
        title=clean_text(channel.findtext(f"{_RSS1}title")) or None,
    )


def _rdf_paper(item: etree._Element, number: int, source: str) -> Paper:
    """One old-format item: 'Title. (arXiv:1805.06430v2 [nucl-th] UPDATED)'."""
    title = clean_text(item.findtext(f"{_RSS1}title"))
    link = clean_text(item.findtext(f"{_RSS1}link")) or item.get(f"{_RDF}about", "")
    tail = _RDF_TITLE_TAIL.search(title)
    arxiv_id, version = _item_id(tail.group("id") if tail else "", link)
    category = clean_text(tail.group("cat")) if tail else ""
    if tail:
        # The old feed appended ". (arXiv:...)" to every title; the period is not the title's.
        title = title[: tail.start()].strip()
    _check_item(arxiv_id, title, number, source)
    description = item.findtext(f"{_RSS1}description") or ""
    return Paper(
        id=arxiv_id,
        title=title,
        authors=_rdf_authors(item.findtext(f"{_DC}creator") or ""),
        abstract=clean_text(html.unescape(_TAG.sub(" ", description))),
        version=version,
        categories=[category] if category else [],
        primary_category=category or None,
        announce_type=_rdf_announce_type(tail.group("flags")) if tail else None,
        url=link or None,
    )


def _rdf_announce_type(flags: str) -> str:
    """'' -> new, 'UPDATED' -> replace, 'CROSS LISTED' -> cross, both -> replace-cross."""
    crossed, updated = "CROSS" in flags, "UPDATED" in flags
    if crossed and updated:
        return REPLACE_CROSS
    return CROSS if crossed else REPLACE if updated else NEW


def _rdf_authors(text: str) -> list[str]:
    """Authors of an old feed's dc:creator, escaped HTML with one link per author.

    `<a href="...">R. Aaij</a>, et al. (909 additional authors not shown)` -> ['R. Aaij'].
    """
    linked = [clean_text(html.unescape(_TAG.sub("", name))) for name in _ANCHOR.findall(text)]
    if linked:
        return [_detex(name) for name in linked if name]
    return split_authors(html.unescape(_TAG.sub("", text)))


# --- small helpers -----------------------------------------------------------------------------


def split_authors(text: str) -> list[str]:
    """Names in a dc:creator string, without affiliations in parentheses, TeX accents decoded.

    `Jos\\'e Ruiz (CERN, Geneva), Ana Li and Bo Wu` -> ['José Ruiz', 'Ana Li', 'Bo Wu'].
    """
    if "(" in text:
        # Affiliations hold commas of their own, so they go before splitting; innermost first.
        while True:
            stripped = _INNER_PARENS.sub("", text)
            if stripped == text:
                break
            text = stripped
        text = text.replace("(", " ").replace(")", " ")
    # Plain commas are the common case, and splitting them by regex was a third of a feed's time.
    plain = " and " not in text and ";" not in text
    parts = text.split(",") if plain else _AUTHOR_SEPARATOR.split(text)
    names = []
    for part in parts:
        name = clean_text(part)
        if not name or ("al" in name and _ET_AL.search(name)):
            continue
        names.append(_detex(name) if "\\" in name or "{" in name else name)
    return names


_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
}
_LETTERS = {
    "l": "ł",
    "L": "Ł",
    "o": "ø",
    "O": "Ø",
    "ss": "ß",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "aa": "å",
    "AA": "Å",
    "dh": "ð",
    "DH": "Ð",
    "th": "þ",
    "TH": "Þ",
    "dj": "đ",
    "DJ": "Đ",
    "ng": "ŋ",
    "NG": "Ŋ",
    "i": "i",  # dotless i, only ever written to carry an accent: \'{\i} is í
    "j": "j",
}
_TEX_LETTER = re.compile(
    r"\\(ss|ae|AE|oe|OE|aa|AA|dh|DH|th|TH|dj|DJ|ng|NG|[lLoOij])(?![A-Za-z])\s*"
)
_TEX_ACCENT = re.compile(
    r"\\(?:([\'`^\"~=.])|([uvHckrdb])(?![A-Za-z]))\s*(?:\{\s*([A-Za-z])\s*\}|([A-Za-z]))"
)


def _detex(name: str) -> str:
    """Decode the TeX accents arXiv keeps in author names.

    `Fran\\c{c}ois M\\"uller` -> 'François Müller'; `{\\L}uksza` -> 'Łuksza'.
    """
    name = _TEX_LETTER.sub(lambda m: _LETTERS[m.group(1)], name)
    name = _TEX_ACCENT.sub(
        lambda m: (m.group(3) or m.group(4)) + _ACCENTS[m.group(1) or m.group(2)], name
    )
    return unicodedata.normalize("NFC", name.replace("{", "").replace("}", ""))


@lru_cache(maxsize=64)
def _rfc822_date(text: str | None) -> str | None:
    """`Thu, 28 Nov 2024 00:00:00 -0500` -> '2024-11-28' (the day in the feed's own zone)."""
    if not text or not text.strip():
        return None
    try:
        return parsedate_to_datetime(text.strip()).date().isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _local(tag: object) -> str:
    return str(tag).rpartition("}")[2]


# --- the source ----------------------------------------------------------------------------


class ArxivRss:
    """`rss:cs.CL+cs.AI`: the arXiv RSS feed of one or more categories."""

    prefix = "rss"
    aliases = ("arxiv-rss",)
    sniffers = ((sniff, parse),)

    def parse_name(self, rest: str) -> SourceSpec:
        if not rest:
            raise UsageError("`rss` needs categories", hint="e.g. rss:cs.CL+cs.AI")
        return spec("rss", rest)

    def name(self, source: SourceSpec) -> str:
        return f"{KIND}:{source.target}"

    def from_args(self, args: Sequence[str], options: dict[str, Any]) -> list[SourceSpec]:
        if not args:
            raise UsageError("`fetch rss` needs categories, e.g. cs.CL+cs.AI")
        return [spec("rss", "+".join(args))]

    def from_url(self, url: str) -> SourceSpec | None:
        """'https://rss.arxiv.org/rss/cs.CL+cs.AI' -> rss:cs.CL+cs.AI, read there."""
        parts = urlsplit(url)
        match = re.fullmatch(r"/rss/([\w.\-+]+)/?", parts.path)
        if not match:
            return None
        return spec("rss", match.group(1), base=f"{parts.scheme}://{parts.netloc}")

    def iter_pages(
        self, source: SourceSpec, client: HttpClient, fetch: FetchSettings
    ) -> Iterator[Page]:
        yield from iter_pages(client, source.opts.get("base") or fetch.rss_url, source.target)


SOURCE = ArxivRss()
