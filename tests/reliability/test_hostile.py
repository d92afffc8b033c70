"""Hostile page content end to end: a page's titles, authors, abstracts and links carry markup
and scripts; after `papercli fetch` they must reach a reader as inert text, in HTML digests,
emails (checked with an HTML parser), Markdown, and the terminal tables.

The hostile pages are the real Hugging Face day, the real RSS feed (its first items) and the real
math.AG listing with their fields rewritten.
"""

from __future__ import annotations

import email
import email.policy
import json
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.cli_helpers import run_cli
from tests.reliability.support import HF_DAY, MATH_AG, RSS, stored
from tests.smtp_server import Collector, running

SCRIPT_TITLE = 'Diffusion </h3><script>alert("title")</script> <!-- models'
UNBALANCED = "</td></table></div><b><i>Unbalanced </a> tags"
ONERROR_AUTHOR = "<img src=x onerror=alert('author')>"
ABSTRACT = (
    "We study diffusion. <a href=\"javascript:alert('abstract')\">click</a> "
    "<iframe src=//evil.example></iframe> <svg onload=alert(1)> </textarea></style> end."
)
JS_URL = "javascript:alert('link')"
TERMINAL_TITLE = (
    "Flow matching [/bold] [link=javascript:alert(5)]x[/link] "
    "\x1b[2J\x1b]8;;http://evil.example\x07click\x1b]8;;\x07"
)
HOSTILE_TITLES = (SCRIPT_TITLE, UNBALANCED)


def hostile_hf_day() -> bytes:
    items = json.loads(HF_DAY.read_bytes())
    for item, title in zip(items, (SCRIPT_TITLE, UNBALANCED, TERMINAL_TITLE), strict=False):
        item["title"] = item["paper"]["title"] = title
    first = items[0]["paper"]
    first["authors"][0]["name"] = ONERROR_AUTHOR
    first["summary"] = items[0]["summary"] = ABSTRACT
    first["ai_summary"] = ABSTRACT
    first["githubRepo"] = JS_URL
    return json.dumps(items).encode()


def hostile_feed(keep: int = 5) -> bytes:
    """The real feed's first `keep` items; the first with markup in every field, a javascript:
    link, and escaped HTML in its description as a feed would carry it."""
    from lxml import etree

    root = etree.fromstring(RSS.read_bytes())
    channel = root.find("channel")
    for extra in channel.findall("item")[keep:]:
        channel.remove(extra)
    item = channel.find("item")
    item.find("title").text = UNBALANCED + " (feed)"
    item.find("link").text = JS_URL
    item.find("{http://purl.org/dc/elements/1.1/}creator").text = ONERROR_AUTHOR + ", Ada Lovelace"
    description = item.find("description")
    head = description.text.split("Abstract:")[0]
    description.text = head + "Abstract: " + ABSTRACT
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def hostile_listing() -> bytes:
    """The math.AG listing with an escaped script and a raw <img onerror> in its first title."""
    page = MATH_AG.read_bytes()
    marker = b"<span class='descriptor'>Title:</span>"
    at = page.index(marker) + len(marker)
    injected = b" &lt;script&gt;alert('listing')&lt;/script&gt; <img src=x onerror=alert(2)> "
    return page[:at] + injected + page[at:]


@pytest.fixture
def hostile_store(httpserver, monkeypatch):
    """A store holding the hostile papers, fetched from a local server as cron would."""
    base = httpserver.url_for("").rstrip("/")
    for name in ("ARXIV", "RSS", "HF"):
        monkeypatch.setenv(f"PAPERCLI_{name}_URL", base)
    httpserver.expect_request("/api/daily_papers").respond_with_data(hostile_hf_day())
    httpserver.expect_request("/rss/math.AG").respond_with_data(hostile_feed())
    httpserver.expect_request("/list/math.AG/new").respond_with_data(hostile_listing())
    for args in (("hf", "--date", "2024-08-02"), ("rss", "math.AG"), ("arxiv", "math.AG")):
        result = run_cli("fetch", *args)
        assert result.code == 0, result.err
    rows = stored()
    assert len(rows) == 16 + 5 + 2
    return rows


