"""parse_xml: real feeds parse; entity bombs, external entities and broken XML are refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from papercli.errors import ExitCode, ParseError
from papercli.sources.xmlsafe import parse_xml

RSS = "arxiv-rss/jmmeus-aioarxiv-2024-11-28/rss_mock_feed.xml"
API = "arxiv-api/2026/id_astro-ph_0601001_s0_m100_3150dca9dc76.body.xml"
XML_DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"

BILLION_LAUGHS = b"""<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def with_doctype(feed: bytes, doctype: bytes, *, title_ref: bytes | None = None) -> bytes:
    """A real feed with `doctype` after its XML declaration and `title_ref` in the first title."""
    assert feed.startswith(XML_DECLARATION)
    body = feed[len(XML_DECLARATION) :]
    if title_ref is not None:
        body = body.replace(b"<title>", b"<title>" + title_ref, 1)
    return XML_DECLARATION + doctype + body


@pytest.fixture
def feed(fixtures: Path) -> bytes:
    return (fixtures / RSS).read_bytes()


def test_real_feeds_parse(fixtures: Path, feed: bytes) -> None:
    root = parse_xml(feed, "arXiv RSS feed")
    assert root.tag == "rss"
    assert len(root.findall("channel/item")) == 1504
    assert parse_xml((fixtures / API).read_bytes(), "arXiv API").tag == (
        "{http://www.w3.org/2005/Atom}feed"
    )


def test_billion_laughs_is_refused_quickly(feed: bytes) -> None:
    bomb = with_doctype(feed, BILLION_LAUGHS, title_ref=b"&lol9;")
    started = time.perf_counter()
    with pytest.raises(ParseError, match=r"^S: the XML declares entities") as caught:
        parse_xml(bomb, "S")
    # Expanded, &lol9; is 3 GB; refused, it costs one ordinary parse.
    assert time.perf_counter() - started < 5
    assert caught.value.exit_code == ExitCode.PARSE


def test_external_entity_is_refused_and_never_read(feed: bytes, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    doctype = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'.encode()
    with pytest.raises(ParseError, match="declares entities") as caught:
        parse_xml(with_doctype(feed, doctype, title_ref=b"&xxe;"), "arXiv RSS feed")
    assert "TOP-SECRET-VALUE" not in str(caught.value)


def test_network_entities_and_dtds_are_refused(feed: bytes) -> None:
    # Port 9 on localhost: nothing listens, and the parser must not even try.
    parameter = b'<!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>\n'
    with pytest.raises(ParseError, match="declares entities"):
        parse_xml(with_doctype(feed, parameter), "S")
    external_dtd = b'<!DOCTYPE rss SYSTEM "http://127.0.0.1:9/rss.dtd">\n'
    with pytest.raises(ParseError, match=r"external DTD \(http://127\.0\.0\.1:9/rss\.dtd\)"):
        parse_xml(with_doctype(feed, external_dtd), "S")


def test_a_bare_doctype_is_harmless_and_allowed(feed: bytes) -> None:
    root = parse_xml(with_doctype(feed, b"<!DOCTYPE rss>\n"), "S")
    assert len(root.findall("channel/item")) == 1504


def test_truncated_feed_says_what_is_wrong(feed: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_xml(feed[: len(feed) // 2], "arXiv RSS feed https://rss.arxiv.org/rss/cs")
    message = str(caught.value)
    assert message.startswith(
        "arXiv RSS feed https://rss.arxiv.org/rss/cs: the XML is malformed or cut short ("
    )
    assert "fetch it again" in message


def test_malformed_and_empty_bodies(feed: bytes) -> None:
    broken = feed.replace(b"</title>", b"</titel>", 1)
    with pytest.raises(ParseError, match=r"^S: the XML is malformed .*titel"):
        parse_xml(broken, "S")
    with pytest.raises(ParseError, match=r"^S: the response is empty"):
        parse_xml(b"  \n", "S")
    with pytest.raises(ParseError, match=r"^S: the XML is malformed .*Unsupported encoding"):
        parse_xml(feed.replace(b"UTF-8", b"NO-SUCH-CODEC", 1), "S")


def test_undefined_entity_is_an_error_not_dropped_text(feed: bytes) -> None:
    with pytest.raises(ParseError, match="Entity 'nbsp' not defined"):
        parse_xml(feed.replace(b"<title>", b"<title>&nbsp;", 1), "S")


def test_text_is_refused_so_encodings_stay_the_documents_business(feed: bytes) -> None:
    with pytest.raises(TypeError):
        parse_xml(feed.decode(), "S")  # type: ignore[arg-type]
