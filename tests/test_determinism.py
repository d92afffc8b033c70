"""The same input gives the same topics and digest byte for byte: on one thread or two, and
whatever order the papers reach the store or the file in (the README's promise)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from papercli.errors import ConfigError
from papercli.models import Page, Paper
from papercli.sources import arxiv_listing, arxiv_rss, hf
from papercli.store import Store
from papercli.topics import build_topics

# The first 2,838 distinct papers of cs-daily: before the thread pools were pinned, one thread
# and two gave these different topics for most papers.
THREAD_SENSITIVE = 2838


def _cs_daily_lines(fixtures: Path, n: int) -> list[str]:
    lines, seen = [], set()
    with gzip.open(fixtures / "abstracts" / "cs-daily-sample-9940.jsonl.gz", "rt") as records:
        for line in records:
            paper_id = json.loads(line)["id"]
            if paper_id not in seen:
                seen.add(paper_id)
                lines.append(line)
    return lines[:n]


def _papercli(
    *args: str, threads: int, db: Path | None = None, blas: dict[str, str] | None = None
) -> bytes:
    """`papercli ARGS` as its own process, BLAS and OpenMP told to use `threads` threads
    (and `blas`: more of OpenBLAS's settings)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)}
    env.update(blas or {})
    env["MKL_NUM_THREADS"] = str(threads)
    if db is not None:
        env["PAPERCLI_DB"] = str(db)
    done = subprocess.run(
        [sys.executable, "-m", "papercli", *args], env=env, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.mark.slow
def test_topics_json_same_bytes_on_one_and_two_threads(fixtures, tmp_path):
    lines = _cs_daily_lines(fixtures, THREAD_SENSITIVE)
    forward, backward = tmp_path / "forward.jsonl", tmp_path / "backward.jsonl"
    forward.write_text("".join(lines), encoding="utf-8")
    backward.write_text("".join(reversed(lines)), encoding="utf-8")

    one = _papercli("topics", str(forward), "--json", threads=1)
    two = _papercli("topics", str(forward), "--json", threads=2)
    assert one == two
    rows = [json.loads(line) for line in one.decode().splitlines()]
    assert len(rows) == THREAD_SENSITIVE and len({r["topic"] for r in rows}) >= 20

    # The file read backwards: every paper in the same topic under the same label.
    reversed_rows = _papercli("topics", str(backward), "--json", threads=2).decode().splitlines()
    assert sorted(reversed_rows) == sorted(one.decode().splitlines())


def _blas_kernels(env: dict[str, str]) -> list[str]:
    """The kernels OpenBLAS picks for this machine's CPU under `env` (its `architecture`)."""
    code = "import numpy, scipy.linalg, threadpoolctl as t; print(sorted({str(i.get('architecture')) for i in t.threadpool_info() if i['internal_api'] == 'openblas'}))"  # noqa: E501
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True
    )
    return json.loads(done.stdout.replace("'", '"')) if done.returncode == 0 else []


@pytest.mark.slow
def test_topics_json_same_bytes_with_another_blas(fixtures, tmp_path):
    """Another CPU's BLAS, stood in for by OpenBLAS's kernels for an old CPU without AVX
    (OPENBLAS_CORETYPE): in float32 its factorisations moved the points past the rounding, and
    2,827 of these 2,838 papers changed topic."""
    other = {"OPENBLAS_CORETYPE": "Prescott"}
    if not _blas_kernels({}) or _blas_kernels(other) == _blas_kernels({}):
        pytest.skip("this NumPy/SciPy's BLAS is not an OpenBLAS that can switch kernels")
    lines = _cs_daily_lines(fixtures, THREAD_SENSITIVE)
    path = tmp_path / "papers.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    here = _papercli("topics", str(path), "--json", threads=1)
    assert _papercli("topics", str(path), "--json", threads=1, blas=other) == here
    # and a digest ranked by closeness to a query, on a store of the same papers
    db = tmp_path / "papers.db"
    _papercli("fetch", str(path), threads=1, db=db)
    digest = ("digest", "--topic", "diffusion", "--format", "json")
    assert _papercli(*digest, threads=1, db=db, blas=other) == _papercli(*digest, threads=1, db=db)


def _real_pages(fixtures: Path) -> list[tuple[str, Page]]:
    """Real pages of several sources, overlapping papers included (RSS and listings)."""
    rss = fixtures / "arxiv-rss" / "jmmeus-aioarxiv-2024-11-28" / "rss_mock_feed.xml"
    listings = fixtures / "arxiv-list" / "rendered-by-arxiv-browse"
    pages = [("rss:all", arxiv_rss.parse(rss.read_bytes()))]
    for path in sorted((fixtures / "hf-daily" / "api").glob("daily_papers_date-*.json")):
        pages.append((f"hf:{path.stem[-10:]}", hf.parse_api(path.read_bytes())))
    for name in ("astro-ph_new.html", "math.AG_new.html", "q-fin_new.html"):
        pages.append(
            (f"arxiv:{name.split('_')[0]}", arxiv_listing.parse((listings / name).read_bytes()))
        )
    return pages


def _store(path: Path, pages: list[tuple[str, Page]]) -> Path:
    with Store(path) as store:
        for source, page in pages:
            store.upsert_page(source, page, fetched_at="2026-01-05T07:00:00Z")
    return path


@pytest.mark.slow
def test_store_in_another_order_same_topics_and_digest_on_any_thread_count(fixtures, tmp_path):
    pages = _real_pages(fixtures)
    assert sum(len(page.papers) for _, page in pages) > 1500
    first = _store(tmp_path / "first.db", pages)
    # Sources in the opposite order, each page's papers backwards, in the same second.
    backwards = [(source, replace(page, papers=page.papers[::-1])) for source, page in pages[::-1]]
    second = _store(tmp_path / "second.db", backwards)

    topics = [
        _papercli("topics", "--json", threads=1, db=first),
        _papercli("topics", "--json", threads=2, db=second),
    ]
    assert topics[0] == topics[1] and topics[0].count(b"\n") > 1500

    digests = []
    for db, threads in ((first, 1), (second, 2)):
        out = tmp_path / f"{db.stem}.html"
        _papercli("digest", "-t", "galaxies", "-f", "html", "-o", str(out), threads=threads, db=db)
        digests.append(out.read_bytes())
    assert digests[0] == digests[1] and digests[0].count(b"<article") > 10


def test_build_topics_does_not_depend_on_the_input_order(fixtures):
    papers = _rss_papers(fixtures)
    forward = build_topics(papers, 20)
    backward = build_topics(papers[::-1], 20)
    assert forward.topics == backward.topics
    assert forward.assignments == backward.assignments[::-1]
    ahead = [(papers[m.index].id, round(m.score, 6)) for m in forward.match(["galaxy"])]
    behind = [(papers[::-1][m.index].id, round(m.score, 6)) for m in backward.match(["galaxy"])]
    assert sorted(ahead) == sorted(behind) and len(ahead) > 20


def _rss_papers(fixtures: Path) -> list[Paper]:
    rss = fixtures / "arxiv-rss" / "jmmeus-aioarxiv-2024-11-28" / "rss_mock_feed.xml"
    return list(arxiv_rss.parse(rss.read_bytes()).papers)


# --- folding with a helper process ------------------------------------------------------------

needs_fork = pytest.mark.skipif(
    not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
    reason="the helper process is used on Linux with two cores or more",
)


def _cs_daily_papers(fixtures: Path, n: int) -> list[Paper]:
    from papercli.sources.files import iter_jsonl

    return list(iter_jsonl(_cs_daily_lines(fixtures, n)))


def _encoded(papers, *, helper: bool, monkeypatch):
    """(stream, folder) of `papers`, in chunks of 128 papers, with a helper process folding
    the second half or without one."""
    from papercli.topics import features
    from papercli.topics.text import Folder

    monkeypatch.setattr(features, "_CHUNK", 128)
    monkeypatch.setattr(features, "HELPER_FROM", 512 if helper else 10**9)
    stages = []
    folder = Folder()
    stream = features.encode(papers, folder, lambda stage, done: stages.append(done))
    return stream, folder, stages


def _same_stream_and_folder(one, other) -> None:
    import numpy as np

    (stream, folder), (stream2, folder2) = one, other
    assert np.array_equal(stream.ids, stream2.ids) and stream.ids.dtype == stream2.ids.dtype
    assert np.array_equal(stream.starts, stream2.starts)
    assert np.array_equal(stream.title_ends, stream2.title_ends)
    assert folder.learnt() == folder2.learnt()  # terms, spellings and pieces, in order
    assert folder.prefix_ids == folder2.prefix_ids


@needs_fork
def test_folding_half_in_a_helper_process_gives_the_same_terms(fixtures, monkeypatch):
    import gc

    papers = _cs_daily_papers(fixtures, 1500)
    stream, folder, alone_stages = _encoded(papers, helper=False, monkeypatch=monkeypatch)
    *both, stages = _encoded(papers, helper=True, monkeypatch=monkeypatch)
    _same_stream_and_folder((stream, folder), both)
    # Only the first half was folded here, chunk by chunk, so a helper did fold the rest.
    assert max(stages) == 768 / 1500 and max(alone_stages) > 0.9
    assert gc.get_freeze_count() == 0  # the papers' objects are the collector's again
    # A folder that read other papers before goes on numbering from where it was.
    from papercli.topics import features
    from papercli.topics.text import Folder

    before, after = Folder(), Folder()
    features.encode(papers[:300], before, lambda *_: None)
    features.encode(papers[:300], after, lambda *_: None)
    monkeypatch.setattr(features, "HELPER_FROM", 10**9)
    one = features.encode(papers[300:], before, lambda *_: None), before
    monkeypatch.setattr(features, "HELPER_FROM", 512)
    _same_stream_and_folder(one, (features.encode(papers[300:], after, lambda *_: None), after))


class _FailsInAChild(list):
    """Papers that cannot be read in any process but the one that made them (a helper that
    dies or fails): the half it was to fold must be folded by the parent."""

    def __init__(self, papers: list[Paper]) -> None:
        super().__init__(papers)
        self.owner = os.getpid()

    def __getitem__(self, index):
        if os.getpid() != self.owner:
            os._exit(9)  # killed, as by the kernel when memory runs out
        return super().__getitem__(index)


@needs_fork
def test_a_helper_that_dies_leaves_its_half_to_the_parent(fixtures, monkeypatch):
    papers = _cs_daily_papers(fixtures, 1200)
    alone = _encoded(papers, helper=False, monkeypatch=monkeypatch)[:2]
    *both, stages = _encoded(_FailsInAChild(papers), helper=True, monkeypatch=monkeypatch)
    _same_stream_and_folder(alone, both)
    assert max(stages) == 640 / 1200  # the helper was started, and its half came here after


class _Unreadable(list):
    def __init__(self, papers: list[Paper], bad: int) -> None:
        super().__init__(papers)
        self.bad = bad

    def __getitem__(self, index):
        if isinstance(index, int) and index >= self.bad:
            raise ConfigError(f"cannot read paper {self.bad}", hint="test")
        return super().__getitem__(index)


@needs_fork
@pytest.mark.parametrize("bad", [1000, 300])  # in the helper's half, in this process's half
def test_an_error_reading_the_papers_is_raised_here_and_no_helper_is_left(
    fixtures, monkeypatch, bad
):
    import gc

    papers = _Unreadable(_cs_daily_papers(fixtures, 1200), bad)
    with pytest.raises(ConfigError, match=f"cannot read paper {bad}"):
        _encoded(papers, helper=True, monkeypatch=monkeypatch)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child process left, running or unreaped
    assert gc.get_freeze_count() == 0


_WITH_HELPER = """
import sys
from papercli.topics import features
features._CHUNK, features.HELPER_FROM = 128, int(sys.argv.pop(1))
from papercli.cli import main
sys.argv[0] = "papercli"
main()
"""


@needs_fork
def test_topics_json_same_bytes_with_and_without_a_helper_process(fixtures, tmp_path):
    """As whole processes writing to a pipe: the helper neither changes nor repeats output."""
    path = tmp_path / "papers.jsonl"
    path.write_text("".join(_cs_daily_lines(fixtures, 1500)), encoding="utf-8")
    outputs = []
    for helper_from in ("512", "1000000000"):
        done = subprocess.run(
            [sys.executable, "-c", _WITH_HELPER, helper_from, "topics", str(path), "--json"],
            env={**os.environ, "PAPERCLI_HOME": str(tmp_path)},
            capture_output=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert len({json.loads(line)["id"] for line in outputs[0].splitlines()}) == 1500


@needs_fork
def test_ctrl_c_while_folding_leaves_no_helper_and_no_signal_held(fixtures, monkeypatch):
    import gc
    import signal

    from papercli.topics import features
    from papercli.topics.text import Folder

    monkeypatch.setattr(features, "_CHUNK", 128)
    monkeypatch.setattr(features, "HELPER_FROM", 512)
    papers = _cs_daily_papers(fixtures, 1200)

    def interrupted(stage: str, done: float) -> None:
        if done > 0.2:  # in this process's half, the helper folding the other
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        features.encode(papers, Folder(), interrupted)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # the helper was stopped and reaped
    assert gc.get_freeze_count() == 0
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, ())


_SLOW_HELPER = """
import os, sys, time
from papercli.models import Paper
from papercli.topics import features
from papercli.topics.text import Folder

class Slow(list):  # the helper's half takes minutes: it is still folding when the parent dies
    owner = os.getpid()
    def __getitem__(self, index):
        if os.getpid() != self.owner:
            time.sleep(0.5)
        return super().__getitem__(index)

features._CHUNK, features.HELPER_FROM = 16, 64
papers = Slow(Paper(id=str(i), title=f"paper {i}", abstract="pre training") for i in range(400))
print(os.getpid(), flush=True)
features.encode(papers, Folder(), lambda stage, done: time.sleep(0.01))
"""


def _state(pid: int) -> tuple[str, int] | None:
    """(state, parent) of a process from /proc, None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def _running(pid: int) -> bool:
    state = _state(pid)
    return state is not None and state[0] != "Z"  # a zombie has ended


def _children(parent: int) -> list[int]:
    pids = (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return [pid for pid in pids if (_state(pid) or ("", 0))[1] == parent and _running(pid)]


@needs_fork
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_the_helper_ends_when_papercli_is_killed(how):
    """A timeout in cron kills papercli: its helper must not fold on for nobody."""
    import signal
    import time

    parent = subprocess.Popen([sys.executable, "-c", _SLOW_HELPER], stdout=subprocess.PIPE)
    try:
        pid = int(parent.stdout.readline())
        deadline = time.monotonic() + 20
        while not (helpers := _children(pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert helpers, "no helper process was started"
        parent.send_signal(getattr(signal, how))
        parent.wait(timeout=20)
        deadline = time.monotonic() + 5
        while any(map(_running, helpers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_running, helpers))
    finally:
        parent.kill()
        parent.wait()
