"""Scheduled digests end to end: `papercli run` against a real SMTP server on localhost, on the
bundled example page; nothing sent twice, nothing lost when the server is down or refuses."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from pathlib import Path

import pytest

from papercli.deliver import Outbox
from papercli.errors import ExitCode
from papercli.store import Store
from tests.cli_helpers import run_cli
from tests.conftest import EXAMPLES
from tests.smtp_server import Collector, RejectingNobody, free_port, running

SEED = EXAMPLES / "hf-daily-papers-jul-31.txt"
RECIPIENTS = ["ana@example.org", "ben@example.org"]


def write_config(
    home: Path, port: int, *, topics=("diffusion",), extra: str = "", recipients=RECIPIENTS
) -> None:
    (home / "config.toml").write_text(
        f"""
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
from = "papercli <digest@example.org>"
timeout = 5

[digest.diff]
sources = [{str(SEED)!r}]
topics = {list(topics)!r}
recipients = {list(recipients)!r}
{extra}
"""
    )


def delivered(home: Path) -> set[str]:
    with Store(home / "papers.db") as store:
        return store.delivered_ids("diff", RECIPIENTS[0])


def test_run_sends_both_parts_once(papercli_home):
    with running(Collector()) as server:
        write_config(papercli_home, server.port)
        first = run_cli("run", "diff")
        assert first.code == 0, first.err
        (msg,) = server.messages
        assert sorted(server.handler.envelopes[0].rcpt_tos) == RECIPIENTS
        assert msg["Subject"].startswith("papercli: diff - ")
        assert " papers in " in msg["Subject"]
        assert msg["Message-ID"] and msg["Date"]
        plain = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert "diffusion" in plain.lower() and "<html" in html.lower()
        sent_ids = delivered(papercli_home)
        assert sent_ids and all(i.startswith("title:") for i in sent_ids)
        assert "sent" in first.err

        second = run_cli("run", "diff")
        assert second.code == 0, second.err
        assert len(server.messages) == 1
        assert "nothing new to send" in second.err


def test_down_server_keeps_the_digest_in_the_outbox_then_retry_sends_it(papercli_home):
    port = free_port()
    write_config(papercli_home, port)
    failed = run_cli("run", "diff")
    assert failed.code == ExitCode.DELIVERY
    assert "kept in the outbox" in failed.err and "papercli send --retry" in failed.err
    assert len(failed.err.strip().splitlines()) == 1
    assert delivered(papercli_home) == set()
    assert len(Outbox(papercli_home / "outbox").items()) == 1

    # The next cron tick while the server is still down: the papers wait in the outbox already,
    # and the run says so (exit 8, how long) instead of looking healthy in the cron log.
    again = run_cli("run", "diff")
    assert again.code == ExitCode.DELIVERY, again.err
    assert "diff: 1 digest(s) waiting in the outbox for " in again.err
    assert "still cannot be sent" in again.err
    assert len(again.err.strip().splitlines()) == 1
    assert len(Outbox(papercli_home / "outbox").items()) == 1

    with running(Collector()) as server:
        write_config(papercli_home, server.port)
        # `run` itself sends what waited first; nothing new, so that is the only message, and
        # the cron log says it went (not "nothing new to send").
        after = run_cli("run", "diff")
        assert after.code == 0, after.err
        assert len(server.messages) == 1
        (line,) = after.err.splitlines()
        assert line.startswith("diff: sent ") and "(waiting in the outbox since " in line
        assert Outbox(papercli_home / "outbox").items() == []
        assert delivered(papercli_home)
        assert run_cli("send").code == 0 and len(server.messages) == 1


def test_send_alone_sends_the_outbox(papercli_home):
    write_config(papercli_home, free_port())
    assert run_cli("run", "diff").code == ExitCode.DELIVERY
    down = run_cli("send")
    assert down.code == ExitCode.DELIVERY
    error = down.err.splitlines()[-1]
    assert error.startswith("Error: 1 message(s) could not be sent: ")
    assert error.count("outbox") == 1, error  # the hint is said once
    with running(Collector()) as server:
        write_config(papercli_home, server.port)
        retried = run_cli("send")
        assert retried.code == 0, retried.err
        assert len(server.messages) == 1
        assert Outbox(papercli_home / "outbox").items() == []
        assert delivered(papercli_home)


def test_a_refusing_server_marks_nothing(papercli_home):
    with running(RejectingNobody()) as server:
        write_config(papercli_home, server.port, recipients=[RECIPIENTS[0], "nobody@example.org"])
        result = run_cli("run", "diff")
        assert result.code == ExitCode.DELIVERY
        assert server.messages == []
        assert delivered(papercli_home) == set()


def test_quiet_day_sends_nothing(papercli_home):
    with running(Collector()) as server:
        write_config(papercli_home, server.port, topics=("zzzzqqq",))
        result = run_cli("run", "diff")
        assert result.code == 0, result.err
        assert server.messages == []
        assert "nothing new to send" in result.err


def test_quiet_day_can_send_a_short_note(papercli_home):
    with running(Collector()) as server:
        write_config(papercli_home, server.port, topics=("zzzzqqq",), extra="send_empty = true")
        result = run_cli("run", "diff")
        assert result.code == 0, result.err
        (msg,) = server.messages
        assert msg["Subject"].endswith("nothing new")
        assert not msg.is_multipart()


def test_dry_run_prints_the_eml_and_marks_nothing(papercli_home):
    write_config(papercli_home, free_port())
    result = run_cli("run", "diff", "--dry-run")
    assert result.code == 0, result.err
    msg = email.message_from_string(result.out, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert delivered(papercli_home) == set()
    # The message as it would be sent: the [smtp] table's sender, not a placeholder.
    assert msg["From"] == "papercli <digest@example.org>"
    assert msg["Message-ID"].endswith("@example.org>")
    adhoc = run_cli("digest", str(SEED), "--email-to", "c@example.org", "--dry-run")
    assert adhoc.code == 0, adhoc.err
    assert email.message_from_string(adhoc.out, policy=email.policy.default)["From"] == (
        "papercli <digest@example.org>"
    )


def test_two_runs_at_once_send_once(papercli_home):
    with running(Collector()) as server:
        write_config(papercli_home, server.port)
        env = {**os.environ, "PAPERCLI_HOME": str(papercli_home)}
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "papercli", "run", "diff"],
                env=env,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        codes = sorted(run.wait(timeout=120) for run in runs)
        errors = [run.stderr.read() for run in runs]
        assert codes in ([0, 0], [0, ExitCode.LOCKED]), errors
        assert len(server.messages) == 1


def test_digest_email_to(papercli_home):
    with running(Collector()) as server:
        write_config(papercli_home, server.port)
        result = run_cli("digest", str(SEED), "--topic", "diffusion", "--email-to", "c@example.org")
        assert result.code == 0, result.err
        (msg,) = server.messages
        assert msg["To"] == "c@example.org"
        assert msg.get_body(("html",)) is not None


def test_schedule_prints_a_cron_line_and_installs_it_once(papercli_home, tmp_path, monkeypatch):
    write_config(papercli_home, free_port())
    printed = run_cli("schedule", "diff", "--at", "07:30", "--weekdays")
    assert printed.code == 0, printed.err
    line = printed.out.strip()
    assert line.startswith("30 7 * * 1-5 ")
    assert line.endswith("# papercli:diff")
    assert f"run diff >> {papercli_home / 'logs' / 'diff.log'} 2>&1" in line

    # A stand-in crontab(1) keeping the table in a file; it is not papercli's code.
    table = tmp_path / "crontab.txt"
    fake = tmp_path / "bin" / "crontab"
    fake.parent.mkdir()
    fake.write_text(
        f'#!/bin/sh\nif [ "$1" = "-l" ]; then cat {table} 2>/dev/null || exit 1; '
        f"else cat > {table}; fi\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    table.write_text("0 1 * * * backup\n")
    for _ in range(2):
        assert run_cli("schedule", "diff", "--at", "07:30", "--install").code == 0
    rows = table.read_text().splitlines()
    assert rows[0] == "0 1 * * * backup"
    assert len([r for r in rows if r.endswith("# papercli:diff")]) == 1


@pytest.mark.parametrize("bad", ["25:00", "7h30"])
def test_schedule_rejects_bad_times(papercli_home, bad):
    write_config(papercli_home, free_port())
    assert run_cli("schedule", "diff", "--at", bad).code == ExitCode.USAGE


def test_unknown_digest_is_a_config_error(papercli_home):
    write_config(papercli_home, free_port())
    result = run_cli("run", "nope")
    assert result.code == ExitCode.CONFIG
    assert "no [digest.nope]" in result.err


def test_dry_run_reports_a_failed_source_like_a_real_run(papercli_home, tmp_path, fixtures):
    # A real listing page cut short: the fetch of it fails, and the dry run must say so.
    page = fixtures / "arxiv-list/rendered-by-arxiv-browse/astro-ph_new_skip0_show25.html"
    broken = tmp_path / "cut.html"
    broken.write_bytes(page.read_bytes()[:3000])
    write_config(papercli_home, free_port(), extra="")
    config = papercli_home / "config.toml"
    config.write_text(
        config.read_text().replace(f"{str(SEED)!r}]", f"{str(SEED)!r}, {str(broken)!r}]")
    )
    dry = run_cli("run", "diff", "--dry-run")
    assert dry.code == ExitCode.PARSE, dry.err
    assert "cut.html" in dry.err.splitlines()[-1]
    assert delivered(papercli_home) == set()


def test_the_default_subject_counts_in_words(papercli_home):
    write_config(papercli_home, free_port(), extra="n_topics = 1")
    result = run_cli("run", "diff", "--dry-run")
    assert result.code == 0, result.err
    subject = email.message_from_string(result.out, policy=email.policy.default)["Subject"]
    assert subject.endswith(" papers in 1 topic"), subject
