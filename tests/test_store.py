"""The SQLite store: merging sources, counts, transactions, foreign files, migrations, locking."""

from __future__ import annotations

import dataclasses
import gzip
import json
import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from papercli import store as store_module
from papercli.errors import StoreError, UsageError
from papercli.models import Page, Paper
from papercli.store import (
    APPLICATION_ID,
    MIGRATIONS,
    Delivery,
    Store,
    UpsertCounts,
    iso_utc,
    migrate,
)

HF_2024 = "hf-daily/api/daily_papers_date-2024-08-02.json"
HF_2026 = "hf-daily/api/daily_papers_date-2026-08-21.json"
CS_SAMPLE = "abstracts/cs-daily-sample-9940.jsonl.gz"
T1, T2, T3 = "2024-08-02T09:00:00Z", "2024-08-03T09:00:00Z", "2024-08-04T09:00:00Z"


def hf_papers(fixtures: Path, name: str = HF_2024) -> list[Paper]:
    """Papers as the HF API reports them (the HF parser is tested elsewhere)."""
    papers = []
    for item in json.loads((fixtures / name).read_text(encoding="utf-8")):
        raw = item["paper"]
        papers.append(
            Paper(
                id=raw["id"],
                title=raw["title"],
                authors=[author["name"] for author in raw["authors"]],
                abstract=raw["summary"],
                published=raw["publishedAt"][:10],
                upvotes=raw["upvotes"],
                num_comments=item["numComments"],
                github_repo=raw.get("githubRepo"),
                github_stars=raw.get("githubStars"),
                ai_summary=raw.get("ai_summary"),
                ai_keywords=raw.get("ai_keywords", []),
            )
        )
    return papers


def arxiv_like(hf: Paper, categories: list[str], *, version: int = 1) -> Paper:
    """The same paper as an arXiv /new listing shows it: version, categories, no HF fields."""
    return Paper(
        id=hf.id,
        title=hf.title,
        authors=list(hf.authors),
        abstract=hf.abstract,
        version=version,
        categories=categories,
        primary_category=categories[0],
        published=hf.published,
        comments="Website: https://example.org/project",
        announce_type="new",
    )


def cs_sample(fixtures: Path) -> list[Paper]:
    with gzip.open(fixtures / CS_SAMPLE, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    return [
        Paper(
            id=r["id"],
            title=r["title"],
            authors=r["authors"],
            abstract=r["summary"],
            categories=r["categories"],
            primary_category=r["categories"][0],
            comments=r["comment"],
            url=r["abs"],
        )
        for r in records
    ]


def page(papers: list[Paper], kind: str = "hf-api") -> Page:
    return Page(kind=kind, papers=papers)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "papers.db") as opened:
        yield opened


def raw_rows(path: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        papers = conn.execute("SELECT * FROM papers ORDER BY id").fetchall()
        sources = conn.execute("SELECT * FROM paper_sources ORDER BY paper_id, source").fetchall()
        return papers + sources
    finally:
        conn.close()


# --- opening ---------------------------------------------------------------------------------


def test_a_new_store_is_created_with_its_folders_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "papers.db"
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.count() == 0
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
    conn.close()


def test_foreign_keys_are_on(store: Store) -> None:
    assert store._conn.execute("PRAGMA foreign_keys").fetchone() == (1,)


def test_reopening_a_current_store_keeps_its_data(tmp_path: Path, fixtures: Path) -> None:
    path = tmp_path / "papers.db"
    with Store(path) as store:
        store.upsert_page("hf", page(hf_papers(fixtures)), fetched_at=T1)
    with Store(path) as store:
        assert store.count() == 16
        assert store.schema_version == len(MIGRATIONS)


def _foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_bookmarks (id INTEGER PRIMARY KEY, title TEXT)")
    conn.execute("INSERT INTO moz_bookmarks (title) VALUES ('arXiv')")
    conn.commit()
    conn.close()


def _newer_store(path: Path, fixtures: Path) -> None:
    with Store(path) as store:
        store.upsert_page("hf", page(hf_papers(fixtures)), fetched_at=T1)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()


def _truncated_store(path: Path, fixtures: Path) -> None:
    with Store(path) as store:
        store.upsert_page("hf", page(hf_papers(fixtures)), fetched_at=T1)
    path.write_bytes(path.read_bytes()[:1000])


def _other_app_id(path: Path) -> None:
    _foreign_sqlite(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1598903374")  # any id but papercli's
    conn.close()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p, f: p.write_bytes((f / "README.md").read_bytes()), "not an SQLite database"),
        (lambda p, f: p.write_bytes((f / CS_SAMPLE).read_bytes()), "not an SQLite database"),
        (lambda p, f: _foreign_sqlite(p), "another application's SQLite database"),
        (lambda p, f: _other_app_id(p), "another application's SQLite database"),
        (_newer_store, f"newer papercli (schema 99; this one knows up to {len(MIGRATIONS)})"),
        (_truncated_store, "is damaged"),
    ],
    ids=["text", "gzip", "other-app", "other-app-id", "newer-schema", "truncated"],
)
def test_a_file_that_is_not_our_store_is_refused_and_left_untouched(
    tmp_path: Path, fixtures: Path, make, message: str
) -> None:
    path = tmp_path / "papers.db"
    make(path, fixtures)
    before = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert path.read_bytes() == before
    text = str(caught.value)
    assert message in text
    assert str(path) in text
    assert "\n" not in text
    assert "--db" in text or "backup" in text


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "papers.db"
    path.touch()
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot read the store"):
        Store(tmp_path)


