"""Network faults through `papercli fetch`, against servers on this machine only.

Each failing source runs beside a good one (/list/q-fin/new); the user sees one error line naming
the source, exit 4, nothing stored or cached from the failed answer, the good source stored.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug import Request, Response

from papercli.errors import ExitCode
from tests.cli_helpers import Result, run_cli
from tests.reliability.support import (
    ASTRO_PH,
    GOOD_SOURCE,
    HF_DAY,
    RSS_DIR,
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
from tests.smtp_server import free_port

LISTING = "arxiv:astro-ph"
LISTING_PATH = "/list/astro-ph/new?skip=0&show=2000"
HF = "hf:2024-08-02"
HF_PATH = "/api/daily_papers?date=2024-08-02&p=0&limit=50"
RETRY_HINT = "check your connection or try again later; use --offline to read the cache"


@pytest.fixture
def upstream(httpserver, monkeypatch):
    base = httpserver.url_for("").rstrip("/")
    for name in ("ARXIV", "RSS", "API", "HF"):
        monkeypatch.setenv(f"PAPERCLI_{name}_URL", base)
    monkeypatch.setenv("PAPERCLI_RETRIES", "2")
    return httpserver


def base_of(server) -> str:
    return server.url_for("").rstrip("/")


def host_of(server) -> str:
    return f"{server.host}:{server.port}"


@contextmanager
def raw_server(
    answers: list[bytes], *, answer: bool = True, hang_up: bool = True
) -> Iterator[tuple[str, list[float]]]:
    """A TCP server on 127.0.0.1 that reads each request and sends the next of `answers` (the
    last one again when they run out) as raw bytes, then closes (or, with `hang_up=False`, keeps
    the line open and silent): for answers no HTTP library would send. With `answer=False` it
    accepts and never says a word (a hung server). Yields its base URL and the times requests
    arrived."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    arrivals: list[float] = []
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            arrivals.append(time.monotonic())
            if not answer:
                held.append(conn)
                continue
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                request += chunk
            conn.sendall(answers[min(len(arrivals), len(answers)) - 1])
            if hang_up:
                conn.close()
            else:
                held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", arrivals
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


def http_answer(body: bytes, *, declared: int | None = None) -> bytes:
    length = len(body) if declared is None else declared
    head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {length}\r\n\r\n"
    return head.encode() + body


def run_beside_good_source(home: Path, bad_spec: str) -> Result:
    write_sources(home, bad_spec, "arxiv:q-fin")
    return run_cli("fetch")


# --- servers that cannot be reached or do not answer ------------------------------------------


def test_connection_refused(upstream, papercli_home, monkeypatch):
    before = seed_store()
    serve_good_source(upstream)
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("PAPERCLI_HF_URL", dead)
    started = time.monotonic()
    result = run_beside_good_source(papercli_home, "hf:2024-08-02")
    line = (
        f"{HF}: {dead.removeprefix('http://')} refused the connection for {dead}{HF_PATH}; "
        + RETRY_HINT
    )
    assert_one_error(result, ExitCode.NETWORK, line)
    assert time.monotonic() - started < 10
    assert_store_kept(before, HF)
    assert_logged_failure(HF, line)
    assert status()["by_source"][HF]["status"] == 0  # the fetch log's "no HTTP answer at all"


def test_a_server_that_never_answers_times_out(upstream, papercli_home, monkeypatch):
    before = seed_store()
    serve_good_source(upstream)
    monkeypatch.setenv("PAPERCLI_TIMEOUT", "0.3")
    monkeypatch.setenv("PAPERCLI_RETRIES", "1")
    with raw_server([], answer=False) as (hung, arrivals):
        monkeypatch.setenv("PAPERCLI_HF_URL", hung)
        started = time.monotonic()
        result = run_beside_good_source(papercli_home, "hf:2024-08-02")
        elapsed = time.monotonic() - started
    line = (
        f"{HF}: {hung.removeprefix('http://')} timed out (no answer within 0.3 s) for "
        f"{hung}{HF_PATH}; " + RETRY_HINT
    )
    assert_one_error(result, ExitCode.NETWORK, line)
    assert len(arrivals) == 2  # the first try and one retry
    assert 0.6 <= elapsed < 10
    assert_store_kept(before, HF)
    assert_logged_failure(HF, line)


