"""Search over the store: FTS5 ranking, phrases, prefixes, filters, the index kept in step with
every write, its migration for existing stores, and bad queries as one-line errors."""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
import sqlite3
from pathlib import Path

import pytest

from papercli import store as store_module
from papercli.errors import ExitCode, UsageError
from papercli.history.search import fts_query, search
from papercli.models import Page, Paper
from papercli.sources.files import iter_jsonl
from papercli.store import MIGRATIONS, Store, migrate
from tests.cli_helpers import run_cli

CS_SAMPLE = "abstracts/cs-daily-sample-9940.jsonl.gz"
T1, T2 = "2025-06-01T08:00:00Z", "2025-06-02T08:00:00Z"


def cs_papers(fixtures: Path) -> list[Paper]:
    """The real cs /new records, one per id (the sample repeats 1,970 of them on later days)."""
    with gzip.open(fixtures / CS_SAMPLE) as lines:
        return list({p.id: p for p in iter_jsonl(lines)}.values())


@pytest.fixture(scope="module")
def cs_store(tmp_path_factory) -> tuple[Path, list[Paper]]:
    """A store of the sample's 7,970 papers: the first 4,000 seen on T1, the rest on T2."""
    fixtures = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"
    papers = cs_papers(fixtures)
    path = tmp_path_factory.mktemp("search") / "papers.db"
    with Store(path) as store:
        store.upsert_page("arxiv:cs", Page(kind="jsonl", papers=papers[:4000]), fetched_at=T1)
        store.upsert_page("arxiv:cs", Page(kind="jsonl", papers=papers[4000:]), fetched_at=T2)
    return path, papers


def words(text: str) -> list[str]:
    """Words as FTS5's unicode61 tokenizer cuts them: letters and digits, case folded."""
    return re.findall(r"[^\W_]+", text.casefold())


def has_phrase(text: str, phrase: list[str]) -> bool:
    found = words(text)
    return any(found[i : i + len(phrase)] == phrase for i in range(len(found)))


def searchable(paper: Paper) -> str:
    return " ".join([paper.title, paper.abstract, *paper.authors])


def test_a_phrase_finds_exactly_the_papers_holding_it(cs_store) -> None:
    path, papers = cs_store
    expected = {p.id for p in papers if has_phrase(searchable(p), ["flow", "matching"])}
    with Store(path) as store:
        hits = search(store, '"flow matching"', limit=None)
        # Two separate words are a wider query than the phrase.
        both = search(store, "flow matching", limit=None)
    assert {h.paper.id for h in hits} == expected
    assert len(expected) == 56
    assert len(both) > len(hits)


def test_a_prefix_finds_every_word_that_starts_with_it(cs_store) -> None:
    path, papers = cs_store
    expected = {p.id for p in papers if any(w.startswith("diffus") for w in words(searchable(p)))}
    with Store(path) as store:
        hits = search(store, "diffus*", limit=None)
        exact = search(store, "diffusion", limit=None)
    assert {h.paper.id for h in hits} == expected
    assert len(exact) < len(hits)  # 'diffusion' alone misses 'diffuse', 'diffusive', ...


def test_titles_weigh_more_than_abstracts(cs_store) -> None:
    path, papers = cs_store
    in_abstract_only = [
        p
        for p in papers
        if "quantization" in words(p.abstract) and "quantization" not in words(p.title)
    ]
    with Store(path) as store:
        hits = search(store, "quantization", limit=10)
        # The same ranking with every column weighing the same puts abstract matches on top.
        flat = store._conn.execute(
            "SELECT p.id FROM papers_search JOIN papers p ON p.rowid = papers_search.rowid"
            " WHERE papers_search MATCH 'quantization'"
            " ORDER BY bm25(papers_search, 1, 1, 1), p.id LIMIT 10"
        ).fetchall()
    assert len(in_abstract_only) > 50
    assert all("quantization" in words(h.paper.title) for h in hits)
    flat_ids = [paper_id for (paper_id,) in flat]
    assert flat_ids != [h.paper.id for h in hits]
    assert [h.rank for h in hits] == list(range(1, 11))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_author_category_and_since_each_narrow_the_hits(cs_store) -> None:
    path, papers = cs_store
    first_day = {p.id for p in papers[:4000]}
    with Store(path) as store:
        every = search(store, "diffusion", limit=None)
        by_author = search(store, "diffusion", author="Wang", limit=None)
        in_cl = search(store, "diffusion", category="cs.CL", limit=None)
        in_cs = search(store, "diffusion", category="CS", limit=None)
        later = search(store, "diffusion", since=T2, limit=None)
    every_ids = {h.paper.id for h in every}
    stored = {p.id: p for p in papers}
    assert {h.paper.id for h in by_author} == {
        i for i in every_ids if any("wang" in words(a) for a in stored[i].authors)
    }
    assert {h.paper.id for h in in_cl} == {i for i in every_ids if "cs.CL" in stored[i].categories}
    assert {h.paper.id for h in in_cs} == every_ids  # an archive keeps all its categories
    assert {h.paper.id for h in later} == every_ids - first_day
    assert 0 < len(by_author) < len(every) and 0 < len(in_cl) < len(every)
    assert 0 < len(later) < len(every)


