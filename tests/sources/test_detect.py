"""parse_any and iter_file_papers: every kind of saved page recognised by content, not by name."""

from __future__ import annotations

import contextlib
import gzip
import re
import shutil
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papercli.errors import ExitCode, ParseError, UsageError
from papercli.sources import detect, files, hf

SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seed" / "hf-daily-papers-jul-31.txt"
ABSTRACTS = "abstracts/cs-daily-sample-9940.jsonl.gz"
UNREADABLE = (
    "not a page papercli can read (expected an arXiv listing, RSS or API response, a Hugging "
    "Face Daily Papers page or API response, JSON lines or a text page)"
)

# (path under ../shared/fixtures, kind, papers): counts as the fixtures README states them.
KINDS = [
    ("arxiv-api/2026/q_testing_s0_m100_cfe7536492ca.body.xml", "arxiv-api", 100),
    ("arxiv-api/2026/id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.body.xml", "arxiv-api", 1),
    ("arxiv-api/2026/id_0000.0000_s0_m100_8b51d9633a68.body.xml", "arxiv-api", 0),
    ("arxiv-api/2016/id_list_1111.2011v2.xml", "arxiv-api", 1),
    ("arxiv-rss/jmmeus-aioarxiv-2024-11-28/rss_mock_feed.xml", "arxiv-rss", 1504),
    ("arxiv-rss/jmmeus-aioarxiv-2024-11-28/empty_rss_mock_feed.xml", "arxiv-rss", 0),
    (
        "arxiv-rss/physbiblio-rdf-excerpts/hep-ex_rdf_2018-05-23_trimmed_from_test_webimport_py.xml",
        "arxiv-rss",
        3,
    ),
    ("arxiv-list/astro-ph.CO_recent_show1000_fetched-2024-03-15_dc5e82f.html", "arxiv-listing", 76),
    (
        "arxiv-list/astro-ph.CO_recent_show1000_fetched-2026-07-24_c2fe83b.html",
        "arxiv-listing",
        111,
    ),
    ("arxiv-list/astro-ph_pastweek_show1000_2024-11-22_browser-saved.html", "arxiv-listing", 397),
    (
        "arxiv-list/cs_new_2018-07-20_TRUNCATED_extracted-from-ravoro-arxiv-helper-urls.py.html",
        "arxiv-listing",
        87,
    ),
    ("arxiv-list/rendered-by-arxiv-browse/astro-ph_new.html", "arxiv-listing", 97),
    ("arxiv-list/rendered-by-arxiv-browse/q-fin_new.html", "arxiv-listing", 16),
    ("arxiv-list/rendered-by-arxiv-browse/astro-ph_new_skip100_show25.html", "arxiv-listing", 0),
    ("arxiv-list/rendered-by-arxiv-browse/db_listing/hep-ph_new.html", "arxiv-listing", 0),
    ("hf-daily/api/daily_papers_date-2024-05-27.json", "hf-api", 13),
    ("hf-daily/api/daily_papers_date-2024-08-02.json", "hf-api", 16),
    ("hf-daily/api/daily_papers_date-2025-06-25.json", "hf-api", 14),
    ("hf-daily/api/daily_papers_date-2026-08-21.json", "hf-api", 17),
    ("hf-daily/html/papers_date-2024-08-01_slbqc.html", "hf-page", 13),
    (ABSTRACTS, "jsonl", 9940),
    (str(SEED), "text", 67),
]
# A name that says the wrong thing about each kind.
WRONG_NAME = {
    "arxiv-api": "listing.html",
    "arxiv-rss": "papers.jsonl",
    "arxiv-listing": "feed.xml",
    "hf-api": "page.html",
    "hf-page": "daily.json",
    "jsonl": "notes.txt",
    "text": "export.jsonl",
}


def read(fixtures: Path, path: str) -> bytes:
    return (fixtures / path).read_bytes()


@pytest.mark.parametrize(("path", "kind", "count"), KINDS, ids=[k[0].split("/")[-1] for k in KINDS])
def test_every_kind_is_recognised(fixtures: Path, path: str, kind: str, count: int) -> None:
    page = detect.parse_any(read(fixtures, path), name=Path(path).name)
    assert page.kind == kind
    assert len(page.papers) == count
    assert all(paper.id and paper.title for paper in page.papers)


