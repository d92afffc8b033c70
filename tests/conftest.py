"""Shared test fixtures: every test runs with its own papercli home, never the user's."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures"
EXAMPLES = ROOT / "examples"


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