def test_an_author_filter_matches_names_without_accents(tmp_path: Path) -> None:
    paper = Paper(id="2401.00001", title="Sheaves on curves", authors=["Jörg Müller"])
    with Store(tmp_path / "papers.db") as store:
        store.upsert_page("x", Page(kind="jsonl", papers=[paper]), fetched_at=T1)
        assert [h.paper.id for h in search(store, "sheaves", author="joerg muller")] == []
        assert [h.paper.id for h in search(store, "sheaves", author="jorg muller")] == [paper.id]
        assert [h.paper.id for h in search(store, "sheaves", author="Müller")] == [paper.id]


def test_the_index_follows_every_write_and_a_failed_page_leaves_it_as_it_was(
    tmp_path: Path, fixtures: Path
) -> None:
    papers = cs_papers(fixtures)[:50]
    path = tmp_path / "papers.db"
    with Store(path) as store:
        store.upsert_page("arxiv:cs", Page(kind="jsonl", papers=papers), fetched_at=T1)
        target = papers[0]
        renamed = dataclasses.replace(target, version=2, title="Zymurgy of Quokkas")
        store.upsert_page("arxiv:cs", Page(kind="jsonl", papers=[renamed]), fetched_at=T2)
        assert [h.paper.id for h in search(store, "zymurgy")] == [target.id]
        elsewhere = words(target.abstract + " " + " ".join(target.authors))
        old_word = next(w for w in words(target.title) if w not in elsewhere)
        assert target.id not in {h.paper.id for h in search(store, old_word, limit=None)}
        bad = dataclasses.replace(papers[1], version=9, title="Quokkas", authors=[object()])
        another = dataclasses.replace(papers[2], version=9, title="Quokkas Again")
        with pytest.raises(TypeError):
            store.upsert_page("arxiv:cs", Page(kind="jsonl", papers=[another, bad]), fetched_at=T2)
        assert [h.paper.id for h in search(store, "quokkas", limit=None)] == [target.id]
    conn = sqlite3.connect(path)
    # FTS5's own check of the index against the papers table (rank 1: external content too).
    conn.execute("INSERT INTO papers_search (papers_search, rank) VALUES ('integrity-check', 1)")
    conn.close()


def test_a_store_from_before_search_gets_its_index_on_open(tmp_path: Path, fixtures: Path) -> None:
    papers = cs_papers(fixtures)[:20]
    path = tmp_path / "papers.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, MIGRATIONS[: MIGRATIONS.index(store_module.m007_search_index)])
    conn.executemany(
        "INSERT INTO papers (id, title, abstract, authors, first_seen) VALUES (?, ?, ?, ?, ?)",
        [(p.id, p.title, p.abstract, json.dumps(p.authors), T1) for p in papers],
    )
    conn.close()
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        hits = search(store, f'"{papers[7].title}"')
    assert [h.paper.id for h in hits] == [papers[7].id]


