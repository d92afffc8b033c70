"""The store under accidents: a fetch killed mid-run, two fetches at once, a wrong file given as
--db, and a store written by an older papercli. Real `python -m papercli` processes where a
process must die or two must overlap."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from papercli import store as store_module
from papercli.errors import ExitCode, StoreError
from papercli.store import Store
from tests.cli_helpers import run_cli
from tests.reliability.support import (
    ASTRO_PH,
    BROWSE,
    MATH_AG,
    RSS,
    assert_one_error,
    integrity,
    sha256,
    stored,
)

LISTING = "arxiv:astro-ph"


def paged_astro_ph(
    server: HTTPServer, *, delay: float = 0.0, gate: threading.Event | None = None
) -> list[int]:
    """/list/astro-ph/new in the four real pages of 25 (skip 0/25/50/75), later pages slowed by
    `delay` seconds or held until `gate` opens (at most 20 s). Returns the skips asked for."""
    asked: list[int] = []

    def handler(request: Request) -> Response:
        skip = int(request.args.get("skip", 0))
        asked.append(skip)
        if skip:
            if gate is not None:
                gate.wait(20)
            time.sleep(delay)
        body = (BROWSE / f"astro-ph_new_skip{skip}_show25.html").read_bytes()
        return Response(body, content_type="text/html; charset=utf-8")

    server.expect_request("/list/astro-ph/new").respond_with_handler(handler)
    return asked


@pytest.fixture
def threaded_server():
    """A local HTTP server answering requests in parallel, for processes that overlap."""
    server = HTTPServer(threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def papercli_process(home: Path, server: HTTPServer, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "PAPERCLI_HOME": str(home),
        "PAPERCLI_ARXIV_URL": server.url_for("").rstrip("/"),
        "PAPERCLI_MIN_INTERVAL": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "papercli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def count_papers(db: Path) -> int:
    """Papers committed so far, read the way a second process would (0 before the schema)."""
    try:
        conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return 0
    try:
        return conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_fetch_killed_mid_run_leaves_a_consistent_store(threaded_server, papercli_home):
    gate = threading.Event()
    asked = paged_astro_ph(threaded_server, gate=gate)
    db = papercli_home / "papers.db"
    killed = papercli_process(papercli_home, threaded_server, "fetch", "arxiv", "astro-ph")
    try:
        wait_for(lambda: count_papers(db) == 25)
        wait_for(lambda: 25 in asked)  # the second page is being served, slowly
        killed.send_signal(signal.SIGKILL)
        assert killed.wait(10) == -signal.SIGKILL
    finally:
        gate.set()
        killed.kill()
        killed.communicate()
    assert integrity(db) == "ok"
    assert count_papers(db) == 25

    again = papercli_process(papercli_home, threaded_server, "fetch", "arxiv", "astro-ph", "--json")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    (summary,) = json.loads(out)
    assert (summary["fetched"], summary["new"], summary["unchanged"]) == (97, 72, 25)
    rows = stored()
    assert len(rows) == len({row["id"] for row in rows}) == 97
    assert integrity(db) == "ok"
    conn = sqlite3.connect(db)
    try:
        orphans = conn.execute(
            "SELECT count(*) FROM paper_sources WHERE paper_id NOT IN (SELECT id FROM papers)"
        ).fetchone()[0]
        sources = conn.execute("SELECT count(*) FROM paper_sources").fetchone()[0]
    finally:
        conn.close()
    assert (orphans, sources) == (0, 97)


def test_two_fetches_at_once(threaded_server, papercli_home):
    paged_astro_ph(threaded_server, delay=0.05)
    runs = [
        papercli_process(papercli_home, threaded_server, "fetch", "arxiv", "astro-ph", "--json")
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    summaries = [json.loads(out)[0] for out, _ in outputs]
    assert [s["fetched"] for s in summaries] == [97, 97]
    # Each paper is new to exactly one of the two runs.
    assert sum(s["new"] for s in summaries) == 97
    rows = stored()
    assert len(rows) == len({row["id"] for row in rows}) == 97
    assert all(row["sources"] == [LISTING] for row in rows)
    db = papercli_home / "papers.db"
    assert integrity(db) == "ok"
    with Store(db) as store:
        assert len(store.fetch_log()) == 2


def test_processes_creating_the_store_together(tmp_path):
    """Cron and a user starting papercli on a store that does not exist yet: every process
    opens it (the first creates it and switches it to WAL, the others wait their turn)."""
    env = {**os.environ, "PAPERCLI_HOME": str(tmp_path)}
    for round_ in range(2):
        db = tmp_path / f"round{round_}.db"
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "papercli", "--db", str(db), "status", "--json"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        outputs = [run.communicate(timeout=60) for run in runs]
        assert [run.returncode for run in runs] == [0] * 4, [err for _, err in outputs]
        assert all(json.loads(out)["papers"] == 0 for out, _ in outputs)
        assert integrity(db) == "ok"


def test_a_new_store_opened_by_many_at_once(tmp_path):
    """The race above, many more times than processes allow: six connections open each new
    store at the same instant. Every one gets the store; none finds it "locked" or mistakes a
    half-created store for another application's file."""
    failures: list[str] = []
    for round_ in range(40):
        path = tmp_path / f"store{round_}.db"
        start = threading.Barrier(6)

        def open_store(path: Path = path, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                Store(path).close()
            except StoreError as exc:
                failures.append(str(exc))

        threads = [threading.Thread(target=open_store) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert failures == []


# --- a wrong file given as --db -----------------------------------------------------------------


def a_text_file(tmp_path: Path) -> Path:
    path = tmp_path / "feed.xml"
    path.write_bytes(RSS.read_bytes())
    return path


def another_apps_database(tmp_path: Path) -> Path:
    path = tmp_path / "places.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    conn.execute("INSERT INTO moz_places (url) VALUES ('https://arxiv.org/')")
    conn.commit()
    conn.close()
    return path


def fetched_store(tmp_path: Path) -> Path:
    """A real papercli store holding the astro-ph listing, closed cleanly."""
    path = tmp_path / "papers.db"
    assert run_cli("--db", str(path), "fetch", str(ASTRO_PH)).code == 0
    with Store(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def damaged_in_the_middle(tmp_path: Path) -> Path:
    """A papercli store whose pages after the schema were overwritten (a bad disk, a bad copy)."""
    path = fetched_store(tmp_path)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[4 * page :] = b"\x5a" * (len(data) - 4 * page)
    path.write_bytes(bytes(data))
    return path


def cut_in_half(tmp_path: Path) -> Path:
    path = fetched_store(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def from_a_newer_papercli(tmp_path: Path) -> Path:
    path = fetched_store(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    return path


NOT_OURS = "it was left untouched; pass another --db, or move the file away"
DAMAGED = (
    "is damaged (database disk image is malformed); restore it from a backup, or move it away "
    "and fetch again"
)
BAD_DBS = {
    "text-file": (a_text_file, "{path} is not a papercli store (it is not an SQLite database); "),
    "another-app": (
        another_apps_database,
        "{path} is not a papercli store (it is another application's SQLite database); ",
    ),
    "damaged": (damaged_in_the_middle, "the store {path} " + DAMAGED),
    "cut-in-half": (cut_in_half, "the store {path} " + DAMAGED),
    "newer": (
        from_a_newer_papercli,
        "the store {path} was written by a newer papercli (schema 99; this one knows up to "
        f"{len(store_module.MIGRATIONS)}); "
        "it was left untouched; upgrade papercli, or pass another --db",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_DBS))
@pytest.mark.parametrize(
    "command", [("status",), ("papers", "--json"), ("fetch", str(MATH_AG))], ids=lambda c: c[0]
)
def test_a_wrong_file_as_db_is_refused_and_left_as_it_was(kind, command, tmp_path):
    make, message = BAD_DBS[kind]
    path = make(tmp_path)
    before = sha256(path)
    neighbours = sorted(p.name for p in tmp_path.iterdir())
    result = run_cli("--db", str(path), *command)
    line = message.format(path=path)
    assert_one_error(result, ExitCode.STORE, line + (NOT_OURS if line.endswith("; ") else ""))
    assert sha256(path) == before
    if kind in ("text-file", "another-app"):
        # Not even SQLite's -wal/-shm/-journal companions appear beside another program's file.
        assert sorted(p.name for p in tmp_path.iterdir()) == neighbours


# --- older schemas ---------------------------------------------------------------------------


# What each migration step added, latest first: undoing them gives the store an older papercli left.
# The tables each later migration adds (a step that renames or adds a column adds none).
LATER_TABLES = {
    11: ("paper_filters",),
    10: (),
    9: ("paper_versions",),
    8: (),
    7: ("papers_search",),
    6: ("topic_model_state", "topic_labels", "topic_assignments", "stable_topics"),
    5: ("personal_model", "followed_authors", "library", "ratings"),
    4: (),
    3: ("delivered_papers", "deliveries"),
    2: ("fetch_log",),
}


def older_store(path: Path, version: int) -> list[dict]:
    """A store at schema `version`, holding the math.AG listing: fetched by this papercli, then
    stripped of the tables of later steps. Returns `papers --json` as it was before stripping."""
    assert run_cli("--db", str(path), "fetch", str(MATH_AG)).code == 0
    listed = run_cli("--db", str(path), "papers", "--json")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for step in range(len(store_module.MIGRATIONS), version, -1):
            for table in LATER_TABLES[step]:
                # Triggers that write into the table go with it (the search index's, the
                # filters').
                triggers = conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                    " AND (sql LIKE ? OR sql LIKE ? OR sql LIKE ?)",
                    (f"%INTO {table} %", f"%UPDATE {table} %", f"%FROM {table} %"),
                ).fetchall()
                for (trigger,) in triggers:
                    conn.execute(f"DROP TRIGGER {trigger}")
                conn.execute(f"DROP TABLE {table}")
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return [json.loads(line) for line in listed.out.splitlines()]


def schema_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_schema_is_migrated(version, tmp_path):
    path = tmp_path / "old.db"
    before = older_store(path, version)
    assert len(before) == 2
    assert schema_version(path) == version
    result = run_cli("--db", str(path), "status", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["papers"] == 2
    assert schema_version(path) == len(store_module.MIGRATIONS)
    listed = run_cli("--db", str(path), "papers", "--json")
    assert [json.loads(line) for line in listed.out.splitlines()] == before
    fetched = run_cli("--db", str(path), "fetch", str(ASTRO_PH))
    assert fetched.code == 0, fetched.err
    assert integrity(path) == "ok"


def test_a_migration_that_fails_changes_nothing(tmp_path):
    """A schema-1 store where a table of step 2 already exists (made by hand): the migration
    fails, the one-line error says so, and the file is exactly as it was."""
    path = tmp_path / "old.db"
    older_store(path, 1)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE fetch_log (x)")
    conn.commit()
    conn.close()
    before = sha256(path)
    result = run_cli("--db", str(path), "status")
    assert_one_error(
        result,
        ExitCode.STORE,
        f"cannot use the store {path}: table fetch_log already exists; check the file and its "
        "folder, or pass another --db",
    )
    assert sha256(path) == before
