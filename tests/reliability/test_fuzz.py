"""Property tests of every parser on mutated real pages: whatever the bytes, a parser returns a
Page whose papers each have an id and a title, or raises its own ParseError; never anything else.

The seeds are the real saved pages (small ones, or real excerpts of big ones); the mutations are
what networks, proxies and disks do to a page: cut it, drop a slice, overwrite or insert bytes,
repeat a slice, or splice two pages together. Examples are derandomised so CI is repeatable;
PAPERCLI_FUZZ_EXAMPLES=5000 explores further (and at random) on a developer machine.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
from collections.abc import Callable
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papercli.models import Page
from papercli.sources import arxiv_api, arxiv_listing, arxiv_rss, detect, files, hf
from tests.conftest import EXAMPLES, FIXTURES
from tests.parse_checks import check_page
from tests.reliability.support import BROWSE, HF_CORRUPT, HF_ERROR, HF_PAGE, RSS, RSS_DIR

TRUNCATED_2018 = "cs_new_2018-07-20_TRUNCATED_extracted-from-ravoro-arxiv-helper-urls.py.html"
# Set, it also makes the examples random: each run then explores new inputs.
EXPLORE = os.environ.get("PAPERCLI_FUZZ_EXAMPLES")
EXAMPLES_PER_PARSER = int(EXPLORE or 60)
FUZZ = settings(
    max_examples=EXAMPLES_PER_PARSER,
    deadline=None,
    derandomize=not EXPLORE,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _rss_excerpt(items: int = 3) -> bytes:
    """The real feed's head and first `items` items, closed again."""
    feed = RSS.read_bytes()
    end = feed.index(b"</item>")
    for _ in range(items - 1):
        end = feed.index(b"</item>", end + 1)
    return feed[: end + len(b"</item>")] + b"\n  </channel>\n</rss>\n"


def _hf_excerpt(name: str, items: int = 3) -> bytes:
    body = json.loads((FIXTURES / "hf-daily" / "api" / name).read_bytes())
    return json.dumps(body[:items], indent=2).encode()


def _jsonl_excerpt(lines: int = 4) -> bytes:
    with gzip.open(FIXTURES / "abstracts" / "cs-daily-sample-9940.jsonl.gz", "rb") as stream:
        return b"".join(itertools.islice(stream, lines))


@cache
def seeds(kind: str) -> tuple[bytes, ...]:
    """Real pages (or real excerpts) of each kind, read once."""
    api_2016 = sorted((FIXTURES / "arxiv-api" / "2016").glob("*.xml"))
    api_2026 = sorted((FIXTURES / "arxiv-api" / "2026").glob("id_*.body.xml"))
    table: dict[str, list[bytes]] = {
        "listing": [
            (BROWSE / "math.AG_new.html").read_bytes(),
            (BROWSE / "q-fin.CP_new.html").read_bytes(),
            (BROWSE / "astro-ph_new_skip100_show25.html").read_bytes(),
            (FIXTURES / "arxiv-list" / TRUNCATED_2018).read_bytes()[:40_000],
        ],
        "rss": [
            _rss_excerpt(),
            (RSS_DIR / "empty_rss_mock_feed.xml").read_bytes(),
            (RSS_DIR / "error_rss_mock_feed.xml").read_bytes(),
            *(p.read_bytes() for p in sorted((FIXTURES / "arxiv-rss").glob("physbiblio*/*.xml"))),
        ],
        "api": [p.read_bytes() for p in api_2016[:3] + api_2026],
        "hf-api": [
            _hf_excerpt("daily_papers_date-2024-05-27.json"),
            _hf_excerpt("daily_papers_date-2026-08-21.json"),
            HF_ERROR.read_bytes(),
            HF_CORRUPT.read_bytes()[:6000],
        ],
        "hf-page": [HF_PAGE.read_bytes()],
        "jsonl": [_jsonl_excerpt()],
        "text": [(EXAMPLES / "hf-daily-papers-jul-31.txt").read_bytes()[:8000]],
        # Saved pages may be gzipped; parse_any unpacks them first.
        "gzip": [
            gzip.compress((BROWSE / "math.AG_new.html").read_bytes(), mtime=0),
            gzip.compress(_jsonl_excerpt(), mtime=0),
        ],
    }
    return tuple(table[kind])


def all_seeds() -> tuple[bytes, ...]:
    kinds = ("listing", "rss", "api", "hf-api", "hf-page", "jsonl", "text", "gzip")
    return tuple(itertools.chain.from_iterable(seeds(kind) for kind in kinds))


@st.composite
def mutated(draw, kind: str | None) -> bytes:
    """A real page of `kind` (any kind when None) with one to three mutations."""
    pool = seeds(kind) if kind else all_seeds()
    data = draw(st.sampled_from(pool))
    for _ in range(draw(st.integers(1, 3))):
        size = len(data)
        at = draw(st.integers(0, size))
        end = draw(st.integers(at, min(size, at + 4096)))
        how = draw(st.sampled_from(["cut", "drop", "overwrite", "insert", "repeat", "splice"]))
        if how == "cut":
            data = data[:at]
        elif how == "drop":
            data = data[:at] + data[end:]
        elif how == "overwrite":
            noise = draw(st.binary(min_size=1, max_size=max(1, end - at)))
            data = data[:at] + noise + data[at + len(noise) :]
        elif how == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
        elif how == "repeat":
            data = data[:end] + data[at:end] + data[end:]
        else:
            other = draw(st.sampled_from(all_seeds()))
            data = data[:at] + other[draw(st.integers(0, len(other))) :]
    return data


PARSERS: dict[str, tuple[str, Callable[..., Page]]] = {
    "arxiv_listing.parse": ("listing", arxiv_listing.parse),
    "arxiv_rss.parse": ("rss", arxiv_rss.parse),
    "arxiv_api.parse": ("api", arxiv_api.parse),
    "hf.parse_api": ("hf-api", hf.parse_api),
    "hf.parse_page": ("hf-page", hf.parse_page),
    "files.parse_jsonl": ("jsonl", files.parse_jsonl),
    "files.parse_text": ("text", files.parse_text),
}


@pytest.mark.parametrize("name", list(PARSERS))
def test_each_parser_on_its_own_pages_mutated(name):
    kind, parse = PARSERS[name]

    @FUZZ
    @given(mutated(kind))
    def run(data: bytes) -> None:
        check_page(parse, data)

    run()


@pytest.mark.parametrize("name", list(PARSERS))
def test_each_parser_on_any_page_mutated(name):
    """A parser handed another source's page (a misrouted URL) fails with its own error."""
    _, parse = PARSERS[name]

    @FUZZ
    @given(mutated(None))
    def run(data: bytes) -> None:
        check_page(parse, data)

    run()


@FUZZ
@given(st.one_of(mutated(None), st.binary(max_size=2048)))
def test_parse_any_reads_or_refuses_anything(data):
    check_page(lambda body: detect.parse_any(body, name="fuzz"), data)


@FUZZ
@given(st.one_of(mutated(None), st.binary(max_size=2048)))
def test_sniffers_answer_yes_or_no(data):
    sniffers = [arxiv_listing.sniff, arxiv_rss.sniff, arxiv_api.sniff, hf.sniff_api,
                hf.sniff_page, files.sniff_jsonl, files.sniff_text]  # fmt: skip
    for sniff in sniffers:
        assert sniff(data) in (True, False)