@pytest.mark.parametrize(("path", "kind", "count"), KINDS, ids=[k[0].split("/")[-1] for k in KINDS])
def test_renamed_copies_read_the_same(
    fixtures: Path, tmp_path: Path, path: str, kind: str, count: int
) -> None:
    data = read(fixtures, path)
    if data.startswith(detect.GZIP_MAGIC):
        data = gzip.decompress(data)
    copy = tmp_path / WRONG_NAME[kind]
    copy.write_bytes(data)
    page = detect.parse_any(copy.read_bytes(), name=str(copy))
    assert (page.kind, len(page.papers)) == (kind, count)
    assert [paper.id for paper in detect.iter_file_papers(copy)] == [p.id for p in page.papers]


@pytest.mark.parametrize(
    "path",
    [
        "hf-daily/api/daily_papers_date-2026-08-21.json",
        "hf-daily/html/papers_date-2024-08-01_slbqc.html",
        "arxiv-rss/jmmeus-aioarxiv-2024-11-28/rss_mock_feed.xml",
        str(SEED),
    ],
)
def test_gzipped_copies_are_unpacked(fixtures: Path, tmp_path: Path, path: str) -> None:
    data = read(fixtures, path)
    plain = detect.parse_any(data)
    packed = detect.parse_any(gzip.compress(data), name="download")
    assert (packed.kind, packed.papers) == (plain.kind, plain.papers)
    copy = tmp_path / "download.bin"
    copy.write_bytes(gzip.compress(data))
    assert list(detect.iter_file_papers(copy)) == plain.papers


def test_gzip_of_several_members(seed_bytes: bytes) -> None:
    half = len(seed_bytes) // 2
    packed = gzip.compress(seed_bytes[:half]) + gzip.compress(seed_bytes[half:])
    assert detect.parse_any(packed).papers == files.parse_text(seed_bytes).papers


