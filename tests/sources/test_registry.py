"""The Source registry: every source follows the protocol, names read back to the same spec,
and a URL of a known upstream is walked at that URL's own host."""

from __future__ import annotations

import json

import pytest
from werkzeug import Request, Response

from papercli.fetch import parse_spec
from papercli.sources import base, registry
from tests.cli_helpers import run_cli

BROWSE = "arxiv-list/rendered-by-arxiv-browse"


def test_every_registered_source_follows_the_protocol() -> None:
    prefixes = registry.prefixes()
    assert prefixes == ["api", "rss", "arxiv", "hf", "file", "url"]
    for source in registry.SOURCES:
        assert isinstance(source.prefix, str) and source.prefix
        for method in ("parse_name", "name", "from_args", "from_url", "iter_pages"):
            assert callable(getattr(source, method)), (source.prefix, method)
        assert registry.source(source.prefix) is source
        for alias in source.aliases:
            assert registry.source(alias) is source


@pytest.mark.parametrize(
    "name",
    ["hf", "hf:2024-08-01", "hf:2024-W31", "hf:2024-08"],
)
def test_a_name_reads_back_to_itself(name: str) -> None:
    assert parse_spec(name).name == name


def test_an_unknown_prefix_lists_the_known_ones() -> None:
    from papercli.errors import UsageError

    with pytest.raises(UsageError) as caught:
        registry.source("gopher")
    assert str(caught.value) == ("unknown source 'gopher'; known: api, rss, arxiv, hf, file, url")


def test_spec_options_are_ordered_and_none_is_left_out() -> None:
    assert base.spec("hf", date=None, week="2024-W31") == base.SourceSpec(
        "hf", "", (("week", "2024-W31"),)
    )


def test_a_listing_url_is_fetched_from_its_own_host(httpserver, fixtures, monkeypatch) -> None:
    """Not rewritten to the configured arXiv base URL: fetched where it was asked."""
    monkeypatch.setenv("PAPERCLI_ARXIV_URL", "http://127.0.0.1:9")  # nothing listens there
    asked: list[int] = []

    def handler(request: Request) -> Response:
        skip = int(request.args.get("skip", 0))
        asked.append(skip)
        path = fixtures / BROWSE / f"astro-ph_new_skip{skip}_show25.html"
        return Response(path.read_bytes(), content_type="text/html; charset=utf-8")

    httpserver.expect_request("/list/astro-ph/new").respond_with_handler(handler)
    url = httpserver.url_for("/list/astro-ph/new")
    result = run_cli("fetch", url, "--json")
    assert result.code == 0, result.err
    assert asked == [0, 25, 50, 75]
    (summary,) = json.loads(result.out)
    assert (summary["pages"], summary["fetched"]) == (4, 97)
