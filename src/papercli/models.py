"""Plain data passed between papercli's stages: Paper, Page, Topic, DigestEntry, Digest.

Nothing here does I/O; every stage takes and returns these.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

# Announce types, as arXiv's RSS names them; listing sections map onto the same words.
NEW = "new"
CROSS = "cross"
REPLACE = "replace"
REPLACE_CROSS = "replace-cross"
ANNOUNCE_KINDS = (NEW, CROSS, REPLACE)  # what --announce chooses from; replace-cross is a replace
RANKS = ("default", "personal")  # a digest's order: the default one, or the reader's own model
# How a card names each announce type; Hugging Face papers have none and show nothing.
ANNOUNCE_LABELS = {
    NEW: "new",
    CROSS: "cross-list",
    REPLACE: "replacement",
    REPLACE_CROSS: "replacement (cross-list)",
}
# arXiv renders HTML versions of papers submitted from December 2023 on.
_FIRST_HTML_MONTH = "2312"

_NEW_ID = re.compile(r"(\d{4}\.\d{4,5})(?:v(\d+))?$")
_OLD_ID = re.compile(r"([a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(\d+))?$")


def split_arxiv_id(text: str) -> tuple[str, int | None]:
    """Return (id without version, version) from an arXiv id or abstract URL.

    `http://arxiv.org/abs/1512.08756v2` -> ('1512.08756', 2);
    `arXiv:2411.17693` -> ('2411.17693', None); `hep-th/9901001v1` -> ('hep-th/9901001', 1).
    Raises ValueError when the text holds no arXiv id.
    """
    text = text.strip().removesuffix(".pdf")
    for pattern in (_NEW_ID, _OLD_ID):
        match = pattern.search(text)
        if match:
            return match.group(1), int(match.group(2)) if match.group(2) else None
    raise ValueError(f"not an arXiv id: {text!r}")


def local_id(title: str) -> str:
    """A stable id for a paper that has no arXiv id (e.g. from a plain-text page).

    `Attention Is All You Need` -> 'title:' + 12 hex digits of the folded title's SHA-1.
    """
    folded = " ".join(re.findall(r"\w+", title.casefold()))
    return "title:" + hashlib.sha1(folded.encode()).hexdigest()[:12]


@dataclass
class Paper:
    """One paper as a source reports it. `id` is the arXiv id without version."""

    id: str
    title: str
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    version: int | None = None
    categories: list[str] = field(default_factory=list)  # primary first when known
    primary_category: str | None = None
    published: str | None = None  # ISO date: first version, or the day it was announced
    updated: str | None = None  # ISO date of this version, when the source says
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    announce_type: str | None = None  # new | cross | replace | replace-cross
    url: str | None = None  # the abstract page
    # Hugging Face Daily Papers extras.
    upvotes: int | None = None
    num_comments: int | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] = field(default_factory=list)
    # Filled in by the store: where and when papercli saw it.
    sources: list[str] = field(default_factory=list)
    first_seen: str | None = None

    @property
    def abs_url(self) -> str | None:
        if self.url:
            return self.url
        if self.id.startswith("title:"):
            return None
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def announce_kind(self) -> str:
        """new, cross or replace (a replaced cross-list is a replace); no type counts as new."""
        if self.announce_type in (REPLACE, REPLACE_CROSS):
            return REPLACE
        return CROSS if self.announce_type == CROSS else NEW

    @property
    def on_hugging_face(self) -> bool:
        """Did the paper come from Hugging Face Daily Papers (or is it known there)?"""
        hf_fields = (self.upvotes, self.num_comments, self.ai_summary)
        return any(s.startswith("hf") for s in self.sources) or any(
            v is not None for v in hf_fields
        )

    def links(self) -> dict[str, str]:
        """Where to read the paper, by kind, only the kinds known for it.

        arXiv 2608.19880 from Hugging Face with a repo -> {'abs': 'https://arxiv.org/abs/2608.19880',
        'pdf': '.../pdf/2608.19880', 'html': '.../html/2608.19880',
        'hf': 'https://huggingface.co/papers/2608.19880', 'code': 'https://github.com/...'}
        """
        found: dict[str, str | None] = {"abs": self.abs_url}
        if not self.id.startswith("title:"):
            version = f"v{self.version}" if self.version else ""
            found["pdf"] = f"https://arxiv.org/pdf/{self.id}{version}"
            if re.fullmatch(r"\d{4}\.\d{4,5}", self.id) and self.id[:4] >= _FIRST_HTML_MONTH:
                found["html"] = f"https://arxiv.org/html/{self.id}{version}"
            if self.on_hugging_face:
                found["hf"] = f"https://huggingface.co/papers/{self.id}"
        found["code"] = self.github_repo
        found["project"] = self.project_page
        return {kind: url for kind, url in found.items() if url}

    def to_json(self) -> dict[str, Any]:
        """Every stored field, in the shape the digest's JSON gives each paper (and
        `papers --json` each line): `url` is the abstract page, `links` every known link."""
        return {
            "id": self.id, "version": self.version, "title": self.title,
            "authors": list(self.authors), "abstract": self.abstract, "url": self.abs_url,
            "categories": list(self.categories), "primary_category": self.primary_category,
            "published": self.published, "updated": self.updated, "comments": self.comments,
            "journal_ref": self.journal_ref, "doi": self.doi,
            "announce_type": self.announce_type, "upvotes": self.upvotes,
            "num_comments": self.num_comments, "github_repo": self.github_repo,
            "github_stars": self.github_stars, "project_page": self.project_page,
            "links": self.links(), "ai_summary": self.ai_summary,
            "ai_keywords": list(self.ai_keywords), "sources": list(self.sources),
            "first_seen": self.first_seen,
        }  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["url"] = self.abs_url
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Paper:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Page:
    """What a parser read from one response or file.

    `kind` names the parser ("arxiv-listing", "arxiv-rss", "arxiv-api", "hf-api", "hf-page",
    "jsonl", "text"). `total` is the number of entries the page announces for the whole
    listing or query (for paging and for checking nothing was lost), `start` the offset of the
    first entry on this page. An empty `papers` list with no error means "nothing announced".
    """

    kind: str
    papers: list[Paper]
    date: str | None = None  # the listing's or feed's date, ISO
    total: int | None = None
    start: int = 0
    title: str | None = None  # e.g. the listing's heading or the feed's title


@dataclass
class Topic:
    """A cluster of papers with a readable label."""

    id: int
    label: str
    terms: list[str]
    size: int
    # The store's stable topic this section is (digest --stable-topics): its id lasts across
    # days, so today's "#12 video diffusion" is yesterday's. None for a digest's own clusters.
    stable_id: int | None = None
    trend: str = ""  # "rising" or "falling" this week, for a stable topic; else empty


@dataclass
class RisingTopic:
    """A stable topic whose share of the papers rose this period against its own baseline."""

    id: int
    label: str
    current: int  # papers in the latest period
    baseline: float  # papers per period before it (mean)
    ratio: float | None  # share now / share before; None when it had none before
    p_value: float


@dataclass
class DigestEntry:
    """A paper kept for the digest, with why it was kept."""

    paper: Paper
    topic_id: int
    score: float = 0.0
    matched_terms: list[str] = field(default_factory=list)
    # Why the personal ranking kept it: "followed author: X", the closest liked or library paper,
    # the terms that weighed most (empty unless the digest is ranked personally).
    why: list[str] = field(default_factory=list)


@dataclass
class Digest:
    """Everything a template needs to render a digest."""

    title: str
    date: str  # ISO date the digest is for
    topics: list[Topic]  # only topics with at least one entry, in display order
    entries: list[DigestEntry]  # grouped by topic in the order of `topics`
    queries: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)
    total_papers: int = 0  # papers considered before matching
    # Matching papers beyond the cap on full cards (`max_papers`): one line each, in order.
    more: list[DigestEntry] = field(default_factory=list)
    # Matching replacements of papers not shown before: the short "Updated" section at the end.
    updates: list[DigestEntry] = field(default_factory=list)
    sort: str = "best"
    rank: str = "default"  # "personal": ordered by the reader's own model (see papercli.personal)
    # An email lists what fits in its size budget; the rest (`unlisted` one-line entries, of
    # them `unlisted_more` from `more`) is in the attached full digest, named `attachment`.
    unlisted: int = 0
    unlisted_more: int = 0
    attachment: str = ""
    # With --stable-topics: the stable topics rising in the latest week, most significant first.
    rising: list[RisingTopic] = field(default_factory=list)

    def entries_for(self, topic_id: int) -> list[DigestEntry]:
        return [entry for entry in self.entries if entry.topic_id == topic_id]


@dataclass
class StableTopic:
    """A topic kept in the store from one day to the next (see topics/stable.py).

    `centroid` is the sum of its papers' unit TF-IDF vectors, folded term -> weight, cut to the
    heaviest terms; `label_terms` are the folded terms its label was made of, `spellings` how the
    papers write its terms. Days are ISO dates; `retired` is None while the topic is live.
    """

    id: int
    label: str
    terms: list[str]
    size: int
    born: str
    last_seen: str
    retired: str | None
    centroid: dict[str, float]
    label_terms: list[str] = field(default_factory=list)
    spellings: dict[str, str] = field(default_factory=dict)


@dataclass
class TopicAssignment:
    """A paper's place in the stable topics: `topic_id` None while it waits for a topic."""

    paper_id: str
    topic_id: int | None
    day: str  # the paper's day (the date it was first seen)
    similarity: float = 0.0