def test_an_older_schema_is_migrated_and_its_data_kept(tmp_path: Path, fixtures: Path) -> None:
    path = tmp_path / "papers.db"
    sam2 = hf_papers(fixtures)[0]
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, MIGRATIONS[:1])
    assert conn.execute("PRAGMA user_version").fetchone() == (1,)
    assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    conn.execute(
        "INSERT INTO papers (id, title, authors, abstract, first_seen) VALUES (?, ?, ?, ?, ?)",
        (sam2.id, sam2.title, json.dumps(sam2.authors), sam2.abstract, T1),
    )
    conn.execute("INSERT INTO paper_sources VALUES (?, 'hf', ?)", (sam2.id, T1))
    conn.close()

    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        kept = store.get("2408.00714")
        assert kept is not None
        assert (kept.title, kept.sources, kept.first_seen) == (sam2.title, ["hf"], T1)
        assert kept.authors[:3] == ["Nikhila Ravi", "Valentin Gabeur", "Yuan-Ting Hu"]
        # The tables the later migrations added work.
        store.log_fetch(
            "hf", url=None, status=200, counts=None, error=None, started_at=T2, finished_at=T2
        )
        store.mark_delivered(
            "daily", ["a@example.org"], [sam2.id], message_id="<1@x>", delivered_at=T2
        )
        assert store.delivered_ids("daily", "a@example.org") == {"2408.00714"}


def test_migrations_run_once(tmp_path: Path) -> None:
    path = tmp_path / "papers.db"
    Store(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path)  # a second run finds nothing to do (CREATE TABLE would fail otherwise)
    assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
    conn.close()


# --- merging and counts ----------------------------------------------------------------------


def test_hf_onto_arxiv_adds_social_fields_and_a_source(store: Store, fixtures: Path) -> None:
    hf = hf_papers(fixtures)
    listing = [arxiv_like(p, ["cs.CV", "cs.AI", "cs.LG"]) for p in hf[:3]]
    first = store.upsert_page("arxiv-listing:cs.CV", page(listing, "arxiv-listing"), fetched_at=T1)
    second = store.upsert_page("hf", page(hf), fetched_at=T2)

    assert first == UpsertCounts(fetched=3, new=3, updated=0, unchanged=0)
    # Only a source and HF's upvotes/comments were added to the three: not "updated".
    assert second == UpsertCounts(fetched=16, new=13, updated=0, unchanged=3)
    sam2 = store.get("2408.00714")
    assert sam2 is not None
    assert sam2.title == "SAM 2: Segment Anything in Images and Videos"
    assert sam2.sources == ["arxiv-listing:cs.CV", "hf"]
    assert sam2.first_seen == T1
    assert (sam2.version, sam2.categories, sam2.primary_category) == (
        1,
        ["cs.CV", "cs.AI", "cs.LG"],
        "cs.CV",
    )
    assert (sam2.upvotes, sam2.num_comments, sam2.announce_type) == (35, 1, "new")
    assert sam2.comments == "Website: https://example.org/project"
    assert sam2.abstract.startswith("We present Segment Anything Model 2 (SAM 2), a foundation")
    assert len(sam2.authors) == 18


