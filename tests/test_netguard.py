"""The suite's loopback-only guard works: a connection or lookup elsewhere is refused and
recorded, and papercli pointed at a real upstream fails instead of reaching it."""

from __future__ import annotations

import socket

import pytest

from tests import netguard
from tests.cli_helpers import run_cli


def test_a_connection_off_loopback_is_refused_and_recorded() -> None:
    with socket.socket() as sock, pytest.raises(netguard.NonLoopbackConnection):
        sock.connect(("192.0.2.1", 80))  # TEST-NET-1: would time out, never reach anything
    with pytest.raises(netguard.NonLoopbackConnection):
        socket.getaddrinfo("arxiv.org", 443)
    assert netguard.attempts == ["192.0.2.1:80", "a lookup of 'arxiv.org'"]
    netguard.attempts.clear()  # expected here; any other test with attempts fails


def test_loopback_is_allowed(httpserver) -> None:
    httpserver.expect_request("/").respond_with_data("ok")
    for host in ("127.0.0.1", "localhost"):
        with socket.create_connection((host, httpserver.port), timeout=5):
            pass
    assert netguard.attempts == []


def test_papercli_left_at_the_real_arxiv_cannot_reach_it(monkeypatch) -> None:
    monkeypatch.setenv("PAPERCLI_RETRIES", "0")
    result = run_cli("fetch", "arxiv", "cs.LG")
    assert result.code != 0
    assert netguard.attempts, "the fetch should have tried arxiv.org and been stopped"
    netguard.attempts.clear()
