"""arXiv listing pages: every saved page in both layouts, URLs, paging, and broken pages."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papercli.errors import ExitCode, ParseError, UsageError
from papercli.models import Page, Paper
from papercli.sources import arxiv_listing
from tests.conftest import FIXTURES

LIST = "arxiv-list"
BROWSE = f"{LIST}/rendered-by-arxiv-browse"
DB = f"{BROWSE}/db_listing"
CO_OLD = f"{LIST}/astro-ph.CO_recent_show1000_fetched-2024-03-15_dc5e82f.html"
CO_FIRST_NEW_LAYOUT = f"{LIST}/astro-ph.CO_recent_show1000_fetched-2024-05-08_4c4460e.html"
CO_2024_12 = f"{LIST}/astro-ph.CO_recent_show1000_fetched-2024-12-10_9c2f307.html"
CO_2026 = f"{LIST}/astro-ph.CO_recent_show1000_fetched-2026-07-24_c2fe83b.html"
SAVED = f"{LIST}/astro-ph_pastweek_show1000_2024-11-22_browser-saved.html"
CS_OLD_NEW = f"{LIST}/cs_new_2018-07-20_TRUNCATED_extracted-from-ravoro-arxiv-helper-urls.py.html"
ASTRO_NEW = f"{BROWSE}/astro-ph_new.html"
BASE = "https://arxiv.org"
UPDATE_HINT = "the page layout may have changed: papercli may need an update"
TRUNCATED_HINT = "the page may be truncated: fetch it again; if this persists, " + UPDATE_HINT


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str) -> Page:
    return arxiv_listing.parse(read(name))


def by_id(page: Page, paper_id: str) -> Paper:
    return next(paper for paper in page.papers if paper.id == paper_id)


def sections(page: Page) -> tuple[int, int, int]:
    """(new, cross, replacements) as the page's sections and markers sort them."""
    kinds = Counter(paper.announce_type for paper in page.papers)
    return kinds["new"], kinds["cross"], kinds["replace"] + kinds["replace-cross"]


# --- every saved page ---------------------------------------------------------------------------

