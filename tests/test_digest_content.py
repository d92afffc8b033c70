"""What a digest holds and how each card reads, on real saved pages: announce types, links,
LaTeX, the order each --sort gives, dates, and matching that does not depend on the pool."""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections import Counter

import pytest

from papercli.digest import build_digest
from papercli.fetch import parse_spec, read_papers
from papercli.settings import load_settings
from tests.cli_helpers import run_cli
from tests.conftest import FIXTURES
from tests.smtp_server import Collector, running
from tests.test_run import SEED, write_config

LISTINGS = FIXTURES / "arxiv-list" / "rendered-by-arxiv-browse"
ASTRO = LISTINGS / "astro-ph_new.html"  # 53 new, 4 cross-lists, 40 replacements
HF_DAY = FIXTURES / "hf-daily" / "api" / "daily_papers_date-2026-08-21.json"
FORMATS = ("md", "html", "text", "email-html", "json")


def digest_json(*args: str) -> dict:
    result = run_cli("digest", *args, "-f", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def papers_of(path) -> list:
    papers, _day = read_papers([parse_spec(str(path))], load_settings())
    return papers


# --- announce types --------------------------------------------------------------------------


def test_replacements_go_to_updated_never_among_the_new():
    digest = digest_json(str(ASTRO))
    assert Counter(p["announce_type"] for p in digest["papers"]) == {"new": 53, "cross": 4}
    assert len(digest["updates"]) == 40
    assert {p["announce_type"] for p in digest["updates"]} <= {"replace", "replace-cross"}


@pytest.mark.parametrize(("limit", "cards", "updates"), [(5, 5, 0), (60, 57, 3), (200, 57, 40)])
def test_limit_caps_the_papers_at_all_updates_after_the_cards(limit, cards, updates):
    digest = digest_json(str(ASTRO), "--limit", str(limit))
    assert (len(digest["papers"]) + len(digest["more"]), len(digest["updates"])) == (cards, updates)


@pytest.mark.parametrize(
    ("fmt", "new", "cross", "replacement"),
    [("md", "**new**", "**cross-list**", "**replacement**"),
     ("text", "[new]", "[cross-list]", "[replacement]"),
     ("html", ">new</span>", ">cross-list</span>", ">replacement</span>"),
     ("email-html", ">new</b>", ">cross-list</b>", ">replacement</b>")],
)  # fmt: skip
def test_each_card_names_its_announce_type(fmt, new, cross, replacement):
    shown = run_cli("digest", str(ASTRO), "-f", fmt).out
    assert (shown.count(new), shown.count(cross), shown.count(replacement)) == (53, 4, 0)
    everything = run_cli("digest", str(ASTRO), "-f", fmt, "--announce", "new,cross,replace").out
    assert everything.count(replacement) == 40


def test_announce_and_no_updates_choose_exactly():
    only_new = digest_json(str(ASTRO), "--announce", "new")
    assert {p["announce_type"] for p in only_new["papers"]} == {"new"}
    assert len(only_new["papers"]) == 53 and len(only_new["updates"]) == 40
    replaced = digest_json(str(ASTRO), "--announce", "replace")
    assert len(replaced["papers"]) == 40 and replaced["updates"] == []
    quiet = digest_json(str(ASTRO), "--no-updates")
    assert len(quiet["papers"]) == 57 and quiet["updates"] == []
    bad = run_cli("digest", str(ASTRO), "--announce", "new,old")
    assert bad.code == 2 and "--announce" in bad.err


def test_hugging_face_cards_name_no_announce_type():
    md = run_cli("digest", str(HF_DAY), "-f", "md").out
    assert "**new**" not in md and "**replacement**" not in md


# --- links -----------------------------------------------------------------------------------


def test_every_link_the_source_gives_is_on_every_card():
    raw = {item["paper"]["id"]: item["paper"] for item in json.loads(HF_DAY.read_text())}
    digest = digest_json(str(HF_DAY))
    html = run_cli("digest", str(HF_DAY), "-f", "html").out
    email = run_cli("digest", str(HF_DAY), "-f", "email-html").out
    md = run_cli("digest", str(HF_DAY), "-f", "md").out
    assert len(digest["papers"]) == len(raw) == 17
    for paper in digest["papers"]:
        given = raw[paper["id"]]
        expected = {
            "abs": f"https://arxiv.org/abs/{paper['id']}",
            "pdf": f"https://arxiv.org/pdf/{paper['id']}",
            "html": f"https://arxiv.org/html/{paper['id']}",
            "hf": f"https://huggingface.co/papers/{paper['id']}",
        }
        if given.get("githubRepo"):
            expected["code"] = given["githubRepo"]
        if given.get("projectPage"):
            expected["project"] = given["projectPage"]
        assert paper["links"] == expected, paper["id"]
        for url in expected.values():
            assert f'href="{url}"' in html and f'href="{url}"' in email, url
            assert f"({url})" in md, url
    assert sum("project" in p["links"] for p in digest["papers"]) == 9


def test_listing_cards_carry_pdf_categories_comments_and_journal_ref():
    digest = digest_json(str(ASTRO), "--announce", "new,cross,replace")
    papers = {p["id"]: p for p in digest["papers"]}
    assert all(set(p["links"]) >= {"abs", "pdf"} for p in papers.values())
    sam = papers["2104.03145"]
    assert sam["links"]["pdf"].startswith("https://arxiv.org/pdf/2104.03145")
    assert sam["journal_ref"] == "Phys. Rev. D 103, 103025 (2021)"
    md = run_cli("digest", str(ASTRO), "-f", "md", "--announce", "new,cross,replace").out
    assert "· astro-ph.CO, hep-ph" in md  # primary category first
    assert "Journal ref: Phys. Rev. D 103, 103025 (2021)" in md


def test_the_title_is_visibly_a_link_in_html_and_email():
    html = run_cli("digest", str(HF_DAY), "-f", "html").out
    assert re.search(r"h3 a\s*\{[^}]*color:\s*var\(--link\)", html)
    email = run_cli("digest", str(HF_DAY), "-f", "email-html").out
    assert re.search(r'<h3[^>]*><a href="https://arxiv.org/abs/[^"]+" style="color:#1d4ed8', email)


# --- LaTeX -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_latex_reads_as_text_in_every_format(fmt):
    shown = run_cli("digest", str(ASTRO), "-f", fmt, "--announce", "new,cross,replace").out
    assert "ΛCDM" in shown
    assert "$" not in shown
    assert not re.search(r"\\(?:newline|Lambda|rm|mathrm|sim|odot)\b", shown)


# --- order -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        # upvotes scaled on top of the match: 163 upvotes pass a 1.0 match with 2 upvotes
        ("best", ["19799", "19880", "19861", "18580", "19854", "13120"]),
        ("relevance", ["19799", "19861", "19880", "18580", "19854", "13120"]),
        ("upvotes", ["19880", "18580", "19799", "13120", "19854", "19861"]),
        ("date", ["19799", "19861", "19880", "19854", "18580", "13120"]),
    ],
)
def test_each_sort_gives_its_own_order(sort, order):
    digest = digest_json(str(HF_DAY), "-t", "agent", "--topics", "1", "--sort", sort)
    assert [p["id"].split(".")[1] for p in digest["papers"]][:6] == order


