"""Delivery against real things: files on disk, a real SMTP server (aiosmtpd) on localhost, real
processes holding the lock. Nothing of papercli is mocked."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import os
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from papercli.deliver import (
    OUTBOX_HINT,
    Outbox,
    SmtpSettings,
    build_message,
    digest_lock,
    eml_bytes,
    output_path,
    retry,
    send_message,
    write_atomic,
)
from papercli.errors import ConfigError, DeliveryError, ExitCode, LockedError
from tests.smtp_server import Collector, RejectingNobody, Scripted, Server, free_port, running

SECRET = "hunter2-Xq9-s3cret"
USER = "reader@example.org"
SUBJECT = "Диффузия — 3 papers"
TEXT = "Диффузия: 3 papers today.\n\n" + "A long abstract line " * 8 + "\n"
HTML = "<h1>Диффузия</h1>\n<p>3 papers today.</p>\n"
DATE = datetime(2024, 8, 1, 7, 0, tzinfo=timezone.utc)
# The AUTH server runs without TLS on purpose (no certificate needed); aiosmtpd warns each time.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


# -- a real SMTP server on localhost -------------------------------------------------------------


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == SECRET.encode()
    )
    return AuthResult(success=ok, handled=False)  # not handled: the server answers 535


@pytest.fixture
def server() -> Iterator[Server]:
    with running(Collector()) as srv:
        yield srv


@pytest.fixture
def rejecting_server() -> Iterator[Server]:
    with running(RejectingNobody()) as srv:
        yield srv


@pytest.fixture
def auth_server() -> Iterator[Server]:
    with running(
        Collector(), auth_required=True, auth_require_tls=False, authenticator=authenticator
    ) as srv:
        yield srv


@pytest.fixture
def down() -> SmtpSettings:
    """Settings for a port nobody listens on: connection refused."""
    return SmtpSettings(host="127.0.0.1", port=free_port(), security="none", from_addr="a@b.org")


@pytest.fixture
def tls_cert(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made by the openssl CLI)."""
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_tls_context(cert: Path, key: Path):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def digest_message(to=("you@example.org",), **kwargs) -> email.message.EmailMessage:
    return build_message(
        subject=SUBJECT,
        from_addr="papercli <digest@example.org>",
        to=list(to),
        text=TEXT,
        html=HTML,
        **kwargs,
    )


# -- files ---------------------------------------------------------------------------------------


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


def test_write_atomic_creates_parents_and_replaces(tmp_path):
    target = tmp_path / "a" / "b" / "digest.html"
    assert write_atomic(target, "<p>Диффузия</p>") == target
    assert target.read_text(encoding="utf-8") == "<p>Диффузия</p>"
    write_atomic(target, b"new bytes")
    assert target.read_bytes() == b"new bytes"
    assert leftovers(tmp_path) == []
    assert sorted(p.name for p in target.parent.iterdir()) == ["digest.html"]


