"""HttpClient against real local HTTP servers serving the real saved pages."""

from __future__ import annotations

import gzip
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from werkzeug import Request
from werkzeug import Response as WerkzeugResponse

from papercli.errors import ExitCode, NetworkError
from papercli.http import RETRY_HINT, FetchRecord, HttpClient, parse_retry_after
from papercli.settings import FetchSettings

RSS = "arxiv-rss/jmmeus-aioarxiv-2024-11-28/"
API_400 = "arxiv-api/2026/id_abc_s0_m100_b79c8dcf6bc3.body.xml"


def fast(**overrides) -> FetchSettings:
    """Settings that keep every rule but wait as little as the test allows."""
    values = {"min_interval": 0.0, "backoff": 0.01, "retries": 2, "timeout": 5.0}
    values.update(overrides)
    return FetchSettings(**values)


@pytest.fixture
def feed(fixtures) -> bytes:
    return (fixtures / RSS / "rss_mock_feed.xml").read_bytes()


@pytest.fixture
def small(fixtures) -> bytes:
    return (fixtures / RSS / "empty_rss_mock_feed.xml").read_bytes()


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "http"


def cached_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.http")) if cache.exists() else []


@contextmanager
def serving(handler: type[socketserver.BaseRequestHandler]) -> Iterator[str]:
    """A threaded server on 127.0.0.1 for what pytest-httpserver cannot do (slow, cut short)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # type: ignore[arg-type]
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/page"
    finally:
        server.shutdown()
        server.server_close()


# --- plain answers -----------------------------------------------------------------------------


def test_plain_200_returns_the_whole_real_feed(httpserver, cache, feed):
    httpserver.expect_request("/rss/all").respond_with_data(
        feed, content_type="application/rss+xml"
    )
    url = httpserver.url_for("/rss/all")
    with HttpClient(fast(), cache) as client:
        response = client.get(url)
        assert client(url) == feed
    assert response.status == 200
    assert response.from_cache is False
    assert response.url == url
    assert response.content == feed
    assert len(response.content) == 2_797_604
    assert response.headers["content-type"] == "application/rss+xml"
    assert client.history[0] == FetchRecord(url, 200, False, 2_797_604, 1)
    assert len(cached_files(cache)) == 1


def test_user_agent_and_gzip_are_sent_and_gzip_is_decoded(httpserver, cache, feed):
    seen = {}

    def handler(request: Request) -> WerkzeugResponse:
        seen.update(request.headers)
        body = gzip.compress(feed)
        return WerkzeugResponse(body, headers={"Content-Encoding": "gzip"})

    httpserver.expect_request("/gz").respond_with_handler(handler)
    settings = fast(user_agent="papercli/test (+mailto:someone@example.org)")
    with HttpClient(settings, cache) as client:
        response = client.get(httpserver.url_for("/gz"))
    assert seen["User-Agent"] == "papercli/test (+mailto:someone@example.org)"
    assert seen["Accept-Encoding"] == "gzip"
    assert response.content == feed


def test_the_default_user_agent_names_papercli_and_a_contact(httpserver, cache, small):
    httpserver.expect_request("/ua").respond_with_data(small)
    with HttpClient(fast(), cache) as client:
        client.get(httpserver.url_for("/ua"))
    agent = httpserver.log[0][0].headers["User-Agent"]
    assert agent.startswith("papercli/")
    assert "(+https://github.com/papercli/papercli)" in agent


# --- the cache: conditional GET and offline ----------------------------------------------------


def test_etag_revalidation_answers_a_304_from_the_cache(httpserver, cache, feed):
    def handler(request: Request) -> WerkzeugResponse:
        if request.headers.get("If-None-Match") == '"v1"':
            return WerkzeugResponse(status=304, headers={"ETag": '"v1"'})
        return WerkzeugResponse(feed, headers={"ETag": '"v1"'}, content_type="application/xml")

    httpserver.expect_request("/rss").respond_with_handler(handler)
    url = httpserver.url_for("/rss")
    with HttpClient(fast(), cache) as client:
        first = client.get(url)
    with HttpClient(fast(), cache) as client:  # a later run, same cache dir
        second = client.get(url)
    assert (first.status, first.from_cache) == (200, False)
    assert (second.status, second.from_cache) == (304, True)
    assert second.content == feed
    assert second.headers["content-type"] == "application/xml"
    requests_seen = [request for request, _ in httpserver.log]
    assert "If-None-Match" not in requests_seen[0].headers
    assert requests_seen[1].headers["If-None-Match"] == '"v1"'
    assert client.history == [FetchRecord(url, 304, True, len(feed), 1)]


def test_last_modified_revalidation(httpserver, cache, small):
    stamp = "Thu, 28 Nov 2024 05:00:00 GMT"

    def handler(request: Request) -> WerkzeugResponse:
        if request.headers.get("If-Modified-Since") == stamp:
            return WerkzeugResponse(status=304)
        return WerkzeugResponse(small, headers={"Last-Modified": stamp})

    httpserver.expect_request("/lm").respond_with_handler(handler)
    with HttpClient(fast(), cache) as client:
        client.get(httpserver.url_for("/lm"))
        again = client.get(httpserver.url_for("/lm"))
    assert (again.status, again.from_cache, again.content) == (304, True, small)
    assert httpserver.log[1][0].headers["If-Modified-Since"] == stamp


def test_offline_answers_from_the_cache_without_touching_the_network(httpserver, cache, small):
    httpserver.expect_request("/page").respond_with_data(small)
    url = httpserver.url_for("/page")
    with HttpClient(fast(), cache) as client:
        client.get(url)
    with HttpClient(fast(offline=True), cache) as client:
        response = client.get(url)
    assert (response.status, response.from_cache, response.content) == (200, True, small)
    assert len(httpserver.log) == 1


def test_offline_without_a_cache_entry_says_to_fetch_first(httpserver, cache):
    url = httpserver.url_for("/never-fetched")
    with HttpClient(fast(offline=True), cache) as client, pytest.raises(NetworkError) as err:
        client.get(url)
    assert str(err.value) == f"{url} is not in the cache; run without --offline first to fetch it"
    assert err.value.exit_code == ExitCode.NETWORK
    assert httpserver.log == []


def test_a_torn_cache_file_is_ignored_and_refetched(httpserver, cache, small):
    httpserver.expect_request("/page").respond_with_data(small)
    url = httpserver.url_for("/page")
    with HttpClient(fast(), cache) as client:
        client.get(url)
        (path,) = cached_files(cache)
        path.write_bytes(path.read_bytes()[:-10])
        again = client.get(url)
    assert (again.status, again.from_cache, again.content) == (200, False, small)
    assert path.read_bytes().endswith(small)


# --- retries -----------------------------------------------------------------------------------


def test_429_with_retry_after_waits_then_succeeds(httpserver, cache, small):
    httpserver.expect_oneshot_request("/busy").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_oneshot_request("/busy").respond_with_data(small)
    with HttpClient(fast(), cache) as client:
        start = time.monotonic()
        response = client.get(httpserver.url_for("/busy"))
        elapsed = time.monotonic() - start
    assert response.content == small
    assert 0.95 <= elapsed < 2.5
    assert client.history[0].attempts == 2


def test_a_retry_after_beyond_the_cap_gives_up_saying_when(httpserver, cache):
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    httpserver.expect_request("/busy").respond_with_data(
        "", status=503, headers={"Retry-After": format_datetime(later, usegmt=True)}
    )
    with HttpClient(fast(max_retry_after=5), cache) as client, pytest.raises(NetworkError) as err:
        client.get(httpserver.url_for("/busy"))
    message = str(err.value)
    assert "503 Service Unavailable" in message
    assert "over max_retry_after=5 s" in message
    assert f"try again after {later:%Y-%m-%d %H:}" in message
    assert len(httpserver.log) == 1


def test_500_then_success(httpserver, cache, small):
    httpserver.expect_oneshot_request("/flaky").respond_with_data("oops", status=500)
    httpserver.expect_oneshot_request("/flaky").respond_with_data(small)
    with HttpClient(fast(), cache) as client:
        assert client(httpserver.url_for("/flaky")) == small
    assert len(httpserver.log) == 2


def test_503_every_time_fails_after_the_retries(httpserver, cache):
    httpserver.expect_request("/down").respond_with_data("down", status=503)
    url = httpserver.url_for("/down")
    with HttpClient(fast(retries=2), cache) as client, pytest.raises(NetworkError) as err:
        client.get(url)
    assert str(err.value) == (
        f"{url.split('/')[2]} answered 503 Service Unavailable for {url} (3 attempts); "
        "check your connection or try again later; use --offline to read the cache"
    )
    assert len(httpserver.log) == 3
    assert client.history == [FetchRecord(url, 503, False, 0, 3, str(err.value))]


class SlowHandler(BaseHTTPRequestHandler):
    release = threading.Event()

    def do_GET(self) -> None:
        self.release.wait(3)

    def log_message(self, *args) -> None:
        pass


def test_a_server_that_does_not_answer_times_out(cache):
    SlowHandler.release.clear()
    with serving(SlowHandler) as url:
        with HttpClient(fast(timeout=0.2, retries=1), cache) as client:
            start = time.monotonic()
            with pytest.raises(NetworkError) as err:
                client.get(url)
            elapsed = time.monotonic() - start
        SlowHandler.release.set()
    assert "timed out (no answer within 0.2 s)" in str(err.value)
    assert "try again later" in str(err.value)
    assert client.history[0].attempts == 2
    assert elapsed < 2


def test_a_closed_port_is_connection_refused(cache):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/rss"
    with HttpClient(fast(retries=1), cache) as client, pytest.raises(NetworkError) as err:
        client.get(url)
    assert str(err.value).startswith(f"127.0.0.1:{port} refused the connection for {url}; ")
    assert client.history[0].status == 0


def test_an_unreachable_host_is_not_tried_again_in_the_same_run(cache):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with HttpClient(fast(retries=2), cache) as client:
        with pytest.raises(NetworkError, match="refused the connection"):
            client.get(f"{base}/list/cs.LG/new")
        with pytest.raises(NetworkError) as err:
            client.get(f"{base}/list/cs.CV/new")
        with pytest.raises(NetworkError, match="refused the connection"):
            client.get(f"http://localhost:{port}/rss/cs.CL")  # another host name
    first, second, third = client.history
    assert (first.attempts, second.attempts) == (3, 0)  # the second source sent nothing
    assert third.attempts == 1  # offline, most likely: no retries for a second host
    assert str(err.value) == (
        f"127.0.0.1:{port} could not be reached earlier in this run (127.0.0.1:{port} refused "
        f"the connection); did not try {base}/list/cs.CV/new; {RETRY_HINT}"
    )


# --- size and completeness ---------------------------------------------------------------------


def test_a_body_over_max_bytes_is_refused_and_not_cached(httpserver, cache, feed):
    httpserver.expect_request("/big").respond_with_data(feed)
    with HttpClient(fast(max_bytes=1024 * 1024), cache) as client, pytest.raises(NetworkError) as e:
        client.get(httpserver.url_for("/big"))
    assert "is larger than 1 MB (2797604 bytes or more)" in str(e.value)
    assert "PAPERCLI_MAX_BYTES" in str(e.value)
    assert cached_files(cache) == []


def test_a_streamed_body_without_length_stops_at_max_bytes(httpserver, cache, feed):
    chunks = [feed[i : i + 100_000] for i in range(0, len(feed), 100_000)]
    httpserver.expect_request("/stream").respond_with_response(WerkzeugResponse(iter(chunks)))
    with HttpClient(fast(max_bytes=500_000), cache) as client, pytest.raises(NetworkError) as err:
        client.get(httpserver.url_for("/stream"))
    assert "is larger than 0.476837 MB" in str(err.value)
    assert cached_files(cache) == []


def make_cut_short_handler(head: bytes, body: bytes) -> type[socketserver.StreamRequestHandler]:
    class CutShort(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            while self.rfile.readline() not in (b"\r\n", b""):
                pass
            self.wfile.write(head + body)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    return CutShort


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_cut_short_is_an_error_and_not_cached(cache, feed, framing):
    part = feed[:5000]
    if framing == "content-length":
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(feed)}\r\n\r\n".encode()
        body = part
    else:  # the terminating zero-size chunk never comes
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        body = f"{len(part):x}\r\n".encode() + part + b"\r\n"
    with (
        serving(make_cut_short_handler(head, body)) as url,
        HttpClient(fast(retries=1), cache) as client,
        pytest.raises(NetworkError) as err,
    ):
        client.get(url)
    assert "was cut short" in str(err.value)
    assert client.history[0].attempts == 2
    assert cached_files(cache) == []


# --- redirects ---------------------------------------------------------------------------------


def redirect(httpserver, path: str, location: str) -> None:
    httpserver.expect_request(path).respond_with_data(
        "", status=301, headers={"Location": location}
    )


def test_a_redirect_on_the_same_host_is_followed(httpserver, cache, small):
    redirect(httpserver, "/list/cs/new", "/list/cs/new/")
    httpserver.expect_request("/list/cs/new/").respond_with_data(small)
    url = httpserver.url_for("/list/cs/new")
    with HttpClient(fast(), cache) as client:
        response = client.get(url)
    assert response.content == small
    assert response.url == url + "/"
    with HttpClient(fast(offline=True), cache) as client:
        assert client(url) == small  # cached under the URL asked for


def test_a_redirect_loop_fails(httpserver, cache):
    redirect(httpserver, "/a", "/b")
    redirect(httpserver, "/b", "/a")
    with HttpClient(fast(), cache) as client, pytest.raises(NetworkError) as err:
        client.get(httpserver.url_for("/a"))
    assert "redirects in a loop" in str(err.value)
    assert len(httpserver.log) == 2


def test_more_than_five_redirects_fail(httpserver, cache):
    for n in range(7):
        redirect(httpserver, f"/r{n}", f"/r{n + 1}")
    with HttpClient(fast(), cache) as client, pytest.raises(NetworkError) as err:
        client.get(httpserver.url_for("/r0"))
    assert "redirected more than 5 times" in str(err.value)
    assert len(httpserver.log) == 6


def test_a_redirect_to_another_host_is_refused(httpserver, cache):
    target = f"http://127.0.0.1:{httpserver.port}/elsewhere"
    redirect(httpserver, "/rss", target)
    with HttpClient(fast(), cache) as client, pytest.raises(NetworkError) as err:
        client.get(httpserver.url_for("/rss"))
    assert f"to another host: {target}" in str(err.value)
    assert len(httpserver.log) == 1


def test_a_redirect_to_a_configured_host_is_followed(httpserver, cache, small):
    redirect(httpserver, "/api/query", f"http://127.0.0.1:{httpserver.port}/api/query2")
    httpserver.expect_request("/api/query2").respond_with_data(small)
    settings = fast(api_url=f"http://127.0.0.1:{httpserver.port}")
    with HttpClient(settings, cache) as client:
        assert client(httpserver.url_for("/api/query")) == small


class Bystander(BaseHTTPRequestHandler):
    """Another service on this machine (think 169.254.169.254): a redirect must not reach it."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = b"secret"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class Redirector(BaseHTTPRequestHandler):
    """Answers every request with a redirect to `location`, sent byte for byte as given (an HTTP
    library would percent-encode the backslash a hostile server can send)."""

    location = ""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.mark.parametrize(
    "location",
    [
        # urlsplit reads the host after the backslash (the same host: the old check passed);
        # urllib3, which makes the connection, reads 127.0.0.1:OTHER before it.
        "http://127.0.0.1:{other}\\@127.0.0.1:{port}/page",
        "http://127.0.0.1:{other}\\x@127.0.0.1:{port}/page",
        # The same host, another port: another service.
        "http://127.0.0.1:{other}/page",
        "http://user:pw@127.0.0.1:{port}/page",
    ],
    ids=["backslash-at", "backslash-user-at", "other-port", "credentials"],
)
def test_a_redirect_is_judged_where_it_connects(cache, location):
    Bystander.hits = []
    with serving(Bystander) as other_url, serving(Redirector) as url:
        port = url.split(":")[2].split("/")[0]
        Redirector.location = location.format(other=other_url.split(":")[2][:-5], port=port)
        with HttpClient(fast(), cache) as client, pytest.raises(NetworkError) as err:
            client.get(url)
        assert str(err.value).startswith(f"refused the redirect from 127.0.0.1:{port}")
        assert err.value.exit_code == ExitCode.NETWORK
        assert Bystander.hits == []
        with HttpClient(fast(), cache) as client:  # the bystander itself answers when asked
            assert client(other_url) == b"secret"