def test_arxiv_onto_hf_adds_categories_and_counts_as_updated(store: Store, fixtures: Path) -> None:
    hf = hf_papers(fixtures, HF_2026)
    store.upsert_page("hf", page(hf), fetched_at=T1)
    listing = [arxiv_like(hf[0], ["cs.AI", "cs.CL"]), arxiv_like(hf[1], ["cs.SE"])]
    counts = store.upsert_page("arxiv-listing:cs.AI", page(listing, "arxiv-listing"), fetched_at=T2)

    assert counts == UpsertCounts(fetched=2, new=0, updated=2, unchanged=0)
    env = store.get("2608.19880")
    assert env is not None
    assert env.title == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert (env.version, env.categories, env.announce_type) == (1, ["cs.AI", "cs.CL"], "new")
    assert (env.upvotes, env.github_stars) == (163, 8)
    assert env.github_repo == "https://github.com/google-research/envharness"
    assert env.ai_summary is not None and env.ai_summary.startswith("EnvHarness and EnvRigger")
    assert len(env.ai_keywords) == 8
    assert env.sources == ["hf", "arxiv-listing:cs.AI"]
    assert env.first_seen == T1


def test_merging_two_sources_gives_the_same_paper_in_either_order(
    tmp_path: Path, fixtures: Path
) -> None:
    hf = hf_papers(fixtures, HF_2026)[:5]
    listing = [arxiv_like(p, ["cs.LG"]) for p in hf]
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        a.upsert_page("hf", page(hf), fetched_at=T1)
        a.upsert_page("arxiv-listing:cs.LG", page(listing), fetched_at=T2)
        b.upsert_page("arxiv-listing:cs.LG", page(listing), fetched_at=T1)
        b.upsert_page("hf", page(hf), fetched_at=T2)
        strip = {"sources": [], "first_seen": None}
        assert [dataclasses.replace(p, **strip) for p in a.papers()] == [
            dataclasses.replace(p, **strip) for p in b.papers()
        ]


def test_a_new_version_is_updated_and_an_older_one_changes_nothing(
    store: Store, fixtures: Path
) -> None:
    sam2 = hf_papers(fixtures)[0]
    v1 = arxiv_like(sam2, ["cs.CV"])
    v2 = dataclasses.replace(
        v1, version=2, abstract=v1.abstract + " Code is released.", comments="v2: new results"
    )
    source = "arxiv-listing:cs.CV"
    assert store.upsert_page(source, page([v1]), fetched_at=T1).new == 1
    assert store.upsert_page(source, page([v2]), fetched_at=T2) == UpsertCounts(1, 0, 1, 0)
    assert store.upsert_page(source, page([v1]), fetched_at=T3) == UpsertCounts(1, 0, 0, 1)
    kept = store.get("2408.00714v1")
    assert kept is not None
    assert (kept.version, kept.comments, kept.first_seen) == (2, "v2: new results", T1)
    assert kept.abstract.endswith("Code is released.")


def test_a_longer_abstract_fills_a_truncated_one_at_the_same_version(
    store: Store, fixtures: Path
) -> None:
    sam2 = hf_papers(fixtures)[0]
    truncated = dataclasses.replace(sam2, abstract=sam2.abstract[:120])
    assert store.upsert_page("hf", page([truncated]), fetched_at=T1).new == 1
    assert store.upsert_page("hf", page([sam2]), fetched_at=T2).updated == 1
    assert store.upsert_page("hf", page([truncated]), fetched_at=T3).unchanged == 1
    kept = store.get(sam2.id)
    assert kept is not None and kept.abstract == sam2.abstract


def test_new_upvotes_are_saved_but_count_as_unchanged(store: Store, fixtures: Path) -> None:
    hf = hf_papers(fixtures)
    store.upsert_page("hf", page(hf), fetched_at=T1)
    later = [dataclasses.replace(p, upvotes=(p.upvotes or 0) + 100) for p in hf]
    assert store.upsert_page("hf", page(later), fetched_at=T2) == UpsertCounts(16, 0, 0, 16)
    sam2 = store.get("2408.00714")
    assert sam2 is not None and sam2.upvotes == 135


