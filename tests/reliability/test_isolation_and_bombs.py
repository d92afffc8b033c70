"""One source's bad data is that source's failure, and no body, file or line is unpacked past
`max_bytes`: gzip bombs (with or without a Content-Encoding, saved as .gz, one endless JSON line)
are refused as they are read. Every input here is derived from a real saved page."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pytest

from papercli.errors import ExitCode
from tests.cli_helpers import run_cli
from tests.reliability.support import (
    GOOD_COUNT,
    GOOD_SOURCE,
    HF_DAY,
    Q_FIN,
    RSS,
    error_lines,
    serve_good_source,
    status,
    stored,
)


def hf_day_with(**changes) -> bytes:
    """The real 2024-08-02 API answer with its first item's paper fields changed."""
    items = json.loads(HF_DAY.read_bytes())
    items[0]["paper"].update(changes)
    return json.dumps(items).encode()


# --- one bad value is one source's problem --------------------------------------------------------


def test_a_count_beyond_64_bits_is_no_count_and_stops_nothing(upstream, tmp_path):
    body = hf_day_with(upvotes=2**70)
    upstream.expect_request("/api/daily_papers").respond_with_data(
        body, content_type="application/json"
    )
    serve_good_source(upstream)
    result = run_cli("fetch", "hf", "--date", "2024-08-02", GOOD_SOURCE)
    assert result.code == 0, result.err
    rows = {r["id"]: r for r in stored()}
    items = json.loads(body)
    assert len(rows) == len(items) + GOOD_COUNT
    assert rows[items[0]["paper"]["id"]]["upvotes"] is None
    assert rows[items[1]["paper"]["id"]]["upvotes"] == items[1]["paper"]["upvotes"]


def test_a_saved_jsonl_line_with_a_64_bit_overflow_fails_that_file_alone(upstream, tmp_path):
    # papercli's own export of real papers, one of them with an impossible count.
    serve_good_source(upstream)
    assert run_cli("fetch", str(Q_FIN)).code == 0
    export = tmp_path / "export.jsonl"
    lines = run_cli("papers", "--json").out.splitlines()
    bad = json.loads(lines[0])
    bad["upvotes"] = 2**64
    export.write_text("\n".join([json.dumps(bad), *lines[1:]]) + "\n")
    run_cli("--db", str(tmp_path / "fresh.db"), "status")
    result = run_cli("--db", str(tmp_path / "fresh.db"), "fetch", str(export), GOOD_SOURCE)
    assert result.code == ExitCode.PARSE, result.err
    (line,) = error_lines(result.err)
    assert "export.jsonl" in line and "upvotes" in line
    assert len(stored("--db", str(tmp_path / "fresh.db"))) == GOOD_COUNT


def test_an_unforeseen_error_in_one_source_is_that_sources_failure(upstream, monkeypatch):
    """Fault injection: whatever a parser raises that no one foresaw (here the OverflowError the
    issue met) fails its source with exit 1 and a line saying it is a bug; the next source of the
    same fetch is still fetched, and the failure is in the fetch log."""
    from papercli.sources import hf

    def overflow(*args, **kwargs):
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr(hf, "paper_from_item", overflow)
    upstream.expect_request("/api/daily_papers").respond_with_data(
        HF_DAY.read_bytes(), content_type="application/json"
    )
    serve_good_source(upstream)
    result = run_cli("fetch", "hf", "--date", "2024-08-02", GOOD_SOURCE)
    assert result.code == ExitCode.BUG, result.err
    (line,) = error_lines(result.err)
    assert line.startswith("Error: hf:2024-08-02: unexpected OverflowError: Python int too large")
    assert "this is a bug" in line
    assert len(stored()) == GOOD_COUNT
    log = status()["by_source"]
    assert "OverflowError" in log["hf:2024-08-02"]["error"]
    assert log[GOOD_SOURCE]["error"] is None


# --- gzip bombs ---------------------------------------------------------------------------------


def padded_gzip(page: bytes, pad_mib: int) -> bytes:
    """A real page followed by `pad_mib` MiB of blank lines, gzipped: tiny on the wire."""
    return gzip.compress(page + b"\n" * (pad_mib * 2**20), mtime=0)


def test_a_gzip_body_without_content_encoding_is_capped_unpacked(upstream, monkeypatch, tmp_path):
    monkeypatch.setenv("PAPERCLI_MAX_BYTES", str(4 * 2**20))
    feed = RSS.read_bytes()
    assert len(feed) < 4 * 2**20
    # Within the cap: the feed is read whole, though no header said it was gzip.
    upstream.expect_request("/ok.xml").respond_with_data(
        gzip.compress(feed, mtime=0), content_type="application/octet-stream"
    )
    fine = run_cli("fetch", upstream.url_for("/ok.xml"), "--json")
    assert fine.code == 0, fine.err
    assert json.loads(fine.out)[0]["fetched"] == 1504
    # 5 MiB unpacked from a few hundred KiB: refused at the cap, nothing stored from it.
    bomb = padded_gzip(feed, 5)
    assert len(bomb) < 2**20
    upstream.expect_request("/bomb.xml").respond_with_data(bomb)
    fresh = str(tmp_path / "fresh.db")
    result = run_cli("--db", fresh, "fetch", upstream.url_for("/bomb.xml"))
    assert result.code == ExitCode.PARSE, result.err
    (line,) = error_lines(result.err)
    assert "unpacks to more than 4 MiB, over max_bytes" in line
    assert stored("--db", fresh) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_saved_gz_bomb_is_refused_without_filling_memory(tmp_path, papercli_home):
    bomb = tmp_path / "q-fin_new.html.gz"
    with gzip.open(bomb, "wb", compresslevel=1) as out:  # 400 MiB unpacked, written in pieces
        out.write(Q_FIN.read_bytes())
        for _ in range(400):
            out.write(b"\n" * 2**20)
    # The peak resident size of the papercli process itself (VmHWM starts afresh at exec).
    code = (
        "import re, sys; from papercli.cli import run; rc = run(sys.argv[1:]); "
        "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1]); "
        "sys.exit(rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "fetch", str(bomb)], capture_output=True, text=True
    )
    assert done.returncode == ExitCode.PARSE, done.stderr
    assert "unpacks to more than 50 MiB, over max_bytes" in done.stderr
    peak_mib = int(done.stdout.split()[-1]) / 1024
    assert peak_mib < 250, f"peak RSS {peak_mib:.0f} MiB"


def test_one_endless_json_line_in_a_gz_file_is_refused(tmp_path, monkeypatch, papercli_home):
    monkeypatch.setenv("PAPERCLI_MAX_BYTES", str(2**20))
    serve = run_cli("fetch", str(Q_FIN))
    assert serve.code == 0
    lines = run_cli("papers", "--json").out.splitlines()
    record = json.loads(lines[0])
    record["abstract"] += " word" * (2**20 // 5 + 10)  # one line past 1 MiB
    saved = tmp_path / "export.jsonl.gz"
    saved.write_bytes(gzip.compress(("\n".join([*lines[1:], json.dumps(record)]) + "\n").encode()))
    result = run_cli("--db", str(tmp_path / "x.db"), "fetch", str(saved))
    assert result.code == ExitCode.PARSE, result.err
    assert "a line of it unpacks to more than 1 MiB" in result.err