# file, entries, (new, cross, replacements), first id, listing date, announced total, start
PAGES = [
    (CO_OLD, 76, (43, 33, 0), "2403.09589", "2024-03-15", 76, 0),
    (CO_FIRST_NEW_LAYOUT, 111, (55, 56, 0), "2405.04522", "2024-05-08", 111, 0),
    (CO_2024_12, 103, (56, 47, 0), "2412.06764", "2024-12-10", 103, 0),
    (CO_2026, 111, (68, 43, 0), "2607.21497", "2026-07-24", 111, 0),
    (SAVED, 397, (334, 63, 0), "2411.14419", "2024-11-22", 397, 0),
    (CS_OLD_NEW, 87, (6, 16, 65), "1807.07067", "2018-07-20", 188, 0),
    (f"{BROWSE}/astro-ph.CO_new.html", 23, (5, 2, 16), "2303.00769", "2023-03-03", 23, 0),
    (f"{BROWSE}/astro-ph.EP_new.html", 18, (6, 4, 8), "2303.00768", "2023-03-03", 18, 0),
    (f"{BROWSE}/astro-ph.GA_new.html", 26, (14, 1, 11), "2303.00763", "2023-03-03", 26, 0),
    (f"{BROWSE}/astro-ph.HE_new.html", 27, (12, 6, 9), "2303.00765", "2023-03-03", 27, 0),
    (f"{BROWSE}/astro-ph.IM_new.html", 15, (7, 3, 5), "2303.00931", "2023-03-03", 15, 0),
    (f"{BROWSE}/astro-ph.SR_new.html", 25, (9, 5, 11), "2303.00787", "2023-03-03", 25, 0),
    (ASTRO_NEW, 97, (53, 4, 40), "2303.00763", "2023-03-03", 97, 0),
    (f"{BROWSE}/astro-ph_new_skip0_show25.html", 25, (25, 0, 0), "2303.00763", "2023-03-03", 97, 0),
    (
        f"{BROWSE}/astro-ph_new_skip25_show25.html",
        25,
        (25, 0, 0),
        "2303.01048",
        "2023-03-03",
        97,
        25,
    ),
    (
        f"{BROWSE}/astro-ph_new_skip50_show25.html",
        25,
        (3, 4, 18),
        "2303.01463",
        "2023-03-03",
        97,
        50,
    ),
    (
        f"{BROWSE}/astro-ph_new_skip75_show25.html",
        22,
        (0, 0, 22),
        "2211.11150",
        "2023-03-03",
        97,
        75,
    ),
    (f"{BROWSE}/astro-ph_new_skip100_show25.html", 0, (0, 0, 0), None, "2023-03-03", 97, 100),
    # arxiv-browse's test backend announces 320 here but lists 264 (see the fixtures README).
    (
        f"{BROWSE}/astro-ph_recent_show1000.html",
        264,
        (264, 0, 0),
        "2303.01496",
        "2023-03-03",
        320,
        0,
    ),
    (
        f"{BROWSE}/astro-ph_pastweek_show1000.html",
        264,
        (264, 0, 0),
        "2303.01496",
        "2023-03-03",
        320,
        0,
    ),
    (f"{BROWSE}/math.AG_new.html", 2, (0, 1, 1), "2306.77777", "2023-06-09", 2, 0),
    (f"{BROWSE}/math.OA_new.html", 3, (0, 1, 2), "2306.04713", "2023-06-09", 3, 0),
    (f"{BROWSE}/q-fin_new.html", 16, (13, 0, 3), "2303.08867", "2023-03-17", 16, 0),
    (f"{BROWSE}/q-fin.CP_new.html", 2, (1, 1, 0), "2303.08968", "2023-03-17", 2, 0),
    (f"{BROWSE}/q-fin.GN_new.html", 6, (1, 0, 5), "2303.08748", "2023-03-16", 6, 0),
    (f"{BROWSE}/q-fin.MF_new.html", 4, (2, 1, 1), "2303.08217", "2023-03-16", 4, 0),
    (f"{BROWSE}/q-fin.PM_new.html", 3, (2, 0, 1), "2303.08462", "2023-03-16", 3, 0),
    (f"{BROWSE}/q-fin.PR_new.html", 4, (1, 1, 2), "2303.06051", "2023-03-13", 4, 0),
    (f"{BROWSE}/q-fin.RM_new.html", 3, (1, 0, 2), "2303.09176", "2023-03-17", 3, 0),
    (f"{BROWSE}/q-fin.ST_new.html", 8, (6, 1, 1), "2303.09323", "2023-03-17", 8, 0),
    (f"{BROWSE}/q-fin.TR_new.html", 1, (1, 0, 0), "2303.08867", "2023-03-17", 1, 0),
    (f"{DB}/cond-mat.stat-mech_new.html", 1, (0, 1, 0), "0906.3421", "2011-02-03", 1, 0),
    (f"{DB}/cs_new.html", 2, (1, 1, 0), "1008.3222", "2011-02-03", 2, 0),
    (f"{DB}/eess.SY_new.html", 1, (1, 0, 0), "1008.3222", "2011-02-03", 1, 0),
    (f"{DB}/eess_new.html", 1, (1, 0, 0), "1008.3222", "2011-02-03", 1, 0),
    (f"{DB}/eess_pastweek.html", 1, (1, 0, 0), "1008.3222", "2011-02-03", 1, 0),
    (f"{DB}/hep-ph_new.html", 0, (0, 0, 0), None, "2011-02-03", None, 0),
    (f"{DB}/math-ph_new.html", 3, (0, 1, 2), "0906.3421", "2011-02-03", 3, 0),
    (f"{DB}/math.CO_new.html", 1, (1, 0, 0), "0906.3421", "2011-02-03", 1, 0),
    (f"{DB}/math.RT_new.html", 1, (0, 0, 1), "math/0510544", "2011-02-03", 1, 0),
    (f"{DB}/math_new.html", 6, (1, 1, 4), "0906.3421", "2011-02-03", 6, 0),
    (f"{DB}/math_recent.html", 5, (3, 2, 0), "0906.3421", "2011-02-03", 5, 0),
    (f"{DB}/physics_new.html", 1, (0, 0, 1), "0704.0248", "2011-02-03", 1, 0),
]


def test_the_table_covers_every_saved_listing() -> None:
    saved = {str(path.relative_to(FIXTURES)) for path in (FIXTURES / LIST).rglob("*.html")}
    assert saved == {row[0] for row in PAGES}


