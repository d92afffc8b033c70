"""Building a digest: cluster the papers into topics, keep what matches, order it for reading.

Pure: takes papers and options, returns a `Digest`; reading papers and rendering live elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone

from papercli.errors import NoMatchError, UsageError
from papercli.models import Digest, DigestEntry, Paper, Topic

SORTS = ("relevance", "upvotes", "date")


def parse_since(text: str, *, now: datetime | None = None) -> str:
    """A --since value as an ISO timestamp (UTC) to compare with first_seen.

    '1d' -> 24 hours before now; '12h'; '2w'; '2024-08-01' -> '2024-08-01T00:00:00+00:00'.
    """
    now = now or datetime.now(timezone.utc)
    match = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", text)
    if match:
        hours = int(match.group(1)) * {"h": 1, "d": 24, "w": 24 * 7}[match.group(2)]
        return (now - timedelta(hours=hours)).isoformat(timespec="seconds")
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--since {text!r} is neither a duration nor a date",
            hint="use e.g. 1d, 7d or 2024-08-01",
        ) from None
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).isoformat(timespec="seconds")


def parse_n_topics(text: str | None) -> int | None:
    """--topics value: 'auto' (or nothing) -> None, '8' -> 8."""
    if text is None or text.strip().lower() == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--topics {text!r} must be a number or 'auto'") from None
    if value < 1:
        raise UsageError("--topics must be at least 1")
    return value


def _sort_key(sort: str) -> Callable[[DigestEntry], tuple]:
    if sort == "upvotes":
        return lambda e: (-(e.paper.upvotes or 0), -e.score, e.paper.id)
    if sort == "date":
        return lambda e: (_neg_date(e.paper), -e.score, e.paper.id)
    return lambda e: (-e.score, -(e.paper.upvotes or 0), e.paper.id)


def _neg_date(paper: Paper) -> str:
    # Newest first with an ascending sort: invert each digit of the ISO date.
    stamp = paper.updated or paper.published or paper.first_seen or ""
    return "".join(chr(ord("9") - ord(c) + ord("0")) if c.isdigit() else c for c in stamp)


def build_digest(
    papers: Sequence[Paper],
    *,
    queries: Sequence[str] = (),
    excludes: Sequence[str] = (),
    n_topics: int | None = None,
    limit: int | None = None,
    sort: str = "relevance",
    title: str = "Daily digest",
    day: str | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Digest:
    """Cluster `papers`, keep those matching `queries` (all when none), drop `excludes`."""
    from papercli.topics import build_topics

    if sort not in SORTS:
        raise UsageError(f"--sort {sort!r} is not one of {', '.join(SORTS)}")
    day = day or date.today().isoformat()
    model = build_topics(papers, n_topics, progress=progress)
    if queries:
        matches = model.match(list(queries), list(excludes))
        if not matches:
            closest = [t.label for q in queries for t in model.closest_topics(q)]
            names = "; ".join(dict.fromkeys(closest)) or "none"
            raise NoMatchError(
                f"no paper matches {', '.join(map(repr, queries))} among {len(papers)} papers",
                hint=f"closest topics: {names}",
            )
        entries = [
            DigestEntry(papers[m.index], model.assignments[m.index], m.score, list(m.terms))
            for m in matches
        ]
    else:
        excluded = model.excluded(list(excludes))
        entries = [
            DigestEntry(p, model.assignments[i]) for i, p in enumerate(papers) if i not in excluded
        ]
    entries.sort(key=_sort_key(sort))
    if limit is not None:
        entries = entries[: max(limit, 0)]
    return _group(entries, model.topics, queries, excludes, title, day, len(papers))


def _group(entries, topics: Sequence[Topic], queries, excludes, title, day, total) -> Digest:
    """Topics ordered by their best entry; entries grouped under their topic, order kept."""
    order: dict[int, int] = {}
    for position, entry in enumerate(entries):
        order.setdefault(entry.topic_id, position)
    by_id = {t.id: t for t in topics}
    kept = [by_id[i] for i in sorted(order, key=order.__getitem__)]
    grouped = [e for t in kept for e in entries if e.topic_id == t.id]
    return Digest(
        title=title,
        date=day,
        topics=kept,
        entries=grouped,
        queries=list(queries),
        excludes=list(excludes),
        total_papers=total,
    )