def test_a_server_that_stalls_mid_body_times_out(papercli_home, monkeypatch, upstream):
    before = seed_store()
    serve_good_source(upstream)
    monkeypatch.setenv("PAPERCLI_TIMEOUT", "0.3")
    monkeypatch.setenv("PAPERCLI_RETRIES", "1")
    page = HF_DAY.read_bytes()
    half = http_answer(page[: len(page) // 2], declared=len(page))
    with raw_server([half], hang_up=False) as (stalling, arrivals):
        monkeypatch.setenv("PAPERCLI_HF_URL", stalling)
        result = run_beside_good_source(papercli_home, "hf:2024-08-02")
        assert len(arrivals) == 2
    line = (
        f"{HF}: {stalling.removeprefix('http://')} timed out (no answer within 0.3 s) for "
        f"{stalling}{HF_PATH}; " + RETRY_HINT
    )
    assert_one_error(result, ExitCode.NETWORK, line)
    assert_store_kept(before, HF)
    assert_logged_failure(HF, line)


# --- servers that answer with errors ------------------------------------------------------------


def test_429_with_retry_after_is_waited_for(upstream):
    arrivals: list[float] = []

    def handler(request: Request) -> Response:
        arrivals.append(time.monotonic())
        if len(arrivals) == 1:
            return Response("slow down", status=429, headers={"Retry-After": "1"})
        return Response(HF_DAY.read_bytes(), content_type="application/json")

    upstream.expect_request("/api/daily_papers").respond_with_handler(handler)
    result = run_cli("fetch", "hf", "--date", "2024-08-02")
    assert result.code == 0, result.err
    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 0.95
    assert len(stored()) == 16


def test_429_asking_for_an_hour_is_not_waited_for(upstream, papercli_home):
    before = seed_store()
    serve_good_source(upstream)
    upstream.expect_request("/api/daily_papers").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "3600"}
    )
    started = time.monotonic()
    result = run_beside_good_source(papercli_home, "hf:2024-08-02")
    assert time.monotonic() - started < 10
    assert result.code == ExitCode.NETWORK
    (line,) = error_lines(result.err)
    assert re.fullmatch(
        rf"Error: {HF}: {re.escape(host_of(upstream))} answered 429 Too Many Requests and asks "
        rf"papercli to wait 3600 s \(over max_retry_after=120 s\) for "
        rf"{re.escape(base_of(upstream) + HF_PATH)}; try again after "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC",
        line,
    ), line
    assert len([r for r, _ in upstream.log if r.path == "/api/daily_papers"]) == 1
    assert_store_kept(before, HF)


def test_503_then_success(upstream):
    upstream.expect_ordered_request("/api/daily_papers").respond_with_data("busy", status=503)
    upstream.expect_ordered_request("/api/daily_papers").respond_with_data("busy", status=503)
    upstream.expect_ordered_request("/api/daily_papers").respond_with_data(
        HF_DAY.read_bytes(), content_type="application/json"
    )
    result = run_cli("fetch", "hf", "--date", "2024-08-02")
    assert result.code == 0, result.err
    assert len(stored()) == 16
    entry = status()["by_source"][HF]
    assert (entry["ok"], entry["status"], entry["new"]) == (True, 200, 16)


def test_503_every_time(upstream, papercli_home):
    before = seed_store()
    serve_good_source(upstream)
    upstream.expect_request("/api/daily_papers").respond_with_data("busy", status=503)
    result = run_beside_good_source(papercli_home, "hf:2024-08-02")
    line = (
        f"{HF}: {host_of(upstream)} answered 503 Service Unavailable for "
        f"{base_of(upstream)}{HF_PATH} (3 attempts); " + RETRY_HINT
    )
    assert_one_error(result, ExitCode.NETWORK, line)
    assert len([r for r, _ in upstream.log if r.path == "/api/daily_papers"]) == 3
    assert_store_kept(before, HF)
    assert_logged_failure(HF, line)
    assert status()["by_source"][HF]["status"] == 503


# --- redirects --------------------------------------------------------------------------------


def redirect(server, path: str, location: str) -> None:
    server.expect_request(path).respond_with_data("", status=302, headers={"Location": location})