def test_a_new_abstract_is_found_by_its_new_words_and_not_its_old_ones(
    tmp_path: Path, fixtures: Path
) -> None:
    papers = cs_papers(fixtures)[:30]
    target = papers[3]
    with Store(tmp_path / "papers.db") as store:
        store.upsert_page("arxiv:cs", Page(kind="jsonl", papers=papers), fetched_at=T1)
        others = words(" ".join(searchable(p) for p in papers if p is not target))
        old_word = next(w for w in words(target.abstract) if w not in others)
        assert [h.paper.id for h in search(store, old_word)] == [target.id]
        revised = dataclasses.replace(target, version=2, abstract="Quokkas brew by zymurgy.")
        store.upsert_page("arxiv:cs", Page(kind="jsonl", papers=[revised]), fetched_at=T2)
        assert [h.paper.id for h in search(store, "zymurgy quokkas")] == [target.id]
        assert search(store, old_word) == []
        # A page that fails on its second paper takes the first one's new abstract back too.
        again = dataclasses.replace(target, version=3, abstract="Wombats only.")
        bad = dataclasses.replace(papers[4], version=9, authors=[object()])
        with pytest.raises(TypeError):
            store.upsert_page("arxiv:cs", Page(kind="jsonl", papers=[again, bad]), fetched_at=T2)
        assert search(store, "wombats") == []
        assert [h.paper.id for h in search(store, "zymurgy")] == [target.id]


def test_a_store_with_the_first_index_is_upgraded_in_place(tmp_path: Path, fixtures: Path) -> None:
    papers = cs_papers(fixtures)[:200]
    path = tmp_path / "papers.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, MIGRATIONS[: MIGRATIONS.index(store_module.m010_search_merges)])
    for start in range(0, 200, 20):  # one transaction, so one index segment, per page
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO papers (id, title, abstract, authors, first_seen) VALUES (?, ?, ?, ?, ?)",
            [
                (p.id, p.title, p.abstract, json.dumps(p.authors), T1)
                for p in papers[start : start + 20]
            ],
        )
        conn.execute("COMMIT")
    segments_before = conn.execute("SELECT count(DISTINCT segid) FROM papers_search_idx")
    assert segments_before.fetchone()[0] > 1
    conn.close()
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert [h.paper.id for h in search(store, f'"{papers[150].title}"')] == [papers[150].id]
        settings = dict(store._conn.execute("SELECT k, v FROM papers_search_config"))
        merged = store._conn.execute(
            "SELECT count(DISTINCT segid) FROM papers_search_idx"
        ).fetchone()[0]
        store._conn.execute(
            "INSERT INTO papers_search (papers_search, rank) VALUES ('integrity-check', 1)"
        )
    assert settings["automerge"] == 8
    assert merged == 1


def test_a_category_is_matched_literally(cs_store) -> None:
    path, _ = cs_store
    with Store(path) as store:
        in_lg = search(store, "diffusion", category="cs.LG", limit=None)
        assert {h.paper.id for h in in_lg} == {
            h.paper.id
            for h in search(store, "diffusion", limit=None)
            if "cs.LG" in h.paper.categories
        }
        # LIKE's wildcards in a category are letters, not patterns.
        assert search(store, "diffusion", category="cs.L_") == []
        assert search(store, "diffusion", category="%") == []


def test_equal_scores_go_in_the_order_the_papers_were_stored(tmp_path: Path) -> None:
    twins = [Paper(id=i, title="Quokka husbandry", abstract="On quokkas.") for i in ("b", "a", "c")]
    with Store(tmp_path / "papers.db") as store:
        store.upsert_page("x", Page(kind="jsonl", papers=twins), fetched_at=T1)
        hits = search(store, "quokka")
        assert [h.paper.id for h in hits] == ["b", "a", "c"]
        assert len({h.score for h in hits}) == 1
        assert [h.paper.id for h in search(store, "quokka", limit=2)] == ["b", "a"]


@pytest.mark.parametrize(
    ("typed", "fts5"),
    [
        ("self-supervised diffus*", '"self-supervised" diffus*'),
        ('GPT-4 OR "flow matching"', '"GPT-4" OR "flow matching"'),
        ("title:cs.CL NOT (survey OR review)", 'title:"cs.CL" NOT ( survey OR review )'),
        ("NEAR(sparse attention, 3)", "NEAR ( sparse attention , 3 )"),
        ("title:^diffusion", "title:^diffusion"),
    ],
)
def test_typed_queries_become_fts5_queries(typed: str, fts5: str) -> None:
    assert fts_query(typed) == fts5


def test_a_hyphenated_word_is_searched_as_a_phrase(cs_store) -> None:
    path, papers = cs_store
    expected = {p.id for p in papers if has_phrase(searchable(p), ["self", "supervised"])}
    with Store(path) as store:
        assert {h.paper.id for h in search(store, "self-supervised", limit=None)} == expected
    assert expected


