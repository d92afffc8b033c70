"""The reader's signals in the store: ratings, library entries, followed authors, the model cache.

The tables come from the store's `m005_personal_signals` migration; this module holds their
queries and runs them in the store's own transactions, so a rating is all-or-nothing like a page.

    >>> signals = Signals(store)  # doctest: +SKIP
    >>> signals.rate(["2411.12345"], LIKE)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from papercli.errors import UsageError
from papercli.models import Paper
from papercli.store import Store, _plain_id, now

LIKE = 1
DISLIKE = -1


@dataclass
class LibraryEntry:
    """One paper of the reader's own library: a stored paper (`paper_id`) or its own text."""

    key: str  # the stored paper's id, else its arXiv id, else 'title:' + hash of the title
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    paper_id: str | None = None
    origin: str = ""  # the file it came from


@dataclass
class CachedModel:
    signature: str
    trained_at: str
    model: dict


class Signals:
    """Reads and writes the signal tables of one open `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- ratings -----------------------------------------------------------------------------

    def resolve(self, ids: Sequence[str]) -> list[str]:
        """Stored paper ids for ids as digests show them ('2411.12345v2', an abs URL, 'title:…').

        Raises UsageError naming every id that is not in the store.
        """
        pieces = _pasted(ids)
        if not pieces:
            raise UsageError("no paper ids given", hint="e.g. papercli like 2411.12345")
        wanted = [_plain_id(_from_url(piece)) for piece in pieces]
        found = {p.id for p in self.store.papers(ids=wanted)}
        missing = [i for i in wanted if i not in found]
        if missing:
            raise UsageError(
                f"not in the store: {', '.join(dict.fromkeys(missing))}",
                hint="use the ids a digest shows, and fetch the paper first",
            )
        return list(dict.fromkeys(wanted))

    def rate(self, ids: Sequence[str], rating: int, *, at: str | None = None) -> list[str]:
        """Like (1) or dislike (-1) stored papers; a new rating replaces the old one."""
        found = self.resolve(ids)
        with self.store._write() as conn:
            conn.executemany(
                "INSERT INTO ratings (paper_id, rating, rated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (paper_id) DO UPDATE SET rating = excluded.rating,"
                " rated_at = excluded.rated_at WHERE rating != excluded.rating",
                [(paper_id, rating, at or now()) for paper_id in found],
            )
        return found

    def unrate(self, ids: Sequence[str]) -> list[str]:
        """Forget the ratings of these papers; returns the ids that had one."""
        found = self.resolve(ids)
        had = [paper_id for paper_id in found if paper_id in self.ratings()]
        with self.store._write() as conn:
            conn.executemany("DELETE FROM ratings WHERE paper_id = ?", [(i,) for i in found])
        return had

    def ratings(self) -> dict[str, int]:
        """paper id -> 1 (liked) or -1 (disliked)."""
        with self.store._reading() as conn:
            rows = conn.execute("SELECT paper_id, rating FROM ratings ORDER BY paper_id")
            return dict(rows.fetchall())

    # --- library -----------------------------------------------------------------------------

    def add_library(self, entries: Sequence[LibraryEntry], *, at: str | None = None) -> list[str]:
        """Add entries not in the library yet (by key); returns the keys added."""
        known = set(self.library_keys())
        added = [e for e in dict((e.key, e) for e in entries).values() if e.key not in known]
        with self.store._write() as conn:
            conn.executemany(
                "INSERT INTO library (key, paper_id, title, abstract, authors, origin, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.key,
                        e.paper_id,
                        e.title,
                        e.abstract,
                        json.dumps(e.authors, ensure_ascii=False),
                        e.origin,
                        at or now(),
                    )
                    for e in added
                ],
            )
        return [e.key for e in added]

    def remove_library(self, names: Sequence[str]) -> list[str]:
        """Remove library entries by key (a stored paper's id, an arXiv id, a 'title:' key) or
        by the file they were first added from (its path, or its name when only one file of
        the library has it); returns the keys removed, all or nothing.

        Raises UsageError naming what matches no entry, or a file name two files share."""
        entries = self.library()
        by_origin: dict[str, list[str]] = {}
        for entry in entries:
            by_origin.setdefault(entry.origin, []).append(entry.key)
        keys = {entry.key for entry in entries}
        gone: list[str] = []
        unknown: list[str] = []
        for name in names:
            files = _origins(name, by_origin)
            if files:
                gone += [key for origin in files for key in by_origin[origin]]
                continue
            for piece in _pasted([name]):
                key = _plain_id(_from_url(piece))
                (gone if key in keys else unknown).append(key if key in keys else piece)
        if unknown:
            raise UsageError(
                f"not in the library: {', '.join(unknown)}",
                hint="`papercli library list` shows its keys and files",
            )
        gone = list(dict.fromkeys(gone))
        with self.store._write() as conn:
            conn.executemany("DELETE FROM library WHERE key = ?", [(key,) for key in gone])
        return gone

    def library_keys(self) -> list[str]:
        with self.store._reading() as conn:
            return [key for (key,) in conn.execute("SELECT key FROM library ORDER BY key")]

    def library(self) -> list[LibraryEntry]:
        """The library, by key; a stored paper's entry carries the stored text."""
        with self.store._reading() as conn:
            rows = conn.execute(
                "SELECT l.key, coalesce(p.title, l.title), coalesce(nullif(p.abstract, ''),"
                " l.abstract), coalesce(p.authors, l.authors), p.id, l.origin"
                " FROM library l LEFT JOIN papers p ON p.id = l.paper_id ORDER BY l.key"
            ).fetchall()
        return [
            LibraryEntry(key, title, abstract, json.loads(authors), paper_id, origin)
            for key, title, abstract, authors, paper_id, origin in rows
        ]

    # --- followed authors --------------------------------------------------------------------

    def follow(self, name: str, *, at: str | None = None) -> bool:
        """Follow an author by name; False when that name (however spelled) was followed."""
        from papercli.personal.names import fold_name, name_key

        name = " ".join(name.split())
        if name.count(",") > 1 or ";" in name or " and " in f" {name.lower()} ":
            raise UsageError(f"{name!r} reads as several names", hint="follow one author at a time")
        if not fold_name(name)[1]:
            raise UsageError(
                f"{name!r} is not an author name", hint='e.g. papercli follow "Ada Lovelace"'
            )
        if any(name_key(f) == name_key(name) for f in self.followed()):
            return False
        with self.store._write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO followed_authors (name, followed_at) VALUES (?, ?)",
                (name, at or now()),
            )
            return cursor.rowcount > 0

    def unfollow(self, name: str) -> list[str]:
        """Undo `follow(name)`: stop following `name` however it was spelled. Other followed
        names it matches stay ("Chen" and "Xi Chen" were followed apart, so they go apart).

        Raises UsageError naming the closest followed names when `name` is not followed.
        """
        from papercli.personal.names import closest_names, name_key

        followed = self.followed()
        gone = [f for f in followed if name_key(f) == name_key(name)]
        if not gone:
            close = closest_names(name, followed)
            raise UsageError(
                f"not following {' '.join(name.split())!r}",
                hint=f"closest followed: {' / '.join(close)}"
                if close
                else "`papercli profile` lists who you follow",
            )
        with self.store._write() as conn:
            conn.executemany("DELETE FROM followed_authors WHERE name = ?", [(n,) for n in gone])
        return gone

    def followed(self) -> list[str]:
        with self.store._reading() as conn:
            return [n for (n,) in conn.execute("SELECT name FROM followed_authors ORDER BY name")]

    def author_names(self) -> list[str]:
        """Every author spelling in the store, once."""
        with self.store._reading() as conn:
            rows = conn.execute(
                "SELECT DISTINCT a.value FROM papers p, json_each(p.authors) a ORDER BY 1"
            )
            return [name for (name,) in rows]

    def count_papers_by(self, spellings: Sequence[str]) -> int:
        """How many stored papers list one of these author spellings."""
        if not spellings:
            return 0
        with self.store._reading() as conn:
            row = conn.execute(
                "SELECT count(DISTINCT p.id) FROM papers p, json_each(p.authors) a"
                " WHERE a.value IN (SELECT value FROM json_each(?))",
                (json.dumps(list(spellings)),),
            ).fetchone()
        return int(row[0])

    # --- what the model learns from ----------------------------------------------------------

    def signature(self, recent: int) -> str:
        """A hash of everything the model is trained on: the ratings, the library and the
        `recent` unrated papers that are its weak negatives (`recent_unrated_ids`). It changes
        exactly when they change."""
        with self.store._reading() as conn:
            ratings = conn.execute("SELECT paper_id, rating FROM ratings ORDER BY paper_id")
            library = conn.execute("SELECT key, paper_id FROM library ORDER BY key")
            text = json.dumps([ratings.fetchall(), library.fetchall()])
        unrated = "\n".join(self.recent_unrated_ids(recent))
        return hashlib.sha1(f"{text}\n{unrated}".encode()).hexdigest()

    def has_positives(self) -> bool:
        """Whether the reader liked a paper or added a library: something to learn from."""
        with self.store._reading() as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM ratings WHERE rating = 1)"
                " + (SELECT count(*) FROM library)"
            ).fetchone()
        return bool(row[0])

    def recent_unrated_ids(self, limit: int) -> list[str]:
        """The ids of the model's weak negatives: the `limit` unrated papers (not in the
        library) seen last up to the reader's latest signal (like, dislike, library add),
        newest first; when none was seen by then, the `limit` seen first after it. Ties by id.

        Anchored to the signals, the set is the store's to say (the same ratings, library and
        papers give the same model, whenever it is trained), it changes only with the signals
        (the model is not retrained by every fetch), and it holds papers the reader could have
        rated. Fresher negatives ranked worse: benchmarks/personal.py, "retrained each day".
        """
        unrated = (
            "SELECT id FROM papers WHERE id NOT IN (SELECT paper_id FROM ratings)"
            " AND id NOT IN (SELECT paper_id FROM library WHERE paper_id IS NOT NULL)"
        )
        latest_signal = (
            "SELECT max(at) FROM (SELECT max(rated_at) AS at FROM ratings"
            " UNION ALL SELECT max(added_at) FROM library)"
        )
        with self.store._reading() as conn:
            ids = conn.execute(
                f"{unrated} AND first_seen <= ({latest_signal})"
                " ORDER BY first_seen DESC, id DESC LIMIT ?",
                (limit,),
            ).fetchall()
            if not ids:  # signals given before any paper was fetched
                ids = conn.execute(
                    f"{unrated} ORDER BY first_seen, id LIMIT ?", (limit,)
                ).fetchall()
        return [i for (i,) in ids]

    def recent_unrated(self, limit: int) -> list[Paper]:
        """The papers of `recent_unrated_ids`."""
        ids = self.recent_unrated_ids(limit)
        return self.store.papers(ids=ids) if ids else []

    # --- the model cache ---------------------------------------------------------------------

    def cached_model(self) -> CachedModel | None:
        with self.store._reading() as conn:
            row = conn.execute(
                "SELECT signature, trained_at, model FROM personal_model WHERE id = 1"
            ).fetchone()
        return CachedModel(row[0], row[1], json.loads(row[2])) if row else None

    def save_model(self, signature: str, model: dict, *, at: str | None = None) -> CachedModel:
        trained_at = at or now()
        with self.store._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO personal_model (id, signature, trained_at, model)"
                " VALUES (1, ?, ?, ?)",
                (signature, trained_at, json.dumps(model)),
            )
        return CachedModel(signature, trained_at, model)


