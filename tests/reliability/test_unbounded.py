"""Work that has no natural end is bounded: a Hugging Face server with fresh papers on every page
is followed only as far as the range can hold, and the HTTP cache stays under its size cap."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from werkzeug import Request, Response

from papercli.errors import ExitCode
from papercli.sources.hf import max_pages
from tests.cli_helpers import run_cli
from tests.reliability.support import HF_DAY, error_lines, stored


def endless_pages(server) -> list[int]:
    """The real 2024-08-02 day, with every page a full page of papers never seen before (ids
    renumbered by page): what a broken or hostile server paging forever sends."""
    day = json.loads(HF_DAY.read_bytes())
    asked: list[int] = []

    def handler(request: Request) -> Response:
        query = parse_qs(request.query_string.decode())
        page, limit = int(query["p"][0]), int(query["limit"][0])
        asked.append(page)
        items = []
        for n in range(limit):
            item = json.loads(json.dumps(day[n % len(day)]))
            item["paper"]["id"] = f"2408.{page:02d}{n:03d}"
            items.append(item)
        return Response(json.dumps(items), content_type="application/json")

    server.expect_request("/api/daily_papers").respond_with_handler(handler)
    return asked


def test_a_server_paging_forever_is_followed_only_as_far_as_a_day_can_hold(upstream):
    asked = endless_pages(upstream)
    result = run_cli("fetch", "hf", "--date", "2024-08-02")
    assert result.code == ExitCode.PARSE, result.err
    (line,) = error_lines(result.err)
    assert "Hugging Face: still full pages of new papers after 350 for 2024-08-02" in line
    assert asked == list(range(max_pages(date="2024-08-02", limit=50))) == list(range(7))
    # What came before the refusal was real pages, each stored whole.
    assert len(stored()) == 350


def test_a_week_and_a_month_allow_more_pages_but_not_endless_ones(upstream):
    asked = endless_pages(upstream)
    result = run_cli("fetch", "hf", "--week", "2024-W31")
    assert result.code == ExitCode.PARSE
    assert len(asked) == max_pages(week="2024-W31", limit=50) == 43


def test_the_http_cache_keeps_under_its_cap_dropping_the_oldest(
    upstream, monkeypatch, papercli_home
):
    day = HF_DAY.read_bytes()
    for n in range(6):
        upstream.expect_request(f"/day{n}.json").respond_with_data(
            day, content_type="application/json"
        )
    # Room for about three answers of this size.
    monkeypatch.setenv("PAPERCLI_CACHE_MAX_BYTES", str(int(len(day) * 3.5)))
    cache = papercli_home / "cache" / "http"
    for n in range(6):
        assert run_cli("fetch", upstream.url_for(f"/day{n}.json")).code == 0
        files = list(cache.glob("*.http"))
        assert sum(f.stat().st_size for f in files) <= len(day) * 3.5
    assert len(list(cache.glob("*.http"))) == 3
    # The newest answers are the ones kept: the latest fetch is served from the cache offline.
    assert run_cli("--offline", "fetch", upstream.url_for("/day5.json")).code == 0
    assert run_cli("--offline", "fetch", upstream.url_for("/day0.json")).code == ExitCode.NETWORK
