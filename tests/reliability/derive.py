"""Broken pages derived from the real ones: each function takes a saved page and returns it
damaged in one way a server, a proxy or a layout change could damage it."""

from __future__ import annotations

import json

from tests.reliability.support import between, replace_count

# --- any body ------------------------------------------------------------------------------------


def cut(data: bytes, fraction: float) -> bytes:
    """The first `fraction` of the body, as a dropped connection leaves it."""
    return data[: int(len(data) * fraction)]


def bad_utf8_after(data: bytes, marker: bytes) -> bytes:
    """Two bytes that are never valid UTF-8 just after the first `marker` (inside a title)."""
    at = data.index(marker) + len(marker)
    return data[:at] + b"\xff\xfe" + data[at:]


# --- arXiv listing pages -------------------------------------------------------------------------


def entry_spans(page: bytes) -> list[tuple[int, int]]:
    """(start, stop) of every `<dt>...</dd>` entry of a current-layout listing."""
    spans, at = [], 0
    while (found := page.find(b"<dt>", at)) != -1:
        spans.append(between(page, b"<dt>", b"</dd>", after=found))
        at = spans[-1][1]
    return spans


def login_page(page: bytes) -> bytes:
    """The listing's own header and footer around a login/captcha form instead of the listing:
    what a proxy or a rate-limiter serves with status 200."""
    start = page.index(b"<div id='dlpage'>")
    last_dl = page.rindex(b"</dl>")
    end = page.index(b"</div>", page.index(b"class='paging'", last_dl)) + len(b"</div>")
    form = (
        b"<div id='challenge'><h1>Please verify you are a human</h1>"
        b"<form action='/login' method='post'><input name='username'>"
        b"<input type='password' name='password'><button>Log in</button></form>"
    )
    return page[:start] + form + page[end:]


def layout_changed(page: bytes, entries: int) -> bytes:
    """Entries moved out of <dt>/<dd> into divs; the page still says 'Total of N entries'."""
    page = replace_count(rb"<dt>", b"<div class='entry-head'>", page, entries)
    page = replace_count(rb"</dt>", b"</div>", page, entries)
    page = replace_count(rb"<dd>", b"<div class='entry-body'>", page, entries)
    return replace_count(rb"</dd>", b"</div>", page, entries)


def drop_entries(page: bytes, first: int, count: int, *, fix_heading: bytes = b"") -> bytes:
    """Remove `count` entries from entry `first` on; `fix_heading` b'53=>50' also rewrites the
    section's "showing 53 of 53" so only the page total is left to disagree."""
    spans = entry_spans(page)
    start, stop = spans[first][0], spans[first + count - 1][1]
    page = page[:start] + page[stop:]
    if fix_heading:
        old, new = fix_heading.split(b"=>")
        page = replace_count(
            rb"\(showing " + old + rb" of " + old + rb" entries\)",
            b"(showing " + new + b" of " + new + b" entries)",
            page,
            1,
        )
    return page


def duplicate_entry(page: bytes, which: int, *, heading: bytes) -> bytes:
    """Entry `which` listed a second time at the end of the last section, whose heading
    `heading` (b'40=>41') is updated to match, as a listing bug would show it."""
    spans = entry_spans(page)
    start, stop = spans[which]
    last_end = spans[-1][1]
    page = page[:last_end] + b"\n    " + page[start:stop] + page[last_end:]
    old, new = heading.split(b"=>")
    return replace_count(
        rb"\(showing " + old + rb" of " + old + rb" entries\)",
        b"(showing " + new + b" of " + new + b" entries)",
        page,
        1,
    )


def without_abstracts(page: bytes, count: int) -> bytes:
    return replace_count(rb"(?s)<p class='mathjax'>.*?</p>", b"", page.replace(b"\r", b""), count)


# --- Hugging Face API ----------------------------------------------------------------------------


def hf_items(data: bytes) -> list:
    items = json.loads(data)
    assert isinstance(items, list) and items
    return items


def hf_wrapped(data: bytes) -> bytes:
    """The right items inside an object: an API that changed its envelope."""
    return json.dumps({"papers": hf_items(data)}).encode()


def hf_numeric_ids(data: bytes) -> bytes:
    items = hf_items(data)
    for item in items:
        item["paper"]["id"] = 2408.00714
    return json.dumps(items).encode()


def hf_without_summaries(data: bytes) -> bytes:
    items = hf_items(data)
    for item in items:
        item["paper"].pop("summary", None)
        item.pop("summary", None)
    return json.dumps(items).encode()


def hf_duplicated(data: bytes) -> bytes:
    items = hf_items(data)
    return json.dumps([*items, items[0], items[-1]]).encode()


# --- XML feeds -----------------------------------------------------------------------------------

LAUGHS = (
    b'<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + b"".join(
        b'<!ENTITY lol%d "%s">\n' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b"]>\n"
)


def with_doctype(feed: bytes, doctype: bytes, *, title_ref: bytes = b"") -> bytes:
    """`doctype` after the XML declaration, and `title_ref` (an entity reference) in the first
    item's title, so a parser that expands entities would put it into a stored paper."""
    decl_end = feed.index(b"?>") + 2
    feed = feed[:decl_end] + b"\n" + doctype + feed[decl_end:]
    if title_ref:
        first_item = feed.index(b"<item>") if b"<item>" in feed else feed.index(b"<entry>")
        title = feed.index(b"<title>", first_item) + len(b"<title>")
        feed = feed[:title] + title_ref + b" " + feed[title:]
    return feed


def rss_duplicated(feed: bytes) -> bytes:
    start, stop = between(feed, b"<item>", b"</item>")
    return feed[:stop] + feed[start:stop] + feed[stop:]


def rss_without_abstracts(feed: bytes, count: int) -> bytes:
    """Descriptions cut after "Announce Type: x": the abstract is gone, the id stays."""
    return replace_count(
        rb"(<description>arXiv:\S+ Announce Type: [\w-]+)\s*\nAbstract:[^<]*", rb"\1", feed, count
    )
