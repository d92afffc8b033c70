"""Kill trials for the delivery promises, run by hand (too slow for every test run):

    .venv/bin/python -m tests.reliability.kill_trials [N]

Against a real SMTP server on localhost, N times each: `run` killed -9 between the server's 250
and its (slow) QUIT reply, then run again; two `send` at once on a full outbox; `send` killed -9
at a random moment, then a clean `send`. Prints the sends per message and the losses.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from papercli.deliver import Outbox
from tests.smtp_server import Collector, Scripted, running
from tests.test_run import RECIPIENTS, SEED, write_config

DIGESTS = ("diff", "diff2", "diff3")
MORE = "".join(
    f"\n[digest.{n}]\nsources = [{str(SEED)!r}]\ntopics = ['diffusion']\n"
    f"recipients = {RECIPIENTS!r}\n"
    for n in DIGESTS[1:]
)


def papercli(home: Path, *args: str, wait: bool = False):
    env = {**os.environ, "PAPERCLI_HOME": str(home), "PAPERCLI_MIN_INTERVAL": "0"}
    command = [sys.executable, "-m", "papercli", *args]
    if wait:
        return subprocess.run(command, env=env, capture_output=True, text=True).returncode
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(condition, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        time.sleep(0.002)


def fill_outbox(home: Path) -> set[str]:
    with running(Scripted(replies={"DATA": "451 4.7.1 Greylisted"})) as refusing:
        write_config(home, refusing.port, extra=MORE)
        for name in DIGESTS:
            papercli(home, "run", name, *(["--no-fetch"] if name != "diff" else []), wait=True)
    return {item.message_id for item in Outbox(home / "outbox").items()}


def kill_between_250_and_quit(root: Path, n: int) -> None:
    totals = Counter()
    for trial in range(n):
        home = root / f"quit{trial}"
        home.mkdir()
        with running(Scripted(delays={"QUIT": 3})) as server:
            write_config(home, server.port)
            process = papercli(home, "run", "diff")
            wait_for(
                lambda p=process, s=server: len(s.handler.envelopes) >= 1 or p.poll() is not None
            )
            time.sleep(random.uniform(0.0, 0.3))
            process.send_signal(signal.SIGKILL)
            process.wait()
            server.handler.delays.clear()
            papercli(home, "run", "diff", "--no-fetch", wait=True)
            totals[len(server.messages)] += 1
    print(
        f"run killed -9 0-300 ms after the 250, before QUIT: {n} trials; "
        f"messages sent per trial: {dict(totals)}"
    )


def concurrent_sends(root: Path, n: int) -> None:
    per_message = Counter()
    codes = Counter()
    home = root / "concurrent"
    home.mkdir()
    for _ in range(n):
        if (home / "papers.db").exists():
            with sqlite3.connect(home / "papers.db") as conn:
                conn.execute("DELETE FROM delivered_papers")
                conn.execute("DELETE FROM deliveries")
        fill_outbox(home)
        with running(Scripted(delays={"DATA": 0.4})) as server:
            write_config(home, server.port, extra=MORE)
            senders = [papercli(home, "send") for _ in range(2)]
            codes.update(tuple(sorted(p.wait() for p in senders)) for _ in [0])
            per_message.update(Counter(Counter(m["Message-ID"] for m in server.messages).values()))
    print(
        f"two `send` at once, 3 items each: {n} trials; exit codes {dict(codes)}; "
        f"messages by times sent: {dict(per_message)}"
    )


def random_kills_of_send(root: Path, n: int) -> None:
    home = root / "sendkill"
    home.mkdir()
    ids = fill_outbox(home)
    sends = Counter()
    for _ in range(n):
        if not Outbox(home / "outbox").items():
            with sqlite3.connect(home / "papers.db") as conn:
                conn.execute("DELETE FROM delivered_papers")
                conn.execute("DELETE FROM deliveries")
            ids |= fill_outbox(home)
        with running(Scripted(delays={"DATA": 0.1, "QUIT": 1})) as server:
            write_config(home, server.port, extra=MORE)
            process = papercli(home, "send")
            time.sleep(random.uniform(0.2, 2.0))
            process.send_signal(signal.SIGKILL)
            process.wait()
            sends.update(m["Message-ID"] for m in server.messages)
    with running(Collector()) as server:
        write_config(home, server.port, extra=MORE)
        papercli(home, "send", wait=True)
        sends.update(m["Message-ID"] for m in server.messages)
    lost = ids - set(sends)
    print(
        f"`send` killed -9 at random (0.2-2 s): {n} trials, {len(ids)} messages; "
        f"times sent per message: {dict(Counter(sends.values()))}; lost: {len(lost)}"
    )


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory() as tmp:
        kill_between_250_and_quit(Path(tmp), count)
        concurrent_sends(Path(tmp), count)
        random_kills_of_send(Path(tmp), count)
