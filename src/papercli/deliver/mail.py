"""Email: the `[smtp]` settings, building the message, and sending it over SMTP.

It never reads a password from the config file: the SMTP password comes from an environment
variable or a command, only at send time, and appears in no message, repr, exception or log.
"""

from __future__ import annotations

import base64
import email
import email.policy
import email.utils
import hashlib
import logging
import os
import re
import shlex
import smtplib
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any, ClassVar

from papercli import __version__
from papercli.errors import ConfigError, DeliveryError

log = logging.getLogger(__name__)

# Building under a 7-bit policy makes set_content pick quoted-printable or base64 for non-ASCII
# or long lines, so the message passes any relay, with or without 8BITMIME.
BUILD_POLICY = email.policy.SMTP.clone(cte_type="7bit")
OUTBOX_HINT = "it was kept in the outbox, run `papercli send --retry`"
RETRY_HINT = "it stays in the outbox; run `papercli send --retry` again later"
PASSWORD_ENV = "PAPERCLI_SMTP_PASSWORD"
# `pass show` may wait for a pinentry prompt, so give a person time to type.
PASSWORD_CMD_TIMEOUT = 120.0
SECURITIES = {"starttls": 587, "ssl": 465, "none": 25}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# -- SMTP settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server, from the config's `[smtp]` table.

    The password is never stored here from config: `password()` resolves it at send time from
    the environment variable `password_env`, else the first stdout line of `password_cmd`.
    """

    host: str
    from_addr: str
    port: int = 587
    security: str = "starttls"
    user: str | None = None
    password_env: str = PASSWORD_ENV
    # A command line could carry a secret (`echo hunter2`), so it stays out of reprs as well.
    password_cmd: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    # For a caller that already holds the password (say, from a prompt); config never sets it.
    password_value: str | None = field(default=None, repr=False, compare=False)

    KEYS: ClassVar[tuple[str, ...]] = (
        "host",
        "port",
        "security",
        "user",
        "from",
        "password_env",
        "password_cmd",
        "timeout",
    )

    @classmethod
    def from_config(
        cls, table: Mapping[str, Any], *, origin: str = "the config file"
    ) -> SmtpSettings:
        """Validate an `[smtp]` table.

        `{"host": "smtp.example.org", "user": "me@example.org"}` -> port 587, STARTTLS, from the
        user's address. Raises ConfigError naming the key (never echoing a value that might be a
        secret) for unknown keys, bad values and, always, a `password` key.
        """
        if "password" in table:
            raise ConfigError(
                "papercli never reads a password from the config file; "
                f"set {PASSWORD_ENV} or password_cmd",
                hint=f"remove `password` from [smtp] in {origin}",
            )
        unknown = sorted(set(table) - set(cls.KEYS))
        if unknown:
            raise ConfigError(
                f"{origin}: [smtp] {unknown[0]}: unknown key",
                hint="known keys: " + ", ".join(cls.KEYS),
            )
        security = _choice(table, "security", "starttls", origin)
        user = _optional_str(table, "user", origin)
        return cls(
            host=_required_str(table, "host", origin),
            port=_port(table, SECURITIES[security], origin),
            security=security,
            user=user,
            from_addr=_from_addr(table, user, origin),
            password_env=_env_name(table, origin),
            password_cmd=_password_cmd(table, origin),
            timeout=_timeout(table, origin),
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def password(self, *, hint: str | None = OUTBOX_HINT) -> str | None:
        """The password for `user`: the environment first (as in all papercli settings), then the
        command.

        Raises DeliveryError when `password_cmd` fails; its message names only the program.
        """
        if self.password_value is not None:
            return self.password_value
        from_env = os.environ.get(self.password_env)
        if from_env:
            return from_env
        if self.password_cmd:
            return _run_password_cmd(self.password_cmd, self.address, hint)
        return None


def _bad_value(key: str, origin: str, expected: str) -> ConfigError:
    # The value found is not echoed: it might be a secret.
    return ConfigError(f"{origin}: [smtp] {key}: expected {expected}")


def _required_str(table: Mapping[str, Any], key: str, origin: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _bad_value(key, origin, 'a non-empty string, e.g. host = "smtp.example.org"')
    if "\r" in value or "\n" in value:  # it goes into a header or an SMTP command line
        raise _bad_value(key, origin, "one line")
    return value.strip()


def _optional_str(table: Mapping[str, Any], key: str, origin: str) -> str | None:
    if key not in table:
        return None
    return _required_str(table, key, origin)


def _choice(table: Mapping[str, Any], key: str, default: str, origin: str) -> str:
    value = table.get(key, default)
    if value not in SECURITIES:
        raise _bad_value(key, origin, "one of " + ", ".join(f'"{s}"' for s in SECURITIES))
    return str(value)


def _port(table: Mapping[str, Any], default: int, origin: str) -> int:
    value = table.get("port", default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise _bad_value("port", origin, "a port number (587 for starttls, 465 for ssl)")
    return value


def _timeout(table: Mapping[str, Any], origin: str) -> float:
    value = table.get("timeout", 30.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise _bad_value("timeout", origin, "a positive number of seconds")
    return float(value)


def is_address(text: str) -> bool:
    """'Ana <ana@example.org>' -> True; 'not an email', 'me@', 'jörg@example.org',
    'a@x.org, b@x.org', 'Me <me@x.org' -> False.

    What papercli accepts as a sender or recipient, in the config and when building a message.
    """
    found = email.utils.getaddresses([text])
    if len(found) != 1 or text.count("<") != text.count(">"):  # one address, brackets closed
        return False
    address = found[0][1]
    local, at, domain = address.rpartition("@")
    # The address itself in ASCII: papercli does not speak SMTPUTF8, and a server would refuse
    # 'jörg@example.org' (the name before it may be any text: it is encoded in the header).
    return bool(at and local and domain) and address.isascii() and " " not in address


def _from_addr(table: Mapping[str, Any], user: str | None, origin: str) -> str:
    value = _optional_str(table, "from", origin)
    if value is None and user and "@" in user:
        value = user
    if value is None or not is_address(value):
        raise _bad_value(
            "from", origin, 'an email address, e.g. from = "papercli <me@example.org>"'
        )
    return value


def _env_name(table: Mapping[str, Any], origin: str) -> str:
    value = table.get("password_env", PASSWORD_ENV)
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        raise _bad_value(
            "password_env", origin, f"the NAME of an environment variable, e.g. {PASSWORD_ENV}"
        )
    return value


def _password_cmd(table: Mapping[str, Any], origin: str) -> str | None:
    value = table.get("password_cmd")
    if value is None:
        return None
    try:
        ok = isinstance(value, str) and bool(shlex.split(value))
    except ValueError:
        ok = False
    if not ok:
        raise _bad_value(
            "password_cmd", origin, 'a command line, e.g. password_cmd = "pass show mail"'
        )
    return str(value)


def _run_password_cmd(command: str, address: str, hint: str | None) -> str:
    argv = shlex.split(command)
    program = Path(argv[0]).name

    def failed(reason: str) -> DeliveryError:
        return _send_error(address, f"password_cmd ({program}) {reason}", hint)

    try:
        # stderr passes through so the user sees the tool's own complaint (a locked keyring, ...).
        done = subprocess.run(
            argv,
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            timeout=PASSWORD_CMD_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise failed("was not found") from None
    except subprocess.TimeoutExpired:
        raise failed(f"did not finish within {PASSWORD_CMD_TIMEOUT:.0f}s") from None
    except OSError as exc:
        raise failed(f"could not run ({exc.strerror})") from None
    if done.returncode != 0:
        raise failed(f"exited with status {done.returncode}")
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    if not lines or not lines[0]:
        raise failed("printed no password")
    return lines[0]


# -- messages ------------------------------------------------------------------------------------


def build_message(
    *,
    subject: str,
    from_addr: str,
    to: Sequence[str],
    text: str,
    html: str | None,
    date: datetime | None = None,
    message_id_domain: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A multipart/alternative email: the text/plain part, then the text/html part, both UTF-8
    (text/plain alone when `html` is None, e.g. the short "nothing new" mail).

    `headers` adds or replaces headers; passing `{"Message-ID": "<...>"}` together with `date`
    makes the bytes deterministic (the boundary derives from the content), so a golden .eml can
    be compared. The Message-ID's domain defaults to the sender's, avoiding a slow DNS lookup.
    """
    recipients = [addr for addr in to if addr.strip()]
    for name, value in (("subject", subject), ("from", from_addr), *(("to", r) for r in to)):
        if "\r" in value or "\n" in value:
            # A line break would end the header and start another (Bcc: ...): refused, not sent.
            raise ConfigError(
                f"the email's {name} {value.splitlines()[0]!r}... holds a line break",
                hint="give it on one line (a title, subject or address is one line)",
            )
    if not recipients:
        raise ConfigError(
            "a digest email needs at least one recipient", hint="set `to` for the digest"
        )
    for addr in [from_addr, *recipients]:
        if not is_address(addr):
            raise ConfigError(
                f"{addr!r} is not an email address",
                hint="check the digest's recipients and [smtp] from (one ASCII address each)",
            )
    when = date or datetime.now(timezone.utc)
    domain = message_id_domain or email.utils.parseaddr(from_addr)[1].rpartition("@")[2]
    msg = EmailMessage(policy=BUILD_POLICY)
    msg["From"] = from_addr
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(when if when.tzinfo else when.astimezone())
    msg["Message-ID"] = email.utils.make_msgid(idstring="papercli", domain=domain)
    msg["MIME-Version"] = "1.0"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    msg["X-Auto-Response-Suppress"] = "All"  # Exchange ignores Auto-Submitted
    msg["X-Mailer"] = f"papercli/{__version__}"
    for name, value in (headers or {}).items():
        if name in msg:
            msg.replace_header(name, value)
        else:
            msg[name] = value
    if html is None:
        msg.set_content(text, subtype="plain", charset="utf-8")
        return msg
    msg.make_alternative()
    for body, subtype in ((text, "plain"), (html, "html")):
        part = EmailMessage(policy=BUILD_POLICY)
        part.set_content(body, subtype=subtype, charset="utf-8")
        del part["MIME-Version"]  # set_content adds one; only the top level should carry it
        msg.attach(part)
    msg.set_boundary(_boundary(text, html))
    return msg