def test_damaged_gzip(fixtures: Path, tmp_path: Path) -> None:
    data = read(fixtures, ABSTRACTS)
    cut = data[: len(data) // 2]
    with pytest.raises(ParseError, match=r"^abstracts\.gz: damaged gzip data"):
        detect.parse_any(cut, name="abstracts.gz")
    copy = tmp_path / "abstracts.jsonl.gz"
    copy.write_bytes(cut)
    papers = detect.iter_file_papers(copy)
    with pytest.raises(ParseError, match="damaged gzip data"):
        for _ in papers:
            pass


@pytest.fixture
def seed_bytes() -> bytes:
    return SEED.read_bytes()


# --- what is not a page ----------------------------------------------------------------------


def test_corrupt_api_file_is_not_a_page(fixtures: Path) -> None:
    with pytest.raises(ParseError) as caught:
        detect.parse_any(read(fixtures, "hf-daily/api/CORRUPT-not-api_2024-12-11.json"), name="c")
    assert str(caught.value) == f"c: {UNREADABLE}"
    assert caught.value.exit_code == ExitCode.PARSE


def test_api_error_body_says_what_the_server_said(fixtures: Path) -> None:
    with pytest.raises(ParseError, match="Sorry, we can't find the page"):
        detect.parse_any(read(fixtures, "hf-daily/api/api-error-body_deep-diver_papers.json"))


def test_binary_is_not_a_page() -> None:
    with pytest.raises(ParseError) as caught:
        detect.parse_any(b"\x00\x01\x02", name="upload")
    assert str(caught.value) == f"upload: {UNREADABLE}"
    with pytest.raises(ParseError) as caught:
        detect.parse_any(b"\x00\x01\x02", url="https://example.org/x")
    assert str(caught.value) == f"https://example.org/x: {UNREADABLE}"


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", gzip.compress(b"")])
def test_an_empty_file_or_page_is_called_empty(data: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        detect.parse_any(data, name="upload")
    assert caught.value.message == "upload: the file is empty"
    with pytest.raises(ParseError) as caught:
        detect.parse_any(data, url="https://example.org/x")
    assert caught.value.message == "https://example.org/x: the server sent an empty page"


def test_every_fixture_file_gives_a_page_or_a_parse_error(fixtures: Path) -> None:
    """Including the README and the API recordings: nothing else escapes."""
    seen = 0
    for path in sorted(fixtures.rglob("*")):
        if path.is_file():
            seen += 1
            with contextlib.suppress(ParseError):
                detect.parse_any(path.read_bytes(), name=path.name)
    assert seen >= 60


def test_my_sniffers_leave_arxiv_pages_alone(fixtures: Path) -> None:
    arxiv = [path for path, kind, _ in KINDS if kind.startswith("arxiv")]
    for path in arxiv:
        data = read(fixtures, path)
        claims = [
            hf.sniff_page(data),
            hf.sniff_api(data),
            files.sniff_jsonl(data),
            files.sniff_text(data),
        ]
        assert claims == [False] * 4, path


def test_order_is_the_documented_one() -> None:
    from papercli.sources import registry

    modules = [parse.__module__.rsplit(".", 1)[1] for _, parse in registry.sniffers()]
    assert modules == ["arxiv_api", "arxiv_rss", "arxiv_listing", "hf", "hf", "files", "files"]
    names = [parse.__name__ for _, parse in registry.sniffers()]
    assert names[3:] == ["parse_page", "parse_api", "parse_jsonl", "parse_text"]
    assert detect.__doc__ is not None
    positions = [detect.__doc__.index(f"`{name}`") for name in ("arxiv_api", "arxiv_rss")]
    assert positions == sorted(positions)


# --- iter_file_papers: big files stream ------------------------------------------------------


def test_iter_file_papers_reads_the_abstracts(fixtures: Path) -> None:
    papers = detect.iter_file_papers(fixtures / ABSTRACTS)
    first = next(papers)
    assert first.id == "2503.11731"
    assert first.categories == ["cs.CV", "cs.RO"]
    assert 1 + sum(1 for _ in papers) == 9940


def test_iter_file_papers_streams(fixtures: Path, tmp_path: Path) -> None:
    """The file never sits in memory whole: the peak stays far below its unpacked size."""
    copy = tmp_path / "abstracts.jsonl.gz"
    shutil.copyfile(fixtures / ABSTRACTS, copy)
    unpacked = len(gzip.decompress(copy.read_bytes()))
    tracemalloc.start()
    try:
        count = sum(1 for _ in detect.iter_file_papers(copy))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 9940
    assert peak < unpacked / 10, (peak, unpacked)


def test_iter_file_papers_names_the_file_and_line(fixtures: Path, tmp_path: Path) -> None:
    with gzip.open(fixtures / ABSTRACTS, "rb") as stream:
        lines = [stream.readline() for _ in range(6)]
    lines[4] = lines[4][:100] + b"\n"
    bad = tmp_path / "export.jsonl"
    bad.write_bytes(b"".join(lines))
    papers = detect.iter_file_papers(bad)
    ids = [next(papers).id for _ in range(4)]
    assert ids[:2] == ["2503.11731", "2503.11742"]
    with pytest.raises(ParseError, match=rf"^{re.escape(str(bad))}: JSON lines, line 5: not JSON"):
        next(papers)


def test_iter_file_papers_counts_lines_after_leading_blanks(fixtures: Path, tmp_path: Path) -> None:
    with gzip.open(fixtures / ABSTRACTS, "rb") as stream:
        lines = [stream.readline() for _ in range(3)]
    lines[2] = lines[2][:100] + b"\n"
    bad = tmp_path / "export.jsonl"
    bad.write_bytes(b"\n  \n" + b"".join(lines))
    papers = detect.iter_file_papers(bad)
    assert next(papers).id == "2503.11731"
    with pytest.raises(ParseError, match=r"JSON lines, line 5: not JSON"):
        list(papers)


def test_iter_file_papers_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"cannot read .*missing\.jsonl"):
        list(detect.iter_file_papers(tmp_path / "missing.jsonl"))


# --- any input: a Page or a ParseError, never another exception ------------------------------


def check_page_or_parse_error(data: bytes) -> None:
    try:
        page = detect.parse_any(data, name="fuzz")
    except ParseError:
        return
    assert all(paper.id and paper.title for paper in page.papers)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_any_bytes_give_a_page_or_a_parse_error(data: bytes) -> None:
    check_page_or_parse_error(data)
    check_page_or_parse_error(gzip.compress(data))
    check_page_or_parse_error(detect.GZIP_MAGIC + data)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_cut_of_a_real_page_gives_a_page_or_a_parse_error(data: st.DataObject) -> None:
    from tests.conftest import FIXTURES

    path, _, _ = data.draw(st.sampled_from([k for k in KINDS if k[2] < 1000]))
    body = (FIXTURES / path).read_bytes()
    end = data.draw(st.integers(0, len(body)))
    check_page_or_parse_error(body[:end])
