"""The local SQLite store: migrations, paper upserts, the fetch log and digest deliveries.

Nothing else in papercli touches the database. Every write is one `BEGIN IMMEDIATE`
transaction, so two papercli processes sharing a store take turns (waiting up to `timeout`
seconds) instead of failing or losing each other's merges. The schema only changes through the
ordered `@migration` functions below, tracked by `PRAGMA user_version`; `PRAGMA application_id`
marks the file as papercli's, and a file that is not ours is refused without being touched.

Timestamps are ISO 8601 UTC strings passed in by the caller (`now()` is the default), so every
function can be tested at a fixed time.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, astuple, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from papercli.errors import StoreError, UsageError
from papercli.models import Page, Paper, StableTopic, TopicAssignment, split_arxiv_id

# b"PapC": lets papercli tell its own store from any other SQLite file.
APPLICATION_ID = 0x50617043
_SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_APPLICATION_ID = slice(68, 72)  # big-endian, see sqlite.org/fileformat.html

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register `fn` as the next schema step; never reorder or edit a released one."""
    MIGRATIONS.append(fn)
    return fn


def _run(conn: sqlite3.Connection, script: str) -> None:
    # Not executescript(): it may COMMIT first, and migrations must stay in one transaction.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


@migration
def m001_papers(conn: sqlite3.Connection) -> None:
    _run(
        conn,
        """
        CREATE TABLE papers (
            id TEXT PRIMARY KEY,
            version INTEGER,
            title TEXT NOT NULL DEFAULT '',
            authors TEXT NOT NULL DEFAULT '[]',
            abstract TEXT NOT NULL DEFAULT '',
            categories TEXT NOT NULL DEFAULT '[]',
            primary_category TEXT,
            published TEXT,
            updated TEXT,
            comments TEXT,
            journal_ref TEXT,
            doi TEXT,
            url TEXT,
            announce_type TEXT,
            upvotes INTEGER,
            num_comments INTEGER,
            github_repo TEXT,
            github_stars INTEGER,
            ai_summary TEXT,
            ai_keywords TEXT NOT NULL DEFAULT '[]',
            first_seen TEXT NOT NULL,
            content_hash TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX papers_first_seen ON papers (first_seen, id);
        -- One row per (paper, source): a paper HF features days after arXiv listed it is
        -- still "new on hf today".
        CREATE TABLE paper_sources (
            paper_id TEXT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
            source TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            PRIMARY KEY (paper_id, source)
        ) WITHOUT ROWID;
        """,
    )


@migration
def m002_fetch_log(conn: sqlite3.Connection) -> None:
    _run(
        conn,
        """
        CREATE TABLE fetch_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            source TEXT NOT NULL,
            url TEXT,
            status INTEGER,
            fetched INTEGER,
            new INTEGER,
            updated INTEGER,
            unchanged INTEGER,
            error TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            from_cache INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX fetch_log_source ON fetch_log (source, finished_at);
        """,
    )


@migration
def m003_deliveries(conn: sqlite3.Connection) -> None:
    _run(
        conn,
        """
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            digest TEXT NOT NULL,
            recipient TEXT NOT NULL,
            message_id TEXT NOT NULL,
            delivered_at TEXT NOT NULL
        );
        CREATE INDEX deliveries_digest ON deliveries (digest, recipient);
        CREATE TABLE delivered_papers (
            delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
            paper_id TEXT NOT NULL REFERENCES papers (id),
            PRIMARY KEY (delivery_id, paper_id)
        ) WITHOUT ROWID;
        """,
    )


@migration
def m004_one_source_name(conn: sqlite3.Connection) -> None:
    """Source names as papercli writes them everywhere since: 'arxiv-listing:cs.LG/new' ->
    'arxiv:cs.LG', 'arxiv-listing:cs.LG/recent' -> 'arxiv:cs.LG/recent', 'arxiv-rss:X' ->
    'rss:X', 'arxiv-api:Q' -> 'api:Q', 'url:U' -> 'U', 'file:NAME' -> 'NAME'."""

    def renamed(old: str) -> str:
        prefix, _, rest = old.partition(":")
        if prefix == "arxiv-listing":
            return "arxiv:" + (rest[: -len("/new")] if rest.endswith("/new") else rest)
        new_prefix = {"arxiv-rss": "rss:", "arxiv-api": "api:", "url": "", "file": ""}
        return new_prefix[prefix] + rest if prefix in new_prefix and rest else old

    for (old,) in conn.execute("SELECT DISTINCT source FROM paper_sources").fetchall():
        if renamed(old) != old:
            # A paper already listed under the new name keeps that row (OR IGNORE).
            conn.execute(
                "UPDATE OR IGNORE paper_sources SET source = ? WHERE source = ?",
                (renamed(old), old),
            )
            conn.execute("DELETE FROM paper_sources WHERE source = ?", (old,))
    for (old,) in conn.execute("SELECT DISTINCT source FROM fetch_log").fetchall():
        if renamed(old) != old:
            conn.execute("UPDATE fetch_log SET source = ? WHERE source = ?", (renamed(old), old))


