"""Loaders for the labelled abstracts the topic benchmarks score against.

Each loader reads one real file from ../shared/fixtures and returns `(papers, labels)`,
index-aligned, with the label a clustering should recover (an arXiv archive or category).
They parse just enough of each format for benchmarking; the real parsers live in
papercli.sources.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from pathlib import Path

from lxml import etree, html

from papercli.models import Paper, split_arxiv_id

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures"
RSS_FEED = FIXTURES / "arxiv-rss" / "jmmeus-aioarxiv-2024-11-28" / "rss_mock_feed.xml"
CS_DAILY = FIXTURES / "abstracts" / "cs-daily-sample-9940.jsonl.gz"
API_2026 = FIXTURES / "arxiv-api" / "2026" / "q_testing_s0_m100_cfe7536492ca.body.xml"
ASTRO_NEW = FIXTURES / "arxiv-list" / "rendered-by-arxiv-browse" / "astro-ph_new.html"
HF_API = FIXTURES / "hf-daily" / "api"
SEED = ROOT / "examples" / "hf-daily-papers-jul-31.txt"

# cs-daily is split by month: tuning used the ids before it, the rest is held out.
CS_DAILY_HELD_OUT_FROM = "2511"

Labelled = tuple[list[Paper], list[str]]

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_RSS_ABSTRACT = re.compile(r"^.*?Abstract:\s*", re.DOTALL)


def archive(category: str) -> str:
    """The archive part of an arXiv category: `cs.LG` -> 'cs', `math-ph` -> 'math-ph'."""
    return category.split(".", 1)[0]


def load_rss(path: Path = RSS_FEED, label: Callable[[str], str] = archive) -> Labelled:
    """Papers of an arXiv RSS 2.0 feed, labelled by `label(first <category>)`."""
    root = etree.parse(str(path)).getroot()
    papers, labels = [], []
    for item in root.iter("item"):
        link = item.findtext("link") or ""
        categories = [c.text or "" for c in item.findall("category")]
        abstract = _RSS_ABSTRACT.sub("", item.findtext("description") or "", count=1)
        paper_id, _ = split_arxiv_id(link)
        papers.append(
            Paper(
                id=paper_id,
                title=" ".join((item.findtext("title") or "").split()),
                abstract=" ".join(abstract.split()),
                categories=categories,
            )
        )
        labels.append(label(categories[0]))
    return papers, labels


def load_jsonl(path: Path = CS_DAILY, label: Callable[[str], str] = str) -> Labelled:
    """Unique papers of a gzipped JSON-lines file of arXiv records (first record of an id wins)."""
    papers, labels, seen = [], [], set()
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["id"] in seen:
                continue
            seen.add(record["id"])
            papers.append(
                Paper(
                    id=record["id"],
                    title=" ".join(record["title"].split()),
                    abstract=" ".join(record["summary"].split()),
                    categories=list(record["categories"]),
                )
            )
            labels.append(label(record["categories"][0]))
    return papers, labels


def split_cs_daily(data: Labelled) -> tuple[Labelled, Labelled]:
    """(tuning part, held-out part) of cs-daily, split by the month in the id."""
    papers, labels = data
    early = [i for i, p in enumerate(papers) if p.id < CS_DAILY_HELD_OUT_FROM]
    late = [i for i, p in enumerate(papers) if p.id >= CS_DAILY_HELD_OUT_FROM]
    return (
        ([papers[i] for i in early], [labels[i] for i in early]),
        ([papers[i] for i in late], [labels[i] for i in late]),
    )


def load_atom(path: Path = API_2026, label: Callable[[str], str] = str) -> Labelled:
    """Papers of an arXiv API Atom response, labelled by `label(primary category)`."""
    root = etree.parse(str(path)).getroot()
    papers, labels = [], []
    for entry in root.iter(f"{_ATOM}entry"):
        primary = entry.find(f"{_ARXIV}primary_category")
        if primary is None:
            continue
        paper_id, _ = split_arxiv_id(entry.findtext(f"{_ATOM}id") or "")
        papers.append(
            Paper(
                id=paper_id,
                title=" ".join((entry.findtext(f"{_ATOM}title") or "").split()),
                abstract=" ".join((entry.findtext(f"{_ATOM}summary") or "").split()),
            )
        )
        labels.append(label(primary.get("term", "")))
    return papers, labels


def load_listing(path: Path = ASTRO_NEW, label: Callable[[str], str] = str) -> Labelled:
    """Papers with an abstract on a current-layout arXiv /new page, labelled by primary subject."""
    root = html.parse(str(path)).getroot()
    papers, labels = [], []
    for dt in root.iter("dt"):
        dd = dt.getnext()
        anchor = dt.find(".//a[@title='Abstract']")
        abstract = dd.find(".//p[@class='mathjax']") if dd is not None else None
        subject = dd.find(".//span[@class='primary-subject']") if dd is not None else None
        if anchor is None or abstract is None or subject is None:
            continue
        text = " ".join(abstract.text_content().split())
        if not text:
            continue
        title = dd.find(".//div[@class='list-title mathjax']")
        title_text = title.text_content() if title is not None else ""
        paper_id, _ = split_arxiv_id(anchor.get("href", ""))
        papers.append(
            Paper(
                id=paper_id,
                title=" ".join(title_text.replace("Title:", "", 1).split()),
                abstract=text,
            )
        )
        category = re.search(r"\(([^()]+)\)\s*$", subject.text_content())
        labels.append(label(category.group(1) if category else ""))
    return papers, labels


def load_listings(folder: Path = ASTRO_NEW.parent) -> Labelled:
    """Every paper with an abstract on the arxiv-browse /new pages (each paper once)."""
    seen: dict[str, tuple[Paper, str]] = {}
    for page in sorted(folder.glob("*_new*.html")):
        for paper, label in zip(*load_listing(page), strict=True):
            seen.setdefault(paper.id, (paper, label))
    return [p for p, _ in seen.values()], [label for _, label in seen.values()]


def load_hf_api(path: Path) -> list[Paper]:
    """Papers of a Hugging Face daily_papers API body (unlabelled)."""
    items = json.loads(path.read_text(encoding="utf-8"))
    return [
        Paper(
            id=item["paper"]["id"],
            title=" ".join(item["paper"]["title"].split()),
            abstract=" ".join(item["paper"].get("summary", "").split()),
        )
        for item in items
    ]


def load_seed(path: Path = SEED) -> list[Paper]:
    """The seed page's papers: title and abstract paragraphs after a short page header."""
    from papercli.models import local_id

    paragraphs = [" ".join(p.split()) for p in path.read_text(encoding="utf-8").split("\n\n")]
    paragraphs = [p for p in paragraphs if p]
    first = next(i for i, p in enumerate(paragraphs) if len(p) > 400) - 1
    body = paragraphs[first:]
    return [
        Paper(id=local_id(title), title=title, abstract=abstract)
        for title, abstract in zip(body[0::2], body[1::2], strict=False)
    ]


def scaled(papers: list[Paper], n: int) -> list[Paper]:
    """`n` papers made by repeating `papers` with fresh ids (for timing at scale)."""
    return [
        Paper(
            id=f"scale:{i}",
            title=papers[i % len(papers)].title,
            abstract=papers[i % len(papers)].abstract,
        )
        for i in range(n)
    ]
