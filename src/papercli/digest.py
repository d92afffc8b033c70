"""Building a digest: keep what matches, order it for reading, group what is shown into topics.

Pure: takes papers and options, returns a `Digest`; reading papers and rendering live elsewhere.

    papers -> keep those matching the queries, each judged alone (selection)
           -> new papers and cross-lists become cards; replacements go to "Updated"
           -> order (best, relevance, upvotes, date) -> the first `max_papers` cards,
              the rest one line each -> topics built from the cards, sized for reading
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from papercli.errors import NoMatchError, UsageError
from papercli.models import ANNOUNCE_KINDS, CROSS, NEW, REPLACE, Digest, DigestEntry, Paper, Topic

if TYPE_CHECKING:
    from papercli.personal.ranking import Ranker
    from papercli.trends import DigestTopics

SORTS = ("best", "relevance", "upvotes", "date")
DEFAULT_ANNOUNCE = (NEW, CROSS)
MAX_TOPICS = 8  # a reader scans about this many groups in a morning's digest
MAX_SHARE = 0.4  # no topic holds more of a 50+ paper digest than this ...
SPLIT_FROM = 50  # ... from this many papers on
MIN_SPLIT_SHARE = 0.1  # a split that leaves a part under this share of the topic is not made
# Upvotes add at most this to a match score of 0.5-1, reached at POPULAR upvotes (log scale):
# a paper 100 readers picked climbs past weak matches, never past a title match.
POPULARITY_WEIGHT = 0.25
POPULAR = 100
# A category level is used when two archives each hold this share of the shown papers.
ARCHIVE_SHARE = 0.15
OTHER_ID = -1
FOLLOWED_ID = -2  # the personal ranking's first section: papers by followed authors
FOLLOWED_WHY = "followed author: "
EMAIL_MAX_PAPERS = 50  # full cards in an email: 50 stay well under Gmail's 102 KB clipping


def parse_since(text: str, *, now: datetime | None = None) -> str:
    """A --since value as an ISO timestamp (UTC) to compare with first_seen.

    '1d' -> 24 hours before now; '12h'; '2w'; '2024-08-01' -> '2024-08-01T00:00:00+00:00'.
    """
    now = now or datetime.now(timezone.utc)
    match = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", text)
    if match:
        hours = int(match.group(1)) * {"h": 1, "d": 24, "w": 24 * 7}[match.group(2)]
        try:
            return (now - timedelta(hours=hours)).isoformat(timespec="seconds")
        except OverflowError:  # before the year 1
            raise UsageError(
                f"--since {text!r} reaches back before the year 1",
                hint="use a shorter duration, e.g. 3650d, or a date",
            ) from None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--since {text!r} is neither a duration nor a date",
            hint="use e.g. 1d, 7d or 2024-08-01",
        ) from None
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).isoformat(timespec="seconds")


def parse_day(text: str) -> str:
    """A --date value as an ISO date: '2024-08-01', 'today', 'yesterday' (local time)."""
    from papercli.sources.hf import relative_day

    day = relative_day(text).strip()
    try:
        if re.fullmatch(r"\d{4}-\d\d-\d\d", day):
            return date.fromisoformat(day).isoformat()
    except ValueError:  # not on the calendar: 2024-02-30
        pass
    raise UsageError(
        f"--date {text!r} is not a date", hint="write it like 2024-08-01, today or yesterday"
    )


def check_count(option: str, value: int | None, *, least: int = 1) -> int | None:
    """A count option (--limit, --max-papers) checked: None or at least `least`."""
    if value is not None and value < least:
        raise UsageError(
            f"{option} {value} is below {least}",
            hint="give a positive number" if least == 1 else f"give {least} or more",
        )
    return value


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


def parse_announce(text: str | None) -> tuple[str, ...] | None:
    """--announce value: 'new,cross' -> ('new', 'cross'); None -> None (the default)."""
    if text is None:
        return None
    kinds = tuple(dict.fromkeys(k.strip().lower() for k in text.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in ANNOUNCE_KINDS]
    if unknown or not kinds:
        raise UsageError(
            f"--announce {text!r} is not a list of {', '.join(ANNOUNCE_KINDS)}",
            hint="e.g. --announce new,cross",
        )
    return kinds


def popularity(paper: Paper) -> float:
    """What upvotes add to a match: 0 for none, 0.15 for 15, POPULARITY_WEIGHT from 100 on."""
    upvotes = max(paper.upvotes or 0, 0)
    return POPULARITY_WEIGHT * min(1.0, math.log1p(upvotes) / math.log1p(POPULAR))


def _sort_key(sort: str) -> Callable[[DigestEntry], tuple]:
    """Each order says what it does; ties fall to the paper id so the order is stable."""
    if sort == "upvotes":
        return lambda e: (-(e.paper.upvotes or 0), -e.score, e.paper.id)
    if sort == "date":
        return lambda e: (*_neg_date(e.paper), -e.score, e.paper.id)
    if sort == "relevance":
        return lambda e: (-e.score, e.paper.id)
    return lambda e: (-round(e.score + popularity(e.paper), 4), -(e.paper.upvotes or 0), e.paper.id)


def _neg_date(paper: Paper) -> tuple[bool, str]:
    """Newest first with an ascending sort (each digit of the ISO date inverted); papers the
    source gives no date last, newest stored first: when papercli stored a paper is not when
    it was published, and would put every undated paper before the dated ones."""
    dated = paper.updated or paper.published
    stamp = dated or paper.first_seen or ""
    return not dated, "".join(
        chr(ord("9") - ord(c) + ord("0")) if c.isdigit() else c for c in stamp
    )


def build_digest(
    papers: Sequence[Paper],
    *,
    queries: Sequence[str] = (),
    excludes: Sequence[str] = (),
    n_topics: int | None = None,
    limit: int | None = None,
    sort: str = "best",
    title: str = "Daily digest",
    day: str | None = None,
    announce: Sequence[str] | None = None,
    updates: bool = True,
    max_papers: int | None = None,
    explain_no_match: bool = True,
    progress: Callable[[str, float], None] | None = None,
    ranker: Ranker | None = None,
    min_score: float | None = None,
    stable: DigestTopics | None = None,
) -> Digest:
    """The digest of `papers` matching `queries` (all when none) and no `excludes`.

    `announce` picks the announce types shown as cards (default new and cross-lists; papers
    without a type, as from Hugging Face, count as new). Matching replacements not among them go
    to `updates` unless `updates` is False. `limit` caps the papers kept, cards first, then
    updates; `max_papers` the full
    cards, the rest listed one line each in `more`. `day` defaults to the latest day the shown
    papers were announced. A `ranker` (papercli.personal) orders the matches by the reader's
    own model instead of `sort`, drops those under `min_score`, and keeps papers by followed
    authors whatever the queries, first, under "Followed authors". With `stable` (the store's
    stable topics, papercli.trends.digest_topics) the sections are those topics, ids and labels
    that last across days, and the digest lists the week's rising topics.
    """
    from papercli.selection import Matcher

    if sort not in SORTS:
        raise UsageError(f"--sort {sort!r} is not one of {', '.join(SORTS)}")
    kinds = set(announce or DEFAULT_ANNOUNCE)
    matcher = Matcher(queries, excludes)
    cards: list[DigestEntry] = []
    updated: list[DigestEntry] = []
    unqueried = Matcher((), excludes) if ranker is not None and queries else None
    for paper in papers:
        match = matcher.match(paper)
        if match is None and unqueried is not None and ranker and ranker.followed_author(paper):
            match = unqueried.match(paper)
        if match is None:
            continue
        entry = DigestEntry(paper, OTHER_ID, match.score, match.terms)
        if paper.announce_kind in kinds:
            cards.append(entry)
        elif paper.announce_kind == REPLACE and updates:
            updated.append(entry)
    if queries and not cards and not updated:
        if explain_no_match:
            raise _no_match(papers, queries, n_topics)
        raise NoMatchError(f"no paper matches {', '.join(map(repr, queries))}")
    if ranker is not None:
        from papercli.personal.ranking import rank_entries

        cards = rank_entries(ranker, cards, min_score)
        updated = rank_entries(ranker, updated, min_score)
    else:
        cards.sort(key=_sort_key(sort))
        updated.sort(key=_sort_key(sort))
    if limit is not None:  # papers at all: the updates get what the cards leave
        cards = cards[: max(limit, 0)]
        updated = updated[: max(limit - len(cards), 0)]
    cap = len(cards) if max_papers is None else max(max_papers, 0)
    cards, more = cards[:cap], cards[cap:]
    followed = [e for e in cards if e.why and e.why[0].startswith(FOLLOWED_WHY)]
    rest = [e for e in cards if not (e.why and e.why[0].startswith(FOLLOWED_WHY))]
    if stable is not None:
        topics = stable_sections(rest, stable)
    else:
        topics = assign_topics(rest, n_topics, progress=progress)
    if followed:
        for entry in followed:
            entry.topic_id = FOLLOWED_ID
        topics = [Topic(FOLLOWED_ID, "Followed authors", [], len(followed)), *topics]
    digest = _group([*followed, *rest], topics, queries, excludes, title, len(papers))
    digest.more, digest.updates, digest.sort = more, updated, sort
    digest.rank = "personal" if ranker is not None else "default"
    if stable is not None:
        # A digest of some subjects lists the rising topics its own papers are in.
        shown = {t.id for t in topics} if queries else None
        digest.rising = stable.rising(among=shown)
    digest.date = day or latest_day(e.paper for e in [*cards, *more, *updated])
    return digest


def latest_day(papers: Iterable[Paper]) -> str:
    """The latest day the papers were announced (published, for a listing), else today."""
    days = [
        p.published[:10] for p in papers if p.published and _ISO_DAY.fullmatch(p.published[:10])
    ]
    return max(days, default=date.today().isoformat())


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")  # a `published` from a file may be any text


def _no_match(
    papers: Sequence[Paper], queries: Sequence[str], n_topics: int | None
) -> NoMatchError:
    from papercli.topics import build_topics

    model = build_topics(papers, n_topics)
    closest = [t.label for q in queries for t in model.closest_topics(q)]
    names = "; ".join(dict.fromkeys(closest)) or "none"
    return NoMatchError(
        f"no paper matches {', '.join(map(repr, queries))} among {len(papers)} papers",
        hint=f"closest topics: {names}",
    )


# --- topics sized for reading -----------------------------------------------------------------


def default_topic_count(n: int) -> int:
    """Topics for a digest of `n` papers: 10 -> 2, 50 -> 5, 100 -> 7, 128 and more -> 8."""
    return max(1, min(MAX_TOPICS, round(math.sqrt(n / 2))))


def assign_topics(
    entries: list[DigestEntry],
    n_topics: int | None = None,
    *,
    progress: Callable[[str, float], None] | None = None,
) -> list[Topic]:
    """Topics built from the entries' own papers; sets each entry's topic_id.

    On papers from several arXiv archives (an astro-ph and a cs day), each archive is clustered
    apart and its topics' labels start with the archive. Papers in a topic of one go to Other
    (topic_id OTHER_ID); topics whose labels read alike are merged; a topic holding more than
    MAX_SHARE of a digest of SPLIT_FROM papers or more is split when its parts are real.
    """
    if not entries:
        return []
    total = n_topics or default_topic_count(len(entries))
    groups = _archive_groups(entries)
    topics: list[Topic] = []
    for prefix, members in groups:
        share = max(1, round(total * len(members) / len(entries))) if prefix else total
        topics += _cluster(members, min(share, len(members)), prefix, len(topics), progress)
    if n_topics is None:
        topics = _split_large(entries, topics, progress)
    topics = _merge_alike(entries, topics)
    return _singletons_to_other(entries, topics)


def stable_sections(entries: list[DigestEntry], stable: DigestTopics) -> list[Topic]:
    """The store's stable topics as the digest's sections; sets each entry's topic_id to its
    paper's stable topic id (Other while the paper waits for a topic). As with a digest's own
    topics, a topic of one paper goes to Other (unless the digest is that small)."""
    topics: dict[int, Topic] = {}
    for entry in entries:
        found = stable.by_paper.get(entry.paper.id)
        if found is None:
            entry.topic_id = OTHER_ID
            continue
        entry.topic_id = found.id
        trend = stable.trends.get(found.id)
        topics.setdefault(
            found.id,
            Topic(
                found.id,
                found.label,
                list(found.terms),
                0,
                stable_id=found.id,
                trend=trend.trend if trend is not None and trend.trend != "steady" else "",
            ),
        )
    return _singletons_to_other(entries, list(topics.values()))


def _cluster(
    entries: list[DigestEntry], k: int, prefix: str, first_id: int, progress=None
) -> list[Topic]:
    from papercli.topics import build_topics

    model = build_topics([e.paper for e in entries], k, progress=progress)
    for entry, topic_id in zip(entries, model.assignments, strict=True):
        entry.topic_id = first_id + topic_id
    return [
        Topic(first_id + t.id, f"{prefix}{t.label}", list(t.terms), t.size) for t in model.topics
    ]


def _split_large(entries: list[DigestEntry], topics: list[Topic], progress) -> list[Topic]:
    """Split a topic holding more than MAX_SHARE of 50+ papers in two or three, if it splits."""
    if len(entries) < SPLIT_FROM:
        return topics
    out: list[Topic] = []
    for topic in topics:
        members = [e for e in entries if e.topic_id == topic.id]
        if len(members) <= MAX_SHARE * len(entries):
            out.append(topic)
            continue
        parts = math.ceil(len(members) / (MAX_SHARE * len(entries)))
        before = {id(e): e.topic_id for e in members}
        prefix = topic.label[: topic.label.index(" · ") + 3] if " · " in topic.label else ""
        first = max(t.id for t in topics) + 1 + len(out)
        pieces = _cluster(members, max(2, parts), prefix, first, progress)
        if min(p.size for p in pieces) < MIN_SPLIT_SHARE * len(members) or len(pieces) < 2:
            for entry in members:  # one subject after all: keep it whole
                entry.topic_id = before[id(entry)]
            out.append(topic)
        else:
            out += pieces
    return out


def _label_terms(label: str) -> list[str]:
    return [t.strip().casefold() for t in label.split(" · ")[-1].split(",") if t.strip()]


def _alike(a: str, b: str) -> bool:
    """Labels that read the same: equal, or sharing their first term or half their terms."""
    first, second = _label_terms(a), _label_terms(b)
    if a.split(" · ")[:-1] != b.split(" · ")[:-1] or not first or not second:
        return False
    shared = len(set(first) & set(second))
    return first[0] == second[0] or shared * 2 >= min(len(first), len(second))


def _merge_alike(entries: list[DigestEntry], topics: list[Topic]) -> list[Topic]:
    """Topics whose labels read alike become one, under the larger one's label."""
    sizes = Counter(e.topic_id for e in entries)
    kept: list[Topic] = []
    into: dict[int, int] = {}
    for topic in sorted(topics, key=lambda t: (-sizes[t.id], t.id)):
        twin = next((k for k in kept if _alike(k.label, topic.label)), None)
        if twin is None:
            kept.append(topic)
        else:
            into[topic.id] = twin.id
    for entry in entries:
        entry.topic_id = into.get(entry.topic_id, entry.topic_id)
    return kept