def test_write_atomic_onto_a_directory_fails_cleanly(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("kept")
    with pytest.raises(DeliveryError) as info:
        write_atomic(target, "digest")
    assert str(info.value).startswith(f"could not write {target}: Is a directory")
    assert info.value.exit_code == ExitCode.DELIVERY
    assert (target / "keep.txt").read_text() == "kept"
    assert leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_write_atomic_keeps_the_old_file_when_the_disk_refuses_midway(tmp_path):
    """A real short write: the child may write at most 1000 bytes per file (RLIMIT_FSIZE)."""
    target = tmp_path / "digest.md"
    target.write_text("old digest\n")
    script = textwrap.dedent(
        f"""
        import resource, signal
        from papercli.deliver import write_atomic
        from papercli.errors import DeliveryError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
        try:
            write_atomic({str(target)!r}, "x" * 50_000)
        except DeliveryError as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"could not write {target}: File too large")
    assert target.read_text() == "old digest\n"
    assert leftovers(tmp_path) == []


def test_write_atomic_mode(tmp_path):
    path = write_atomic(tmp_path / "private.eml", "x", mode=0o600)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_output_path(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    expect = folder / "papercli-ml-2024-08-01.html"
    assert output_path(folder, date="2024-08-01", name="ml", ext="html") == expect
    fresh = f"{tmp_path}/new/"
    assert output_path(fresh, date="2024-08-01", name="cs.LG / weekly", ext=".md") == (
        tmp_path / "new" / "papercli-cs.LG_weekly-2024-08-01.md"
    )
    plain = tmp_path / "today.html"
    assert output_path(plain, date="2024-08-01", name="ml", ext="html") == plain


# -- SMTP settings -------------------------------------------------------------------------------


def test_from_config_defaults():
    smtp = SmtpSettings.from_config({"host": "smtp.example.org", "user": USER})
    assert (smtp.host, smtp.port, smtp.security, smtp.from_addr) == (
        "smtp.example.org",
        587,
        "starttls",
        USER,
    )
    assert smtp.password_env == "PAPERCLI_SMTP_PASSWORD"
    assert smtp.timeout == 30.0
    assert SmtpSettings.from_config({"host": "h", "security": "ssl", "from": "a@b.org"}).port == 465
    assert SmtpSettings.from_config({"host": "h", "security": "none", "from": "a@b.org"}).port == 25
    full = SmtpSettings.from_config(
        {
            "host": "h",
            "port": 2525,
            "security": "none",
            "user": "bob",
            "from": "Bob <bob@example.org>",
            "password_env": "MY_MAIL_PW",
            "password_cmd": "pass show mail",
            "timeout": 5,
        }
    )
    assert (full.port, full.user, full.from_addr, full.password_env, full.password_cmd) == (
        2525,
        "bob",
        "Bob <bob@example.org>",
        "MY_MAIL_PW",
        "pass show mail",
    )


def test_from_config_refuses_a_password_without_echoing_it():
    with pytest.raises(ConfigError) as info:
        SmtpSettings.from_config({"host": "h", "from": "a@b.org", "password": SECRET})
    text = str(info.value)
    assert text.startswith(
        "papercli never reads a password from the config file; "
        "set PAPERCLI_SMTP_PASSWORD or password_cmd"
    )
    assert SECRET not in text
    assert info.value.exit_code == ExitCode.CONFIG


@pytest.mark.parametrize(
    ("table", "start"),
    [
        ({"host": "h", "from": "a@b.org", "passwd": SECRET}, "[smtp] passwd: unknown key"),
        ({"from": "a@b.org"}, "[smtp] host: expected"),
        ({"host": "h", "from": "a@b.org", "security": "tls"}, "[smtp] security: expected"),
        ({"host": "h", "from": "a@b.org", "port": "587"}, "[smtp] port: expected"),
        ({"host": "h", "from": "a@b.org", "port": 70000}, "[smtp] port: expected"),
        ({"host": "h", "user": "bob"}, "[smtp] from: expected"),
        ({"host": "h", "from": "a@b.org", "timeout": 0}, "[smtp] timeout: expected"),
        (
            {"host": "h", "from": "a@b.org", "password_env": "not a name"},
            "[smtp] password_env: expected",
        ),
        (
            {"host": "h", "from": "a@b.org", "password_cmd": f"echo '{SECRET}"},
            "[smtp] password_cmd: expected",
        ),
    ],
)
def test_from_config_rejects(table, start):
    with pytest.raises(ConfigError) as info:
        SmtpSettings.from_config(table)
    assert str(info.value).startswith("the config file: " + start)
    assert SECRET not in str(info.value)


def test_settings_repr_hides_secrets():
    smtp = SmtpSettings(
        host="h", from_addr="a@b.org", password_cmd=f"echo {SECRET}", password_value=SECRET
    )
    assert SECRET not in repr(smtp)
    assert smtp.password() == SECRET


# -- messages ------------------------------------------------------------------------------------


# The whole message, byte for byte: a deterministic build is what makes `--dry-run` diffable.
GOLDEN = """\
From: papercli <digest@example.org>
To: you@example.org
Subject: =?utf-8?b?0JTQuNGE0YTRg9C30LjRjyDigJQ=?= 3 papers
Date: Thu, 01 Aug 2024 07:00:00 +0000
Message-ID: <digest-2024-08-01@example.org>
MIME-Version: 1.0
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Mailer: papercli/{version}
List-Id: ml <ml.papercli.example.org>
Content-Type: multipart/alternative;
 boundary="==papercli-a2c9586a7b96efcd216aeec5-0=="

--==papercli-a2c9586a7b96efcd216aeec5-0==
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

=D0=94=D0=B8=D1=84=D1=84=D1=83=D0=B7=D0=B8=D1=8F: 3 papers today.

A long abstract line A long abstract line A long abstract line A long abstrac=
t line A long abstract line A long abstract line A long abstract line A long =
abstract line=20

--==papercli-a2c9586a7b96efcd216aeec5-0==
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

PGgxPtCU0LjRhNGE0YPQt9C40Y88L2gxPg0KPHA+MyBwYXBlcnMgdG9kYXkuPC9wPg0K

--==papercli-a2c9586a7b96efcd216aeec5-0==--
"""


def test_build_message_is_deterministic_and_golden():
    from papercli import __version__

    kwargs = {
        "date": DATE,
        "headers": {
            "Message-ID": "<digest-2024-08-01@example.org>",
            "List-Id": "ml <ml.papercli.example.org>",
        },
    }
    data = eml_bytes(digest_message(**kwargs))
    assert data == eml_bytes(digest_message(**kwargs))
    assert data == GOLDEN.format(version=__version__).replace("\n", "\r\n").encode()


def test_build_message_parses_back():
    msg = email.message_from_bytes(eml_bytes(digest_message()), policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Subject"] == SUBJECT
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == TEXT
    assert msg.get_body(("html",)).get_content().replace("\r\n", "\n") == HTML
    assert msg["Message-ID"].endswith("@example.org>")
    assert email.utils.parsedate_to_datetime(msg["Date"]).tzinfo is not None
    assert msg["Auto-Submitted"] == "auto-generated"


@pytest.mark.parametrize(
    ("to", "start"),
    [([], "a digest email needs at least one recipient"), (["not an address"], "'not an address'")],
)
def test_build_message_rejects_bad_recipients(to, start):
    with pytest.raises(ConfigError) as info:
        digest_message(to=to)
    assert str(info.value).startswith(start)


# -- sending to a real server --------------------------------------------------------------------


def test_send_delivers_both_parts(server):
    to = ["Анна <anna@example.org>", "bob@example.org"]
    send_message(digest_message(to=to), server.settings())
    [env] = server.handler.envelopes
    assert env.mail_from == "digest@example.org"
    assert env.rcpt_tos == ["anna@example.org", "bob@example.org"]
    [msg] = server.messages
    assert msg["Subject"] == SUBJECT
    assert [a.addr_spec for a in msg["To"].addresses] == ["anna@example.org", "bob@example.org"]
    assert msg["To"].addresses[0].display_name == "Анна"
    assert msg.get_body(("html", "plain")).get_content_type() == "text/html"
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == TEXT
    assert msg.get_body(("html",)).get_content().replace("\r\n", "\n") == HTML
    assert msg["Date"] and msg["Message-ID"]


def test_send_to_a_down_server(down):
    with pytest.raises(DeliveryError) as info:
        send_message(digest_message(), down)
    assert str(info.value) == (
        f"could not send the digest via 127.0.0.1:{down.port}: connection refused "
        "(is the server up and the port right?); "
        "it was kept in the outbox, run `papercli send --retry`"
    )
    assert info.value.exit_code == ExitCode.DELIVERY
    assert "\n" not in str(info.value)


def test_send_refused_recipient_sends_nothing(rejecting_server):
    to = ["you@example.org", "nobody@example.org"]
    with pytest.raises(DeliveryError) as info:
        send_message(digest_message(to=to), rejecting_server.settings())
    assert str(info.value) == (
        f"could not send the digest via 127.0.0.1:{rejecting_server.port}: the server refused "
        "recipient nobody@example.org (550 5.1.1 <nobody@example.org>: no such user); "
        + OUTBOX_HINT
    )
    assert rejecting_server.handler.envelopes == []  # no partial delivery to you@
    # The connection stays usable for a good message afterwards.
    send_message(digest_message(), rejecting_server.settings())
    assert len(rejecting_server.handler.envelopes) == 1


def test_send_times_out_on_a_silent_server():
    with socket.socket() as silent:  # listens but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        smtp = SmtpSettings(
            host="127.0.0.1",
            port=silent.getsockname()[1],
            security="none",
            from_addr="a@b.org",
            timeout=0.2,
        )
        with pytest.raises(DeliveryError) as info:
            send_message(digest_message(), smtp)
    assert ": no answer within 0.2s; " in str(info.value)


def test_starttls_not_offered(server):
    with pytest.raises(DeliveryError) as info:
        send_message(digest_message(), server.settings(security="starttls"))
    assert "STARTTLS extension not supported by server (check security in [smtp])" in str(
        info.value
    )
    assert server.handler.envelopes == []


def test_starttls_and_ssl_with_a_trusted_certificate(tls_cert, monkeypatch):
    cert, key = tls_cert
    with running(Collector(), tls_context=server_tls_context(cert, key)) as srv:
        with pytest.raises(DeliveryError) as info:  # self-signed and not trusted yet
            send_message(digest_message(), srv.settings(security="starttls"))
        assert "TLS failed (CERTIFICATE_VERIFY_FAILED)" in str(info.value)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        send_message(digest_message(), srv.settings(security="starttls"))
        assert len(srv.handler.envelopes) == 1
    handler = Collector()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        server_hostname="localhost",
        ssl_context=server_tls_context(cert, key),
    )
    controller.start()
    try:
        send_message(digest_message(), Server(handler, controller.port).settings(security="ssl"))
    finally:
        controller.stop()
    assert len(handler.envelopes) == 1


# -- login and the password ----------------------------------------------------------------------


def test_login_with_the_password_from_the_environment(auth_server, monkeypatch):
    monkeypatch.setenv("PAPERCLI_SMTP_PASSWORD", SECRET)
    send_message(digest_message(), auth_server.settings(user=USER))
    assert len(auth_server.handler.envelopes) == 1


def test_login_with_password_cmd(auth_server, monkeypatch):
    monkeypatch.delenv("PAPERCLI_SMTP_PASSWORD", raising=False)
    command = f'{shlex.quote(sys.executable)} -c \'print("{SECRET}"); print("second line")\''
    send_message(digest_message(), auth_server.settings(user=USER, password_cmd=command))
    assert len(auth_server.handler.envelopes) == 1


def test_without_login_the_server_refuses(auth_server):
    with pytest.raises(DeliveryError) as info:
        send_message(digest_message(), auth_server.settings())
    assert "the server refused sender digest@example.org (530 5.7.0 Authentication required)" in (
        str(info.value)
    )


def test_no_password_anywhere(auth_server, monkeypatch):
    monkeypatch.delenv("PAPERCLI_SMTP_PASSWORD", raising=False)
    with pytest.raises(DeliveryError) as info:
        send_message(digest_message(), auth_server.settings(user=USER))
    assert f"no password for SMTP user {USER} (set PAPERCLI_SMTP_PASSWORD or password_cmd" in str(
        info.value
    )


def test_failing_password_cmd_names_only_the_program(auth_server, monkeypatch):
    monkeypatch.delenv("PAPERCLI_SMTP_PASSWORD", raising=False)
    command = f"{shlex.quote(sys.executable)} -c 'import sys; sys.exit(3)' {SECRET}"
    with pytest.raises(DeliveryError) as info:
        send_message(digest_message(), auth_server.settings(user=USER, password_cmd=command))
    program = Path(sys.executable).name
    assert f": password_cmd ({program}) exited with status 3; " in str(info.value)
    assert SECRET not in str(info.value)
    missing = auth_server.settings(user=USER, password_cmd="no-such-papercli-pw-tool show")
    with pytest.raises(DeliveryError, match=r"password_cmd \(no-such-papercli-pw-tool\) was not"):
        send_message(digest_message(), missing)


def test_the_password_never_shows(auth_server, monkeypatch, capfd, caplog, tmp_path):
    """Right and wrong passwords, env and command: nothing the user or a log sees holds them."""
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-" + SECRET
    seen: list[str] = []

    monkeypatch.setenv("PAPERCLI_SMTP_PASSWORD", wrong)
    smtp = auth_server.settings(user=USER)
    with pytest.raises(DeliveryError) as info:
        send_message(digest_message(), smtp)
    assert str(info.value).startswith(
        f"could not send the digest via 127.0.0.1:{auth_server.port}: "
        f"login as {USER} was refused (535 5.7.8 Authentication credentials invalid)"
    )
    seen += [str(info.value), repr(info.value), repr(info.value.__cause__), repr(smtp)]
    assert info.value.__suppress_context__  # no chained smtplib error in a traceback

    outbox = Outbox(tmp_path / "outbox")
    outbox.add(digest_message(), digest="ml", paper_ids=["2408.00001"], recipients=[USER])
    result = retry(outbox, smtp, on_sent=lambda item: None)
    seen += [str(e) for e in result.errors] + [repr(result)]

    monkeypatch.setenv("PAPERCLI_SMTP_PASSWORD", SECRET)
    sent = retry(outbox, smtp, on_sent=lambda item: None)
    assert len(sent.sent) == 1
    seen.append(repr(sent))

    monkeypatch.delenv("PAPERCLI_SMTP_PASSWORD")
    command = f"{shlex.quote(sys.executable)} -c 'print(\"{SECRET}\")'"
    with_cmd = auth_server.settings(user=USER, password_cmd=command)
    send_message(digest_message(), with_cmd)
    seen.append(repr(with_cmd))

    captured = capfd.readouterr()
    seen += [captured.out, captured.err, caplog.text]
    seen += [p.read_text(encoding="utf-8") for p in tmp_path.rglob("*") if p.is_file()]
    assert "connecting to 127.0.0.1" in caplog.text  # the log was really captured
    for text in seen:
        assert SECRET not in text


# -- outbox --------------------------------------------------------------------------------------


def test_outbox_add_items_remove(tmp_path):
    outbox = Outbox(tmp_path / "outbox")
    assert outbox.items() == []
    msg = digest_message(date=DATE)
    first = outbox.add(msg, digest="ml", paper_ids=["2408.00001", "2408.00002"], recipients=[USER])
    second = outbox.add(digest_message(), digest="cs.CL weekly", paper_ids=[], recipients=[USER])
    assert first.read_bytes() == eml_bytes(msg)
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    meta = json.loads(first.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["digest"] == "ml"
    assert meta["recipients"] == [USER]
    assert meta["paper_ids"] == ["2408.00001", "2408.00002"]
    assert meta["subject"] == SUBJECT
    assert datetime.fromisoformat(meta["created"]).tzinfo is not None
    items = outbox.items()
    assert [(i.eml, i.digest) for i in items] == [(first, "ml"), (second, "cs.CL weekly")]
    outbox.remove(items[0])
    assert [i.eml for i in outbox.items()] == [second]
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == [
        second.name,
        second.with_suffix(".json").name,
    ]


def test_outbox_ignores_an_eml_without_sidecar_and_quarantines_a_broken_one(tmp_path):
    outbox = Outbox(tmp_path / "outbox")
    eml = outbox.add(digest_message(), digest="ml", paper_ids=[], recipients=[USER])
    good = outbox.add(digest_message(), digest="cv", paper_ids=[], recipients=[USER])
    sidecar = eml.with_suffix(".json")
    text = sidecar.read_text()
    sidecar.unlink()  # as if the run died between the two writes
    assert [i.eml for i in outbox.items()] == [good] and outbox.quarantined == []
    sidecar.write_text(text[: len(text) // 2])
    assert [i.eml for i in outbox.items()] == [good]
    (line,) = outbox.quarantined
    assert line.startswith(f"outbox item {eml} is unreadable (JSONDecodeError")
    assert line.endswith(f"moved it to {outbox.quarantine_dir}: fix or delete it by hand")
    assert sorted(p.name for p in outbox.quarantine_dir.iterdir()) == [eml.name, sidecar.name]


def test_outbox_never_follows_a_symlinked_eml(tmp_path, server):
    outbox = Outbox(tmp_path / "outbox")
    eml = outbox.add(digest_message(), digest="ml", paper_ids=[], recipients=[USER])
    secret = tmp_path / "secret.txt"
    secret.write_text("Subject: private\n\nthe private key\n")
    eml.unlink()
    eml.symlink_to(secret)
    result = retry(outbox, server.settings(), on_sent=lambda item: None)
    assert result.sent == [] and server.handler.envelopes == []
    (line,) = result.quarantined
    assert line.startswith(f"outbox item {eml} is a symbolic link, which papercli never sends")
    assert (outbox.quarantine_dir / eml.name).is_symlink() and secret.exists()


def test_retry_sends_and_empties_the_outbox(server, tmp_path):
    outbox = Outbox(tmp_path / "outbox")
    msg = digest_message(to=["you@example.org", "bob@example.org"])
    outbox.add(
        msg,
        digest="ml",
        paper_ids=["2408.00001"],
        recipients=["you@example.org", "bob@example.org"],
    )
    marked = []
    result = retry(outbox, server.settings(), on_sent=marked.append)
    assert [item.paper_ids for item in marked] == [["2408.00001"]]
    assert result.sent == marked and result.failed == [] and result.errors == []
    assert outbox.items() == []
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [".outbox.lock"]  # the lock stays
    [env] = server.handler.envelopes
    assert env.rcpt_tos == ["you@example.org", "bob@example.org"]
    assert server.messages[0]["Message-ID"] == msg["Message-ID"]
    assert retry(outbox, server.settings(), on_sent=marked.append).sent == []


def test_retry_against_a_down_server_keeps_everything(down, tmp_path):
    outbox = Outbox(tmp_path / "outbox")
    outbox.add(digest_message(), digest="ml", paper_ids=["2408.00001"], recipients=[USER])
    outbox.add(digest_message(), digest="cv", paper_ids=["2408.00003"], recipients=[USER])
    marked = []
    result = retry(outbox, down, on_sent=marked.append)
    assert marked == [] and result.sent == []
    assert [item.digest for item in result.failed] == ["ml", "cv"]
    assert [str(e) for e in result.errors] == [
        f"could not send the digest via 127.0.0.1:{down.port}: connection refused "
        "(is the server up and the port right?); "
        "it stays in the outbox; run `papercli send --retry` again later"
    ]
    assert len(outbox.items()) == 2


def test_retry_keeps_only_the_refused_item(rejecting_server, tmp_path):
    outbox = Outbox(tmp_path / "outbox")
    outbox.add(digest_message(), digest="bad", paper_ids=["1"], recipients=["nobody@example.org"])
    outbox.add(digest_message(), digest="good", paper_ids=["2"], recipients=["you@example.org"])
    marked = []
    result = retry(outbox, rejecting_server.settings(), on_sent=marked.append)
    assert [i.digest for i in marked] == ["good"]
    assert [i.digest for i in result.failed] == ["bad"]
    assert "refused recipient nobody@example.org (550" in str(result.errors[0])
    assert [i.digest for i in outbox.items()] == ["bad"]
    assert [e.rcpt_tos for e in rejecting_server.handler.envelopes] == [["you@example.org"]]


def test_retry_keeps_the_item_when_marking_fails(server, tmp_path):
    outbox = Outbox(tmp_path / "outbox")
    outbox.add(digest_message(), digest="ml", paper_ids=["1"], recipients=[USER])

    def store_down(item):
        raise RuntimeError("store is locked")

    with pytest.raises(RuntimeError):
        retry(outbox, server.settings(), on_sent=store_down)
    assert len(server.handler.envelopes) == 1
    assert [i.digest for i in outbox.items()] == ["ml"]  # sent twice beats lost


# -- locks ---------------------------------------------------------------------------------------


HOLDER = """
import sys
from pathlib import Path
from papercli.deliver import digest_lock
with digest_lock(Path(sys.argv[1]), "ml"):
    print("locked", flush=True)
    sys.stdin.read()
"""


@contextmanager
def holder(lock_dir: Path) -> Iterator[subprocess.Popen]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline() == "locked\n"
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)


def test_lock_held_by_another_process(tmp_path):
    with holder(tmp_path) as child:
        with pytest.raises(LockedError) as info, digest_lock(tmp_path, "ml"):
            pass
        assert str(info.value) == (
            f"digest ml is already running (pid {child.pid}); try again when it finishes"
        )
        assert info.value.exit_code == ExitCode.LOCKED
        with digest_lock(tmp_path, "other"):  # other digests are not blocked
            pass
        child.stdin.close()  # let it finish normally
        assert child.wait(timeout=10) == 0
    with digest_lock(tmp_path, "ml") as path:
        assert path == tmp_path / "ml.lock"
        assert path.read_text() == f"{os.getpid()}\n"


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    with holder(tmp_path) as child:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    assert (tmp_path / "ml.lock").exists()
    with digest_lock(tmp_path, "ml"):
        pass


def test_lock_is_reusable_in_one_process(tmp_path):
    for _ in range(2):
        with (
            digest_lock(tmp_path / "locks", "ml"),
            pytest.raises(LockedError),
            digest_lock(tmp_path / "locks", "ml"),
        ):
            pass


# -- replies after DATA --------------------------------------------------------------------------


@pytest.mark.parametrize("refusal", ["451 4.7.1 Greylisted", "552 5.3.4 Too big", "554 5.7.1 Spam"])
def test_send_refused_after_data_raises(refusal):
    with running(Scripted(replies={"DATA": refusal})) as srv:
        accepted = []
        with pytest.raises(DeliveryError) as info:
            send_message(digest_message(), srv.settings(), on_accepted=lambda: accepted.append(1))
        assert f"the server rejected the message ({refusal})" in str(info.value)
        assert accepted == [] and srv.handler.seen[:3] == ["MAIL", "RCPT", "DATA"]


def test_acceptance_is_reported_before_the_quit_round_trip():
    with running(Scripted(delays={"QUIT": 0.5})) as srv:
        verbs_when_accepted = []
        send_message(
            digest_message(),
            srv.settings(),
            on_accepted=lambda: verbs_when_accepted.extend(srv.handler.seen),
        )
        assert verbs_when_accepted == ["MAIL", "RCPT", "DATA"]
        assert srv.handler.seen[-1] == "QUIT" and len(srv.messages) == 1


def test_write_atomic_follows_a_symlink_and_keeps_it(tmp_path):
    real = tmp_path / "site" / "digest.html"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.html"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    assert leftovers(tmp_path) == []


def test_write_atomic_writes_through_a_fifo_instead_of_replacing_it(tmp_path):
    """`-o` onto a special file (a pipe here; /dev/null or a tty alike) writes into it; a rename
    would put a regular file in its place (as root, even in /dev)."""
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    link = tmp_path / "to-pipe"
    link.symlink_to(fifo)
    write_atomic(link, "digest through a pipe")
    reader.join(timeout=10)
    assert got == [b"digest through a pipe"]
    assert stat.S_ISFIFO(fifo.stat().st_mode) and link.is_symlink()
    assert leftovers(tmp_path) == []