@pytest.mark.parametrize(
    ("name", "count", "kinds", "first_id", "day", "total", "start"),
    PAGES,
    ids=[row[0].rsplit("/", 1)[-1][:40] for row in PAGES],
)
def test_every_saved_page(
    name: str,
    count: int,
    kinds: tuple[int, int, int],
    first_id: str | None,
    day: str,
    total: int | None,
    start: int,
) -> None:
    data = read(name)
    assert arxiv_listing.sniff(data)
    page = arxiv_listing.parse(data)
    assert page.kind == "arxiv-listing"
    assert len(page.papers) == count
    assert sections(page) == kinds
    assert (page.papers[0].id if page.papers else None) == first_id
    assert (page.date, page.total, page.start) == (day, total, start)
    for paper in page.papers:
        assert paper.id and paper.title and paper.authors
        assert paper.url == f"https://arxiv.org/abs/{paper.id}"
        assert paper.categories and paper.primary_category == paper.categories[0]
        assert paper.published is not None
        assert "Title:" not in paper.title and "  " not in paper.title


# --- fields, in each layout ---------------------------------------------------------------------


def test_current_layout_recent_with_journal_refs_and_cross_lists(fixtures: Path) -> None:
    page = parse(CO_2026)
    assert page.title == "Cosmology and Nongalactic Astrophysics (astro-ph.CO)"
    first = page.papers[0]
    assert first.title == "Hubble tension: a short review of theoretical explanations"
    assert first.authors == ["Jia-Qi Wang", "Zong-Kuan Guo"]
    assert first.comments == (
        "49 pages, 13 figures, a short review prepared by invitation for RAA special topics"
    )
    assert first.journal_ref == "Res. Astron. Astrophys. 26 (2026) 084009"
    assert (first.categories, first.primary_category) == (["astro-ph.CO", "gr-qc"], "astro-ph.CO")
    assert (first.version, first.published, first.announce_type) == (1, "2026-07-24", "new")
    assert first.abstract == ""  # /recent shows no abstracts
    cross = by_id(page, "2607.21432")
    assert cross.announce_type == "cross"
    assert (cross.categories, cross.primary_category) == (
        ["astro-ph.IM", "astro-ph.CO"],
        "astro-ph.IM",
    )
    assert cross.comments == "Comments are welcome"
    # Each entry is dated by the day heading it is listed under.
    assert Counter(paper.published for paper in page.papers) == {
        "2026-07-24": 23,
        "2026-07-23": 23,
        "2026-07-22": 17,
        "2026-07-21": 28,
        "2026-07-20": 20,
    }
    assert [(p.id, p.journal_ref) for p in page.papers if p.journal_ref] == [
        ("2607.21497", "Res. Astron. Astrophys. 26 (2026) 084009"),
        ("2607.21129", "2026 Res. Astron. Astrophys. 26 125011"),
    ]


def test_old_layout_recent() -> None:
    page = parse(CO_OLD)
    assert page.title == "Cosmology and Nongalactic Astrophysics (astro-ph.CO)"
    first = page.papers[0]
    assert first.title == (
        "cosmocnc: A fast, flexible, and accurate galaxy cluster number count likelihood code "
        "for cosmology"
    )
    assert first.authors == ["Íñigo Zubeldia", "Boris Bolliet"]
    assert first.comments == "22 pages, comments welcome"
    assert first.version is None
    assert by_id(page, "2403.09555").categories == [
        "astro-ph.CO",
        "astro-ph.EP",
        "astro-ph.GA",
        "gr-qc",
    ]
    # An affiliation after a name ("Jaiyul Yoo (Zürich)") is not part of the author list.
    assert by_id(page, "2403.07046").authors == ["Peter Espenshade", "Jaiyul Yoo"]
    cross = by_id(page, "2403.07550")
    assert (cross.announce_type, cross.primary_category, cross.published) == (
        "cross",
        "gr-qc",
        "2024-03-13",
    )
    assert cross.journal_ref == "Symmetry, 16, 341, (2024)"
    assert cross.authors == ["L. Herrera", "A. Di prisco", "J. Ospino"]
    assert by_id(page, "2403.06187").categories == [
        "astro-ph.CO",
        "astro-ph.GA",
        "physics.comp-ph",
        "physics.data-an",
        "physics.space-ph",
    ]
    assert Counter(paper.published for paper in page.papers) == {
        "2024-03-15": 13,
        "2024-03-14": 16,
        "2024-03-13": 13,
        "2024-03-12": 18,
        "2024-03-11": 16,
    }