def _singletons_to_other(entries: list[DigestEntry], topics: list[Topic]) -> list[Topic]:
    """Topics of one paper go to Other (unless the digest is that small); sizes recounted."""
    sizes = Counter(e.topic_id for e in entries)
    if len(entries) < 4:
        lonely: set[int] = set()
    else:
        lonely = {t.id for t in topics if sizes[t.id] <= 1}
    for entry in entries:
        if entry.topic_id in lonely:
            entry.topic_id = OTHER_ID
    return [replace(t, size=sizes[t.id]) for t in topics if t.id not in lonely and sizes[t.id]]


def archive_of(paper: Paper) -> str | None:
    """'astro-ph.CO' -> 'astro-ph'; 'cs.LG' -> 'cs'; no category -> None."""
    category = paper.primary_category or (paper.categories[0] if paper.categories else None)
    return category.split(".")[0] if category else None


def _archive_groups(entries: list[DigestEntry]) -> list[tuple[str, list[DigestEntry]]]:
    """[(label prefix, entries)]: one group per large archive when two or more are large,
    smaller archives together last; else one group with no prefix."""
    counts = Counter(archive_of(e.paper) for e in entries)
    large = sorted(
        (a for a, n in counts.items() if a and n >= max(5, ARCHIVE_SHARE * len(entries))),
        key=lambda a: (-counts[a], a),
    )
    if len(large) < 2:
        return [("", entries)]
    groups = [
        (f"{ARCHIVES.get(a, a)} · ", [e for e in entries if archive_of(e.paper) == a])
        for a in large
    ]
    rest = [e for e in entries if archive_of(e.paper) not in large]
    if rest:
        groups.append(("Other fields · ", rest))
    return groups


