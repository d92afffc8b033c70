"""Papers as an Atom 1.0 feed (RFC 4287), for a feed reader or a web server's directory.

One entry per paper. An entry's id is the arXiv abstract URL without a version, so a reader
keeps one item per paper across versions; its `updated` is when the current version appeared
(as the source dates it, or when papercli first stored that version), so a new version moves it.
Everything a page supplied is written as text, never as markup, and only http(s) links are kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from papercli.models import Paper
from papercli.render import tex_to_text

if TYPE_CHECKING:
    from papercli.models import Digest

ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_SCHEME = "http://arxiv.org/schemas/atom"
GENERATOR = "papercli"
# Characters XML 1.0 does not allow, even escaped: a page's ESC or NUL would make the feed invalid.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The links an entry carries beside its abstract page, and how a reader names them.
_RELATED = {
    "pdf": "PDF",
    "html": "HTML",
    "code": "Code",
    "project": "Project page",
    "hf": "Hugging Face",
}
_TYPES = {"pdf": "application/pdf", "html": "text/html"}


@dataclass
class FeedInfo:
    """What identifies the feed itself."""

    id: str  # an IRI that never changes for this feed, e.g. 'urn:papercli:feed:diffusion'
    title: str
    self_url: str | None = None  # where the feed is served, for rel="self"
    subtitle: str | None = None


def entry_id(paper: Paper) -> str:
    """'2408.00714' -> 'https://arxiv.org/abs/2408.00714' (every version the same);
    'title:0123abcd4567' -> 'urn:papercli:title:0123abcd4567'."""
    if paper.id.startswith("title:"):
        return f"urn:papercli:{paper.id}"
    return f"https://arxiv.org/abs/{paper.id}"


def _text(value: str) -> str:
    return _NOT_XML.sub("", " ".join(value.split()))


def _instant(day: str | None) -> str | None:
    """An ISO date or time as an RFC 3339 instant: '2024-08-01' -> '2024-08-01T00:00:00Z'."""
    if not day:
        return None
    try:
        moment = datetime.fromisoformat(day.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_updated(paper: Paper, version_seen: str | None = None) -> str:
    """When the paper's current version appeared: the latest of its source's `updated` date,
    the time papercli first stored this version, and its first appearance."""
    moments = [
        _instant(day) for day in (paper.updated, version_seen, paper.published, paper.first_seen)
    ]
    found = [m for m in moments if m]
    return max(found) if found else "1970-01-01T00:00:00Z"


def _web_url(url: str | None) -> str | None:
    """Only http(s) links reach a reader: a page's javascript: or data: link is dropped."""
    return url if url and re.match(r"https?://", url, re.IGNORECASE) else None


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _entry(feed: ET.Element, paper: Paper, updated: str, why: Sequence[str] = ()) -> None:
    entry = _sub(feed, "entry")
    _sub(entry, "id", entry_id(paper))
    # LaTeX read as text, as every digest format shows it: 'ΛCDM', not '$\\Lambda$CDM'.
    _sub(entry, "title", _text(tex_to_text(paper.title)) or paper.id, type="text")
    _sub(entry, "updated", updated)
    published = _instant(paper.published)
    if published:
        _sub(entry, "published", published)
    for name in paper.authors:
        if _text(name):
            _sub(_sub(entry, "author"), "name", _text(name))
    links = paper.links()
    # The abstract page without a version: a reader's link always opens the latest.
    alternate = _web_url(links.get("abs") if paper.id.startswith("title:") else entry_id(paper))
    if alternate:
        _sub(entry, "link", rel="alternate", type="text/html", href=alternate)
    for kind, label in _RELATED.items():
        href = _web_url(links.get(kind))
        if href:
            attrs = {"rel": "related", "href": href, "title": label}
            if kind in _TYPES:
                attrs["type"] = _TYPES[kind]
            _sub(entry, "link", **attrs)
    for category in paper.categories:
        _sub(entry, "category", term=_text(category), scheme=ARXIV_SCHEME)
    # type="text": the abstract is shown as it is written, whatever markup it holds. A personal
    # digest's reasons come first, as every other format shows them.
    reasons = "why: " + "; ".join(_text(w) for w in why) if why else ""
    if paper.abstract.strip() or not alternate or reasons:
        abstract = _text(tex_to_text(paper.abstract))
        content = "\n\n".join(part for part in (reasons, abstract) if part)
        _sub(entry, "content", content, type="text")


def atom_feed(
    papers: Sequence[Paper],
    info: FeedInfo,
    *,
    version_seen: Mapping[str, str] | None = None,
    now: str | None = None,
    why: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The Atom document for `papers`, newest `updated` first (then by id).

    `version_seen`: paper id -> when papercli first stored its current version. The feed's own
    `updated` is its latest entry's, so the same papers give the same bytes; `now` (default: the
    current time) is used only for a feed without entries. `why`: paper id -> the reasons a
    personal ranking gives, put before the abstract.
    """
    ET.register_namespace("", ATOM_NS)
    seen = version_seen or {}
    dated = sorted(
        ((entry_updated(p, seen.get(p.id)), p) for p in papers),
        key=lambda pair: (pair[0], pair[1].id),
        reverse=True,
    )
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(feed, "id", info.id)
    _sub(feed, "title", _text(info.title), type="text")
    if info.subtitle:
        _sub(feed, "subtitle", _text(info.subtitle), type="text")
    stamp = (
        dated[0][0] if dated else (now or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    )
    _sub(feed, "updated", stamp)
    # A feed-level author stands in for the entries whose source names no author.
    _sub(_sub(feed, "author"), "name", GENERATOR)
    _sub(feed, "generator", GENERATOR)
    if info.self_url:
        _sub(feed, "link", rel="self", type="application/atom+xml", href=info.self_url)
    for updated, paper in dated:
        _entry(feed, paper, updated, (why or {}).get(paper.id, ()))
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def digest_papers(digest: Digest) -> list[Paper]:
    """Every paper a digest shows: its cards, its one-line list and its updates, each once."""
    found: dict[str, Paper] = {}
    for entry in [*digest.entries, *digest.more, *digest.updates]:
        found.setdefault(entry.paper.id, entry.paper)
    return list(found.values())


def digest_why(digest: Digest) -> dict[str, list[str]]:
    """paper id -> the reasons a personally ranked digest gives for it (none otherwise)."""
    found: dict[str, list[str]] = {}
    for entry in [*digest.entries, *digest.more, *digest.updates]:
        if entry.why:
            found.setdefault(entry.paper.id, list(entry.why))
    return found


def digest_atom(digest: Digest) -> str:
    """A digest as an Atom feed (`digest --format atom`); its id follows its title and queries,
    so the same query gives the same feed."""
    info = FeedInfo(
        id=feed_id_for(" ".join([digest.title, *digest.queries])),
        title=digest.title,
        subtitle=", ".join(digest.queries) or None,
    )
    return atom_feed(digest_papers(digest), info, why=digest_why(digest))


def feed_id_for(name: str) -> str:
    """A feed's id from its digest's name or title: 'diffusion' -> 'urn:papercli:feed:diffusion'."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-") or "papers"
    return f"urn:papercli:feed:{slug}"
