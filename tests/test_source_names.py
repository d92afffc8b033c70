"""One name for each source, whichever way it was spelled: in `fetch`, the config's `sources`,
`digest` inputs, the store, `status`, `--source` and JSON. Against a real HTTP server on
localhost serving the saved pages."""

from __future__ import annotations

import datetime
import json

import pytest

from papercli.errors import ExitCode
from tests.cli_helpers import run_cli
from tests.conftest import FIXTURES
from tests.reliability.support import API_BODY, HF_DAY, Q_FIN, RSS, status, stored, write_sources

HF_COUNT = len(json.loads(HF_DAY.read_bytes()))


@pytest.fixture
def upstream(httpserver, monkeypatch):
    """Every upstream's base URL points at one local server serving one real page each."""
    base = httpserver.url_for("").rstrip("/")
    for name in ("ARXIV", "RSS", "API", "HF"):
        monkeypatch.setenv(f"PAPERCLI_{name}_URL", base)
    asked_days: list[str | None] = []

    def hf(request):
        from werkzeug import Response

        asked_days.append(request.args.get("date"))
        return Response(HF_DAY.read_bytes(), content_type="application/json")

    httpserver.expect_request("/api/daily_papers").respond_with_handler(hf)
    httpserver.expect_request("/list/q-fin/new").respond_with_data(
        Q_FIN.read_bytes(), content_type="text/html; charset=utf-8"
    )
    httpserver.expect_request("/rss/cs.LG").respond_with_data(
        RSS.read_bytes(), content_type="application/rss+xml"
    )
    httpserver.expect_request("/api/query").respond_with_data(
        API_BODY.read_bytes(), content_type="application/atom+xml"
    )
    httpserver.asked_days = asked_days
    return httpserver


SPELLINGS = [
    (["hf", "--date", "2024-08-02"], "hf:2024-08-02", HF_COUNT),
    (["hf:2024-08-02"], "hf:2024-08-02", HF_COUNT),
    (["arxiv", "q-fin"], "arxiv:q-fin", 16),
    (["arxiv:q-fin"], "arxiv:q-fin", 16),
    (["arxiv-listing:q-fin/new"], "arxiv:q-fin", 16),
    (["rss", "cs.LG"], "rss:cs.LG", 1504),
    (["rss:cs.LG"], "rss:cs.LG", 1504),
    (["arxiv-rss:cs.LG"], "rss:cs.LG", 1504),
    (["api", "all:testing", "--max", "100"], "api:all:testing", 100),
    (["api:all:testing"], "api:all:testing", 100),
    (["arxiv-api:all:testing"], "api:all:testing", 100),
]


@pytest.mark.parametrize(("args", "name", "count"), SPELLINGS, ids=lambda v: str(v))
def test_every_spelling_is_stored_and_shown_under_one_name(upstream, args, name, count) -> None:
    result = run_cli("fetch", *args, "--json")
    assert result.code == 0, result.err
    (summary,) = json.loads(result.out)
    assert (summary["source"], summary["fetched"]) == (name, count)
    assert list(status()["by_source"]) == [name]
    rows = stored()
    assert len(rows) == count and all(row["sources"] == [name] for row in rows)
    table = run_cli("status", width=80)
    assert f"\n{name} " in table.out


def test_the_readme_example_fetches_two_sources(upstream) -> None:
    result = run_cli("fetch", "hf", "arxiv:q-fin", "--json")
    assert result.code == 0, result.err
    assert [s["source"] for s in json.loads(result.out)] == ["hf", "arxiv:q-fin"]


def test_config_sources_in_any_spelling_get_the_one_name(upstream, papercli_home) -> None:
    write_sources(papercli_home, "hf:2024-08-02", "arxiv-listing:q-fin/new", "rss:cs.LG")
    result = run_cli("fetch", "--json")
    assert result.code == 0, result.err
    names = [s["source"] for s in json.loads(result.out)]
    assert names == ["hf:2024-08-02", "arxiv:q-fin", "rss:cs.LG"]


def test_source_selects_by_name_prefix_or_earlier_spelling(upstream) -> None:
    assert run_cli("fetch", "hf:2024-08-02", "arxiv:q-fin", "rss:cs.LG").code == 0
    only = {
        value: {tuple(row["sources"]) for row in stored("--source", value)}
        for value in ("hf", "arxiv", "arxiv:q-fin", "arxiv-listing", "rss", "arxiv-rss")
    }
    # Papers both listings carry show both names; each filter keeps only papers it names.
    assert all(any(n.startswith("hf") for n in s) for s in only["hf"])
    assert all("arxiv:q-fin" in s for s in only["arxiv"])
    assert only["arxiv"] == only["arxiv:q-fin"] == only["arxiv-listing"]
    assert only["rss"] == only["arxiv-rss"]
    assert len(stored("--source", "arxiv")) == 16
    assert len(stored("--source", "hf")) == HF_COUNT


def test_an_unknown_source_is_an_error_listing_the_known_ones(upstream) -> None:
    assert run_cli("fetch", "arxiv:q-fin").code == 0
    result = run_cli("papers", "--source", "arxv")
    assert result.code == ExitCode.USAGE
    assert result.err == (
        "Error: unknown source 'arxv'; use a name such as api, rss, arxiv, hf, or a name or "
        "prefix of a stored source; in this store: arxiv:q-fin\n"
    )
    assert run_cli("digest", "--source", "arxv").code == ExitCode.USAGE


def test_digest_reads_a_source_by_its_name(upstream) -> None:
    options = ("--format", "json", "--date", "2024-08-02")
    by_name = run_cli("digest", "arxiv:q-fin", *options)
    by_alias = run_cli("digest", "arxiv-listing:q-fin/new", *options)
    saved = run_cli("digest", str(Q_FIN), *options)
    assert by_name.code == by_alias.code == saved.code == 0, by_name.err
    assert by_name.out == by_alias.out == saved.out
    assert "Quantitative Finance" in by_name.out or "q-fin" in by_name.out


@pytest.mark.parametrize("word", ["today", "yesterday"])
def test_fetch_hf_date_today_and_yesterday(upstream, word) -> None:
    result = run_cli("fetch", "hf", "--date", word)
    assert result.code == 0, result.err
    back = {"today": 0, "yesterday": 1}[word]
    day = (datetime.date.today() - datetime.timedelta(days=back)).isoformat()
    assert upstream.asked_days == [day]
    assert list(status()["by_source"]) == [f"hf:{day}"]


def test_an_unknown_source_lists_a_few_stored_ones(tmp_path) -> None:
    pages = sorted((FIXTURES / "arxiv-list" / "rendered-by-arxiv-browse").glob("*.html"))[:7]
    assert run_cli("fetch", *map(str, pages)).code in (0, ExitCode.PARSE)
    result = run_cli("papers", "--source", "arxv")
    assert result.code == ExitCode.USAGE
    (line,) = result.err.splitlines()
    assert line.endswith(" more (`papercli status` lists them)")
    assert sum(str(page) in line for page in pages) == 4


def test_a_saved_file_is_selected_by_the_name_tables_show(tmp_path) -> None:
    page = FIXTURES / "hf-daily" / "api" / "daily_papers_date-2024-05-27.json"
    assert run_cli("fetch", str(page)).code == 0
    by_name = run_cli("papers", "--json", "--source", page.name)
    assert by_name.code == 0, by_name.err
    assert by_name.out == run_cli("papers", "--json", "--source", str(page)).out != ""
