"""Real multi-day stores for the stable-topics and trends tests (and the benchmark).

The cs-daily sample holds the arXiv cs /new listings of 32 days, concatenated without dates. The
days are told apart by their ids: a day's new papers carry consecutive numbers, and the numbers
of two sampled days lie thousands apart. A record whose id belongs to no such run (a replacement
of an older paper) stays with the day it was listed in, the day of the record before it. Each
day's date is read off its first id (arXiv numbers about a thousand papers a day:
2503.11677 -> 2025-03-12); only their order and spacing matter to the tests.
"""

from __future__ import annotations

import gzip
import json
from datetime import date, timedelta
from pathlib import Path

from papercli.sources.files import parse_jsonl
from papercli.sources.hf import parse_api
from papercli.store import Store

CS_DAILY = Path("abstracts/cs-daily-sample-9940.jsonl.gz")
HF_DAYS = ("2024-05-27", "2024-08-02", "2025-06-25", "2026-08-21")
_GAP = 1500  # ids further apart than this are different days
_MIN_DAY = 20  # a run of fewer ids is a stray older paper, not a day


def _number(paper_id: str) -> int:
    month, number = paper_id.split(".")
    return int(month) * 100_000 + int(number)


def cs_daily_days(fixtures: Path) -> list[tuple[str, bytes]]:
    """The sample as (date, the day's JSON lines, unchanged), oldest day first."""
    lines = gzip.decompress((fixtures / CS_DAILY).read_bytes()).splitlines()
    numbers = [_number(json.loads(line)["id"]) for line in lines]
    runs: list[list[int]] = []
    for number in sorted(set(numbers)):
        if runs and number - runs[-1][-1] <= _GAP:
            runs[-1].append(number)
        else:
            runs.append([number])
    days = [run for run in runs if len(run) >= _MIN_DAY]
    day_of = {n: i for i, run in enumerate(days) for n in run}
    grouped: list[list[bytes]] = [[] for _ in days]
    current = 0
    for line, number in zip(lines, numbers, strict=True):
        current = day_of.get(number, current)
        grouped[current].append(line)
    dates: list[str] = []
    for run in days:
        month, number = divmod(run[0], 100_000)
        day = date(2000 + month // 100, month % 100, min(28, 1 + number // 1000))
        if dates and day <= date.fromisoformat(dates[-1]):
            day = date.fromisoformat(dates[-1]) + timedelta(days=1)
        dates.append(day.isoformat())
    return [(d, b"\n".join(group) + b"\n") for d, group in zip(dates, grouped, strict=True)]


def add_cs_day(store: Store, day: str, data: bytes) -> int:
    """Store one day of the sample as a fetch of that morning; the number of papers read."""
    page = parse_jsonl(data)
    store.upsert_page("arxiv:cs", page, fetched_at=f"{day}T06:00:00Z")
    return len(page.papers)


def add_hf_day(store: Store, fixtures: Path, day: str) -> int:
    """Store one saved Hugging Face API day as fetched that evening."""
    data = (fixtures / "hf-daily" / "api" / f"daily_papers_date-{day}.json").read_bytes()
    page = parse_api(data)
    store.upsert_page(f"hf:{day}", page, fetched_at=f"{day}T20:00:00Z")
    return len(page.papers)


ASTRO_DAYS = {
    "2024-03-15": "astro-ph.CO_recent_show1000_fetched-2024-03-15_dc5e82f.html",
    "2024-05-08": "astro-ph.CO_recent_show1000_fetched-2024-05-08_4c4460e.html",
    "2024-12-10": "astro-ph.CO_recent_show1000_fetched-2024-12-10_9c2f307.html",
    "2026-07-24": "astro-ph.CO_recent_show1000_fetched-2026-07-24_c2fe83b.html",
}


def add_astro_day(store: Store, fixtures: Path, day: str) -> int:
    """Store one saved astro-ph.CO /recent listing as fetched that morning."""
    from papercli.sources.arxiv_listing import parse

    page = parse((fixtures / "arxiv-list" / ASTRO_DAYS[day]).read_bytes())
    store.upsert_page("arxiv:astro-ph.CO/recent", page, fetched_at=f"{day}T07:00:00Z")
    return len(page.papers)


def mixed_days() -> list[tuple[str, str]]:
    """The saved astro-ph.CO and Hugging Face days in date order: (kind, day)."""
    days = [("astro", d) for d in ASTRO_DAYS] + [("hf", d) for d in HF_DAYS]
    return sorted(days, key=lambda kind_day: kind_day[1])


def add_mixed_day(store: Store, fixtures: Path, kind: str, day: str) -> int:
    if kind == "astro":
        return add_astro_day(store, fixtures, day)
    return add_hf_day(store, fixtures, day)