def test_old_layout_new_with_two_digit_years_and_abstracts() -> None:
    page = parse(CS_OLD_NEW)
    assert page.title == "Computer Science (cs)"
    assert {paper.published for paper in page.papers} == {"2018-07-20"}
    first = page.papers[0]
    assert first.title == (
        "A Fixed-Parameter Linear-Time Algorithm to Compute Principal Typings of Planar Flow "
        "Networks"
    )
    assert first.authors == ["Assaf Kfoury"]
    assert first.abstract.startswith(
        "We present an alternative and simpler method for computing principal typings of flow "
        "networks. When limited"
    )
    assert first.comments == (
        "12 pages, 0 figures, 13 references. arXiv admin note: text overlap with arXiv:1807.04186"
    )
    cross = by_id(page, "1807.07095")
    assert (cross.announce_type, cross.primary_category) == ("cross", "math.ST")
    replaced = by_id(page, "1309.6610")
    assert replaced.announce_type == "replace"
    assert replaced.journal_ref == (
        "Adversarial multiple access channels with individual injection rates. "
        "Theory of Computing Systems, 61(3): 820 - 850, 2017"
    )
    assert replaced.categories == ["cs.DC", "cs.NI"]
    assert replaced.authors == ["Lakshmi Anantharamu", "Bogdan S. Chlebus", "Mariusz A. Rokicki"]


def test_browser_saved_page_keeps_tex_not_mathjax_glyphs() -> None:
    page = parse(SAVED)
    assert page.title == "Astrophysics (astro-ph)"
    assert by_id(page, "2411.14189").title == (
        "Reevaluating $H_0$ Tension with Non-Planck CMB and DESI BAO Joint Analysis"
    )
    assert by_id(page, "2411.14271").title == (
        "The properties of the interstellar medium in dusty, star-forming galaxies at "
        "$z \\sim 2-4$: The shape of the CO spectral line energy distributions"
    )
    assert by_id(page, "2411.14273").title == (
        "Examining the evolution of the Supersoft X-ray Source RX J$0513.9-6951$"
    )
    assert by_id(page, "2411.14380").title == (
        "Modified gravity from Weyl connection and the $f(R,\\cal{A})$ extension"
    )
    assert sum("$" in paper.title for paper in page.papers) == 25
    first = page.papers[0]
    assert first.authors == ["Benoit Semelin", "Romain Mériot", "Ashutosh Mishra", "David Cornu"]
    assert first.comments == "11 pages, submitted to A&A"
    assert (page.papers[-1].id, page.papers[-1].published) == ("2411.09747", "2024-11-18")


def test_current_layout_new_sections_and_abstracts() -> None:
    page = parse(ASTRO_NEW)
    assert page.title == "Astrophysics (astro-ph)"
    first = page.papers[0]
    assert first.title == "Census of Gaseous Satellites around Local Spiral Galaxies"
    assert first.authors == ["Jingyao Zhu", "Mary E Putman"]
    assert first.abstract.startswith(
        "We present a search for gas-containing dwarf galaxies as satellite systems around "
        "nearby spiral galaxies"
    )
    assert "($R_{200}$)" in first.abstract
    assert (first.categories, first.comments) == (
        ["astro-ph.GA"],
        "18 pages, 13 figures, accepted by MNRAS",
    )
    assert [p.id for p in page.papers if p.announce_type == "cross"] == [
        "2303.00812",
        "2303.01138",
        "2303.01322",
        "2303.01398",
    ]
    cross = by_id(page, "2303.00812")
    assert cross.primary_category == "gr-qc"
    assert cross.categories == ["gr-qc", "astro-ph.EP", "astro-ph.IM", "physics.space-ph"]
    assert cross.abstract.startswith("Recent years have seen an increasing interest in sending")
    replaced = by_id(page, "2104.03145")
    assert replaced.announce_type == "replace"
    assert replaced.journal_ref == "Phys. Rev. D 103, 103025 (2021)"
    assert replaced.abstract == ""  # arxiv-browse's test data has none for replacements