@pytest.mark.parametrize("kind", ["loop", "other-host", "file-scheme", "too-many"])
def test_refused_redirects(kind, upstream, papercli_home):
    before = seed_store()
    serve_good_source(upstream)
    base, host = base_of(upstream), host_of(upstream)
    start = f"{base}{LISTING_PATH}"
    if kind == "loop":
        redirect(upstream, "/list/astro-ph/new", "/moved")
        redirect(upstream, "/moved", LISTING_PATH)
        detail = (
            f"{host} redirects in a loop ({base}/moved -> {start}); the server is misconfigured; "
            "try again later or check the URL"
        )
    elif kind == "other-host":
        # The same server under another name: following it would show up in the server's log.
        elsewhere = f"http://127.0.0.1:{upstream.port}/list/astro-ph/new"
        redirect(upstream, "/list/astro-ph/new", elsewhere)
        detail = (
            f"refused the redirect from {host} to another host: {elsewhere}; if that host is "
            "right, use it as the base URL in [fetch] of the config"
        )
    elif kind == "file-scheme":
        redirect(upstream, "/list/astro-ph/new", "file:///etc/passwd")
        detail = (
            f"refused the redirect from {start} to file:///etc/passwd (unsafe scheme); check the "
            "URL in the source settings"
        )
    else:
        redirect(upstream, "/list/astro-ph/new", "/hop1")
        for hop in range(1, 7):
            redirect(upstream, f"/hop{hop}", f"/hop{hop + 1}")
        detail = f"{host} redirected more than 5 times from {start}; check the URL in the source "
        detail += "settings"
    result = run_beside_good_source(papercli_home, "arxiv:astro-ph")
    line = f"{LISTING}: {detail}"
    assert_one_error(result, ExitCode.NETWORK, line)
    assert_store_kept(before, LISTING)
    assert_logged_failure(LISTING, line)
    paths = [request.path for request, _ in upstream.log]
    assert paths.count("/list/astro-ph/new") == 1
    assert len(paths) <= 1 + 6 + 1  # the start, at most MAX_REDIRECTS + 1 hops, the good source


@pytest.mark.parametrize("kind", ["backslash-at", "same-host-other-port"])
def test_redirects_judged_where_they_connect(kind, upstream, papercli_home, monkeypatch):
    """The redirect comes from a raw server: an HTTP library would percent-encode the backslash."""
    before = seed_store()
    # The good source of this run is the RSS feed on the usual server.
    upstream.expect_request("/rss/cs.LG").respond_with_data(
        (RSS_DIR / "empty_rss_mock_feed.xml").read_bytes()
    )
    write_sources(papercli_home, "arxiv:astro-ph", "rss:cs.LG")
    hidden = ASTRO_PH.read_bytes()  # what the other service would hand out if it were reached
    answers: list[bytes] = []
    with raw_server([http_answer(hidden)]) as (other, arrivals), raw_server(answers) as (base, _):
        monkeypatch.setenv("PAPERCLI_ARXIV_URL", base)
        host, other_port = base.split("//")[1], other.rsplit(":", 1)[1]
        if kind == "backslash-at":
            # urlsplit: 127.0.0.1 on the same port; urllib3 (the connection): the other port.
            elsewhere = f"http://127.0.0.1:{other_port}\\@{host}/list/astro-ph/new"
            detail = (
                f"refused the redirect from {host} to {elsewhere!r} (the URL carries credentials "
                "or does not name one host unambiguously); check the URL in the source settings"
            )
        else:
            elsewhere = f"http://127.0.0.1:{other_port}/list/astro-ph/new"
            detail = (
                f"refused the redirect from {host} to another host: {elsewhere}; if that host is "
                "right, use it as the base URL in [fetch] of the config"
            )
        answers.append(
            f"HTTP/1.1 302 Found\r\nLocation: {elsewhere}\r\nContent-Length: 0\r\n\r\n".encode()
        )
        result = run_cli("fetch")
        assert arrivals == []
    assert result.code == ExitCode.NETWORK
    assert error_lines(result.err) == [f"Error: {LISTING}: {detail}"]
    assert stored() == before
    assert status()["by_source"]["rss:cs.LG"]["ok"] is True


# --- bodies that are cut short or too large -------------------------------------------------


