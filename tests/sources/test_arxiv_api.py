"""The arXiv API parser and pager against real Atom answers recorded in 2016 and 2026."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from papercli.errors import ExitCode, ParseError, UsageError
from papercli.models import Page, split_arxiv_id
from papercli.sources import arxiv_api

OLD = "arxiv-api/2016"
NEW = "arxiv-api/2026"
TESTING = f"{NEW}/q_testing_s0_m100_cfe7536492ca"
TWO_IDS = f"{NEW}/id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af"
OLD_STYLE_ID = f"{NEW}/id_astro-ph_0601001_s0_m100_3150dca9dc76"
NOTHING = f"{NEW}/id_0000.0000_s0_m100_8b51d9633a68"
BAD_ID = f"{NEW}/id_abc_s0_m100_b79c8dcf6bc3"
ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


def body(fixtures: Path, name: str) -> bytes:
    return (fixtures / f"{name}.body.xml").read_bytes()


def recording(fixtures: Path, name: str) -> dict:
    """A recorded {url, status_code, body}, the body back as the bytes the server sent.

    The recorder stored `requests`' `.text`, decoded as Latin-1 for want of a charset in the
    Content-Type, so Latin-1 turns it back into the original UTF-8 bytes.
    """
    record = json.loads((fixtures / f"{name}.json").read_text(encoding="utf-8"))
    record["body"] = record["body"].encode("latin-1")
    return record


def query_params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# --- 2026 answers -------------------------------------------------------------------------------


def test_search_page(fixtures: Path) -> None:
    page = arxiv_api.parse(body(fixtures, TESTING))
    assert page.kind == "arxiv-api"
    assert len(page.papers) == 100
    assert len({p.id for p in page.papers}) == 100
    assert (page.total, page.start, page.date) == (214881, 0, "2026-04-12")
    assert page.title == "arXiv Query: search_query=all:testing&id_list=&start=0&max_results=100"
    assert [p.id for p in page.papers[:3]] == ["2202.12139", "2405.13786", "2005.14124"]
    assert page.papers[-1].id == "gr-qc/0103067"
    paper = page.papers[0]
    assert paper.version == 1
    assert paper.title == (
        "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
    )
    assert paper.authors == ["Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker"]
    assert paper.abstract.startswith(
        "Deep Learning (DL) has revolutionized the capabilities of vision-based systems (VBS)"
    )
    assert paper.categories == ["cs.SE", "cs.LG"]
    assert paper.primary_category == "cs.SE"
    assert (paper.published, paper.updated) == ("2022-02-24", "2022-02-24")
    assert paper.comments == "Artificial Intelligence in Software Testing 2022 workshop @ ICST 2022"
    assert paper.journal_ref.startswith("Artificial Intelligence in Software Testing @ 2022 IEEE")
    assert paper.doi == "10.1109/ICSTW55395.2022.00035"
    assert paper.url == "https://arxiv.org/abs/2202.12139v1"
    assert paper.announce_type is None


def test_one_of_two_ids_found(fixtures: Path) -> None:
    page = arxiv_api.parse(body(fixtures, TWO_IDS))
    assert (page.total, page.start) == (1, 0)
    (paper,) = page.papers
    assert (paper.id, paper.version) == ("1707.08567", 1)
    assert paper.title == (
        "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    )
    assert len(paper.authors) == 34
    assert paper.authors[:2] == ["Kees A. Schouhamer Immink", "Stan Baggen"]
    assert paper.authors[-1] == "Hirosuke Yamamoto"
    assert paper.authors[32] == "Dirk Wübben"
    assert paper.categories == ["cs.IT"]
    assert (
        paper.comments == "44 pages, editors for the proceedings: Yanling Chen and A. J. Han Vinck"
    )
    assert paper.journal_ref is None and paper.doi is None


def test_old_style_id(fixtures: Path) -> None:
    (paper,) = arxiv_api.parse(body(fixtures, OLD_STYLE_ID)).papers
    assert (paper.id, paper.version) == ("astro-ph/0601001", 1)
    assert paper.categories == ["astro-ph"]
    assert paper.primary_category == "astro-ph"
    assert paper.authors == ["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"]
    assert paper.abstract.startswith("We derive the frequencies of hot Jupiters (HJs)")  # stripped
    assert "following Gould & Morgan (2003)" in paper.abstract
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.published == "2006-01-02"


def test_empty_result(fixtures: Path) -> None:
    page = arxiv_api.parse(body(fixtures, NOTHING))
    assert (page.papers, page.total, page.start) == ([], 0, 0)


def test_error_entry_tells_the_user_to_fix_the_query(fixtures: Path) -> None:
    with pytest.raises(ParseError) as caught:
        arxiv_api.parse(body(fixtures, BAD_ID))
    assert str(caught.value).startswith("arXiv API: incorrect id format for abc; fix the query")
    assert caught.value.exit_code == ExitCode.PARSE


def test_recordings_match_their_bodies_and_the_400_parses_to_the_error(fixtures: Path) -> None:
    for name in (TESTING, TWO_IDS, OLD_STYLE_ID, NOTHING, BAD_ID):
        record = recording(fixtures, name)
        assert record["body"] == body(fixtures, name)
    record = recording(fixtures, BAD_ID)
    assert record["status_code"] == 400
    with pytest.raises(ParseError, match=r"^arXiv API: incorrect id format for abc"):
        arxiv_api.parse(record["body"], url=record["url"])
    page = arxiv_api.parse(recording(fixtures, TWO_IDS)["body"])
    assert page.papers[0].authors[32] == "Dirk Wübben"


# --- 2016 answers -------------------------------------------------------------------------------


def test_old_format_pages(fixtures: Path) -> None:
    expected = {
        "id_list_1111.2011v2.xml": (1, 1),
        "search_au_del_maestro.xml": (10, 31),
        "search_au_del_maestro_ANDNOT_checkerboard_OR_Pyrochlore.xml": (10, 24),
        "search_au_del_maestro_AND_ti_checkerboard.xml": (1, 1),
        "search_au_del_maestro_AND_ti_quantum_criticality.xml": (2, 2),
    }
    for name, (count, total) in expected.items():
        page = arxiv_api.parse((fixtures / OLD / name).read_bytes())
        assert (len(page.papers), page.total, page.start, page.date) == (
            count,
            total,
            0,
            "2016-10-09",
        ), name
        assert all("Del Maestro" in " ".join(p.authors) for p in page.papers), name


def test_old_format_entry(fixtures: Path) -> None:
    (paper,) = arxiv_api.parse((fixtures / OLD / "id_list_1111.2011v2.xml").read_bytes()).papers
    assert (paper.id, paper.version) == ("1111.2011", 2)
    # The 2016 answers wrap at 80 columns; whitespace is collapsed.
    assert paper.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert paper.abstract.startswith(
        "Theoretical description of anisotropic systems, such as layered superconductors and "
        "coupled spin chains, is often"
    )
    assert paper.abstract.endswith("extra dimension to the theory describing a single node.")
    assert paper.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    # Listed after the plain categories in 2016, the primary category still comes first.
    assert paper.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert (paper.published, paper.updated) == ("2011-11-08", "2012-04-02")
    assert paper.doi == "10.1103/PhysRevB.85.115117"
    assert paper.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert paper.comments == "8 pages, 3 figures. Published version"
    assert paper.url == "http://arxiv.org/abs/1111.2011v2"


def test_old_format_old_style_ids(fixtures: Path) -> None:
    page = arxiv_api.parse((fixtures / OLD / "search_au_del_maestro.xml").read_bytes())
    assert [p.id for p in page.papers] == [
        "1201.4869",
        "cond-mat/0412498",
        "cond-mat/0603029",
        "1005.5383",
        "1303.6954",
        "1312.6177",
        "1412.6529",
        "cond-mat/0607501",
        "cond-mat/0702661",
        "0807.2873",
    ]


def test_primary_is_first_and_not_repeated(fixtures: Path) -> None:
    data = body(fixtures, TESTING)
    for paper in arxiv_api.parse(data).papers:
        assert paper.categories[0] == paper.primary_category
        assert len(paper.categories) == len(set(paper.categories))
    # Moving a paper's primary category last in its list changes nothing.
    moved = data.replace(
        b'<category term="cs.SE" scheme="http://arxiv.org/schemas/atom"/>\n    '
        b'<category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>',
        b'<category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>\n    '
        b'<category term="cs.SE" scheme="http://arxiv.org/schemas/atom"/>',
        1,
    )
    assert moved != data
    assert arxiv_api.parse(moved).papers[0].categories == ["cs.SE", "cs.LG"]


# --- bad input ----------------------------------------------------------------------------------


def test_not_atom(fixtures: Path) -> None:
    rss = fixtures / "arxiv-rss/jmmeus-aioarxiv-2024-11-28/empty_rss_mock_feed.xml"
    with pytest.raises(
        ParseError, match=r"^arXiv API \(u\): not an Atom feed \(the document is <rss>\)"
    ):
        arxiv_api.parse(rss.read_bytes(), url="u")


def test_truncated_answer(fixtures: Path) -> None:
    data = body(fixtures, TESTING)
    with pytest.raises(ParseError, match=r"^arXiv API: the XML is malformed or cut short"):
        arxiv_api.parse(data[: len(data) // 3])


def test_bad_total(fixtures: Path) -> None:
    data = body(fixtures, TWO_IDS).replace(
        b">1</opensearch:totalResults>", b">one</opensearch:totalResults>"
    )
    with pytest.raises(ParseError, match=r"opensearch:totalResults is not a number \('one'\)"):
        arxiv_api.parse(data)


def test_sniff(fixtures: Path) -> None:
    for path in [*(fixtures / OLD).iterdir(), *(fixtures / NEW).glob("*.body.xml")]:
        assert arxiv_api.sniff(path.read_bytes()), path
    for other in [
        "arxiv-rss/jmmeus-aioarxiv-2024-11-28/empty_rss_mock_feed.xml",
        "arxiv-list/astro-ph.CO_recent_show1000_fetched-2024-12-10_9c2f307.html",
        "hf-daily/api/daily_papers_date-2024-05-27.json",
    ]:
        assert not arxiv_api.sniff((fixtures / other).read_bytes()), other


# --- URLs ---------------------------------------------------------------------------------------


def test_query_url() -> None:
    assert arxiv_api.query_url(search_query="ti:diffusion AND cat:cs.LG", max_results=50) == (
        "https://export.arxiv.org/api/query?search_query=ti%3Adiffusion+AND+cat%3Acs.LG"
        "&start=0&max_results=50&sortBy=submittedDate&sortOrder=descending"
    )
    query = 'au:del_maestro ANDNOT (ti:checkerboard OR ti:"quantum criticality")'
    url = arxiv_api.query_url("http://127.0.0.1:5000/", search_query=query, start=200)
    assert url.startswith(
        "http://127.0.0.1:5000/api/query?search_query=au%3Adel_maestro+ANDNOT+%28"
    )
    assert query_params(url)["search_query"] == [query]
    assert query_params(url)["start"] == ["200"]


def test_query_url_matches_the_recorded_requests(fixtures: Path) -> None:
    for name, ids in [
        (TWO_IDS, ["0808.05394", "1707.08567"]),
        (OLD_STYLE_ID, ["astro-ph/0601001"]),
    ]:
        recorded = recording(fixtures, name)["url"]
        ours = arxiv_api.query_url(id_list=ids, sort_by="relevance")
        assert urlsplit(ours)[:3] == urlsplit(recorded)[:3]
        assert query_params(ours) == query_params(recorded)  # parse_qs drops the empty search


def test_query_url_refuses_bad_arguments() -> None:
    with pytest.raises(UsageError, match="give a search query or a list of ids"):
        arxiv_api.query_url(search_query="  ", id_list=[])
    with pytest.raises(UsageError, match=r"max_results 1\.\.2000"):
        arxiv_api.query_url(search_query="x", max_results=0)
    with pytest.raises(UsageError, match=r"max_results 1\.\.2000"):
        arxiv_api.query_url(search_query="x", start=-1)
    with pytest.raises(UsageError, match="cannot sort by 'date'"):
        arxiv_api.query_url(search_query="x", sort_by="date")


# --- paging -------------------------------------------------------------------------------------


class Api:
    """Serves slices of a real answer as if the API paged it; records what was asked."""

    def __init__(self, answer: bytes, *, empty_from: int | None = None) -> None:
        self.answer = answer
        self.empty_from = empty_from  # pages starting here come back with no entries
        self.asked: list[dict[str, list[str]]] = []

    def __call__(self, url: str) -> bytes:
        params = query_params(url)
        self.asked.append(params)
        start, size = int(params["start"][0]), int(params["max_results"][0])
        root = etree.fromstring(self.answer)
        entries = root.findall(f"{ATOM}entry")
        keep = entries[start : start + size]
        if self.empty_from is not None and start >= self.empty_from:
            keep = []
        for entry in entries:
            if entry not in keep:
                root.remove(entry)
        root.find(f"{OPENSEARCH}startIndex").text = str(start)
        return etree.tostring(root)

    def starts(self) -> list[tuple[int, int]]:
        return [(int(p["start"][0]), int(p["max_results"][0])) for p in self.asked]


def ids(pages: list[Page]) -> list[str]:
    return [paper.id for page in pages for paper in page.papers]


def test_pages_until_max_results(fixtures: Path) -> None:
    answer = body(fixtures, TESTING)
    api = Api(answer)
    pages = list(
        arxiv_api.iter_pages(api, search_query="all:testing", max_results=100, page_size=40)
    )
    assert api.starts() == [(0, 40), (40, 40), (80, 20)]
    assert api.asked[0]["search_query"] == ["all:testing"]
    assert [page.start for page in pages] == [0, 40, 80]
    assert ids(pages) == [p.id for p in arxiv_api.parse(answer).papers]


def test_pages_stop_at_the_total(fixtures: Path) -> None:
    api = Api(body(fixtures, TWO_IDS))
    pages = list(arxiv_api.iter_pages(api, id_list=["0808.05394", "1707.08567"], max_results=500))
    assert api.starts() == [(0, 100)]
    assert ids(pages) == ["1707.08567"]
    api = Api(body(fixtures, NOTHING))
    pages = list(arxiv_api.iter_pages(api, id_list=["0000.0000"]))
    assert api.starts() == [(0, 100)]
    assert ids(pages) == []


def test_empty_page_before_the_total_stops_with_what_was_read(fixtures: Path) -> None:
    api = Api(body(fixtures, TESTING), empty_from=50)
    pages = list(arxiv_api.iter_pages(api, search_query="testing", max_results=300, page_size=50))
    assert api.starts() == [(0, 50), (50, 50)]
    assert len(ids(pages)) == 50
    assert pages[-1].total == 214881  # the shortfall stays visible to the caller


def test_empty_first_page_with_a_total_says_retry_later(fixtures: Path) -> None:
    api = Api(body(fixtures, TESTING), empty_from=0)
    with pytest.raises(ParseError, match=r"no entries although 214881 match.*; retry in a few"):
        list(arxiv_api.iter_pages(api, search_query="testing"))


def test_error_answer_stops_the_walk(fixtures: Path) -> None:
    def get(url: str) -> bytes:
        return recording(fixtures, BAD_ID)["body"]

    with pytest.raises(ParseError, match=r"^arXiv API: incorrect id format for abc"):
        list(arxiv_api.iter_pages(get, id_list=["abc"]))


# --- properties ---------------------------------------------------------------------------------


def check(data: bytes) -> None:
    """Any input gives a Page whose papers all have an id and a title, or a ParseError."""
    try:
        page = arxiv_api.parse(data)
    except ParseError as exc:
        assert str(exc).startswith("arXiv API")
        return
    assert page.kind == "arxiv-api"
    for paper in page.papers:
        assert paper.title and paper.title == paper.title.strip()
        assert split_arxiv_id(paper.id) == (paper.id, None)
        if paper.primary_category:
            assert paper.categories[0] == paper.primary_category


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes(data: bytes) -> None:
    check(data)


@pytest.fixture(scope="module")
def answers() -> list[bytes]:
    from tests.conftest import FIXTURES

    return [
        (FIXTURES / f"{name}.body.xml").read_bytes()
        for name in (TWO_IDS, OLD_STYLE_ID, NOTHING, BAD_ID)
    ] + [(FIXTURES / OLD / "search_au_del_maestro_AND_ti_quantum_criticality.xml").read_bytes()]


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_mutated_real_answers(answers: list[bytes], data: st.DataObject) -> None:
    answer = data.draw(st.sampled_from(answers))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(answer)))
        j = data.draw(st.integers(i, min(len(answer), i + 400)))
        operation = data.draw(st.sampled_from(["cut", "delete", "insert", "splice"]))
        if operation == "cut":
            answer = answer[:i]
        elif operation == "delete":
            answer = answer[:i] + answer[j:]
        elif operation == "insert":
            answer = answer[:i] + data.draw(st.binary(min_size=1, max_size=40)) + answer[i:]
        else:
            k = data.draw(st.integers(0, len(answer)))
            answer = answer[:k] + answer[i:j] + answer[k:]
    check(answer)
