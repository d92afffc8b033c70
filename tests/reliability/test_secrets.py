"""The SMTP password never leaves papercli: not in any output, not with --traceback, not in the
outbox, the logs, the HTTP cache or the raw bytes of the store, even when sending fails and even
when a broken server echoes the credentials back in its refusal.

A real aiosmtpd server on localhost checks AUTH; the password comes from $PAPERCLI_SMTP_PASSWORD
or from `password_cmd`, as a user configures it.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from papercli.deliver import Outbox
from papercli.errors import ExitCode
from tests.cli_helpers import run_cli
from tests.conftest import EXAMPLES
from tests.reliability.support import error_lines
from tests.smtp_server import Collector, free_port, running

SECRET = "S3cr3t-pa55word-7f9c"
USER = "reader@example.org"
SEED = EXAMPLES / "hf-daily-papers-jul-31.txt"


def secret_forms(password: str = SECRET) -> list[bytes]:
    """The password as it could leak: plain, and base64 as AUTH LOGIN and AUTH PLAIN send it."""
    plain = f"\0{USER}\0{password}".encode()
    return [
        password.encode(),
        base64.b64encode(password.encode()),
        base64.b64encode(plain),
    ]


class Authenticator:
    """Accepts USER with `password`; a refusal may echo back what it was sent, as a broken
    server could."""

    def __init__(self, password: str, *, echo: bool = False) -> None:
        self.password = password
        self.echo = echo
        self.tries: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.tries.append(mechanism)
        if login == USER and password == self.password:
            return AuthResult(success=True)
        if not self.echo:
            return AuthResult(success=False, handled=False)
        echoed = b" ".join(secret_forms(password)).decode()
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 rejected {echoed}")


def write_config(home: Path, port: int, *, password_from: str) -> None:
    lines = [
        "[smtp]",
        'host = "127.0.0.1"',
        f"port = {port}",
        'security = "none"',
        f'user = "{USER}"',
        'from = "papercli <digest@example.org>"',
        "timeout = 5",
    ]
    if password_from == "cmd":
        secret_file = home / "secret.txt"  # outside what is searched below: the user's own file
        secret_file.write_text(SECRET + "\n")
        lines.append(f'password_cmd = "cat {secret_file}"')
    lines += [
        "",
        "[digest.diff]",
        f"sources = [{str(SEED)!r}]",
        'topics = ["diffusion"]',
        'recipients = ["ana@example.org"]',
    ]
    (home / "config.toml").write_text("\n".join(lines) + "\n")


@pytest.fixture(params=["env", "cmd"])
def password_from(request, monkeypatch) -> str:
    if request.param == "env":
        monkeypatch.setenv("PAPERCLI_SMTP_PASSWORD", SECRET)
    else:
        monkeypatch.delenv("PAPERCLI_SMTP_PASSWORD", raising=False)
    return request.param


def everything_written(home: Path) -> dict[str, bytes]:
    """Every file papercli's home holds (store, -wal, outbox, logs, cache), except the user's
    own secret file and config."""
    return {
        str(path.relative_to(home)): path.read_bytes()
        for path in sorted(home.rglob("*"))
        if path.is_file() and path.name not in ("secret.txt", "config.toml")
    }


def assert_no_secret(*texts: str | bytes, home: Path, store: bool = True) -> None:
    written = everything_written(home)
    assert ("papers.db" in written) is store
    haystacks = {f"output {n}": t for n, t in enumerate(texts)} | written
    for name, data in haystacks.items():
        raw = data.encode() if isinstance(data, str) else data
        for form in secret_forms():
            assert form not in raw, f"{form!r} leaked into {name}"


def test_a_good_password_sends(password_from, papercli_home):
    auth = Authenticator(SECRET)
    with running(Collector(), authenticator=auth, auth_require_tls=False) as server:
        write_config(papercli_home, server.port, password_from=password_from)
        result = run_cli("run", "diff")
        assert result.code == 0, result.err
        assert len(server.messages) == 1
    assert auth.tries
    assert_no_secret(result.out, result.err, home=papercli_home)


@pytest.mark.parametrize("traceback", [False, True], ids=["plain", "traceback"])
@pytest.mark.parametrize("failure", ["wrong-password", "echoing-server", "server-down"])
def test_a_failed_send_never_shows_the_password(failure, traceback, password_from, papercli_home):
    flags = ["--traceback"] if traceback else []
    if failure == "server-down":
        write_config(papercli_home, free_port(), password_from=password_from)
        result = run_cli(*flags, "run", "diff")
        retried = run_cli(*flags, "send", "--retry")
    else:
        auth = Authenticator("another password", echo=failure == "echoing-server")
        with running(Collector(), authenticator=auth, auth_require_tls=False) as server:
            write_config(papercli_home, server.port, password_from=password_from)
            result = run_cli(*flags, "run", "diff")
            retried = run_cli(*flags, "send", "--retry")
            assert server.messages == []
        assert auth.tries
    assert result.code == retried.code == ExitCode.DELIVERY
    (line,) = error_lines(result.err)
    assert line.startswith("Error: could not send the digest via 127.0.0.1:")
    assert line.endswith(
        "; the digest was kept in the outbox; run `papercli send --retry` once the server is "
        "reachable"
    )
    if failure != "server-down":
        assert f"login as {USER} was refused (535 5.7.8 " in line
    if failure == "echoing-server":
        assert "rejected *** *** ***" in line
    assert ("Traceback (most recent call last)" in result.err) is traceback
    assert len(Outbox(papercli_home / "outbox").items()) == 1
    assert_no_secret(result.out, result.err, retried.out, retried.err, home=papercli_home)


def test_a_cron_run_logs_no_password(password_from, papercli_home):
    """`papercli --traceback run` as the crontab line runs it, output appended to the log."""
    logs = papercli_home / "logs"
    logs.mkdir()
    auth = Authenticator("another password", echo=True)
    with running(Collector(), authenticator=auth, auth_require_tls=False) as server:
        write_config(papercli_home, server.port, password_from=password_from)
        with (logs / "diff.log").open("ab") as log:
            done = subprocess.run(
                [sys.executable, "-m", "papercli", "--traceback", "run", "diff"],
                env={**os.environ, "PAPERCLI_HOME": str(papercli_home)},
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=120,
                check=False,
            )
    assert done.returncode == ExitCode.DELIVERY
    text = (logs / "diff.log").read_text()
    assert "Traceback (most recent call last)" in text
    assert "Error: could not send the digest via 127.0.0.1:" in text
    assert_no_secret(home=papercli_home)


def test_the_digest_email_command_shows_no_password(password_from, papercli_home):
    auth = Authenticator("another password", echo=True)
    with running(Collector(), authenticator=auth, auth_require_tls=False) as server:
        write_config(papercli_home, server.port, password_from=password_from)
        result = run_cli(
            "--traceback", "digest", str(SEED), "--topic", "diffusion", "--email-to", USER
        )
    assert result.code == ExitCode.DELIVERY
    assert "rejected *** *** ***" in result.err
    assert_no_secret(result.out, result.err, home=papercli_home, store=False)