@pytest.mark.parametrize(
    "query", ['"flow matching', "diffusion AND", "(diffusion", "venue:neurips"]
)
def test_a_query_fts5_cannot_read_is_one_line_and_exit_2(cs_store, query: str) -> None:
    path, _ = cs_store
    result = run_cli("--db", str(path), "search", query)
    assert result.code == ExitCode.USAGE
    assert result.out == ""
    assert result.err.startswith("Error: cannot read the search query (")
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_empty_query_and_bad_limit_are_usage_errors(cs_store) -> None:
    path, _ = cs_store
    with Store(path) as store:
        with pytest.raises(UsageError, match="empty"):
            search(store, "   ")
        with pytest.raises(UsageError, match="below 1"):
            search(store, "diffusion", limit=0)


def test_the_command_prints_a_table_or_json_lines_best_first(cs_store) -> None:
    path, _ = cs_store
    table = run_cli("--db", str(path), "search", "speculative decoding", "--limit", "3")
    lines = run_cli(
        "--db", str(path), "search", "speculative decoding", "--limit", "5", "--json",
        "--category", "cs.CL", "--since", "2025-06-02",
    )  # fmt: skip
    assert table.code == 0 and lines.code == 0, table.err + lines.err
    rows = [json.loads(line) for line in lines.out.splitlines()]
    assert [row["rank"] for row in rows] == [1, 2, 3, 4, 5]
    assert all("cs.CL" in row["categories"] and row["first_seen"] >= T2 for row in rows)
    assert table.out.splitlines()[0].split() == ["#", "id", "date", "title", "authors"]
    assert [line.split()[0] for line in table.out.splitlines()[1:] if line[:1].isdigit()] == [
        "1", "2", "3",
    ]  # fmt: skip


def test_nothing_found_is_not_an_error(cs_store) -> None:
    path, _ = cs_store
    result = run_cli("--db", str(path), "search", "zzyzxquux")
    assert (result.code, result.out) == (0, "")
    assert "no stored paper matches" in result.err


def test_a_store_from_before_the_filter_table_gets_it_on_open(
    tmp_path: Path, fixtures: Path
) -> None:
    papers = cs_papers(fixtures)[:200]
    path = tmp_path / "papers.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, MIGRATIONS[: MIGRATIONS.index(store_module.m011_search_filters)])
    conn.executemany(
        "INSERT INTO papers (id, title, abstract, authors, categories, first_seen)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (p.id, p.title, p.abstract, json.dumps(p.authors), json.dumps(p.categories), when)
            for i, p in enumerate(papers)
            for when in [T1 if i < 100 else T2]
        ],
    )
    conn.close()
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        every = {h.paper.id for h in search(store, "learning", limit=None)}
        in_ai = {h.paper.id for h in search(store, "learning", category="cs.AI", limit=None)}
        later = {h.paper.id for h in search(store, "learning", since=T2, limit=None)}
    stored = {p.id: p for p in papers}
    assert in_ai == {i for i in every if "cs.AI" in stored[i].categories}
    assert later == every & {p.id for p in papers[100:]}
    assert 0 < len(in_ai) < len(every) and 0 < len(later) < len(every)


def test_the_filter_table_follows_every_write_to_papers(tmp_path: Path, fixtures: Path) -> None:
    papers = cs_papers(fixtures)[:50]
    path = tmp_path / "papers.db"
    with Store(path) as store:
        store.upsert_page("arxiv:cs", Page(kind="jsonl", papers=papers), fetched_at=T1)
        moved = dataclasses.replace(papers[5], version=9, categories=["q-bio.NC"])
        store.upsert_page("arxiv:cs", Page(kind="jsonl", papers=[moved]), fetched_at=T2)
        assert [h.paper.id for h in search(store, "*", category="q-bio", limit=None)] == []
        found = search(store, f'"{papers[5].title}"', category="q-bio", limit=None)
        assert [h.paper.id for h in found] == [papers[5].id]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT paper, first_seen, categories FROM paper_filters").fetchall() == (
        conn.execute("SELECT rowid, first_seen, categories FROM papers ORDER BY rowid").fetchall()
    )
    conn.execute("DELETE FROM papers WHERE id = ?", (papers[0].id,))
    assert conn.execute("SELECT count(*) FROM paper_filters").fetchone() == (49,)
    conn.close()
