"""The arXiv RSS parser on real feeds: RSS 2.0 (2024), the old RDF format, empty and error feeds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from papercli.errors import ExitCode, ParseError, UsageError
from papercli.models import Page, split_arxiv_id
from papercli.sources import arxiv_rss

FEEDS = "arxiv-rss/jmmeus-aioarxiv-2024-11-28"
RDF = "arxiv-rss/physbiblio-rdf-excerpts"
RDF_2018 = f"{RDF}/hep-ex_rdf_2018-05-23_trimmed_from_test_webimport_py.xml"
RDF_2021 = f"{RDF}/hep-ex_rdf_2021-07-08_trimmed_from_test_arxiv_py_L152.xml"


@pytest.fixture(scope="module")
def feed_bytes() -> bytes:
    from tests.conftest import FIXTURES

    return (FIXTURES / FEEDS / "rss_mock_feed.xml").read_bytes()


@pytest.fixture(scope="module")
def feed(feed_bytes: bytes) -> Page:
    return arxiv_rss.parse(feed_bytes)


def by_id(page: Page, arxiv_id: str):
    (paper,) = [p for p in page.papers if p.id == arxiv_id]
    return paper


def first_items(feed_bytes: bytes, keep: int) -> bytes:
    """The real feed with all but its first `keep` items deleted."""
    root = etree.fromstring(feed_bytes)
    channel = root.find("channel")
    for item in channel.findall("item")[keep:]:
        channel.remove(item)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- RSS 2.0 ------------------------------------------------------------------------------------


def test_full_feed_counts(feed: Page) -> None:
    assert feed.kind == "arxiv-rss"
    assert len(feed.papers) == 1504
    assert len({p.id for p in feed.papers}) == 1504
    assert Counter(p.announce_type for p in feed.papers) == {
        "new": 926,
        "replace": 569,
        "cross": 9,
    }
    assert feed.date == "2024-11-28"
    assert feed.title.startswith("astro-ph, cond-mat, physics, quant-ph, math, cs, econ")
    assert sum(len(p.authors) for p in feed.papers) == 7028
    assert sum(1 for p in feed.papers if p.doi) == 111
    assert sum(1 for p in feed.papers if p.journal_ref) == 97
    assert Counter(p.primary_category.split(".")[0] for p in feed.papers).most_common(4) == [
        ("cs", 583),
        ("math", 245),
        ("cond-mat", 113),
        ("astro-ph", 111),
    ]
    assert all(p.published == "2024-11-28" for p in feed.papers)


def test_first_item(feed: Page) -> None:
    paper = feed.papers[0]
    assert paper.id == "2411.17700"
    assert paper.version == 1
    assert paper.title == (
        "Exploring the Impact of Generative AI on Cross-Border E-Commerce Brand Building in "
        "Chinese Tianjin's Manufacturing Sector"
    )
    assert paper.authors == ["Jun Cui"]
    assert paper.abstract.startswith(
        "This study investigates the influence of generative artificial intelligence (AI) on "
        "the brand construction"
    )
    assert paper.abstract.endswith("regression and structural equations (PLS-SEM).")
    assert paper.categories == ["cs.CY"]
    assert paper.primary_category == "cs.CY"
    assert paper.announce_type == "new"
    assert paper.url == "https://arxiv.org/abs/2411.17700"
    assert paper.doi is None and paper.journal_ref is None


def test_cross_list_keeps_primary_first_and_references(feed: Page) -> None:
    paper = by_id(feed, "2405.12090")
    assert paper.announce_type == "cross"
    assert paper.version == 3
    assert (
        paper.title
        == "Two-dimensional Synchrotron Beam Characterisation from a Single Interferogram"
    )
    assert paper.categories == ["physics.acc-ph", "astro-ph.IM", "physics.optics"]
    assert paper.primary_category == "physics.acc-ph"
    assert paper.authors == [
        "Bojan Nikolic",
        "Christopher L. Carilli",
        "Nithyanandan Thyagarajan",
        "Laura Torino",
        "Ubaldo Iriso",
    ]
    assert paper.doi == "10.1103/PhysRevAccelBeams.27.112802"
    assert paper.journal_ref == "Phys. Rev. Accel. Beams 27, (2024) 112802"
    cross = [p.id for p in feed.papers if p.announce_type == "cross"]
    assert cross == [
        "2202.06515",
        "2405.12090",
        "2411.15345",
        "2411.16046",
        "2411.16552",
        "2411.16850",
        "2411.16862",
        "2411.17452",
        "2411.17699",
    ]


def test_replacement_is_the_last_item(feed: Page) -> None:
    paper = feed.papers[-1]
    assert (paper.id, paper.version, paper.announce_type) == ("2411.17697", 2, "replace")
    assert paper.title == "StableAnimator: High-Quality Identity-Preserving Human Image Animation"


def test_authors_lose_affiliations_with_commas_of_their_own(feed: Page) -> None:
    assert by_id(feed, "2411.17817").authors == [
        "Tianliang Yan",
        "Yubao Liu",
        "Leonid Prokhorov",
        "Jiri Smetana",
        "Haixing Miao",
        "Yiqiu Ma",
        "Vincent Boyer",
        "Denis Martynov",
    ]
    # "(Andrew and Peggy Cherng Department ...)": the "and" inside is not a separator.
    assert by_id(feed, "2411.17935").authors == [
        "Jadelynn Dao",
        "Ruixiao Liu",
        "Sarah Solomon",
        "Samuel Solomon",
    ]


def test_tex_accents_in_names_are_decoded(feed: Page) -> None:
    # "Gergely Zar\'and": the "and" ends a name here, it does not join two.
    assert by_id(feed, "2402.19390").authors == [
        "Patrik Penc",
        "Cătălin Paşcu Moca",
        "Örs Legeza",
        "Tomaž Prosen",
        "Gergely Zaránd",
        "Miklós Antal Werner",
    ]
    assert by_id(feed, "2411.17709").authors[-2:] == ["Jacek Rogala", "Jarosław Żygierewicz"]
    assert by_id(feed, "2411.18567").authors[4] == "Guðmundur K. Stefánsson"
    assert by_id(feed, "2403.12684").authors[4] == "Marta Łuksza"
    names = [name for paper in feed.papers for name in paper.authors]
    assert not [name for name in names if "\\" in name or "{" in name or "(" in name]


def test_abstract_paragraphs_are_joined_and_tex_left_alone(feed: Page) -> None:
    paper = by_id(feed, "2411.17838")
    assert "\n" not in paper.abstract
    assert "segmentation, and classification. The most popular TSCL algorithms" in paper.abstract
    assert by_id(feed, "2411.17730").title == (
        "Almost sure well-posedness and orbital stability for "
        'Schr\\"odinger equation with potential'
    )


def test_split_authors_and_conventions() -> None:
    assert arxiv_rss.split_authors("Ana Li and Bo Wu") == ["Ana Li", "Bo Wu"]
    assert arxiv_rss.split_authors("Ana Li, Bo Wu, and Cy Ng") == ["Ana Li", "Bo Wu", "Cy Ng"]
    assert arxiv_rss.split_authors("Ana Li (MIT (CSAIL), Boston), Bo Wu, et al.") == [
        "Ana Li",
        "Bo Wu",
    ]
    assert arxiv_rss.split_authors("") == []


def test_empty_feed_is_a_quiet_day(fixtures: Path) -> None:
    page = arxiv_rss.parse((fixtures / FEEDS / "empty_rss_mock_feed.xml").read_bytes())
    assert page.papers == []
    assert page.date == "2024-11-28"
    assert page.title == "test updates on arXiv.org"


def test_error_feed_names_the_feed_and_the_fix(fixtures: Path) -> None:
    data = (fixtures / FEEDS / "error_rss_mock_feed.xml").read_bytes()
    with pytest.raises(ParseError) as caught:
        arxiv_rss.parse(data)
    message = str(caught.value)
    assert message.startswith(
        "arXiv RSS feed http://rss.arxiv.org/rss/astroph: Bad archive 'astroph'. "
        "Valid archive names are: astro-ph, cond-mat, cs,"
    )
    assert "; check the category names" in message
    assert caught.value.exit_code == ExitCode.PARSE
    with pytest.raises(ParseError, match=r"^arXiv RSS feed https://rss\.example/rss/astroph: Bad"):
        arxiv_rss.parse(data, url="https://rss.example/rss/astroph")


# --- the old RDF format -------------------------------------------------------------------------


def test_rdf_2018(fixtures: Path) -> None:
    page = arxiv_rss.parse((fixtures / RDF_2018).read_bytes())
    assert page.date == "2018-05-23"
    assert page.title == "hep-ex updates on arXiv.org"
    assert [(p.id, p.version, p.announce_type, p.primary_category) for p in page.papers] == [
        ("1805.08875", 1, "new", "hep-ex"),
        ("1805.09166", 1, "cross", "hep-ex"),
        ("1805.06430", 2, "replace", "nucl-th"),
    ]
    first, _, last = page.papers
    assert first.title == "Measurement of Transverse Single Spin Asymmetries"
    assert first.authors == ["Christopher Dilks"]
    assert first.abstract.startswith("In 2015 the first collisions between polarized protons")
    assert "range of $2.6<\\eta<4$. Within" in first.abstract
    assert first.url == "http://arxiv.org/abs/1805.08875"
    assert last.title == "New Perspective on Hybrid Mesons"
    assert last.categories == ["nucl-th"]
    assert last.authors == [
        "Shu-Sheng Xu",
        "Zhu-Fang Cui",
        "Lei Chang",
        "Joannis Papavassiliou",
        "Craig D. Roberts",
        "Hong-Shi Zong",
    ]


def test_rdf_2021(fixtures: Path) -> None:
    page = arxiv_rss.parse((fixtures / RDF_2021).read_bytes())
    assert page.date == "2021-07-08"
    assert [(p.id, p.version, p.announce_type) for p in page.papers] == [
        ("2107.03419", 1, "new"),
        ("2106.00550", 2, "cross"),
        ("2007.03939", 2, "replace"),
    ]
    lhcb, cross, _ = page.papers
    assert lhcb.title == (
        "Observation of excited $\\Omega_c^0$ baryons in "
        "$\\Omega_b^- \\to \\Xi_c^+ K^-\\pi^-$ decays"
    )
    assert lhcb.authors == ["LHCb collaboration", "R. Aaij"]  # "et al. (909 ...)" dropped
    assert lhcb.abstract == "desc1"
    assert cross.categories == ["math.GR"]
    assert cross.authors == ["Robert A. Wilson"]


def test_rdf_title_without_the_arxiv_tail_takes_the_id_from_the_link(fixtures: Path) -> None:
    data = (fixtures / RDF_2021).read_bytes().replace(b" (arXiv:2107.03419v1 [hep-ex])", b"")
    paper = arxiv_rss.parse(data).papers[0]
    assert (paper.id, paper.version, paper.announce_type) == ("2107.03419", None, None)
    assert paper.title.endswith("decays.")


# --- bad input ----------------------------------------------------------------------------------


def test_not_an_rss_document(fixtures: Path) -> None:
    api = fixtures / "arxiv-api/2026/id_astro-ph_0601001_s0_m100_3150dca9dc76.body.xml"
    with pytest.raises(
        ParseError, match=r"^arXiv RSS feed: not an RSS feed \(the document is <feed>\)"
    ):
        arxiv_rss.parse(api.read_bytes())
    listing = fixtures / "arxiv-list/astro-ph.CO_recent_show1000_fetched-2024-12-10_9c2f307.html"
    with pytest.raises(ParseError, match=r"^arXiv RSS feed u: got an HTML page"):
        arxiv_rss.parse(listing.read_bytes(), url="u")
    hf = fixtures / "hf-daily/api/daily_papers_date-2024-05-27.json"
    with pytest.raises(ParseError, match=r"^arXiv RSS feed: not XML \(it starts with '\["):
        arxiv_rss.parse(hf.read_bytes())


def test_truncated_feed(feed_bytes: bytes) -> None:
    with pytest.raises(ParseError, match=r"^arXiv RSS feed: the XML is malformed or cut short"):
        arxiv_rss.parse(feed_bytes[:-100])


def test_item_without_any_id_is_an_error(feed_bytes: bytes) -> None:
    root = etree.fromstring(first_items(feed_bytes, 3))
    second = root.findall("channel/item")[1]
    for tag in ("description", "guid", "link"):
        second.remove(second.find(tag))
    with pytest.raises(ParseError, match=r"^arXiv RSS feed: item 2 has no arXiv id"):
        arxiv_rss.parse(etree.tostring(root))


def test_sniff(fixtures: Path) -> None:
    for path in [*(fixtures / FEEDS).iterdir(), *(fixtures / RDF).iterdir()]:
        assert arxiv_rss.sniff(path.read_bytes()), path
    for other in [
        "arxiv-api/2016/search_au_del_maestro.xml",
        "arxiv-list/astro-ph.CO_recent_show1000_fetched-2024-12-10_9c2f307.html",
        "hf-daily/api/daily_papers_date-2024-05-27.json",
    ]:
        assert not arxiv_rss.sniff((fixtures / other).read_bytes()), other


# --- URLs and paging ----------------------------------------------------------------------------


def test_feed_url() -> None:
    base = "https://rss.arxiv.org"
    assert arxiv_rss.feed_url(base, "cs.LG+cs.AI") == "https://rss.arxiv.org/rss/cs.LG+cs.AI"
    assert arxiv_rss.feed_url(base + "/", "cs.LG, cs.AI") == "https://rss.arxiv.org/rss/cs.LG+cs.AI"
    assert arxiv_rss.feed_url(base, "astro-ph.CO cond-mat.stat-mech q-fin") == (
        "https://rss.arxiv.org/rss/astro-ph.CO+cond-mat.stat-mech+q-fin"
    )
    for bad in ["", "  + ", "cs.LG/../x", "cs.LG?x=1", "CS"]:
        with pytest.raises(UsageError, match="is not an arXiv category"):
            arxiv_rss.feed_url(base, bad)


def test_iter_pages_reads_the_one_feed(fixtures: Path) -> None:
    asked: list[str] = []
    body = (fixtures / FEEDS / "empty_rss_mock_feed.xml").read_bytes()

    def get(url: str) -> bytes:
        asked.append(url)
        return body

    pages = list(arxiv_rss.iter_pages(get, "http://127.0.0.1:8000", "cs.LG+cs.AI"))
    assert asked == ["http://127.0.0.1:8000/rss/cs.LG+cs.AI"]
    assert [len(page.papers) for page in pages] == [0]


# --- properties ---------------------------------------------------------------------------------


def check(data: bytes) -> None:
    """Any input gives a Page whose papers all have an id and a title, or a ParseError."""
    try:
        page = arxiv_rss.parse(data)
    except ParseError as exc:
        assert str(exc).startswith("arXiv RSS feed")
        return
    assert page.kind == "arxiv-rss"
    for paper in page.papers:
        assert paper.title and paper.title == paper.title.strip()
        assert split_arxiv_id(paper.id) == (paper.id, None)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes(data: bytes) -> None:
    check(data)


@pytest.fixture(scope="module")
def small_feeds(feed_bytes: bytes) -> list[bytes]:
    from tests.conftest import FIXTURES

    return [
        first_items(feed_bytes, 4),
        (FIXTURES / RDF_2018).read_bytes(),
        (FIXTURES / RDF_2021).read_bytes(),
        (FIXTURES / FEEDS / "error_rss_mock_feed.xml").read_bytes(),
    ]


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_mutated_real_feeds(small_feeds: list[bytes], data: st.DataObject) -> None:
    feed = data.draw(st.sampled_from(small_feeds))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(feed)))
        j = data.draw(st.integers(i, min(len(feed), i + 400)))
        operation = data.draw(st.sampled_from(["cut", "delete", "insert", "splice"]))
        if operation == "cut":
            feed = feed[:i]
        elif operation == "delete":
            feed = feed[:i] + feed[j:]
        elif operation == "insert":
            feed = feed[:i] + data.draw(st.binary(min_size=1, max_size=40)) + feed[i:]
        else:
            k = data.draw(st.integers(0, len(feed)))
            feed = feed[:k] + feed[i:j] + feed[k:]
    check(feed)
