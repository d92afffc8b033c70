"""papercli.spool: papers whose abstracts wait on disk, as `papercli topics FILE` holds them; and
that topics built from them are the topics of the same papers held in memory."""

from __future__ import annotations

import gzip
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from papercli.models import Paper
from papercli.sources.files import iter_jsonl
from papercli.spool import SpooledPapers, heads
from papercli.topics import build_topics, canonical_order

CS_DAILY = Path("abstracts/cs-daily-sample-9940.jsonl.gz")


def _cs_daily(fixtures: Path, n: int) -> list[Paper]:
    with gzip.open(fixtures / CS_DAILY) as lines:
        papers = list({p.id: p for p in iter_jsonl(lines)}.values())
    return papers[:n]


def test_spool_gives_back_each_abstract_and_only_id_title_abstract(fixtures):
    papers = _cs_daily(fixtures, 300)
    odd = Paper(
        id="title:x",
        title="Ünïcode — title",
        abstract="Schrödinger, 量子, \U0001f600 and $\\alpha$",
    )
    empty = Paper(id="2401.00002", title="No abstract")
    with SpooledPapers() as spool:
        for paper in [*papers, odd, empty]:
            spool.append(paper)
        assert len(spool) == 302
        for got, want in zip(spool, [*papers, odd, empty], strict=True):
            assert (got.id, got.title, got.abstract) == (want.id, want.title, want.abstract)
            assert got.authors == [] and got.categories == []
        assert spool[-2].abstract == odd.abstract and spool[-1].abstract == ""
        assert [p.id for p in spool[3:9:2]] == [papers[i].id for i in (3, 5, 7)]
        with pytest.raises(IndexError):
            spool[302]
        with pytest.raises(IndexError):
            spool[-303]


def test_spool_keeps_abstracts_out_of_memory(fixtures):
    papers = _cs_daily(fixtures, 2000)
    with SpooledPapers() as spool:
        for paper in papers:
            spool.append(paper)
        on_disk = spool._file.seek(0, 2)  # the file's size
        assert on_disk == sum(len(p.abstract.encode()) for p in papers) > 1_000_000
        # What stays in memory holds no abstract.
        held = json.dumps([spool._ids, spool._titles])
        assert not any(p.abstract[:80] in held for p in papers[:50] if len(p.abstract) > 80)


def test_topics_of_spooled_papers_are_those_of_the_papers_in_memory(fixtures):
    papers = _cs_daily(fixtures, 1500)
    in_memory = build_topics(papers, 12)
    with SpooledPapers() as spool:
        for paper in papers:
            spool.append(paper)
        spooled = build_topics(spool, 12)
        assert spooled.topics == in_memory.topics
        assert spooled.assignments == in_memory.assignments
        found = [(m.index, round(m.score, 6)) for m in spooled.match(["retrieval"])]
        assert found == [(m.index, round(m.score, 6)) for m in in_memory.match(["retrieval"])]
        assert len(found) > 10


def test_canonical_order_sorts_by_id_title_then_abstract_in_any_input_order():
    papers = [
        Paper(id="b", title="T", abstract="2"),
        Paper(id="a", title="T", abstract="9"),
        Paper(id="b", title="T", abstract="1"),
        Paper(id="b", title="S", abstract="3"),
        Paper(id="a", title="T", abstract="0"),
    ]
    want = [("a", "T", "0"), ("a", "T", "9"), ("b", "S", "3"), ("b", "T", "1"), ("b", "T", "2")]
    for given in (papers, papers[::-1], papers[2:] + papers[:2]):
        order = canonical_order(given)
        assert [(given[i].id, given[i].title, given[i].abstract) for i in order] == want


def test_heads_are_ids_and_titles_for_a_spool_and_a_list_alike(fixtures):
    papers = _cs_daily(fixtures, 200)
    with SpooledPapers() as spool:
        for paper in papers:
            spool.append(paper)
        spool._file.close()  # heads need no abstract: reading one now would fail
        assert heads(spool) == heads(papers) == [(p.id, p.title) for p in papers]
        with pytest.raises(ValueError):
            spool[0]


def test_topics_file_says_when_the_temporary_folder_is_full(fixtures, tmp_path):
    """A disk that fills up under the spool is one line and exit 3 (an environment setting),
    not a traceback; the run is made to hit it with a file-size limit of 64 KB on the process."""
    papers = _cs_daily(fixtures, 400)
    source = tmp_path / "papers.jsonl"
    source.write_text("".join(json.dumps(p.to_json()) + "\n" for p in papers), encoding="utf-8")

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, not kills
        resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))

    env = {**os.environ, "PAPERCLI_HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "papercli", "topics", str(source), "--topics", "5", "--json"],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=limit_file_size,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: cannot keep the abstracts in a temporary file in {tmp_path}")
    assert "set TMPDIR" in line


def test_texts_read_in_runs_are_the_titles_and_abstracts_in_any_order(fixtures):
    from papercli.spool import Reordered, texts

    papers = [*_cs_daily(fixtures, 120), Paper(id="2401.00002", title="No abstract")]
    odd = Paper(id="title:x", title="Ünïcode", abstract="Schrödinger, 量子, \U0001f600")
    papers.insert(60, odd)
    order = [*range(100, 122), 5, 4, *range(6, 100), 0, 1, 2, 3]
    with SpooledPapers() as spool:
        for paper in papers:
            spool.append(paper)
        for seen, plain in ((spool, papers), (Reordered(spool, order), [papers[i] for i in order])):
            want = [(p.title, p.abstract) for p in plain]
            for start, stop in ((0, len(plain)), (3, 40), (20, 25), (0, 0), (110, 500)):
                assert texts(seen, start, stop) == want[start:stop]
            assert texts(plain, 3, 40) == want[3:40]
