"""Trends: papers per stable topic per week or day, and which topics rise or fall.

    store -> stable topics brought up to date (topics.stable) -> papers per topic per period
    (a paper counts in the period of the day it was first seen) -> each topic's latest period
    against the periods before it: the rate ratio of its share of all papers, and an exact test
    so that 1 -> 3 papers is not "rising 200%" -> rising and falling topics first

The test is the exact conditional test for two Poisson rates: given that the topic has c papers
in the latest period (of n_c papers in all) and b in the periods before (of n_b), with no change
c would be Binomial(c + b, n_c / (n_c + n_b)); the two-sided p-value of that binomial test says
how surprising c is. A topic is rising or falling when p < ALPHA.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from papercli.errors import UsageError
from papercli.models import RisingTopic

if TYPE_CHECKING:
    from papercli.models import StableTopic
    from papercli.store import Store
    from papercli.topics.features import Progress

ALPHA = 0.05  # p-value under which a change counts as real
DIGEST_WEEKS = 12  # a digest's rising topics: the latest week against the weeks before it
DIGEST_RISING = 5  # ... at most this many shown
PERIODS = ("week", "day")
RISING, FALLING, STEADY = "rising", "falling", "steady"


@dataclass
class TopicTrend:
    """One stable topic over the periods: papers per period, the latest against the rest."""

    id: int
    label: str
    counts: list[int]
    current: int  # papers in the latest period
    baseline: float  # papers per period before it (mean)
    ratio: float | None  # share of all papers now / share before; None when it had none before
    p_value: float
    trend: str  # rising, falling or steady
    retired: str | None

    @property
    def change(self) -> float | None:
        """The change of the topic's share, 0.5 for +50%; None when it had none before."""
        return None if self.ratio is None else self.ratio - 1


@dataclass
class Trends:
    """Every stable topic with papers in the periods, rising and falling ones first."""

    by: str
    periods: list[str]  # ISO weeks ('2026-W14') or days ('2026-04-04'), oldest first
    totals: list[int]  # all papers per period, with a topic or not
    topics: list[TopicTrend]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for topic, row in zip(self.topics, data["topics"], strict=True):
            row["change"] = topic.change
        return data


def period_of(day: str, by: str) -> str:
    """The period a day falls in: '2026-04-04' -> '2026-W14' by week, itself by day."""
    if by == "day":
        return day
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def week_periods(first: str, last: str) -> list[str]:
    """Every ISO week from the one of `first` to the one of `last`, empty ones included."""
    start = date.fromisoformat(first)
    start -= timedelta(days=start.weekday())
    end = date.fromisoformat(last)
    weeks = []
    while start <= end:
        weeks.append(period_of(start.isoformat(), "week"))
        start += timedelta(days=7)
    return weeks


def compare(current: int, current_total: int, before: int, before_total: int) -> float:
    """The two-sided exact p-value that a topic's share moved from before/before_total to
    current/current_total (1.0 when either side has no papers at all).

    compare(3, 100, 1, 100) -> 0.625: three papers after one is no evidence of a rise.
    """
    if current + before == 0 or current_total == 0 or before_total == 0:
        return 1.0
    from scipy.stats import binomtest

    share = current_total / (current_total + before_total)
    return float(binomtest(current, current + before, share).pvalue)


def trend_of(counts: Sequence[int], totals: Sequence[int]) -> tuple[float | None, float, str]:
    """(rate ratio, p-value, trend) of the latest period against the ones before it."""
    if len(counts) < 2:
        return None, 1.0, STEADY
    current, before = counts[-1], sum(counts[:-1])
    current_total, before_total = totals[-1], sum(totals[:-1])
    p_value = compare(current, current_total, before, before_total)
    ratio = None
    if before and current_total and before_total:
        ratio = (current * before_total) / (before * current_total)
    rises = current * before_total > before * current_total
    if p_value >= ALPHA:
        return ratio, p_value, STEADY
    return ratio, p_value, RISING if rises else FALLING


