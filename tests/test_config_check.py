"""Bad values in a `[digest.NAME]` table: one line naming the file, table, key, what was
expected and what was found, exit 3 -- never a TypeError or a value taken letter by letter."""

from __future__ import annotations

import pytest

from papercli.errors import ExitCode
from tests.cli_helpers import run_cli

# Every command that reads [digest.diff] refuses it the same way, before doing anything else.
LOADING_THE_DIGEST = (
    ["config", "check"],
    ["run", "diff", "--dry-run", "--no-fetch"],
    ["feed", "diff", "--no-fetch"],
    ["schedule", "diff"],
)
SUBJECT_RULE = "a template of the fields {title}, {date}, {count}, {n_topics} and {topics}"
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
        ("since = 2024-08-01", "since: expected a string, found the date 2024-08-01 (not in "
                               "quotes)"),
        ("n_topics = 2.5", "n_topics: expected an integer, found the number 2.5"),
        ('subject = "a\\r\\nBcc: x@evil.org"', "subject: expected one line, found a line break"),
        ("colour = \"red\"", "colour: unknown key; known keys: "),
        ('since = "-3d"', "since: expected a duration or a date (e.g. 1d, 7d or 2024-08-01), "
                          "found the string '-3d'"),
        ("max_papers = -5", "max_papers: expected 0 or more, found the integer -5"),
        ("limit = -1", "limit: expected 1 or more, found the integer -1"),
        ("limit = 0", "limit: expected 1 or more, found the integer 0"),
        ("n_topics = 0", "n_topics: expected 1 or more, found the integer 0"),
        ("recipients = []", "recipients: expected a list of one or more email addresses, "
                            "found the list []"),
        ('recipients = ["a@example.org", "not an email"]',
         "recipients: expected a list of one or more email addresses, "
         "found the list ['a@example.org', 'not an email']"),
        ('recipients = ["me@"]', "recipients: expected a list of one or more email addresses"),
        ('recipients = ["jörg@example.org"]', "recipients: expected a list of one or more email "
                                               "addresses"),
        ('format = "pdf"', "format: expected one of html, text, found the string 'pdf'"),
        ('sort = "newest"', "sort: expected one of best, relevance, upvotes, date, found the "
                            "string 'newest'"),
        ('announce = ["new", "old"]', "announce: expected a list of one or more of new, cross, "
                                      "replace, found the list ['new', 'old']"),
        ("announce = []", "announce: expected a list of one or more of new, cross, replace"),
        ('rank = "mine"', "rank: expected one of default, personal, found the string 'mine'"),
        ("min_score = 2", "min_score: expected a number from 0 to 1, found the integer 2"),
        ("min_score = 0.5", 'min_score: applies only with rank = "personal"'),
        ('rank = "personal"\nsort = "date"', 'sort: does not apply with rank = "personal"'),
        ('topics = ["diffusion", " "]', "topics: expected words to match, found an empty string"),
        ('exclude = [""]', "exclude: expected words to match, found an empty string"),
        ("min_score = -0.5", "min_score: expected a number from 0 to 1, found the number -0.5"),
        # A subject is a format string: attribute and index access would reach into Python.
        ('subject = "{title.__class__}"', f"subject: expected {SUBJECT_RULE}, found the string "
                                          "'{title.__class__}'"),
        ('subject = "{title[0]}"', f"subject: expected {SUBJECT_RULE}, found the string"),
        ('subject = "{sender}"', f"subject: expected {SUBJECT_RULE}, found the string '{{sender"),
        ('subject = "{} papers"', f"subject: expected {SUBJECT_RULE}"),
        ('subject = "{count:zz}"', f"subject: expected {SUBJECT_RULE}"),
        ('subject = "{title"', f"subject: expected {SUBJECT_RULE}"),
        ('subject = "{title:x<500000000}"', f"subject: expected {SUBJECT_RULE}"),
        ('subject = "{title:x<990}"', f"subject: expected {SUBJECT_RULE}"),
    ],
)  # fmt: skip
def test_a_bad_digest_value_is_one_line_naming_the_key(papercli_home, line, message) -> None:
    config = papercli_home / "config.toml"
    # The bad line replaces the good one of the same key, so only it is wrong.
    key = line.split(" =")[0]
    kept = "".join(row + "\n" for row in GOOD.splitlines() if not row.startswith(key + " "))
    config.write_text(f"[digest.diff]\n{kept}{line}\n")
    for command in LOADING_THE_DIGEST:
        result = run_cli(*command)
        assert result.code == ExitCode.CONFIG, (command, result.err)
        assert result.err.startswith(f"Error: {config}: [digest.diff] {message}")
        assert len(result.err.splitlines()) == 1