@migration
def m005_personal_signals(conn: sqlite3.Connection) -> None:
    """What the reader told papercli (see papercli.personal): ratings of stored papers, their
    own library (with its own text when the paper is not stored), followed authors, and the
    ranking model trained from them (one row, replaced when the signals change). IF NOT EXISTS:
    a store set back to an earlier schema (as tests do) passes through it again unharmed."""
    _run(
        conn,
        """
        CREATE TABLE IF NOT EXISTS ratings (
            paper_id TEXT PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
            rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
            rated_at TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS library (
            key TEXT PRIMARY KEY,
            paper_id TEXT REFERENCES papers (id) ON DELETE SET NULL,
            title TEXT NOT NULL,
            abstract TEXT NOT NULL DEFAULT '',
            authors TEXT NOT NULL DEFAULT '[]',
            origin TEXT NOT NULL,
            added_at TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS followed_authors (
            name TEXT PRIMARY KEY,
            followed_at TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS personal_model (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            signature TEXT NOT NULL,
            trained_at TEXT NOT NULL,
            model TEXT NOT NULL
        );
        """,
    )


@migration
def m006_stable_topics(conn: sqlite3.Connection) -> None:
    """The topic model kept from day to day (topics/stable.py): topics with stable ids, each
    paper's topic (NULL while it waits for one), the labels a topic has had, and the model's
    settings and last day."""
    _run(
        conn,
        """
        CREATE TABLE IF NOT EXISTS stable_topics (
            id INTEGER PRIMARY KEY,
            label TEXT NOT NULL,
            terms TEXT NOT NULL DEFAULT '[]',
            size INTEGER NOT NULL DEFAULT 0,
            born TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            retired TEXT,
            centroid TEXT NOT NULL DEFAULT '{}',
            label_terms TEXT NOT NULL DEFAULT '[]',
            spellings TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE IF NOT EXISTS topic_assignments (
            paper_id TEXT PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
            topic_id INTEGER REFERENCES stable_topics (id),
            day TEXT NOT NULL,
            similarity REAL NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS topic_assignments_topic ON topic_assignments (topic_id, day);
        CREATE INDEX IF NOT EXISTS topic_assignments_day ON topic_assignments (day, paper_id);
        CREATE TABLE IF NOT EXISTS topic_labels (
            topic_id INTEGER NOT NULL REFERENCES stable_topics (id),
            since TEXT NOT NULL,
            label TEXT NOT NULL,
            PRIMARY KEY (topic_id, since)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS topic_model_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    )


@migration
def m007_search_index(conn: sqlite3.Connection) -> None:
    """Full-text search (FTS5) over titles, abstracts and authors, built from the
    papers already stored. Triggers keep it in step with every write to `papers`, inside the
    same transaction, so a page either lands searchable or not at all. Safe to run again on a
    store that has the index: it is rebuilt."""
    columns = "title, abstract, authors"
    old = "old.title, old.abstract, old.authors"
    new = "new.title, new.abstract, new.authors"
    delete = (
        f"INSERT INTO papers_search (papers_search, rowid, {columns})"
        f" VALUES ('delete', old.rowid, {old});"
    )
    insert = f"INSERT INTO papers_search (rowid, {columns}) VALUES (new.rowid, {new});"
    # External content: the text lives once, in `papers`; the index holds only the postings.
    # Diacritics folded, so 'Muller' finds 'Müller'.
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS papers_search USING fts5({columns}, content='papers',"
        " content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')"
    )
    trigger = "CREATE TRIGGER IF NOT EXISTS papers_search"
    conn.execute(f"{trigger}_insert AFTER INSERT ON papers BEGIN {insert} END")
    conn.execute(f"{trigger}_delete AFTER DELETE ON papers BEGIN {delete} END")
    # Re-indexed only when the text changed: a re-fetch that refreshes upvotes costs nothing.
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in columns.split(", "))
    conn.execute(
        f"{trigger}_update AFTER UPDATE OF {columns} ON papers"
        f" WHEN {changed} BEGIN {delete} {insert} END"
    )
    conn.execute("INSERT INTO papers_search (papers_search) VALUES ('rebuild')")


# bm25 weights of the search index's columns: title, abstract, authors.
SEARCH_WEIGHTS = (5.0, 1.0, 2.0)
_SEARCH_MMAP = 1 << 30  # bytes of the store a search may read through memory mapping
# How SQLite words an FTS5 query it cannot read (as opposed to a store that is broken).
_QUERY_ERRORS = ("fts5:", "no such column", "unterminated string", "unknown special query")


@migration
def m008_project_page(conn: sqlite3.Connection) -> None:
    """The project page Hugging Face gives for a paper, a link on its digest card."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(papers)")}
    if "project_page" not in columns:
        _run(conn, "ALTER TABLE papers ADD COLUMN project_page TEXT;")


@migration
def m009_version_seen(conn: sqlite3.Connection) -> None:
    """When papercli first stored each version of a paper, so a feed's entry can say when its
    current version appeared even where the source dates only the first one (listings, RSS).
    Papers stored before this know only their current version, as of their first_seen."""
    _run(
        conn,
        """
        CREATE TABLE IF NOT EXISTS paper_versions (
            paper_id TEXT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            first_seen TEXT NOT NULL,
            PRIMARY KEY (paper_id, version)
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO paper_versions (paper_id, version, first_seen)
            SELECT id, version, first_seen FROM papers WHERE version IS NOT NULL;
        """,
    )