def _origins(name: str, by_origin: dict[str, list[str]]) -> list[str]:
    """The library's file origins `name` names: its absolute path, or, for a bare file name,
    the one origin with that name (an earlier papercli kept the name alone)."""
    given = Path(name).expanduser()
    path = str(given.absolute())
    if path in by_origin:
        return [path]
    if given.name != name:  # a path to a file the library does not hold
        return []
    found = [origin for origin in by_origin if Path(origin).name == name]
    if len(found) > 1:
        raise UsageError(
            f"{len(found)} files of the library are named {name}",
            hint="give the path: " + " or ".join(sorted(found)),
        )
    return found


def _pasted(texts: Sequence[str]) -> list[str]:
    """Ids or keys as given, pasted ones apart: an id holds no comma, semicolon or space, so
    ['2411.1, 2411.2'] -> ['2411.1', '2411.2']."""
    return [piece for text in texts for piece in re.split(r"[\s,;]+", text) if piece]


def _from_url(text: str) -> str:
    """'https://arxiv.org/abs/2411.12345v2' -> '2411.12345v2';
    'https://huggingface.co/papers/2411.12345' -> '2411.12345'; other text as it is."""
    for marker in ("/abs/", "/papers/", "/pdf/", "/html/"):
        if "://" in text and marker in text:
            return text.rsplit(marker, 1)[1].strip("/").removesuffix(".pdf")
    return text