def test_a_reupsert_changes_nothing_and_first_seen_is_kept(tmp_path: Path, fixtures: Path) -> None:
    path = tmp_path / "papers.db"
    with Store(path) as store:
        assert store.upsert_page("hf", page(hf_papers(fixtures)), fetched_at=T1) == UpsertCounts(
            16, 16, 0, 0
        )
        before = raw_rows(path)
        again = store.upsert_page("hf", page(hf_papers(fixtures)), fetched_at=T2)
        assert again == UpsertCounts(16, 0, 0, 16)
        assert raw_rows(path) == before
        assert {p.first_seen for p in store.papers()} == {T1}


def test_the_same_paper_twice_in_one_page(store: Store, fixtures: Path) -> None:
    sam2 = hf_papers(fixtures)[0]
    counts = store.upsert_page("hf", page([sam2, sam2]), fetched_at=T1)
    assert counts == UpsertCounts(fetched=2, new=1, updated=0, unchanged=1)
    assert store.count() == 1


def test_an_error_mid_page_leaves_nothing_half_written(tmp_path: Path, fixtures: Path) -> None:
    path = tmp_path / "papers.db"
    hf = hf_papers(fixtures)
    with Store(path) as store:
        store.upsert_page("hf", page(hf[:4]), fetched_at=T1)
        before = raw_rows(path)
        bad = dataclasses.replace(hf[8], authors=[object()])  # not JSON-serialisable
        changed = [dataclasses.replace(p, version=3) for p in hf[:4]]
        with pytest.raises(TypeError):
            store.upsert_page(
                "arxiv-listing:cs", page([*changed, *hf[4:8], bad, *hf[9:]]), fetched_at=T2
            )
        assert raw_rows(path) == before
        assert store.count() == 4
        # The store is still usable after the rollback.
        assert store.upsert_page("hf", page(hf), fetched_at=T2).new == 12


def test_ten_thousand_papers_are_fast_and_a_refetch_is_a_no_op(
    tmp_path: Path, fixtures: Path
) -> None:
    papers = cs_sample(fixtures)
    assert len(papers) == 9940
    with Store(tmp_path / "papers.db") as store:
        started = time.perf_counter()
        first = store.upsert_page("arxiv-listing:cs", page(papers), fetched_at=T1)
        first_time = time.perf_counter() - started
        started = time.perf_counter()
        again = store.upsert_page("arxiv-listing:cs", page(papers), fetched_at=T2)
        again_time = time.perf_counter() - started
        assert store.count() == 7970
    # 1,970 records of the sample repeat a paper of an earlier day, unchanged.
    assert first == UpsertCounts(fetched=9940, new=7970, updated=0, unchanged=1970)
    assert again == UpsertCounts(fetched=9940, new=0, updated=0, unchanged=9940)
    # Measured about 0.5 s and 0.25 s; the bound leaves room for a slow CI machine.
    assert first_time < 5 and again_time < 5


# --- queries ---------------------------------------------------------------------------------


def test_queries_filter_by_first_seen_source_and_ids(store: Store, fixtures: Path) -> None:
    hf = hf_papers(fixtures)
    store.upsert_page("arxiv-listing:cs.CV", page([arxiv_like(hf[0], ["cs.CV"])]), fetched_at=T1)
    store.upsert_page("hf", page(hf[:10]), fetched_at=T2)
    store.upsert_page("arxiv-rss:cs.CL", page([arxiv_like(hf[12], ["cs.CL"])]), fetched_at=T3)

    assert store.count() == 11
    every = store.papers()
    assert [p.id for p in every][:3] == ["2408.00714", "2408.00118", "2408.00203"]
    assert [p.first_seen for p in every] == [T1] + [T2] * 9 + [T3]
    assert len(store.papers(since="2024-08-03")) == 10
    assert [p.id for p in store.papers(since="2024-08-04T11:00:00+02:00")] == [hf[12].id]
    assert len(store.papers(source="hf")) == 10
    # Per source: 2408.00714 was first listed by arXiv on T1 but came to HF on T2.
    assert len(store.papers(source="hf", since="2024-08-03")) == 10
    assert [p.id for p in store.papers(source="arxiv")] == ["2408.00714", hf[12].id]
    assert [p.id for p in store.papers(source="arxiv-listing:cs.CV")] == ["2408.00714"]
    assert store.papers(source="arxiv-listing:cs.LG") == []
    assert [p.id for p in store.papers(ids=["2408.00754v2", "2408.00714", "0000.00000"])] == [
        "2408.00714",
        "2408.00754",
    ]
    assert [p.id for p in store.papers(limit=2)] == ["2408.00714", "2408.00118"]
    assert [p.id for p in store.iter_papers(source="hf", limit=3)] == [
        p.id for p in store.papers(source="hf")[:3]
    ]
    assert store.get("2408.99999") is None


