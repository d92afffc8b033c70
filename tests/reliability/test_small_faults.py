"""Smaller faults, each through the CLI: a line break in a value that ends up in an email header,
and `-o` naming the .eml of `digest --email-to --dry-run`."""

from __future__ import annotations

import email
import email.policy
import json
import re
import sys

import pytest

from papercli.errors import ExitCode
from tests.cli_helpers import run_cli
from tests.conftest import EXAMPLES
from tests.reliability.support import Q_FIN
from tests.smtp_server import Collector, running

SEED = str(EXAMPLES / "hf-daily-papers-jul-31.txt")
USER, SECRET = "reader@example.org", "hunter2-Zk4-s3cret"
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture
def auth_server():
    """A real SMTP server on localhost that wants a login, over plain SMTP."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USER.encode(),
            SECRET.encode(),
        )
        return AuthResult(success=ok, handled=False)

    with running(
        Collector(), auth_required=True, auth_require_tls=False, authenticator=authenticator
    ) as server:
        yield server


EMAIL = ["digest", SEED, "-t", "diffusion", "--dry-run"]


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        # An address given on the command line is checked as one, before anything is built.
        (["--email-to", "a@example.org\r\nBcc: evil@example.org"], ExitCode.USAGE,
         "Error: --email-to 'a@example.org\\r\\nBcc: evil@example.org' is not an email address"),
        (["--email-to", "a@example.org\nBcc: evil@example.org"], ExitCode.USAGE,
         "Error: --email-to 'a@example.org\\nBcc: evil@example.org' is not an email address"),
        (["--email-to", "a@example.org", "--title", "T\r\nBcc: evil@example.org"],
         ExitCode.CONFIG, "Error: the email's subject "),
    ],
)  # fmt: skip
def test_a_line_break_in_a_header_value_is_refused_and_nothing_written(tmp_path, args, code, error):
    out = tmp_path / "digest.eml"
    result = run_cli(*EMAIL, *args, "-o", str(out))
    assert result.code == code, result.err
    assert result.err.startswith(error) and len(result.err.splitlines()) == 1
    assert not out.exists()


def test_dry_run_writes_the_eml_to_the_file_o_names(tmp_path):
    out = tmp_path / "digest.eml"
    result = run_cli(*EMAIL, "--email-to", "a@example.org", "-o", str(out))
    assert result.code == 0, result.err
    msg = email.message_from_bytes(out.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "a@example.org" and msg.get_body(("html",)) is not None


def smtp_config(home, port: int, extra: str = "") -> None:
    (home / "config.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f'from = "papercli <digest@example.org>"\nuser = "{USER}"\ntimeout = 5\n{extra}'
        f'[digest.diff]\nsources = ["{SEED}"]\ntopics = ["diffusion"]\n'
        'recipients = ["ana@example.org"]\n'
    )


def test_a_login_without_tls_is_warned_about_and_quiet_under_q(
    auth_server, papercli_home, monkeypatch
):
    monkeypatch.setenv("PAPERCLI_SMTP_PASSWORD", SECRET)
    smtp_config(papercli_home, auth_server.port)
    result = run_cli("run", "diff")
    assert result.code == 0, result.err
    assert len(auth_server.handler.envelopes) == 1
    (warning,) = [line for line in result.err.splitlines() if line.startswith("Warning: ")]
    assert 'without TLS (security = "none"): the password crosses this machine' in warning
    assert SECRET not in result.err


def test_a_world_writable_config_does_not_run_its_password_cmd(
    auth_server, papercli_home, monkeypatch, tmp_path
):
    monkeypatch.delenv("PAPERCLI_SMTP_PASSWORD", raising=False)
    ran = tmp_path / "ran"
    command = f'{sys.executable} -c \'open("{ran}", "w"); print("{SECRET}")\''
    smtp_config(papercli_home, auth_server.port, extra=f"password_cmd = {json.dumps(command)}\n")
    config = papercli_home / "config.toml"
    config.chmod(0o666)
    result = run_cli("run", "diff")
    assert result.code == ExitCode.CONFIG, result.err
    assert "any user can write to it; papercli will not run a command from it" in result.err
    assert f"chmod go-w {config}" in result.err
    assert not ran.exists() and auth_server.handler.envelopes == []
    config.chmod(0o644)
    assert run_cli("run", "diff").code == 0 and ran.exists()


def hostile_export(tmp_path) -> str:
    """A real paper as papercli exports it, with terminal escapes, NUL and a bidi override in its
    title and abstract, and a link where the date belongs."""
    assert run_cli("fetch", str(Q_FIN)).code == 0
    record = json.loads(run_cli("papers", "--json").out.splitlines()[0])
    record["title"] = "Pricing \x1b[2J\x1b]0;owned\x07 options \u202etxt.exe\x00 diffusion"
    record["abstract"] = (
        "A diffusion model \u2066isolated\u2069 and \x9b31m coloured. " + record["abstract"]
    )
    record["published"] = '<a href="javascript:alert(1)">click</a>'
    record["announce_type"] = "new"
    path = tmp_path / "hostile.jsonl"
    path.write_text(json.dumps(record) + "\n")
    return str(path)


UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize("fmt", ["md", "html", "text", "json"])
def test_no_control_or_bidi_character_reaches_a_digest(tmp_path, fmt):
    result = run_cli("digest", hostile_export(tmp_path), "-t", "diffusion", "-f", fmt)
    assert result.code == 0, result.err
    assert not UNSAFE.search(result.out), repr(UNSAFE.search(result.out))
    assert "txt.exe" in result.out and "isolated" in result.out
    assert "javascript" not in result.out and "click" not in result.out


def test_no_control_or_bidi_character_reaches_an_email(tmp_path):
    out = tmp_path / "x.eml"
    args = ["digest", hostile_export(tmp_path), "-t", "diffusion", "--email-to", "a@example.org"]
    assert run_cli(*args, "--dry-run", "-o", str(out)).code == 0
    msg = email.message_from_bytes(out.read_bytes(), policy=email.policy.default)
    for part in ("plain", "html"):
        body = msg.get_body((part,)).get_content()
        assert not UNSAFE.search(body) and "txt.exe" in body and "javascript" not in body