@pytest.mark.parametrize(
    "line",
    [
        "", "max_papers = 0", "limit = 1", "n_topics = 1", 'since = "12h"', 'since = "2024-08-01"',
        'rank = "personal"\nmin_score = 0', 'rank = "personal"\nmin_score = 1.0',
        'rank = "personal"', 'announce = ["replace"]',
        'recipients = ["Ana <ana@example.org>", "ben@example.org"]', 'format = "text"',
        'sort = "date"', 'subject = "{{papercli}} {title}: {count:>3} in {n_topics}, {topics!r}"',
    ],
)  # fmt: skip
def test_a_good_digest_table_passes(papercli_home, line) -> None:
    key = line.split(" =")[0]
    kept = "".join(row + "\n" for row in GOOD.splitlines() if not row.startswith(key + " "))
    (papercli_home / "config.toml").write_text(f"[digest.diff]\n{kept}{line}\n")
    assert run_cli("schedule", "diff").code == 0
    result = run_cli("config", "check")
    assert result.code == 0, result.err


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


SMTP = '[smtp]\nhost = "localhost"\nfrom = "me@example.org"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[fetch]\ntimeout = "30"', "[fetch] timeout: expected a number, found the string '30'"),
        ("[fetch]\nretries = 2.5", "[fetch] retries: expected an integer, found the number 2.5"),
        ('[fetch]\noffline = "yes"', "[fetch] offline: expected true or false, found the string"),
        ("[fetch]\narxiv_url = 1", "[fetch] arxiv_url: expected a string, found the integer 1"),
        ("[fetch]\nmin_interval = -1", "[fetch] min_interval: expected 0 or more, found the "
                                       "integer -1"),
        ("[fetch]\ntimeout = 0", "[fetch] timeout: expected more than 0, found the integer 0"),
        ("[fetch]\ndeadline = -1", "[fetch] deadline: expected more than 0, found the integer -1"),
        ("[fetch]\nrun_budget = 0", "[fetch] run_budget: expected more than 0, found the integer"),
        ("[fetch]\nmax_bytes = 0", "[fetch] max_bytes: expected 1 or more, found the integer 0"),
        ('[fetch]\narxiv_url = "arxiv.org"', "[fetch] arxiv_url: expected an http:// or https:// "
                                             "URL, found the string 'arxiv.org'"),
        ('[fetch]\nhf_url = "ftp://x.org"', "[fetch] hf_url: expected an http:// or https:// URL"),
        ('[fetch]\nuser_agent = "a\\nb"', "[fetch] user_agent: expected one line, found a line "
                                           "break"),
        ("[fetch]\nproxy = \"x\"", "[fetch] proxy: unknown key; known keys: "),
        ("fetch = 3", "[fetch]: expected a table, found the integer 3"),
        ("db = 3", "db: expected a string, found 3"),
        ('sources = "hf"', "sources"),
        ('sources = ["arvix:cs.LG"]', "sources: 'arvix:cs.LG' is neither a source name nor"),
        ('sourcez = ["hf"]', "sourcez: unknown key; known keys: sources, db, fetch"),
        ('[templates]\ndirectory = "x"', "[templates] directory: unknown key"),
        (f"{SMTP}port = \"587\"", "[smtp] port: expected a port number"),
        (f"{SMTP}security = \"tls\"", "[smtp] security: expected one of"),
        (f"{SMTP}timeout = 0", "[smtp] timeout: expected a positive number"),
        (f"{SMTP}password_env = \"a b\"", "[smtp] password_env: expected the NAME"),
        (f"{SMTP}colour = 1", "[smtp] colour: unknown key"),
        (f"{SMTP}port = 0", "[smtp] port: expected a port number"),
        (f"{SMTP}port = 65536", "[smtp] port: expected a port number"),
        ('[smtp]\nhost = "localhost"\nfrom = "me"', "[smtp] from: expected an email address"),
        ('[smtp]\nhost = "localhost"\nfrom = "me@exämple.org"', "[smtp] from: expected an email"),
        ('[smtp]\nhost = "localhost"\nfrom = "Me <me@example.org"', "[smtp] from: expected an "
                                                                     "email"),
        ('[smtp]\nhost = "localhost"\nfrom = "a@x.org, b@x.org"', "[smtp] from: expected an email"),
        ('[smtp]\nhost = "localhost"\nfrom = "me@example.org\\nBcc: x@evil.org"',
         "[smtp] from: expected one line"),
        ('[smtp]\nhost = "local\\nhost"\nfrom = "me@example.org"',
         "[smtp] host: expected one line"),
        ('[smtp]\nfrom = "me@example.org"', "[smtp] host: expected a non-empty string"),
        ('[digest.diff]\nsources = ["arvix:cs.LG"]', "[digest.diff] sources: 'arvix:cs.LG' is"),
        ("[digest.diff]\nlimit = \"3\"", "[digest.diff] limit: expected an integer"),
    ],
)  # fmt: skip
def test_config_check_refuses_each_bad_value_in_one_line(papercli_home, text, message) -> None:
    config = papercli_home / "config.toml"
    config.write_text(text + "\n")
    result = run_cli("config", "check")
    assert result.code == ExitCode.CONFIG, result.err
    assert len(result.err.splitlines()) == 1
    assert result.err.startswith("Error: "), result.err
    assert message in result.err
    assert str(config) in result.err


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PAPERCLI_TIMEOUT", "0", "expected more than 0, found the number 0.0"),
        ("PAPERCLI_RETRIES", "-1", "expected 0 or more, found the integer -1"),
        ("PAPERCLI_ARXIV_URL", "arxiv.org", "expected an http:// or https:// URL"),
    ],
)
def test_a_bad_fetch_setting_in_the_environment_is_named(papercli_home, monkeypatch, name, value,
                                                         message) -> None:  # fmt: skip
    monkeypatch.setenv(name, value)
    result = run_cli("config", "check")
    assert result.code == ExitCode.CONFIG, result.err
    assert result.err.startswith(f"Error: {name}: {message}"), result.err