def test_a_bad_since_is_a_usage_error(store: Store) -> None:
    with pytest.raises(UsageError, match="since: not an ISO 8601 date or time: 'yesterday'"):
        store.papers(since="yesterday")


def test_iso_utc() -> None:
    assert iso_utc("2024-08-02T11:30:00+02:00") == "2024-08-02T09:30:00Z"
    assert iso_utc("2024-08-02") == "2024-08-02T00:00:00Z"
    assert iso_utc("2024-08-02T00:58:58.580Z") == "2024-08-02T00:58:58Z"
    with pytest.raises(ValueError):
        iso_utc("Fri, 2 Aug 2024")


# --- fetch log -------------------------------------------------------------------------------


def test_the_fetch_log_tells_nothing_announced_from_failed(store: Store) -> None:
    log = store.log_fetch
    log("hf", url="u1", status=200, counts=UpsertCounts(16, 16, 0, 0), error=None,
        started_at=T1, finished_at=T1)  # fmt: skip
    log("arxiv-listing:cs.CV", url="u2", status=200, counts=UpsertCounts(0, 0, 0, 0), error=None,
        started_at=T1, finished_at=T1, from_cache=True)  # fmt: skip
    log("hf", url="u3", status=503, counts=None, error="huggingface.co kept failing (503)",
        started_at=T2, finished_at=T2)  # fmt: skip

    latest = {entry.source: entry for entry in store.last_fetches()}
    assert list(latest) == ["arxiv-listing:cs.CV", "hf"]
    nothing = latest["arxiv-listing:cs.CV"]
    assert (nothing.ok, nothing.counts, nothing.from_cache) == (True, UpsertCounts(), True)
    assert (nothing.fetched, nothing.new) == (0, 0)
    failed = latest["hf"]
    assert (failed.ok, failed.status, failed.counts, failed.fetched) == (False, 503, None, None)
    assert failed.error == "huggingface.co kept failing (503)"
    assert failed.to_dict() == {
        "id": 3,
        "source": "hf",
        "url": "u3",
        "status": 503,
        "fetched": None,
        "new": None,
        "updated": None,
        "unchanged": None,
        "error": "huggingface.co kept failing (503)",
        "started_at": T2,
        "finished_at": T2,
        "from_cache": False,
        "ok": False,
    }
    assert [e.url for e in store.fetch_log()] == ["u3", "u2", "u1"]
    assert [e.url for e in store.fetch_log(limit=1)] == ["u3"]


# --- deliveries ------------------------------------------------------------------------------


def test_deliveries_are_recorded_per_recipient(store: Store, fixtures: Path) -> None:
    store.upsert_page("hf", page(hf_papers(fixtures)), fetched_at=T1)
    ids = ["2408.00714", "2408.00754"]
    store.mark_delivered("daily", ["a@x.org", "b@x.org"], ids, message_id="<1@x>", delivered_at=T1)
    store.mark_delivered("daily", ["a@x.org"], ["2408.00118"], message_id="<2@x>", delivered_at=T2)
    assert store.delivered_ids("daily", "a@x.org") == {"2408.00714", "2408.00754", "2408.00118"}
    assert store.delivered_ids("daily", "b@x.org") == set(ids)
    assert store.delivered_ids("weekly", "a@x.org") == set()
    history = store.deliveries("daily")
    assert history[0] == Delivery(3, "daily", "a@x.org", "<2@x>", T2, ["2408.00118"])
    assert [(d.recipient, d.paper_ids) for d in history[1:]] == [
        ("b@x.org", ["2408.00714", "2408.00754"]),
        ("a@x.org", ["2408.00714", "2408.00754"]),
    ]
    assert store.deliveries("weekly") == []
    assert len(store.deliveries()) == 3


