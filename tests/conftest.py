"""Shared test fixtures: every test runs with its own papercli home, never the user's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import netguard

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures"
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True, scope="session")
def _loopback_only():
    """No test connects anywhere but loopback (see tests/netguard.py)."""
    netguard.install()
    yield
    netguard.uninstall()


@pytest.fixture(autouse=True)
def _no_connection_left_loopback(_loopback_only):
    netguard.attempts.clear()
    yield
    tried, netguard.attempts[:] = list(netguard.attempts), []
    assert not tried, f"the test tried to leave loopback: {tried}"


@pytest.fixture(autouse=True)
def papercli_home(tmp_path_factory, monkeypatch) -> Path:
    """Point papercli's home at a temp dir and make HTTP impolite-fast for tests."""
    home = tmp_path_factory.mktemp("papercli-home")
    monkeypatch.setenv("PAPERCLI_HOME", str(home))
    for name in ("PAPERCLI_DB", "PAPERCLI_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAPERCLI_MIN_INTERVAL", "0")
    monkeypatch.setenv("PAPERCLI_BACKOFF", "0.01")
    return home


@pytest.fixture
def fixtures() -> Path:
    """The shared real pages (../shared/fixtures from the project root)."""
    assert FIXTURES.is_dir(), f"missing {FIXTURES}: tests need ../shared/fixtures"
    return FIXTURES


@pytest.fixture
def upstream(httpserver, monkeypatch):
    """Every upstream base URL (arXiv, RSS, API, Hugging Face) points at the local server."""
    base = httpserver.url_for("").rstrip("/")
    for name in ("ARXIV", "RSS", "API", "HF"):
        monkeypatch.setenv(f"PAPERCLI_{name}_URL", base)
    return httpserver