def test_config_check_says_where_each_setting_came_from(papercli_home, tmp_path, monkeypatch):
    config = tmp_path / "papercli.toml"
    config.write_text(
        'sources = ["hf", "arxiv:cs.LG"]\n[fetch]\ntimeout = 12\nretries = 1\n'
        '[digest.diff]\ntopics = ["diffusion"]\n[digest.llm]\ntopics = ["llm"]\n'
    )
    monkeypatch.setenv("PAPERCLI_RETRIES", "7")
    db = tmp_path / "x.db"
    result = run_cli("--config", str(config), "config", "check", "--db", str(db), "--offline")
    assert result.code == 0, result.err
    rows = {line.split()[0]: line.split()[1:] for line in result.out.splitlines()[1:]}
    assert rows["fetch.timeout"] == ["12", str(config)]  # the file
    assert rows["fetch.retries"] == ["7", "PAPERCLI_RETRIES"]  # the environment beats the file
    assert rows["fetch.offline"] == ["True", "--offline"]  # a flag beats both
    assert rows["db"] == [str(db), "--db"]
    assert rows["config"] == [str(config), "--config"]
    assert rows["home"] == [str(papercli_home), "PAPERCLI_HOME"]
    assert rows["fetch.backoff"][1] == "PAPERCLI_BACKOFF"  # set by the test fixture
    assert rows["fetch.max_bytes"] == [str(50 * 1024 * 1024), "default"]
    assert rows["sources"] == ["hf,", "arxiv:cs.LG", str(config)]
    assert "digests: diff, llm" in result.out
    assert result.err == "the config file is valid\n"


def test_config_check_reports_every_problem_of_the_file_one_line_each(papercli_home) -> None:
    config = papercli_home / "config.toml"
    config.write_text(
        'sources = ["arvix:cs.LG"]\ncolour = "red"\n'
        '[digest.a]\nlimit = 0\nsince = "-3d"\nrecipients = ["a@example.org"]\n'
        '[digest.b]\nrank = "mine"\n'
        '[digest.c]\nrecipients = ["c@example.org"]\n'
    )
    result = run_cli("config", "check")
    assert result.code == ExitCode.CONFIG
    lines = result.err.splitlines()
    assert [line.split(": ", 3)[2].split(":")[0] for line in lines] == [
        "colour", "sources", "[digest.a] limit", "[digest.a] since", "[digest.b] rank",
    ]  # fmt: skip
    assert all(line.startswith(f"Error: {config}: ") for line in lines), lines
    # A command that reads one digest reports that digest's problems, and only them.
    run = run_cli("run", "a", "--dry-run", "--no-fetch")
    assert run.code == ExitCode.CONFIG
    assert [line.split(": ", 3)[2] for line in run.err.splitlines()] == [
        "[digest.a] limit", "[digest.a] since",
    ]  # fmt: skip
    assert run_cli("schedule", "c").code == 0


def test_a_digest_without_recipients_is_a_feed_and_cannot_run(papercli_home) -> None:
    config = papercli_home / "config.toml"
    config.write_text('[digest.diff]\ntopics = ["diffusion"]\n')
    assert run_cli("config", "check").code == 0
    assert run_cli("feed", "diff", "--no-fetch").code == 0
    result = run_cli("run", "diff", "--no-fetch")
    assert result.code == ExitCode.CONFIG
    assert result.err == (
        f"Error: {config}: [digest.diff] recipients: expected a list of one or more email "
        'addresses, found none; add recipients = ["me@example.org"]\n'
    )
