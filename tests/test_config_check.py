"""Bad values in a `[digest.NAME]` table: one line naming the file, table, key, what was
expected and what was found, exit 3 -- never a TypeError or a value taken letter by letter."""

from __future__ import annotations

import pytest

from papercli.errors import ExitCode
from tests.cli_helpers import run_cli

GOOD = 'sources = ["hf"]\ntopics = ["diffusion"]\nrecipients = ["a@example.org"]\n'


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('topics = "diffusion"', "topics: expected a list of strings, found the string 'diff"),
        ("send_empty = \"no\"", "send_empty: expected true or false, found the string 'no'"),
        ('limit = "3"', "limit: expected an integer, found the string '3'"),
        ("limit = true", "limit: expected an integer, found true"),
        ('recipients = "a@x.org"', "recipients: expected a list of strings, found the string 'a@"),
        ("exclude = [1, 2]", "exclude: expected a list of strings, found the list [1, 2]"),
        ("since = 7", "since: expected a string, found the integer 7"),
        ("n_topics = 2.5", "n_topics: expected an integer, found the number 2.5"),
        ('subject = "a\\r\\nBcc: x@evil.org"', "subject: expected one line, found a line break"),
        ("colour = \"red\"", "colour: unknown key; known keys: "),
    ],
)  # fmt: skip
def test_a_bad_digest_value_is_one_line_naming_the_key(papercli_home, line, message) -> None:
    config = papercli_home / "config.toml"
    # The bad line replaces the good one of the same key, so only it is wrong.
    key = line.split(" =")[0]
    kept = "".join(row + "\n" for row in GOOD.splitlines() if not row.startswith(key + " "))
    config.write_text(f"[digest.diff]\n{kept}{line}\n")
    for command in (["run", "diff", "--dry-run"], ["schedule", "diff"]):
        result = run_cli(*command)
        assert result.code == ExitCode.CONFIG, result.err
        assert result.err.startswith(f"Error: {config}: [digest.diff] {message}")
        assert len(result.err.splitlines()) == 1


def test_a_good_digest_table_passes(papercli_home) -> None:
    (papercli_home / "config.toml").write_text(f"[digest.diff]\n{GOOD}")
    assert run_cli("schedule", "diff").code == 0


def test_a_missing_config_file_named_by_flag_or_environment_is_an_error(tmp_path, monkeypatch):
    missing = tmp_path / "typo.toml"
    result = run_cli("--config", str(missing), "status")
    assert result.code == ExitCode.CONFIG
    assert result.err == (
        f"Error: --config: the config file {missing} does not exist; "
        "fix the path, or write one with `papercli config init`\n"
    )
    monkeypatch.setenv("PAPERCLI_CONFIG", str(missing))
    assert run_cli("status").code == ExitCode.CONFIG
    # config path / config init are how one makes it.
    assert run_cli("config", "path").out.strip() == str(missing)
    assert run_cli("config", "init").code == 0 and missing.is_file()
    assert run_cli("status").code == 0
