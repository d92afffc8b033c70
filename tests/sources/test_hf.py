"""Hugging Face Daily Papers: every saved API era and the /papers page, URLs, paging, bad bodies."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papercli.errors import ExitCode, ParseError, UsageError
from papercli.sources import hf
from tests.parse_checks import check_page

API = "hf-daily/api"
PAGE = "hf-daily/html/papers_date-2024-08-01_slbqc.html"
BASE = "https://huggingface.co"


def api_file(fixtures: Path, day: str) -> bytes:
    return (fixtures / API / f"daily_papers_date-{day}.json").read_bytes()


# --- the API, one schema era per file --------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "count", "first_id", "last_id"),
    [
        ("2024-05-27", 13, "2405.15738", "2405.15125"),
        ("2024-08-02", 16, "2408.00714", "2407.21794"),
        ("2025-06-25", 14, "2506.19851", "2506.19850"),
        ("2026-08-21", 17, "2608.19880", "2608.13210"),
    ],
)
def test_api_every_era(fixtures: Path, day: str, count: int, first_id: str, last_id: str) -> None:
    data = api_file(fixtures, day)
    assert hf.sniff_api(data)
    assert not hf.sniff_page(data)
    page = hf.parse_api(data, url=hf.api_url(BASE, date=day))
    assert page.kind == "hf-api"
    assert len(page.papers) == count
    assert (page.papers[0].id, page.papers[-1].id) == (first_id, last_id)
    assert page.date == day
    assert page.title == f"Hugging Face Daily Papers, {day}"
    # The day comes from the items too, so a file read without its URL keeps it.
    assert hf.parse_api(data).date == day
    for paper in page.papers:
        assert paper.title and paper.abstract and paper.authors
        assert paper.url is None and paper.abs_url == f"https://arxiv.org/abs/{paper.id}"
        assert "\n" not in paper.title + paper.abstract
        assert isinstance(paper.upvotes, int) and isinstance(paper.num_comments, int)


def test_api_oldest_era(fixtures: Path) -> None:
    first = hf.parse_api(api_file(fixtures, "2024-05-27")).papers[0]
    # The served title is wrapped at 80 columns: "...Multimodal\n  Models".
    assert first.title == (
        "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"
    )
    assert first.authors == [
        "Chunjiang Ge",
        "Sijie Cheng",
        "Ziming Wang",
        "Jiale Yuan",
        "Yuan Gao",
        "Jun Song",
        "Shiji Song",
        "Gao Huang",
        "Bo Zheng",
    ]
    assert first.abstract.startswith(
        "High-resolution Large Multimodal Models (LMMs) encounter the challenges of excessive"
    )
    assert (first.upvotes, first.num_comments, first.published) == (32, 3, "2024-05-24")
    assert (first.github_repo, first.github_stars, first.ai_summary) == (None, None, None)
    assert first.ai_keywords == []


def test_api_2024_08_02(fixtures: Path) -> None:
    last = hf.parse_api(api_file(fixtures, "2024-08-02")).papers[-1]
    assert last.title == (
        "Generalized Out-of-Distribution Detection and Beyond in Vision Language Model Era: "
        "A Survey"
    )
    assert last.authors[:3] == ["Atsuyuki Miyai", "Jingkang Yang", "Jingyang Zhang"]
    assert len(last.authors) == 13
    assert (last.upvotes, last.num_comments, last.published) == (1, 1, "2024-07-31")


def test_api_2025_era_has_github_and_ai_fields(fixtures: Path) -> None:
    papers = hf.parse_api(api_file(fixtures, "2025-06-25")).papers
    assert [(p.id, p.github_stars) for p in papers if p.github_stars is not None] == [
        ("2506.19851", 20),
        ("2506.16141", 19),
        ("2506.19848", 9),
        ("2506.17612", 3),
    ]
    first = papers[0]
    assert first.github_repo == "https://github.com/anima-x/anima-x"
    assert first.ai_summary.startswith("AnimaX creates multi-skeleton 3D animations")
    assert len(first.ai_keywords) == 15
    assert first.ai_keywords[:2] == [
        "feed-forward 3D animation framework",
        "video diffusion models",
    ]
    assert all(p.ai_summary and p.ai_keywords for p in papers)


def test_api_newest_era(fixtures: Path) -> None:
    papers = hf.parse_api(api_file(fixtures, "2026-08-21")).papers
    first = papers[0]
    assert first.title == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert first.authors[:5] == [
        "Chengsong Huang",
        "Zifeng Wang",
        "Rujun Han",
        "Jun Yan",
        "Yanfei Chen",
    ]
    assert len(first.authors) == 17
    assert (first.upvotes, first.num_comments) == (163, 1)
    assert first.github_repo == "https://github.com/google-research/envharness"
    assert first.github_stars == 8
    assert first.published == "2026-08-20"
    assert first.ai_keywords == [
        "LLM agents",
        "Environment Harness",
        "EnvHarness",
        "EnvRigger",
        "black-box policy",
        "execution trajectories",
        "reinforcement learning",
        "co-evolution",
    ]
    # One paper of the day has no AI summary yet: it reads as None, not as an error.
    assert sum(p.ai_summary is None for p in papers) == 1
    assert sum(p.github_stars is not None for p in papers) == 12
    assert max(p.github_stars or 0 for p in papers) == 76


def test_api_hf_link_is_derivable(fixtures: Path) -> None:
    paper = hf.parse_api(api_file(fixtures, "2024-08-02")).papers[0]
    assert hf.paper_url(paper.id) == "https://huggingface.co/papers/2408.00714"


def test_api_item_with_a_non_arxiv_id_keeps_its_hf_page(fixtures: Path) -> None:
    items = json.loads(api_file(fixtures, "2024-08-02"))
    items[0]["paper"]["id"] = "sam-2-" + items[0]["paper"]["id"]
    paper = hf.parse_api(json.dumps(items).encode()).papers[0]
    assert paper.id == "sam-2-2408.00714"
    assert paper.abs_url == "https://huggingface.co/papers/sam-2-2408.00714"


# --- bad API bodies --------------------------------------------------------------------------


def test_api_corrupt_file_is_refused(fixtures: Path) -> None:
    data = (fixtures / API / "CORRUPT-not-api_2024-12-11.json").read_bytes()
    assert not hf.sniff_api(data)
    with pytest.raises(ParseError, match=r"^Hugging Face API: .*not a Daily Papers response"):
        hf.parse_api(data)


def test_api_error_body_is_quoted(fixtures: Path) -> None:
    data = (fixtures / API / "api-error-body_deep-diver_papers.json").read_bytes()
    assert hf.sniff_api(data)
    with pytest.raises(ParseError) as caught:
        hf.parse_api(data)
    assert "Sorry, we can't find the page you are looking for." in str(caught.value)
    assert str(caught.value).startswith("Hugging Face API: ")
    assert caught.value.exit_code == ExitCode.PARSE


def test_api_other_json_shapes_are_refused(fixtures: Path) -> None:
    items = json.loads(api_file(fixtures, "2024-08-02"))
    one_item = json.dumps(items[0]).encode()  # an object, not a list
    assert not hf.sniff_api(one_item)
    with pytest.raises(ParseError, match=r"not a Daily Papers response.*JSON object"):
        hf.parse_api(one_item)
    del items[3]["paper"]
    with pytest.raises(ParseError, match="item 4 is an object without a 'paper'"):
        hf.parse_api(json.dumps(items).encode())


def test_api_cut_short_is_refused(fixtures: Path) -> None:
    data = api_file(fixtures, "2024-08-02")
    with pytest.raises(ParseError, match="not JSON"):
        hf.parse_api(data[: len(data) // 2])


def test_api_item_without_title_is_refused(fixtures: Path) -> None:
    items = json.loads(api_file(fixtures, "2024-05-27"))
    del items[1]["title"]
    del items[1]["paper"]["title"]
    with pytest.raises(ParseError, match="item 2 has no paper id or title"):
        hf.parse_api(json.dumps(items).encode())


def test_api_empty_day(fixtures: Path) -> None:
    empty = json.dumps(json.loads(api_file(fixtures, "2024-05-27"))[:0]).encode()
    assert hf.sniff_api(empty)
    page = hf.parse_api(empty, url=hf.api_url(BASE, date="2024-05-26"))
    assert page.papers == []
    assert page.date == "2024-05-26"


# --- the HTML page ---------------------------------------------------------------------------


def test_page(fixtures: Path) -> None:
    data = (fixtures / PAGE).read_bytes()
    assert hf.sniff_page(data)
    assert not hf.sniff_api(data)
    page = hf.parse_page(data, url=hf.page_url(BASE, "2024-08-01"))
    assert page.kind == "hf-page"
    assert len(page.papers) == 13
    assert page.date == "2024-08-01"
    assert page.title == "Hugging Face Daily Papers, 2024-08-01"
    ids = [paper.id for paper in page.papers]
    assert ids[:3] == ["2407.21783", "2407.21705", "2407.21770"]
    assert ids[-1] == "2404.01300"
    tora = page.papers[1]
    assert tora.title == "Tora: Trajectory-oriented Diffusion Transformer for Video Generation"
    assert tora.authors == [
        "Zhenghao Zhang",
        "Junchao Liao",
        "Menghao Li",
        "Long Qin",
        "Weizhi Wang",
    ]
    assert (tora.upvotes, tora.num_comments, tora.published) == (24, 2, "2024-07-31")
    assert tora.abstract.startswith("Recent advancements in Diffusion Transformer (DiT) have demo")
    llama = page.papers[0]
    assert llama.title == "The Llama 3 Herd of Models"
    assert llama.authors[:2] == ["Abhimanyu Dubey", "Abhinav Jauhri"]
    # Names with accents come through the HTML escaping intact.
    assert "Onur Çelebi" in llama.authors


def test_page_element_found_by_structure(fixtures: Path) -> None:
    """Attribute order, quoting and a raw '>' inside the props do not hide the element."""
    text = (fixtures / PAGE).read_text(encoding="utf-8")
    tag = re.search(r'<div class="([^"]*)" data-target="DailyPapers" data-props="([^"]*)">', text)
    assert tag is not None
    props = tag[2].replace(
        "&quot;The Llama 3 Herd of Models&quot;", "&quot;The Llama 3 Herd of Models -> 405B&quot;"
    )
    moved = f'<DIV data-props="{props}"\n class="{tag[1]}" data-target=\'DailyPapers\'>'
    page = hf.parse_page((text[: tag.start()] + moved + text[tag.end() :]).encode())
    original = hf.parse_page(text.encode())
    assert len(page.papers) == 13
    assert page.papers[0].title == "The Llama 3 Herd of Models -> 405B"
    assert page.papers[1:] == original.papers[1:]


def test_page_without_the_data_is_refused(fixtures: Path) -> None:
    data = (fixtures / PAGE).read_bytes().replace(b'data-target="DailyPapers"', b'data-target="X"')
    assert not hf.sniff_page(data)
    with pytest.raises(ParseError, match=r"^Hugging Face page: no Daily Papers data"):
        hf.parse_page(data)


def test_page_cut_short_is_refused(fixtures: Path) -> None:
    data = (fixtures / PAGE).read_bytes()
    cut = data[: data.index(b'data-target="DailyPapers"') + 20_000]
    assert not hf.sniff_page(cut)
    with pytest.raises(ParseError, match="Hugging Face page"):
        hf.parse_page(cut)


def test_page_and_api_items_read_alike(fixtures: Path) -> None:
    """The page's items are API items: the same parser reads both."""
    page = hf.parse_page((fixtures / PAGE).read_bytes())
    text = (fixtures / PAGE).read_text(encoding="utf-8")
    props = hf._daily_papers_props(text)
    api_body = json.dumps(props["dailyPapers"]).encode()
    assert hf.parse_api(api_body).papers == page.papers


