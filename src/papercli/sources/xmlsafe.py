"""Read untrusted XML (feeds, API answers): an lxml tree without the XML attacks, tidy text.

The parser never expands entities, never loads a DTD and never touches the network, and a
document that declares entities (billion laughs) or points at an external DTD or entity (XXE)
is refused outright rather than parsed with the declarations quietly ignored: arXiv never sends
either, so their presence means the body is not what it claims to be.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from papercli.errors import ParseError

if TYPE_CHECKING:
    from lxml import etree

# What to tell a user whose download is not well-formed XML.
_REFETCH = "fetch it again; if it keeps failing, the server sent something other than a feed"
_ENTITIES = (
    "{source}: the XML declares entities (<!ENTITY ...>), which papercli refuses to expand "
    "(an entity-expansion or external-entity attack)"
)
_SUSPECT = "check where this file or URL came from"
_SPACE = re.compile(rb"\s*")


def parse_xml(data: bytes, source: str) -> etree._Element:
    """The root element of `data`, or ParseError naming `source` and what is wrong.

    `parse_xml(b"<feed><entry/></feed>", "arXiv API").tag` -> 'feed';
    `parse_xml(b"<feed><entry>", "arXiv API")` raises
    ParseError('arXiv API: the XML is malformed or cut short (Premature end of data ...)').
    """
    from lxml import etree

    if not isinstance(data, bytes):
        raise TypeError(f"parse_xml takes bytes, not {type(data).__name__}")
    if not data.strip():
        raise ParseError(f"{source}: the response is empty", hint=_REFETCH)
    # Caught before parsing, so a bomb gets this message rather than libxml2's amplification
    # error; documents in encodings this byte scan cannot read are caught after parsing.
    doctype = _doctype_start(data)
    if doctype >= 0 and data.find(b"<!ENTITY", doctype) != -1:
        raise ParseError(_ENTITIES.format(source=source), hint=_SUSPECT)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        # libxml2's messages can end in a newline mid-sentence; an error is one line.
        raise _syntax_error(data, source, clean_text(exc.msg or str(exc))) from None
    except (ValueError, LookupError) as exc:  # e.g. an encoding lxml cannot decode
        reason = clean_text(str(exc))
        raise ParseError(f"{source}: the XML cannot be read ({reason})", hint=_REFETCH) from None
    if root is None:
        raise ParseError(f"{source}: the XML has no root element", hint=_REFETCH)
    if isinstance(root.tag, str) and root.tag.rpartition("}")[2].lower() == "html":
        raise _html_page(source)  # well-formed XHTML, often with an external DTD: say what it is
    _refuse_doctype(root.getroottree().docinfo, source)
    return root


def _syntax_error(data: bytes, source: str, reason: str) -> ParseError:
    """Say what the body is when it is plainly not XML (an HTML page, JSON), else the reason."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"<!doctype html" in head.lower() or b"<html" in head.lower():
        return _html_page(source)
    if not head.startswith(b"<"):
        shown = head[:40].decode("utf-8", "replace")
        return ParseError(f"{source}: not XML (it starts with {shown!r})", hint="check the URL")
    return ParseError(f"{source}: the XML is malformed or cut short ({reason})", hint=_REFETCH)


def _html_page(source: str) -> ParseError:
    return ParseError(
        f"{source}: got an HTML page, not XML",
        hint="check the URL; the server may be showing an error page",
    )


def _doctype_start(data: bytes) -> int:
    """Where the DOCTYPE starts, skipping the prolog's declaration, comments and PIs; else -1.

    A loop rather than one regex: a regex over repeated comments backtracks exponentially.
    """
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:
        space = _SPACE.match(data, pos)
        pos = space.end() if space else pos
        if data.startswith(b"<!DOCTYPE", pos):
            return pos
        for opening, closing in ((b"<?", b"?>"), (b"<!--", b"-->")):
            if data.startswith(opening, pos):
                end = data.find(closing, pos + len(opening))
                if end == -1:
                    return -1
                pos = end + len(closing)
                break
        else:
            return -1


def _refuse_doctype(docinfo: Any, source: str) -> None:
    """Refuse entity declarations and external DTDs; a bare `<!DOCTYPE html>` may pass."""
    dtd = docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ParseError(_ENTITIES.format(source=source), hint=_SUSPECT)
    if docinfo.system_url or docinfo.public_id:
        where = docinfo.system_url or docinfo.public_id
        raise ParseError(
            f"{source}: the XML refers to an external DTD ({where}), which papercli will not load",
            hint=_SUSPECT,
        )


def clean_text(text: str | None) -> str:
    """Whitespace collapsed, as feeds wrap long titles and abstracts: `" a\\n  b "` -> 'a b'."""
    if not text:
        return ""
    # XML text holds no ASCII whitespace but these four, and most strings need no collapsing:
    # checking first is several times faster than splitting every abstract into words.
    if text.isascii() and "  " not in text and "\n" not in text and "\t" not in text:
        return text.strip() if "\r" not in text else " ".join(text.split())
    return " ".join(text.split())


def iso_date(text: str | None) -> str | None:
    """`2018-05-23T20:30:00-05:00` -> '2018-05-23'; None when it does not start with a date."""
    try:
        return date.fromisoformat((text or "").strip()[:10]).isoformat()
    except ValueError:
        return None