class ParsedHtml(HTMLParser):
    """What a browser would build from the HTML: elements with attributes, text, comments."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []
        self.comments: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.texts.append(data)

    def handle_comment(self, data):
        self.comments.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())


def assert_inert(html: str) -> ParsedHtml:
    """No element, attribute or link a page's content could have planted, and the hostile
    titles shown as text."""
    page = ParsedHtml(html)
    tags = {tag for tag, _ in page.elements}
    assert not tags & {"script", "iframe", "img", "svg", "object", "embed", "textarea"}
    for tag, attrs in page.elements:
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action", "formaction"):
            value = (attrs.get(name) or "").strip()
            if value and not value.startswith("#"):
                assert urlsplit(value).scheme in ("http", "https"), (tag, attrs)
    assert page.comments == []  # a title's "<!--" must not swallow the rest of the digest
    for title in HOSTILE_TITLES:
        assert " ".join(title.split()) in page.text
    assert ONERROR_AUTHOR in page.text
    return page


def test_html_digest_shows_page_content_as_text(hostile_store):
    result = run_cli("digest", "--format", "html")
    assert result.code == 0, result.err
    page = assert_inert(result.out)
    assert "javascript:" not in " ".join(str(a) for _, a in page.elements)
    assert "<script>alert('listing')</script>" in page.text


def test_email_digest_shows_page_content_as_text(hostile_store, papercli_home):
    with running(Collector()) as server:
        (papercli_home / "config.toml").write_text(
            f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'
            'from = "papercli <digest@example.org>"\ntimeout = 5\n'
        )
        result = run_cli("digest", "--email-to", "reader@example.org")
        assert result.code == 0, result.err
        (msg,) = server.messages
    html = msg.get_body(("html",)).get_content()
    assert_inert(html)
    plain = msg.get_body(("plain",)).get_content()
    assert "\x1b" not in plain and "\x07" not in plain
    raw = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert all("\n" not in str(value) for _, value in raw.items())


def test_markdown_digest_escapes_markup(hostile_store):
    result = run_cli("digest", "--format", "md")
    assert result.code == 0, result.err
    assert "](javascript:" not in result.out and "<javascript:" not in result.out
    for line in result.out.splitlines():
        for at, char in enumerate(line):
            if char == "<":
                assert at > 0 and line[at - 1] == "\\", line


def test_terminal_tables_show_markup_literally_and_no_escapes(hostile_store):
    for args in (("papers",), ("status",), ("topics",), ("papers", "--since", "1d")):
        result = run_cli(*args)
        assert result.code == 0, (args, result.err)
        shown = result.out + result.err
        assert "\x1b" not in shown and "\x07" not in shown, args
    listed = run_cli("papers")
    assert "[/bold] [link=javascript:alert(5)]x[/link]" in listed.out
    assert "Unbalanced </a> tags" in listed.out


def test_an_error_line_carries_no_terminal_escapes(httpserver, monkeypatch):
    """An entry whose details are gone and whose <dt> holds an escape sequence: the error line
    quotes the entry without the sequence (ESC would reach the terminal or the cron mail)."""
    monkeypatch.setenv("PAPERCLI_ARXIV_URL", httpserver.url_for("").rstrip("/"))
    page = MATH_AG.read_bytes()
    dt = page.index(b"<dt>") + len(b"<dt>")
    dd, dd_end = page.index(b"<dd>"), page.index(b"</dd>") + len(b"</dd>")
    escape = b"\x1b[2J\x1b]8;;javascript:alert(6)\x07click\x1b]8;;\x07"
    httpserver.expect_request("/list/math.AG/new").respond_with_data(
        page[:dt] + escape + page[dt:dd] + page[dd_end:]
    )
    result = run_cli("fetch", "arxiv", "math.AG")
    assert result.code == 5
    assert "\x1b" not in result.err and "\x07" not in result.err
    assert result.err.startswith("Error: arxiv:math.AG: arXiv listing: entry [2J ]8;;")
