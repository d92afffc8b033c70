"""`digest --stable-topics`: a digest grouped by the store's stable topics, on real days.

The store holds the saved astro-ph.CO listings and Hugging Face days (tests/multiday.py), added
one day at a time as a daily fetch would; the digest's sections must be the stable topics the
store assigned, keep their ids from one day's digest to the next, and list the rising topics the
trends computation finds.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from papercli.store import Store
from papercli.topics import stable
from papercli.trends import DIGEST_WEEKS, RISING, trends

from .cli_helpers import run_cli
from .conftest import FIXTURES
from .multiday import add_mixed_day, mixed_days

DAYS = mixed_days()
HF_DAY = FIXTURES / "hf-daily" / "api" / "daily_papers_date-2024-08-02.json"


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> tuple[Path, Path]:
    """(the store of every day but the last, the store of every day), updated day by day."""
    folder = tmp_path_factory.mktemp("stable-digest")
    path = folder / "papers.db"
    with Store(path) as store:
        for kind, day in DAYS[:-1]:
            add_mixed_day(store, FIXTURES, kind, day)
            stable.update(store)
    before = folder / "before.db"
    shutil.copy(path, before)
    with Store(path) as store:
        add_mixed_day(store, FIXTURES, *DAYS[-1])
    return before, path


@pytest.fixture
def db(stores: tuple[Path, Path], tmp_path: Path) -> Path:
    path = tmp_path / "papers.db"
    shutil.copy(stores[1], path)
    return path


def _digest(db: Path, *args: str) -> dict:
    result = run_cli("--db", str(db), "digest", "--format", "json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def _topic_of(data: dict) -> dict[str, int]:
    return {paper["id"]: paper["topic"] for paper in data["papers"]}


def test_sections_are_the_stored_stable_topics(db: Path) -> None:
    data = _digest(db, "--stable-topics")
    with Store(db) as store:  # the digest brought the model up to the last day
        state = store.topic_model()
    labels = {t.id: t.label for t in state.topics}
    assert state.settings["through"] == DAYS[-1][1]
    sizes = Counter(paper["topic"] for paper in data["papers"])
    assert data["topics"] and all(t["stable_id"] == t["id"] for t in data["topics"][:-1])
    for topic in data["topics"]:
        if topic["id"] == -1:  # Other: waiting for a topic, or alone of its topic here
            continue
        assert topic["label"] == labels[topic["id"]]
        assert topic["trend"] in {"rising", "falling", "steady"}
        for paper_id in topic["papers"]:
            assert state.assignments[paper_id].topic_id == topic["id"]
    for paper_id, topic_id in _topic_of(data).items():
        if topic_id == -1:
            assigned = state.assignments[paper_id].topic_id
            assert assigned is None or sizes.get(assigned, 0) == 0


def test_ids_last_from_one_days_digest_to_the_next(stores: tuple[Path, Path], tmp_path) -> None:
    before, after = (shutil.copy(p, tmp_path / p.name) for p in stores)
    yesterday = _topic_of(_digest(Path(before), "--stable-topics"))
    today = _topic_of(_digest(Path(after), "--stable-topics"))
    both = [p for p in yesterday if yesterday[p] != -1 and today.get(p, -1) != -1]
    assert len(both) > 100
    assert all(today[p] == yesterday[p] for p in both)


def test_without_the_option_the_digest_makes_its_own_topics(db: Path) -> None:
    data = _digest(db)
    assert all("stable_id" not in t for t in data["topics"]) and "rising" not in data
    with Store(db) as store:  # and the stable model was not touched
        assert store.topic_model().settings["through"] == DAYS[-2][1]


def test_rising_topics_are_the_weeks_rising_trends(db: Path) -> None:
    data = _digest(db, "--stable-topics")
    last = date.fromisoformat(DAYS[-1][1])
    since = (last - timedelta(weeks=DIGEST_WEEKS)).isoformat()
    with Store(db) as store:
        found = trends(store, since=since, by="week")
    expected = [t.id for t in found.topics if t.trend == RISING and not t.retired][:5]
    assert expected, "the last day (Hugging Face after cosmology) has rising topics"
    assert [r["id"] for r in data["rising"]] == expected
    shown = {t["id"]: t for t in data["topics"]}
    for topic_id in expected:
        assert topic_id not in shown or shown[topic_id]["trend"] == RISING


def test_a_digest_of_some_subjects_lists_only_its_own_rising_topics(db: Path) -> None:
    every = _digest(db, "--stable-topics")["rising"]
    some = _digest(db, "--stable-topics", "--topic", "dark energy")
    shown = {t["id"] for t in some["topics"]}
    assert len(every) > len(some.get("rising", []))
    assert all(r["id"] in shown for r in some.get("rising", []))


def test_every_format_shows_stable_ids_and_the_rising_block(db: Path) -> None:
    data = _digest(db, "--stable-topics")
    first = data["topics"][0]
    rising = data["rising"][0]
    for fmt in ("md", "html", "text"):
        out = run_cli("--db", str(db), "digest", "--stable-topics", "--format", fmt).out
        assert f"#{first['id']}" in out, fmt
        assert "Rising this week" in out and rising["label"] in out.replace("&amp;", "&"), fmt
    plain = run_cli("--db", str(db), "digest", "--format", "md").out
    assert "Rising this week" not in plain


@pytest.mark.parametrize(
    "args",
    [
        [
            "digest",
            "--stable-topics",
            str(FIXTURES / "hf-daily/api/daily_papers_date-2024-08-02.json"),
        ],
        ["digest", "--stable-topics", "--topics", "5"],
    ],
    ids=["input-file", "topics-n"],
)
def test_stable_topics_refuses_what_it_cannot_do(db: Path, args: list[str]) -> None:
    result = run_cli("--db", str(db), *args)
    assert result.code == 2
    assert "--stable-topics" in result.err and len(result.err.strip().splitlines()) <= 2


@pytest.mark.parametrize("on", [True, False])
def test_a_named_digest_takes_stable_topics_from_its_config(
    stores: tuple[Path, Path], papercli_home: Path, on: bool
) -> None:
    import email
    import email.policy

    shutil.copy(stores[1], papercli_home / "papers.db")
    (papercli_home / "config.toml").write_text(
        f"""
[digest.day]
since = "2024-01-01"
recipients = ["ana@example.org"]
stable_topics = {str(on).lower()}
"""
    )
    result = run_cli("run", "day", "--dry-run")
    assert result.code == 0, result.err
    msg = email.message_from_string(result.out, policy=email.policy.default)
    html = msg.get_body(("html",)).get_content()
    plain = msg.get_body(("plain",)).get_content()
    with Store(papercli_home / "papers.db") as store:
        through = store.topic_model().settings.get("through")
    assert ("Rising this week" in html) is on and ("Rising this week" in plain) is on
    assert (through == DAYS[-1][1]) is on
