"""`papercli fetch`, `papers` and `status` end to end against a real HTTP server on localhost
serving the saved pages: paging, re-fetch, empty listings, broken pages, server faults."""

from __future__ import annotations

import json
import re

from werkzeug import Request, Response

from papercli.errors import ExitCode
from tests.cli_helpers import run_cli

BROWSE = "arxiv-list/rendered-by-arxiv-browse"


def serve_astro_ph_in_pages(server, fixtures) -> list[int]:
    """Serve /list/astro-ph/new from the four saved pages of 25 entries, chosen by `skip`."""
    asked: list[int] = []

    def handler(request: Request) -> Response:
        skip = int(request.args.get("skip", 0))
        asked.append(skip)
        path = fixtures / BROWSE / f"astro-ph_new_skip{skip}_show25.html"
        return Response(path.read_bytes(), content_type="text/html; charset=utf-8")

    server.expect_request("/list/astro-ph/new").respond_with_handler(handler)
    return asked


def test_fetch_arxiv_reads_every_page(upstream, fixtures):
    asked = serve_astro_ph_in_pages(upstream, fixtures)
    result = run_cli("fetch", "arxiv", "astro-ph", "--json")
    assert result.code == 0, result.err
    assert asked == [0, 25, 50, 75]
    (summary,) = json.loads(result.out)
    assert summary["source"] == "arxiv:astro-ph"
    assert (summary["pages"], summary["fetched"], summary["new"]) == (4, 97, 97)
    assert summary["ok"] is True

    again = run_cli("fetch", "arxiv", "astro-ph", "--json")
    (summary,) = json.loads(again.out)
    assert (summary["fetched"], summary["new"], summary["unchanged"]) == (97, 0, 97)

    listed = run_cli("papers", "--json")
    rows = [json.loads(line) for line in listed.out.splitlines()]
    assert len(rows) == 97 and len({r["id"] for r in rows}) == 97
    # Every stored field, in the shape of a digest's JSON papers.
    from papercli.models import Paper

    assert set(rows[0]) == {*Paper.__dataclass_fields__, "links"}
    digest_paper = json.loads(run_cli("digest", "--format", "json").out)["papers"][0]
    assert set(digest_paper) - set(rows[0]) == {"topic", "score", "matched_terms"}
    assert all(r["sources"] == ["arxiv:astro-ph"] for r in rows)
    kinds = {r["announce_type"] for r in rows}
    assert kinds == {"new", "cross", "replace"} or kinds >= {"new", "replace"}
    assert any(r["comments"] for r in rows)


def test_fetch_hf_day_then_status(upstream, fixtures):
    body = (fixtures / "hf-daily/api/daily_papers_date-2024-08-02.json").read_bytes()
    upstream.expect_request("/api/daily_papers").respond_with_data(
        body, content_type="application/json"
    )
    result = run_cli("fetch", "hf", "--date", "2024-08-02")
    assert result.code == 0, result.err
    n = len(json.loads(body))
    assert re.search(rf"^hf:2024-08-02 +{n} +{n} +0 +0 +ok", result.err, re.MULTILINE)
    status = run_cli("status", "--json")
    data = json.loads(status.out)
    assert data["papers"] == n
    (entry,) = data["sources"]
    assert entry["source"] == "hf:2024-08-02" and entry["error"] is None
    upvoted = [json.loads(line) for line in run_cli("papers", "--json").out.splitlines()]
    assert all(isinstance(r["upvotes"], int) for r in upvoted)
    assert all(isinstance(r["num_comments"], int) for r in upvoted)

    # --sort: each value gives its own order on this day, and --limit cuts after sorting.
    def order(*args: str) -> list[str]:
        out = run_cli("papers", "--json", *args).out
        return [json.loads(line)["id"] for line in out.splitlines()]

    by_votes = sorted(upvoted, key=lambda r: -r["upvotes"])
    assert order("--sort", "upvotes") == [r["id"] for r in by_votes]
    by_date = sorted(upvoted, key=lambda r: r["published"] or "", reverse=True)
    assert order("--sort", "date") == [r["id"] for r in by_date]
    assert order("--sort", "seen") == [r["id"] for r in upvoted]
    assert len({tuple(order("--sort", s)) for s in ("upvotes", "date", "seen")}) == 3
    assert order("--sort", "upvotes", "--limit", "3") == [r["id"] for r in by_votes[:3]]
    assert run_cli("papers", "--sort", "stars").code == ExitCode.USAGE

    table = run_cli("papers", "--sort", "upvotes", "--limit", "1").out.splitlines()
    assert table[0].split() == ["id", "title", "upvotes", "comments", "first", "seen"]
    top = by_votes[0]
    narrow = run_cli("papers", "--sort", "upvotes", width=80).out.splitlines()
    assert max(map(len, narrow)) <= 80
    assert narrow[0].split() == ["id", "title", "upvotes", "comments", "first", "seen"]
    assert {line.split()[0] for line in narrow[1:] if not line.startswith(" ")} == {
        r["id"] for r in upvoted
    }  # every id whole on its row; one source only, so no sources column
    counts = rf" {top['upvotes']} +{top['num_comments']} "
    assert re.search(rf"^{re.escape(top['id'])} .*{counts}", table[1])