def trends(
    store: Store,
    *,
    since: str | None = None,
    by: str = "week",
    query: str | None = None,
    progress: Progress | None = None,
    update: bool = True,
) -> Trends:
    """The trends of the stored papers first seen since `since` (an ISO time), by week or day,
    of the topics matching `query` (an id, or words of the label or terms) or all of them.

    The periods run from the one of `since` (else of the first paper) to the one of the latest
    paper; by day they are the days that have papers.
    """
    if by not in PERIODS:
        raise UsageError(f"--by {by!r} is not a period", hint="use --by week or --by day")
    from papercli.topics import stable

    if update:
        stable.update(store, progress=progress)
    state = store.topic_model()
    papers = store.papers(since=since)
    if not papers:
        return Trends(by, [], [], [])
    days = [stable.paper_day(p) for p in papers]
    if by == "week":
        periods = week_periods(since[:10] if since else min(days), max(days))
    else:
        periods = sorted(set(days))
    index = {period: i for i, period in enumerate(periods)}
    totals = [0] * len(periods)
    counts: dict[int, list[int]] = {}
    for paper, day in zip(papers, days, strict=True):
        at = index[period_of(day, by)]
        totals[at] += 1
        assigned = state.assignments.get(paper.id)
        if assigned is not None and assigned.topic_id is not None:
            counts.setdefault(assigned.topic_id, [0] * len(periods))[at] += 1
    rows = []
    for topic in state.topics:
        if topic.id not in counts or not _matches(topic, query):
            continue
        series = counts[topic.id]
        ratio, p_value, trend = trend_of(series, totals)
        before = series[:-1]
        rows.append(
            TopicTrend(
                id=topic.id,
                label=topic.label,
                counts=series,
                current=series[-1],
                baseline=round(sum(before) / len(before), 3) if before else 0.0,
                ratio=None if ratio is None else round(ratio, 3),
                p_value=round(p_value, 6),
                trend=trend,
                retired=topic.retired,
            )
        )
    rows.sort(key=_order)
    return Trends(by, periods, totals, rows)


@dataclass
class DigestTopics:
    """What `digest --stable-topics` needs: each assigned paper's stable topic, and the weekly
    trend of every topic with papers in the last DIGEST_WEEKS weeks."""

    by_paper: dict[str, StableTopic]
    trends: dict[int, TopicTrend]

    def rising(self, among: set[int] | None = None, n: int = DIGEST_RISING) -> list[RisingTopic]:
        """The rising topics (of those `among`, when given), most significant first."""
        found = [
            t
            for t in self.trends.values()
            if t.trend == RISING and not t.retired and (among is None or t.id in among)
        ]
        return [
            RisingTopic(t.id, t.label, t.current, t.baseline, t.ratio, t.p_value) for t in found[:n]
        ]


def digest_topics(store: Store, *, progress: Progress | None = None) -> DigestTopics:
    """Bring the stable topics up to date, then read them for a digest (see DigestTopics)."""
    from papercli.topics import stable

    stable.update(store, progress=progress)
    state = store.topic_model()
    topics = {t.id: t for t in state.topics}
    by_paper = {
        paper_id: topics[a.topic_id]
        for paper_id, a in state.assignments.items()
        if a.topic_id is not None and a.topic_id in topics
    }
    through = state.settings.get("through", "")
    if not through:
        return DigestTopics(by_paper, {})
    since = (date.fromisoformat(through) - timedelta(weeks=DIGEST_WEEKS)).isoformat()
    found = trends(store, since=since, by="week", update=False)
    return DigestTopics(by_paper, {t.id: t for t in found.topics})


def _order(row: TopicTrend) -> tuple[int, float, int, int]:
    """Rising first, then falling, each most significant first; then the most papers now."""
    rank = {RISING: 0, FALLING: 1, STEADY: 2}[row.trend]
    return rank, row.p_value if rank < 2 else 0.0, -row.current, row.id


def _matches(topic: Any, query: str | None) -> bool:
    """Does a stable topic answer `query`: its id, or words of its label or terms?"""
    if query is None:
        return True
    text = query.strip().lower()
    if text.isdigit():
        return topic.id == int(text)
    haystack = " | ".join([topic.label, *topic.terms]).lower()
    return all(word in haystack for word in text.split())


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(counts: Sequence[int], totals: Sequence[int] | None = None) -> str:
    """Counts as a line of block characters scaled to the largest, a space where the store has
    no paper at all in the period (`totals` 0): [0, 2, 4, 8] -> '▁▃▅█'."""
    top = max(counts, default=0) or 1
    blocks = [SPARKS[round(c / top * (len(SPARKS) - 1))] for c in counts]
    if totals is not None:
        blocks = [b if total else " " for b, total in zip(blocks, totals, strict=True)]
    return "".join(blocks)
