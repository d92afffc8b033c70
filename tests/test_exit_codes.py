"""Exit codes follow what failed, and the README's table is the ExitCode enum."""

from __future__ import annotations

import json
import re

from papercli.errors import ExitCode
from tests.cli_helpers import run_cli
from tests.conftest import ROOT
from tests.reliability.support import Q_FIN


def readme_exit_codes() -> dict[int, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", section, re.M)
    return {int(code): meaning for code, meaning in rows}


def test_the_readme_table_lists_every_exit_code_and_no_other() -> None:
    assert sorted(readme_exit_codes()) == sorted(int(code) for code in ExitCode)


def test_config_init_that_cannot_write_is_a_config_error() -> None:
    # /proc takes no new files, even from root (and reading a missing file there is fine).
    target = "/proc/papercli-config.toml"
    result = run_cli("--config", target, "config", "init")
    assert (result.code, result.err) == (
        ExitCode.CONFIG,
        f"Error: could not write {target}: No such file or directory; "
        "check the folder's permissions, or pass --config\n",
    )


def test_an_http_cache_that_cannot_be_written_stops_nothing(httpserver, papercli_home) -> None:
    # The cache is best effort: it costs a refetch later, never this fetch (nor a store error).
    (papercli_home / "cache").write_text("a file where the cache folder should be\n")
    httpserver.expect_request("/saved.html").respond_with_data(
        Q_FIN.read_bytes(), content_type="text/html"
    )
    result = run_cli("fetch", httpserver.url_for("/saved.html"), "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)[0]["new"] == 16
    (warning,) = [line for line in result.err.splitlines() if line.startswith("Warning: ")]
    assert "cannot write the HTTP cache file" in warning
    assert warning.endswith("; fetching goes on without the cache")
    assert "Warning" not in run_cli("-q", "fetch", httpserver.url_for("/saved.html")).err


def test_a_db_in_a_missing_folder_is_refused_and_nothing_is_created(tmp_path, monkeypatch) -> None:
    typo = tmp_path / "no-such-folder" / "papers.db"
    result = run_cli("--db", str(typo), "status")
    assert result.code == ExitCode.USAGE
    assert result.err == (
        f"Error: --db: the folder {typo.parent} does not exist; create it first, or fix the path\n"
    )
    monkeypatch.setenv("PAPERCLI_DB", str(typo))
    assert run_cli("status").code == ExitCode.CONFIG
    assert not typo.parent.exists()
    fine = tmp_path / "papers.db"
    assert run_cli("--db", str(fine), "status").code == 0
    assert fine.is_file()


def test_ci_script_run_by_hand_leaves_an_existing_venv_alone(tmp_path) -> None:
    import os
    import shutil
    import subprocess

    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    marker = tmp_path / ".venv" / "someone's work"
    marker.parent.mkdir()
    marker.write_text("keep me\n")
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    done = subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run")], capture_output=True, text=True, env=env
    )
    assert done.returncode == 1
    assert "not deleting it" in done.stderr
    assert marker.read_text() == "keep me\n"