def test_empty_feed_is_not_an_error(upstream, fixtures):
    body = (fixtures / "arxiv-rss/jmmeus-aioarxiv-2024-11-28/empty_rss_mock_feed.xml").read_bytes()
    upstream.expect_request("/rss/cs.LG").respond_with_data(body, content_type="application/xml")
    result = run_cli("fetch", "rss", "cs.LG")
    assert result.code == 0, result.err
    assert "no new papers announced" in result.err
    status = run_cli("status")
    assert "nothing announced" in status.out


def test_page_that_is_not_a_listing_fails_naming_the_source(upstream, fixtures):
    body = (fixtures / "hf-daily/api/daily_papers_date-2024-08-02.json").read_bytes()
    upstream.expect_request("/list/cs.LG/new").respond_with_data(body, content_type="text/html")
    result = run_cli("fetch", "arxiv", "cs.LG")
    assert result.code == ExitCode.PARSE
    assert result.err.startswith("Error: arxiv:cs.LG: ")
    assert "Traceback" not in result.err
    status = json.loads(run_cli("status", "--json").out)
    assert status["papers"] == 0
    assert "arxiv:cs.LG" in status["sources"][0]["error"]


def test_one_failing_source_does_not_stop_the_others(upstream, fixtures, papercli_home):
    upstream.expect_request("/list/cs.LG/new").respond_with_data("", status=404)
    feed = fixtures / "arxiv-rss/jmmeus-aioarxiv-2024-11-28/rss_mock_feed.xml"
    upstream.expect_request("/rss/cs.CL").respond_with_data(
        feed.read_bytes(), content_type="application/xml"
    )
    (papercli_home / "config.toml").write_text("sources = ['arxiv:cs.LG', 'rss:cs.CL']\n")
    result = run_cli("fetch", "--json")
    assert result.code == ExitCode.NETWORK
    failed, ok = json.loads(result.out)
    assert (failed["source"], failed["ok"]) == ("arxiv:cs.LG", False)
    assert (ok["source"], ok["ok"], ok["fetched"]) == ("rss:cs.CL", True, 1504)


def test_tables_in_80_columns_keep_source_names_whole(upstream, fixtures, papercli_home):
    """A cron log is 80 columns: sources that differ only at the end must still read apart."""
    for cat in ("astro-ph.GA", "astro-ph.SR"):
        upstream.expect_request(f"/list/{cat}/new").respond_with_data(
            (fixtures / BROWSE / f"{cat}_new.html").read_bytes(), content_type="text/html"
        )
    upstream.expect_request("/list/astro-ph.XX/new").respond_with_data("", status=404)
    fetched = run_cli("fetch", "arxiv", "astro-ph.GA", "astro-ph.SR", "astro-ph.XX", width=80)
    assert fetched.code == ExitCode.NETWORK
    status = run_cli("status", width=80)
    for text in (fetched.err, status.out):
        for cat in ("astro-ph.GA", "astro-ph.SR", "astro-ph.XX"):
            assert f"arxiv:{cat} " in text, text
    error_lines = [line for line in status.out.splitlines() if "404 Not Found" in line]
    assert len(error_lines) == 1 and error_lines[0].startswith("arxiv:astro-ph.XX: ")