@migration
def m010_search_merges(conn: sqlite3.Connection) -> None:
    """A stored page costs the search index less. FTS5 writes each page's postings as a small
    segment and by default merges segments four at a time as pages arrive; on a store whose index
    migration 7 built (100,000 papers), storing a 397-paper page then took 66 ms of CPU against
    13 ms without the index, most of it carrying on merges that build had left half-done.
    Merged into one segment first and then eight at a time, the same page takes 29 ms."""
    conn.execute("INSERT INTO papers_search (papers_search, rank) VALUES ('automerge', 8)")
    conn.execute("INSERT INTO papers_search (papers_search) VALUES ('optimize')")


@migration
def m011_search_filters(conn: sqlite3.Connection) -> None:
    """Each paper's first_seen and categories in a narrow table of their own, kept by triggers in
    the same transaction as `papers`. A search filter reads one of these rows per match of its
    words; a `papers` row carries the whole abstract, so on 100,000 papers a common word with
    `--category` read 52,000 wide rows (47 ms) where these take 22 ms."""
    _run(
        conn,
        """
        CREATE TABLE IF NOT EXISTS paper_filters (
            paper INTEGER PRIMARY KEY,  -- the rowid of the paper in `papers`
            first_seen TEXT NOT NULL,
            categories TEXT NOT NULL
        );
        INSERT OR REPLACE INTO paper_filters (paper, first_seen, categories)
            SELECT rowid, first_seen, categories FROM papers;
        """,
    )
    # (Plain INSERT and UPDATE: a trigger's OR REPLACE gives way to the outer statement's
    # conflict policy.)
    trigger = "CREATE TRIGGER IF NOT EXISTS paper_filters"
    conn.execute(
        f"{trigger}_insert AFTER INSERT ON papers BEGIN"
        " INSERT INTO paper_filters (paper, first_seen, categories)"
        " VALUES (new.rowid, new.first_seen, new.categories); END"
    )
    conn.execute(
        f"{trigger}_update AFTER UPDATE OF first_seen, categories ON papers BEGIN"
        " UPDATE paper_filters SET first_seen = new.first_seen, categories = new.categories"
        " WHERE paper = new.rowid; END"
    )
    conn.execute(
        f"{trigger}_delete AFTER DELETE ON papers"
        " BEGIN DELETE FROM paper_filters WHERE paper = old.rowid; END"
    )


