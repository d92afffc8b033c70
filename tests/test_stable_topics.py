"""Stable topics on real days: astro-ph.CO listings, Hugging Face days and arXiv cs days, stored
one day at a time through the real parsers, the model updated after each day."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from papercli.models import StableTopic
from papercli.store import Store, TopicModelState
from papercli.topics import stable

from .cli_helpers import run_cli
from .conftest import FIXTURES
from .multiday import ASTRO_DAYS, HF_DAYS, add_cs_day, add_mixed_day, cs_daily_days

# Small real cs days spread over a year, so topics of the astro days go quiet long enough
# (RETIRE_AFTER days with papers) to retire, and the last astro day can bring them back.
CS_DAYS = ("2025-03-22", "2025-04-08", "2025-04-17", "2025-05-05", "2025-09-08", "2025-12-17",
           "2026-06-26")  # fmt: skip


def _days() -> list[tuple[str, str]]:
    days = [("astro", d) for d in ASTRO_DAYS] + [("hf", d) for d in HF_DAYS]
    days += [("cs", d) for d in CS_DAYS]
    return sorted(days, key=lambda kind_day: kind_day[1])


class Built:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.states: list[tuple[str, TopicModelState, stable.UpdateReport]] = []


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    """The store after every day, and the model as it stood after each update."""
    path = tmp_path_factory.mktemp("stable") / "papers.db"
    cs = dict(cs_daily_days(FIXTURES))
    result = Built(path)
    with Store(path) as store:
        for kind, day in _days():
            if kind == "cs":
                add_cs_day(store, day, cs[day])
            else:
                add_mixed_day(store, FIXTURES, kind, day)
            report = stable.update(store)
            result.states.append((day, store.topic_model(), report))
    return result


def _topics(state: TopicModelState) -> dict[int, tuple[str, str, str | None]]:
    return {t.id: (t.label, t.born, t.retired) for t in state.topics}


def _assigned(state: TopicModelState) -> dict[str, int | None]:
    return {paper: a.topic_id for paper, a in state.assignments.items()}


def test_each_day_is_read_once_in_order(built: Built) -> None:
    assert [day for day, _, _ in built.states] == [d for _, d in _days()]
    assert all(report.days == [day] for day, _, report in built.states)
    with Store(built.path) as store:
        papers = store.papers()
        state = store.topic_model()
    # Every stored paper has its place (a topic, or waiting for one), on the day it was seen.
    assert set(state.assignments) == {p.id for p in papers}
    assert all(state.assignments[p.id].day == stable.paper_day(p) for p in papers)


def test_a_paper_keeps_its_topic_id_when_days_are_added(built: Built) -> None:
    for (_, before, _), (day, after, _) in zip(built.states, built.states[1:], strict=False):
        old, new = _assigned(before), _assigned(after)
        placed = {p: t for p, t in old.items() if t is not None}
        kept = sum(new[p] == t for p, t in placed.items())
        assert kept == len(placed), day
        # Topics keep their id and birthday; ids only grow.
        for topic_id, (_, born, _) in _topics(before).items():
            assert _topics(after)[topic_id][1] == born
        assert sorted(_topics(after)) == list(range(len(_topics(after))))


def test_a_topic_is_born_when_papers_of_a_new_field_arrive(built: Built) -> None:
    by_day = {day: (state, report) for day, state, report in built.states}
    state, report = by_day["2024-05-27"]  # the first Hugging Face day after two astro days
    assert report.born, "the machine-learning papers of Hugging Face fit no cosmology topic"
    with Store(built.path) as store:
        hf_ids = {p.id for p in store.papers(source="hf:2024-05-27")}
    groups = []
    for topic_id in report.born:
        topic = next(t for t in state.topics if t.id == topic_id)
        assert topic.born == "2024-05-27"
        groups.append({p for p, a in state.assignments.items() if a.topic_id == topic_id})
        with Store(built.path) as store:
            assert store.topic_labels(topic_id)[0] == ("2024-05-27", topic.label)
    # Astro papers still waiting from the days before may be born as a group of their own.
    assert any(members <= hf_ids for members in groups)
    assert all(members <= hf_ids or not members & hf_ids for members in groups)
    # The astro topics of the day before kept their ids and labels.
    before = _topics(by_day["2024-05-08"][0])
    assert {i: _topics(state)[i] for i in before} == before


def test_a_quiet_topic_retires_keeps_its_id_and_can_come_back(built: Built) -> None:
    days = [day for day, _, _ in built.states]
    retirements = {topic_id: day for day, _, report in built.states for topic_id in report.retired}
    assert retirements, "astro topics get no paper for the whole run of cs days"
    final = {t.id: t for t in built.states[-1][1].topics}
    for topic_id, day in retirements.items():
        position = days.index(day)
        last_seen = final[topic_id].last_seen
        # It retired on the RETIRE_AFTER-th day in a row without a paper of its own.
        if final[topic_id].retired is not None:
            assert days.index(last_seen) == position - stable.RETIRE_AFTER
    # Just before the last astro day, topics of the earlier astro days are retired...
    then = _topics(built.states[days.index("2026-07-24") - 1][1])
    retired_then = {i for i, (_, _, retired) in then.items() if retired}
    assert retired_then
    # ... and that day brings some of them back under the same id.
    revived = built.states[days.index("2026-07-24")][2].revived
    assert revived and set(revived) <= retired_then
    assert all(final[i].last_seen >= "2026-07-24" and final[i].retired is None for i in revived)


def test_updating_again_changes_nothing(built: Built, tmp_path: Path) -> None:
    path = tmp_path / "again.db"
    shutil.copy(built.path, path)
    with Store(path) as store:
        before = store.topic_model()
        report = stable.update(store)
        after = store.topic_model()
    assert report.days == [] and report.born == []
    assert after == before


def test_rebuild_starts_over_and_gives_the_same_ids(built: Built, tmp_path: Path) -> None:
    path = tmp_path / "rebuilt.db"
    shutil.copy(built.path, path)
    incremental = built.states[-1][1]
    with Store(path) as store:
        report = stable.update(store, rebuild=True)
        rebuilt = store.topic_model()
    assert report.days == [d for _, d in _days()]
    assert _topics(rebuilt) == _topics(incremental)
    assert _assigned(rebuilt) == _assigned(incremental)


def test_topics_command_shows_the_stable_topics_of_a_period(built: Built, tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    shutil.copy(built.path, path)
    everything = run_cli("--db", str(path), "topics", "--json")
    recent = run_cli("--db", str(path), "topics", "--since", "2026-07-01", "--json")
    assert everything.code == recent.code == 0
    all_lines = [json.loads(line) for line in everything.out.splitlines()]
    recent_lines = [json.loads(line) for line in recent.out.splitlines()]
    assert len(all_lines) == len(built.states[-1][1].assignments)
    assert len(recent_lines) < len(all_lines)
    assert {r["day"] for r in recent_lines} == {"2026-07-24", "2026-08-21"}
    final = _assigned(built.states[-1][1])
    assert all(r["topic"] == final[r["id"]] for r in all_lines)
    table = run_cli("--db", str(path), "topics", "--since", "2026-07-01")
    assert table.code == 0
    biggest = max(
        {r["topic"] for r in recent_lines if r["topic"] is not None},
        key=lambda t: (sum(r["topic"] == t for r in recent_lines), -t),
    )
    assert table.out.splitlines()[1].split()[0] == str(biggest)  # most papers first


def test_topics_rebuild_from_the_command_line(built: Built, tmp_path: Path) -> None:
    path = tmp_path / "cli-rebuild.db"
    shutil.copy(built.path, path)
    result = run_cli("--db", str(path), "topics", "--rebuild", "--json")
    assert result.code == 0
    assert f"topics updated with {len(_days())} day(s)" in result.err
    plain = run_cli("--db", str(path), "topics", "--json")
    assert "topics updated" not in plain.err
    assert plain.out == result.out
    refused = run_cli("topics", str(FIXTURES / "hf-daily/api/daily_papers_date-2024-08-02.json"),
                      "--rebuild")  # fmt: skip
    assert refused.code == 2 and "--rebuild applies to the stable topics" in refused.err


def _topic(centroid: dict[str, float]) -> StableTopic:
    return StableTopic(
        id=4, label="dark matter, halo", terms=["dark matter", "halo"], size=10,
        born="2024-03-15", last_seen="2024-03-15", retired=None, centroid=centroid,
        label_terms=["dark matter", "halo"],
        spellings={"dark matter": "dark matter", "halo": "halos", "llm": "LLMs"},
    )  # fmt: skip


def test_a_label_stays_while_one_of_its_terms_is_still_among_the_heaviest() -> None:
    centroid = {f"term{i:02d}": 1.0 - i / 100 for i in range(stable.TOP_TERMS - 1)}
    centroid["halo"] = 0.5  # the 15th heaviest
    model = stable._Model([_topic(centroid)], {})
    assert not model._relabel(4, "2024-05-08")
    assert model.topics[4].label == "dark matter, halo" and model.new_labels == []


def test_a_label_changes_when_the_content_moved_and_the_id_stays() -> None:
    centroid = {"llm": 3.0, "large language": 2.5, "language": 2.0, "agent": 1.5, "halo": 0.01}
    centroid |= {f"term{i:02d}": 1.0 - i / 100 for i in range(stable.TOP_TERMS)}
    model = stable._Model([_topic(centroid)], {})
    assert model._relabel(4, "2024-05-08")
    topic = model.topics[4]
    # 'language' is inside 'large language': the label takes the next term instead.
    assert (topic.id, topic.label) == (4, "LLMs, large language, agent")
    assert topic.label_terms == ["llm", "large language", "agent"]
    assert model.new_labels == [(4, "2024-05-08", "LLMs, large language, agent")]