def test_a_redirect_to_a_configured_origin_on_another_port_is_followed(httpserver, cache):
    Bystander.hits = []
    with serving(Bystander) as other_url:
        base = other_url.rsplit("/", 1)[0]
        redirect(httpserver, "/rss", other_url)
        with HttpClient(fast(rss_url=base), cache) as client:
            assert client(httpserver.url_for("/rss")) == b"secret"
        assert Bystander.hits == ["/page"]


# --- client errors -----------------------------------------------------------------------------


def test_404_names_the_url_and_what_to_check(httpserver, cache):
    httpserver.expect_request("/list/cs.XX/new").respond_with_data("Not Found", status=404)
    url = httpserver.url_for("/list/cs.XX/new")
    with HttpClient(fast(), cache) as client, pytest.raises(NetworkError) as err:
        client.get(url)
    assert str(err.value) == (
        f"{url.split('/')[2]} answered 404 Not Found for {url}; "
        "check the category/date (or id) in the URL"
    )
    assert len(httpserver.log) == 1  # never retried


def test_the_arxiv_api_400_body_is_handed_over_when_accepted(httpserver, cache, fixtures):
    body = (fixtures / API_400).read_bytes()
    httpserver.expect_request("/api/query").respond_with_data(body, status=400)
    url = httpserver.url_for("/api/query") + "?id_list=abc"
    with HttpClient(fast(), cache) as client:
        assert client.api_get(url) == body
        assert client.get(url, accept_statuses={400}).status == 400
        with pytest.raises(NetworkError, match="400 Bad Request"):
            client.get(url)
    assert b"<summary>incorrect id format for abc</summary>" in body
    assert cached_files(cache) == []


