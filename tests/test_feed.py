"""Atom feeds: valid for feedparser and RFC 4287's required elements, ids stable across versions,
`updated` moving with a new version, hostile page text inert, and the feed/digest/schedule
commands that write them."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import feedparser
import pytest

from papercli.history.feed import FeedInfo, atom_feed, entry_id
from papercli.models import Page, Paper
from papercli.render import tex_to_text
from papercli.sources import arxiv_api, arxiv_listing, hf
from papercli.store import Store
from tests.cli_helpers import run_cli
from tests.reliability.test_hostile import ABSTRACT, JS_URL, SCRIPT_TITLE, TERMINAL_TITLE

ASTRO_2026 = "arxiv-list/astro-ph.CO_recent_show1000_fetched-2026-07-24_c2fe83b.html"
HF_2026 = "hf-daily/api/daily_papers_date-2026-08-21.json"
API_2026 = "arxiv-api/2026/q_testing_s0_m100_cfe7536492ca.body.xml"
A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
INFO = FeedInfo(id="urn:papercli:feed:test", title="Test feed", self_url="https://x.org/f.xml")
T1, T2, T3 = "2026-07-24T08:00:00Z", "2026-07-28T08:00:00Z", "2026-07-30T08:00:00Z"


def real_papers(fixtures: Path) -> list[Paper]:
    listing = arxiv_listing.parse((fixtures / ASTRO_2026).read_bytes()).papers
    day = hf.parse_api((fixtures / HF_2026).read_bytes()).papers
    api = arxiv_api.parse((fixtures / API_2026).read_bytes()).papers
    return [*listing, *day, *api]


def check_rfc4287(text: str) -> ET.Element:
    """The elements RFC 4287 requires, each exactly once where it says so (section 4.1)."""
    feed = ET.fromstring(text.encode())
    assert feed.tag == f"{A}feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{A}{name}")) == 1, name
    assert RFC3339.fullmatch(feed.findtext(f"{A}updated"))
    feed_has_author = feed.find(f"{A}author/{A}name") is not None
    for entry in feed.findall(f"{A}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{name}")) == 1, name
        assert RFC3339.fullmatch(entry.findtext(f"{A}updated"))
        assert feed_has_author or entry.find(f"{A}author/{A}name") is not None
        alternates = [link for link in entry.findall(f"{A}link") if link.get("rel") == "alternate"]
        assert len(alternates) <= 1
        assert alternates or entry.find(f"{A}content") is not None
    # Nothing outside the Atom namespace: no element a page smuggled in.
    assert {el.tag for el in feed.iter()} <= {
        f"{A}{n}"
        for n in ("feed", "id", "title", "subtitle", "updated", "published", "author", "name",
                  "generator", "link", "entry", "category", "content")
    }  # fmt: skip
    return feed


def test_a_feed_of_real_papers_validates_and_carries_every_field(fixtures: Path) -> None:
    papers = real_papers(fixtures)
    text = atom_feed(papers, INFO)
    check_rfc4287(text)
    parsed = feedparser.parse(text)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert len(parsed.entries) == len({p.id for p in papers}) == len(papers)
    by_id = {e.id: e for e in parsed.entries}
    for paper in papers:
        entry = by_id[entry_id(paper)]
        # LaTeX read as every digest format reads it: '$B$ modes' is 'B modes'.
        assert entry.title == " ".join(tex_to_text(paper.title).split())
        assert [a.name for a in entry.authors] == [" ".join(a.split()) for a in paper.authors]
        assert [t.term for t in entry.get("tags", [])] == paper.categories
        assert entry.link == f"https://arxiv.org/abs/{paper.id}"
        pdf = [link.href for link in entry.links if link.get("type") == "application/pdf"]
        assert pdf == [
            f"https://arxiv.org/pdf/{paper.id}" + (f"v{paper.version}" if paper.version else "")
        ]
        if paper.abstract:
            assert entry.content[0].value == " ".join(tex_to_text(paper.abstract).split())
            assert entry.content[0].type == "text/plain"
        if paper.github_repo:
            assert paper.github_repo in [
                link.href for link in entry.links if link.get("title") == "Code"
            ]
    assert any(p.github_repo for p in papers)
    assert any("$" in p.title for p in papers) and not any("$" in e.title for e in parsed.entries)
    assert parsed.feed.links[0].rel == "self"


def test_the_same_papers_give_the_same_bytes(fixtures: Path) -> None:
    papers = real_papers(fixtures)
    assert atom_feed(papers, INFO) == atom_feed(list(reversed(papers)), INFO)


def test_a_new_version_keeps_the_id_and_moves_updated(tmp_path: Path, fixtures: Path) -> None:
    listed = arxiv_listing.parse((fixtures / ASTRO_2026).read_bytes()).papers
    paper = next(p for p in listed if p.version is None or p.version == 1)
    with Store(tmp_path / "papers.db") as store:
        store.upsert_page("arxiv:astro-ph.CO", Page(kind="x", papers=[paper]), fetched_at=T1)
        before = feed_of(store, paper.id)
        replaced = dataclasses.replace(paper, version=2, announce_type="replace")
        store.upsert_page("arxiv:astro-ph.CO", Page(kind="x", papers=[replaced]), fetched_at=T2)
        after = feed_of(store, paper.id)
        # Seen again at the same version: nothing moves.
        store.upsert_page("rss:astro-ph", Page(kind="x", papers=[replaced]), fetched_at=T3)
        again = feed_of(store, paper.id)
    assert before.id == after.id == again.id == f"https://arxiv.org/abs/{paper.id}"
    assert before.updated < after.updated == again.updated == T2
    assert after.link == before.link


def feed_of(store: Store, paper_id: str):
    [paper] = store.papers(ids=[paper_id])
    text = atom_feed([paper], INFO, version_seen=store.version_seen([paper_id]))
    return feedparser.parse(text).entries[0]


def test_hostile_titles_abstracts_and_links_stay_inert_text(fixtures: Path) -> None:
    base = real_papers(fixtures)[:3]
    hostile = [
        dataclasses.replace(base[0], title=SCRIPT_TITLE, abstract=ABSTRACT, github_repo=JS_URL,
                            authors=["<img src=x onerror=alert('author')>"]),
        dataclasses.replace(base[1], title=TERMINAL_TITLE, abstract="a ]]> b \x00\x1b[2J c"),
    ]  # fmt: skip
    text = atom_feed(hostile, INFO)
    feed = check_rfc4287(text)
    assert feedparser.parse(text).bozo == 0
    entries = {e.findtext(f"{A}id"): e for e in feed.findall(f"{A}entry")}
    first, second = entries[entry_id(hostile[0])], entries[entry_id(hostile[1])]
    assert first.findtext(f"{A}title") == " ".join(SCRIPT_TITLE.split())
    assert first.find(f"{A}title").get("type") == first.find(f"{A}content").get("type") == "text"
    assert first.findtext(f"{A}content") == " ".join(ABSTRACT.split())
    hrefs = [link.get("href") for link in feed.iter(f"{A}link")]
    assert hrefs and all(href.startswith("https://") for href in hrefs)
    assert JS_URL not in hrefs
    assert second.findtext(f"{A}content") == "a ]]> b [2J c"
    assert "\x1b" not in text


def write_config(home: Path, body: str) -> Path:
    path = home / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def astro_store(papercli_home: Path, fixtures: Path) -> Path:
    listing = fixtures / ASTRO_2026
    assert run_cli("fetch", str(listing)).code == 0
    write_config(
        papercli_home,
        f'[digest.cosmo]\nsources = ["{listing}"]\ntopics = ["dark energy"]\nsince = "3650d"\n'
        f'[digest.all]\nsources = ["{listing}"]\nsince = "3650d"\n',
    )
    return listing


def digest_ids(*args: str) -> set[str]:
    """The ids `digest --format json` shows for these options (cards, one-liners, updates)."""
    result = run_cli("digest", "--since", "3650d", "--format", "json", *args)
    data = json.loads(result.out)
    return {p["id"] for key in ("papers", "more", "updates") for p in data[key]}


def test_feed_writes_a_named_digests_matching_papers(astro_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "www" / "cosmo.xml"
    result = run_cli("feed", "cosmo", "-o", str(target), "--no-fetch")
    assert result.code == 0, result.err
    parsed = feedparser.parse(target.read_bytes())
    assert parsed.bozo == 0
    ids = {e.id.removeprefix("https://arxiv.org/abs/") for e in parsed.entries}
    assert ids == digest_ids("--topic", "dark energy")
    assert all("dark energy" in e.title.lower() for e in parsed.entries)
    every = run_cli("feed", "all", "--no-fetch")
    assert len(feedparser.parse(every.out).entries) == 111 > len(ids) > 0
    assert parsed.feed.id == "urn:papercli:feed:cosmo"
    assert result.err == f"wrote {len(ids)} papers to {target}\n"


def test_digest_format_atom(astro_store: Path) -> None:
    result = run_cli("digest", "--format", "atom", "--topic", "dark energy", "--since", "3650d")
    assert result.code == 0, result.err
    parsed = feedparser.parse(result.out)
    assert parsed.bozo == 0 and parsed.version == "atom10"
    ids = {e.id.removeprefix("https://arxiv.org/abs/") for e in parsed.entries}
    assert ids == digest_ids("--topic", "dark energy") != set()
    check_rfc4287(result.out)


def test_digest_o_xml_writes_atom_without_format(astro_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "feed.xml"
    result = run_cli("digest", "--topic", "dark energy", "--since", "3650d", "-o", str(target))
    assert result.code == 0, result.err
    parsed = feedparser.parse(target.read_bytes())
    assert parsed.bozo == 0 and parsed.version == "atom10"
    assert len(parsed.entries) == len(digest_ids("--topic", "dark energy"))


def test_schedule_a_feed_prints_its_own_cron_line(astro_store: Path, tmp_path: Path) -> None:
    result = run_cli("schedule", "cosmo", "--feed", "www/cosmo.xml", "--at", "06:15")
    assert result.code == 0, result.err
    line = result.out.strip()
    assert line.startswith("15 6 * * * ")
    target = Path("www/cosmo.xml").absolute()
    assert f" feed cosmo -o {target} " in line
    assert line.endswith("# papercli:cosmo:feed")
    assert " run cosmo " not in line


def test_a_personal_named_feed_shows_what_its_email_shows(
    astro_store: Path, papercli_home: Path
) -> None:
    """rank = "personal", min_score and max_papers cut the feed as they cut the email, and each
    entry says why it is there."""
    write_config(
        papercli_home,
        f'[digest.mine]\nsources = ["{astro_store}"]\nsince = "3650d"\nrank = "personal"\n'
        'min_score = 0.5\nmax_papers = 8\nrecipients = ["me@example.org"]\n',
    )
    default = json.loads(run_cli("digest", "--since", "3650d", "--format", "json").out)
    liked, disliked = default["papers"][0]["id"], default["papers"][1]["id"]
    assert run_cli("like", liked).code == 0 and run_cli("dislike", disliked).code == 0
    result = run_cli("feed", "mine", "--no-fetch")
    assert result.code == 0, result.err
    parsed = feedparser.parse(result.out)
    assert parsed.bozo == 0
    ids = [e.id.removeprefix("https://arxiv.org/abs/") for e in parsed.entries]
    assert disliked not in ids and liked in ids
    same = ("--rank", "personal", "--min-score", "0.5", "--max-papers", "8")
    assert set(ids) == digest_ids(*same) and 0 < len(ids) <= 8
    assert set(ids) < digest_ids("--rank", "personal")
    for entry in parsed.entries:
        assert entry.content[0].value.startswith("why: ")


def test_digest_format_atom_says_why_when_ranked_personally(astro_store: Path) -> None:
    default = json.loads(run_cli("digest", "--since", "3650d", "--format", "json").out)
    assert run_cli("like", default["papers"][0]["id"]).code == 0
    result = run_cli("digest", "--since", "3650d", "--format", "atom", "--rank", "personal")
    entries = feedparser.parse(result.out).entries
    assert entries and all(e.content[0].value.startswith("why: ") for e in entries)
    plain = run_cli("digest", "--since", "3650d", "--format", "atom")
    entries = feedparser.parse(plain.out).entries
    texts = [e.get("content", [{}])[0].get("value", "") for e in entries]
    assert texts and not any(text.startswith("why") for text in texts)


def test_feed_into_a_directory_and_a_self_url_that_is_no_web_address(
    astro_store: Path, tmp_path: Path
) -> None:
    www = tmp_path / "www"
    www.mkdir()
    result = run_cli("feed", "cosmo", "--no-fetch", "-o", str(www))
    assert result.code == 0, result.err
    assert feedparser.parse((www / "cosmo.xml").read_bytes()).bozo == 0
    for url in ("javascript:alert(1)", "not a url"):
        bad = run_cli("feed", "cosmo", "--no-fetch", "--url", url)
        assert bad.code == 2 and bad.err.startswith(f"Error: --url {url!r} is not an http(s) URL")