def test_server_error_then_success(upstream, fixtures):
    body = (fixtures / "hf-daily/api/daily_papers_date-2024-05-27.json").read_bytes()
    upstream.expect_ordered_request("/api/daily_papers").respond_with_data("oops", status=500)
    upstream.expect_ordered_request("/api/daily_papers").respond_with_data(
        body, content_type="application/json"
    )
    result = run_cli("fetch", "hf", "--date", "2024-05-27", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)[0]["new"] == len(json.loads(body))


def test_saved_files_are_recognised_by_content(fixtures, tmp_path):
    renamed = tmp_path / "listing.txt"
    renamed.write_bytes((fixtures / BROWSE / "q-fin_new.html").read_bytes())
    result = run_cli("fetch", str(renamed), "--json")
    assert result.code == 0, result.err
    (summary,) = json.loads(result.out)
    assert (summary["source"], summary["new"]) == (str(renamed), 16)


def test_missing_file_is_a_usage_error(tmp_path):
    result = run_cli("fetch", str(tmp_path / "nope.html"))
    assert result.code == ExitCode.USAGE
    assert "cannot read" in result.err


def test_an_api_search_with_no_hits_says_no_results(upstream, fixtures):
    # arXiv's real answer to a query with no hits (totalResults 0).
    body = (fixtures / "arxiv-api/2026/id_0000.0000_s0_m100_8b51d9633a68.body.xml").read_bytes()
    upstream.expect_request("/api/query").respond_with_data(
        body, content_type="application/atom+xml"
    )
    result = run_cli("fetch", "api", "ti:zzzyyyxxx")
    assert result.code == 0, result.err
    assert result.err == "no results\n"
    status = run_cli("status").out
    assert re.search(r"^api:ti:zzzyyyxxx .* no results$", status, re.MULTILINE), status
    assert "nothing announced" not in status


def test_a_cron_log_gets_whole_lines(fixtures, papercli_home):
    """Not on a terminal (cron mails or logs stderr), the summary keeps every column and a
    long file name on one line: no 80-column cut."""
    import os
    import subprocess
    import sys

    page = fixtures / "arxiv-list/astro-ph.CO_recent_show1000_fetched-2026-07-24_c2fe83b.html"
    env = {**os.environ, "PAPERCLI_HOME": str(papercli_home)}
    env.pop("COLUMNS", None)
    done = subprocess.run(
        [sys.executable, "-m", "papercli", "fetch", str(page)],
        env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    header, row = done.stderr.splitlines()
    assert header.split() == ["source", "fetched", "new", "updated", "unchanged", "status"]
    assert row.split() == [page.name, "111", "111", "0", "0", "ok"]


def test_a_file_that_is_no_page_is_named_once_as_given(tmp_path, monkeypatch, fixtures):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "empty.html").write_bytes(b"")
    result = run_cli("fetch", "t/empty.html")
    assert result.code == ExitCode.PARSE
    assert (
        result.err
        == "Error: t/empty.html: the file is empty; fetch it again, or save the page again\n"
    )
    assert str(tmp_path) not in result.err


def test_papers_shows_titles_as_digests_do_latex_read(fixtures):
    page = fixtures / "arxiv-list/astro-ph.CO_recent_show1000_fetched-2026-07-24_c2fe83b.html"
    assert run_cli("fetch", str(page)).code == 0
    stored = run_cli("papers", "--json").out
    assert "Almost-$Λ$CDM" in stored  # the store keeps the title as the source wrote it
    assert (
        run_cli("fetch", str(fixtures / "hf-daily/api/daily_papers_date-2024-05-27.json")).code == 0
    )
    assert "\\\\textsc{AIEV-Instruct}" in run_cli("papers", "--json").out
    shown = run_cli("papers").out
    assert "Almost-ΛCDM Cosmologies" in shown and "$" not in shown
    assert "AIEV-Instruct" in shown and "textsc" not in shown


def test_a_source_named_twice_is_fetched_once(fixtures, tmp_path, monkeypatch):
    page = fixtures / "hf-daily/api/daily_papers_date-2024-05-27.json"
    monkeypatch.chdir(page.parent)
    result = run_cli("fetch", "--json", str(page), page.name, str(page))
    assert result.code == 0, result.err
    (only,) = json.loads(result.out)
    assert only["source"] == str(page) and only["new"] == only["fetched"] > 0