def test_db_listing_pages() -> None:
    page = parse(f"{DB}/cs_new.html")
    assert page.title == "Computer Science (cs)"
    cross = by_id(page, "0704.0046")
    assert cross.announce_type == "cross"
    assert cross.authors == ["I. Csiszar", "F. Hiai", "D. Petz"]
    assert cross.journal_ref == "J. Math. Phys. 48(2007), 092102."
    assert (cross.categories, cross.primary_category) == (["quant-ph", "cs.IT"], "quant-ph")
    assert cross.abstract.startswith("In a quantum mechanical model, Diosi, Feldmann and Kosloff")
    old_id = parse(f"{DB}/math.RT_new.html").papers[0]
    assert (old_id.id, old_id.url) == ("math/0510544", "https://arxiv.org/abs/math/0510544")
    # The last author link reads "and Linsheng Zhu" (an Oxford comma kept by arXiv).
    assert old_id.authors == ["Naihong Hu", "Dong Liu", "Linsheng Zhu"]
    assert old_id.abstract.startswith("The structure of Lie algebras, Lie superalgebras")
    recent = parse(f"{DB}/math_recent.html")
    assert [(p.id, p.published, p.announce_type) for p in recent.papers] == [
        ("0906.3421", "2011-02-03", "new"),
        ("0704.0046", "2011-02-03", "cross"),
        ("0906.2112", "2011-02-02", "new"),
        ("0704.0248", "2011-02-01", "cross"),
        ("0906.4150", "2011-01-28", "new"),
    ]


def test_empty_listings_are_not_errors() -> None:
    quiet = parse(f"{DB}/hep-ph_new.html")
    assert (quiet.papers, quiet.total, quiet.date) == ([], None, "2011-02-03")
    assert quiet.title == "High Energy Physics - Phenomenology (hep-ph)"
    past_the_end = parse(f"{BROWSE}/astro-ph_new_skip100_show25.html")
    assert (past_the_end.papers, past_the_end.total, past_the_end.start) == ([], 97, 100)


def test_url_gives_category_and_offset_the_page_does_not_show() -> None:
    url = "https://arxiv.org/list/astro-ph.CO/recent?skip=5&show=1000"
    page = arxiv_listing.parse(read(CO_2026), url=url)
    assert page.start == 5
    assert page.title == "Cosmology and Nongalactic Astrophysics (astro-ph.CO)"
    # The page's own range wins over the URL.
    skipped = arxiv_listing.parse(read(f"{BROWSE}/astro-ph_new_skip25_show25.html"), url=url)
    assert skipped.start == 25


# --- broken pages -------------------------------------------------------------------------------


def without_entries(data: bytes) -> bytes:
    """The page with every <dt>/<dd> entry cut out, headings and totals kept."""
    return re.sub(rb"<dt>.*?</dd>", b"", data, flags=re.DOTALL)


@pytest.mark.parametrize(("name", "total"), [(ASTRO_NEW, 97), (CO_OLD, 76), (SAVED, 397)])
def test_entries_announced_but_none_read(name: str, total: int) -> None:
    broken = without_entries(read(name))
    assert b"otal of" in broken and b"<dt>" not in broken
    with pytest.raises(ParseError) as caught:
        arxiv_listing.parse(broken)
    assert str(caught.value) == (
        f"arXiv listing: the page announces {total} entries but none could be read; {UPDATE_HINT}"
    )
    assert caught.value.exit_code == ExitCode.PARSE


def test_json_is_not_a_listing(fixtures: Path) -> None:
    data = (fixtures / "hf-daily/api/daily_papers_date-2024-08-02.json").read_bytes()
    assert not arxiv_listing.sniff(data)
    with pytest.raises(ParseError, match=r"^arXiv listing: got JSON, not an arXiv listing page"):
        arxiv_listing.parse(data)


@pytest.mark.parametrize(
    "name",
    [
        "hf-daily/html/papers_date-2024-08-01_slbqc.html",
        "arxiv-rss/jmmeus-aioarxiv-2024-11-28/error_rss_mock_feed.xml",
        "arxiv-api/2026/id_abc_s0_m100_b79c8dcf6bc3.body.xml",
    ],
)
def test_other_pages_are_not_listings(fixtures: Path, name: str) -> None:
    data = (fixtures / name).read_bytes()
    assert not arxiv_listing.sniff(data)
    with pytest.raises(ParseError, match=r"^arXiv listing: this is not an arXiv listing page"):
        arxiv_listing.parse(data)


def test_a_page_without_its_listing_block() -> None:
    # The frame of a real page with the listing's container gone, as an error page would be.
    data = read(ASTRO_NEW).replace(b"id='dlpage'", b"id='content'")
    assert not arxiv_listing.sniff(data)
    with pytest.raises(ParseError, match=r"^arXiv listing: this is not an arXiv listing page"):
        arxiv_listing.parse(data)