def _boundary(text: str, html: str) -> str:
    """A boundary derived from the content (deterministic output) that occurs in neither part."""
    seed = hashlib.sha256(f"{text}\0{html}".encode()).hexdigest()[:24]
    for counter in range(1000):
        boundary = f"==papercli-{seed}-{counter}=="
        if boundary not in text and boundary not in html:
            return boundary
    raise AssertionError("no free MIME boundary")  # pragma: no cover


def eml_bytes(msg: EmailMessage) -> bytes:
    """The message as it goes over the wire (CRLF line ends), e.g. for `--dry-run`."""
    return msg.as_bytes(policy=email.policy.SMTP)


def envelope(msg: Message) -> tuple[str, list[str]]:
    """(sender, recipients) from the From and To/Cc headers, as plain addresses."""
    senders = email.utils.getaddresses(msg.get_all("From", []))
    recipients = email.utils.getaddresses(msg.get_all("To", []) + msg.get_all("Cc", []))
    sender = next((addr for _, addr in senders if addr), "")
    return sender, [addr for _, addr in recipients if addr]


# -- sending -------------------------------------------------------------------------------------


def send_message(
    msg: EmailMessage,
    smtp: SmtpSettings,
    *,
    hint: str | None = OUTBOX_HINT,
    on_accepted: Callable[[], None] | None = None,
) -> None:
    """Send `msg` to everyone in its To and Cc in one SMTP transaction, or not at all.

    Any failure (server down, TLS, login, a refused sender or recipient, a refused message body,
    a timeout) raises one DeliveryError: "could not send the digest via HOST:PORT: <reason>;
    <hint>". The default hint says the digest was kept in the outbox; keeping it there is the
    caller's job. `on_accepted` runs as soon as the server's 250 to the body arrives, before the
    QUIT round trip, so a process killed during a slow QUIT has already recorded the delivery.
    """
    sender, recipients = envelope(msg)
    session = SmtpSession.open(smtp, hint)
    try:
        session.send(eml_bytes(msg), sender, recipients)
        if on_accepted is not None:
            on_accepted()
    finally:
        session.close()