def test_hugging_face_digest_puts_the_most_upvoted_first():
    digest = digest_json(str(HF_DAY), "--topics", "1")
    upvotes = [p["upvotes"] for p in digest["papers"]]
    assert upvotes == sorted(upvotes, reverse=True) and upvotes[0] == 163


# --- size ------------------------------------------------------------------------------------


def test_cards_beyond_max_papers_are_one_line_each():
    digest = digest_json(str(ASTRO), "--max-papers", "10")
    assert len(digest["papers"]) == 10 and len(digest["more"]) == 47
    md = run_cli("digest", str(ASTRO), "-f", "md", "--max-papers", "10").out
    assert "## 47 more matching papers" in md
    extra = digest["more"][0]
    assert f"[{extra['title']}](https://arxiv.org/abs/{extra['id']})" in md


# --- dates -----------------------------------------------------------------------------------


def test_a_digest_of_stored_papers_is_dated_by_their_announcement():
    assert run_cli("fetch", str(ASTRO)).code == 0
    assert digest_json("--since", "1d")["date"] == "2023-03-03"
    assert digest_json("--since", "1d", "--date", "2023-03-06")["date"] == "2023-03-06"


# --- matching does not depend on the pool ----------------------------------------------------


def test_whether_a_paper_matches_does_not_depend_on_the_other_papers():
    whole = papers_of(ASTRO)
    part = papers_of(LISTINGS / "astro-ph.CO_new.html")
    shared = {p.id for p in part} & {p.id for p in whole}
    assert len(shared) == len(part) == 23

    def kept(papers):
        digest = build_digest(papers, queries=["dark matter", "inflation"])
        return {e.paper.id for e in [*digest.entries, *digest.updates]} & shared

    assert kept(whole) == kept(part) == kept([p for p in whole if p.id in shared])
    assert len(kept(whole)) == 8


def test_a_second_run_with_no_new_papers_sends_nothing(papercli_home):
    with running(Collector()) as server:
        write_config(papercli_home, server.port, topics=("video generation", "agents"))
        first = run_cli("run", "diff")
        assert first.code == 0, first.err
        assert len(server.messages) == 1
        # The store gains other papers; the digest's own source has nothing new.
        assert run_cli("fetch", str(HF_DAY)).code == 0
        second = run_cli("run", "diff")
        assert second.code == 0, second.err
        assert len(server.messages) == 1
        assert "nothing new to send" in second.err
    assert SEED.exists()


def test_a_big_day_emails_under_gmails_clipping_with_everything_attached(tmp_path):
    feed = FIXTURES / "arxiv-rss" / "jmmeus-aioarxiv-2024-11-28" / "rss_mock_feed.xml"
    eml = tmp_path / "digest.eml"
    to = ("--email-to", "a@example.org", "--dry-run")
    result = run_cli("digest", str(feed), *to, "-o", str(eml))
    assert result.code == 0, result.err
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert len(html.encode()) < 102 * 1024
    assert html.count('<div style="margin:0 0 14px;padding:14px 16px;') == 50  # full cards
    (attached,) = list(msg.iter_attachments())
    name = attached.get_filename()
    assert name.startswith("2024-11-28-") and name.endswith(".html")
    full = attached.get_content()
    assert full.count("<article") == 50
    assert "<h2>885 more matching papers</h2>" in full
    assert '<h2>Updated<span class="count">569</span></h2>' in full
    unlisted = re.search(r"… and ([\d,]+) more papers not listed", html)
    assert unlisted and f"and {unlisted.group(1)} more papers not listed" in " ".join(text.split())
    assert "885 more matching papers" in html