def now() -> str:
    """The current time as papercli stores it, e.g. '2024-08-02T09:30:00Z'."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_utc(text: str) -> str:
    """Normalise an ISO 8601 date or time to UTC, so stored times compare as strings.

    '2024-08-02T11:30:00+02:00' -> '2024-08-02T09:30:00Z'; '2024-08-02' -> '2024-08-02T00:00:00Z'
    (a time without offset is taken as UTC). Raises ValueError for anything else.
    """
    try:
        # Python 3.10's fromisoformat does not read the 'Z' suffix.
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise ValueError(f"not an ISO 8601 date or time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class UpsertCounts:
    """What one upsert did: `fetched` = new + updated + unchanged."""

    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.fetched + other.fetched,
            self.new + other.new,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


@dataclass
class FetchLogEntry:
    """One fetch of one source. ok with new == 0 is "nothing announced"; not ok is a failure.

    The counts are None when the fetch stored no page (it failed before the first one).
    """

    id: int
    source: str
    url: str | None
    status: int | None
    fetched: int | None
    new: int | None
    updated: int | None
    unchanged: int | None
    error: str | None
    started_at: str
    finished_at: str
    from_cache: bool

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def counts(self) -> UpsertCounts | None:
        if self.fetched is None:
            return None
        return UpsertCounts(self.fetched, self.new or 0, self.updated or 0, self.unchanged or 0)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


_LOG_FIELDS = tuple(f.name for f in fields(FetchLogEntry))
_LOG_COLUMNS = ", ".join(_LOG_FIELDS)


@dataclass
class Delivery:
    """One digest sent to one recipient, and the papers it carried (sorted by id)."""

    id: int
    digest: str
    recipient: str
    message_id: str
    delivered_at: str
    paper_ids: list[str]


# --- merging ---------------------------------------------------------------------------------
# Papers are merged as stored rows (lists as JSON text), so an unchanged paper costs no decoding.

_LIST_FIELDS = ("authors", "categories", "ai_keywords")
# Fields that belong to one version of the paper: the higher version's wins.
_VERSIONED = (
    "title",
    "authors",
    "abstract",
    "categories",
    "primary_category",
    "comments",
    "journal_ref",
    "doi",
    "url",
)
# Hugging Face's social and AI fields, and how the paper was last announced: the latest wins.
_LATEST = (
    "announce_type",
    "upvotes",
    "num_comments",
    "github_repo",
    "github_stars",
    "project_page",
    "ai_summary",
    "ai_keywords",
)
# What "updated" means: a change in these (the paper itself), not in _LATEST or its sources.
_CONTENT = ("version", *_VERSIONED, "published", "updated")
_COLUMNS = ("id", *_CONTENT, *_LATEST, "first_seen", "content_hash")
_SELECT_PAPERS = ", ".join(f"p.{name}" for name in _COLUMNS)
_UPSERT = (
    f"INSERT INTO papers ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + c for c in _COLUMNS)})"
    " ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c not in ("id", "first_seen"))
)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == "[]"


def _row(paper: Paper) -> dict[str, Any]:
    row = {name: getattr(paper, name) for name in _COLUMNS[:-2]}
    for name in _LIST_FIELDS:
        row[name] = json.dumps(row[name], ensure_ascii=False)
    return row


def _content_hash(row: dict[str, Any]) -> str:
    content = json.dumps([row[name] for name in _CONTENT], ensure_ascii=False)
    return hashlib.sha1(content.encode()).hexdigest()


def _recency(stored: int | None, incoming: int | None) -> int:
    """1 if `incoming` is a later version, -1 if an earlier one, 0 if the same or unknown.

    A source that gives no version (Hugging Face) never outranks one that does (arXiv).
    """
    if incoming is None:
        return 0
    if stored is None or incoming > stored:
        return 1
    return -1 if incoming < stored else 0


def _words(text: str | None) -> int:
    """The length of `text` with runs of whitespace counted as one space."""
    return len(" ".join((text or "").split()))


def merge_rows(stored: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """The stored row with what `incoming` adds; neither side's non-empty field is lost.

    The higher version's title, abstract, authors, ... win; at the same (or an unknown) version
    the stored values stay and empty ones are filled in, except that a longer abstract replaces
    a shorter (truncated) one. Upvotes, stars, AI fields and announce_type: the latest non-empty.
    `published` is the earliest date seen, `updated` the latest, `first_seen` never changes.
    """
    order = _recency(stored["version"], incoming["version"])
    merged = dict(stored)
    for name in _VERSIONED:
        value = incoming[name]
        if not _empty(value) and (order > 0 or _empty(stored[name])):
            merged[name] = value
    abstract = incoming["abstract"]
    if (
        order == 0
        and abstract != stored["abstract"]
        and _words(abstract) > _words(stored["abstract"])
    ):
        merged["abstract"] = abstract
    if order > 0:
        merged["version"] = incoming["version"]
    dates = [d for d in (stored["published"], incoming["published"]) if not _empty(d)]
    merged["published"] = min(dates, default=stored["published"])
    dates = [d for d in (stored["updated"], incoming["updated"]) if not _empty(d)]
    merged["updated"] = max(dates, default=stored["updated"])
    for name in _LATEST:
        if not _empty(incoming[name]):
            merged[name] = incoming[name]
    merged["content_hash"] = _content_hash(merged)
    return merged


def _adds_nothing(stored: dict[str, Any], incoming: dict[str, Any]) -> bool:
    """True when merging `incoming` cannot change `stored`: the cheap path of a re-fetch."""
    return all(_empty(value) or value == stored[name] for name, value in incoming.items())


def _paper(row: tuple[Any, ...]) -> Paper:
    data = dict(zip(_COLUMNS, row[: len(_COLUMNS)], strict=True))
    for name in _LIST_FIELDS:
        data[name] = json.loads(data[name])
    data.pop("content_hash")
    # Sources in the order papercli first saw the paper in each.
    data["sources"] = [source for _, source in sorted(json.loads(row[len(_COLUMNS)]))]
    return Paper(**data)


def _noting_versions(
    rows: Iterator[dict[str, Any]], versions: list[tuple[str, int, str]], seen_at: str
) -> Iterator[dict[str, Any]]:
    """`rows` as they are, noting (id, version, seen_at) of each one that has a version."""
    for row in rows:
        if row["version"] is not None:
            versions.append((row["id"], row["version"], seen_at))
        yield row


def _plain_id(paper_id: str) -> str:
    """'2408.00714v2' -> '2408.00714'; ids that are not arXiv ids are kept as they are."""
    if paper_id.startswith("title:"):
        return paper_id
    try:
        return split_arxiv_id(paper_id)[0]
    except ValueError:
        return paper_id


def _like_escape(text: str) -> str:
    """`text` matched literally by LIKE ... ESCAPE '\\': 'a_b%' -> 'a\\_b\\%'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _log_entry(row: tuple[Any, ...]) -> FetchLogEntry:
    entry = dict(zip(_LOG_FIELDS, row, strict=True))
    entry["from_cache"] = bool(entry["from_cache"])  # stored as 0/1
    return FetchLogEntry(**entry)