def _send_error(address: str, reason: str, hint: str | None) -> DeliveryError:
    return DeliveryError(f"could not send the digest via {address}: {reason}", hint=hint)


@contextmanager
def _failures(smtp: SmtpSettings, password: str | None, hint: str | None) -> Iterator[None]:
    """Turn whatever smtplib or the socket raises into one scrubbed DeliveryError."""
    try:
        yield
    except (smtplib.SMTPException, OSError, UnicodeError) as exc:
        reason = _scrub(_reason(exc, smtp), password, smtp.user)
        # `from None`: a chained server reply could, on a broken server, echo the AUTH line.
        raise _send_error(smtp.address, reason, hint) from None


def _is_loopback(host: str) -> bool:
    """'localhost', '127.0.0.1', '::1' -> True: a relay on this machine sees no network."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SmtpSession:
    """One logged-in SMTP connection; each `send` is its own all-or-nothing transaction."""

    def __init__(
        self, client: smtplib.SMTP, smtp: SmtpSettings, password: str | None, hint: str | None
    ) -> None:
        self.client = client
        self.smtp = smtp
        self.password = password
        self.hint = hint

    @classmethod
    def open(cls, smtp: SmtpSettings, hint: str | None) -> SmtpSession:
        """Connect with the configured security and log in when a user is set."""
        password = smtp.password(hint=hint) if smtp.user else None
        if smtp.user and password is None:
            reason = (
                f"no password for SMTP user {smtp.user} "
                f"(set {smtp.password_env} or password_cmd in [smtp])"
            )
            raise _send_error(smtp.address, reason, hint)
        log.debug("connecting to %s (%s)", smtp.address, smtp.security)
        with _failures(smtp, password, hint):
            client = _connect(smtp)
        session = cls(client, smtp, password, hint)
        if smtp.user and password is not None:
            if smtp.security == "none":
                from papercli import console

                where = "this machine" if _is_loopback(smtp.host) else "the network"
                console.warning(
                    f'logging in to {smtp.address} without TLS (security = "none"): '
                    f"the password crosses {where} in clear text; use starttls or ssl"
                )
            try:
                with _failures(smtp, password, hint):
                    client.login(smtp.user, password)
            except DeliveryError:
                session.close()
                raise
        return session

    def send(self, data: bytes, sender: str, recipients: Sequence[str]) -> None:
        if not recipients:
            raise _send_error(self.smtp.address, "the message has no recipients", self.hint)
        with _failures(self.smtp, self.password, self.hint):
            self._transaction(data, sender, recipients)
        log.debug(
            "sent %d bytes via %s to %d recipient(s)", len(data), self.smtp.address, len(recipients)
        )

    def _transaction(self, data: bytes, sender: str, recipients: Sequence[str]) -> None:
        client = self.client
        client.ehlo_or_helo_if_needed()
        code, reply = client.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        # smtplib would send DATA once one recipient is accepted; a partial delivery is hard to
        # reason about (who got it? is it delivered?), so any refusal aborts the whole message.
        for rcpt in recipients:
            code, reply = client.rcpt(rcpt)
            if code not in (250, 251):
                _quietly(client.rset)
                raise smtplib.SMTPRecipientsRefused({rcpt: (code, reply)})
        # data() raises only when DATA itself is refused; the reply to the body (451 greylisted,
        # 552 too big, 554 spam) comes back as a return value, and only 250 means accepted.
        code, reply = client.data(data)
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)

    def close(self) -> None:
        # Once DATA was accepted the mail is sent; a failing QUIT must not turn that into an error.
        _quietly(self.client.quit)
        self.client.close()


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    if smtp.security == "ssl":
        return smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context()
        )
    client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    if smtp.security == "starttls":
        try:
            client.starttls(context=ssl.create_default_context())
        except BaseException:
            client.close()
            raise
    return client


def _quietly(action: Callable[[], object]) -> None:
    with suppress(smtplib.SMTPException, OSError):
        action()


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return f"{code} {' '.join(text.split())}".strip()


def _reason(exc: BaseException, smtp: SmtpSettings) -> str:
    """A short human reason for a failed send; never the password (see `_scrub`)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        rcpt, (code, reply) = next(iter(exc.recipients.items()))
        return f"the server refused recipient {rcpt} ({_reply(code, reply)})"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"the server refused sender {exc.sender} ({_reply(exc.smtp_code, exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login as {smtp.user} was refused ({_reply(exc.smtp_code, exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{str(exc).rstrip('.')} (check security in [smtp])"
    if isinstance(exc, smtplib.SMTPDataError):
        return f"the server rejected the message ({_reply(exc.smtp_code, exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server said {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib reports a socket timeout as a disconnect; the timeout is the better reason.
        if isinstance(exc.__context__, OSError):
            return _reason(exc.__context__, smtp)
        return "the server closed the connection"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server up and the port right?)"
    if isinstance(exc, TimeoutError):
        return f"no answer within {smtp.timeout:g}s"
    if isinstance(exc, socket.gaierror):
        return f"unknown host {smtp.host}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    if isinstance(exc, UnicodeError):
        return "an address, user name or password is not ASCII, which this server cannot take"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _scrub(text: str, password: str | None, user: str | None = None) -> str:
    """`text` without the password in any form AUTH sends it, since a broken server may echo
    what it got: as is, base64 (AUTH LOGIN) and base64 of "\\0user\\0password" (AUTH PLAIN)."""
    if not password:
        return text
    sent = [f"\0{user or ''}\0{password}".encode(), password.encode()]
    # Longest first: a short password could otherwise break up, and so hide, an encoded form.
    for form in [*(base64.b64encode(data).decode("ascii") for data in sent), password]:
        text = text.replace(form, "***")
    return text
