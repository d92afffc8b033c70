"""The crontab line carries every setting in force that is not in the config file, so the cron
run (in cron's bare environment) uses the same store, config and upstreams."""

from __future__ import annotations

import json
import shlex
import subprocess

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