def test_a_listing_block_with_nothing_in_it() -> None:
    # A real page stripped of its headings, paging and entries: the frame of a listing only.
    data = without_entries(read(f"{BROWSE}/q-fin.TR_new.html"))
    data = re.sub(rb"<h3>.*?</h3>|<div class='paging'>.*?</div>", b"", data, flags=re.DOTALL)
    assert arxiv_listing.sniff(data)
    with pytest.raises(ParseError) as caught:
        arxiv_listing.parse(data)
    assert str(caught.value) == (
        "arXiv listing: the page has no listing in it; "
        "check the category and the URL (e.g. https://arxiv.org/list/cs.LG/new)"
    )


@pytest.mark.parametrize("data", [b"", b"  \n\t "])
def test_empty_body(data: bytes) -> None:
    assert not arxiv_listing.sniff(data)
    with pytest.raises(ParseError) as caught:
        arxiv_listing.parse(data)
    assert (
        str(caught.value) == "arXiv listing: the page is empty; check the URL, or try again later"
    )


def cut_after(data: bytes, marker: bytes, count: int) -> bytes:
    """The page cut just after the `count`-th `marker`, as a dropped connection leaves it."""
    at = -1
    for _ in range(count):
        at = data.index(marker, at + 1)
    return data[: at + len(marker)]


def test_truncated_inside_a_section() -> None:
    broken = cut_after(read(ASTRO_NEW), b"</dd>", 30)
    with pytest.raises(ParseError) as caught:
        arxiv_listing.parse(broken)
    assert str(caught.value) == (
        "arXiv listing: section 'New submissions (showing 53 of 53 entries)' shows 53 entries "
        f"but 30 could be read; {TRUNCATED_HINT}"
    )


def test_truncated_inside_an_entry() -> None:
    broken = cut_after(read(CO_2026), b"</dt>", 12)
    with pytest.raises(ParseError) as caught:
        arxiv_listing.parse(broken)
    assert str(caught.value) == (
        "arXiv listing: entry [12] arXiv:2607.20635 [pdf, html, other] has no details; "
        + TRUNCATED_HINT
    )


def test_truncated_old_layout_keeps_what_was_read() -> None:
    # The old layout shows no per-section counts, so a page cut between entries reads as a
    # shorter listing; iter_pages then reports the shortfall against the total.
    page = arxiv_listing.parse(cut_after(read(CO_OLD), b"</dd>", 10))
    assert (len(page.papers), page.total) == (10, 76)


def test_truncated_before_any_entry() -> None:
    broken = read(ASTRO_NEW)[:5000]
    with pytest.raises(ParseError, match=r"^arXiv listing: "):
        arxiv_listing.parse(broken)


# --- URLs ---------------------------------------------------------------------------------------


def test_listing_url() -> None:
    assert (
        arxiv_listing.listing_url(BASE, "cs.LG")
        == "https://arxiv.org/list/cs.LG/new?skip=0&show=2000"
    )
    assert (
        arxiv_listing.listing_url(
            "http://127.0.0.1:8000/", "cond-mat.stat-mech", "pastweek", skip=25, show=25
        )
        == "http://127.0.0.1:8000/list/cond-mat.stat-mech/pastweek?skip=25&show=25"
    )
    assert arxiv_listing.listing_url(BASE, "math-ph", "recent").endswith(
        "/list/math-ph/recent?skip=0&show=2000"
    )


@pytest.mark.parametrize(
    ("category", "listing", "skip", "show"),
    [
        ("cs LG", "new", 0, 2000),
        ("", "new", 0, 2000),
        ("cs.LG/../x", "new", 0, 2000),
        ("CS.lg", "new", 0, 2000),
        ("cs.LG", "today", 0, 2000),
        ("cs.LG", "new", -1, 2000),
        ("cs.LG", "new", 0, 0),
        ("cs.LG", "new", 0, 2001),
    ],
)
def test_listing_url_refuses_bad_values(category: str, listing: str, skip: int, show: int) -> None:
    with pytest.raises(UsageError, match=r"^arXiv listing: ") as caught:
        arxiv_listing.listing_url(BASE, category, listing, skip=skip, show=show)
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.hint


# --- paging -------------------------------------------------------------------------------------


class Server:
    """Answers listing URLs with saved pages chosen by the `skip` the URL asks for."""

    def __init__(self, by_skip: dict[int, str]) -> None:
        self.by_skip = by_skip
        self.asked: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.asked.append(url)
        skip = int(parse_qs(urlsplit(url).query)["skip"][0])
        return read(self.by_skip[skip])


