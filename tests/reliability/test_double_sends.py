"""Never twice, never lost: concurrent senders, a store busy when the 250 arrives, and kill -9
between the server's acceptance and the end of the session, through the CLI against a real SMTP
server on localhost (aiosmtpd) told to slow down chosen replies."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from papercli.deliver import Outbox
from papercli.errors import ExitCode
from papercli.store import Store
from tests.cli_helpers import run_cli
from tests.smtp_server import Collector, Scripted, running
from tests.test_run import RECIPIENTS, SEED, delivered, write_config

DIGESTS = ("diff", "diff2", "diff3")
MORE_DIGESTS = "".join(
    f"\n[digest.{name}]\nsources = [{str(SEED)!r}]\ntopics = ['diffusion']\n"
    f"recipients = {RECIPIENTS!r}\n"
    for name in DIGESTS[1:]
)


def papercli(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PAPERCLI_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "papercli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def fill_outbox(home: Path) -> list[str]:
    """One waiting digest per name in DIGESTS (the server greylisted them); their Message-IDs."""
    with running(Scripted(replies={"DATA": "451 4.7.1 Greylisted"})) as refusing:
        write_config(home, refusing.port, extra=MORE_DIGESTS)
        for name in DIGESTS:
            assert run_cli("run", name, *(["--no-fetch"] if name != "diff" else [])).code == (
                ExitCode.DELIVERY
            )
    items = Outbox(home / "outbox").items()
    assert sorted(i.digest for i in items) == sorted(DIGESTS)
    return [i.message_id for i in items]


def sends_per_message(server) -> Counter:
    return Counter(m["Message-ID"] for m in server.messages)


def test_two_sends_at_once_send_each_item_once(papercli_home):
    for trial in range(3):
        if trial:  # each trial starts with a full outbox and nothing delivered
            with sqlite3.connect(papercli_home / "papers.db") as conn:
                conn.execute("DELETE FROM delivered_papers")
                conn.execute("DELETE FROM deliveries")
        ids = fill_outbox(papercli_home)
        with running(Scripted(delays={"DATA": 0.4})) as server:
            write_config(papercli_home, server.port, extra=MORE_DIGESTS)
            senders = [papercli(papercli_home, "send") for _ in range(2)]
            codes = sorted(p.wait(timeout=60) for p in senders)
            errors = [p.stderr.read() for p in senders]
            assert codes in ([0, 0], [0, ExitCode.LOCKED]), errors
            if codes[1] == ExitCode.LOCKED:
                assert any("the outbox is being sent by another papercli" in e for e in errors)
            assert sends_per_message(server) == Counter(ids), trial
        assert Outbox(papercli_home / "outbox").items() == []


def test_a_busy_store_at_the_250_keeps_the_record_in_the_journal(papercli_home, monkeypatch):
    monkeypatch.setenv("PAPERCLI_STORE_TIMEOUT", "0.3")
    with running(Scripted(delays={"DATA": 0.5})) as server:
        write_config(papercli_home, server.port)
        assert run_cli("fetch", str(SEED)).code == 0
        released = threading.Event()

        def hold_the_store() -> None:
            # Another papercli writing for longer than the store timeout, from the moment the
            # message body is in until the run is over.
            while "DATA" not in server.handler.seen:
                time.sleep(0.01)
            conn = sqlite3.connect(papercli_home / "papers.db", isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            released.wait(30)
            conn.execute("ROLLBACK")
            conn.close()

        holder = threading.Thread(target=hold_the_store)
        holder.start()
        try:
            result = run_cli("run", "diff", "--no-fetch")
        finally:
            released.set()
            holder.join()
        assert result.code == 0, result.err
        assert "but the store could not record it" in result.err
        assert "deliveries.journal" in result.err
        # Exit 0, so it is a warning, not an "Error:" line.
        assert "Error:" not in result.err
        assert any(line.startswith("Warning: ") for line in result.err.splitlines())
        assert len(server.messages) == 1
        assert Outbox(papercli_home / "outbox").items() == []
        assert delivered(papercli_home) == set()  # not in the store yet: in the journal
        journal = (papercli_home / "deliveries.journal").read_text()
        assert server.messages[0]["Message-ID"] in journal

        again = run_cli("run", "diff", "--no-fetch")
        assert again.code == 0, again.err
        assert "nothing new to send" in again.err
        assert len(server.messages) == 1
    assert delivered(papercli_home)  # replayed into the store
    assert (papercli_home / "deliveries.journal").read_text() == ""
    with Store(papercli_home / "papers.db") as store:
        (one, two) = sorted(store.deliveries("diff"), key=lambda d: d.recipient)
    assert [one.recipient, two.recipient] == RECIPIENTS


def wait_for(condition, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def kill_after_acceptance(home: Path, args: list[str], server, expected: int, delay: float):
    """Start papercli ARGS, kill -9 it `delay` s after the server accepted `expected` messages
    (its QUIT reply is slow, so the process is still in the session)."""
    process = papercli(home, *args)
    wait_for(lambda: len(server.handler.envelopes) >= expected or process.poll() is not None)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_kill_between_250_and_quit_does_not_send_again(papercli_home):
    for trial in range(3):
        home = papercli_home / f"trial{trial}"
        home.mkdir()
        with running(Scripted(delays={"QUIT": 5})) as server:
            write_config(home, server.port)
            kill_after_acceptance(home, ["run", "diff"], server, 1, random.uniform(0.05, 0.3))
            assert "QUIT" in server.handler.seen or server.handler.seen[-1] == "DATA"
            write_config(home, server.port)
            server.handler.delays.clear()
            env = {**os.environ, "PAPERCLI_HOME": str(home)}
            again = subprocess.run(
                [sys.executable, "-m", "papercli", "run", "diff", "--no-fetch"],
                env=env,
                capture_output=True,
                text=True,
            )
            assert again.returncode == 0, again.stderr
            assert len(server.messages) == 1, trial


def test_random_kills_of_send_lose_nothing(papercli_home):
    ids = fill_outbox(papercli_home)
    sends: Counter = Counter()
    for _ in range(3):
        with running(Scripted(delays={"DATA": 0.1, "QUIT": 1})) as server:
            write_config(papercli_home, server.port, extra=MORE_DIGESTS)
            process = papercli(papercli_home, "send")
            time.sleep(random.uniform(0.3, 1.5))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            sends.update(sends_per_message(server))
    with running(Collector()) as server:
        write_config(papercli_home, server.port, extra=MORE_DIGESTS)
        assert run_cli("send").code == 0
        sends.update(sends_per_message(server))
    assert Outbox(papercli_home / "outbox").items() == []
    assert set(sends) == set(ids)  # every message went out at least once: nothing lost
