"""The command line as a user meets it: help, version, start-up cost, the error funnel."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from papercli import __version__, cli
from papercli.errors import ExitCode
from tests.cli_helpers import run_cli
from tests.conftest import EXAMPLES


def _commands() -> list[list[str]]:
    group = typer.main.get_command(cli.app)
    found = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        if subcommands:
            found += [[name, sub] for sub in subcommands]
        else:
            found.append([name])
    return found


def test_every_command_is_listed() -> None:
    names = {" ".join(c) for c in _commands()}
    assert {"fetch", "digest", "topics", "papers", "status", "config init"} <= names


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.code == 0
    assert "Example:" in result.out, f"`papercli {' '.join(command)} --help` shows no example"


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_is_in_the_readme(command: list[str]) -> None:
    from tests.conftest import ROOT

    assert f"papercli {' '.join(command)}" in (ROOT / "README.md").read_text()


def test_version() -> None:
    result = run_cli("--version")
    assert (result.code, result.out.strip()) == (0, f"papercli {__version__}")


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from papercli.cli import run\n"
        "run(['--help'])\n"
        "heavy = ['sklearn', 'bs4', 'requests', 'jinja2', 'lxml', 'numpy', 'scipy', 'matplotlib']\n"
        "print('loaded:', *[m for m in heavy if m in sys.modules], file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Example:" in done.stdout
    assert done.stderr.strip() == "loaded:"


def test_python_dash_m_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "papercli", "--version"], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout.strip()) == (0, f"papercli {__version__}")


def test_unknown_option_is_a_usage_error() -> None:
    result = run_cli("digest", "--no-such-option")
    assert result.code == ExitCode.USAGE
    assert "No such option" in result.err


def test_bad_config_file_is_a_config_error(papercli_home) -> None:
    (papercli_home / "config.toml").write_text("sources = [\n")
    result = run_cli("status")
    assert result.code == ExitCode.CONFIG
    assert result.err.startswith("Error: config file ")
    assert "is not valid TOML" in result.err
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_traceback_only_on_request(papercli_home) -> None:
    (papercli_home / "config.toml").write_text("sources = [\n")
    result = run_cli("--traceback", "status")
    assert result.code == ExitCode.CONFIG
    assert "Traceback" in result.err


def test_config_init_writes_a_config_that_loads(papercli_home) -> None:
    assert run_cli("config", "init").code == 0
    path = papercli_home / "config.toml"
    assert path.exists()
    again = run_cli("config", "init")
    assert again.code == ExitCode.CONFIG and "already exists" in again.err
    assert run_cli("config", "path").out.strip() == str(path)
    from papercli.settings import load_settings

    assert load_settings().sources == ["hf", "arxiv:cs.LG"]


def test_an_error_stays_on_one_line_whatever_it_quotes(tmp_path) -> None:
    # A path (or a server's reason phrase) may hold newlines and escape sequences.
    result = run_cli("digest", str(tmp_path / "no\nsuch\x1b[31mfile"))
    assert result.code != ExitCode.OK
    assert result.err.startswith("Error: ")
    assert len(result.err.strip().splitlines()) == 1
    assert "\x1b" not in result.err


# --- the context object and global options --------------------------------------------------------


def test_global_options_work_after_the_command(tmp_path) -> None:
    db = tmp_path / "after.db"
    before = run_cli("--db", str(db), "status")
    after = run_cli("status", "--db", str(db))
    assert before.code == after.code == 0
    assert after.out.startswith(f"store: {db} ")
    assert before.out == after.out
    config = tmp_path / "elsewhere.toml"
    assert run_cli("config", "path", f"--config={config}").out.strip() == str(config)


def test_quiet_after_the_command_silences_diagnostics(tmp_path) -> None:
    page = EXAMPLES / "hf-daily-papers-jul-31.txt"
    out = tmp_path / "d.md"
    loud = run_cli("digest", str(page), "-o", str(out))
    quiet = run_cli("digest", str(page), "-o", str(out), "-q")
    assert loud.code == quiet.code == 0
    assert loud.err.startswith("wrote ")
    assert quiet.err == ""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["fetch", "hf", "--offline", "-q"], ["--offline", "-q", "fetch", "hf"]),
        (["-q", "status", "--db", "x.db"], ["-q", "--db", "x.db", "status"]),
        (["status", "--db=x.db"], ["--db=x.db", "status"]),
        # An option's value stays with its option, even when it looks like a global option.
        (["digest", "--topic", "--offline", "a"], ["digest", "--topic", "--offline", "a"]),
        (["digest", "a", "--", "-q"], ["digest", "a", "--", "-q"]),
        (["config", "init", "--force", "--config", "c.toml"],
         ["--config", "c.toml", "config", "init", "--force"]),
        (["nosuchcommand", "-q"], ["nosuchcommand", "-q"]),
    ],
)  # fmt: skip
def test_global_options_are_moved_before_the_command(args, expected) -> None:
    group = typer.main.get_command(cli.app)
    with group.make_context("papercli", ["--help"], resilient_parsing=True) as ctx:
        assert cli.hoist_global_options(group, ctx, args) == expected


def test_each_run_has_its_own_environment(tmp_path) -> None:
    # Nothing of one invocation's options leaks into the next (no module-level state).
    assert run_cli("-q", "--db", str(tmp_path / "a.db"), "status").code == 0
    result = run_cli("status")
    assert f"{tmp_path / 'a.db'}" not in result.out


def test_shell_completion_is_offered() -> None:
    result = run_cli("--help")
    assert "--install-completion" in result.out
    done = subprocess.run(
        [sys.executable, "-m", "papercli", "--show-completion", "bash"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0
    assert "complete" in done.stdout and "_PAPERCLI_COMPLETE" in done.stdout


def test_an_unexpected_error_is_a_bug_exit_1(monkeypatch, tmp_path) -> None:
    import sqlite3

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is on fire")

    # A fault in the standard library papercli does not expect: the funnel, not a traceback.
    monkeypatch.setattr(sqlite3, "connect", broken)
    result = run_cli("status", "--db", str(tmp_path / "x.db"))
    assert result.code == ExitCode.BUG == 1
    assert result.err == (
        "Error: unexpected RuntimeError: the disk is on fire "
        "(this is a bug: run again with --traceback and report it)\n"
    )
    assert "Traceback" in run_cli("status", "--db", str(tmp_path / "x.db"), "--traceback").err


def test_ctrl_c_exits_130_with_one_line(tmp_path) -> None:
    import os
    import signal
    import socket
    import time

    # A server that takes the connection and never answers: papercli waits in the middle of
    # a fetch until Ctrl-C (SIGINT) arrives.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"http://127.0.0.1:{server.getsockname()[1]}/page.html"
        env = {**os.environ, "PAPERCLI_TIMEOUT": "60", "PAPERCLI_RETRIES": "0"}
        # SIGINT as a terminal leaves it: a test run started in the background by a shell
        # without job control inherits it ignored, and Python then never raises Ctrl-C.
        process = subprocess.Popen(
            [sys.executable, "-m", "papercli", "--db", str(tmp_path / "x.db"), "fetch", url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
        server.settimeout(30)
        connection, _ = server.accept()  # papercli is now waiting for the response
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        connection.close()
    assert process.returncode == ExitCode.INTERRUPTED == 130
    assert err == "Error: interrupted\n"
