"""Time limits through the CLI, against a server on this machine that trickles its answer one
byte at a time (each read arrives well inside the socket timeout, so only a deadline ends it).

Promise: one request ends after `deadline` seconds and all the requests of one fetch or run after
`run_budget` seconds, with exit 4 and one error line per source naming the setting to raise; the
other sources still run, and nothing of the trickled page is stored.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from papercli.errors import ExitCode
from tests.cli_helpers import run_cli
from tests.reliability.support import (
    GOOD_COUNT,
    GOOD_SOURCE,
    HF_DAY,
    error_lines,
    serve_good_source,
    status,
    stored,
    write_sources,
)
from tests.smtp_server import Collector, running

HF = "hf:2024-08-02"
HF_PATH = "/api/daily_papers?date=2024-08-02&p=0&limit=50"
BYTE_EVERY = 0.02  # seconds: the real page would take about an hour to arrive


@contextmanager
def trickling(body: bytes) -> Iterator[tuple[str, list[int]]]:
    """A server on 127.0.0.1 answering every request with `body`, one byte per BYTE_EVERY s.
    Yields its base URL and, per request, how many body bytes it got out."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    sent: list[int] = []

    def answer(conn: socket.socket) -> None:
        index = len(sent)
        sent.append(0)
        with conn:
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request and (chunk := conn.recv(65536)):
                request += chunk
            head = f"HTTP/1.1 200 OK\r\nContent-Type: text/json\r\nContent-Length: {len(body)}"
            try:
                conn.sendall(head.encode() + b"\r\n\r\n")
                for byte in body:
                    if stop.wait(BYTE_EVERY):
                        return
                    conn.sendall(bytes([byte]))
                    sent[index] += 1
            except OSError:
                return  # the client gave up

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", sent
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.fixture
def upstream(httpserver, monkeypatch):
    base = httpserver.url_for("").rstrip("/")
    for name in ("ARXIV", "RSS", "API", "HF"):
        monkeypatch.setenv(f"PAPERCLI_{name}_URL", base)
    monkeypatch.setenv("PAPERCLI_TIMEOUT", "5")  # far longer than any gap between two bytes
    serve_good_source(httpserver)
    return httpserver


def timed(*args: str):
    started = time.monotonic()
    result = run_cli(*args)
    return result, time.monotonic() - started


def test_a_trickling_answer_ends_at_the_request_deadline(papercli_home, monkeypatch, upstream):
    monkeypatch.setenv("PAPERCLI_DEADLINE", "0.6")
    with trickling(HF_DAY.read_bytes()) as (base, sent):
        monkeypatch.setenv("PAPERCLI_HF_URL", base)
        write_sources(papercli_home, HF, GOOD_SOURCE)
        result, seconds = timed("fetch")
    host = base.removeprefix("http://")
    assert result.code == ExitCode.NETWORK
    assert error_lines(result.err) == [
        f"Error: {HF}: {host} did not finish the answer within 0.6 s for {base}{HF_PATH}; "
        "try again later, or raise deadline in [fetch] (PAPERCLI_DEADLINE)"
    ]
    assert seconds < 20, seconds  # the whole page: 47 min; a loaded machine is slow
    assert len(sent) == 1 and 0 < sent[0] < 100  # one try: a retry could not finish in time
    assert len(stored()) == GOOD_COUNT
    assert status()["by_source"][GOOD_SOURCE]["ok"] is True


def test_the_run_budget_ends_every_source_after_it(papercli_home, monkeypatch, upstream):
    monkeypatch.setenv("PAPERCLI_RUN_BUDGET", "0.8")
    with trickling(HF_DAY.read_bytes()) as (base, sent):
        monkeypatch.setenv("PAPERCLI_HF_URL", base)
        write_sources(papercli_home, HF, GOOD_SOURCE)
        result, seconds = timed("fetch")
    assert result.code == ExitCode.NETWORK
    budget = "the network time budget of this run (0.8 s) is used up; stopped at"
    hint = "try again later, or raise run_budget in [fetch] (PAPERCLI_RUN_BUDGET)"
    assert error_lines(result.err) == [
        f"Error: {HF}: {budget} {base}{HF_PATH}; {hint}",
        f"Error: {GOOD_SOURCE}: {budget} {upstream.url_for('')}list/q-fin/new?skip=0&show=2000; "
        f"{hint}",
    ]
    assert seconds < 20, seconds  # the whole page: 47 min; a loaded machine is slow
    assert len(sent) == 1
    assert upstream.log == []  # the budget was gone before the second source began
    assert stored() == []


def test_a_scheduled_run_does_not_hang_on_a_trickling_source(papercli_home, monkeypatch, upstream):
    monkeypatch.setenv("PAPERCLI_DEADLINE", "0.5")
    with trickling(HF_DAY.read_bytes()) as (base, _), running(Collector()) as smtp:
        monkeypatch.setenv("PAPERCLI_HF_URL", base)
        (papercli_home / "config.toml").write_text(
            f"""
[smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "none"
from = "papercli <digest@example.org>"

[digest.daily]
sources = [{HF!r}, {GOOD_SOURCE!r}]
recipients = ["ana@example.org"]
"""
        )
        result, seconds = timed("run", "daily")
        assert result.code == ExitCode.NETWORK, result.err
        assert seconds < 30, seconds
        assert "did not finish the answer within 0.5 s" in result.err
        # The healthy source's papers still went out; the lock is free for the next tick.
        (msg,) = smtp.messages
        assert ": 13 papers in " in msg["Subject"], msg["Subject"]  # q-fin: 13 new or cross
        again, _ = timed("run", "daily")
        assert again.code == ExitCode.NETWORK
