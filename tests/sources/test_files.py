"""JSON lines in every shape papercli reads, and the plain text of a Daily Papers page."""

from __future__ import annotations

import gzip
import itertools
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papercli.errors import ExitCode, ParseError
from papercli.models import Paper, local_id
from papercli.sources import files, hf
from tests.parse_checks import check_page

ABSTRACTS = "abstracts/cs-daily-sample-9940.jsonl.gz"
SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seed" / "hf-daily-papers-jul-31.txt"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hf-daily-papers-jul-31.txt"


@pytest.fixture(scope="module")
def abstract_lines() -> list[bytes]:
    from tests.conftest import FIXTURES

    with gzip.open(FIXTURES / ABSTRACTS, "rb") as stream:
        return stream.readlines()


@pytest.fixture
def seed() -> bytes:
    return SEED.read_bytes()


# --- JSON lines: the daily-digest dump --------------------------------------------------------


def test_abstracts_fixture(abstract_lines: list[bytes]) -> None:
    assert files.sniff_jsonl(b"".join(abstract_lines[:3]))
    papers = list(files.iter_jsonl(abstract_lines))
    assert len(papers) == 9940
    assert len({paper.id for paper in papers}) == 7970
    first = papers[0]
    assert first.id == "2503.11731"
    assert first.title == (
        "Industrial-Grade Sensor Simulation via Gaussian Splatting: A Modular Framework for "
        "Scalable Editing and Full-Stack Validation"
    )
    assert first.authors[:3] == ["Xianming Zeng", "Sicong Du", "Qifeng Chen"]
    assert len(first.authors) == 16
    assert first.categories == ["cs.CV", "cs.RO"]
    assert first.primary_category == "cs.CV"
    assert first.comments is None
    assert first.abstract.startswith(
        "Sensor simulation is pivotal for scalable validation of autonomous driving systems, yet"
    )
    assert "\n" not in first.abstract
    assert first.url is None and first.abs_url == "https://arxiv.org/abs/2503.11731"
    second = papers[1]
    assert second.title == "Safe Vision-Language Models via Unsafe Weights Manipulation"
    assert second.authors[0] == "Moreno D'Incà"
    assert second.comments == "Work in progress"
    assert all(paper.title and paper.abstract and paper.categories for paper in papers)


def test_parse_jsonl_reads_a_whole_body(abstract_lines: list[bytes]) -> None:
    body = b"".join(abstract_lines[:50])
    assert files.sniff_jsonl(body)
    page = files.parse_jsonl(body)
    assert page.kind == "jsonl"
    assert len(page.papers) == 50
    assert page.papers[0].id == "2503.11731"


def test_iter_jsonl_streams(abstract_lines: list[bytes]) -> None:
    """Papers come out as lines go in: taking three reads three lines, not the file."""
    pulled = 0

    def lines() -> Iterator[bytes]:
        nonlocal pulled
        for line in abstract_lines:
            pulled += 1
            yield line

    taken = list(itertools.islice(files.iter_jsonl(lines()), 3))
    assert [paper.id for paper in taken] == ["2503.11731", "2503.11742", *[taken[2].id]]
    assert pulled == 3


def test_blank_lines_are_skipped(abstract_lines: list[bytes]) -> None:
    body = b"\n".join([b"", abstract_lines[0].rstrip(), b"   ", b"", abstract_lines[1]])
    assert [paper.id for paper in files.parse_jsonl(body).papers] == ["2503.11731", "2503.11742"]


