"""The command line as a user meets it: help, version, start-up cost, the error funnel."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from papercli import __version__, cli
from papercli.errors import ExitCode
from tests.cli_helpers import run_cli


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
        "heavy = ['sklearn', 'bs4', 'requests', 'jinja2', 'lxml', 'numpy', 'scipy']\n"
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
