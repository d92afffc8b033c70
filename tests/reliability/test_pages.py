"""Broken pages through `papercli fetch`, end to end against a local HTTP server.

Each case serves one page derived from a real saved page where a source expects its listing, and
a good source (/list/q-fin/new) in the same run. A user must see exactly one error line that names
the source and says what to do, the documented exit code, the papers already in the store
unchanged, nothing stored from the broken page, and the good source stored in full.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from werkzeug import Request, Response

from papercli.errors import ExitCode
from tests.cli_helpers import run_cli
from tests.reliability import derive
from tests.reliability.support import (
    API_BODY,
    API_ERROR,
    ASTRO_PH,
    BROWSE,
    GOOD_COUNT,
    GOOD_SOURCE,
    HF_CORRUPT,
    HF_DAY,
    HF_ERROR,
    HF_PAGE,
    PAST_THE_END,
    RSS,
    RSS_ERROR,
    assert_logged_failure,
    assert_one_error,
    assert_store_kept,
    error_lines,
    seed_store,
    serve_good_source,
    status,
    stored,
    write_sources,
)

LISTING = "arxiv:astro-ph"
TRUNCATED_HINT = (
    "the page may be truncated: fetch it again; if this persists, the page layout may have "
    "changed: papercli may need an update"
)
NOT_A_FEED = "fetch it again; if it keeps failing, the server sent something other than a feed"
ENTITIES = (
    "the XML declares entities (<!ENTITY ...>), which papercli refuses to expand (an "
    "entity-expansion or external-entity attack); check where this file or URL came from"
)
API_URL = (
    "{base}/api/query?search_query=all%3Atesting&start=0&max_results=100"
    "&sortBy=submittedDate&sortOrder=descending"
)


@dataclass(frozen=True)
class Case:
    """A broken page: where it is served, what it is derived from, what the user must see."""

    name: str
    spec: str  # as in the config's `sources`
    source: str  # the stored source name
    path: str
    body: Callable[[], bytes]
    line: str  # the error line after "Error: ", with {base} for the server's URL
    code: int = ExitCode.PARSE
    status: int = 200
    content_type: str = "text/html; charset=utf-8"


def listing_case(name: str, body: Callable[[], bytes], line: str, **kw) -> Case:
    return Case(name, "arxiv:astro-ph", LISTING, "/list/astro-ph/new", body, line, **kw)


def hf_case(name: str, body: Callable[[], bytes], line: str, **kw) -> Case:
    kw.setdefault("content_type", "application/json")
    return Case(name, "hf:2024-08-02", "hf:2024-08-02", "/api/daily_papers", body, line, **kw)


def rss_case(name: str, body: Callable[[], bytes], line: str, **kw) -> Case:
    kw.setdefault("content_type", "application/rss+xml")
    return Case(name, "rss:cs.LG", "rss:cs.LG", "/rss/cs.LG", body, line, **kw)


def api_case(name: str, body: Callable[[], bytes], line: str, **kw) -> Case:
    kw.setdefault("content_type", "application/atom+xml")
    return Case(name, "api:all:testing", "api:all:testing", "/api/query", body, line, **kw)


def listing() -> bytes:
    return ASTRO_PH.read_bytes()


def feed() -> bytes:
    return RSS.read_bytes()


def hf_day() -> bytes:
    return HF_DAY.read_bytes()


def api_body() -> bytes:
    return API_BODY.read_bytes()


L = f"{LISTING}: arXiv listing: "
H = "hf:2024-08-02: Hugging Face API: "
R = "rss:cs.LG: arXiv RSS feed {base}/rss/cs.LG: "
A = f"api:all:testing: arXiv API ({API_URL}): "

CASES = [
    # --- arXiv listing ---------------------------------------------------------------------
    listing_case(
        "listing-empty", lambda: b"", L + "the page is empty; check the URL, or try again later"
    ),
    listing_case(
        "listing-cut-10%",
        lambda: derive.cut(listing(), 0.1),
        L + "entry [8] has no details; " + TRUNCATED_HINT,
    ),
    listing_case(
        "listing-cut-30%",
        lambda: derive.cut(listing(), 0.3),
        L + "section 'New submissions (showing 53 of 53 entries)' shows 53 entries but 24 could "
        "be read; " + TRUNCATED_HINT,
    ),
    listing_case(
        "listing-cut-50%",
        lambda: derive.cut(listing(), 0.5),
        L + "entry 2303.01299 has no title; " + TRUNCATED_HINT,
    ),
    listing_case(
        "listing-cut-90%",
        lambda: derive.cut(listing(), 0.9),
        L + "section 'Replacement submissions (showing 40 of 40 entries)' shows 40 entries but "
        "29 could be read; " + TRUNCATED_HINT,
    ),
    listing_case(
        "listing-invalid-utf8",
        lambda: derive.bad_utf8_after(listing(), b"<span class='descriptor'>Title:</span>"),
        L + "the page is not valid UTF-8 (byte 0xff at offset 5588); fetch it again; if it keeps "
        "failing, the server sent something else",
    ),
    listing_case(
        "listing-login-page",
        lambda: derive.login_page(listing()),
        L + "this is not an arXiv listing page (an error or login page?); check the category and "
        "the URL (e.g. https://arxiv.org/list/cs.LG/new)",
    ),
    listing_case(
        "listing-layout-changed",
        lambda: derive.layout_changed(listing(), 97),
        L + "the page announces 97 entries but none could be read; the page layout may have "
        "changed: papercli may need an update",
    ),
    listing_case(
        "listing-section-shows-fewer",
        lambda: derive.drop_entries(listing(), 50, 3),
        L + "section 'New submissions (showing 53 of 53 entries)' shows 53 entries but 50 could "
        "be read; " + TRUNCATED_HINT,
    ),
    listing_case(
        "listing-got-json",
        hf_day,
        L + "got JSON, not an arXiv listing page; check the URL (e.g. "
        "https://arxiv.org/list/cs.LG/new)",
    ),
    listing_case(
        "listing-got-hf-page",
        lambda: HF_PAGE.read_bytes(),
        L + "this is not an arXiv listing page (an error or login page?); check the category and "
        "the URL (e.g. https://arxiv.org/list/cs.LG/new)",
    ),
    # --- Hugging Face API ------------------------------------------------------------------
    hf_case("hf-empty", lambda: b"", H + "the response is empty; fetch it again later"),
    hf_case(
        "hf-cut",
        lambda: derive.cut(hf_day(), 0.5),
        H + "not a Daily Papers response (not JSON: Expecting ',' delimiter: line 1679 column 39 "
        "(char 70142)); check the URL, or fetch it again",
    ),
    hf_case(
        "hf-invalid-utf8",
        lambda: derive.bad_utf8_after(hf_day(), b'"title": "'),
        H + "the response is not valid UTF-8 (byte 0xff at offset 8747); fetch it again; if it "
        "keeps failing, the server sent something other than JSON",
    ),
    hf_case(
        "hf-login-page",
        lambda: derive.login_page(listing()),
        H + "got an HTML or XML page, not the API's JSON (an error or login page?); check the "
        "URL; the server may be showing an error page",
    ),
    hf_case(
        "hf-got-rss",
        feed,
        H + "got an HTML or XML page, not the API's JSON (an error or login page?); check the "
        "URL; the server may be showing an error page",
    ),
    hf_case(
        "hf-CORRUPT-file",
        lambda: HF_CORRUPT.read_bytes(),
        H + "not a Daily Papers response: item 1 is a string; check the URL, or fetch it again",
    ),
    hf_case(
        "hf-wrong-shape-object",
        lambda: derive.hf_wrapped(hf_day()),
        H + "not a Daily Papers response (a JSON object, not a list of papers); check the URL",
    ),
    hf_case(
        "hf-wrong-shape-numeric-ids",
        lambda: derive.hf_numeric_ids(hf_day()),
        H + "item 1 has no paper id or title; fetch it again",
    ),
    hf_case(
        "hf-error-body",
        lambda: HF_ERROR.read_bytes(),
        H + "the server answered with an error: \"Sorry, we can't find the page you are looking "
        'for."; check the date and the URL',
    ),
    hf_case(
        "hf-error-body-404",
        lambda: HF_ERROR.read_bytes(),
        "hf:2024-08-02: {host} answered 404 Not Found for "
        "{base}/api/daily_papers?date=2024-08-02&p=0&limit=50; check the category/date (or id) "
        "in the URL",
        code=ExitCode.NETWORK,
        status=404,
    ),
    # --- arXiv RSS -------------------------------------------------------------------------
    rss_case("rss-empty", lambda: b"", R + "the response is empty; " + NOT_A_FEED),
    rss_case(
        "rss-cut",
        lambda: derive.cut(feed(), 0.5),
        R + "the XML is malformed or cut short (Premature end of data in tag description line "
        "9859, line 9864, column 83); " + NOT_A_FEED,
    ),
    rss_case(
        "rss-invalid-utf8",
        lambda: derive.bad_utf8_after(feed(), b"<item>\n      <title>"),
        R + "the XML is malformed or cut short (Invalid bytes in character encoding, line 18, "
        "column 14); " + NOT_A_FEED,
    ),
    rss_case(
        "rss-login-page",
        lambda: derive.login_page(listing()),
        R + "got an HTML page, not XML; check the URL; the server may be showing an error page",
    ),
    rss_case(
        "rss-error-feed",
        lambda: RSS_ERROR.read_bytes(),
        "rss:cs.LG: arXiv RSS feed {base}/rss/cs.LG: Bad archive 'astroph'. Valid archive "
        "names are: astro-ph, cond-mat, cs, econ, eess, gr-qc, hep-ex, hep-lat, hep-ph, hep-th, "
        "math, math-ph, nlin, nucl-ex, nucl-th, physics, q-bio, q-fin, quant-ph, stat, test; "
        "check the category names (e.g. cs.LG+cs.AI; see https://arxiv.org/category_taxonomy)",
    ),
    rss_case(
        "rss-got-atom",
        api_body,
        R + "not an RSS feed (the document is <feed>); give an arXiv RSS URL such as "
        "https://rss.arxiv.org/rss/cs.LG",
    ),
    rss_case(
        "rss-got-json",
        hf_day,
        R + 'not XML (it starts with \'[\\n    {{\\n        "paper": {{\\n            "\'); '
        "check the URL",
    ),
    rss_case(
        "rss-billion-laughs",
        lambda: derive.with_doctype(feed(), derive.LAUGHS, title_ref=b"&lol9;"),
        R + ENTITIES,
    ),
    rss_case(
        "rss-xxe-file",
        lambda: derive.with_doctype(
            feed(),
            b'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            title_ref=b"&xxe;",
        ),
        R + ENTITIES,
    ),
    rss_case(
        "rss-xxe-parameter-entity",
        lambda: derive.with_doctype(
            feed(), b'<!DOCTYPE rss [<!ENTITY % remote SYSTEM "file:///etc/passwd"> %remote;]>'
        ),
        R + ENTITIES,
    ),
    # --- arXiv API -------------------------------------------------------------------------
    api_case("api-empty", lambda: b"", A + "the response is empty; " + NOT_A_FEED),
    api_case(
        "api-cut",
        lambda: derive.cut(api_body(), 0.5),
        A + "the XML is malformed or cut short (Premature end of data in tag summary line 1233, "
        "line 1233, column 964); " + NOT_A_FEED,
    ),
    api_case(
        "api-billion-laughs",
        lambda: derive.with_doctype(api_body(), derive.LAUGHS, title_ref=b"&lol9;"),
        A + ENTITIES,
    ),
    api_case(
        "api-xxe-file",
        lambda: derive.with_doctype(
            api_body(),
            b'<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            title_ref=b"&xxe;",
        ),
        A + ENTITIES,
    ),
    api_case(
        "api-error-entry-400",
        lambda: API_ERROR.read_bytes(),
        "api:all:testing: arXiv API: incorrect id format for abc; fix the query (see "
        "https://info.arxiv.org/help/api/user-manual.html)",
        status=400,
    ),
    api_case(
        "api-got-rss",
        feed,
        A + "not an Atom feed (the document is <rss>); give an arXiv API URL such as "
        "https://export.arxiv.org/api/query?search_query=ti:x",
    ),
    api_case(
        "api-login-page",
        lambda: derive.login_page(listing()),
        A + "got an HTML page, not XML; check the URL; the server may be showing an error page",
    ),
]


def expected_line(case: Case, server) -> str:
    base = server.url_for("").rstrip("/")
    return case.line.format(base=base, host=f"{server.host}:{server.port}")


def summary_row(err: str, source: str) -> str:
    match = re.search(rf"^{re.escape(source)} .*$", err, re.MULTILINE)
    assert match, err
    return " ".join(match.group(0).split())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_broken_page_fails_alone(case: Case, upstream, papercli_home):
    before = seed_store()
    serve_good_source(upstream)
    upstream.expect_request(case.path).respond_with_data(
        case.body(), status=case.status, content_type=case.content_type
    )
    write_sources(papercli_home, case.spec, "arxiv:q-fin")

    result = run_cli("fetch")

    line = expected_line(case, upstream)
    assert_one_error(result, case.code, line)
    assert summary_row(result.err, case.source) == f"{case.source} 0 0 0 0 failed"
    assert summary_row(result.err, GOOD_SOURCE) == f"{GOOD_SOURCE} 16 16 0 0 ok"
    assert_store_kept(before, case.source)
    assert_logged_failure(case.source, line)


def test_entity_payloads_never_reach_the_store_or_the_network(upstream, papercli_home):
    """An external DTD on the local server is refused unread: the server never sees a request
    for it, and no file content or expanded entity lands in a stored paper."""
    base = upstream.url_for("").rstrip("/")
    upstream.expect_request("/evil.dtd").respond_with_data(
        '<!ENTITY title "pwned">', content_type="application/xml-dtd"
    )
    doctype = f'<!DOCTYPE rss SYSTEM "{base}/evil.dtd">'.encode()
    upstream.expect_request("/rss/cs.LG").respond_with_data(
        derive.with_doctype(feed(), doctype, title_ref=b"&title;"),
        content_type="application/rss+xml",
    )
    result = run_cli("fetch", "rss", "cs.LG")
    assert_one_error(
        result,
        ExitCode.PARSE,
        f"rss:cs.LG: arXiv RSS feed {base}/rss/cs.LG: the XML refers to an external DTD "
        f"({base}/evil.dtd), which papercli will not load; check where this file or URL came "
        "from",
    )
    assert [request.path for request, _ in upstream.log] == ["/rss/cs.LG"]
    assert stored() == []


def test_two_failing_sources_get_a_line_each(upstream, papercli_home, monkeypatch):
    """A broken page and a dead server in one run: one error line per failed source, the exit
    code of the first failure, and the good source between them stored."""
    from tests.smtp_server import free_port

    before = seed_store()
    serve_good_source(upstream)
    upstream.expect_request("/list/astro-ph/new").respond_with_data(derive.cut(listing(), 0.5))
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("PAPERCLI_HF_URL", dead)
    monkeypatch.setenv("PAPERCLI_RETRIES", "0")
    write_sources(papercli_home, "arxiv:astro-ph", "arxiv:q-fin", "hf:2024-08-02")
    result = run_cli("fetch")
    assert result.code == ExitCode.PARSE
    assert error_lines(result.err) == [
        f"Error: {LISTING}: arXiv listing: entry 2303.01299 has no title; " + TRUNCATED_HINT,
        f"Error: hf:2024-08-02: {dead.removeprefix('http://')} refused the connection for "
        f"{dead}/api/daily_papers?date=2024-08-02&p=0&limit=50; check your connection or try "
        "again later; use --offline to read the cache",
    ]
    assert "Traceback" not in result.err
    assert_store_kept(before, LISTING)
    assert stored("--source", "hf") == []


def test_traceback_only_on_request(upstream):
    upstream.expect_request("/list/astro-ph/new").respond_with_data(derive.cut(listing(), 0.5))
    plain = run_cli("fetch", "arxiv", "astro-ph")
    traced = run_cli("--traceback", "fetch", "arxiv", "astro-ph")
    assert plain.code == traced.code == ExitCode.PARSE
    assert "Traceback" not in plain.err
    assert "Traceback (most recent call last)" in traced.err
    assert "papercli/sources/arxiv_listing.py" in traced.err
    assert error_lines(plain.err) == error_lines(traced.err)
    assert len(error_lines(traced.err)) == 1


# --- pages that are short of their announced total: the good pages read before stay ---------


def test_a_listing_announcing_more_than_it_yields(upstream, papercli_home):
    """The page says "Total of 97 entries" with sections that agree with themselves (94 shown),
    and the next page is past the end: the 94 read are stored and the fetch fails with exit 5."""
    fewer = derive.drop_entries(listing(), 50, 3, fix_heading=b"53=>50")
    asked: list[int] = []

    def handler(request: Request) -> Response:
        skip = int(request.args.get("skip", 0))
        asked.append(skip)
        body = fewer if skip == 0 else PAST_THE_END.read_bytes()
        return Response(body, content_type="text/html; charset=utf-8")

    upstream.expect_request("/list/astro-ph/new").respond_with_handler(handler)
    serve_good_source(upstream)
    write_sources(papercli_home, "arxiv:astro-ph", "arxiv:q-fin")
    result = run_cli("fetch")
    line = (
        f"{LISTING}: arXiv listing: astro-ph /new announces 97 entries but only 94 could be read; "
        "try again later (the listing may have changed while paging); the page layout may have "
        "changed: papercli may need an update"
    )
    assert_one_error(result, ExitCode.PARSE, line)
    assert asked == [0, 94]
    assert summary_row(result.err, LISTING) == f"{LISTING} 94 94 0 0 failed"
    assert len(stored("--source", LISTING)) == 94
    assert len(stored("--source", GOOD_SOURCE)) == GOOD_COUNT
    assert_logged_failure(LISTING, line)
    assert status()["by_source"][LISTING]["fetched"] == 94


def test_a_page_repeating_the_previous_one(upstream, fixtures):
    """Paging by 25 where the server answers skip=25 with the first page again: the first page
    is kept, the repeat adds nothing, and the user is told to try again later."""
    asked: list[int] = []

    def handler(request: Request) -> Response:
        asked.append(int(request.args.get("skip", 0)))
        page = fixtures / BROWSE / "astro-ph_new_skip0_show25.html"
        return Response(page.read_bytes(), content_type="text/html")

    upstream.expect_request("/list/astro-ph/new").respond_with_handler(handler)
    result = run_cli("fetch", "arxiv", "astro-ph")
    base = upstream.url_for("").rstrip("/")
    assert_one_error(
        result,
        ExitCode.PARSE,
        f"{LISTING}: arXiv listing: {base}/list/astro-ph/new?skip=25&show=2000 repeated entries "
        "already read instead of the next page; try again later; arXiv may be updating the "
        "listing",
    )
    assert asked == [0, 25]
    assert len(stored()) == 25


def test_the_real_truncated_old_layout_page(upstream, fixtures):
    """cs_new_2018-07-20_TRUNCATED: "total of 188 entries" with 87 left by its saver, served by a
    server that ignores `skip`: the 87 are kept, the shortfall is reported."""
    page = (
        fixtures
        / "arxiv-list"
        / "cs_new_2018-07-20_TRUNCATED_extracted-from-ravoro-arxiv-helper-urls.py.html"
    )
    upstream.expect_request("/list/cs/new").respond_with_data(page.read_bytes())
    result = run_cli("fetch", "arxiv", "cs")
    base = upstream.url_for("").rstrip("/")
    assert_one_error(
        result,
        ExitCode.PARSE,
        "arxiv:cs: arXiv listing: "
        f"{base}/list/cs/new?skip=87&show=2000 repeated entries already read instead of the next "
        "page; try again later; arXiv may be updating the listing",
    )
    assert len(stored()) == 87


# --- pages that are odd but fine: duplicated ids, missing abstracts ---------------------------


def test_duplicated_ids_are_stored_once(upstream, papercli_home):
    upstream.expect_request("/list/astro-ph/new").respond_with_data(
        derive.duplicate_entry(listing(), 0, heading=b"40=>41")
    )
    upstream.expect_request("/rss/cs.LG").respond_with_data(derive.rss_duplicated(feed()))
    upstream.expect_request("/api/daily_papers").respond_with_data(derive.hf_duplicated(hf_day()))
    write_sources(papercli_home, "arxiv:astro-ph", "rss:cs.LG", "hf:2024-08-02")
    result = run_cli("fetch", "--json")
    assert result.code == 0, result.err
    summary = {row["source"]: row for row in json.loads(result.out)}
    counts = {name: (r["fetched"], r["new"], r["unchanged"]) for name, r in summary.items()}
    assert counts == {
        LISTING: (98, 97, 1),
        "rss:cs.LG": (1505, 1504, 1),
        "hf:2024-08-02": (18, 16, 2),
    }
    rows = stored()
    assert len(rows) == len({row["id"] for row in rows})
    assert len(stored("--source", LISTING)) == 97
    assert len(stored("--source", "arxiv-rss")) == 1504
    assert len(stored("--source", "hf")) == 16


def test_missing_abstracts_are_not_an_error_and_never_erase_stored_ones(upstream):
    upstream.expect_ordered_request("/list/astro-ph/new").respond_with_data(listing())
    upstream.expect_ordered_request("/list/astro-ph/new").respond_with_data(
        derive.without_abstracts(listing(), 97)
    )
    assert run_cli("fetch", "arxiv", "astro-ph").code == 0
    before = stored()
    assert sum(1 for row in before if row["abstract"]) == 57  # replacements carry none here

    result = run_cli("fetch", "arxiv", "astro-ph", "--json")
    assert result.code == 0, result.err
    (summary,) = json.loads(result.out)
    assert (summary["fetched"], summary["new"], summary["unchanged"]) == (97, 0, 97)
    assert stored() == before


@pytest.mark.parametrize("source", ["hf", "rss"])
def test_missing_abstracts_on_a_first_fetch(source, upstream):
    if source == "hf":
        upstream.expect_request("/api/daily_papers").respond_with_data(
            derive.hf_without_summaries(hf_day())
        )
        result = run_cli("fetch", "hf", "--date", "2024-08-02")
        expected = 16
    else:
        upstream.expect_request("/rss/cs.LG").respond_with_data(
            derive.rss_without_abstracts(feed(), 1504)
        )
        result = run_cli("fetch", "rss", "cs.LG")
        expected = 1504
    assert result.code == 0, result.err
    rows = stored()
    assert len(rows) == expected
    assert all(row["abstract"] == "" and row["title"] and row["id"] for row in rows)


def test_a_failed_page_leaves_an_earlier_good_fetch_untouched(upstream):
    """Yesterday's good listing, today's changed layout: the stored papers and their
    first-seen times are exactly as they were, and status shows today's failure."""
    upstream.expect_ordered_request("/list/astro-ph/new").respond_with_data(listing())
    upstream.expect_ordered_request("/list/astro-ph/new").respond_with_data(
        derive.layout_changed(listing(), 97)
    )
    assert run_cli("fetch", "arxiv", "astro-ph").code == 0
    before = stored()
    result = run_cli("fetch", "arxiv", "astro-ph")
    assert result.code == ExitCode.PARSE
    assert stored() == before
    entry = status()["by_source"][LISTING]
    assert entry["ok"] is False and "layout may have changed" in entry["error"]


def test_a_saved_corrupt_file_is_refused_by_content(fixtures):
    result = run_cli("fetch", str(HF_CORRUPT))
    assert_one_error(
        result,
        ExitCode.PARSE,
        f"{HF_CORRUPT}: not a page papercli can read (expected an arXiv "
        "listing, RSS or API response, a Hugging Face Daily Papers page or API response, JSON "
        "lines or a text page)",
    )
    assert stored() == []