def paged_astro_ph() -> dict[int, str]:
    return {skip: f"{BROWSE}/astro-ph_new_skip{skip}_show25.html" for skip in (0, 25, 50, 75, 100)}


def test_iter_pages_reads_every_page_once() -> None:
    server = Server(paged_astro_ph())
    pages = list(arxiv_listing.iter_pages(server, BASE, "astro-ph", show=25))
    assert server.asked == [
        f"https://arxiv.org/list/astro-ph/new?skip={skip}&show=25" for skip in (0, 25, 50, 75)
    ]
    assert [page.start for page in pages] == [0, 25, 50, 75]
    ids = [paper.id for page in pages for paper in page.papers]
    assert len(ids) == len(set(ids)) == 97
    assert ids == [paper.id for paper in parse(ASTRO_NEW).papers]
    kinds = Counter(paper.announce_type for page in pages for paper in page.papers)
    assert kinds == {"new": 53, "cross": 4, "replace": 40}


def test_iter_pages_one_page_when_all_fit() -> None:
    server = Server({0: ASTRO_NEW})
    pages = list(arxiv_listing.iter_pages(server, BASE, "astro-ph"))
    assert len(server.asked) == 1 and len(pages[0].papers) == 97


def test_iter_pages_quiet_day() -> None:
    server = Server({0: f"{DB}/hep-ph_new.html"})
    pages = list(arxiv_listing.iter_pages(server, BASE, "hep-ph"))
    assert [page.papers for page in pages] == [[]]


def test_iter_pages_recent_trusts_entries_not_the_total() -> None:
    # The test backend announces 320 and lists 264; a short page ends /recent without an error.
    server = Server({0: f"{BROWSE}/astro-ph_recent_show1000.html"})
    pages = list(arxiv_listing.iter_pages(server, BASE, "astro-ph", "recent", show=1000))
    assert len(server.asked) == 1 and len(pages[0].papers) == 264


def test_iter_pages_stops_when_a_page_yields_nothing() -> None:
    server = Server(
        {
            0: f"{BROWSE}/astro-ph_new_skip0_show25.html",
            25: f"{BROWSE}/astro-ph_new_skip100_show25.html",
        }
    )
    with pytest.raises(ParseError) as caught:
        list(arxiv_listing.iter_pages(server, BASE, "astro-ph", show=25))
    assert str(caught.value).startswith(
        "arXiv listing: astro-ph /new announces 97 entries but only 25 could be read; "
        "try again later"
    )
    assert len(server.asked) == 2


def test_iter_pages_refuses_a_server_that_ignores_skip() -> None:
    server = Server({skip: f"{BROWSE}/astro-ph_new_skip0_show25.html" for skip in (0, 25)})
    with pytest.raises(ParseError, match=r"^arXiv listing: .* repeated entries already read"):
        list(arxiv_listing.iter_pages(server, BASE, "astro-ph", show=25))


def test_iter_pages_refuses_a_bad_category_before_fetching() -> None:
    server = Server({})
    with pytest.raises(UsageError):
        list(arxiv_listing.iter_pages(server, BASE, "astro ph"))
    assert server.asked == []


# --- any input ----------------------------------------------------------------------------------

SMALL_PAGES = [
    read(name)
    for name in (
        f"{BROWSE}/q-fin_new.html",
        f"{DB}/math_recent.html",
        f"{DB}/hep-ph_new.html",
        f"{BROWSE}/astro-ph_new_skip100_show25.html",
    )
]


@st.composite
def damaged_pages(draw: st.DrawFn) -> bytes:
    """A real page cut short, or with a stretch replaced by random bytes (or by nothing)."""
    data = draw(st.sampled_from(SMALL_PAGES))
    start = draw(st.integers(0, len(data)))
    if draw(st.booleans()):
        return data[:start]
    end = draw(st.integers(start, len(data)))
    return data[:start] + draw(st.binary(max_size=64)) + data[end:]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=512), damaged_pages()))
def test_any_bytes_give_a_page_or_a_parse_error(data: bytes) -> None:
    try:
        page = arxiv_listing.parse(data)
    except ParseError as error:
        assert str(error).startswith("arXiv listing")
        return
    assert page.kind == "arxiv-listing"
    for paper in page.papers:
        assert paper.id and paper.title