class Store:
    """papercli's SQLite store at `path` (created, with its parent dirs, if missing).

    Example:

    >>> with Store(Path("papers.db")) as store:  # doctest: +SKIP
    ...     counts = store.upsert_page("hf", page, fetched_at="2024-08-02T09:00:00Z")
    ...     papers = store.papers(since="2024-08-02", source="hf")
    """

    def __init__(self, path: Path, *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._conn = self._connect()

    # --- opening -----------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder for the store {self.path}: {exc}") from exc
        self._refuse_foreign_file()
        try:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            self._use_wal(conn)
            # WAL stays consistent after a power cut with NORMAL; only the last commit may be lost.
            conn.execute("PRAGMA synchronous = NORMAL")
            migrate(conn, self.path)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise self._error(exc) from exc
            raise
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Put the file in WAL mode (once: the mode is kept in the file).

        Switching needs the file to itself and SQLite answers "locked" at once instead of
        waiting its busy timeout, so two papercli started together on a new store (cron and a
        user) would fail; retry within `timeout` instead.
        """
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _refuse_foreign_file(self) -> None:
        """Raise StoreError unless the file is missing, empty, or a papercli store we can read.

        Looks read-only, so a file that is not ours is left exactly as it was.
        """
        try:
            with self.path.open("rb") as file:
                header = file.read(100)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"cannot read the store {self.path}: {exc}") from exc
        if not header:
            return
        if not header.startswith(_SQLITE_MAGIC):
            raise _not_ours(self.path, "it is not an SQLite database")
        if int.from_bytes(header[_HEADER_APPLICATION_ID], "big") not in (0, APPLICATION_ID):
            raise _not_ours(self.path, "it is another application's SQLite database")
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                _check_identity(conn, self.path)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def _error(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return StoreError(
                f"the store {self.path} is busy: another papercli kept it locked for over "
                f"{self.timeout:g}s",
                hint="try again when that run has finished",
            )
        if "not a database" in text or "malformed" in text:
            return StoreError(
                f"the store {self.path} is damaged ({text})",
                hint="restore it from a backup, or move it away and fetch again",
            )
        return StoreError(
            f"cannot use the store {self.path}: {text}",
            hint="check the file and its folder, or pass another --db",
        )

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return _user_version(self._conn)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One all-or-nothing write transaction, holding the write lock from the start.

        IMMEDIATE: a deferred transaction that reads first and then writes can fail at once
        with "database is locked" instead of waiting its turn.
        """
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            # A damaged file raises DatabaseError ("malformed"), not OperationalError; integrity
            # errors stay as they are for callers that explain them (mark_delivered).
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                exc, sqlite3.IntegrityError
            ):
                raise self._error(exc) from exc
            raise

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self._conn
        except sqlite3.DatabaseError as exc:  # includes "database disk image is malformed"
            raise self._error(exc) from exc

    # --- papers ------------------------------------------------------------------------------

    def upsert_page(
        self, source: str, page: Page, *, fetched_at: str | None = None
    ) -> UpsertCounts:
        """Merge a page's papers into the store in one transaction; see `merge_rows`.

        `source` is stored as given (e.g. "arxiv-listing:astro-ph.CO", "hf") in the paper's
        sources. Counts: `new` = not in the store before; `updated` = the paper's own content
        changed (a higher version, a filled-in abstract, categories, ...); `unchanged` = the
        rest, including merges that only add a source or refresh upvotes, stars, AI fields or
        announce_type (those are still saved).
        """
        seen_at = iso_utc(fetched_at) if fetched_at else now()
        ids = [paper.id for paper in page.papers]
        counts = UpsertCounts(fetched=len(ids))
        with self._write() as conn:
            stored = self._stored_rows(conn, ids)
            listed = self._ids_with_source(conn, ids, source)
            rows = self._merged_rows(page.papers, stored, seen_at, counts)
            versions: list[tuple[str, int, str]] = []
            conn.executemany(_UPSERT, _noting_versions(rows, versions, seen_at))
            conn.executemany(
                "INSERT OR IGNORE INTO paper_versions (paper_id, version, first_seen)"
                " VALUES (?, ?, ?)",
                versions,
            )
            conn.executemany(
                "INSERT OR IGNORE INTO paper_sources (paper_id, source, first_seen)"
                " VALUES (?, ?, ?)",
                (
                    (paper_id, source, seen_at)
                    for paper_id in dict.fromkeys(ids)
                    if paper_id not in listed
                ),
            )
        return counts

    @staticmethod
    def _stored_rows(conn: sqlite3.Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
        cursor = conn.execute(
            f"SELECT {_SELECT_PAPERS} FROM papers p WHERE p.id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        )
        return {row[0]: dict(zip(_COLUMNS, row, strict=True)) for row in cursor}

    @staticmethod
    def _ids_with_source(conn: sqlite3.Connection, ids: list[str], source: str) -> set[str]:
        cursor = conn.execute(
            "SELECT paper_id FROM paper_sources WHERE source = ?"
            " AND paper_id IN (SELECT value FROM json_each(?))",
            (source, json.dumps(ids)),
        )
        return {paper_id for (paper_id,) in cursor}

    @staticmethod
    def _merged_rows(
        papers: list[Paper],
        stored: dict[str, dict[str, Any]],
        seen_at: str,
        counts: UpsertCounts,
    ) -> Iterator[dict[str, Any]]:
        """The rows to write, lazily: a bad paper fails mid-write and the whole page rolls back."""
        for paper in papers:
            incoming = _row(paper)
            before = stored.get(paper.id)
            if before is None:
                merged = {**incoming, "first_seen": seen_at}
                merged["content_hash"] = _content_hash(merged)
                counts.new += 1
            elif _adds_nothing(before, incoming):
                counts.unchanged += 1
                continue
            else:
                merged = merge_rows(before, incoming)
                if merged["content_hash"] != before["content_hash"]:
                    counts.updated += 1
                else:
                    counts.unchanged += 1
                if merged == before:
                    continue
            stored[paper.id] = merged
            yield merged

    def iter_papers(
        self,
        *,
        since: str | None = None,
        source: str | None = None,
        ids: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> Iterator[Paper]:
        """Papers in first-seen order (then id), one at a time; filters as in `papers`."""
        where, params = self._filters(since=since, source=source, ids=ids)
        sql = (
            f"SELECT {_SELECT_PAPERS}, (SELECT json_group_array(json_array(s.first_seen, s.source))"
            " FROM paper_sources s WHERE s.paper_id = p.id)"
            f" FROM papers p {where} ORDER BY p.first_seen, p.id"
        )
        if limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = limit
        with self._reading() as conn:
            for row in conn.execute(sql, params):
                yield _paper(row)

    def papers(
        self,
        *,
        since: str | None = None,
        source: str | None = None,
        ids: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[Paper]:
        """Papers in first-seen order (then id), with `sources` and `first_seen` filled in.

        `since`: an ISO date or time; papers first seen then or later (by `source`, when given).
        `source`: a prefix of the stored source names: "hf", "arxiv-listing", "arxiv-listing:cs.LG".
        `ids`: only these (versions are ignored: '2408.00714v2' finds 2408.00714).
        """
        return list(self.iter_papers(since=since, source=source, ids=ids, limit=limit))

    @staticmethod
    def _filters(
        *, since: str | None, source: str | None, ids: Sequence[str] | None
    ) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if since is not None:
            try:
                params["since"] = iso_utc(since)
            except ValueError as exc:
                raise UsageError(
                    f"since: {exc}",
                    hint="give a date or time such as 2024-08-02 or 2024-08-02T09:00Z",
                ) from None
        if source is not None:
            params["source"] = source
            seen = " AND s.first_seen >= :since" if since is not None else ""
            clauses.append(
                "EXISTS (SELECT 1 FROM paper_sources s WHERE s.paper_id = p.id"
                f" AND substr(s.source, 1, length(:source)) = :source{seen})"
            )
        elif since is not None:
            clauses.append("p.first_seen >= :since")
        if ids is not None:
            params["ids"] = json.dumps([_plain_id(paper_id) for paper_id in ids])
            clauses.append("p.id IN (SELECT value FROM json_each(:ids))")
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params

    def get(self, paper_id: str) -> Paper | None:
        """The stored paper, or None; '2408.00714v2' finds 2408.00714."""
        found = self.papers(ids=[paper_id])
        return found[0] if found else None

    def count(self) -> int:
        with self._reading() as conn:
            return int(conn.execute("SELECT count(*) FROM papers").fetchone()[0])

    # --- search ------------------------------------------------------------------------------

    def search(
        self,
        match: str,
        *,
        since: str | None = None,
        category: str | None = None,
        limit: int | None = None,
    ) -> list[tuple[Paper, float]]:
        """Papers matching the FTS5 query `match`, best first, with their bm25 score (lower is
        better, as SQLite gives it; ties go in the order the papers were stored). A title match
        weighs SEARCH_WEIGHTS[0] times an abstract match.

        `since` as in `papers`; `category` keeps papers listed in that category or one of its
        subcategories, in any case ('cs' keeps cs.LG, 'cs.lg' keeps cs.LG). Raises UsageError
        when FTS5 refuses the query (an unclosed quote, a column that does not exist).
        """
        # The ranking reads only the index and the filters' columns; whole papers are read for
        # the `limit` best alone, not for every match of a common word.
        params: dict[str, Any] = {"match": match}
        clauses = ["papers_search MATCH :match"]
        if since is not None:
            params["since"] = self._filters(since=since, source=None, ids=None)[1]["since"]
            clauses.append("f.first_seen >= :since")
        if category is not None:
            # The stored JSON list holds '"cs.LG"'; LIKE ignores ASCII case.
            quoted = _like_escape(json.dumps(category.lower(), ensure_ascii=False)[:-1])
            params["exactly"], params["within"] = f'%{quoted}"%', f"%{quoted}.%"
            clauses.append(
                "(f.categories LIKE :exactly ESCAPE '\\' OR f.categories LIKE :within ESCAPE '\\')"
            )
        filtered = (
            " JOIN paper_filters f ON f.paper = papers_search.rowid" if len(clauses) > 1 else ""
        )
        weights = ", ".join(f"{w:g}" for w in SEARCH_WEIGHTS)
        best = (
            f"SELECT papers_search.rowid AS hit, bm25(papers_search, {weights}) AS score"
            f" FROM papers_search{filtered} WHERE {' AND '.join(clauses)} ORDER BY score, hit"
        )
        if limit is not None:
            best += " LIMIT :limit"
            params["limit"] = limit
        sql = (
            f"SELECT {_SELECT_PAPERS}, (SELECT json_group_array(json_array(s.first_seen,"
            " s.source)) FROM paper_sources s WHERE s.paper_id = p.id), best.score"
            f" FROM ({best}) best JOIN papers p ON p.rowid = best.hit ORDER BY best.score, best.hit"
        )
        with self._reading() as conn:
            # A filter reads one row of `paper_filters` per match of the words: mapped, those
            # reads skip a copy each (a common word with --category at 100,000 papers: the
            # rows of `papers` took 71 ms unmapped, 44 ms mapped).
            conn.execute(f"PRAGMA mmap_size = {_SEARCH_MMAP:d}")
            try:
                rows = conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                if not str(exc).startswith(_QUERY_ERRORS):
                    raise
                raise UsageError(
                    f"cannot read the search query ({exc})",
                    hint='close every quote and bracket; write phrases as "flow matching" and'
                    " prefixes as diffus*",
                ) from None
        return [(_paper(row), float(row[-1])) for row in rows]

    def version_seen(self, ids: Sequence[str]) -> dict[str, str]:
        """Paper id -> when papercli first stored the paper's current version (papers with a
        version only): a new version moves it, seeing the same version again does not."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT p.id, v.first_seen FROM papers p JOIN paper_versions v"
                " ON v.paper_id = p.id AND v.version = p.version"
                " WHERE p.id IN (SELECT value FROM json_each(?))",
                (json.dumps([_plain_id(i) for i in ids]),),
            ).fetchall()
        return dict(rows)

    # --- fetch log ---------------------------------------------------------------------------

    def log_fetch(
        self,
        source: str,
        *,
        url: str | None,
        status: int | None,
        counts: UpsertCounts | None,
        error: str | None,
        started_at: str,
        finished_at: str,
        from_cache: bool = False,
    ) -> None:
        """Record one fetch; a failed one has `error` (and no counts, unless some pages landed)."""
        numbers = astuple(counts) if counts is not None else (None,) * 4
        with self._write() as conn:
            conn.execute(
                "INSERT INTO fetch_log (source, url, status, fetched, new, updated, unchanged,"
                " error, started_at, finished_at, from_cache)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    source,
                    url,
                    status,
                    *numbers,
                    error,
                    iso_utc(started_at),
                    iso_utc(finished_at),
                    int(from_cache),
                ),
            )

    def source_names(self) -> list[str]:
        """Every source name papers or fetches are stored under, sorted."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT source FROM paper_sources UNION SELECT source FROM fetch_log ORDER BY 1"
            ).fetchall()
        return [row[0] for row in rows]

    def fetch_log(self, limit: int = 50) -> list[FetchLogEntry]:
        """The latest `limit` fetches, newest first."""
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT {_LOG_COLUMNS} FROM fetch_log ORDER BY finished_at DESC, id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [_log_entry(row) for row in rows]

    def last_fetches(self) -> list[FetchLogEntry]:
        """The latest fetch of each source, by source name."""
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT {_LOG_COLUMNS} FROM (SELECT *, row_number() OVER (PARTITION BY source"
                " ORDER BY finished_at DESC, id DESC) AS rank FROM fetch_log)"
                " WHERE rank = 1 ORDER BY source"
            ).fetchall()
        return [_log_entry(row) for row in rows]

    # --- digest deliveries -------------------------------------------------------------------

    def delivered_ids(self, digest: str, recipient: str) -> set[str]:
        """Ids of the papers digest `digest` has already brought to `recipient`."""
        with self._reading() as conn:
            cursor = conn.execute(
                "SELECT DISTINCT dp.paper_id FROM deliveries d"
                " JOIN delivered_papers dp ON dp.delivery_id = d.id"
                " WHERE d.digest = ? AND d.recipient = ?",
                (digest, recipient),
            )
            return {paper_id for (paper_id,) in cursor}

    def mark_delivered(
        self,
        digest: str,
        recipients: Sequence[str],
        paper_ids: Sequence[str],
        *,
        message_id: str,
        delivered_at: str,
    ) -> None:
        """Record that `message_id` brought `paper_ids` to every recipient: all or nothing.

        Every id must be a stored paper's; otherwise StoreError and nothing is recorded.
        """
        unique_ids = list(dict.fromkeys(paper_ids))
        at = iso_utc(delivered_at)
        try:
            with self._write() as conn:
                for recipient in recipients:
                    cursor = conn.execute(
                        "INSERT INTO deliveries (digest, recipient, message_id, delivered_at)"
                        " VALUES (?, ?, ?, ?)",
                        (digest, recipient, message_id, at),
                    )
                    conn.executemany(
                        "INSERT INTO delivered_papers (delivery_id, paper_id) VALUES (?, ?)",
                        ((cursor.lastrowid, paper_id) for paper_id in unique_ids),
                    )
        except sqlite3.IntegrityError:
            missing = sorted(set(unique_ids) - {p.id for p in self.papers(ids=unique_ids)})
            if not missing:
                raise
            raise StoreError(
                f"cannot record digest {digest!r} as delivered: paper(s) {', '.join(missing)}"
                f" are not in the store {self.path}",
                hint="deliver only papers read from this store",
            ) from None

    def deliveries(self, digest: str | None = None) -> list[Delivery]:
        """Delivery history, newest first; only digest `digest`'s when given."""
        where = "WHERE d.digest = ?" if digest is not None else ""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT d.id, d.digest, d.recipient, d.message_id, d.delivered_at,"
                " (SELECT json_group_array(paper_id) FROM delivered_papers"
                "  WHERE delivery_id = d.id)"
                f" FROM deliveries d {where} ORDER BY d.delivered_at DESC, d.id DESC",
                () if digest is None else (digest,),
            ).fetchall()
        return [
            Delivery(id_, name, recipient, message_id, at, sorted(json.loads(paper_ids)))
            for id_, name, recipient, message_id, at, paper_ids in rows
        ]

    # --- stable topics -----------------------------------------------------------------------

    def topic_model(self) -> TopicModelState:
        """The stable topic model as stored (empty when it was never built)."""
        with self._reading() as conn:
            topics = [
                StableTopic(
                    id=row[0],
                    label=row[1],
                    terms=json.loads(row[2]),
                    size=row[3],
                    born=row[4],
                    last_seen=row[5],
                    retired=row[6],
                    centroid=json.loads(row[7]),
                    label_terms=json.loads(row[8]),
                    spellings=json.loads(row[9]),
                )
                for row in conn.execute(
                    "SELECT id, label, terms, size, born, last_seen, retired, centroid,"
                    " label_terms, spellings FROM stable_topics ORDER BY id"
                )
            ]
            assignments = {
                paper_id: TopicAssignment(paper_id, topic_id, day, similarity)
                for paper_id, topic_id, day, similarity in conn.execute(
                    "SELECT paper_id, topic_id, day, similarity FROM topic_assignments"
                    " ORDER BY day, paper_id"
                )
            }
            settings = dict(conn.execute("SELECT key, value FROM topic_model_state").fetchall())
        return TopicModelState(topics, assignments, settings)

    def save_topic_model(
        self,
        topics: Sequence[StableTopic],
        assignments: Sequence[TopicAssignment],
        labels: Sequence[tuple[int, str, str]],
        settings: dict[str, str],
        *,
        replace: bool = False,
    ) -> None:
        """Write the changed `topics`, `assignments` and new `labels` (topic id, since, label)
        in one transaction; `replace` first drops the whole model (a rebuild)."""
        with self._write() as conn:
            if replace:
                for table in (
                    "topic_assignments",
                    "topic_labels",
                    "stable_topics",
                    "topic_model_state",
                ):
                    conn.execute(f"DELETE FROM {table}")
            conn.executemany(
                "INSERT OR REPLACE INTO stable_topics (id, label, terms, size, born, last_seen,"
                " retired, centroid, label_terms, spellings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        t.id,
                        t.label,
                        json.dumps(t.terms, ensure_ascii=False),
                        t.size,
                        t.born,
                        t.last_seen,
                        t.retired,
                        json.dumps(t.centroid, ensure_ascii=False, sort_keys=True),
                        json.dumps(t.label_terms, ensure_ascii=False),
                        json.dumps(t.spellings, ensure_ascii=False, sort_keys=True),
                    )
                    for t in topics
                ),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO topic_assignments (paper_id, topic_id, day, similarity)"
                " VALUES (?, ?, ?, ?)",
                ((a.paper_id, a.topic_id, a.day, a.similarity) for a in assignments),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO topic_labels (topic_id, since, label) VALUES (?, ?, ?)",
                labels,
            )
            conn.executemany(
                "INSERT OR REPLACE INTO topic_model_state (key, value) VALUES (?, ?)",
                sorted(settings.items()),
            )

    def topic_labels(self, topic_id: int) -> list[tuple[str, str]]:
        """The labels a stable topic has had: (since day, label), oldest first."""
        with self._reading() as conn:
            return [
                (since, label)
                for since, label in conn.execute(
                    "SELECT since, label FROM topic_labels WHERE topic_id = ? ORDER BY since",
                    (topic_id,),
                )
            ]


@dataclass
class TopicModelState:
    """The stored stable topic model: topics by id, assignments by paper id, its settings."""

    topics: list[StableTopic]
    assignments: dict[str, TopicAssignment]
    settings: dict[str, str]


def _not_ours(path: Path, why: str) -> StoreError:
    return StoreError(
        f"{path} is not a papercli store ({why}); it was left untouched",
        hint="pass another --db, or move the file away",
    )


def _check_identity(conn: sqlite3.Connection, path: Path) -> None:
    """Raise StoreError unless `conn` is an empty database or a papercli store we understand."""
    # One statement, so one snapshot: read one by one, the ids could predate and the tables
    # follow another process's first migration, and a new store would look like another
    # application's.
    application_id, version, objects = conn.execute(
        "SELECT (SELECT application_id FROM pragma_application_id),"
        " (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_master)"
    ).fetchone()
    if application_id == 0:
        if objects:
            raise _not_ours(path, "it is another application's SQLite database")
        return
    if application_id != APPLICATION_ID:
        raise _not_ours(path, "it is another application's SQLite database")
    if version > len(MIGRATIONS):
        raise StoreError(
            f"the store {path} was written by a newer papercli (schema {version}; this one knows"
            f" up to {len(MIGRATIONS)}); it was left untouched",
            hint="upgrade papercli, or pass another --db",
        )


def migrate(
    conn: sqlite3.Connection, path: Path, migrations: Sequence[Migration] = MIGRATIONS
) -> None:
    """Bring the database up to `migrations` in one transaction (a no-op when it is current).

    A current store is opened without the write lock, so reading never waits for a writer.
    Otherwise checks again under the lock: another process may have created or migrated the
    file since it was opened.
    """
    _check_identity(conn, path)
    if _user_version(conn) >= len(migrations):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        _check_identity(conn, path)
        version = _user_version(conn)
        for step in migrations[version:]:
            step(conn)
        if version < len(migrations):
            conn.execute(f"PRAGMA user_version = {len(migrations):d}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])
