"""Shared helpers for the reliability suite: the real pages, a second good source for every run,
and readers of what a user sees afterwards (`papers --json`, `status --json`, the error lines).

Every broken input in this suite is derived from a real saved page in ../shared/fixtures.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

from tests.cli_helpers import Result, run_cli
from tests.conftest import FIXTURES

BROWSE = FIXTURES / "arxiv-list" / "rendered-by-arxiv-browse"
ASTRO_PH = BROWSE / "astro-ph_new.html"  # one page: 97 entries (53 new, 4 cross, 40 replaced)
PAST_THE_END = BROWSE / "astro-ph_new_skip100_show25.html"  # "No updates today."
Q_FIN = BROWSE / "q-fin_new.html"  # 16 entries: the good source of every mixed run
MATH_AG = BROWSE / "math.AG_new.html"  # 2 entries: the papers already in the store
HF_DAY = FIXTURES / "hf-daily" / "api" / "daily_papers_date-2024-08-02.json"
HF_CORRUPT = FIXTURES / "hf-daily" / "api" / "CORRUPT-not-api_2024-12-11.json"
HF_ERROR = FIXTURES / "hf-daily" / "api" / "api-error-body_deep-diver_papers.json"
HF_PAGE = FIXTURES / "hf-daily" / "html" / "papers_date-2024-08-01_slbqc.html"
RSS_DIR = FIXTURES / "arxiv-rss" / "jmmeus-aioarxiv-2024-11-28"
RSS = RSS_DIR / "rss_mock_feed.xml"  # 1,504 items
RSS_ERROR = RSS_DIR / "error_rss_mock_feed.xml"
API_DIR = FIXTURES / "arxiv-api" / "2026"
API_BODY = API_DIR / "q_testing_s0_m100_cfe7536492ca.body.xml"  # 100 entries of 214,881
API_ERROR = API_DIR / "id_abc_s0_m100_b79c8dcf6bc3.body.xml"  # HTTP 400, an Error entry

GOOD_SOURCE = "arxiv:q-fin"
GOOD_COUNT = 16
BASELINE_SOURCE = "file:math.AG_new.html"


def serve_good_source(server) -> None:
    """The second source of every mixed run: /list/q-fin/new, 16 papers."""
    server.expect_request("/list/q-fin/new").respond_with_data(
        Q_FIN.read_bytes(), content_type="text/html; charset=utf-8"
    )


def write_sources(home: Path, *sources: str) -> None:
    """The config file's `sources` list, for a plain `papercli fetch`."""
    (home / "config.toml").write_text(f"sources = {json.dumps(list(sources))}\n")


def seed_store() -> list[dict]:
    """Put two papers in the store from a saved file; returns `papers --json` afterwards."""
    result = run_cli("fetch", str(MATH_AG))
    assert result.code == 0, result.err
    rows = stored()
    assert len(rows) == 2
    return rows


def stored(*args: str) -> list[dict]:
    """`papercli papers --json` as a list of dicts."""
    result = run_cli("papers", "--json", *args)
    assert result.code == 0, result.err
    return [json.loads(line) for line in result.out.splitlines()]


def status() -> dict:
    """`papercli status --json`, with its sources by name."""
    result = run_cli("status", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    data["by_source"] = {entry["source"]: entry for entry in data["sources"]}
    return data


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("Error: ")]


def assert_one_error(result: Result, code: int, line: str) -> None:
    """Exactly one error line, exactly `line`, the documented code, and no traceback."""
    assert result.code == code, result.err
    assert error_lines(result.err) == [f"Error: {line}"], result.err
    assert "Traceback" not in result.err


def assert_store_kept(before: list[dict], source: str) -> list[dict]:
    """The papers stored before are byte for byte the same, `source` stored nothing, and the good
    source of the same run was stored in full. Returns the rows now stored."""
    after = stored()
    by_id = {row["id"]: row for row in after}
    assert [by_id.get(row["id"]) for row in before] == before
    assert stored("--source", source) == []
    assert len(stored("--source", GOOD_SOURCE)) == GOOD_COUNT
    assert len(after) == len(before) + GOOD_COUNT
    return after


def assert_logged_failure(source: str, line: str) -> None:
    """`status` shows the source's last fetch failed with `line`, and the good source ok."""
    by_source = status()["by_source"]
    assert by_source[source]["ok"] is False
    assert by_source[source]["error"] == line
    assert by_source[GOOD_SOURCE]["ok"] is True
    assert by_source[GOOD_SOURCE]["fetched"] == GOOD_COUNT


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def between(data: bytes, start: bytes, end: bytes, *, after: int = 0) -> tuple[int, int]:
    """(begin, stop) of the first `start`...`end` span at or after `after` (end included)."""
    begin = data.index(start, after)
    return begin, data.index(end, begin) + len(end)


def replace_count(pattern: bytes, repl: bytes, data: bytes, count: int) -> bytes:
    """re.subn that insists on exactly `count` replacements, so a derivation cannot silently
    stop matching the fixture."""
    new, n = re.subn(pattern, repl, data)
    assert n == count, f"{pattern!r} matched {n} times, expected {count}"
    return new
