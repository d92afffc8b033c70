"""Trends of stable topics on a store built from real days (astro-ph.CO listings and Hugging
Face days, one day at a time through the real parsers), and the significance rule on counts."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import pytest
from scipy.stats import binomtest

from papercli.store import Store
from papercli.topics import stable
from papercli.trends import FALLING, RISING, STEADY, compare, sparkline, trend_of, trends

from .cli_helpers import run_cli
from .conftest import FIXTURES
from .multiday import add_mixed_day, mixed_days


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("trends") / "papers.db"
    with Store(path) as store:
        for kind, day in mixed_days():
            add_mixed_day(store, FIXTURES, kind, day)
            stable.update(store)
    return path


@pytest.fixture
def db(store_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "papers.db"
    shutil.copy(store_path, path)
    return path


def _week(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


# --- the significance rule on constructed counts ----------------------------------------------


def test_one_to_three_papers_is_not_a_rise() -> None:
    # With the same number of papers in both periods, 3 after 1 is Binomial(4, 1/2) >= 3 on
    # either side: 2 * 5/16.
    assert compare(3, 100, 1, 100) == pytest.approx(0.625)
    ratio, p_value, trend = trend_of([1, 3], [100, 100])
    assert (ratio, trend) == (3.0, STEADY) and p_value == pytest.approx(0.625)


def test_a_large_change_is_significant_both_ways() -> None:
    ratio, p_value, trend = trend_of([2, 20], [100, 100])
    assert trend == RISING and ratio == 10.0
    assert p_value == pytest.approx(binomtest(20, 22, 0.5).pvalue) and p_value < 1e-3
    assert trend_of([20, 2], [100, 100])[2] == FALLING


def test_change_is_measured_against_all_papers_of_the_period() -> None:
    # Twice the papers in a period with twice the papers in all: no change in share.
    ratio, p_value, trend = trend_of([10, 20], [100, 200])
    assert (ratio, p_value, trend) == (1.0, 1.0, STEADY)
    # The baseline is every period before the latest one, here 5 per period out of 100.
    ratio, _, trend = trend_of([5, 5, 5, 5, 15], [100] * 5)
    assert ratio == 3.0 and trend == RISING


def test_no_history_or_no_papers_is_steady() -> None:
    assert trend_of([4], [10]) == (None, 1.0, STEADY)
    assert trend_of([0, 3], [0, 10]) == (None, 1.0, STEADY)
    assert compare(0, 10, 0, 10) == 1.0


def test_sparkline() -> None:
    assert sparkline([0, 2, 4, 8]) == "▁▃▅█"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([1, 0, 1], totals=[5, 0, 5]) == "█ █"


# --- counts from a real store -----------------------------------------------------------------


@pytest.mark.parametrize("by", ["week", "day"])
def test_counts_per_period_match_a_direct_count(db: Path, by: str) -> None:
    with Store(db) as store:
        found = trends(store, by=by)
        papers = store.papers()
        state = store.topic_model()
    period = _week if by == "week" else (lambda day: day)
    days = [p.first_seen[:10] for p in papers if p.first_seen]
    direct_totals = Counter(period(day) for day in days)
    assert {p: n for p, n in zip(found.periods, found.totals, strict=True) if n} == direct_totals
    assert sum(found.totals) == len(papers) == 461
    if by == "day":
        assert found.periods == [day for _, day in mixed_days()]
    else:
        assert found.periods[0] == "2024-W11" and found.periods[-1] == "2026-W34"
        assert len(found.periods) == 128  # every week between, the empty ones too
    direct: Counter[tuple[int, str]] = Counter(
        (a.topic_id, period(a.day)) for a in state.assignments.values() if a.topic_id is not None
    )
    for topic in found.topics:
        assert {p: n for p, n in zip(found.periods, topic.counts, strict=True) if n} == {
            p: n for (t, p), n in direct.items() if t == topic.id
        }
    assert {t.id for t in found.topics} == {t for t, _ in direct}


def test_rising_and_falling_topics_come_first(db: Path) -> None:
    with Store(db) as store:
        found = trends(store, by="day")
    order = [{RISING: 0, FALLING: 1, STEADY: 2}[t.trend] for t in found.topics]
    assert order == sorted(order)
    assert all((t.p_value < 0.05) == (t.trend != STEADY) for t in found.topics)
    # The last day is Hugging Face's: machine-learning papers, no cosmology.
    assert found.topics[0].trend == RISING


def test_since_limits_the_periods(db: Path) -> None:
    with Store(db) as store:
        recent = trends(store, since="2025-06-01T00:00:00Z", by="day")
    assert recent.periods == ["2025-06-25", "2026-07-24", "2026-08-21"]


# --- the command ------------------------------------------------------------------------------


def test_trends_command_json_by_week_and_by_day(db: Path) -> None:
    weekly = run_cli("--db", str(db), "trends", "--since", "2024-01-01", "--json")
    daily = run_cli("--db", str(db), "trends", "--since", "2024-01-01", "--by", "day", "--json")
    assert weekly.code == daily.code == 0
    week_data, day_data = json.loads(weekly.out), json.loads(daily.out)
    assert (week_data["by"], day_data["by"]) == ("week", "day")
    assert len(day_data["periods"]) == 8
    assert week_data["periods"][0] == "2024-W01"  # the week of --since
    first = day_data["topics"][0]
    assert {"id", "label", "counts", "current", "baseline", "change", "p_value", "trend"} <= set(
        first
    )


def test_trends_topic_option_keeps_the_matching_topics(db: Path) -> None:
    every = json.loads(run_cli("--db", str(db), "trends", "--since", "2024-01-01", "--json").out)
    one = every["topics"][-1]
    by_id = run_cli("--db", str(db), "trends", "--since", "2024-01-01", "--topic", str(one["id"]),
                    "--json")  # fmt: skip
    assert [t["id"] for t in json.loads(by_id.out)["topics"]] == [one["id"]]
    word = one["label"].split(", ")[0]
    by_word = json.loads(
        run_cli("--db", str(db), "trends", "--since", "2024-01-01", "--topic", word, "--json").out
    )
    ids = [t["id"] for t in by_word["topics"]]
    assert one["id"] in ids and len(ids) < len(every["topics"])


def test_trends_table_has_a_sparkline_per_topic(db: Path) -> None:
    result = run_cli("--db", str(db), "trends", "--since", "2024-01-01", "--by", "day")
    assert result.code == 0
    rows = [line for line in result.out.splitlines()[1:] if line.strip()[:1].isdigit()]
    assert rows and all(any(ch in line for ch in "▁▂▃▄▅▆▇█") for line in rows)
    assert "rising" in result.out and "p < 0.05" in result.err


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_trends_plot_writes_a_picture(db: Path, tmp_path: Path, suffix: str) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / f"trends.{suffix}"
    result = run_cli("--db", str(db), "trends", "--since", "2024-01-01", "--by", "day",
                     "--plot", str(out), "--json")  # fmt: skip
    assert result.code == 0, result.err
    top = json.loads(result.out)["topics"][0]
    data = out.read_bytes()
    if suffix == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert (width, height) == (1210, 770)
        assert len(data) > 20_000
    else:
        root = ElementTree.fromstring(data)
        assert root.tag.endswith("svg")
        assert f"#{top['id']} " in data.decode()  # the legend names the top topic


def test_trends_plot_refuses_another_format(db: Path, tmp_path: Path) -> None:
    result = run_cli("--db", str(db), "trends", "--plot", str(tmp_path / "trends.jpg"))
    assert result.code == 2 and "neither an .svg nor a .png" in result.err
    assert not (tmp_path / "trends.jpg").exists()


def test_trends_refuses_an_unknown_period(db: Path) -> None:
    result = run_cli("--db", str(db), "trends", "--by", "month")
    assert result.code == 2 and "--by 'month' is not a period" in result.err