# --- URLs ------------------------------------------------------------------------------------


def test_api_url() -> None:
    assert hf.api_url(BASE, date="2024-08-02") == (
        "https://huggingface.co/api/daily_papers?date=2024-08-02&p=0&limit=50"
    )
    assert hf.api_url(BASE + "/", week="2024-W31", page=2, limit=10) == (
        "https://huggingface.co/api/daily_papers?week=2024-W31&p=2&limit=10"
    )
    assert hf.api_url(BASE, month="2024-08") == (
        "https://huggingface.co/api/daily_papers?month=2024-08&p=0&limit=50"
    )
    assert hf.api_url(BASE) == "https://huggingface.co/api/daily_papers?p=0&limit=50"
    assert hf.api_url(BASE, week="2020-W53").endswith("week=2020-W53&p=0&limit=50")


@pytest.mark.parametrize(
    "when",
    [
        {"date": "2024-8-2"},
        {"date": "2024-02-30"},
        {"date": "02/08/2024"},
        {"week": "2024-31"},
        {"week": "2021-W53"},  # 2021 has 52 ISO weeks
        {"week": "2024-W00"},
        {"month": "2024-13"},
        {"month": "2024-8"},
        {"date": "2024-08-02", "week": "2024-W31"},
        {"limit": 0},
        {"limit": 101},
        {"page": -1},
    ],
)
def test_api_url_refuses_bad_values(when: dict) -> None:
    with pytest.raises(UsageError) as caught:
        hf.api_url(BASE, **when)
    assert str(caught.value).startswith("Hugging Face: ")
    assert caught.value.exit_code == ExitCode.USAGE


