"""Smaller faults, each through the CLI: a line break in a value that ends up in an email header,
and `-o` naming the .eml of `digest --email-to --dry-run`."""

from __future__ import annotations

import email
import email.policy

import pytest

from papercli.errors import ExitCode
from tests.cli_helpers import run_cli
from tests.conftest import EXAMPLES

SEED = str(EXAMPLES / "hf-daily-papers-jul-31.txt")
EMAIL = ["digest", SEED, "-t", "diffusion", "--dry-run"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--email-to", "a@example.org\r\nBcc: evil@example.org"], "to"),
        (["--email-to", "a@example.org\nBcc: evil@example.org"], "to"),
        (["--email-to", "a@example.org", "--title", "T\r\nBcc: evil@example.org"], "subject"),
    ],
)
def test_a_line_break_in_a_header_value_is_exit_3_and_nothing_written(tmp_path, args, field):
    out = tmp_path / "digest.eml"
    result = run_cli(*EMAIL, *args, "-o", str(out))
    assert result.code == ExitCode.CONFIG, result.err
    assert result.err.startswith(f"Error: the email's {field} ")
    assert "holds a line break" in result.err and len(result.err.splitlines()) == 1
    assert not out.exists()


def test_dry_run_writes_the_eml_to_the_file_o_names(tmp_path):
    out = tmp_path / "digest.eml"
    result = run_cli(*EMAIL, "--email-to", "a@example.org", "-o", str(out))
    assert result.code == 0, result.err
    msg = email.message_from_bytes(out.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "a@example.org" and msg.get_body(("html",)) is not None