# --- politeness --------------------------------------------------------------------------------


def test_min_interval_spaces_requests_to_one_host(httpserver, cache, small):
    httpserver.expect_request("/page").respond_with_data(small)
    with HttpClient(fast(min_interval=0.3), cache) as client:
        start = time.monotonic()
        client.get(httpserver.url_for("/page"))
        client.get(httpserver.url_for("/page"))
        assert time.monotonic() - start >= 0.3


def test_min_interval_holds_across_runs_through_the_cache_dir(httpserver, cache, small):
    httpserver.expect_request("/page").respond_with_data(small)
    with HttpClient(fast(min_interval=0.3), cache) as client:
        client.get(httpserver.url_for("/page"))
    start = time.monotonic()
    with HttpClient(fast(min_interval=0.3), cache) as client:
        client.get(httpserver.url_for("/page"))
    assert time.monotonic() - start >= 0.25  # the first run's own request time counts too


# --- Retry-After parsing -----------------------------------------------------------------------


def test_parse_retry_after_reads_both_forms():
    now = datetime(2024, 11, 28, 5, 0, tzinfo=timezone.utc).timestamp()
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Thu, 28 Nov 2024 05:01:30 GMT", now=now) == 90.0
    assert parse_retry_after("Thu, 28 Nov 2024 04:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