def test_page_url() -> None:
    assert hf.page_url(BASE) == "https://huggingface.co/papers"
    assert hf.page_url(BASE + "/", "2024-08-01") == "https://huggingface.co/papers/date/2024-08-01"
    with pytest.raises(UsageError):
        hf.page_url(BASE, "yesterday")


# --- paging ----------------------------------------------------------------------------------


class PagedServer:
    """Serves a real API day the way the API pages it (`p`, `limit`), recording each request."""

    def __init__(self, items: list, *, ignore_p: bool = False, overlap: int = 0) -> None:
        self.items = items
        self.ignore_p = ignore_p
        self.overlap = overlap
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        query = parse_qs(urlsplit(url).query)
        number = 0 if self.ignore_p else int(query["p"][0])
        limit = int(query["limit"][0])
        start = max(0, number * limit - self.overlap)
        return json.dumps(self.items[start : start + limit]).encode()


@pytest.fixture
def day_items(fixtures: Path) -> list:
    return json.loads(api_file(fixtures, "2024-08-02"))


def ids_of(items: list) -> list[str]:
    return [item["paper"]["id"] for item in items]


@pytest.mark.parametrize("pages", [1, 2, 3, 4])
def test_iter_pages_walks_every_page(day_items: list, pages: int) -> None:
    limit = -(-len(day_items) // pages)  # so the day takes `pages` pages
    server = PagedServer(day_items)
    walked = list(hf.iter_pages(server, BASE, date="2024-08-02", limit=limit))
    ids = [paper.id for page in walked for paper in page.papers]
    assert ids == ids_of(day_items)
    # One more request when the last page is exactly full, to learn that nothing follows.
    full_last = len(day_items) % limit == 0
    assert len(server.urls) == pages + full_last
    assert [page.start for page in walked] == [n * limit for n in range(len(walked))]
    assert all(page.date == "2024-08-02" for page in walked)
    assert server.urls[0] == hf.api_url(BASE, date="2024-08-02", limit=limit)


def test_iter_pages_drops_papers_seen_on_an_earlier_page(day_items: list) -> None:
    # New papers arriving while paging shift items onto the next page.
    server = PagedServer(day_items, overlap=2)
    walked = list(hf.iter_pages(server, BASE, date="2024-08-02", limit=5))
    ids = [paper.id for page in walked for paper in page.papers]
    assert ids == ids_of(day_items)


def test_iter_pages_stops_when_the_server_ignores_paging(day_items: list) -> None:
    server = PagedServer(day_items, ignore_p=True)
    walked = list(hf.iter_pages(server, BASE, week="2024-W31", limit=5))
    assert [paper.id for page in walked for paper in page.papers] == ids_of(day_items)[:5]
    assert len(server.urls) == 2


def test_iter_pages_refuses_bad_dates_before_any_request(day_items: list) -> None:
    server = PagedServer(day_items)
    with pytest.raises(UsageError):
        list(hf.iter_pages(server, BASE, date="2024-08-32"))
    assert server.urls == []


# --- any input: a Page or a ParseError, never another exception ------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["paper", "id", "title", "summary", "authors", "name", "error", "x"]),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_page_or_a_parse_error(data: bytes) -> None:
    check_page(hf.parse_api, data)
    check_page(hf.parse_page, data)
    hf.sniff_api(data)
    hf.sniff_page(data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES)
def test_any_json_gives_a_page_or_a_parse_error(value: object) -> None:
    check_page(hf.parse_api, json.dumps(value).encode())
    check_page(hf.parse_api, json.dumps([value]).encode())
    check_page(hf.parse_api, json.dumps([{"paper": value}]).encode())
    props = json.dumps({"dailyPapers": [value]}).replace("&", "&amp;").replace('"', "&quot;")
    page = f'<div data-target="DailyPapers" data-props="{props}"></div>'.encode()
    check_page(hf.parse_page, page)