def test_marking_delivered_is_all_or_nothing(store: Store, fixtures: Path) -> None:
    store.upsert_page("hf", page(hf_papers(fixtures)), fetched_at=T1)
    with pytest.raises(StoreError, match=r"paper\(s\) 2408\.99999 are not in the store"):
        store.mark_delivered(
            "daily",
            ["a@x.org", "b@x.org"],
            ["2408.00714", "2408.99999", "2408.00754"],
            message_id="<1@x>",
            delivered_at=T1,
        )
    assert store.deliveries() == []
    assert store.delivered_ids("daily", "a@x.org") == set()


# --- two writers -----------------------------------------------------------------------------


def test_a_writer_waits_for_the_lock_or_says_the_store_is_busy(
    tmp_path: Path, fixtures: Path
) -> None:
    path = tmp_path / "papers.db"
    hf = hf_papers(fixtures)
    Store(path).close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    with Store(path, timeout=0.2) as impatient, pytest.raises(StoreError, match="is busy"):
        impatient.upsert_page("hf", page(hf), fetched_at=T1)
    threading.Timer(0.3, lambda: holder.execute("COMMIT")).start()
    with Store(path, timeout=20) as patient:
        assert patient.upsert_page("hf", page(hf), fetched_at=T1).new == 16
    holder.close()


def _write_pages(path: str, source: str, start: int, stop: int, barrier: Any, results: Any) -> None:
    papers = cs_sample(Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures")
    chosen = papers[start:stop]
    total = UpsertCounts()
    with Store(Path(path), timeout=60) as store:
        barrier.wait()
        for offset in range(0, len(chosen), 250):
            total += store.upsert_page(source, page(chosen[offset : offset + 250]), fetched_at=T1)
    results.put((source, dataclasses.astuple(total)))


def test_two_processes_writing_at_once(tmp_path: Path, fixtures: Path) -> None:
    path = tmp_path / "papers.db"
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    jobs = [
        context.Process(target=_write_pages, args=(str(path), "a", 0, 3000, barrier, results)),
        context.Process(target=_write_pages, args=(str(path), "b", 2000, 5000, barrier, results)),
    ]
    for job in jobs:
        job.start()
    totals = dict(results.get(timeout=120) for _ in jobs)
    for job in jobs:
        job.join(timeout=60)
    assert [job.exitcode for job in jobs] == [0, 0]

    papers = cs_sample(fixtures)
    ids_a = {p.id for p in papers[0:3000]}
    ids_b = {p.id for p in papers[2000:5000]}
    with Store(path) as store:
        assert store.count() == len(ids_a | ids_b)
        # Each paper was new to exactly one of the two writers: no merge was lost or doubled.
        assert totals["a"][1] + totals["b"][1] == len(ids_a | ids_b)
        assert totals["a"][0] == totals["b"][0] == 3000
        both = {p.id for p in store.papers(source="a")} & {p.id for p in store.papers(source="b")}
        assert both == ids_a & ids_b
        assert len(store.papers(source="a")) == len(ids_a)


def test_a_store_of_an_earlier_papercli_gets_the_one_source_names(
    tmp_path: Path, fixtures: Path
) -> None:
    hf = hf_papers(fixtures)
    path = tmp_path / "papers.db"
    old_names = {
        "arxiv-listing:cs.CV/new": "arxiv:cs.CV",
        "arxiv-listing:cs.CV/recent": "arxiv:cs.CV/recent",
        "arxiv-rss:cs.CL+cs.AI": "rss:cs.CL+cs.AI",
        "arxiv-api:ti:diffusion": "api:ti:diffusion",
        "url:https://arxiv.org/list/cs.CV/new": "https://arxiv.org/list/cs.CV/new",
        "file:saved.html": "saved.html",
        "hf:2024-08-02": "hf:2024-08-02",
    }
    with Store(path) as store:
        for number, old in enumerate(old_names):
            store.upsert_page(old, page(hf[number : number + 2]), fetched_at=T1)
            store.log_fetch(old, url=None, status=200, counts=UpsertCounts(2, 2, 0, 0),
                            error=None, started_at=T1, finished_at=T2)  # fmt: skip
    version = MIGRATIONS.index(store_module.m004_one_source_name)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()

    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.source_names() == sorted(old_names.values())
        assert [e.source for e in store.last_fetches()] == sorted(old_names.values())
        # hf[1] was under both arxiv-listing names: one row each, renamed, none lost.
        assert store.get(hf[1].id).sources == ["arxiv:cs.CV", "arxiv:cs.CV/recent"]