# arXiv's archives as its own pages name them (shortened where the name is long).
ARCHIVES = {
    "astro-ph": "Astrophysics", "cond-mat": "Condensed matter", "cs": "Computer science",
    "econ": "Economics", "eess": "Electrical engineering", "gr-qc": "Gravitation",
    "hep-ex": "HEP experiment", "hep-lat": "HEP lattice", "hep-ph": "HEP phenomenology",
    "hep-th": "HEP theory", "math": "Mathematics", "math-ph": "Mathematical physics",
    "nlin": "Nonlinear sciences", "nucl-ex": "Nuclear experiment", "nucl-th": "Nuclear theory",
    "physics": "Physics", "q-bio": "Quantitative biology", "q-fin": "Quantitative finance",
    "quant-ph": "Quantum physics", "stat": "Statistics",
}  # fmt: skip


def _group(entries, topics: Sequence[Topic], queries, excludes, title, total) -> Digest:
    """Topics ordered by their best entry; entries grouped under their topic, order kept.
    Entries in no listed topic (Other) come last, in their own section."""
    order: dict[int, int] = {}
    for position, entry in enumerate(entries):
        order.setdefault(entry.topic_id, position)
    by_id = {t.id: t for t in topics}
    kept = [by_id[i] for i in sorted(order, key=order.__getitem__) if i in by_id]
    grouped = [e for t in kept for e in entries if e.topic_id == t.id]
    grouped += [e for e in entries if e.topic_id not in by_id]
    return Digest(
        title=title,
        date="",
        topics=kept,
        entries=grouped,
        queries=list(queries),
        excludes=list(excludes),
        total_papers=total,
    )