def test_a_body_cut_short_every_time(papercli_home, monkeypatch, upstream):
    before = seed_store()
    serve_good_source(upstream)
    page = ASTRO_PH.read_bytes()
    cut = http_answer(page[: len(page) // 2], declared=len(page))
    with raw_server([cut]) as (base, arrivals):
        monkeypatch.setenv("PAPERCLI_ARXIV_URL", base)
        write_sources(papercli_home, "arxiv:astro-ph", "rss:cs.LG")
        # The good source of this run is the RSS feed on the usual server.
        upstream.expect_request("/rss/cs.LG").respond_with_data(
            (RSS_DIR / "empty_rss_mock_feed.xml").read_bytes()
        )
        result = run_cli("fetch")
        assert len(arrivals) == 3
    host = base.removeprefix("http://")
    assert result.code == ExitCode.NETWORK
    (line,) = error_lines(result.err)
    assert line == (
        f"Error: {LISTING}: the response from {host} was cut short (the connection dropped) for "
        f"{base}{LISTING_PATH}; " + RETRY_HINT
    )
    assert "Traceback" not in result.err
    assert stored() == before
    assert status()["by_source"]["rss:cs.LG"]["ok"] is True
    # A torn body is never cached: offline there is nothing to answer from.
    monkeypatch.setenv("PAPERCLI_ARXIV_URL", base)
    offline = run_cli("--offline", "fetch", "arxiv", "astro-ph")
    assert_one_error(
        offline,
        ExitCode.NETWORK,
        f"{LISTING}: {base}{LISTING_PATH} is not in the cache; run without --offline first to "
        "fetch it",
    )


def test_a_body_cut_short_once_is_fetched_again(monkeypatch):
    page = ASTRO_PH.read_bytes()
    answers = [http_answer(page[:1000], declared=len(page)), http_answer(page)]
    with raw_server(answers) as (base, arrivals):
        monkeypatch.setenv("PAPERCLI_ARXIV_URL", base)
        result = run_cli("fetch", "arxiv", "astro-ph")
        assert len(arrivals) == 2
    assert result.code == 0, result.err
    assert len(stored()) == 97


def test_a_50MB_response_is_refused_by_its_length(upstream, papercli_home):
    page = ASTRO_PH.read_bytes()
    huge = page * (50 * 2**20 // len(page) + 1)
    before = seed_store()
    serve_good_source(upstream)
    upstream.expect_request("/list/astro-ph/new").respond_with_data(huge)
    result = run_beside_good_source(papercli_home, "arxiv:astro-ph")
    line = (
        f"{LISTING}: the response from {host_of(upstream)} is larger than 50 MB ({len(huge)} "
        f"bytes or more) for {base_of(upstream)}{LISTING_PATH}; check the URL, or raise "
        "max_bytes in [fetch] (PAPERCLI_MAX_BYTES)"
    )
    assert_one_error(result, ExitCode.NETWORK, line)
    assert_store_kept(before, LISTING)
    assert_logged_failure(LISTING, line)


def test_a_50MB_response_without_a_length_is_cut_off_at_the_cap(upstream, papercli_home):
    """Streamed in chunks with no Content-Length: papercli stops reading at 50 MiB."""
    page = ASTRO_PH.read_bytes()
    sent: list[int] = []

    def endless(request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            for _ in range(60 * 2**20 // len(page) + 1):
                sent.append(len(page))
                yield page

        return Response(chunks(), content_type="text/html")

    before = seed_store()
    serve_good_source(upstream)
    upstream.expect_request("/list/astro-ph/new").respond_with_handler(endless)
    result = run_beside_good_source(papercli_home, "arxiv:astro-ph")
    assert result.code == ExitCode.NETWORK
    (line,) = error_lines(result.err)
    match = re.fullmatch(
        rf"Error: {LISTING}: the response from {re.escape(host_of(upstream))} is larger than "
        rf"50 MB \((\d+) bytes or more\) for {re.escape(base_of(upstream) + LISTING_PATH)}; "
        r"check the URL, or raise max_bytes in \[fetch\] \(PAPERCLI_MAX_BYTES\)",
        line,
    )
    assert match, line
    assert 50 * 2**20 < int(match.group(1)) <= 50 * 2**20 + 65536
    assert_store_kept(before, LISTING)


# --- offline -----------------------------------------------------------------------------------


def test_offline_answers_from_the_cache_and_never_touches_the_network(upstream, monkeypatch):
    upstream.expect_request("/list/astro-ph/new").respond_with_data(ASTRO_PH.read_bytes())
    assert run_cli("fetch", "arxiv", "astro-ph").code == 0
    before = stored()
    requests_so_far = len(upstream.log)
    upstream.clear_all_handlers()

    result = run_cli("--offline", "fetch", "arxiv", "astro-ph", "--json")
    assert result.code == 0, result.err
    assert '"from_cache": true' in result.out
    monkeypatch.setenv("PAPERCLI_OFFLINE", "1")
    assert run_cli("fetch", "arxiv", "astro-ph").code == 0
    assert len(upstream.log) == requests_so_far
    assert stored() == before
    entry = status()["by_source"][LISTING]
    assert (entry["ok"], entry["from_cache"], entry["unchanged"]) == (True, True, 97)


def test_offline_without_a_cached_copy(upstream, papercli_home):
    serve_good_source(upstream)
    assert run_cli("fetch", "arxiv", "q-fin").code == 0  # the good source is cached
    before = stored()
    write_sources(papercli_home, "hf:2024-08-02", "arxiv:q-fin")
    result = run_cli("--offline", "fetch")
    line = (
        f"{HF}: {base_of(upstream)}{HF_PATH} is not in the cache; run without --offline first to "
        "fetch it"
    )
    assert_one_error(result, ExitCode.NETWORK, line)
    assert stored() == before
    entry = status()["by_source"][GOOD_SOURCE]
    assert (entry["ok"], entry["from_cache"]) == (True, True)