def test_bad_line_is_named(abstract_lines: list[bytes]) -> None:
    lines = abstract_lines[:5]
    lines[2] = lines[2][: len(lines[2]) // 2] + b"\n"  # cut short
    with pytest.raises(ParseError, match=r"^JSON lines, line 3: not JSON") as caught:
        files.parse_jsonl(b"".join(lines))
    assert caught.value.exit_code == ExitCode.PARSE
    # The papers before the bad line were already handed out when streaming.
    streamed = files.iter_jsonl(lines)
    assert next(streamed).id == "2503.11731"


def test_line_without_title_is_named(abstract_lines: list[bytes]) -> None:
    record = json.loads(abstract_lines[3])
    del record["title"]
    lines = [*abstract_lines[:3], json.dumps(record).encode() + b"\n", *abstract_lines[4:6]]
    with pytest.raises(ParseError, match=r"^JSON lines, line 4: no title"):
        files.parse_jsonl(b"".join(lines))


def test_line_that_is_not_an_object_is_named(abstract_lines: list[bytes]) -> None:
    record = json.loads(abstract_lines[0])
    lines = [abstract_lines[0].rstrip(), json.dumps([record]).encode()]
    with pytest.raises(ParseError, match=r"^JSON lines, line 2: not a JSON object"):
        files.parse_jsonl(b"\n".join(lines))


def test_line_with_a_field_of_the_wrong_type_is_named(abstract_lines: list[bytes]) -> None:
    record = json.loads(abstract_lines[0])
    record["title"] = ["a", "list"]
    with pytest.raises(ParseError, match=r"^JSON lines, line 1: 'title' should be a string"):
        files.parse_jsonl(json.dumps(record).encode())


# --- JSON lines: papercli's own export --------------------------------------------------------


def test_export_round_trip(fixtures: Path, abstract_lines: list[bytes], seed: bytes) -> None:
    """Every field of every source survives Paper.to_dict() -> JSON lines -> Paper."""
    papers = [
        *hf.parse_api(
            (fixtures / "hf-daily/api/daily_papers_date-2026-08-21.json").read_bytes()
        ).papers,
        *files.parse_text(seed).papers[:5],
        *files.iter_jsonl(abstract_lines[:20]),
    ]
    papers[0].sources = ["hf:2026-08-21"]
    papers[0].first_seen = "2026-08-21T08:00:00+00:00"
    papers[1].url = "https://example.org/paper.pdf"  # a URL that is not arXiv's is kept
    papers[1].version = 3
    papers[2].abstract = "First paragraph.\n\nSecond paragraph, kept as written."
    body = "".join(json.dumps(paper.to_dict()) + "\n" for paper in papers).encode()
    assert files.sniff_jsonl(body)
    assert files.parse_jsonl(body).papers == papers


def test_export_with_a_wrong_type_is_refused(abstract_lines: list[bytes]) -> None:
    paper = next(files.iter_jsonl(abstract_lines[:1]))
    record = paper.to_dict()
    record["upvotes"] = "many"
    with pytest.raises(ParseError, match=r"line 1: 'upvotes' should be a whole number or null"):
        files.parse_jsonl(json.dumps(record).encode())
    record = paper.to_dict()
    record["authors"] = "Xianming Zeng, Sicong Du"
    with pytest.raises(ParseError, match=r"line 1: 'authors' should be a list of strings"):
        files.parse_jsonl(json.dumps(record).encode())


# --- JSON lines: arXiv's metadata dump --------------------------------------------------------


def arxiv_dump_line(record: dict) -> dict:
    """A real digest record rewritten the way arXiv's metadata dump writes it."""
    authors = record["authors"]
    return {
        "id": record["id"],
        "submitter": authors[0],
        "authors": ", ".join(authors[:-1]) + " and " + authors[-1],
        "title": textwrap.fill(record["title"], 70, subsequent_indent="  "),
        "comments": "12 pages, 5 figures",
        "journal-ref": "Proc. CVPR 2025",
        "doi": "10.1109/CVPR.2025.00001",
        "report-no": None,
        "categories": " ".join(record["categories"]),
        "license": "http://creativecommons.org/licenses/by/4.0/",
        "abstract": "  " + record["summary"] + "\n",
        "versions": [
            {"version": "v1", "created": "Fri, 14 Mar 2025 17:59:58 GMT"},
            {"version": "v2", "created": "Mon, 9 Jun 2025 08:01:02 GMT"},
        ],
        "update_date": "2025-06-10",
        "authors_parsed": [[*reversed(name.rsplit(" ", 1)), ""] for name in authors],
    }


def test_arxiv_dump_line(abstract_lines: list[bytes]) -> None:
    record = json.loads(abstract_lines[0])
    dump = arxiv_dump_line(record)
    body = json.dumps(dump).encode()
    assert files.sniff_jsonl(body)
    paper = files.parse_jsonl(body).papers[0]
    assert paper.id == "2503.11731"
    assert paper.title == " ".join(record["title"].split())
    assert paper.authors == record["authors"]
    assert paper.abstract == " ".join(record["summary"].split())
    assert paper.categories == ["cs.CV", "cs.RO"]
    assert paper.primary_category == "cs.CV"
    assert (paper.version, paper.published, paper.updated) == (2, "2025-03-14", "2025-06-09")
    assert (paper.comments, paper.journal_ref) == ("12 pages, 5 figures", "Proc. CVPR 2025")
    assert paper.doi == "10.1109/CVPR.2025.00001"
    # Without the author string, authors_parsed ([last, first, suffix]) gives the same names.
    del dump["authors"]
    assert files.parse_jsonl(json.dumps(dump).encode()).papers[0].authors == record["authors"]


def test_split_authors() -> None:
    assert files.split_authors("A. Smith (MIT, CSAIL), B. Jones, and C.-P. Yuan") == [
        "A. Smith",
        "B. Jones",
        "C.-P. Yuan",
    ]
    assert files.split_authors("Moreno D'Incà and Elia\n  Peruzzo") == [
        "Moreno D'Incà",
        "Elia Peruzzo",
    ]
    assert files.split_authors("Ferdinand Alexander") == ["Ferdinand Alexander"]


def test_hf_api_items_as_lines(fixtures: Path) -> None:
    items = json.loads((fixtures / "hf-daily/api/daily_papers_date-2025-06-25.json").read_bytes())
    body = "\n".join(json.dumps(item) for item in items).encode()
    assert files.sniff_jsonl(body)
    assert files.parse_jsonl(body).papers == hf.parse_api(json.dumps(items).encode()).papers


def test_sniff_jsonl_refuses_other_json(fixtures: Path) -> None:
    api = fixtures / "hf-daily/api"
    assert not files.sniff_jsonl((api / "daily_papers_date-2024-05-27.json").read_bytes())
    assert not files.sniff_jsonl((api / "api-error-body_deep-diver_papers.json").read_bytes())
    assert not files.sniff_jsonl((api / "CORRUPT-not-api_2024-12-11.json").read_bytes())
    assert not files.sniff_jsonl(b"\n\n")


# --- plain text -------------------------------------------------------------------------------

FIRST_TITLE = (
    "SANSformers: Self-Supervised Forecasting in Electronic Health Records with Attention-Free "
    "Models"
)
LAST_TITLE = (
    "ULLME: A Unified Framework for Large Language Model Embeddings with Generation-Augmented "
    "Learning"
)


def test_seed_text(seed: bytes) -> None:
    assert EXAMPLE.read_bytes() == seed
    assert files.sniff_text(seed)
    page = files.parse_text(seed)
    assert page.kind == "text"
    assert len(page.papers) == 67
    assert page.title == "Daily Papers, Jul 31"
    assert page.date is None  # the header has no year
    first, last = page.papers[0], page.papers[-1]
    assert first.title == FIRST_TITLE
    assert last.title == LAST_TITLE
    assert page.papers[33].title == (
        "Fine-Grained Alignment and Noise Refinement for Compositional Text-to-Image Generation"
    )
    assert first.abstract.startswith(
        "Despite the proven effectiveness of Transformer neural networks across multiple domains"
    )
    assert first.abstract.endswith("across various patient demographics.")
    assert last.abstract.endswith("can also be found at https://rb.gy/ws1ile.")
    assert first.id == "title:0bee3ec89347" == local_id(FIRST_TITLE)
    assert last.id == "title:f84cd755b79d"
    assert all(paper.id == local_id(paper.title) for paper in page.papers)
    assert len({paper.id for paper in page.papers}) == 67
    assert [p.id for p in files.parse_text(seed).papers] == [p.id for p in page.papers]
    assert all(paper.abs_url is None for paper in page.papers)


def paragraphs(seed: bytes) -> list[str]:
    return seed.decode().split("\n\n")


def test_text_with_windows_line_ends(seed: bytes) -> None:
    assert files.parse_text(seed.replace(b"\n", b"\r\n")) == files.parse_text(seed)


def test_text_with_title_and_abstract_in_one_paragraph(seed: bytes) -> None:
    """A copy without the blank line between a title and its abstract reads the same."""
    parts = paragraphs(seed)
    header, body = parts[:6], parts[6:]
    pairs = ["\n".join(body[i : i + 2]) for i in range(0, len(body), 2)]
    joined = "\n\n".join(header + pairs).encode()
    assert files.parse_text(joined).papers == files.parse_text(seed).papers


def wrap(text: str) -> str:
    return textwrap.fill(text, 72, break_on_hyphens=False, break_long_words=False)


def test_text_with_wrapped_abstracts(seed: bytes) -> None:
    parts = paragraphs(seed)
    wrapped = [wrap(part) if len(part) > 300 else part for part in parts]
    text = "\n\n".join(wrapped).encode()
    assert files.parse_text(text).papers == files.parse_text(seed).papers


def test_text_abstract_of_two_paragraphs(seed: bytes) -> None:
    parts = paragraphs(seed)
    abstract = parts[7]
    middle = abstract.index(". ", len(abstract) // 2) + 1
    parts[7] = abstract[:middle] + "\n\n" + abstract[middle + 1 :]
    papers = files.parse_text("\n\n".join(parts).encode()).papers
    assert len(papers) == 67
    assert papers[0].abstract == abstract[:middle] + "\n\n" + abstract[middle + 1 :]


def test_text_furniture_around_the_papers_is_skipped(seed: bytes) -> None:
    """A long blurb before the first title, and page buttons after the last abstract."""
    parts = paragraphs(seed)
    blurb = parts[7]  # an abstract-length paragraph, but no title before it
    text = "\n\n".join([blurb, *parts, *parts[:6]]).encode()
    page = files.parse_text(text)
    assert page.papers == files.parse_text(seed).papers
    assert page.title == "Daily Papers, Jul 31"


def test_text_header_with_a_year(seed: bytes) -> None:
    page = files.parse_text(seed.replace(b"\n\nJul 31\n\n", b"\n\nJul 31, 2024\n\n", 1))
    assert page.date == "2024-07-31"
    assert page.title == "Daily Papers, Jul 31, 2024"
    assert len(page.papers) == 67


def test_text_without_header(seed: bytes) -> None:
    body = "\n\n".join(paragraphs(seed)[6:]).encode()
    page = files.parse_text(body)
    assert len(page.papers) == 67
    assert (page.title, page.date) == (None, None)


def test_text_title_with_an_arxiv_id(seed: bytes) -> None:
    text = seed.replace(FIRST_TITLE.encode(), b"[2312.05934] " + FIRST_TITLE.encode(), 1)
    text = text.replace(LAST_TITLE.encode(), LAST_TITLE.encode() + b" (arXiv:2408.03402v2)", 1)
    papers = files.parse_text(text).papers
    assert (papers[0].id, papers[0].title, papers[0].version) == ("2312.05934", FIRST_TITLE, None)
    assert (papers[-1].id, papers[-1].title, papers[-1].version) == ("2408.03402", LAST_TITLE, 2)
    assert papers[0].abs_url == "https://arxiv.org/abs/2312.05934"


def test_text_header_only_is_not_a_page(seed: bytes) -> None:
    header = "\n\n".join(paragraphs(seed)[:6]).encode()
    assert not files.sniff_text(header)
    assert files.parse_text(header).papers == []


def test_sniff_text_refuses_markup_and_json(fixtures: Path) -> None:
    for path in [
        "hf-daily/html/papers_date-2024-08-01_slbqc.html",
        "hf-daily/api/daily_papers_date-2024-08-02.json",
        "arxiv-rss/jmmeus-aioarxiv-2024-11-28/rss_mock_feed.xml",
    ]:
        assert not files.sniff_text((fixtures / path).read_bytes()), path


# --- any input: a Page or a ParseError, never another exception ------------------------------


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_any_bytes_give_a_page_or_a_parse_error(data: bytes) -> None:
    check_page(files.parse_jsonl, data)
    check_page(files.parse_text, data)
    files.sniff_jsonl(data)
    files.sniff_text(data)


FIELD_VALUES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=30)
    | st.lists(st.text(max_size=10) | st.integers() | st.none(), max_size=3)
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries(
        {"title": st.text(max_size=20)},
        optional={
            name: FIELD_VALUES
            for name in {*Paper.__dataclass_fields__, "summary", "comment", "journal-ref"}
            | {"versions", "authors_parsed", "update_date", "abs", "paper"}
            if name != "title"
        },
    )
)
def test_any_record_gives_a_paper_or_a_parse_error(record: dict) -> None:
    check_page(files.parse_jsonl, json.dumps(record).encode())


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=400), max_size=8))
def test_any_paragraphs_give_papers_with_ids_and_titles(parts: list[str]) -> None:
    check_page(files.parse_text, "\n\n".join(parts).encode())


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(Paper.__dataclass_fields__)), FIELD_VALUES)
def test_any_export_field_gives_a_paper_or_a_parse_error(
    abstract_lines: list[bytes], name: str, value: object
) -> None:
    record = next(files.iter_jsonl(abstract_lines[:1])).to_dict()
    record[name] = value
    check_page(files.parse_jsonl, json.dumps(record).encode())


# --- whitespace: a text already folded is kept, any other is folded ----------------------------


def test_the_spaces_files_look_for_are_all_that_str_split_cuts_at():
    import sys

    spaces = {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()} - {" "}
    assert set(files._ASCII_SPACES) | set(files._OTHER_SPACES) == spaces
    assert files._ASCII_SPACES.isascii() and not any(c.isascii() for c in files._OTHER_SPACES)


_SPACES = " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2009\u3000"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(f"ab é量{_SPACES}"), max_size=20))
def test_text_is_folded_whitespace_whether_or_not_it_was_folded(text):
    assert files._text(text) == (" ".join(text.split()) or None)


def test_a_wrapped_abstract_of_the_metadata_dump_is_folded():
    record = {
        "id": "0704.0001",
        "title": "Calculation of prompt diphoton\n  production",
        "abstract": "  A fully differential calculation in\nperturbative"
        " QCD\u2009is\x1epresented.\n",
    }
    paper = files.paper_from_record(record)
    assert paper.title == "Calculation of prompt diphoton production"
    assert paper.abstract == "A fully differential calculation in perturbative QCD is presented."
